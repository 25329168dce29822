"""JWKS behaviour against a real HTTP server on 127.0.0.1: caching, outages, floods, rotation."""

from __future__ import annotations

import json
import time

import pytest

from lambdas.customers_current import handler as lambda_handler
from tests.lambdas.idp import env, event, jwks_server, rsa_key, token


def status(ev) -> int:
    return lambda_handler.handler(ev, None)["statusCode"]


def test_one_fetch_per_cold_start(idp, rsa, ec):
    for _ in range(20):
        assert status(event(token(rsa))) == 200
        assert status(event(token(ec))) == 200
    assert idp.fetches == 1


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_outage_with_warm_cache_keeps_serving(idp, rsa, mode):
    assert status(event(token(rsa))) == 200
    idp.mode = mode
    for _ in range(5):
        assert status(event(token(rsa))) == 200
    assert idp.fetches == 1


@pytest.mark.parametrize("mode", ["down", "hang", "garbage"])
def test_outage_cold_answers_503_fast(rsa, mode):
    with jwks_server(rsa) as srv:
        srv.mode = mode
        srv.hang_seconds = 4.0
        lambda_handler.configure(env(srv.url))
        start = time.monotonic()
        resp = lambda_handler.handler(event(token(rsa)), None)
        elapsed = time.monotonic() - start
    assert resp["statusCode"] == 503 and elapsed < 3.0
    assert json.loads(resp["body"]) == {"code": 501, "message": "Subsystem unavailable",
                                        "debugMessage": "identity provider keys unavailable"}
    assert resp["headers"]["Retry-After"] == str(lambda_handler.RETRY_AFTER_SECONDS)


def test_connection_refused_cold_is_503():
    lambda_handler.configure(env("http://127.0.0.1:9/jwks.json"))  # nothing listens on port 9
    start = time.monotonic()
    assert status(event(token(rsa_key("k")))) == 503
    assert time.monotonic() - start < 3.0


def test_outage_cold_does_not_hammer_the_idp(rsa):
    with jwks_server(rsa) as srv:
        srv.mode = "down"
        lambda_handler.configure(env(srv.url))
        for _ in range(20):
            assert status(event(token(rsa))) == 503
        assert srv.fetches == 1  # one failed fetch, then the cooldown answers at once


def test_unknown_kid_flood_is_bounded(idp, rsa):
    assert status(event(token(rsa))) == 200
    stranger = rsa_key("stranger")
    for i in range(50):
        assert status(event(token(stranger, headers={"kid": f"random-{i}"}))) == 401
    assert idp.fetches == 1  # within the cooldown after the first fetch: no refetch at all
    assert status(event(token(rsa))) == 200


def test_unknown_kid_flood_after_cooldown_refetches_once(idp, rsa, monkeypatch):
    from lambdas.customers_current import verifier

    monkeypatch.setattr(verifier, "COOLDOWN_SECONDS", 2.0)
    lambda_handler.configure(env(idp.url))
    stranger = rsa_key("stranger")
    floods = [token(stranger, headers={"kid": f"random-{i}"}) for i in range(50)]
    assert status(event(token(rsa))) == 200
    time.sleep(2.05)  # one cooldown window later
    for forged in floods:  # 50 requests well inside the next window
        assert status(event(forged)) == 401
    assert idp.fetches == 2


def test_key_rotation_at_the_idp(rsa, fast_cooldown):
    new = rsa_key("rotated-2")
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url))
        assert status(event(token(rsa))) == 200
        srv.keys.append(new)  # the IdP publishes the next key
        time.sleep(0.25)
        assert status(event(token(new))) == 200
        assert srv.fetches == 2
        srv.keys.remove(rsa)  # the old key is retired at the IdP; warm instances keep it until cold start
        assert status(event(token(new))) == 200
        assert srv.fetches == 2


def test_jwks_metrics(idp, rsa, logs):
    status(event(token(rsa)))
    first = [x for x in logs.json() if "_aws" in x][0]
    assert first.get("JwksFetches") == [1.0]
    status(event(token(rsa)))
    second = [x for x in logs.json() if "_aws" in x][0]
    assert "JwksFetches" not in second


def test_jwks_error_metric(rsa, logs):
    with jwks_server(rsa) as srv:
        srv.mode = "down"
        lambda_handler.configure(env(srv.url))
        status(event(token(rsa)))
    emf = [x for x in logs.json() if "_aws" in x][0]
    assert emf.get("JwksErrors") == [1.0] and emf.get("Outcome.unavailable") == [1.0]
