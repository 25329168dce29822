"""`plaid-ready check` against the real OIDC provider (npm oidc-provider) served over TLS with a test CA.

Every provider here requires a nonce (``REQUIRE_NONCE=1``, as some conformant providers do) and states the
granted scopes. Configured correctly every check passes; misconfigured one way at a time, exactly that way's
check fails. The API stage runs against the /customers/current Lambda served by `plaid-ready serve-customers
--tls-cert --tls-key` in its own process, and against a misbehaving API. The login is the real authorization
code flow: a scripted browser completes the provider's own login and consent pages and follows the
redirect to the check's loopback listener. No output ever holds a token, the code or the client secret.
Hostile servers and the listener's defences: test_check_hostile.py; usage errors: test_check_options.py; units
(sub shapes, tampering, the bundled schema, redaction, the docs' check list): test_check_units.py.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import jwt
import pytest

import plaid_contract as plaid
from lambdas.customers_current import env as lambda_env
from readiness.check import http as check_http
from readiness.check import output as check_output
from readiness.check.model import Stage
from readiness.check.run import MAX_REQUESTS
from readiness.check.stages import CHECK_IDS, CHECKS
from readiness.check.stages.api import WAF_BLOCKED
from readiness.check.stages.login import AUTHORIZE_PARAMETERS
from readiness.cli import main as cli_main
from tests.harness import ROOT
from tests.lambdas import oidc
from tests.readiness.conftest import (
    ACCOUNT,
    AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    Browser,
    Op,
    Tls,
    start_providers,
    stop_providers,
)

SECRET_ENV = "PLAID_CHECK_TEST_SECRET"
API_IDS = {"API-CUSTOMERS-CURRENT", "API-REJECTS-NO-TOKEN", "API-REJECTS-BAD-TOKEN"}

#: name -> (the provider's env knobs, the one check that must fail, what its detail says, checks that become
#: skips as a consequence)
MISCONFIGURATIONS: dict[str, tuple[dict[str, str], str, str, set[str]]] = {
    "opaque access token": ({"ACCESS_TOKEN_FORMAT": "opaque"}, "TOKEN-JWT", "opaque access token (", set()),
    "1-hour access token": ({"ACCESS_TOKEN_TTL": "3600"}, "TOKEN-AT-LIFETIME",
                            "expires_in 3600 s; exp - iat 3600 s; Plaid: expire access tokens in 900 s", set()),
    "offline_access missing from scopes_supported": (
        {"SCOPES_SUPPORTED_OMIT": plaid.REQUIRED_SCOPES[1]}, "DISCOVERY-SCOPES",
        "scopes_supported lacks offline_access", set()),
    "no refresh token": ({"REFRESH_TOKEN": "none"}, "TOKEN-REFRESH-ISSUED", "no refresh_token although the login "
                         "asked for openid and offline_access", {"TOKEN-REFRESH-ROTATES"}),
    "refresh tokens do not rotate": ({"ROTATE_REFRESH_TOKEN": "false"}, "TOKEN-REFRESH-ROTATES",
                                     "the refresh returned the same refresh token: refresh tokens do not rotate",
                                     set()),
    "5-character sub": ({"SUB": "abcde"}, "TOKEN-SUB", "sub has 5 characters; Plaid needs >= 7", set()),
    "email as sub": ({"SUB": "jane.doe@example.com"}, "TOKEN-SUB", "sub looks like an email address", set()),
    # The token is never sent to an http:// userinfo: that check is skipped, with the reason.
    "http:// endpoint in discovery": ({"DISCOVERY_HTTP": "userinfo_endpoint"}, "DISCOVERY-HTTPS",
                                      "not https://: userinfo_endpoint = http://127.0.0.1:", {"USERINFO-SUB"}),
    "JWKS without kid": ({"JWKS_NO_KID": "1"}, "JWKS-KEYS", "1 of 1 signing keys have no kid", set()),
    # oidc-provider follows OIDC Core 11: without prompt=consent it drops offline_access, and says so in scope.
    "offline_access dropped": ({"OFFLINE_ACCESS_WITHOUT_PROMPT": "0"}, "TOKEN-REFRESH-ISSUED",
                               "(granted scopes: openid; the IdP dropped offline_access from the granted scopes)",
                               {"TOKEN-REFRESH-ROTATES"}),
    "id_token without the nonce": ({"ID_TOKEN_NONCE": "drop"}, "TOKEN-SUB",
                                   "it carries no nonce although the login sent one", set()),
    "id_token with another nonce": ({"ID_TOKEN_NONCE": "nonce-of-another-login"}, "TOKEN-SUB",
                                    "its nonce is not the one this login sent", set()),
}

#: Knobs every provider of this module gets: it requires a nonce, and it states the granted scopes.
EVERY_PROVIDER = {"REQUIRE_NONCE": "1", "STATE_GRANTED_SCOPE": "1"}
#: Refresh behaviours no other test reaches (issue #22): each has its own named test below.
REFRESH_ANSWER_WITHOUT_REFRESH_TOKEN = {"REFRESH_OMITS_REFRESH_TOKEN": "1"}
OLD_REFRESH_TOKEN_STILL_WORKS = {"OLD_REFRESH_TOKEN_VALID": "1"}


#: The "bad provider" of docs/check.md: three misconfigurations at once.
DOCS_BAD = {"ACCESS_TOKEN_FORMAT": "opaque", "SCOPES_SUPPORTED_OMIT": plaid.REQUIRED_SCOPES[1],
            "ROTATE_REFRESH_TOKEN": "false"}


@dataclass
class World:
    tls: Tls
    port: int  # the check's loopback callback port, allowed by every provider's client
    ops: dict[str, Op]

    @property
    def good(self) -> Op:
        return self.ops["good"]

    def login_args(self, op: Op | None = None) -> list[str]:
        return ["--discovery-url", (op or self.good).discovery_url, "--cacert", str(self.tls.ca),
                "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV, "--redirect-port", str(self.port),
                "--login-timeout", "20", "--timeout", "10"]


@pytest.fixture(scope="module")
def world(tls: Tls) -> Iterator[World]:
    port = oidc.free_port()
    configs = {"good": {}, "docs-bad": DOCS_BAD, "refresh-without-refresh-token": REFRESH_ANSWER_WITHOUT_REFRESH_TOKEN,
               "old-refresh-still-works": OLD_REFRESH_TOKEN_STILL_WORKS,
               **{name: knobs for name, (knobs, *_) in MISCONFIGURATIONS.items()}}
    configs = {name: {**EVERY_PROVIDER, **knobs} for name, knobs in configs.items()}
    ops = start_providers(configs, tls, f"http://127.0.0.1:{port}/callback,http://localhost:{port}/callback")
    try:
        yield World(tls, port, ops)
    finally:
        stop_providers([op.process for op in ops.values()])


@pytest.fixture(scope="module")
def customers_url(world: World) -> Iterator[str]:
    """The /customers/current Lambda as `plaid-ready serve-customers --tls-cert --tls-key` runs it, in its own
    process on 127.0.0.1 over TLS with the test CA, configured for the good provider: issuer, JWKS, audience,
    and Plaid's client id in client_id. Its JWKS fetch trusts the test CA through SSL_CERT_FILE (its own
    process only)."""
    issuer = world.good.issuer
    env = {**os.environ, lambda_env.TOKEN_ISSUER: issuer, lambda_env.JWKS_URI: f"{issuer}/jwks",
           lambda_env.TOKEN_AUDIENCE: AUDIENCE, lambda_env.TOKEN_CLIENT_ID: CLIENT_ID,
           lambda_env.TOKEN_CLIENT_CLAIM: "client_id", "SSL_CERT_FILE": str(world.tls.ca)}
    proc = subprocess.Popen([sys.executable, "-m", "readiness.cli", "serve-customers", "--port", "0",
                             "--tls-cert", str(world.tls.cert), "--tls-key", str(world.tls.key)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # bounded: the process prints one line or exits
        if not line.startswith("serving GET https://127.0.0.1:"):
            pytest.fail(f"the customers Lambda did not start: {line}{proc.stderr.read()[-2000:]}")
        yield line.split()[2]
    finally:
        stop_providers([proc])


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


@pytest.fixture
def sensitive(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every credential the check sends or receives (tokens, code, Basic header), seen by wrapping its HTTP
    function: the output is grepped for each of them."""
    seen: set[str] = {CLIENT_SECRET}
    real = check_http.request

    def spy(method: str, url: str, **kwargs):
        auth = (kwargs.get("headers") or {}).get("Authorization", "")
        if auth:
            seen.add(auth.split(" ", 1)[1])
        seen.update(v for k, v in (kwargs.get("form") or {}).items() if k in ("code", "refresh_token"))
        resp = real(method, url, **kwargs)
        seen.update(v for k, v in (resp.json_object() or {}).items() if isinstance(v, str) and k.endswith("token"))
        return resp

    monkeypatch.setattr(check_http, "request", spy)
    return seen


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict:
        return json.loads(self.out)

    def status(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.doc["checks"]}

    def detail(self, check_id: str) -> str:
        return next(c["detail"] for c in self.doc["checks"] if c["id"] == check_id)

    def ids(self, status: str) -> set[str]:
        return {k for k, v in self.status().items() if v == status}

    def assert_no_leak(self, values: set[str]) -> None:
        assert values, "nothing to look for"
        for value in values:
            assert value not in self.out and value not in self.err, "a credential appears in the output"


def run(capsys: pytest.CaptureFixture[str], args: list[str], browser: Browser | None = None) -> Ran:
    code = cli_main(["check", *args], browser=browser)
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


# --- the correctly configured provider ---------------------------------------------------------


def test_correct_provider_and_lambda_every_check_passes(world, customers_url, capsys,
                                                        sensitive):
    browser = Browser(world.tls.ca)
    ran = run(capsys, [*world.login_args(), "--customers-url", customers_url, "--json"], browser)
    assert [c["id"] for c in ran.doc["checks"]] == list(CHECK_IDS)
    assert ran.ids("pass") == set(CHECK_IDS), ran.doc
    assert ran.doc["verdict"] == "ready" and ran.code == 0
    assert set(ran.doc) == {"checks", "counts", "complete", "verdict", "not_seen"}
    assert ran.doc["counts"] == {"pass": 16, "fail": 0, "warn": 0, "skip": 0} and ran.doc["complete"] is True
    assert ran.doc["not_seen"] == list(check_output.NOT_SEEN)
    assert set(ran.doc["checks"][0]) == {"id", "status", "detail"}
    assert "equal to the id_token sub" in ran.detail("API-CUSTOMERS-CURRENT")
    assert ran.detail("API-REJECTS-BAD-TOKEN").startswith("a tampered token (payload changed, signature kept): "
                                                          "HTTP 401, code 602")
    assert "; nonce is the login's; " in ran.detail("TOKEN-SUB")
    assert ran.detail("TOKEN-REFRESH-ISSUED").endswith("granted scopes: openid offline_access")
    # stderr: exactly the one authorize_url line: Plaid's parameters in Plaid's order, then the nonce.
    (line,) = ran.err.splitlines()
    assert line.startswith(f"authorize_url: {world.good.issuer}/auth?")
    pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(line.split(" ", 1)[1]).query)
    assert [k for k, _ in pairs] == [*plaid.AUTHORIZE_PARAMETERS, "nonce"] == list(AUTHORIZE_PARAMETERS)
    query = dict(pairs)
    assert {k: query[k] for k in plaid.AUTHORIZE_PARAMETERS if k != "state"} == {
        "response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "client_id": CLIENT_ID,
        "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES),
        "redirect_uri": f"http://127.0.0.1:{world.port}/callback"}
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
    assert browser.seen, "the browser reached the callback with a code"
    ran.assert_no_leak(sensitive | set(browser.seen))
    assert len(sensitive) >= 6  # secret, Basic, code, access/refresh/id tokens, the refreshed ones, the tampered one


def test_text_output_has_stages_rows_and_verdict(world, capsys, sensitive):
    ran = run(capsys, world.login_args(), Browser(world.tls.ca))
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert lines[0] == f"Plaid live check of {world.good.discovery_url}"
    for stage in Stage:
        assert stage.value in lines
    for spec in CHECKS:
        status = "SKIP" if spec.id in API_IDS else "PASS"
        row = next(i for i, x in enumerate(lines) if x.split()[1:2] == [spec.id])
        assert lines[row] == f"  {status:<6} {spec.id:<22} {spec.requirement}"
        assert lines[row + 1].strip().startswith("seen: ")
    assert lines[-2] == "Plaid live check (16 checks: 13 pass, 0 warn, 0 fail, 3 skip)"
    assert lines[-1] == ("Verdict: ready for Plaid as far as checked (nothing fails; 3 checks not run for lack of "
                         "inputs, see their reasons). Not seen by a live check: "
                         + ", ".join(check_output.NOT_SEEN) + ".")
    ran.assert_no_leak(sensitive)


def test_a_partial_run_says_so_in_json(world, capsys):
    """No --customers-url: the API stage is skipped for lack of an input, so the run is incomplete and the verdict
    is "ready as far as checked", in JSON as in text."""
    ran = run(capsys, [*world.login_args(), "--json"], Browser(world.tls.ca))
    assert ran.doc["complete"] is False and ran.doc["verdict"] == "ready as far as checked" and ran.code == 0
    assert ran.doc["counts"] == {"pass": 13, "fail": 0, "warn": 0, "skip": 3}


def test_a_skip_that_is_not_for_lack_of_input_keeps_the_run_complete(world, tls_server, capsys):
    """The login was requested but failed: the API checks after it are skipped, yet nothing was left out by the
    user; the verdict is "not ready" because the login failed, and the run counts as complete."""
    api = tls_server(lambda handler: (401, b'{"code": 602, "message": "Customer not authorized"}'))
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              _answering({"error": "access_denied"}))
    assert ran.status()["API-CUSTOMERS-CURRENT"] == "skip" and ran.doc["complete"] is True
    assert ran.doc["verdict"] == "not ready" and ran.code == 1


def test_each_run_draws_a_fresh_state_and_nonce(world, capsys):
    seen = []
    for _ in range(2):
        ran = run(capsys, [*world.login_args(), "--json"], _answering({"error": "access_denied"}))
        seen.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(ran.err.split(" ", 1)[1].strip()).query)))
    assert seen[0]["state"] != seen[1]["state"] and seen[0]["nonce"] != seen[1]["nonce"]


def test_redirect_host_localhost_for_idps_that_accept_only_localhost(world, capsys, sensitive):
    ran = run(capsys, [*world.login_args(), "--redirect-host", "localhost", "--json"], Browser(world.tls.ca))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ran.err.split(" ", 1)[1].strip()).query)
    assert query["redirect_uri"] == [f"http://localhost:{world.port}/callback"]
    assert ran.ids("fail") == set() and ran.status()["TOKEN-REFRESH-ROTATES"] == "pass" and ran.code == 0
    ran.assert_no_leak(sensitive)


def test_through_the_cli_dispatch(world, capsys):
    code = cli_main(["check", "--discovery-url", world.good.discovery_url, "--cacert", str(world.tls.ca), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["verdict"] == "ready as far as checked" and doc["complete"] is False
    statuses = {c["id"]: c["status"] for c in doc["checks"]}
    assert {k for k, v in statuses.items() if v == "pass"} == {
        "DISCOVERY-FETCH", "DISCOVERY-HTTPS", "DISCOVERY-FIELDS", "DISCOVERY-SCOPES", "DISCOVERY-AUTH-METHOD",
        "JWKS-KEYS"}
    details = {c["id"]: c["detail"] for c in doc["checks"]}
    assert details["TOKEN-CLIENT-AUTH"] == "no --client-id (and no secret): the login is not requested"
    assert details["API-REJECTS-NO-TOKEN"] == "no --customers-url"


# --- one misconfiguration at a time -----------------------------------------------------------


@pytest.mark.parametrize("name", list(MISCONFIGURATIONS))
def test_each_misconfiguration_fails_exactly_its_check(world, name, capsys, sensitive):
    _, expected, seen, consequences = MISCONFIGURATIONS[name]
    ran = run(capsys, [*world.login_args(world.ops[name]), "--json"], Browser(world.tls.ca))
    assert ran.ids("fail") == {expected}, ran.doc
    assert seen in ran.detail(expected)
    assert ran.ids("skip") == API_IDS | consequences, ran.doc
    assert ran.ids("pass") == set(CHECK_IDS) - {expected} - API_IDS - consequences
    assert ran.code == 1 and ran.doc["verdict"] == "not ready"
    if name == "JWKS without kid":  # the token still verifies, with the key that has no kid
        assert "verified with a JWKS key without kid" in ran.detail("TOKEN-JWT")
    if name == "http:// endpoint in discovery":
        assert ran.detail("USERINFO-SUB").startswith("userinfo_endpoint is not https://: not called")
    ran.assert_no_leak(sensitive)


# --- the API stage against a misbehaving API -----------------------------------------------------


def _customer_api(body_for_token):
    def respond(handler):
        auth = handler.headers.get("Authorization")
        if not auth:
            return 401, json.dumps({"code": 602, "message": "Customer not authorized"}).encode()
        claims = jwt.decode(auth.split(" ", 1)[1], options={"verify_signature": False})
        return 200, json.dumps(body_for_token(claims)).encode()

    return respond


def test_api_answering_200_to_a_tampered_token_fails(world, tls_server, capsys, sensitive):
    api = tls_server(_customer_api(lambda claims: {"customerId": claims["sub"]}))  # never checks the signature
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.ids("fail") == {"API-REJECTS-BAD-TOKEN"}, ran.doc
    assert ran.detail("API-REJECTS-BAD-TOKEN") == ("a tampered token (payload changed, signature kept): HTTP 200, "
                                                   "no FDX code; expected 401 with code 602")
    assert ran.status()["API-CUSTOMERS-CURRENT"] == ran.status()["API-REJECTS-NO-TOKEN"] == "pass"
    assert ran.code == 1
    ran.assert_no_leak(sensitive)


@pytest.mark.parametrize(("body", "why"), [
    ({"customerId": 42}, "customerId is not a JSON string"),
    ({"id": ACCOUNT}, "body has no customerId"),
    ({"customerId": "x" * (plaid.CUSTOMER_ID_MAX_LENGTH + 1)}, "customerId is longer than 256 characters"),
    ({"customerId": "another-customer-7"}, "not equal to the id_token sub"),
])
def test_api_answering_outside_plaids_customer_schema_fails(world, tls_server, capsys, body, why):
    api = tls_server(_customer_api(lambda claims: body))
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.status()["API-CUSTOMERS-CURRENT"] == "fail" and why in ran.detail("API-CUSTOMERS-CURRENT")
    assert ran.code == 1


def test_api_without_a_login_runs_only_the_no_token_check(world, tls_server, capsys):
    api = tls_server(lambda handler: (403, b'{"message": "Forbidden"}'))  # a WAF in front
    ran = run(capsys, ["--discovery-url", world.good.discovery_url, "--cacert", str(world.tls.ca),
                       "--customers-url", f"{api.url}/customers/current", "--json"])
    assert ran.status()["API-REJECTS-NO-TOKEN"] == "warn"
    assert ran.detail("API-REJECTS-NO-TOKEN") == f"no token: {WAF_BLOCKED}"
    assert ran.status()["API-CUSTOMERS-CURRENT"] == ran.status()["API-REJECTS-BAD-TOKEN"] == "skip"
    assert ran.code == 0 and ran.doc["verdict"] == "ready as far as checked"


def test_api_answering_403_to_a_token_is_a_warning_not_a_pass(world, tls_server, capsys):
    api = tls_server(lambda handler: (403, b"Forbidden"))  # the WAF, from an address that is not Plaid's
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.ids("warn") == API_IDS and ran.ids("fail") == set() and ran.code == 0
    assert ran.detail("API-CUSTOMERS-CURRENT") == f"with the access token: {WAF_BLOCKED}"


def test_api_answering_500_fails(world, tls_server, capsys):
    api = tls_server(lambda handler: (500, b'{"code": 500, "message": "Internal server error"}'))
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.ids("fail") == API_IDS and ran.code == 1
    assert ran.detail("API-CUSTOMERS-CURRENT") == "HTTP 500 with the access token; expected 200"
    assert ran.detail("API-REJECTS-NO-TOKEN") == "no token: HTTP 500, code 500; expected 401 with code 602"


@pytest.mark.parametrize(("status", "body", "seen"), [
    (401, b'{"message": "Unauthorized"}', "HTTP 401, no FDX code"),  # API Gateway's own 401, not the Lambda's
    (401, b'{"code": 603, "message": "Authentication failed"}', "HTTP 401, code 603"),
    (404, b'{"code": 601, "message": "Customer not found"}', "HTTP 404, code 601"),
    (400, b'{"code": 602, "message": "Customer not authorized"}', "HTTP 400, code 602"),
])
def test_api_rejects_fails_on_a_4xx_other_than_401_with_fdx_code_602(world, tls_server, capsys, status, body, seen):
    """Refusing is not enough: Plaid expects 401 with FDX code 602 (issue #22: any 4xx without 602 passed)."""
    api = tls_server(lambda handler: (status, body))
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.status()["API-REJECTS-NO-TOKEN"] == ran.status()["API-REJECTS-BAD-TOKEN"] == "fail"
    assert ran.detail("API-REJECTS-NO-TOKEN") == f"no token: {seen}; expected 401 with code 602"
    assert ran.detail("API-REJECTS-BAD-TOKEN") == (
        f"a tampered token (payload changed, signature kept): {seen}; expected 401 with code 602")
    assert ran.code == 1


def test_api_answers_nested_too_deeply_are_failures_not_crashes(world, tls_server, capsys):
    deep_code = b'{"code": ' + b"[" * 500 + b"]" * 500 + b"}"

    def respond(handler):
        if handler.headers.get("Authorization"):
            return 200, b"[" * 200_000
        return 401, deep_code

    api = tls_server(respond)
    ran = run(capsys, [*world.login_args(), "--customers-url", f"{api.url}/customers/current", "--json"],
              Browser(world.tls.ca))
    assert ran.detail("API-CUSTOMERS-CURRENT") == (
        "HTTP 200, application/json: the body's JSON is nested too deeply to read")
    assert ran.detail("API-REJECTS-NO-TOKEN") == "no token: HTTP 401, code (a JSON array); expected 401 with code 602"
    assert ran.code == 1


def test_a_full_run_makes_max_requests_and_no_more(world, customers_url, capsys, monkeypatch):
    """docs/check.md's whole-run bound counts MAX_REQUESTS requests, each within --timeout."""
    sent: list[str] = []
    real = check_http.request

    def counting(method: str, url: str, **kwargs):
        sent.append(method)
        return real(method, url, **kwargs)

    monkeypatch.setattr(check_http, "request", counting)
    ran = run(capsys, [*world.login_args(), "--customers-url", customers_url, "--json"], Browser(world.tls.ca))
    assert ran.doc["counts"]["pass"] == 16
    assert len(sent) == MAX_REQUESTS == 9


# --- refresh-token rotation (issue #22) -------------------------------------------------------------------


def test_refresh_rotates_fails_when_the_refresh_answer_has_no_refresh_token(world, capsys, sensitive):
    ran = run(capsys, [*world.login_args(world.ops["refresh-without-refresh-token"]), "--json"],
              Browser(world.tls.ca))
    assert ran.ids("fail") == {"TOKEN-REFRESH-ROTATES"}, ran.doc
    assert ran.detail("TOKEN-REFRESH-ROTATES") == (
        "the refresh answered without a new refresh_token: refresh tokens do not rotate")
    ran.assert_no_leak(sensitive)


def test_refresh_rotates_fails_when_the_old_refresh_token_still_works(world, capsys, sensitive):
    ran = run(capsys, [*world.login_args(world.ops["old-refresh-still-works"]), "--json"], Browser(world.tls.ca))
    assert ran.ids("fail") == {"TOKEN-REFRESH-ROTATES"}, ran.doc
    assert ran.detail("TOKEN-REFRESH-ROTATES") == "a new refresh token came back, but the old one is still accepted"
    ran.assert_no_leak(sensitive)


# --- stack outputs and Secrets Manager ---------------------------------------------------------------


@pytest.fixture(scope="module")
def secrets_manager() -> Iterator[str]:
    """moto's Secrets Manager on 127.0.0.1, in server mode: boto3 in the check talks to it over HTTP."""
    from moto.server import ThreadedMotoServer

    port = oidc.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, secrets_manager: str) -> str:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets_manager}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return secrets_manager


def _put_secret(name: str, value: str) -> str:
    import boto3

    return boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name=name, SecretString=value)["ARN"]


def test_stack_outputs_and_secret_arn(world, customers_url, aws, tmp_path, capsys, sensitive):
    arn = _put_secret(f"fpb-plaid-{time.monotonic_ns()}",
                      json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
    outputs = tmp_path / "dev.outputs.json"  # what `pulumi stack output --json -s dev` writes
    outputs.write_text(json.dumps({"discovery_url": world.good.discovery_url, "client_id": CLIENT_ID,
                                   "customers_current_url": customers_url, "credentials_secret_arn": arn,
                                   "issuer": world.good.issuer, "audience": AUDIENCE}))
    ran = run(capsys, ["--stack", "dev", "--outputs", str(outputs), "--secret-arn", arn, "--cacert",
                       str(world.tls.ca), "--redirect-port", str(world.port), "--json"], Browser(world.tls.ca))
    assert ran.ids("pass") == set(CHECK_IDS), ran.doc
    assert ran.code == 0
    ran.assert_no_leak(sensitive)


def test_stack_outputs_without_a_secret_name_the_secret_arn_in_the_skip(world, tmp_path, capsys):
    outputs = tmp_path / "dev.outputs.json"
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fpb-plaid-AbCdEf"
    outputs.write_text(json.dumps({"discovery_url": world.good.discovery_url, "client_id": CLIENT_ID,
                                   "credentials_secret_arn": arn}))
    ran = run(capsys, ["--stack", "dev", "--outputs", str(outputs), "--cacert", str(world.tls.ca), "--json"])
    assert ran.code == 0
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        f"no client secret: pass --client-secret-env NAME or --secret-arn ARN (the stack's credentials_secret_arn "
        f"is {arn})")


@pytest.mark.parametrize(("value", "message"), [
    (None, "--secret-arn: Secrets Manager answered ResourceNotFoundException"),
    (json.dumps({"client_id": CLIENT_ID}), "--secret-arn: the secret is JSON without a client_secret string"),
])
def test_unreadable_secret_is_a_usage_error(aws, capsys, value, message):
    arn = _put_secret(f"fpb-bad-{time.monotonic_ns()}", value) if value is not None else \
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:fpb-missing-AbCdEf"
    ran = run(capsys, ["--discovery-url", "https://127.0.0.1:1/.well-known/openid-configuration",
                       "--client-id", CLIENT_ID, "--secret-arn", arn, "--timeout", "5"])
    assert ran.code == 2 and ran.out == ""
    assert ran.err.splitlines() == [f"plaid-ready check: error: {message}"]


def _put_rotating_secret(current: str, pending: str) -> str:
    """A secret as phase 1 of a two-phase rotation leaves it: the old value AWSCURRENT, the new one AWSPENDING."""
    import boto3

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name=f"fpb-rotating-{time.monotonic_ns()}",
                           SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": current}))["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": pending}),
                        VersionStages=["AWSPENDING"])
    return arn


def test_secret_stage_awspending_proves_the_new_secret_before_phase_2(world, aws, capsys, sensitive):
    # The IdP knows CLIENT_SECRET only: the pending version holds it, the current one is the (retired) old value.
    arn = _put_rotating_secret("0" * 64, CLIENT_SECRET)
    base = ["--discovery-url", world.good.discovery_url, "--client-id", CLIENT_ID, "--secret-arn", arn,
            "--cacert", str(world.tls.ca), "--redirect-port", str(world.port), "--json"]
    pending = run(capsys, [*base, "--secret-stage", "AWSPENDING"], Browser(world.tls.ca))
    assert pending.status()["TOKEN-CLIENT-AUTH"] == "pass", pending.doc
    pending.assert_no_leak(sensitive)
    current = run(capsys, base, Browser(world.tls.ca))  # AWSCURRENT: the old secret, which the IdP refuses
    assert current.status()["TOKEN-CLIENT-AUTH"] == "fail", current.doc
    assert CLIENT_SECRET not in current.out + current.err


@pytest.mark.parametrize(("args", "message"), [
    (["--secret-stage", "AWSPENDING"], "--secret-stage selects a version of the --secret-arn secret: give "
                                       "--secret-arn too"),
    (["--secret-arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf", "--secret-stage", "a b"],
     "--secret-stage must be a Secrets Manager staging label such as AWSCURRENT or AWSPENDING (letters, digits, "
     "_+=.@-)"),
])
def test_secret_stage_usage_errors(capsys, args, message):
    ran = run(capsys, ["--discovery-url", "https://127.0.0.1:1/.well-known/openid-configuration",
                       "--client-id", CLIENT_ID, *args])
    assert ran.code == 2 and ran.err.splitlines() == [f"plaid-ready check: error: {message}"]


def test_no_pending_version_says_phase_1_is_not_deployed(aws, capsys):
    arn = _put_secret(f"fpb-plain-{time.monotonic_ns()}", json.dumps({"client_id": CLIENT_ID, "client_secret": "x"}))
    ran = run(capsys, ["--discovery-url", "https://127.0.0.1:1/.well-known/openid-configuration",
                       "--client-id", CLIENT_ID, "--secret-arn", arn, "--secret-stage", "AWSPENDING", "--timeout", "5"])
    assert ran.code == 2
    assert ran.err.splitlines() == ["plaid-ready check: error: --secret-arn: Secrets Manager answered "
                                    "ResourceNotFoundException (no version staged AWSPENDING: is phase add-next of "
                                    "clientSecret.rotation deployed? docs/rotation.md#client-secret)"]


# --- failures of the login itself -----------------------------------------------------------------


def test_untrusted_certificate_fails_discovery_without_cacert(world, capsys):
    ran = run(capsys, ["--discovery-url", world.good.discovery_url, "--json"])
    assert ran.status()["DISCOVERY-FETCH"] == "fail"
    assert ran.detail("DISCOVERY-FETCH").startswith("TLS certificate not trusted (")
    assert "--cacert FILE" in ran.detail("DISCOVERY-FETCH")
    assert ran.ids("fail") == {"DISCOVERY-FETCH"} and ran.code == 1


def test_wrong_client_secret_fails_client_auth(world, monkeypatch, capsys, sensitive):
    wrong = "wrong-" + CLIENT_SECRET[::-1]
    monkeypatch.setenv(SECRET_ENV, wrong)
    ran = run(capsys, [*world.login_args(), "--json"], Browser(world.tls.ca))
    assert ran.ids("fail") == {"TOKEN-CLIENT-AUTH"}
    assert ran.detail("TOKEN-CLIENT-AUTH").startswith("code exchange with client_secret_basic: HTTP 401 invalid_client")
    assert ran.detail("TOKEN-CLIENT-AUTH").endswith("(the client secret or client authentication method is wrong)")
    assert all(ran.status()[s.id] == "skip" for s in CHECKS if s.stage is Stage.LOGIN
               and s.id != "TOKEN-CLIENT-AUTH")
    ran.assert_no_leak(sensitive | {wrong})


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT of earlier callbacks is fine
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def test_login_timeout_is_bounded_and_the_listener_is_closed(world, capsys):
    started = time.monotonic()
    args = [*world.login_args(), "--login-timeout", "1", "--json"]
    ran = run(capsys, args, browser=lambda url: time.sleep(3))  # nobody logs in
    assert time.monotonic() - started < 3
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        f"login: no redirect to http://127.0.0.1:{world.port}/callback with this login's state within 1 s")
    assert ran.code == 1 and _port_is_free(world.port)


def _answering(query: dict[str, str] | None):
    """A browser that skips the IdP and lands on the callback with ``query`` (state copied unless given)."""

    def browse(url: str) -> None:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        answer = {"state": params["state"], **(query or {})}
        callback = f"{params['redirect_uri']}?{urllib.parse.urlencode(answer)}"
        try:
            urllib.request.urlopen(callback, timeout=5).close()
        except urllib.error.HTTPError:
            pass

    return browse


@pytest.mark.parametrize(("query", "why"), [
    ({"error": "access_denied"}, "login: the IdP redirected with error=access_denied instead of a code"),
    ({"error": "access_denied", "error_description": "The user cancelled the login"},
     "login: the IdP redirected with error=access_denied (The user cancelled the login) instead of a code"),
    ({"error": "invalid_request", "error_description": "x" * 400},
     f"login: the IdP redirected with error=invalid_request ({'x' * 157}...) instead of a code"),
    ({}, "login: the IdP redirected without a code"),
])
def test_login_answers_other_than_a_code(world, capsys, query, why):
    started = time.monotonic()
    ran = run(capsys, [*world.login_args(), "--json"], _answering(query))
    assert ran.detail("TOKEN-CLIENT-AUTH") == why and ran.code == 1
    assert time.monotonic() - started < 5  # an answer with the right state ends the login at once


def test_a_callback_with_another_state_is_ignored(world, capsys):
    """A forged callback (another state) is answered and ignored: it neither ends the login nor is its code used."""
    ran = run(capsys, [*world.login_args(), "--json"], _answering({"code": "stolen-code", "state": "forged"}))
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        f"login: the browser finished without reaching http://127.0.0.1:{world.port}/callback "
        "(1 callback with another state ignored)")
    assert "stolen-code" not in ran.out + ran.err


def test_a_browser_that_gives_up_ends_the_wait(world, capsys):
    started = time.monotonic()
    ran = run(capsys, [*world.login_args(), "--json"], browser=lambda url: None)
    assert time.monotonic() - started < 5  # not the 20 s login timeout
    assert ran.detail("TOKEN-CLIENT-AUTH") == (
        f"login: the browser finished without reaching http://127.0.0.1:{world.port}/callback")


def test_a_browser_that_breaks_is_reported(world, capsys):
    def broken(url: str) -> None:
        raise RuntimeError("no browser")

    ran = run(capsys, [*world.login_args(), "--json"], broken)
    assert ran.detail("TOKEN-CLIENT-AUTH") == "login: the login did not reach the redirect (RuntimeError)"


def _normalized(text: str) -> list[str]:
    text = re.sub(r"127\.0\.0\.1(:|%3A)\d+", r"127.0.0.1\1PORT", text)
    return re.sub(r"(state|nonce)=[A-Za-z0-9_-]+", r"\1=RANDOM", text).splitlines()


def _doc_run(marker: str) -> tuple[list[str], int]:
    text = (ROOT / "docs" / "check.md").read_text()
    block = text.split(f"<!-- {marker} -->\n```text\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert block[0].startswith("$ plaid-ready check ") and block[-2] == "$ echo $?"
    return _normalized("\n".join(block[1:-2])), int(block[-1])


@pytest.mark.parametrize(("marker", "provider"), [("good run", "good"), ("bad run", "docs-bad")])
def test_docs_show_real_runs(world, customers_url, capsys, marker, provider):
    """docs/check.md shows what the tool prints: a fresh run gives the same lines (ports and state aside)."""
    ran = run(capsys, [*world.login_args(world.ops[provider]), "--customers-url", customers_url],
              Browser(world.tls.ca))
    expected, code = _doc_run(marker)
    assert _normalized(ran.err + ran.out) == expected
    assert ran.code == code
