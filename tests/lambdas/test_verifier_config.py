"""The Lambda's configuration (lambdas/customers_current/config.py): defaults, the JWKS URL's scheme, and the
exact problem named for each bad value."""

from __future__ import annotations

import pytest

from lambdas.customers_current import config
from tests.lambdas.idp import AUDIENCE, CLIENT_ID, ISSUER, env


def problems(environ: dict[str, str]) -> str:
    with pytest.raises(config.ConfigError) as info:
        config.load(environ)
    return str(info.value)


def test_defaults_client_claim_client_id_algorithm_rs256_key_sub_no_prefix():
    loaded = config.load({"TOKEN_ISSUER": ISSUER, "JWKS_URI": "https://idp.example/.well-known/jwks.json",
                          "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_CLIENT_ID": CLIENT_ID})
    assert loaded.policy.client_claim == "client_id"
    assert loaded.policy.algorithms == ("RS256",)
    assert (loaded.key_claim, loaded.key_prefix) == ("sub", "")
    assert loaded.policy.token_use is None and loaded.policy.audience == AUDIENCE


@pytest.mark.parametrize("uri", ["https://idp.example/.well-known/jwks.json", "http://localhost:8080/jwks.json",
                                 "http://127.0.0.1:9/jwks.json", "http://127.8.9.10/jwks.json",
                                 "http://[::1]:9/jwks.json", "HTTPS://idp.example/jwks.json"])
def test_jwks_url_https_or_loopback_http_is_accepted(uri):
    assert config.load(env(uri)).jwks_uri == uri


@pytest.mark.parametrize("uri", ["http://idp.example/jwks.json", "http://localhost.idp.example/jwks.json",
                                 "http://10.0.0.1/jwks.json", "ftp://idp.example/jwks.json", "https:///jwks.json"])
def test_jwks_url_anything_else_is_refused(uri):
    assert problems(env(uri)) == "JWKS_URI must be an https:// URL"


def test_every_missing_value_is_named_at_once():
    assert problems({}) == (
        "TOKEN_ISSUER is required (the exact iss of the IdP's tokens); JWKS_URI is required; TOKEN_CLIENT_ID is "
        "required (Plaid's client id: tokens of any other client are refused); set TOKEN_AUDIENCE (the aud your IdP's "
        "access tokens carry) or TOKEN_USE=access (for an IdP whose access tokens carry no aud), or both")


@pytest.mark.parametrize(("over", "message"), [
    ({"TOKEN_ALGORITHMS": " , "}, "TOKEN_ALGORITHMS must list asymmetric algorithms only (ES256, ES384, ES512, "
                                  "PS256, PS384, PS512, RS256, RS384, RS512)"),
    ({"TOKEN_ALGORITHMS": "RS256,none"}, "TOKEN_ALGORITHMS must list asymmetric algorithms only (ES256, ES384, "
                                         "ES512, PS256, PS384, PS512, RS256, RS384, RS512)"),
    ({"CONSISTENCY_KEY_PREFIX": "p" * 33}, "CONSISTENCY_KEY_PREFIX must be at most 32 characters"),
])
def test_bad_values_are_named(over, message):
    assert problems(env("https://idp.example/jwks.json", **over)) == message


def test_algorithms_list_is_trimmed_and_kept_in_order():
    loaded = config.load(env("https://idp.example/jwks.json", TOKEN_ALGORITHMS=" ES256 , RS256,"))
    assert loaded.policy.algorithms == ("ES256", "RS256")


def test_a_prefix_of_32_characters_is_accepted_and_kept_verbatim():
    assert config.load(env("https://idp.example/jwks.json", CONSISTENCY_KEY_PREFIX=" " + "p" * 31)).key_prefix == \
        " " + "p" * 31


@pytest.mark.parametrize(("over", "message"), [
    ({"TOKEN_CLIENT_CLAIM": "sub"}, "TOKEN_CLIENT_CLAIM must be one of client_id, azp, cid (the claim naming the "
                                    "token's client in your IdP's access tokens; docs/lambda.md lists each IdP's)"),
    ({"TOKEN_USE": "id"}, "TOKEN_USE must be access when set (any other value would admit ID tokens)"),
    ({"CONSISTENCY_KEY_PREFIX": "fpb\u200b"}, "CONSISTENCY_KEY_PREFIX must not contain control or invisible "
                                              "characters"),
])
def test_each_bad_setting_is_explained(over, message):
    assert problems(env("https://idp.example/jwks.json", **over)) == message


def test_cognito_mode_needs_no_audience():
    loaded = config.load(env("https://idp.example/jwks.json", TOKEN_AUDIENCE="", TOKEN_USE="access"))
    assert (loaded.policy.audience, loaded.policy.token_use) == (None, "access")
