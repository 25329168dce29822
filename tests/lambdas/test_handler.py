"""GET /customers/current for real: local keys, a JWKS over HTTP on 127.0.0.1, every accept/reject case."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import jsonschema
import jwt
import pytest

import plaid_contract as plaid
from lambdas.customers_current import handler as lambda_handler
from tests.lambdas.conftest import customer_schema, load_json_schema, spec_versions
from tests.lambdas.idp import AUDIENCE, CLIENT_ID, SUBJECT, env, event, jwks_server, rsa_key, token

UNAUTHORIZED = {"code": 602, "message": "Customer not authorized"}


def call(ev):
    resp = lambda_handler.handler(ev, None)
    body = json.loads(resp["body"])
    assert resp["headers"]["Content-Type"] == "application/json"
    assert resp["headers"]["Cache-Control"] == "no-store"
    assert None not in body.values() and "Traceback" not in resp["body"]
    return resp, body


def assert_unauthorized(resp, body, category):
    assert resp["statusCode"] == 401
    assert resp["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert body == {**UNAUTHORIZED, "debugMessage": category}


def test_valid_rs256_token(idp, rsa):
    resp, body = call(event(token(rsa)))
    assert resp["statusCode"] == 200 and body == {"customerId": SUBJECT}


def test_valid_es256_token(idp, ec):
    resp, body = call(event(token(ec)))
    assert resp["statusCode"] == 200 and body == {"customerId": SUBJECT}


def test_prefix_and_custom_claim(rsa):
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url, CONSISTENCY_KEY_CLAIM="https://api.fpb.example/ck",
                                     CONSISTENCY_KEY_PREFIX="fpb-"))
        resp, body = call(event(token(rsa, claims={"https://api.fpb.example/ck": "C0012345"})))
    assert resp["statusCode"] == 200 and body == {"customerId": "fpb-C0012345"}


def test_response_validates_against_every_plaid_spec(idp, rsa):
    versions = spec_versions()
    if not versions:
        pytest.skip("../shared/plaid-spec is absent (a user's clone has none); CI validates against it")
    _, body = call(event(token(rsa)))
    for path in versions:
        jsonschema.validate(body, customer_schema(path))
    jsonschema.validate(body, load_json_schema("customers-current-response.schema.json"))
    assert {p.parent.name for p in versions} >= {"4.6", "5.3", "6.4"}


@pytest.mark.parametrize(("make", "category"), [
    (lambda k: token(k, claims={"exp": int(time.time()) - 120}), "token expired"),
    (lambda k: token(k, claims={"nbf": int(time.time()) + 600}), "token not yet valid"),
    (lambda k: token(k, claims={"iat": int(time.time()) + 600}), "token not yet valid"),
    (lambda k: token(k, claims={"iss": "https://evil.example/"}), "wrong issuer"),
    (lambda k: token(k, claims={"aud": "https://other.example/api"}), "wrong audience"),
    (lambda k: token(k, drop=("exp",)), "missing claim"),
    (lambda k: token(k, drop=("iat",)), "missing claim"),
    (lambda k: token(k, drop=("iss",)), "missing claim"),
    (lambda k: token(k, drop=("aud",)), "missing claim"),
    (lambda k: token(k, headers={"kid": None}), "missing key id"),
    (lambda k: token(rsa_key(k.kid)), "invalid signature"),  # same kid, another key: wrong signature
    (lambda k: token(k)[:-4] + "AAAA", "invalid signature"),
    (lambda k: "not-a-jwt", "malformed token"),
    (lambda k: "a.b.c", "malformed token"),
    (lambda k: token(k, claims={"pad": "x" * 9000}), "token too large"),
    (lambda k: token(k, headers={"jku": "https://evil.example/jwks"}), "header-supplied key"),
    (lambda k: token(k, headers={"x5u": "https://evil.example/cert"}), "header-supplied key"),
    (lambda k: token(k, headers={"crit": ["exp-ext"], "exp-ext": 1}), "malformed token"),
    (lambda k: token(k, claims={"sub": 1234567890}), "invalid claim type"),
    # RFC 7519 NumericDate: a JSON number; PyJWT alone accepts numeric strings (int("...")) and booleans.
    (lambda k: token(k, claims={"exp": str(int(time.time()) + 600)}), "invalid claim type"),
    (lambda k: token(k, claims={"iat": str(int(time.time()))}), "invalid claim type"),
    (lambda k: token(k, claims={"nbf": str(int(time.time()) - 60)}), "invalid claim type"),
    (lambda k: token(k, claims={"nbf": False}), "invalid claim type"),
    (lambda k: token(k, claims={"exp": float("inf")}), "invalid claim type"),
    (lambda k: token(k, drop=("client_id",)), "missing claim"),
])
def test_rejected_tokens(idp, rsa, make, category):
    resp, body = call(event(make(rsa)))
    assert_unauthorized(resp, body, category)


def test_expired_token_within_leeway_is_accepted(idp, rsa):
    resp, _ = call(event(token(rsa, claims={"exp": int(time.time()) - 5})))
    assert resp["statusCode"] == 200


def _unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{enc(header)}.{enc(payload)}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_alg_none_is_refused(idp, rsa):
    now = int(time.time())
    forged = _unsigned({"alg": "none", "kid": rsa.kid}, {"iss": "x", "sub": SUBJECT, "exp": now + 60, "iat": now})
    assert_unauthorized(*call(event(forged)), "algorithm not allowed")


def test_hs256_signed_with_the_public_key_is_refused(idp, rsa):
    from cryptography.hazmat.primitives import serialization

    pem = rsa.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac

    now = int(time.time())
    header, payload = {"alg": "HS256", "kid": rsa.kid, "typ": "JWT"}, {
        "iss": "https://idp.test.example/", "aud": AUDIENCE, "sub": SUBJECT, "exp": now + 60, "iat": now}
    unsigned = _unsigned(header, payload).rsplit(".", 1)[0]
    sig = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    forged = f"{unsigned}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    assert_unauthorized(*call(event(forged)), "algorithm not allowed")


def test_embedded_jwk_header_is_refused(idp):
    attacker = rsa_key("attacker")
    forged = token(attacker, headers={"jwk": attacker.jwk()})
    assert_unauthorized(*call(event(forged)), "header-supplied key")


def test_algorithm_outside_configuration(rsa):
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_ALGORITHMS="ES256"))
        assert_unauthorized(*call(event(token(rsa))), "algorithm not allowed")


def test_jwk_alg_must_match_token_alg(rsa):
    mismatched = rsa_key("rs384-key")
    mismatched.alg = "RS384"  # the JWK says RS384 ...
    with jwks_server(mismatched) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_ALGORITHMS="RS256,RS384"))
        forged = token(mismatched, alg="RS256")  # ... the token says RS256
        resp, body = call(event(forged))
    assert resp["statusCode"] == 401


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")
def test_keys_for_encryption_and_weak_keys_are_ignored():
    enc_key = rsa_key("enc-key", use="enc")
    weak = rsa_key("weak-key", bits=1024)
    with jwks_server(enc_key, weak, rsa_key("other")) as srv:
        lambda_handler.configure(env(srv.url))
        assert_unauthorized(*call(event(token(enc_key))), "unknown signing key")
        assert_unauthorized(*call(event(token(weak))), "weak signing key")


def test_unknown_kid(idp, rsa):
    stranger = rsa_key("stranger")
    assert_unauthorized(*call(event(token(stranger))), "unknown signing key")


@pytest.mark.parametrize(("headers", "category"), [
    ({}, "missing token"),
    ({"Authorization": ""}, "missing token"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed authorization header"),
    ({"Authorization": "Bearer"}, "malformed authorization header"),
    ({"Authorization": "Bearer a b"}, "malformed authorization header"),
])
def test_bad_authorization_headers(idp, headers, category):
    ev = event(None, headers=headers)
    assert_unauthorized(*call(ev), category)


def test_lowercase_header_names_and_bearer_scheme(idp, rsa):
    ev = event(None, headers={"authorization": f"bearer {token(rsa)}"})
    assert call(ev)[0]["statusCode"] == 200


def test_numeric_dates_may_be_fractional(idp, rsa):
    now = time.time()
    assert call(event(token(rsa, claims={"iat": now - 1.5, "exp": now + 600.25, "nbf": now - 0.5})))[0]["statusCode"] \
        == 200


def test_cognito_style_client_id_check(rsa):
    claims = {"client_id": "cognito-client-1", "token_use": "access"}
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_AUDIENCE="", TOKEN_USE="access",
                                     TOKEN_CLIENT_ID="cognito-client-1"))
        ok = token(rsa, claims=claims, drop=("aud",))
        assert call(event(ok))[0]["statusCode"] == 200
        assert_unauthorized(*call(event(token(rsa, claims={**claims, "client_id": "other"}, drop=("aud",)))),
                            "wrong client")
        id_token = token(rsa, claims={**claims, "token_use": "id", "aud": "cognito-client-1"})
        assert_unauthorized(*call(event(id_token)), "not an access token")
        assert_unauthorized(*call(event(token(rsa, claims=claims, drop=("aud", "token_use")))), "not an access token")
        # Cognito's client-credentials token: sub is the client id, no username.
        m2m = token(rsa, claims={**claims, "sub": "cognito-client-1"}, drop=("aud",))
        assert_unauthorized(*call(event(m2m)), "client credentials token")


def test_token_of_another_client_of_the_tenant_is_refused(idp, rsa):
    """Audience mode (Auth0, Okta): the aud is right, but the token was issued to another application."""
    assert_unauthorized(*call(event(token(rsa, claims={"client_id": "another-app-of-the-bank"}))), "wrong client")
    assert_unauthorized(*call(event(token(rsa, claims={"client_id": [CLIENT_ID]}))), "wrong client")


@pytest.mark.parametrize("claims", [
    {"gty": "client-credentials"},  # Auth0 marks machine-to-machine tokens
    {"gty": ["client-credentials"]},
    {"sub": f"{CLIENT_ID}@clients"},  # Auth0's sub for a client-credentials token
    {"sub": CLIENT_ID},  # Okta and Cognito: sub is the client id
])
def test_client_credentials_token_of_plaids_client_is_refused(idp, rsa, claims):
    assert_unauthorized(*call(event(token(rsa, claims=claims))), "client credentials token")


def test_auth0_default_profile_client_in_azp(rsa):
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_CLIENT_CLAIM="azp"))
        ok = token(rsa, claims={"azp": CLIENT_ID}, drop=("client_id",))
        assert call(event(ok))[0]["statusCode"] == 200
        # The client_id claim does not count when the contract names azp.
        assert_unauthorized(*call(event(token(rsa, claims={"azp": "other-app"}))), "wrong client")


def test_okta_client_in_cid_and_key_in_uid(rsa, logs):
    """Okta: the client in cid; the consistency key in uid; sub is the user's login (an email, PII)."""
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_CLIENT_CLAIM="cid", CONSISTENCY_KEY_CLAIM="uid"))
        claims = {"cid": CLIENT_ID, "uid": "00u1a2b3c4d5e6f7g8h9", "sub": "jane.doe@example.com"}
        resp, body = call(event(token(rsa, claims=claims, drop=("client_id",))))
        assert resp["statusCode"] == 200 and body == {"customerId": "00u1a2b3c4d5e6f7g8h9"}
        assert_unauthorized(*call(event(token(rsa, claims={**claims, "cid": "0oa-other"}, drop=("client_id",)))),
                            "wrong client")
        assert_unauthorized(*call(event(token(rsa, claims={**claims, "sub": CLIENT_ID}, drop=("client_id",)))),
                            "client credentials token")
    out = logs.text()
    assert "jane.doe@example.com" not in out and "00u1a2b3c4d5e6f7g8h9" not in out


def test_deeply_nested_json_header_is_a_401(idp):
    """json.loads raises RecursionError (not ValueError) past ~1,000 levels: never an unhandled 500."""
    nested = "[" * 2000 + "]" * 2000
    forged = _unsigned_raw(nested.encode(), b'{"sub":"x"}')
    assert len(forged) < 8192  # under the size limit: reaches the JSON parser
    assert_unauthorized(*call(event(forged)), "malformed token")
    header = '{"":' * 1100 + "1" + "}" * 1100
    deep_object = _unsigned_raw(header.encode(), b"{}")
    assert len(deep_object) < 8192
    # CPython 3.11 refuses 1,100 nested objects (RecursionError); 3.13's parser (the Lambda's runtime) accepts them,
    # and the header, a JSON object without "alg", is refused for that.
    try:
        json.loads(header)
        expected = "algorithm not allowed"
    except RecursionError:
        expected = "malformed token"
    assert_unauthorized(*call(event(deep_object)), expected)


def _unsigned_raw(header: bytes, payload: bytes) -> str:
    def enc(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{enc(header)}.{enc(payload)}.{enc(b'sig')}"


@pytest.mark.parametrize("value", ["C0012345\n", "C00\x0012345", "C0012345\x1b[2J", "C00\u202e12345",
                                   "C0012\u2028345", "\x7fC0012345"])
def test_consistency_key_with_control_characters_is_a_server_error(idp, rsa, logs, value):
    resp, body = call(event(token(rsa, claims={"sub": value})))
    assert resp["statusCode"] == 500
    assert body == {"code": 500, "message": "Internal server error", "debugMessage": "customer identifier unavailable"}
    lines = logs.json()
    error = next(x for x in lines if x.get("level") == "ERROR")
    assert error["problem"] == "contains control or invisible characters" and error["claim"] == "sub"
    assert next(x for x in lines if x.get("message") == "customers/current")["outcome"] == "bad_key"
    assert value not in json.dumps(lines) and json.dumps(value)[1:-1] not in json.dumps(lines)


@pytest.mark.parametrize("claims", [{"sub": "short"}, {"sub": "x" * 257}])
def test_bad_consistency_key_is_a_server_error(idp, rsa, claims, logs):
    resp, body = call(event(token(rsa, claims=claims)))
    assert resp["statusCode"] == 500
    assert body == {"code": 500, "message": "Internal server error", "debugMessage": "customer identifier unavailable"}
    assert '"level":"ERROR"' in logs.text()


def test_missing_consistency_key_claim(idp, rsa):
    resp, body = call(event(token(rsa, drop=("sub",))))
    assert resp["statusCode"] == 500 and body["code"] == plaid.INTERNAL_SERVER_ERROR.code


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_other_methods_405(idp, rsa, method):
    resp, body = call(event(token(rsa), method=method))
    assert resp["statusCode"] == 405 and resp["headers"]["Allow"] == "GET"
    assert body["code"] == plaid.METHOD_NOT_ALLOWED.code


@pytest.mark.parametrize("path", ["/fdx/v6/customers", "/fdx/v6/accounts", "/", "/fdx/v6/customers/current/x"])
def test_other_paths_404(idp, rsa, path):
    resp, body = call(event(token(rsa), path=path))
    assert resp["statusCode"] == 404 and body["code"] == plaid.NOT_FOUND.code


@pytest.mark.parametrize("path", ["/fdx/v4/customers/current", "/fdx/v5/customers/current", "/customers/current/"])
def test_any_base_path(idp, rsa, path):
    assert call(event(token(rsa), path=path))[0]["statusCode"] == 200


def test_error_bodies_validate_against_fdx_error_schema(idp, rsa):
    schema = load_json_schema("fdx-error.schema.json")
    for ev in (event(None), event(token(rsa), method="POST"), event(token(rsa), path="/x")):
        jsonschema.validate(json.loads(lambda_handler.handler(ev, None)["body"]), schema)


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"TOKEN_ISSUER": ""}, "TOKEN_ISSUER is required"),
    ({"JWKS_URI": "http://idp.example/jwks"}, "JWKS_URI must be an https:// URL"),
    ({"TOKEN_CLIENT_ID": ""}, "TOKEN_CLIENT_ID is required"),
    ({"TOKEN_CLIENT_CLAIM": "sub"}, "TOKEN_CLIENT_CLAIM must be one of client_id, azp, cid"),
    ({"TOKEN_AUDIENCE": ""}, "set TOKEN_AUDIENCE (the aud your IdP's access tokens carry) or TOKEN_USE=access"),
    ({"TOKEN_USE": "id"}, "TOKEN_USE must be access"),
    ({"CONSISTENCY_KEY_PREFIX": "fpb\n"}, "CONSISTENCY_KEY_PREFIX must not contain control"),
    ({"TOKEN_ALGORITHMS": "HS256"}, "TOKEN_ALGORITHMS must list asymmetric algorithms only"),
])
def test_bad_configuration_fails_at_cold_start_and_answers_500(rsa, overrides, fragment, logs):
    lambda_handler.configure(env("http://127.0.0.1:9/jwks", **overrides))
    cold = logs.text()
    assert fragment in cold and cold.count('"level":"ERROR"') == 1
    resp, body = call(event(token(rsa)))
    assert resp["statusCode"] == 500
    assert body == {"code": 500, "message": "Internal server error", "debugMessage": "service misconfigured"}


def test_log_line_and_metrics(idp, rsa, logs):
    tok = token(rsa)
    call(event(tok))
    lines = logs.json()
    log = next(x for x in lines if x.get("message") == "customers/current")
    assert log["outcome"] == "ok" and log["status"] == 200
    # The consistency key is logged as a pseudonym and its length, never in clear.
    expected = hashlib.sha256(f"plaid-ready-idp:customer-ref:v1:{SUBJECT}".encode()).hexdigest()[:16]
    assert log["customer_ref"] == expected == lambda_handler.customer_ref(SUBJECT)
    assert log["customer_id_length"] == len(SUBJECT) and "customer_id" not in log
    assert SUBJECT not in json.dumps(lines)
    assert log["plaid_request_id"] == "plaid-req-1" and log["apigw_request_id"] == "apigw-req-1"
    # The first request fetched the JWKS: one EMF record, with that and nothing about a plain success.
    (emf,) = (x for x in lines if "_aws" in x)
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"JwksFetches"} and emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PlaidReadyIdp"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] and emf["service"] == "customers-current"
    assert tok not in json.dumps(lines) and tok.split(".")[2] not in json.dumps(lines)


def test_a_plain_success_writes_one_log_line_and_no_metrics(idp, rsa, logs):
    call(event(token(rsa)))  # the cold start's JWKS fetch is counted
    logs.text()
    for _ in range(3):
        assert call(event(token(rsa)))[0]["statusCode"] == 200
    lines = logs.text().splitlines()
    assert len(lines) == 3 and all(json.loads(x)["message"] == "customers/current" for x in lines)


@pytest.mark.parametrize(("make_event", "outcome", "reason"), [
    (lambda rsa: event(token(rsa, claims={"exp": 1})), "unauthorized", "AuthFailure.token_expired"),
    (lambda rsa: event(None), "unauthorized", "AuthFailure.missing_token"),
    (lambda rsa: event(token(rsa), path="/fdx/v6/customers/other"), "not_found", None),
    (lambda rsa: event(token(rsa), method="POST"), "method_not_allowed", None),
])
def test_every_other_outcome_is_counted(idp, rsa, logs, make_event, outcome, reason):
    call(event(token(rsa)))
    logs.text()
    call(make_event(rsa))
    (emf,) = (x for x in logs.json() if "_aws" in x)
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {f"Outcome.{outcome}"} | ({reason} if reason else set())
    assert emf[f"Outcome.{outcome}"] == [1.0]


def test_misconfiguration_is_counted(rsa, logs):
    lambda_handler.configure(env("http://127.0.0.1:9/jwks", TOKEN_CLIENT_ID=""))
    logs.text()
    assert call(event(token(rsa)))[0]["statusCode"] == 500
    (emf,) = (x for x in logs.json() if "_aws" in x)
    assert emf.get("Outcome.misconfigured") == [1.0]


def test_auth_failure_metric_by_category(idp, rsa, logs):
    tok = token(rsa, claims={"exp": 1})
    call(event(tok))
    out = logs.text()
    assert '"AuthFailure.token_expired"' in out and '"failure_category":"token expired"' in out
    assert '"Outcome.unauthorized"' in out
    assert tok not in out


def test_non_dict_event_does_not_crash():
    for ev in (None, [], "x", 42):
        resp = lambda_handler.handler(ev, None)
        assert resp["statusCode"] == 404


def test_pyjwt_is_new_enough():
    major, minor = (int(x) for x in jwt.__version__.split(".")[:2])
    assert (major, minor) >= (2, 14)
