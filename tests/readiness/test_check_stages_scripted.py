"""The Discovery, Keys and API stages of `plaid-ready check` (readiness/check/stages/) on scripted answers: what each
stage fetches, what it keeps for later checks and what it reports, with the run's HTTP client replaced by a script
of answers (no socket). tests/readiness/test_check.py runs the same stages against real providers over TLS; these
run in milliseconds, so the `check` mutation group (tools/mutation.toml, issue #22) can run them once per mutant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from readiness.check.http import NetworkError, Response
from readiness.check.model import CheckStatus
from readiness.check.options import Options
from readiness.check.run import Run
from readiness.check.stages import api, discovery, keys
from tests.lambdas.idp import rsa_key

DOC_URL = "https://idp.example/.well-known/openid-configuration"
JWKS_URL = "https://idp.example/jwks"
API_URL = "https://api.example/fdx/v6/customers/current"
GOOD_DOC = {"issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/authorize",
            "token_endpoint": "https://idp.example/token", "userinfo_endpoint": "https://idp.example/userinfo",
            "jwks_uri": JWKS_URL, "response_types_supported": ["code"],
            "scopes_supported": ["openid", "offline_access"]}
DENIED = {"code": 602, "message": "Customer not authorized"}


def answer(status: int, body: object, media_type: str = "application/json") -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, {"content-type": media_type} if media_type else {}, raw)


class Script:
    """The answers by URL (an exception is raised), and every request made: (url, headers)."""

    def __init__(self, answers: Mapping[str, Response | Exception]) -> None:
        self.answers = dict(answers)
        self.asked: list[tuple[str, dict[str, str] | None]] = []

    def __call__(self, url: str, headers: dict[str, str] | None = None) -> Response:
        self.asked.append((url, headers))
        found = self.answers[url]
        if isinstance(found, Exception):
            raise found
        return found


def scripted_run(answers: Mapping[str, Response | Exception], *, url: str = DOC_URL,
                 customers_url: str | None = API_URL) -> tuple[Run, Script]:
    opts = Options(discovery_url=url, client_id=None, secret=None, customers_url=customers_url, cacert=None,
                   redirect_port=1, redirect_host="127.0.0.1", login_timeout=1, timeout=1, json=True,
                   secret_source=None, secret_arn_hint=None)
    run = Run(opts, None, None)
    script = Script(answers)
    run.get = script  # type: ignore[method-assign]
    return run, script


def results(run: Run) -> dict[str, tuple[CheckStatus, str]]:
    return {k: (r.status, r.detail) for k, r in run.results.items()}


# -- Discovery ----------------------------------------------------------------------------------------------------


def test_a_good_document_is_kept_and_every_discovery_check_passes():
    run, script = scripted_run({DOC_URL: answer(200, GOOD_DOC)})
    discovery.STAGE.run(run)
    assert script.asked == [(DOC_URL, None)]
    assert run.discovery == GOOD_DOC and run.oidc is True
    assert {k: s for k, (s, _) in results(run).items()} == dict.fromkeys(
        ("DISCOVERY-FETCH", "DISCOVERY-HTTPS", "DISCOVERY-FIELDS", "DISCOVERY-SCOPES", "DISCOVERY-AUTH-METHOD"),
        CheckStatus.PASS)
    assert results(run)["DISCOVERY-FETCH"] == (CheckStatus.PASS, "HTTP 200, application/json, 7 fields")


def test_an_oauth_document_url_is_not_oidc():
    url = "https://idp.example/.well-known/oauth-authorization-server"
    run, _ = scripted_run({url: answer(200, GOOD_DOC)}, url=url)
    discovery.STAGE.run(run)
    assert run.oidc is False
    assert results(run)["DISCOVERY-FIELDS"][1].startswith("OAuth 2.0: ")


@pytest.mark.parametrize(("reply", "detail"), [
    (answer(404, {"error": "nope"}), "HTTP 404, application/json: expected 200"),
    (answer(200, [1, 2]), "HTTP 200, application/json: the body is JSON but not an object"),
    (answer(200, b"<html>", "text/html"), "HTTP 200, text/html: the body is not JSON"),
])
def test_a_document_that_is_not_served_right_is_not_kept_and_the_other_checks_say_why(reply, detail):
    run, _ = scripted_run({DOC_URL: reply})
    discovery.STAGE.run(run)
    assert run.discovery is None
    assert results(run) == {
        "DISCOVERY-FETCH": (CheckStatus.FAIL, detail),
        **dict.fromkeys(("DISCOVERY-HTTPS", "DISCOVERY-FIELDS", "DISCOVERY-SCOPES", "DISCOVERY-AUTH-METHOD"),
                        (CheckStatus.SKIP, "no discovery document (see DISCOVERY-FETCH)"))}


def test_a_document_served_as_text_is_kept_though_its_fetch_fails():
    run, _ = scripted_run({DOC_URL: answer(200, GOOD_DOC, "text/plain")})
    discovery.STAGE.run(run)
    assert run.discovery == GOOD_DOC
    assert results(run)["DISCOVERY-FETCH"][0] is CheckStatus.FAIL
    assert results(run)["DISCOVERY-FIELDS"][0] is CheckStatus.PASS


def test_an_unreachable_document_fails_with_the_clients_reason():
    run, _ = scripted_run({DOC_URL: NetworkError("connection refused")})
    discovery.STAGE.run(run)
    assert results(run)["DISCOVERY-FETCH"] == (
        CheckStatus.FAIL, "connection refused (Plaid's Validator reports this as 'Error getting OIDC configuration': "
                          "check DNS, TLS and that no firewall blocks Plaid)")
    assert run.discovery is None


def test_the_discovery_checks_judge_the_fetched_document():
    doc = {**GOOD_DOC, "token_endpoint": "http://idp.example/token", "scopes_supported": ["openid"],
           "token_endpoint_auth_methods_supported": ["client_secret_post"]}
    del doc["userinfo_endpoint"]
    run, _ = scripted_run({DOC_URL: answer(200, doc)})
    discovery.STAGE.run(run)
    assert results(run) == {
        "DISCOVERY-FETCH": (CheckStatus.PASS, "HTTP 200, application/json, 7 fields"),
        "DISCOVERY-HTTPS": (CheckStatus.FAIL, "not https://: token_endpoint = http://idp.example/token"),
        "DISCOVERY-FIELDS": (CheckStatus.FAIL, "missing userinfo_endpoint"),
        "DISCOVERY-SCOPES": (CheckStatus.FAIL, "scopes_supported lacks offline_access (lists 1 scope)"),
        "DISCOVERY-AUTH-METHOD": (CheckStatus.FAIL, "lists client_secret_post; Plaid authenticates with "
                                                    "client_secret_basic"),
    }


# -- Keys -----------------------------------------------------------------------------------------------------------


def keys_run(answers: Mapping[str, Response | Exception], doc: dict | None = None) -> tuple[Run, Script]:
    run, script = scripted_run(answers)
    run.discovery = GOOD_DOC if doc is None else doc
    return run, script


def test_a_jwks_with_a_signing_key_is_kept_and_passes():
    jwks = {"keys": [rsa_key().jwk()]}
    run, script = keys_run({JWKS_URL: answer(200, jwks)})
    keys.STAGE.run(run)
    assert script.asked == [(JWKS_URL, None)]
    assert run.jwks == jwks and results(run)["JWKS-KEYS"][0] is CheckStatus.PASS


def test_a_jwks_that_fails_its_check_is_still_kept_for_the_tokens():
    jwks = {"keys": []}
    run, _ = keys_run({JWKS_URL: answer(200, jwks)})
    keys.STAGE.run(run)
    assert run.jwks == jwks
    assert results(run)["JWKS-KEYS"] == (CheckStatus.FAIL, "0 keys, 0 for signing; no signing key (use sig)")


@pytest.mark.parametrize("reply", [answer(500, {"keys": []}), answer(200, {"keys": "none"}), answer(200, [1])])
def test_a_jwks_that_is_not_one_is_not_kept(reply):
    run, _ = keys_run({JWKS_URL: reply})
    keys.STAGE.run(run)
    assert run.jwks is None and results(run)["JWKS-KEYS"][0] is CheckStatus.FAIL


def test_an_unreachable_jwks_fails_with_the_clients_reason():
    run, _ = keys_run({JWKS_URL: NetworkError("timed out after 1 s")})
    keys.STAGE.run(run)
    assert results(run)["JWKS-KEYS"] == (CheckStatus.FAIL, "jwks_uri: timed out after 1 s")


def test_a_plain_http_jwks_uri_is_not_fetched():
    doc = {**GOOD_DOC, "jwks_uri": "http://idp.example/jwks"}
    run, script = keys_run({}, doc)
    keys.STAGE.run(run)
    assert script.asked == []
    assert results(run)["JWKS-KEYS"] == (CheckStatus.FAIL,
                                         "jwks_uri is not https:// (not fetched; see DISCOVERY-HTTPS)")


@pytest.mark.parametrize(("doc", "why"), [
    (None, "no discovery document (see DISCOVERY-FETCH)"),
    ({"issuer": "https://idp.example"}, "the discovery document has no jwks_uri"),
    ({"jwks_uri": ""}, "the discovery document has no jwks_uri"),
    ({"jwks_uri": ["https://idp.example/jwks"]}, "the discovery document has no jwks_uri"),
])
def test_without_a_jwks_uri_the_keys_are_skipped(doc, why):
    run, script = scripted_run({})
    run.discovery = doc
    keys.STAGE.run(run)
    assert script.asked == [] and results(run) == {"JWKS-KEYS": (CheckStatus.SKIP, why)}
    assert run.results["JWKS-KEYS"].for_lack_of_input is False


# -- API ------------------------------------------------------------------------------------------------------------


def api_run(answers: Mapping[str, Response | Exception], *, token: str | None = "opaque-access-token-1",
            sub: str | None = "fpb-customer-0042", oidc: bool = True) -> tuple[Run, Script]:
    run, script = scripted_run(answers)
    run.access_token, run.id_sub, run.oidc = token, sub, oidc
    return run, script


class ByAuthorization(Script):
    """The API's answers by the Authorization header: the real token, none, or any other (tampered)."""

    def __init__(self, good: Response, none: Response, bad: Response) -> None:
        super().__init__({})
        self.good, self.none, self.bad = good, none, bad

    def __call__(self, url: str, headers: dict[str, str] | None = None) -> Response:
        self.asked.append((url, headers))
        auth = (headers or {}).get("Authorization")
        return self.none if auth is None else self.good if auth == "Bearer opaque-access-token-1" else self.bad


def run_api(good: Response, none: Response | None = None, bad: Response | None = None,
            **kwargs: object) -> tuple[dict[str, tuple[CheckStatus, str]], Run, ByAuthorization]:
    run, _ = api_run({}, **kwargs)  # type: ignore[arg-type]
    script = ByAuthorization(good, none or answer(401, DENIED), bad or answer(401, DENIED))
    run.get = script  # type: ignore[method-assign]
    api.STAGE.run(run)
    return results(run), run, script


def test_the_api_answers_the_customer_and_refuses_the_rest():
    found, run, script = run_api(answer(200, {"customerId": "fpb-customer-0042"}))
    assert found == {
        "API-CUSTOMERS-CURRENT": (CheckStatus.PASS, "HTTP 200, Plaid's Customer schema; customerId has 17 characters, "
                                                    "equal to the id_token sub"),
        "API-REJECTS-NO-TOKEN": (CheckStatus.PASS, "no token: HTTP 401, code 602"),
        "API-REJECTS-BAD-TOKEN": (CheckStatus.PASS, "a tampered token (payload changed, signature kept): HTTP 401, "
                                                    "code 602"),
    }
    tampered = script.asked[2][1]
    assert script.asked[0] == (API_URL, {"Authorization": "Bearer opaque-access-token-1"})
    assert script.asked[1] == (API_URL, None)
    assert tampered is not None and tampered["Authorization"].startswith("Bearer ")
    assert tampered["Authorization"] != "Bearer opaque-access-token-1"
    assert tampered["Authorization"].removeprefix("Bearer ") in run.sensitive


def test_a_customer_id_other_than_the_sub_fails():
    found, _, _ = run_api(answer(200, {"customerId": "someone-else-0001"}))
    assert found["API-CUSTOMERS-CURRENT"] == (
        CheckStatus.FAIL, "HTTP 200, Plaid's Customer schema; customerId has 17 characters, but not equal to the "
                          "id_token sub: Plaid would see two different users")


@pytest.mark.parametrize(("oidc", "status"), [(True, CheckStatus.WARN), (False, CheckStatus.PASS)])
def test_without_a_verified_sub_the_customer_id_is_not_compared(oidc, status):
    found, _, _ = run_api(answer(200, {"customerId": "fpb-customer-0042"}), sub=None, oidc=oidc)
    assert found["API-CUSTOMERS-CURRENT"] == (
        status, "HTTP 200, Plaid's Customer schema; customerId has 17 characters; no verified id_token sub to "
                "compare with")


@pytest.mark.parametrize(("good", "expected"), [
    (answer(403, {"message": "Forbidden"}), (CheckStatus.WARN, f"with the access token: {api.WAF_BLOCKED}")),
    (answer(500, {}), (CheckStatus.FAIL, "HTTP 500 with the access token; expected 200")),
    (answer(201, {"customerId": "fpb-customer-0042"}), (CheckStatus.FAIL,
                                                        "HTTP 201 with the access token; expected 200")),
    (answer(200, b"<html>", "text/html"), (CheckStatus.FAIL, "HTTP 200, text/html: the body is not JSON")),
    (answer(200, b"{", ""), (CheckStatus.FAIL, "HTTP 200, no Content-Type: the body is not JSON")),
    (answer(200, {"customerId": 42}), (CheckStatus.FAIL, "HTTP 200 but not Plaid's Customer schema: customerId is "
                                                         "not a JSON string")),
    (answer(200, {"customerId": "fpb-customer-0042"}, "text/plain"),
     (CheckStatus.FAIL, "HTTP 200 but not Plaid's Customer schema: Content-Type is text/plain, not application/json")),
    (answer(200, {"customerId": "fpb-customer-0042"}, ""),
     (CheckStatus.FAIL, "HTTP 200 but not Plaid's Customer schema: Content-Type is absent, not application/json")),
    (answer(200, {}, "text/plain"), (CheckStatus.FAIL, "HTTP 200 but not Plaid's Customer schema: body has no "
                                                       "customerId; Content-Type is text/plain, not application/json")),
])
def test_the_customers_answer_is_judged(good, expected):
    found, _, _ = run_api(good)
    assert found["API-CUSTOMERS-CURRENT"] == expected


@pytest.mark.parametrize(("reply", "expected"), [
    (answer(401, {"code": "602"}), (CheckStatus.PASS, "no token: HTTP 401, code 602")),
    (answer(401, {"code": 603}), (CheckStatus.FAIL, "no token: HTTP 401, code 603; expected 401 with code 602")),
    (answer(401, {}), (CheckStatus.FAIL, "no token: HTTP 401, no FDX code; expected 401 with code 602")),
    (answer(401, b"denied", "text/plain"), (CheckStatus.FAIL, "no token: HTTP 401, no FDX code; expected 401 with "
                                                              "code 602")),
    (answer(401, {"code": True}), (CheckStatus.FAIL, "no token: HTTP 401, code true; expected 401 with code 602")),
    (answer(401, {"code": [602]}), (CheckStatus.FAIL, "no token: HTTP 401, code (a JSON array); expected 401 with "
                                                      "code 602")),
    (answer(401, {"code": "c" * 30}), (CheckStatus.FAIL, f"no token: HTTP 401, code {'c' * 17}...; expected 401 "
                                                         "with code 602")),
    (answer(200, {"code": 602}), (CheckStatus.FAIL, "no token: HTTP 200, code 602; expected 401 with code 602")),
    (answer(403, {"code": 602}), (CheckStatus.FAIL, "no token: HTTP 403, code 602; expected 401 with code 602")),
    (answer(403, {}), (CheckStatus.WARN, f"no token: {api.WAF_BLOCKED}")),
    (answer(403, {"code": 603}), (CheckStatus.WARN, f"no token: {api.WAF_BLOCKED}")),
])
def test_the_refusal_without_a_token_is_judged(reply, expected):
    found, _, _ = run_api(answer(200, {"customerId": "fpb-customer-0042"}), none=reply)
    assert found["API-REJECTS-NO-TOKEN"] == expected


def test_an_unreachable_api_fails_each_check_with_the_clients_reason():
    run, _ = api_run({API_URL: NetworkError("connection reset")})
    api.STAGE.run(run)
    assert {k: v for k, v in results(run).items()} == dict.fromkeys(
        ("API-CUSTOMERS-CURRENT", "API-REJECTS-NO-TOKEN", "API-REJECTS-BAD-TOKEN"),
        (CheckStatus.FAIL, "connection reset"))


@pytest.mark.parametrize("login_requested", [False, True])
def test_without_an_access_token_only_the_refusal_without_a_token_runs(login_requested):
    run, script = api_run({API_URL: answer(401, DENIED)}, token=None)
    if login_requested:
        run.opts = Options(**{**vars(run.opts), "client_id": "c", "secret": "s" * 32})
    api.STAGE.run(run)
    skip = (CheckStatus.SKIP, "no access token (the login did not run or failed; see TOKEN-CLIENT-AUTH)")
    assert results(run) == {"API-CUSTOMERS-CURRENT": skip, "API-REJECTS-NO-TOKEN":
                            (CheckStatus.PASS, "no token: HTTP 401, code 602"), "API-REJECTS-BAD-TOKEN": skip}
    assert run.results["API-CUSTOMERS-CURRENT"].for_lack_of_input is (not login_requested)
    assert script.asked == [(API_URL, None)]


def test_without_a_customers_url_the_api_stage_is_skipped_for_lack_of_input():
    run, script = scripted_run({}, customers_url=None)
    api.STAGE.run(run)
    assert script.asked == []
    assert {(r.status, r.detail, r.for_lack_of_input) for r in run.results.values()} == {
        (CheckStatus.SKIP, "no --customers-url", True)}
