"""DISCOVERY-*'s findings, exactly (status and detail), judged by lambdas/oidc_checks/discovery.py without a network.

tests/readiness/test_check.py proves the same checks through `plaid-ready check` against real providers; these run
in milliseconds, so the `check` mutation group (tools/mutation.toml, issue #22) can run them once per mutant. Each
case changes one thing in a document that otherwise passes.
"""

from __future__ import annotations

import pytest

from lambdas.oidc_checks import discovery
from lambdas.oidc_checks.model import Finding, Status

OIDC_URL = "https://idp.example/.well-known/openid-configuration"
OAUTH_URL = "https://idp.example/.well-known/oauth-authorization-server"
GOOD = {"issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "https://idp.example/token", "userinfo_endpoint": "https://idp.example/userinfo",
        "jwks_uri": "https://idp.example/jwks", "response_types_supported": ["code"],
        "scopes_supported": ["openid", "offline_access", "email"]}


def fail(detail: str) -> Finding:
    return Finding(Status.FAIL, detail)


def ok(detail: str) -> Finding:
    return Finding(Status.PASS, detail)


@pytest.mark.parametrize(("status", "media_type", "doc", "why", "expected"), [
    (200, "application/json", {"a": 1, "b": 2}, "", ok("HTTP 200, application/json, 2 fields")),
    (200, "", {"a": 1}, "", fail("HTTP 200, no Content-Type, 1 fields: the Content-Type must be application/json")),
    (200, "text/html", {"a": 1}, "", fail("HTTP 200, text/html, 1 fields: the Content-Type must be application/json")),
    (200, "application/json", None, "the body is a JSON array",
     fail("HTTP 200, application/json: the body is a JSON array")),
    (200, "", None, "not JSON", fail("HTTP 200, no Content-Type: not JSON")),
    # A document with any other status is a failure even when its body is a JSON object.
    (404, "application/json", {"a": 1}, "", fail("HTTP 404, application/json: expected 200")),
    (500, "", None, "not JSON", fail("HTTP 500, no Content-Type: expected 200")),
    (200, "a" * 70, {"a": 1}, "", fail(f"HTTP 200, {'a' * 57}..., 1 fields: the Content-Type must be "
                                       "application/json")),
    (302, "b" * 70, None, "x", fail(f"HTTP 302, {'b' * 57}...: expected 200")),
])
def test_the_fetch_passes_only_a_json_object_served_200_as_application_json(status, media_type, doc, why, expected):
    assert discovery.answer(status, media_type, doc, why) == expected


def test_an_unreachable_document_names_the_validators_message():
    assert discovery.unreachable("connection refused") == fail(
        "connection refused (Plaid's Validator reports this as 'Error getting OIDC configuration': check DNS, "
        "TLS and that no firewall blocks Plaid)")


@pytest.mark.parametrize(("url", "oidc"), [
    (OIDC_URL, True), (OIDC_URL + "?x=1", True), (OAUTH_URL, False),
    ("https://idp.example/.well-known/openid-configuration/x", False),
])
def test_is_oidc_reads_the_path_only(url, oidc):
    assert discovery.is_oidc(url) is oidc


def test_every_endpoint_https_passes_and_counts_them():
    doc = {**GOOD, "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.idp.example/token"}, "note": "http://x"}
    assert discovery.https(doc) == ok("6 URLs, all https://")


def test_plain_http_endpoints_are_named_in_order_with_their_values():
    doc = {**GOOD, "issuer": "http://idp.example", "jwks_uri": 5, "end_session_endpoint": None,
           "mtls_endpoint_aliases": {"token_endpoint": "http://mtls.idp.example/token"}}
    assert discovery.https(doc) == fail(
        "not https://: end_session_endpoint = null, issuer = http://idp.example, jwks_uri = 5, "
        "mtls_endpoint_aliases.token_endpoint = http://mtls.idp.example/token")


def test_at_most_ten_plain_http_endpoints_are_named():
    doc = {f"e{i:02d}_endpoint": "http://x" for i in range(12)}
    found = discovery.https(doc)
    assert found.status is Status.FAIL and "e09_endpoint" in found.detail and "e10_endpoint" not in found.detail


def test_mtls_aliases_that_are_not_an_object_are_ignored():
    assert discovery.https({"issuer": "https://i", "mtls_endpoint_aliases": ["http://x"]}) == ok(
        "1 URLs, all https://")


def test_oidc_fields_present_pass_and_list_what_was_required():
    assert discovery.fields(GOOD, OIDC_URL) == ok(
        "OIDC: issuer, authorization_endpoint, token_endpoint, response_types_supported, userinfo_endpoint, "
        "jwks_uri present; response_types_supported includes code")


def test_oauth_fields_need_no_userinfo_nor_jwks():
    doc = {k: v for k, v in GOOD.items() if k not in ("userinfo_endpoint", "jwks_uri")}
    assert discovery.fields(doc, OAUTH_URL) == ok(
        "OAuth 2.0: issuer, authorization_endpoint, token_endpoint, response_types_supported present; "
        "response_types_supported includes code")


def test_every_missing_field_is_named():
    assert discovery.fields({"issuer": "https://idp.example"}, OIDC_URL) == fail(
        "missing authorization_endpoint; missing token_endpoint; missing response_types_supported; "
        "missing userinfo_endpoint; missing jwks_uri")


@pytest.mark.parametrize("types", [["token"], "code", None, 3])
def test_response_types_without_code_fail(types):
    doc = {**GOOD, "response_types_supported": types}
    expected = ("missing response_types_supported" if not types
                else "response_types_supported does not include code")
    assert discovery.fields(doc, OIDC_URL) == fail(expected)


def test_an_issuer_that_is_not_text_fails():
    assert discovery.fields({**GOOD, "issuer": 7}, OIDC_URL) == fail("issuer is not a string")
    assert discovery.fields({**GOOD, "issuer": ["https://idp.example"]}, OIDC_URL) == fail("issuer is not a string")


def test_problems_are_all_named_together():
    doc = {**GOOD, "issuer": 7, "response_types_supported": ["token"]}
    del doc["jwks_uri"]
    assert discovery.fields(doc, OIDC_URL) == fail(
        "missing jwks_uri; response_types_supported does not include code; issuer is not a string")


@pytest.mark.parametrize("issuer", ["https://idp.example", "https://idp.example/"])
def test_the_oidc_issuer_is_where_the_document_was_fetched(issuer):
    assert discovery.fields({**GOOD, "issuer": issuer}, OIDC_URL).status is Status.PASS
    assert discovery.fields({**GOOD, "issuer": issuer}, OIDC_URL + "/").status is Status.PASS


def test_an_oidc_issuer_elsewhere_warns():
    assert discovery.fields({**GOOD, "issuer": "https://other.example"}, OIDC_URL) == Finding(
        Status.WARN, "OIDC fields present; issuer https://other.example is not where the document was fetched "
                     "(OIDC Discovery expects <issuer>/.well-known/openid-configuration)")


def test_an_oauth_issuer_is_not_compared_with_the_url():
    doc = {**GOOD, "issuer": "https://other.example"}
    assert discovery.fields(doc, OAUTH_URL).status is Status.PASS


def test_scopes_listing_openid_and_offline_access_pass():
    assert discovery.scopes(GOOD) == ok("scopes_supported includes openid and offline_access")


@pytest.mark.parametrize(("listed", "expected"), [
    (["openid"], "scopes_supported lacks offline_access (lists 1 scope)"),
    (["email", "profile"], "scopes_supported lacks openid, offline_access (lists 2 scopes)"),
    ([], "scopes_supported lacks openid, offline_access (lists 0 scopes)"),
])
def test_missing_scopes_are_named(listed, expected):
    assert discovery.scopes({"scopes_supported": listed}) == fail(expected)


@pytest.mark.parametrize("doc", [{}, {"scopes_supported": "openid offline_access"}])
def test_scopes_absent_or_not_a_list_fail(doc):
    assert discovery.scopes(doc) == fail(
        "scopes_supported is absent; Plaid needs it to list openid and offline_access")


@pytest.mark.parametrize(("methods", "expected"), [
    (None, ok("absent: Plaid uses client_secret_basic by default")),
    (["private_key_jwt", "client_secret_basic"], ok("includes client_secret_basic")),
    (["client_secret_post", 5], fail("lists client_secret_post, 5; Plaid authenticates with client_secret_basic")),
    ([], fail("lists ; Plaid authenticates with client_secret_basic")),
    ("client_secret_basic", fail("lists not a list; Plaid authenticates with client_secret_basic")),
    (["m" * 50], fail(f"lists {'m' * 37}...; Plaid authenticates with client_secret_basic")),
])
def test_auth_method(methods, expected):
    doc = {} if methods is None else {"token_endpoint_auth_methods_supported": methods}
    assert discovery.auth_method(doc) == expected


def test_auth_method_names_at_most_ten():
    methods = [f"m{i:02d}" for i in range(12)]
    found = discovery.auth_method({"token_endpoint_auth_methods_supported": methods})
    assert found == fail(f"lists {', '.join(methods[:10])}; Plaid authenticates with client_secret_basic")


def test_a_missing_issuer_is_named_once():
    doc = {k: v for k, v in GOOD.items() if k != "issuer"}
    assert discovery.fields(doc, OIDC_URL) == fail("missing issuer")


def test_an_issuer_ending_in_x_is_compared_as_it_is():
    issuer = "https://idp.example/tenantX"
    assert discovery.fields({**GOOD, "issuer": issuer}, issuer + "/.well-known/openid-configuration").status \
        is Status.PASS


def test_a_long_endpoint_name_is_cut_at_60_characters():
    name = "a" * 70 + "_endpoint"
    assert discovery.https({name: "http://x"}) == fail(f"not https://: {'a' * 57}... = http://x")
