"""The scope adapter (lambdas/scope_adapter/handler.py) at the edges `make mutation` found unguarded (issue #22,
round 2): every answer exactly (status, headers, body, base64 flag), routes with a trailing slash, the
query-string edges (printable-ASCII bounds, a ``scope`` without ``=``, a ``=`` inside the value, parameters
that are not strings), the User-Agent of the discovery fetch, and what each request and failure logs.

Cognito-like discovery documents are served on 127.0.0.1 by the same server as test_scope_adapter.py.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.scope_adapter import handler as adapter
from lambdas.scope_adapter import names
from tests.lambdas.idp import captured_logs, recording_server
from tests.lambdas.test_scope_adapter import AUTHORIZE, PUBLIC, Upstream, cognito_metadata, env, get, upstream_server

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


@pytest.fixture
def cognito() -> Iterator[Upstream]:
    with upstream_server() as up:
        adapter.configure(env(up.url))
        yield up


@pytest.fixture
def records() -> Iterator[io.StringIO]:
    """Where the adapter's Powertools Logger writes (one JSON object a line) during the test."""
    with captured_logs(adapter.logger) as buffer:
        yield buffer


def read(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def error(status: int, code: str, description: str, **headers: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {**JSON_HEADERS, **headers},
            "body": json.dumps({"error": code, "error_description": description}, separators=(",", ":")),
            "isBase64Encoded": False}


# -- every answer, exactly -----------------------------------------------------------------------------------


def test_an_unknown_path_is_exactly_a_json_404(cognito: Upstream):
    assert get("/nope") == error(404, "not_found", "no such resource")


def test_another_method_is_exactly_a_json_405_naming_get(cognito: Upstream):
    assert get(names.AUTHORIZE_PATH, method="POST") == error(405, "method_not_allowed", "use GET", Allow="GET")


def test_a_misconfigured_adapter_answers_exactly_a_json_500():
    adapter.configure({})
    assert get(names.DISCOVERY_PATH) == error(500, "server_error", "service misconfigured")


def test_a_query_a_url_cannot_carry_is_exactly_a_json_400(cognito: Upstream):
    assert get(names.AUTHORIZE_PATH, raw="a=b c") == error(
        400, "invalid_request", "the query string has characters a URL cannot carry")


def test_an_unavailable_upstream_is_exactly_a_json_503_with_retry_after(cognito: Upstream):
    cognito.mode = "down"
    assert get(names.DISCOVERY_PATH) == error(503, "temporarily_unavailable", "identity provider metadata unavailable",
                                              **{"Retry-After": "5"})


def test_an_unexpected_failure_is_exactly_a_json_500(cognito: Upstream, monkeypatch: pytest.MonkeyPatch):
    def broken(event: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(adapter, "_handle", broken)
    assert get(names.DISCOVERY_PATH) == error(500, "server_error", "internal error")


def test_discovery_is_exactly_compact_json_cacheable_for_five_minutes(cognito: Upstream):
    resp = get(names.DISCOVERY_PATH)
    doc = {**cognito_metadata(cognito.url), "authorization_endpoint": f"{PUBLIC}/oauth2/authorize",
           "scopes_supported": ["openid", "email", "phone", "profile", "offline_access"]}
    assert resp == {"statusCode": 200, "isBase64Encoded": False, "body": json.dumps(doc, separators=(",", ":")),
                    "headers": {"Content-Type": "application/json", "Cache-Control": "public, max-age=300"}}


def test_authorize_is_exactly_a_302_without_body_cache_or_referrer(cognito: Upstream):
    assert get(names.AUTHORIZE_PATH, raw="scope=openid%20offline_access&state=s") == {
        "statusCode": 302, "isBase64Encoded": False, "body": "",
        "headers": {"Location": f"{AUTHORIZE}?scope=openid&state=s", "Cache-Control": "no-store",
                    "Referrer-Policy": "no-referrer"}}


# -- routes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [names.AUTHORIZE_PATH + "/", names.AUTHORIZE_PATH + "//"])
def test_a_trailing_slash_reaches_the_same_route(cognito: Upstream, path: str):
    resp = adapter.handler({"path": path, "httpMethod": "GET", "rawQueryString": "state=s"}, None)
    assert resp["statusCode"] == 302 and resp["headers"]["Location"] == f"{AUTHORIZE}?state=s"


@pytest.mark.parametrize("path", [None, 7, ["/oauth2/authorize"], names.AUTHORIZE_PATH + "X",
                                  names.AUTHORIZE_PATH + " "])
def test_a_path_that_is_not_text_or_not_a_route_is_a_404(cognito: Upstream, path: Any):
    assert adapter.handler({"path": path, "httpMethod": "GET"}, None) == error(404, "not_found", "no such resource")


# -- the query string ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["a=!", "a=~", "a=%22!~"])
def test_printable_ascii_from_bang_to_tilde_is_carried(cognito: Upstream, raw: str):
    assert get(names.AUTHORIZE_PATH, raw=raw)["headers"]["Location"] == f"{AUTHORIZE}?{raw}"


@pytest.mark.parametrize("raw", ["a=\x20", "a=\x7f", "a=\x1f", "a=#b", "a=\u00e9"])
def test_space_del_controls_hash_and_non_ascii_are_refused(cognito: Upstream, raw: str):
    assert get(names.AUTHORIZE_PATH, raw=raw)["statusCode"] == 400


def test_a_scope_parameter_without_a_value_is_passed_as_is(cognito: Upstream):
    assert adapter.rewrite_raw_query("scope&state=1") == "scope&state=1"


def test_an_equals_sign_inside_the_scope_value_stays_in_the_value():
    assert adapter.rewrite_raw_query("scope=offline_access+a=b&x=1") == "scope=a=b&x=1"


def test_rest_parameters_that_are_not_text_are_skipped_not_the_rest():
    params: dict[Any, Any] = {1: ["x"], "a": [None, "1", 2, "2"], "b": "single", "c/d": ["e/f"]}
    assert adapter.rebuild_query(params) == "a=1&a=2&b=single&c%2Fd=e%2Ff"


def test_rest_single_value_parameters_are_used_without_the_multi_value_map(cognito: Upstream):
    ev = {"path": names.AUTHORIZE_PATH, "httpMethod": "GET",
          "queryStringParameters": {"scope": "openid offline_access", "state": "s"}}
    assert adapter.handler(ev, None)["headers"]["Location"] == f"{AUTHORIZE}?scope=openid&state=s"


# -- the discovery fetch ---------------------------------------------------------------------------------------


def test_the_discovery_fetch_names_the_adapter_as_its_user_agent():
    with recording_server(b"{}") as (base, seen):
        assert adapter.fetch_json(f"{base}/x") == {}
    assert seen == [adapter.USER_AGENT]


# -- what is logged --------------------------------------------------------------------------------------------


def test_each_request_logs_its_outcome_status_path_and_request_id(cognito: Upstream, records):
    get("/nope")
    adapter.handler({"path": 7, "httpMethod": "GET", "requestContext": "not a map"}, None)
    lines = [r for r in read(records) if r["message"] == "scope-adapter"]
    # Powertools leaves out an extra whose value is None.
    assert [(r["outcome"], r["status"], r.get("path"), r.get("apigw_request_id")) for r in lines] == [
        ("not_found", 404, "/nope", "r-1"), ("not_found", 404, None, None)]


@pytest.mark.parametrize(("call", "outcome"), [
    (lambda: get(names.AUTHORIZE_PATH, raw="a b"), "bad_query"),
    (lambda: get(names.AUTHORIZE_PATH, raw="a=b"), "redirect"),
    (lambda: get(names.DISCOVERY_PATH), "discovery"),
    (lambda: get(names.AUTHORIZE_PATH, method="PUT"), "method_not_allowed"),
    (lambda: get("/nope"), "not_found"),
])
def test_each_outcome_is_logged_by_name(cognito: Upstream, records, call, outcome):
    call()
    assert [r["outcome"] for r in read(records) if r["message"] == "scope-adapter"] == [outcome]


def test_an_unexpected_failure_logs_the_error_outcome(cognito: Upstream, records, monkeypatch: pytest.MonkeyPatch):
    def broken(event: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(adapter, "_handle", broken)
    get(names.DISCOVERY_PATH)
    logged = read(records)
    assert [r["message"] for r in logged] == ["unhandled error", "scope-adapter"]
    assert logged[1]["outcome"] == "error" and logged[1]["status"] == 500


def test_a_misconfiguration_is_logged_once_with_what_to_fix(records):
    adapter.configure({})
    get(names.DISCOVERY_PATH)
    logged = read(records)
    assert logged[0]["message"] == "invalid configuration: every request will get a 500 until it is fixed"
    assert names.UPSTREAM_ISSUER in logged[0]["config_error"]
    assert logged[1]["outcome"] == "misconfigured"


def reasons(records: io.StringIO) -> list[str]:
    return [r["reason"] for r in read(records) if r["message"] == "Cognito discovery unavailable"]


@pytest.mark.parametrize(("mode", "reason"), [
    ("down", "HTTP 500"), ("wrong-issuer", "issuer differs from UPSTREAM_ISSUER"),
    ("not-json", "not JSON (JSONDecodeError)"), ("not-utf8", "not JSON (UnicodeDecodeError)"),
])
def test_each_discovery_failure_logs_why(cognito: Upstream, records, monkeypatch: pytest.MonkeyPatch, mode: str,
                                         reason: str):
    monkeypatch.setattr(adapter, "FAILURE_COOLDOWN_SECONDS", 0.0)
    cognito.mode = mode
    get(names.DISCOVERY_PATH)
    assert reasons(records) == [reason]


def test_a_document_that_is_not_an_object_logs_why(cognito: Upstream, records, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(adapter, "fetch_json", lambda *a, **k: ["not", "an", "object"])
    get(names.DISCOVERY_PATH)
    assert reasons(records) == ["not a JSON object"]


def test_a_failure_while_adapting_logs_its_type(cognito: Upstream, records, monkeypatch: pytest.MonkeyPatch):
    def broken(*a: Any) -> Any:
        raise KeyError("x")

    monkeypatch.setattr(adapter, "adapted_metadata", broken)
    get(names.DISCOVERY_PATH)
    assert reasons(records) == ["unreadable document (KeyError)"]


def test_the_cooldown_logs_why_it_answers_at_once(cognito: Upstream, records):
    cognito.mode = "down"
    get(names.DISCOVERY_PATH)
    get(names.DISCOVERY_PATH)
    assert reasons(records) == ["HTTP 500", "cooling down after a failed fetch"]
    assert [r["outcome"] for r in read(records) if r["message"] == "scope-adapter"] == ["upstream_unavailable"] * 2
    assert cognito.hits == 1
