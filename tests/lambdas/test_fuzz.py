"""Property-based fuzzing of events and tokens: no unhandled exception, only the documented statuses."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plaid_contract
from lambdas.customers_current import handler as lambda_handler
from lambdas.customers_current import verifier
from tests.lambdas.idp import token

ALLOWED = {200, 401, 404, 405, 500, 503}
text = st.text(max_size=200)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | text,
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(text, c, max_size=4), max_leaves=12)
headers = st.one_of(st.none(), st.dictionaries(st.sampled_from(["Authorization", "authorization", "X-Request-ID", "x"]),
                                                st.one_of(text, st.integers(), st.none()), max_size=3))
events = st.fixed_dictionaries(
    {},
    optional={
        "httpMethod": st.one_of(st.sampled_from(["GET", "POST", "HEAD"]), text, st.none(), st.integers()),
        "path": st.one_of(st.just("/fdx/v6/customers/current"), text, st.none(), st.integers()),
        "resource": st.one_of(text, st.none()),
        "headers": headers,
        "requestContext": st.one_of(json_values, st.fixed_dictionaries({"requestId": json_values})),
        "body": json_values,
    },
)


_HANDLER_SOURCE = Path(lambda_handler.__file__).read_text() + Path(verifier.__file__).read_text()
_CONTRACT_SOURCE = Path(plaid_contract.__file__).read_text()


def check(resp: dict) -> None:
    assert resp["statusCode"] in ALLOWED
    body = json.loads(resp["body"])
    assert isinstance(body, dict) and None not in body.values()
    assert "Traceback" not in resp["body"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events)
def test_arbitrary_events(idp, ev):
    check(lambda_handler.handler(ev, None))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(text, st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                     st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                                      max_size=60), min_size=3, max_size=3).map(".".join)))
def test_arbitrary_bearer_values(idp, raw):
    ev = {"httpMethod": "GET", "path": "/fdx/v6/customers/current", "headers": {"Authorization": f"Bearer {raw}"}}
    resp = lambda_handler.handler(ev, None)
    check(resp)
    assert resp["statusCode"] in {401, 503}
    # Never echoes the token: the body is the FDX error, whose debugMessage is one of the handler's fixed
    # reasons, a string literal of its source. (A plain "raw not in body" fails whenever hypothesis draws a
    # string the body always holds, such as "debugMessage": it mines the code's own literals.)
    body = json.loads(resp["body"])
    assert set(body) <= {"code", "message", "debugMessage"}
    assert f'"{body.get("debugMessage", "")}"' in _HANDLER_SOURCE
    assert str(body["message"]) in _HANDLER_SOURCE + _CONTRACT_SOURCE


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.dictionaries(st.sampled_from(["sub", "iss", "aud", "exp", "iat", "nbf", "scope"]), json_values,
                              max_size=7))
def test_arbitrary_claims_in_a_validly_signed_token(idp, rsa, claims):
    try:
        tok = token(rsa, claims=claims)
    except (TypeError, ValueError):
        return  # PyJWT refuses to encode it; nothing to send
    ev = {"httpMethod": "GET", "path": "/fdx/v6/customers/current", "headers": {"Authorization": f"Bearer {tok}"}}
    resp = lambda_handler.handler(ev, None)
    check(resp)
    assert resp["statusCode"] in {200, 401, 500}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.dictionaries(st.sampled_from(["exp", "iat", "nbf"]),
                              st.one_of(st.integers(0, 2**33).map(str), st.booleans(), st.none(), text,
                                        st.floats(allow_nan=True, allow_infinity=True)), min_size=1, max_size=3))
def test_numeric_dates_that_are_not_numbers_never_pass(idp, rsa, claims):
    """RFC 7519 NumericDate: a token with a string, boolean, null or non-finite exp/iat/nbf is never accepted."""
    import math

    if all(isinstance(v, float) and math.isfinite(v) for v in claims.values()):
        claims = {**claims, "exp": "9999999999"}  # keep at least one non-number
    ev = {"httpMethod": "GET", "path": "/fdx/v6/customers/current",
          "headers": {"Authorization": f"Bearer {token(rsa, claims=claims)}"}}
    resp = lambda_handler.handler(ev, None)
    check(resp)
    assert resp["statusCode"] == 401


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sub=st.text(max_size=40))
def test_customer_id_is_printable_or_not_returned(idp, rsa, sub):
    ev = {"httpMethod": "GET", "path": "/fdx/v6/customers/current",
          "headers": {"Authorization": f"Bearer {token(rsa, claims={'sub': sub})}"}}
    resp = lambda_handler.handler(ev, None)
    check(resp)
    if resp["statusCode"] == 200:
        assert json.loads(resp["body"]) == {"customerId": sub} and sub.isprintable() and len(sub) >= 7
    else:
        assert resp["statusCode"] in {401, 500}  # 401: a sub equal to Plaid's client id is a client token


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(500, 2000), opener=st.sampled_from(["[", '{"a":', '{"alg":[']))
def test_deeply_nested_headers_are_401(idp, depth, opener):
    closer = {"[": "]", '{"a":': "}", '{"alg":[': "]}"}[opener]
    header = (opener * depth + "0" + closer * depth).encode()
    raw = ".".join(base64.urlsafe_b64encode(x).rstrip(b"=").decode() for x in (header, b"{}", b"s"))
    resp = lambda_handler.handler({"httpMethod": "GET", "path": "/fdx/v6/customers/current",
                                   "headers": {"Authorization": f"Bearer {raw}"}}, None)
    check(resp)
    assert resp["statusCode"] == 401
