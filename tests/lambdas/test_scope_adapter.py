"""The scope adapter handler: discovery as Plaid needs it, authorize pass-through, no open redirect, errors.

A Cognito-like discovery document is served over HTTP on 127.0.0.1 (real sockets), with outages and a
byte-dripping server on demand.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

import plaid_contract as plaid
from lambdas.scope_adapter import handler as adapter
from lambdas.scope_adapter import names
from tests.lambdas.idp import captured_logs

UPSTREAM = "https://fpb-login.auth.us-east-1.amazoncognito.com"
PUBLIC = "https://auth.firstplatypus.example"
AUTHORIZE = f"{UPSTREAM}/oauth2/authorize"
#: Plaid's exact authorize request (plaid_contract.AUTHORIZE_PARAMETERS, in Plaid's order), as Plaid encodes it.
PLAID_VALUES = {"response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "redirect_uri": plaid.PLAID_REDIRECT_URI,
                "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES), "client_id": "abc123", "state": "s+t=1"}
PLAID_QUERY = urlencode([(k, PLAID_VALUES[k]) for k in plaid.AUTHORIZE_PARAMETERS], quote_via=quote)


def cognito_metadata(issuer: str) -> dict[str, Any]:
    """Shaped like a Cognito user pool's discovery document (idp-reference 3.5)."""
    return {
        "authorization_endpoint": f"{UPSTREAM}/oauth2/authorize",
        "end_session_endpoint": f"{UPSTREAM}/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "revocation_endpoint": f"{UPSTREAM}/oauth2/revoke",
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint": f"{UPSTREAM}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": f"{UPSTREAM}/oauth2/userInfo",
    }


@dataclass
class Upstream:
    url: str
    hits: int = 0
    mode: str = "ok"  # ok | down | drip | wrong-issuer | not-json | huge | deep | not-utf8
    doc: dict[str, Any] = field(default_factory=dict)


@contextmanager
def upstream_server() -> Iterator[Upstream]:
    state = Upstream(url="")

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.hits += 1
            if self.path != names.DISCOVERY_PATH or state.mode == "down":
                self.send_response(500 if state.mode == "down" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            doc = dict(state.doc)
            if state.mode == "wrong-issuer":
                doc["issuer"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"
            body = json.dumps(doc).encode()
            if state.mode == "not-json":
                body = b"<html>maintenance</html>"
            if state.mode == "huge":
                body = b"[" + b"0," * (adapter.MAX_DISCOVERY_BYTES) + b"0]"
            if state.mode == "deep":  # issue #17: a 500 without the cooldown on a 60,000-deep body
                body = b"[" * 60_000
            if state.mode == "not-utf8":
                body = b'{"issuer": "\xff"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.mode == "drip":
                for i in range(40):  # bounded: 40 bytes, 0.1 s apart: longer than the deadline
                    try:
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.1)
                return
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.doc = cognito_metadata(state.url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The adapter's log lines (the Powertools Logger's stream)."""
    with captured_logs(adapter.logger) as buffer:
        yield buffer


def env(issuer: str, upstream: str = UPSTREAM, public: str = PUBLIC) -> dict[str, str]:
    return {names.UPSTREAM_ISSUER: issuer, names.UPSTREAM_BASE_URL: upstream, names.PUBLIC_BASE_URL: public}


@pytest.fixture
def cognito() -> Iterator[Upstream]:
    with upstream_server() as up:
        adapter.configure(env(up.url))
        yield up


def get(path: str, *, raw: str | None = None, multi: dict[str, list[str]] | None = None,
        method: str = "GET", headers: dict[str, str] | None = None, domain: str | None = None) -> dict[str, Any]:
    ev: dict[str, Any] = {"resource": path, "path": path, "httpMethod": method, "headers": headers or {},
                          "requestContext": {"requestId": "r-1", **({"domainName": domain} if domain else {})}}
    if raw is not None:
        ev["rawQueryString"] = raw
    if multi is not None:
        ev["multiValueQueryStringParameters"] = multi
        ev["queryStringParameters"] = {k: v[-1] for k, v in multi.items()}
    return adapter.handler(ev, None)


def location(resp: dict[str, Any]) -> str:
    assert resp["statusCode"] == 302, resp
    return resp["headers"]["Location"]


def query_of(resp: dict[str, Any]) -> str:
    loc = location(resp)
    assert loc.startswith(AUTHORIZE + "?") or loc == AUTHORIZE
    return loc[len(AUTHORIZE) + 1:]


# -- discovery ---------------------------------------------------------------------------------------


def test_discovery_points_authorize_here_and_adds_offline_access(cognito: Upstream):
    resp = get(names.DISCOVERY_PATH)
    assert resp["statusCode"] == 200
    assert resp["headers"]["Content-Type"] == "application/json"
    doc = json.loads(resp["body"])
    upstream = cognito_metadata(cognito.url)
    assert doc["authorization_endpoint"] == f"{PUBLIC}/oauth2/authorize"
    assert doc["scopes_supported"] == ["openid", "email", "phone", "profile", "offline_access"]
    # Everything else is Cognito's, unchanged: Plaid talks to Cognito directly for tokens.
    rest = {k: v for k, v in doc.items() if k not in ("authorization_endpoint", "scopes_supported")}
    assert rest == {k: v for k, v in upstream.items() if k not in ("authorization_endpoint", "scopes_supported")}
    assert doc["issuer"] == cognito.url and doc["token_endpoint"] == f"{UPSTREAM}/oauth2/token"


def test_discovery_adds_openid_too_and_keeps_no_duplicates(cognito: Upstream):
    cognito.doc["scopes_supported"] = ["email", "offline_access"]
    assert json.loads(get(names.DISCOVERY_PATH)["body"])["scopes_supported"] == ["email", "offline_access", "openid"]
    adapter.configure(env(cognito.url))
    del cognito.doc["scopes_supported"]
    assert json.loads(get(names.DISCOVERY_PATH)["body"])["scopes_supported"] == ["openid", "offline_access"]


def test_discovery_is_fetched_once_per_cold_start(cognito: Upstream):
    for _ in range(5):
        assert get(names.DISCOVERY_PATH)["statusCode"] == 200
    assert cognito.hits == 1
    adapter.configure(env(cognito.url))  # a new execution environment fetches again
    get(names.DISCOVERY_PATH)
    assert cognito.hits == 2


@pytest.mark.parametrize("mode", ["down", "wrong-issuer", "not-json", "huge", "deep", "not-utf8"])
def test_upstream_problems_are_503_and_not_cached(cognito: Upstream, mode: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(adapter, "FAILURE_COOLDOWN_SECONDS", 0.0)
    cognito.mode = mode
    resp = get(names.DISCOVERY_PATH)
    assert resp["statusCode"] == 503 and resp["headers"]["Retry-After"] == str(adapter.RETRY_AFTER_SECONDS)
    assert json.loads(resp["body"])["error"] == "temporarily_unavailable"
    cognito.mode = "ok"
    assert get(names.DISCOVERY_PATH)["statusCode"] == 200  # recovered: the failure was not cached


@pytest.mark.parametrize("mode", ["down", "wrong-issuer", "not-json", "huge", "deep", "not-utf8"])
def test_every_failed_fetch_starts_the_cooldown(cognito: Upstream, mode: str):
    cognito.mode = mode
    assert get(names.DISCOVERY_PATH)["statusCode"] == 503
    assert get(names.DISCOVERY_PATH)["statusCode"] == 503
    assert cognito.hits == 1


def test_an_unexpected_failure_while_adapting_also_starts_the_cooldown(cognito: Upstream, monkeypatch):
    def broken(upstream, cfg):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(adapter, "adapted_metadata", broken)
    assert get(names.DISCOVERY_PATH)["statusCode"] == 503
    assert get(names.DISCOVERY_PATH)["statusCode"] == 503
    assert cognito.hits == 1


@pytest.mark.parametrize("hostile", [
    {"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
    {"Forwarded": "host=evil.example;proto=https"}, {"host": "evil.example:443"},
])
def test_discovery_authorize_endpoint_never_comes_from_request_headers(cognito: Upstream, hostile):
    """The document is cached per execution environment: one request with a forged Host (or forwarding header,
    or API Gateway domain) must not decide the authorize URL every later caller gets (issue #22)."""
    first = json.loads(get(names.DISCOVERY_PATH, headers=hostile, domain="evil.example")["body"])
    later = json.loads(get(names.DISCOVERY_PATH)["body"])
    assert first["authorization_endpoint"] == later["authorization_endpoint"] == f"{PUBLIC}/oauth2/authorize"
    assert "evil" not in json.dumps(first) + json.dumps(later)


def test_a_dripping_upstream_is_cut_at_the_deadline(cognito: Upstream, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(adapter, "FETCH_DEADLINE_SECONDS", 0.5)
    cognito.mode = "drip"
    start = time.monotonic()
    resp = get(names.DISCOVERY_PATH)
    elapsed = time.monotonic() - start
    assert resp["statusCode"] == 503
    assert elapsed < 2.0  # the drip would take 4 s; the deadline is 0.5 s


# -- authorize: pass-through ---------------------------------------------------------------------------


def test_plaids_request_loses_offline_access_only(cognito: Upstream):
    assert [k for k, _ in parse_qsl(PLAID_QUERY)] == list(plaid.AUTHORIZE_PARAMETERS)
    q = query_of(get(names.AUTHORIZE_PATH, raw=PLAID_QUERY))
    assert q == PLAID_QUERY.replace("scope=openid%20offline_access", "scope=openid")


@pytest.mark.parametrize("name", ["sc%6Fpe", "%73cope", "%73%63%6f%70%65", "sco%70e"])
def test_raw_scope_parameter_name_is_matched_decoded(cognito: Upstream, name: str):
    """Cognito decodes the parameter name: `sc%6Fpe=offline_access` is the scope (issue #22)."""
    q = query_of(get(names.AUTHORIZE_PATH, raw=f"a=1&{name}=openid%20offline_access&z=2"))
    assert q == f"a=1&{name}=openid&z=2"


@pytest.mark.parametrize(("scope", "expected"), [
    ("offline_access%20openid", "openid"),
    ("openid%20offline_access%20email", "openid%20email"),
    ("openid+offline_access+profile", "openid+profile"),
    ("offline_access", ""),
    ("openid%20offline%5Faccess", "openid"),  # encoded differently, same scope
    ("openid%20OFFLINE_ACCESS", "openid%20OFFLINE_ACCESS"),  # scopes are case-sensitive: not ours to strip
    ("openid%20Offline_Access", "openid%20Offline_Access"),
    ("openid%20offline_access_extra", "openid%20offline_access_extra"),
    ("openid", "openid"),
    ("", ""),
])
def test_offline_access_in_any_position_and_only_exact(cognito: Upstream, scope: str, expected: str):
    q = query_of(get(names.AUTHORIZE_PATH, raw=f"a=1&scope={scope}&z=2"))
    assert q == f"a=1&scope={expected}&z=2"


def test_order_encoding_repeats_and_empties_pass_through_byte_for_byte(cognito: Upstream):
    raw = ("z=last&state=%7Eab%2fcd%2Bef&nonce=&empty&login_hint=user%40bank.example&prompt=login+consent"
           "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
           "&scope=openid%20offline_access&scope=offline_access+email&x=%E2%82%AC&&a=1")
    q = query_of(get(names.AUTHORIZE_PATH, raw=raw))
    assert q == raw.replace("scope=openid%20offline_access", "scope=openid").replace(
        "scope=offline_access+email", "scope=email")


def test_no_query_redirects_to_bare_authorize(cognito: Upstream):
    assert location(get(names.AUTHORIZE_PATH, raw="")) == AUTHORIZE
    assert location(get(names.AUTHORIZE_PATH)) == AUTHORIZE


def test_rest_events_are_rebuilt_from_decoded_parameters(cognito: Upstream):
    """API Gateway REST proxy events carry decoded parameters only: re-encoded, same values, same order."""
    multi = {"response_type": ["code"], "client_id": ["abc123"],
             "redirect_uri": ["https://cdn.plaid.com/link/v2/stable/oauth.html"],
             "scope": ["openid offline_access"], "state": ["s+t=1 &x"], "nonce": [""], "dup": ["1", "2"]}
    q = query_of(get(names.AUTHORIZE_PATH, multi=multi))
    assert q == ("response_type=code&client_id=abc123&redirect_uri=https%3A%2F%2Fcdn.plaid.com%2Flink%2Fv2%2F"
                 "stable%2Foauth.html&scope=openid&state=s%2Bt%3D1%20%26x&nonce=&dup=1&dup=2")
    assert parse_qsl(q, keep_blank_values=True) == [
        ("response_type", "code"), ("client_id", "abc123"),
        ("redirect_uri", "https://cdn.plaid.com/link/v2/stable/oauth.html"), ("scope", "openid"),
        ("state", "s+t=1 &x"), ("nonce", ""), ("dup", "1"), ("dup", "2")]
    scopes = {"scope": ["offline_access openid OFFLINE_ACCESS"]}
    assert query_of(get(names.AUTHORIZE_PATH, multi=scopes)) == "scope=openid%20OFFLINE_ACCESS"


@pytest.mark.parametrize(("decoded", "expected"), [
    ("openid offline_access", "openid"),
    ("openid+offline_access", "openid"),  # a `+` that reached the handler literally
    ("openid%20offline_access", "openid"),  # a value left encoded
    ("openid%2Boffline_access", "openid"),
    ("openid%2boffline_access", "openid"),  # percent-encoding is case-insensitive
    ("offline_access+openid email", "openid%20email"),  # mixed separators; the rest joined with spaces
], ids=["space", "plus", "pct20", "pct2B", "pct2b-lower", "mixed"])
def test_rest_scope_loses_offline_access_whatever_the_separator(cognito: Upstream, decoded: str, expected: str):
    """Issue #17: `scope=openid+offline_access` with the `+` reaching the handler literally was forwarded as
    `openid%2Boffline_access`, and Cognito answered invalid_scope."""
    assert query_of(get(names.AUTHORIZE_PATH, multi={"scope": [decoded]})) == f"scope={expected}"


@pytest.mark.parametrize(("decoded", "expected"), [
    ("openid offline_access_extra", "openid%20offline_access_extra"),
    ("offline_access_extra offline_access", "offline_access_extra"),
    ("openid xoffline_access+offline_access", "openid%20xoffline_access"),
    ("openid Offline_Access", "openid%20Offline_Access"),
])
def test_rest_strips_offline_access_as_a_whole_token_only(cognito: Upstream, decoded: str, expected: str):
    """A substring match would turn `offline_access_extra` into `_extra` (issue #22)."""
    assert query_of(get(names.AUTHORIZE_PATH, multi={"scope": [decoded]})) == f"scope={expected}"


# -- authorize: no open redirect -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    "redirect_uri=https%3A%2F%2Fevil.example%2F",
    "@evil.example",
    "x=1&/../../evil.example",
    "%2F%2Fevil.example",
    "next=https://evil.example&host=evil.example",
    "",
])
def test_the_target_is_always_the_configured_domain(cognito: Upstream, raw: str):
    loc = location(get(names.AUTHORIZE_PATH, raw=raw))
    assert loc.startswith(AUTHORIZE)
    parts = urlsplit(loc)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", urlsplit(UPSTREAM).netloc, "/oauth2/authorize")


@pytest.mark.parametrize("raw", ["a=1\r\nSet-Cookie:%20x=1", "a=b c", "a=1#frag", "a=\u00e9", "a=\x00"])
def test_characters_a_url_cannot_carry_are_refused(cognito: Upstream, raw: str):
    resp = get(names.AUTHORIZE_PATH, raw=raw)
    assert resp["statusCode"] == 400 and "Location" not in resp["headers"]
    assert json.loads(resp["body"])["error"] == "invalid_request"


def test_decoded_rest_values_cannot_break_out_of_the_query(cognito: Upstream):
    multi = {"state": ["x\r\nSet-Cookie: a=1#/@evil.example"], "a/b?c": ["d"]}
    loc = location(get(names.AUTHORIZE_PATH, multi=multi))
    assert "\r" not in loc and "\n" not in loc and " " not in loc and "#" not in loc
    assert urlsplit(loc).netloc == urlsplit(UPSTREAM).netloc
    assert parse_qsl(urlsplit(loc).query) == [("state", "x\r\nSet-Cookie: a=1#/@evil.example"), ("a/b?c", "d")]


# -- everything else ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("path", [names.DISCOVERY_PATH, names.AUTHORIZE_PATH])
def test_other_methods_are_405(cognito: Upstream, method: str, path: str):
    resp = get(path, method=method, raw="scope=openid")
    assert resp["statusCode"] == 405 and resp["headers"]["Allow"] == "GET"
    assert json.loads(resp["body"]) == {"error": "method_not_allowed", "error_description": "use GET"}
    assert cognito.hits == 0


@pytest.mark.parametrize("path", ["/", "/oauth2/token", "/oauth2/authorize/x", "/.well-known/jwks.json",
                                  "/OAUTH2/AUTHORIZE", "/login", "", "/oauth2/authorize%2F"])
def test_unknown_paths_are_404(cognito: Upstream, path: str):
    resp = get(path)
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["error"] == "not_found"


def test_garbage_events_never_crash():
    for ev in (None, [], "x", {"path": 3, "httpMethod": None}, {"path": names.AUTHORIZE_PATH, "httpMethod": "GET",
                                                               "multiValueQueryStringParameters": {"a": [None, 3]}}):
        resp = adapter.handler(ev, None)
        assert resp["statusCode"] in (302, 404, 500)


@pytest.mark.parametrize(("environ", "problem"), [
    ({}, "UPSTREAM_ISSUER is required"),
    ({names.UPSTREAM_ISSUER: "https://cognito-idp.us-east-1.amazonaws.com/p"}, "UPSTREAM_BASE_URL is required"),
    (env("http://cognito-idp.us-east-1.amazonaws.com/p"), "UPSTREAM_ISSUER must be an https:// URL"),
    (env("https://i.example", upstream="https://evil.example/path"), "UPSTREAM_BASE_URL must be a bare origin"),
    (env("https://i.example", upstream="https://x.example?a=1"), "UPSTREAM_BASE_URL must have no user info"),
    (env("https://i.example", public="ftp://x.example"), "PUBLIC_BASE_URL must be an https:// URL"),
    (env("https://i.example", public="https://user@x.example"), "PUBLIC_BASE_URL must have no user info"),
])
def test_missing_or_bad_configuration_is_500_without_traceback(environ, problem, logs):
    adapter.configure(environ)
    assert problem in logs.getvalue()  # the log says what to fix
    for path in (names.DISCOVERY_PATH, names.AUTHORIZE_PATH):
        resp = get(path, raw="scope=openid")
        assert resp["statusCode"] == 500
        assert json.loads(resp["body"]) == {"error": "server_error", "error_description": "service misconfigured"}
        assert "Location" not in resp["headers"]
    assert "Traceback" not in logs.getvalue()


def test_http_is_accepted_on_loopback_only():
    assert adapter.config_mod.load(env("http://127.0.0.1:9", upstream="http://localhost:9", public="http://[::1]:9"))
    with pytest.raises(adapter.config_mod.ConfigError, match="UPSTREAM_BASE_URL must be an https"):
        adapter.config_mod.load(env("https://i.example", upstream="http://10.0.0.1"))


def test_logs_never_carry_the_query(cognito: Upstream, logs):
    get(names.AUTHORIZE_PATH, raw="login_hint=jane%40bank.example&state=secret-state&scope=openid")
    out = logs.getvalue()
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert lines and lines[-1]["outcome"] == "redirect" and lines[-1]["status"] == 302
    assert "jane" not in out and "secret-state" not in out
