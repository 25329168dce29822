"""The tenant contract and the Lambda agree: every IdP's environment (TenantContract.lambda_environment) is one
the Lambda's configuration accepts, and it pins Plaid's client in the claim that IdP uses."""

from __future__ import annotations

import pytest

from components.tenant import TenantContract, TokenContract
from lambdas.customers_current import config, env

ISSUER, JWKS = "https://idp.example/", "https://idp.example/.well-known/jwks.json"


def contract(token: TokenContract) -> TenantContract:
    return TenantContract(discovery_url=f"{ISSUER}.well-known/openid-configuration",
                          authorize_endpoint=f"{ISSUER}authorize", token_endpoint=f"{ISSUER}oauth/token",
                          credentials_secret_arn="arn:aws:x", token=token)


def token(**kw: str) -> TokenContract:
    return TokenContract(issuer=ISSUER, jwks_uri=JWKS, client_id="plaid-client", **kw)


@pytest.mark.parametrize(("validation", "expected"), [
    (token(client_claim="client_id", audience="https://api.example/fdx"),
     ("client_id", "https://api.example/fdx", None)),  # Auth0, rfc9068_profile
    (token(client_claim="cid", audience="api://fdx", consistency_key_claim="uid"),
     ("cid", "api://fdx", None)),  # Okta
    (token(client_claim="client_id", token_use="access"),
     ("client_id", None, "access")),  # Cognito
])
def test_every_idp_environment_is_accepted(validation, expected):
    environ = contract(validation).lambda_environment()
    loaded = config.load(environ)
    p = loaded.policy
    assert (p.client_claim, p.audience, p.token_use) == expected
    assert p.client_id == "plaid-client" and p.issuer == ISSUER and loaded.jwks_uri == JWKS
    assert loaded.key_claim == validation.consistency_key_claim
    assert set(environ) <= set(env.ALL)
