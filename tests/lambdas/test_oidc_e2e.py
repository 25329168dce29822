"""End to end with a real OIDC provider on 127.0.0.1 (npm oidc-provider): the authorization-code flow
Plaid runs, then /customers/current with the resulting access token, then a refresh and again. The
provider also shapes its tokens like Okta's (TOKEN_PROFILE=okta) and Cognito's (TOKEN_PROFILE=cognito), and
the Lambda is configured for each as the tenant contract configures it.

The provider is installed from the committed lockfile by `make test` (npm ci).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import jwt
import pytest

import plaid_contract as plaid
from lambdas.customers_current import handler as lambda_handler
from tests.lambdas import oidc
from tests.lambdas.idp import event

AUDIENCE = "https://api.firstplatypus.example/fdx"
CLIENT_ID, CLIENT_SECRET = "plaid-test-client", "0123456789abcdef" * 4
ACCOUNT = "fpb-customer-0042"  # the login the test submits; >= 7 characters
OKTA_LOGIN = "jane.doe@firstplatypus.example"  # Okta's access-token sub: the user's login (PII)


@dataclass
class Op:
    issuer: str
    discovery: dict

    @property
    def authorization_endpoint(self) -> str:
        return self.discovery["authorization_endpoint"]

    @property
    def token_endpoint(self) -> str:
        return self.discovery["token_endpoint"]


@contextmanager
def _provider(**extra_env: str) -> Iterator[Op]:
    with oidc.provider(CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET, REDIRECT_URI=plaid.PLAID_REDIRECT_URI,
                       AUDIENCE=AUDIENCE, ACCESS_TOKEN_TTL=str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS),
                       **extra_env) as issuer:
        yield Op(issuer, oidc.discovery(issuer))


@pytest.fixture(scope="module")
def op() -> Iterator[Op]:
    with _provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def op_okta() -> Iterator[Op]:
    with _provider(TOKEN_PROFILE="okta", OKTA_LOGINS=json.dumps({ACCOUNT: OKTA_LOGIN})) as provider:
        yield provider


@pytest.fixture(scope="module")
def op_cognito() -> Iterator[Op]:
    with _provider(TOKEN_PROFILE="cognito") as provider:
        yield provider


def lambda_env(op: Op, **over: str) -> dict[str, str]:
    """The Lambda's environment as the tenant contract sets it for Auth0 (RFC 9068 profile: client_id)."""
    base = {"TOKEN_ISSUER": op.discovery["issuer"], "JWKS_URI": op.discovery["jwks_uri"],
            "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_CLIENT_ID": CLIENT_ID, "TOKEN_CLIENT_CLAIM": "client_id"}
    return {k: v for k, v in {**base, **over}.items() if v}


def customers_current(access_token: str) -> tuple[int, dict]:
    resp = lambda_handler.handler(event(access_token), None)
    return resp["statusCode"], json.loads(resp["body"])


def authorize(op: Op, scopes: tuple[str, ...] = plaid.REQUIRED_SCOPES) -> str:
    """Drive the browser part of the flow (as an end user would) and return the authorization code."""
    # What Plaid sends (response_type, client_id, redirect_uri, scope, state), plus prompt=consent: oidc-provider
    # follows OIDC Core 11 and honours offline_access only with it (Auth0/Okta issue the refresh token without).
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID,
                                    "redirect_uri": plaid.PLAID_REDIRECT_URI, "scope": " ".join(scopes),
                                    "state": "plaid-state-123", "prompt": "consent"})
    final = oidc.login(f"{op.authorization_endpoint}?{query}", account=ACCOUNT, redirect_uri=plaid.PLAID_REDIRECT_URI)
    return oidc.code_from(final, "plaid-state-123")


def token_request(op: Op, form: dict) -> dict:
    return oidc.token_request(op.token_endpoint, CLIENT_ID, CLIENT_SECRET, form)


def code_grant(op: Op, scopes: tuple[str, ...] = plaid.REQUIRED_SCOPES) -> dict:
    return token_request(op, {"grant_type": "authorization_code", "code": authorize(op, scopes),
                              "redirect_uri": plaid.PLAID_REDIRECT_URI})


def test_plaid_flow_then_customers_current_then_refresh(op: Op):
    discovery = op.discovery
    assert {"openid", "offline_access"} <= set(discovery["scopes_supported"])
    assert "client_secret_basic" in discovery["token_endpoint_auth_methods_supported"]
    lambda_handler.configure(lambda_env(op))

    tokens = code_grant(op)
    assert tokens["expires_in"] == plaid.ACCESS_TOKEN_LIFETIME_SECONDS
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["aud"] == AUDIENCE  # a JWT for the API although no resource/audience was sent
    assert access["client_id"] == CLIENT_ID  # RFC 9068: the client in client_id (as Auth0's rfc9068_profile)
    id_sub = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    assert id_sub == ACCOUNT

    assert customers_current(tokens["access_token"]) == (200, {"customerId": id_sub})

    refreshed = token_request(op, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed["refresh_token"] != tokens["refresh_token"]  # rotation
    assert customers_current(refreshed["access_token"]) == (200, {"customerId": id_sub})

    # The old refresh token is spent: rotation means reuse fails.
    with pytest.raises(urllib.error.HTTPError) as info:
        token_request(op, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert info.value.code == 400


def test_tokens_of_another_audience_or_client_are_refused(op: Op):
    tokens = code_grant(op)
    lambda_handler.configure(lambda_env(op, TOKEN_AUDIENCE="https://another.example/api"))
    assert customers_current(tokens["access_token"])[1]["debugMessage"] == "wrong audience"
    # Same tenant, same audience, but the contract names another client as Plaid's: the token is refused
    # (the provider has one client, so Plaid's client is renamed instead of registering a second one).
    lambda_handler.configure(lambda_env(op, TOKEN_CLIENT_ID="another-client-of-the-tenant"))
    assert customers_current(tokens["access_token"]) == (401, {
        "code": 602, "message": "Customer not authorized", "debugMessage": "wrong client"})
    # An ID token is not an access token for the API either.
    lambda_handler.configure(lambda_env(op))
    assert customers_current(tokens["id_token"])[0] == 401
    assert customers_current(tokens["access_token"])[0] == 200


def test_okta_shaped_tokens(op_okta: Op, logs):
    """Okta: the client in cid, the consistency key in uid (the Okta user id), sub the login (PII, not used)."""
    tokens = code_grant(op_okta)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["cid"] == CLIENT_ID and "client_id" not in access
    assert access["uid"] == ACCOUNT and access["sub"] == OKTA_LOGIN
    lambda_handler.configure(lambda_env(op_okta, TOKEN_CLIENT_CLAIM="cid", CONSISTENCY_KEY_CLAIM="uid"))
    logs.text()
    assert customers_current(tokens["access_token"]) == (200, {"customerId": ACCOUNT})
    logged = logs.text()
    assert '"outcome":"ok"' in logged and OKTA_LOGIN not in logged and ACCOUNT not in logged
    # Configured with Auth0's claim, an Okta token has no client_id: refused, never accepted by default.
    lambda_handler.configure(lambda_env(op_okta, CONSISTENCY_KEY_CLAIM="uid"))
    assert customers_current(tokens["access_token"])[1]["debugMessage"] == "missing claim"


def test_cognito_shaped_tokens(op_cognito: Op):
    """Cognito: no aud; client_id and token_use=access instead. Plaid's offline_access is refused at authorize
    (so the flow sends openid only) and a refresh token comes anyway."""
    tokens = code_grant(op_cognito, ("openid",))
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert "aud" not in access and access["client_id"] == CLIENT_ID and access["token_use"] == "access"
    lambda_handler.configure(lambda_env(op_cognito, TOKEN_AUDIENCE="", TOKEN_USE="access"))
    assert customers_current(tokens["access_token"]) == (200, {"customerId": ACCOUNT})
    assert customers_current(tokens["id_token"])[1]["debugMessage"] == "not an access token"
    refreshed = token_request(op_cognito, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert customers_current(refreshed["access_token"]) == (200, {"customerId": ACCOUNT})
    lambda_handler.configure(lambda_env(op_cognito, TOKEN_AUDIENCE="", TOKEN_USE="access",
                                        TOKEN_CLIENT_ID="another-app-client"))
    assert customers_current(tokens["access_token"])[1]["debugMessage"] == "wrong client"
