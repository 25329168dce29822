"""JWKS behaviour against a real HTTP server on 127.0.0.1: caching, outages, floods, rotation."""

from __future__ import annotations

import json
import time

import pytest
from jwt.exceptions import PyJWKClientConnectionError

from lambdas.customers_current import handler as lambda_handler
from lambdas.customers_current import verifier
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
    monkeypatch.setattr(verifier, "COOLDOWN_SECONDS", 2.0)
    lambda_handler.configure(env(idp.url))
    stranger = rsa_key("stranger")
    floods = [token(stranger, headers={"kid": f"random-{i}"}) for i in range(50)]
    assert status(event(token(rsa))) == 200
    time.sleep(2.05)  # one cooldown window later
    for forged in floods:  # 50 requests well inside the next window
        assert status(event(forged)) == 401
    assert idp.fetches == 2


def test_key_rotation_at_the_idp(rsa, short_max_age):
    new = rsa_key("rotated-2")
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url))
        assert status(event(token(rsa))) == 200
        srv.keys.append(new)  # the IdP publishes the next key
        time.sleep(0.25)  # past the unknown-kid cooldown
        assert status(event(token(new))) == 200
        assert srv.fetches == 2
        srv.keys.remove(rsa)  # the old key is retired (or compromised and removed) at the IdP
        assert status(event(token(rsa))) == 200  # within the maximum age the cached set still holds it
        assert srv.fetches == 2
        time.sleep(short_max_age + 0.05)
        assert status(event(token(new))) == 200  # past the maximum age: refetched in the request path
        assert srv.fetches == 3
        assert status(event(token(rsa))) == 401  # ... and the retired key is dropped
        assert json.loads(lambda_handler.handler(event(token(rsa)), None)["body"])["debugMessage"] == \
            "unknown signing key"


def test_max_age_refetch_once_then_cached_again(idp, rsa, short_max_age):
    lambda_handler.configure(env(idp.url))
    for _ in range(5):
        assert status(event(token(rsa))) == 200
    assert idp.fetches == 1
    time.sleep(short_max_age + 0.05)
    for _ in range(5):
        assert status(event(token(rsa))) == 200
    assert idp.fetches == 2  # one refetch, then the new set is cached for another maximum age


@pytest.mark.parametrize("mode", ["down", "hang", "garbage"])
def test_stale_if_error_past_the_max_age(rsa, short_max_age, mode, logs, monkeypatch):
    monkeypatch.setattr(verifier, "JWKS_DEADLINE_SECONDS", 0.5)  # the hanging refetch gives up sooner
    with jwks_server(rsa) as srv:
        srv.hang_seconds = 1.0
        lambda_handler.configure(env(srv.url))
        assert status(event(token(rsa))) == 200
        srv.mode = mode
        time.sleep(short_max_age + 0.05)
        logs.text()
        assert status(event(token(rsa))) == 200  # the refetch fails: the cached keys keep serving
        lines = logs.json()
        emf = next(x for x in lines if "_aws" in x)
        assert emf.get("JwksErrors") == [1.0] and emf.get("JwksStale") == [1.0] and "Outcome.ok" not in emf
        warning = next(x for x in lines if x.get("message") == "JWKS fetch failed")
        assert warning["level"] == "WARNING" and warning["serving_cached_keys"] is True
        assert warning["reason"] == {"down": "HTTP 500", "hang": "timed out", "garbage": "not JSON"}[mode]
        for _ in range(5):  # within the failure cooldown: no new attempt, still served
            assert status(event(token(rsa))) == 200
        assert srv.fetches == 2
        srv.mode = "ok"
        time.sleep(0.25)  # past the cooldown: one retry, which succeeds and refreshes the set
        assert status(event(token(rsa))) == 200
        assert status(event(token(rsa))) == 200
        assert srv.fetches == 3
        emf = [x for x in logs.json() if "_aws" in x]
        assert emf[-1].get("JwksStale") is None  # fresh again


def test_stale_keys_are_not_trusted_for_new_kids(rsa, short_max_age):
    with jwks_server(rsa) as srv:
        lambda_handler.configure(env(srv.url))
        assert status(event(token(rsa))) == 200
        srv.mode = "down"
        time.sleep(short_max_age + 0.05)
        assert status(event(token(rsa_key("not-published")))) == 401


def test_cold_start_without_a_usable_signing_key_does_not_lock_out(rsa, fast_cooldown):
    """The IdP answers with keys that cannot sign (use: enc): not a cache entry; retried after the cooldown."""
    enc_only = rsa_key("enc-only", use="enc")
    with jwks_server(enc_only) as srv:
        lambda_handler.configure(env(srv.url))
        assert status(event(token(rsa))) == 503
        assert status(event(token(rsa))) == 503  # within the cooldown: no refetch
        assert srv.fetches == 1
        srv.keys = [rsa]  # the IdP is fixed
        time.sleep(0.25)
        assert status(event(token(rsa))) == 200
        assert srv.fetches == 2


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_a_dripping_idp_cannot_hold_a_cold_start(rsa, mode):
    """A byte every 0.2 s never trips a per-read timeout; the fetch has one total deadline (2 s), so the
    cold start answers 503 within it (plus a margin for the machine), whatever the IdP does."""
    with jwks_server(rsa) as srv:
        srv.mode, srv.drip_interval = mode, 0.2
        lambda_handler.configure(env(srv.url))
        start = time.monotonic()
        resp = lambda_handler.handler(event(token(rsa)), None)
        elapsed = time.monotonic() - start
    assert resp["statusCode"] == 503
    assert verifier.JWKS_DEADLINE_SECONDS <= elapsed < verifier.JWKS_DEADLINE_SECONDS + 0.8 <= 3.0


@pytest.mark.parametrize("mode", ["huge", "redirect"])
def test_oversized_or_redirected_jwks_is_refused(rsa, mode):
    with jwks_server(rsa) as srv:
        srv.mode = mode
        lambda_handler.configure(env(srv.url))
        start = time.monotonic()
        assert status(event(token(rsa))) == 503
        assert time.monotonic() - start < 1.0
        assert srv.fetches == 1  # the redirect is not followed


def test_https_jwks_with_a_trusted_certificate(rsa):
    with jwks_server(rsa, tls=True) as srv:
        trusting = verifier.JwksClient(srv.url, ssl_context=srv.client_tls)
        assert trusting.get_signing_key(rsa.kid).key_id == rsa.kid
        untrusting = verifier.JwksClient(srv.url)  # the system's CAs: the self-signed certificate fails
        with pytest.raises(PyJWKClientConnectionError, match="SSLCertVerificationError"):
            untrusting.get_signing_key(rsa.kid)
        srv.mode = "drip"
        dripping = verifier.JwksClient(srv.url, ssl_context=srv.client_tls, cooldown_seconds=0)
        start = time.monotonic()
        with pytest.raises(PyJWKClientConnectionError, match="timed out"):
            dripping.get_signing_key(rsa.kid)
        assert time.monotonic() - start < verifier.JWKS_DEADLINE_SECONDS + 0.8


def test_jwks_metrics(idp, rsa, logs):
    status(event(token(rsa)))
    first = [x for x in logs.json() if "_aws" in x][0]
    assert first.get("JwksFetches") == [1.0]
    status(event(token(rsa)))
    assert [x for x in logs.json() if "_aws" in x] == []  # a plain success: no EMF record


def test_jwks_error_metric(rsa, logs):
    with jwks_server(rsa) as srv:
        srv.mode = "down"
        lambda_handler.configure(env(srv.url))
        status(event(token(rsa)))
    emf = [x for x in logs.json() if "_aws" in x][0]
    assert emf.get("JwksErrors") == [1.0] and emf.get("Outcome.unavailable") == [1.0]
