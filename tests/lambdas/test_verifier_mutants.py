"""The token verifier (lambdas/customers_current/verifier.py) at the edges `make mutation` found unguarded
(issue #22, round 2)."""

from __future__ import annotations

import json
import time

import pytest
from jwt.exceptions import PyJWKClientError

from lambdas.customers_current import verifier
from tests.lambdas.idp import AUDIENCE, CLIENT_ID, ISSUER, jwks_server, recording_server, rsa_key, token


def policy() -> verifier.Policy:
    return verifier.Policy(issuer=ISSUER, algorithms=("RS256",), client_id=CLIENT_ID, audience=AUDIENCE)


def test_a_rejection_reads_as_its_category_the_safe_text_a_log_or_traceback_shows():
    key = rsa_key()
    with jwks_server(key) as srv:
        client = verifier.JwksClient(srv.url)
        assert verifier.verify(token(key), client, policy())["client_id"] == CLIENT_ID
        with pytest.raises(verifier.TokenRejected) as caught:
            verifier.verify(token(key, claims={"client_id": "someone-else"}), client, policy())
    assert caught.value.category == "wrong client"
    assert str(caught.value) == "wrong client"


def test_an_unreachable_jwks_is_unavailable_and_says_why_the_fetch_failed():
    key = rsa_key()
    with jwks_server(key) as srv:
        srv.mode = "down"
        client = verifier.JwksClient(srv.url)
        with pytest.raises(verifier.JwksUnavailable) as caught:
            verifier.verify(token(key), client, policy())
        assert str(caught.value) == "JWKS fetch failed: HTTP 500"
        with pytest.raises(verifier.JwksUnavailable) as caught:
            verifier.verify(token(key), client, policy())
        assert str(caught.value) == "JWKS endpoint failed recently; in cooldown"
        assert srv.fetches == 1


def test_an_unknown_kid_past_the_max_age_while_the_idp_is_down_counts_one_stale_serve():
    """The request reads the expired set once (stale-if-error) and its unknown-kid refetch fails too: one
    stale serve in the JwksStale metric, not two."""
    key = rsa_key()
    with jwks_server(key) as srv:
        client = verifier.JwksClient(srv.url, cooldown_seconds=0.0, max_age_seconds=0.05)
        assert client.get_signing_key(key.kid).key_id == key.kid
        srv.mode = "down"
        time.sleep(0.1)  # past the maximum age
        with pytest.raises(PyJWKClientError):
            client.get_signing_key("not-published")
        assert (srv.fetches, client.errors, client.stale) == (3, 2, 1)


def test_the_jwks_fetch_names_the_lambda_as_its_user_agent():
    key = rsa_key()
    with recording_server(json.dumps({"keys": [key.jwk()]}).encode()) as (base, seen):
        client = verifier.JwksClient(f"{base}/jwks")
        assert verifier.verify(token(key), client, policy())["client_id"] == CLIENT_ID
    assert seen == ["plaid-ready-idp customers-current"]
