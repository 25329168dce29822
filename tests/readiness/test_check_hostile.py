"""`plaid-ready check` against hostile servers and clients, all on 127.0.0.1 (issue #17).

Servers that drip their answer, say nothing after the TCP handshake, nest JSON 200,000 levels deep or put
terminal escape sequences in what they say; local processes that hold the callback port open or send it a
forged answer; a login command that fails or hangs. Each is bounded, refused or neutralised, and the check
keeps its verdict honest. The real OIDC provider (requiring a nonce) stands in where a login is needed.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import plaid_contract as plaid
from readiness.check import http as check_http
from readiness.check import loopback as check_login
from readiness.check import output as check_output
from readiness.check import tokens as check_tokens
from readiness.check.model import CheckStatus
from readiness.check.options import Options
from readiness.check.run import Run
from readiness.check.stages import login
from readiness.cli import main as cli_main
from tests.harness import ROOT
from tests.lambdas import oidc
from tests.readiness.conftest import CLIENT_ID, CLIENT_SECRET, Browser, Op, Tls, start_providers, stop_providers

SECRET_ENV = "PLAID_CHECK_TEST_SECRET"


@dataclass
class Provider:
    tls: Tls
    port: int
    op: Op

    def args(self, *extra: str) -> list[str]:
        return ["--discovery-url", self.op.discovery_url, "--cacert", str(self.tls.ca), "--client-id", CLIENT_ID,
                "--client-secret-env", SECRET_ENV, "--redirect-port", str(self.port), "--login-timeout", "20",
                "--timeout", "10", *extra]


@pytest.fixture(scope="module")
def provider(tls: Tls) -> Iterator[Provider]:
    """The real test provider, requiring a nonce, allowing the check's loopback callback."""
    port = oidc.free_port()
    ops = start_providers({"good": {"REQUIRE_NONCE": "1", "STATE_GRANTED_SCOPE": "1"}}, tls,
                          f"http://127.0.0.1:{port}/callback")
    try:
        yield Provider(tls, port, ops["good"])
    finally:
        stop_providers([ops["good"].process])


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def doc(self) -> dict:
        return json.loads(self.out)

    def status(self, check_id: str) -> str:
        return next(c["status"] for c in self.doc["checks"] if c["id"] == check_id)

    def detail(self, check_id: str) -> str:
        return next(c["detail"] for c in self.doc["checks"] if c["id"] == check_id)


def run(capsys: pytest.CaptureFixture[str], args: list[str], browser: Callable[[str], None] | None = None) -> Ran:
    started = time.monotonic()
    code = cli_main(["check", *args], browser=browser)
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err, seconds)


# --- raw servers: they misbehave below HTTP --------------------------------------------------------------


@dataclass
class RawServer:
    """Accepts TCP connections on 127.0.0.1 and runs ``behave(conn)`` for each in its own thread, on the
    TLS-wrapped socket (``tls``) or the raw one. Closed (listening socket and every connection) on exit."""

    behave: Callable[[socket.socket], None]
    tls: ssl.SSLContext | None = None
    conns: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(15)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                self.conns.append(conn)
            self.behave(conn)
        except OSError:
            pass

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.sock.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.thread.join(timeout=5)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _drip(head: bytes, drip: bytes, every: float) -> Callable[[socket.socket], None]:
    def behave(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(head)
        for i in range(len(drip)):  # bounded: len(drip) bytes, `every` seconds apart
            conn.sendall(drip[i:i + 1])
            time.sleep(every)

    return behave


@pytest.mark.parametrize(("what", "head", "drip"), [
    ("headers", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", b"X-Drip: " + b"a" * 40 + b"\r\n\r\n{}"),
    ("body", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n", b"{" + b" " * 58),
    ("status line", b"", b"HTTP/1.1 200 OK\r\n\r\n"),
])
def test_a_dripping_server_is_cut_at_the_one_deadline(tls, capsys, what, head, drip):
    """A byte every 0.5 s never trips a per-read timeout of 2 s; the one deadline per request ends it within 2 s
    (issue #17: a header drip held a `--timeout 2` run for 67 s)."""
    with RawServer(_drip(head, drip, 0.5), tls.server_context()) as server:
        ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration",
                           "--cacert", str(tls.ca), "--timeout", "2", "--json"])
    assert ran.detail("DISCOVERY-FETCH").startswith("no complete answer within 2 s (DNS, connection, TLS, headers "
                                                    "and body share one deadline)")
    assert ran.code == 1 and ran.seconds < 3.5, what


def test_a_server_silent_after_the_tcp_handshake_is_cut_at_the_deadline(tls, capsys):
    with RawServer(lambda conn: time.sleep(10)) as server:  # no TLS: the client's handshake waits for an answer
        ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration",
                           "--cacert", str(tls.ca), "--timeout", "1", "--json"])
    assert ran.detail("DISCOVERY-FETCH").startswith("no complete answer within 1 s")
    assert ran.seconds < 2.5


def test_the_deadline_does_not_cut_a_prompt_answer(tls):
    """The deadline is the whole request's: a server that answers in time is read in full."""
    body = json.dumps({"keys": []}).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with RawServer(_drip(head, body, 0.01), tls.server_context()) as server:
        resp = check_http.request("GET", f"{server.url}/jwks", context=check_http.tls_context(tls.ca), timeout=5)
    assert resp.status == 200 and resp.json() == {"keys": []}


# --- documents that are not what they should be ------------------------------------------------------


DEEP = b"[" * 200_000


def _json_server(tls_server, routes: dict[str, tuple[int, bytes, str]]):
    """A TLS server answering each path with (status, body, Content-Type)."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = urllib.parse.urlsplit(self.path).path
            if self.command == "POST":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = f"POST {path}"
            status, body, ctype = routes.get(path, (404, b"{}", "application/json"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    from http.server import ThreadingHTTPServer

    from tests.readiness.conftest import TlsServer

    server = TlsServer(ThreadingHTTPServer(("127.0.0.1", 0), Handler), tls_server).__enter__()
    return server


@pytest.fixture
def json_server(tls: Tls) -> Iterator[Callable[[dict[str, tuple[int, bytes, str]]], object]]:
    servers = []

    def make(routes: dict[str, tuple[int, bytes, str]]):
        server = _json_server(tls, routes)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__()


def _discovery(base: str, **changes: object) -> bytes:
    doc = {"issuer": base, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
           "userinfo_endpoint": f"{base}/me", "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
           "scopes_supported": list(plaid.REQUIRED_SCOPES),
           "token_endpoint_auth_methods_supported": [plaid.TOKEN_ENDPOINT_AUTH_METHOD]}
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("body", "why"), [
    (DEEP, "the body's JSON is nested too deeply to read"),
    (b"\xff\xfe{}", "the body is not UTF-8 text"),
    (b"<html>maintenance</html>", "the body is not JSON"),
    (b"[1, 2]", "the body is JSON but not an object"),
    (b" " * (check_http.MAX_BODY_BYTES + 1), "the body is larger than 1024 KiB"),
])
def test_a_malformed_discovery_document_is_a_failure_not_a_crash(tls, json_server, capsys, body, why):
    server = json_server({"/.well-known/openid-configuration": (200, body, "application/json")})
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration",
                       "--cacert", str(tls.ca), "--json"])
    assert ran.status("DISCOVERY-FETCH") == "fail" and ran.code == 1, ran.err
    assert ran.detail("DISCOVERY-FETCH") == f"HTTP 200, application/json: {why}"


def test_a_deeply_nested_jwks_is_a_failure_not_a_crash(tls, json_server, capsys):
    routes: dict[str, tuple[int, bytes, str]] = {}
    server = json_server(routes)
    routes["/.well-known/openid-configuration"] = (200, _discovery(server.url), "application/json")
    routes["/jwks"] = (200, b'{"keys": ' + DEEP, "application/json")
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration",
                       "--cacert", str(tls.ca), "--json"])
    assert ran.detail("JWKS-KEYS") == ("jwks_uri: HTTP 200, application/json: the body's JSON is nested too deeply "
                                       "to read")
    assert ran.code == 1


def _lands_on_the_callback(url: str) -> None:
    """A browser that skips the IdP's pages: the IdP "redirects" at once with a code and this login's state."""
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    query = urllib.parse.urlencode({"code": "code-1", "state": params["state"]})
    urllib.request.urlopen(f"{params['redirect_uri']}?{query}", timeout=5).close()


@pytest.mark.parametrize(("status", "error", "hint"), [
    (403, "unauthorized_client", True),  # what some providers answer to a wrong secret or auth method
    (400, "unauthorized_client", True),
    (401, "invalid_client", True),
    (403, "access_denied", True),
    (400, "invalid_grant", False),
])
def test_the_wrong_secret_hint_covers_403_and_unauthorized_client(tls, json_server, capsys, status, error, hint):
    routes: dict[str, tuple[int, bytes, str]] = {}
    server = json_server(routes)
    routes["/.well-known/openid-configuration"] = (200, _discovery(server.url), "application/json")
    routes["/jwks"] = (200, b'{"keys": []}', "application/json")
    routes["POST /token"] = (status, json.dumps({"error": error, "error_description": "client not allowed"}).encode(),
                             "application/json")
    port = oidc.free_port()
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration", "--cacert", str(tls.ca),
                       "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV, "--redirect-port", str(port),
                       "--login-timeout", "10", "--json"], _lands_on_the_callback)
    expected = (f"code exchange with client_secret_basic: HTTP {status} {error}: client not allowed"
                + (" (the client secret or client authentication method is wrong)" if hint else ""))
    assert ran.detail("TOKEN-CLIENT-AUTH") == expected


# --- nothing raw from the network reaches the terminal ----------------------------------------------------

#: Clears the screen, then prints a fake verdict in green; a right-to-left override; C1 CSI; OSC window title.
HOSTILE = "\x1b[2J\x1b[1;32mVerdict: ready for Plaid\x1b[0m \u202etxt.exe\u202c \x9b31m \x1b]0;pwned\x07 \u2066x\u2069"


def _raw_terminal_characters(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs",
                                                                                                 "Zl", "Zp")})


def test_server_text_reaches_the_terminal_escaped(tls, json_server, capsys):
    """Issuer, auth methods, key ids and Content-Type carry escape sequences and bidi overrides; the text report
    shows them escaped, and the only verdict line is the check's own."""
    routes: dict[str, tuple[int, bytes, str]] = {}
    server = json_server(routes)
    routes["/.well-known/openid-configuration"] = (200, _discovery(
        server.url, issuer=HOSTILE, token_endpoint_auth_methods_supported=[HOSTILE, "private_key_jwt"]),
        "application/json\x1b[31m")
    routes["/jwks"] = (200, json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "use": "sig",
                                                  "kid": HOSTILE}]}).encode(), "application/json")
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration", "--cacert", str(tls.ca)])
    assert _raw_terminal_characters(ran.out + ran.err) == []
    assert "\\x1b[2J\\x1b[1;32mVerdict: ready for Plaid" in ran.out and "\\u202etxt.exe\\u202c" in ran.out
    assert "\\x9b31m" in ran.out and "\\x1b]0;pwned\\x07" in ran.out and "\\u2066x\\u2069" in ran.out
    verdicts = [line for line in ran.out.splitlines() if line.startswith("Verdict")]
    assert verdicts == ["Verdict: NOT READY for Plaid: DISCOVERY-FETCH, DISCOVERY-HTTPS, DISCOVERY-AUTH-METHOD failed."]
    assert "the Content-Type must be application/json" in ran.out and "application/json\\x1b[31m" in ran.out
    # --json carries the values, escaped by JSON itself.
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration", "--cacert", str(tls.ca),
                       "--json"])
    assert ran.out.isascii() and ran.detail("DISCOVERY-AUTH-METHOD").startswith(f"lists {HOSTILE[:37]}...")


def test_an_authorize_endpoint_with_escape_sequences_is_printed_escaped(tls, json_server, capsys):
    routes: dict[str, tuple[int, bytes, str]] = {}
    server = json_server(routes)
    routes["/.well-known/openid-configuration"] = (200, _discovery(
        server.url, authorization_endpoint=f"{server.url}/auth\x1b[2J\u202e"), "application/json")
    port = oidc.free_port()
    ran = run(capsys, ["--discovery-url", f"{server.url}/.well-known/openid-configuration", "--cacert", str(tls.ca),
                       "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV, "--redirect-port", str(port),
                       "--login-timeout", "1"], lambda url: None)
    (line,) = ran.err.splitlines()
    assert line.startswith(f"authorize_url: {server.url}/auth\\x1b[2J\\u202e?response_type=code&")
    assert _raw_terminal_characters(ran.out + ran.err) == []


def test_an_error_description_with_escape_sequences_is_shown_escaped(provider, capsys):
    def answer(url: str) -> None:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        query = urllib.parse.urlencode({"state": params["state"], "error": "access_denied",
                                        "error_description": HOSTILE})
        try:
            urllib.request.urlopen(f"{params['redirect_uri']}?{query}", timeout=5).close()
        except urllib.error.HTTPError:
            pass

    ran = run(capsys, provider.args(), answer)
    assert _raw_terminal_characters(ran.out + ran.err) == []
    assert "error=access_denied (\\x1b[2J\\x1b[1;32mVerdict: ready for Plaid" in ran.out
    assert ran.seconds < 5  # the error redirect with the right state ends the login at once


@pytest.mark.parametrize(("text", "shown"), [
    ("plain ascii", "plain ascii"),
    ("caf\u00e9 \u00fcber", "caf\u00e9 \u00fcber"),  # printable non-ASCII stays
    ("a\x1b[2Jb", "a\\x1b[2Jb"),
    ("line\nbreak\rreturn\ttab", "line\\x0abreak\\x0dreturn\\x09tab"),
    ("del\x7f c1\x85\x9b", "del\\x7f c1\\x85\\x9b"),
    ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
])
def test_terminal_safe_escapes_every_control_separator_and_format_character(text, shown):
    assert check_output.terminal_safe(text) == shown


# --- the callback listener: it cannot be held or spoofed ------------------------------------------------------


def _redirect(url: str) -> tuple[str, int, str]:
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    return params["redirect_uri"], urllib.parse.urlsplit(params["redirect_uri"]).port, params["state"]


def test_idle_and_dripping_connections_neither_hold_the_login_nor_block_the_real_callback(provider, capsys):
    """Before the real browser logs in, other local processes open connections to the callback port: idle ones
    and one dripping a request line. The listener serves connections concurrently: the login completes."""
    held: list[socket.socket] = []
    real = Browser(provider.tls.ca)

    def crowded(url: str) -> None:
        _, port, _ = _redirect(url)
        for _ in range(3):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        drip = socket.create_connection(("127.0.0.1", port), timeout=5)
        drip.sendall(b"GET /callback?sta")
        held.append(drip)
        real(url)

    try:
        ran = run(capsys, [*provider.args(), "--json"], crowded)
    finally:
        for sock in held:
            sock.close()
    assert ran.doc["counts"]["fail"] == 0 and ran.status("TOKEN-REFRESH-ROTATES") == "pass", ran.doc
    assert ran.seconds < 15


def test_an_idle_connection_does_not_stretch_the_login_timeout(provider, capsys):
    """Issue #17: one idle TCP connection kept a `--login-timeout 3` run alive for 47 s."""
    held: list[socket.socket] = []

    def idle(url: str) -> None:
        _, port, _ = _redirect(url)
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(4)

    try:
        ran = run(capsys, [*provider.args("--login-timeout", "1"), "--json"], idle)
    finally:
        for sock in held:
            sock.close()
    assert ran.detail("TOKEN-CLIENT-AUTH").startswith("login: no redirect to http://127.0.0.1:")
    assert ran.seconds < 3


def test_forged_callbacks_are_answered_and_ignored_and_the_real_login_completes(provider, capsys):
    answers: list[tuple[int, bytes]] = []
    real = Browser(provider.tls.ca)

    def forge_then_log_in(url: str) -> None:
        redirect_uri, _, state = _redirect(url)
        for forged in ({"error": "access_denied", "state": "forged"}, {"code": "attacker-code", "state": state[::-1]},
                       {"error": "access_denied"}):
            try:
                urllib.request.urlopen(f"{redirect_uri}?{urllib.parse.urlencode(forged)}", timeout=5)
            except urllib.error.HTTPError as err:
                answers.append((err.code, err.read()))
        real(url)

    ran = run(capsys, [*provider.args(), "--json"], forge_then_log_in)
    assert [code for code, _ in answers] == [400, 400, 400]
    assert all(b"it was ignored" in page for _, page in answers)
    assert ran.doc["counts"]["fail"] == 0 and ran.status("TOKEN-CLIENT-AUTH") == "pass", ran.doc
    assert "attacker-code" not in ran.out + ran.err


def test_the_listener_closes_promptly_with_connections_still_open():
    listener = check_login.CallbackListener(0)
    port = int(listener.redirect_uri.rsplit(":", 1)[1].split("/")[0])
    listener.start("s1")
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
    held[0].sendall(b"GET /callback?state=s1&co")  # half a request
    try:
        started = time.monotonic()
        listener.close()
        assert time.monotonic() - started < 1.5
        for sock in held:  # every connection was shut down: the peer sees the end at once
            try:
                assert sock.recv(1) == b""
            except ConnectionResetError:
                pass
    finally:
        for sock in held:
            sock.close()
    with socket.socket() as again:  # the port is free again
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_a_connection_is_cut_after_its_own_deadline(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(check_login, "CONNECTION_SECONDS", 0.5)
    listener = check_login.CallbackListener(0)
    port = int(listener.redirect_uri.rsplit(":", 1)[1].split("/")[0])
    listener.start("s1")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            started = time.monotonic()
            for i in range(20):  # a byte every 0.1 s: never idle long enough for a per-read timeout
                try:
                    sock.sendall(b"GET /callback?state=s1"[i:i + 1] or b"x")
                except OSError:
                    break
                time.sleep(0.1)
            assert sock.recv(1) == b""
            assert time.monotonic() - started < 1.5
    finally:
        listener.close()


# --- a nonce, as OIDC providers that require one expect ----------------------------------------------------


def test_the_test_provider_really_requires_a_nonce(provider):
    """The control for "a good configuration passes against a provider that requires a nonce": without a nonce
    this provider refuses Plaid's documented request (the check's old request) with a redirect."""
    redirect_uri = f"http://127.0.0.1:{provider.port}/callback"
    values = {"response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "redirect_uri": redirect_uri,
              "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES), "client_id": CLIENT_ID, "state": "s-1"}
    query = urllib.parse.urlencode([(k, values[k]) for k in plaid.AUTHORIZE_PARAMETERS], quote_via=urllib.parse.quote)
    opener = oidc.browser(ssl.create_default_context(cafile=str(provider.tls.ca)))
    status, headers, _ = oidc.open_url(opener, f"{provider.op.issuer}/auth?{query}")
    location = headers.get("Location") or headers.get("location")
    assert status in (302, 303) and location.startswith(redirect_uri)
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)) == {
        "error": "invalid_request", "error_description": "nonce required", "state": "s-1"}
    status, headers, _ = oidc.open_url(opener, f"{provider.op.issuer}/auth?{query}&nonce=n-1")
    assert not (headers.get("Location") or headers.get("location") or "").startswith(redirect_uri)


# --- --login-command -------------------------------------------------------------------------------------


def test_login_command_drives_the_login(provider, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    command = f"{sys.executable} -m tests.lambdas.oidc --cacert {provider.tls.ca}"
    ran = run(capsys, [*provider.args("--login-command", command), "--json"])
    assert ran.doc["counts"] == {"pass": 13, "fail": 0, "warn": 0, "skip": 3}, ran.doc
    assert CLIENT_SECRET not in ran.out + ran.err


RECORDER = """
import json, os, sys, time
with open(sys.argv[1], "w") as out:
    json.dump({"argv": sys.argv, "url": os.environ.get("PLAID_READY_AUTHORIZE_URL"),
               "redirect": os.environ.get("PLAID_READY_REDIRECT_URI"),
               "secret": os.environ.get("PLAID_CHECK_TEST_SECRET"), "pid": os.getpid()}, out)
mode = sys.argv[2]
if mode == "fail":
    print("opening the login page")
    print("login refused: \\x1b[2J wrong password for test user", file=sys.stderr)
    sys.exit(3)
if mode == "hang":
    time.sleep(60)
"""


@pytest.fixture
def recorder(tmp_path: Path) -> Callable[[str], tuple[str, Path]]:
    script = tmp_path / "login.py"
    script.write_text(RECORDER)

    def command(mode: str) -> tuple[str, Path]:
        record = tmp_path / f"{mode}.json"
        return f"{sys.executable} {script} {record} {mode}", record

    return command


def test_a_failing_login_command_ends_the_login_at_once_with_its_status_and_last_line(provider, capsys, recorder):
    command, record = recorder("fail")
    ran = run(capsys, [*provider.args("--login-command", command), "--json"])
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        "login: the login command exited with status 3: login refused: \x1b[2J wrong password for test user")
    assert ran.seconds < 5 and ran.code == 1  # not the 20 s login timeout
    seen = json.loads(record.read_text())
    url = ran.err.split(" ", 1)[1].strip()
    assert seen["url"] == url and seen["redirect"] == f"http://127.0.0.1:{provider.port}/callback"
    assert not any(url in arg or "state=" in arg for arg in seen["argv"])  # never on its command line
    assert seen["secret"] is None  # the client secret's variable is not handed to it
    text = run(capsys, provider.args("--login-command", command))
    assert "exited with status 3: login refused: \\x1b[2J wrong password" in text.out
    assert _raw_terminal_characters(text.out + text.err) == []


def test_a_hanging_login_command_is_stopped_at_the_login_timeout(provider, capsys, recorder):
    command, record = recorder("hang")
    ran = run(capsys, [*provider.args("--login-command", command, "--login-timeout", "1"), "--json"])
    assert ran.detail("TOKEN-CLIENT-AUTH").startswith("login: no redirect to http://127.0.0.1:")
    assert ran.seconds < 5
    pid = json.loads(record.read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_login_command_that_succeeds_without_the_redirect_is_reported(provider, capsys, recorder):
    command, _ = recorder("quiet")
    ran = run(capsys, [*provider.args("--login-command", command), "--json"])
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        f"login: the login command exited 0 without reaching http://127.0.0.1:{provider.port}/callback")
    assert ran.seconds < 5


# --- units: shown values, parsed bodies, granted scopes ---------------------------------------------------------


def test_shown_values_are_bounded_with_an_explicit_ellipsis_and_never_walk_structures():
    assert check_tokens.shown("k" * 100, 100) == "k" * 100
    assert check_tokens.shown("k" * 101, 100) == "k" * 97 + "..."
    nested: list = []
    for _ in range(50_000):
        nested = [nested]
    assert check_tokens.shown(nested) == "(a JSON array)" and check_tokens.shown({"a": 1}) == "(a JSON object)"
    assert check_tokens.shown(602) == "602" and check_tokens.shown(None) == "null"
    assert check_tokens.shown_kid("k" * 43) == "k" * 43  # a real kid (Okta, Cognito) is shown whole


def test_a_jwt_with_deeply_nested_parts_is_not_a_jwt_and_does_not_verify():
    import base64

    deep = base64.urlsafe_b64encode(b"[" * 100_000).decode().rstrip("=")
    token = f"{deep}.{deep}.c2ln"
    assert check_tokens.jwt_parts(token) is None
    assert check_tokens.verify(token, {"keys": []}) == (None, "not a JWT")


@pytest.mark.parametrize(("tokens", "status", "detail"), [
    ({"refresh_token": "r", "scope": "openid offline_access"}, CheckStatus.PASS,
     "the code exchange returned a refresh token; granted scopes: openid offline_access"),
    ({"refresh_token": "r"}, CheckStatus.PASS, "the code exchange returned a refresh token; granted scopes not stated"),
    ({"refresh_token": "r", "scope": "openid"}, CheckStatus.WARN,
     "the code exchange returned a refresh token, but granted scopes: openid: the IdP dropped offline_access "
     "silently; make sure the refresh token outlives the session"),
    ({"scope": "openid"}, CheckStatus.FAIL,
     "no refresh_token although the login asked for openid and offline_access: Plaid cannot keep access "
     "(granted scopes: openid; the IdP dropped offline_access from the granted scopes)"),
])
def test_granted_scopes_are_reported_under_refresh_issued(tokens, status, detail):
    opts = Options(discovery_url="https://idp.example/.well-known/openid-configuration", client_id=CLIENT_ID,
                   secret=None, customers_url=None, cacert=None, redirect_port=1, redirect_host="127.0.0.1",
                   login_timeout=1, timeout=1, json=True, secret_source=None, secret_arn_hint=None)
    runner = Run(opts, None, None)
    runner.tokens = tokens
    result = login.refresh_issued(runner)
    assert (result.status, result.detail) == (status, detail)
