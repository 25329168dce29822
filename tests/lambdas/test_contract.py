"""The tenant contract and the Lambda agree: every IdP's environment (TenantContract.lambda_environment) is one
the Lambda's configuration accepts, and it pins Plaid's client in the claim that IdP uses."""

from __future__ import annotations

import pytest

from components.tenant import TenantContract, TokenValidation
from lambdas.customers_current import config, env

ISSUER, JWKS = "https://idp.example/", "https://idp.example/.well-known/jwks.json"


def contract(validation: TokenValidation, audience: str | None) -> TenantContract:
    return TenantContract(issuer=ISSUER, discovery_url=f"{ISSUER}.well-known/openid-configuration", jwks_uri=JWKS,
                          authorize_endpoint=f"{ISSUER}authorize", token_endpoint=f"{ISSUER}oauth/token",
                          audience=audience, client_id="plaid-client", credentials_secret_arn="arn:aws:x",
                          validation=validation)


@pytest.mark.parametrize(("validation", "expected"), [
    (TokenValidation(client_id="plaid-client", client_claim="client_id", audience="https://api.example/fdx"),
     ("client_id", "https://api.example/fdx", None)),  # Auth0, rfc9068_profile
    (TokenValidation(client_id="plaid-client", client_claim="cid", audience="api://fdx", consistency_key_claim="uid"),
     ("cid", "api://fdx", None)),  # Okta
    (TokenValidation(client_id="plaid-client", client_claim="client_id", token_use="access"),
     ("client_id", None, "access")),  # Cognito
])
def test_every_idp_environment_is_accepted(validation, expected):
    environ = contract(validation, validation.audience).lambda_environment()
    loaded = config.load(environ)
    p = loaded.policy
    assert (p.client_claim, p.audience, p.token_use) == expected
    assert p.client_id == "plaid-client" and p.issuer == ISSUER and loaded.jwks_uri == JWKS
    assert loaded.key_claim == validation.consistency_key_claim
    assert set(environ) <= set(env.ALL)
