"""The token verifier (lambdas/customers_current/verifier.py) at the edges `make mutation` found unguarded
(issue #22, round 2)."""

from __future__ import annotations

import pytest

from lambdas.customers_current import verifier
from tests.lambdas.idp import AUDIENCE, CLIENT_ID, ISSUER, jwks_server, rsa_key, token


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
