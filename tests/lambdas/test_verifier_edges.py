"""The verifier's edges that the accept/reject table in test_handler.py leaves open (found by `make mutation`):
exact size and kid limits, headers that are JSON but not objects, keys published for another algorithm,
Auth0's audience lists, the default TLS context, and the reason each failed JWKS fetch is logged with."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from jwt.exceptions import PyJWKClientConnectionError

from lambdas import http as lambda_http
from lambdas.customers_current import handler as lambda_handler
from lambdas.customers_current import verifier
from tests.lambdas.idp import AUDIENCE, ISSUER, env, event, jwks_server, rsa_key, token


def call(ev: dict) -> tuple[int, dict]:
    resp = lambda_handler.handler(ev, None)
    return resp["statusCode"], json.loads(resp["body"])


def rejected(ev: dict) -> str:
    status, body = call(ev)
    assert status == 401, body
    return body["debugMessage"]


def _sized(key, size: int) -> str:
    """A valid token of exactly ``size`` bytes: a padding claim (about 4/3 byte per character) gets close, a
    header field of 0 to 3 characters lands on the byte."""
    start = (size - len(token(key, claims={"pad": ""}))) * 3 // 4 - 8
    for pad in range(start, start + 16):  # bounded
        for filler in range(4):
            candidate = token(key, claims={"pad": "x" * pad}, headers={"f": "y" * filler})
            if len(candidate) == size:
                return candidate
    raise AssertionError(f"no token of {size} bytes")


def _with_header(valid: str, header: dict) -> str:
    """A token whose header is replaced (PyJWT would refuse to sign it); the signature no longer matters."""
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return ".".join([encoded, *valid.split(".")[1:]])


def test_a_token_of_exactly_the_size_limit_is_accepted_one_byte_more_is_not(idp, rsa):
    at_limit = _sized(rsa, verifier.MAX_TOKEN_BYTES)
    assert call(event(at_limit))[0] == 200
    assert rejected(event(_sized(rsa, verifier.MAX_TOKEN_BYTES + 1))) == "token too large"


@pytest.mark.parametrize(("kid", "category"), [
    ("k" * 256, "unknown signing key"),  # the longest kid looked up
    ("k" * 257, "missing key id"),
    ("", "missing key id"),
    (1234, "missing key id"),
    (["rsa-1"], "missing key id"),
])
def test_key_id_must_be_a_non_empty_string_of_at_most_256_characters(idp, rsa, kid, category):
    assert rejected(event(_with_header(token(rsa), {"alg": "RS256", "typ": "JWT", "kid": kid}))) == category


@pytest.mark.parametrize("header", [b"[1]", b'"a string"', b"42", b"null"])
def test_a_header_that_is_json_but_not_an_object_is_malformed(idp, header):
    def enc(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    assert rejected(event(f"{enc(header)}.{enc(b'{}')}.{enc(b'sig')}")) == "malformed token"


def test_a_key_published_for_an_algorithm_outside_the_policy_is_not_used():
    """The token says RS256 (allowed) and is signed RS256 by the key, but the IdP published the key for RS384,
    which the policy does not allow: the key is not used."""
    rs384 = rsa_key("published-rs384")
    rs384.alg = "RS384"
    with jwks_server(rs384) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_ALGORITHMS="RS256"))
        assert rejected(event(token(rs384, alg="RS256"))) == "algorithm not allowed"


def test_auth0_audience_list_with_the_api_and_userinfo_is_accepted(idp, rsa):
    """Auth0 issues ``aud: [<api>, https://<tenant>/userinfo]`` when openid is requested with the API."""
    both = token(rsa, claims={"aud": [AUDIENCE, f"{ISSUER}userinfo"]})
    assert call(event(both))[0] == 200
    assert rejected(event(token(rsa, claims={"aud": [f"{ISSUER}userinfo"]}))) == "wrong audience"


# --- JWKS fetch failures: the reason logged (docs/lambda.md) -------------------------------------------------


def _reason(client: verifier.JwksClient, kid: str) -> str | None:
    with pytest.raises(PyJWKClientConnectionError):
        client.get_signing_key(kid)
    return client.last_error


def test_the_default_tls_context_is_built_on_first_use_and_verifies_certificates(rsa, monkeypatch):
    monkeypatch.setattr(lambda_http, "_default_tls", None)  # as in a fresh Lambda environment
    with jwks_server(rsa, tls=True) as srv:
        reason = _reason(verifier.JwksClient(srv.url), rsa.kid)
    assert reason == "TLS certificate not trusted (SSLCertVerificationError)"
    built = lambda_http._default_tls
    assert isinstance(built, ssl.SSLContext) and built.verify_mode is ssl.CERT_REQUIRED and built.check_hostname
    assert lambda_http.default_tls() is built  # built once, then reused


@pytest.mark.parametrize(("answer", "reason"), [
    ("down", "HTTP 500"),
    ("redirect", "HTTP 302"),
    ("garbage", "not JSON"),
    ("huge", f"body over {verifier.JWKS_MAX_BYTES} bytes"),
    ("array", "not a JSON object"),
    ("no keys", "no usable signing key"),
    ("encryption keys only", "no usable signing key"),
])
def test_a_failed_jwks_fetch_is_logged_with_what_went_wrong(rsa, answer, reason):
    with jwks_server(rsa) as srv:
        if answer == "array":
            srv.document = lambda: [rsa.jwk()]  # type: ignore[method-assign]
        elif answer == "no keys":
            srv.keys = []
        elif answer == "encryption keys only":
            srv.keys = [rsa_key("enc", use="enc")]
        else:
            srv.mode = answer
        assert _reason(verifier.JwksClient(srv.url, cooldown_seconds=0), rsa.kid) == reason


def test_a_refused_connection_is_logged_as_such():
    assert _reason(verifier.JwksClient("http://127.0.0.1:9/jwks.json"), "k") == \
        "connection failed (ConnectionRefusedError)"


@contextmanager
def _not_http() -> Iterator[str]:
    """A server on 127.0.0.1 answering one connection with a line that is not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(4096)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"
    finally:
        listener.close()
        thread.join(timeout=5)


def test_an_answer_that_is_not_http_is_logged_as_a_bad_http_response():
    with _not_http() as url:
        assert _reason(verifier.JwksClient(url), "k") == "bad HTTP response (BadStatusLine)"


# --- the JWKS request itself ---------------------------------------------------------------------------------


@contextmanager
def _recording(reply: bytes | None, family: socket.AddressFamily = socket.AF_INET) -> Iterator[tuple[int, list]]:
    """A server on the loopback answering one connection: records what the client sent, answers ``reply`` (or
    nothing: it holds the connection silent until the client gives up)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    listener = socket.create_server((host, 0), family=family)
    listener.settimeout(5)
    seen: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            try:
                if reply is None:
                    conn.recv(4096)  # a TLS ClientHello, left unanswered ...
                    conn.recv(1)  # ... until the client gives up (or 5 s pass)
                    return
                seen.append(conn.recv(65536))
                conn.sendall(reply)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        listener.close()
        thread.join(timeout=6)


def _jwks_reply(key) -> bytes:
    body = json.dumps({"keys": [key.jwk()]}).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n" + body)


@pytest.mark.parametrize(("path", "target"), [("/keys/jwks.json?tenant=fpb&v=2", "/keys/jwks.json?tenant=fpb&v=2"),
                                              ("/.well-known/jwks.json", "/.well-known/jwks.json"), ("", "/")])
def test_the_jwks_request_asks_for_the_configured_path_and_host(rsa, path, target):
    with _recording(_jwks_reply(rsa)) as (port, seen):
        body = lambda_http.get(f"http://127.0.0.1:{port}{path}", deadline_seconds=2.0,
                               max_bytes=verifier.JWKS_MAX_BYTES)
    assert json.loads(body)["keys"][0]["kid"] == rsa.kid
    request = seen[0].decode("ascii")
    assert request.startswith(f"GET {target} HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{port}\r\n" in request


def test_an_ipv6_jwks_host_is_bracketed_in_the_host_header(rsa):
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with _recording(_jwks_reply(rsa), socket.AF_INET6) as (port, seen):
        lambda_http.get(f"http://[::1]:{port}/jwks.json", deadline_seconds=2.0, max_bytes=verifier.JWKS_MAX_BYTES)
    assert f"\r\nHost: [::1]:{port}\r\n" in seen[0].decode("ascii")


def test_a_tls_handshake_that_never_completes_is_bounded_by_the_deadline():
    with _recording(None) as (port, _):
        start = time.monotonic()
        with pytest.raises(lambda_http.FetchError, match=r"^timed out$"):  # at the deadline
            lambda_http.get(f"https://127.0.0.1:{port}/jwks.json", deadline_seconds=0.5,
                            max_bytes=verifier.JWKS_MAX_BYTES)
        assert time.monotonic() - start < 2.0


def _reply(body: bytes, *, length: bool) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    if length:
        head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return head + b"\r\n" + body


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_body_of_exactly_the_size_cap_is_accepted(length):
    with _recording(_reply(b"x" * 100, length=length)) as (port, _):
        assert lambda_http.get(f"http://127.0.0.1:{port}/", deadline_seconds=2.0, max_bytes=100) == b"x" * 100


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_body_one_byte_over_the_cap_is_refused_saying_so(length):
    with _recording(_reply(b"x" * 101, length=length)) as (port, _):
        with pytest.raises(lambda_http.FetchError, match=r"^body over 100 bytes$"):
            lambda_http.get(f"http://127.0.0.1:{port}/", deadline_seconds=2.0, max_bytes=100)


def test_every_jwks_fetch_is_counted(rsa):
    with jwks_server(rsa) as srv:
        client = verifier.JwksClient(srv.url)
        client.fetch_data()
        client.fetch_data()
        assert (client.fetches, srv.fetches) == (2, 2)


# --- JwksClient's settings and counters --------------------------------------------------------------------


def test_a_new_client_has_no_failure_and_no_stale_serve(rsa):
    with jwks_server(rsa) as srv:
        client = verifier.JwksClient(srv.url)
        assert (client.fetches, client.errors, client.stale, client.last_error) == (0, 0, 0, None)
        client.get_signing_key(rsa.kid)
        assert (client.fetches, client.errors, client.stale, client.last_error) == (1, 0, 0, None)


def test_the_cooldown_given_is_the_cooldown_used_and_every_failure_is_counted(rsa):
    with jwks_server(rsa) as srv:
        srv.mode = "down"
        client = verifier.JwksClient(srv.url, cooldown_seconds=0)
        for _ in range(2):
            with pytest.raises(PyJWKClientConnectionError):
                client.fetch_data()
        assert (client.errors, srv.fetches) == (2, 2)  # no cooldown between the two


def test_the_maximum_age_given_is_the_maximum_age_used(rsa):
    with jwks_server(rsa) as srv:
        client = verifier.JwksClient(srv.url, max_age_seconds=0.2)
        client.get_signing_key(rsa.kid)
        time.sleep(0.3)
        client.get_signing_key(rsa.kid)
        assert srv.fetches == 2


def test_the_deadline_given_is_the_deadline_used(rsa):
    with jwks_server(rsa) as srv:
        srv.mode, srv.hang_seconds = "hang", 1.5
        client = verifier.JwksClient(srv.url, deadline_seconds=0.3)
        start = time.monotonic()
        with pytest.raises(PyJWKClientConnectionError):
            client.get_signing_key(rsa.kid)
        assert time.monotonic() - start < 1.2 and client.last_error == "timed out"


def test_each_stale_serve_is_counted(rsa):
    with jwks_server(rsa) as srv:
        client = verifier.JwksClient(srv.url, max_age_seconds=0.1, cooldown_seconds=0)
        client.get_signing_key(rsa.kid)
        srv.mode = "down"
        for expected in (1, 2):
            time.sleep(0.15)
            assert client.get_signing_key(rsa.kid).key_id == rsa.kid  # the cached key, past its maximum age
            assert client.stale == expected
