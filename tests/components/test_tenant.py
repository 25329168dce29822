"""The tenant contract: one structure for the token, checked against the Lambda's own allow-list of algorithms."""

from __future__ import annotations

import pytest

from components.tenant import ALGORITHMS, TenantContract, TokenContract
from lambdas.customers_current import config, verifier

ISSUER, JWKS = "https://idp.example/", "https://idp.example/.well-known/jwks.json"


def token(**kw: object) -> TokenContract:
    return TokenContract(**{"issuer": ISSUER, "jwks_uri": JWKS, "client_id": "plaid", "audience": "api://fdx", **kw})


def test_the_allow_list_is_the_lambdas():
    assert ALGORITHMS is verifier.ASYMMETRIC


@pytest.mark.parametrize("algorithm", sorted(verifier.ASYMMETRIC))
def test_every_algorithm_the_lambda_accepts_is_accepted(algorithm):
    environ = TenantContract("d", "a", "t", "arn", token(algorithms=(algorithm,))).lambda_environment()
    assert config.load(environ).policy is not None


@pytest.mark.parametrize("algorithms", [("EdDSA",), ("RS256", "EdDSA"), ("HS256",), ("none",), ("rs256",), ()])
def test_an_algorithm_the_lambda_would_refuse_fails_at_plan_time(algorithms):
    with pytest.raises(ValueError, match="the Lambda accepts only ES256, ES384, ES512, PS256, PS384, PS512, RS256, "
                                         "RS384, RS512"):
        token(algorithms=algorithms)


def test_eddsa_would_otherwise_500_every_request():
    """Why the contract refuses it: the Lambda's configuration does not load with it."""
    environ = TenantContract("d", "a", "t", "arn", token()).lambda_environment()
    environ["TOKEN_ALGORITHMS"] = "EdDSA"
    with pytest.raises(config.ConfigError):
        config.load(environ)


def test_audience_or_token_use_is_required_and_token_use_is_access():
    with pytest.raises(ValueError, match="needs an audience, or token_use"):
        token(audience=None)
    with pytest.raises(ValueError, match="token_use must be 'access'"):
        token(audience=None, token_use="id")
    with pytest.raises(ValueError, match="client_claim must be one of client_id, azp, cid"):
        token(client_claim="sub")


def test_the_contract_carries_client_id_and_audience_once():
    c = TenantContract("https://d", "https://a", "https://t", "arn:x", token(client_id="cid-1", audience="aud-1"))
    assert (c.client_id, c.audience, c.issuer, c.jwks_uri) == ("cid-1", "aud-1", ISSUER, JWKS)
    assert c.outputs() == {"issuer": ISSUER, "discovery_url": "https://d", "jwks_uri": JWKS,
                           "authorize_endpoint": "https://a", "token_endpoint": "https://t", "audience": "aud-1",
                           "client_id": "cid-1", "credentials_secret_arn": "arn:x"}
    assert c.lambda_environment() == {"TOKEN_ISSUER": ISSUER, "JWKS_URI": JWKS, "TOKEN_ALGORITHMS": "RS256",
                                      "TOKEN_CLIENT_ID": "cid-1", "TOKEN_CLIENT_CLAIM": "client_id",
                                      "CONSISTENCY_KEY_CLAIM": "sub", "TOKEN_AUDIENCE": "aud-1"}
