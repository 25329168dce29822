"""The verifier's exact boundaries: each test here kills a planted bug that the broader tests let through
(issue #22: client id case, the clock-skew leeway, the x5c header, the configured algorithm list)."""

from __future__ import annotations

import base64
import datetime
import json
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lambdas.customers_current import handler as lambda_handler
from tests.lambdas.idp import CLIENT_ID, env, event, jwks_server, rsa_key, token

#: Half a second either side of the 30 s leeway (literal numbers: a test computing them from the constant would
#: follow a mutated constant).
OUTSIDE = 30.5
INSIDE = 29.5
#: The instant PyJWT believes it is during the timed tests: frozen, so a busy machine cannot move the boundary,
#: and half past a whole second, because PyJWT truncates exp/nbf/iat to whole seconds (so CLOCK - 30.5 is a whole
#: second and stays exact).
CLOCK = int(time.time()) + 0.5


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(CLOCK, tz)


def call(ev: dict) -> tuple[int, dict]:
    resp = lambda_handler.handler(ev, None)
    return resp["statusCode"], json.loads(resp["body"])


def rejected(ev: dict) -> str:
    status, body = call(ev)
    assert status == 401, body
    return body["debugMessage"]


@pytest.fixture
def warm(idp, rsa, monkeypatch):
    """PyJWT's clock frozen at CLOCK (it reads ``datetime.now`` in jwt.api_jwt to judge exp, nbf and iat)."""
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime)
    assert call(event(token(rsa, claims={"iat": CLOCK - 0.5, "exp": CLOCK + 899.5})))[0] == 200
    return rsa


def timed(key, **claims: float) -> str:
    return token(key, claims={"iat": CLOCK, "exp": CLOCK + 900, **claims})


@pytest.mark.parametrize("variant", [CLIENT_ID.upper(), CLIENT_ID.title()])
def test_client_id_is_compared_exactly_not_case_insensitively(idp, rsa, variant):
    assert variant != CLIENT_ID
    assert rejected(event(token(rsa, claims={"client_id": variant}))) == "wrong client"


def test_client_id_in_another_case_is_refused_in_azp_and_cid_too(rsa):
    for claim in ("azp", "cid"):
        with jwks_server(rsa) as srv:
            lambda_handler.configure(env(srv.url, TOKEN_CLIENT_CLAIM=claim))
            assert call(event(token(rsa, claims={claim: CLIENT_ID}, drop=("client_id",))))[0] == 200
            assert rejected(event(token(rsa, claims={claim: CLIENT_ID.upper()}, drop=("client_id",)))) == \
                "wrong client"


def test_expired_half_a_second_beyond_the_leeway_is_refused(warm):
    assert rejected(event(timed(warm, exp=CLOCK - OUTSIDE))) == "token expired"


def test_expired_half_a_second_within_the_leeway_is_accepted(warm):
    assert call(event(timed(warm, exp=CLOCK - INSIDE)))[0] == 200


def test_not_before_half_a_second_beyond_the_leeway_is_refused(warm):
    assert rejected(event(timed(warm, nbf=CLOCK + OUTSIDE))) == "token not yet valid"


def test_not_before_half_a_second_within_the_leeway_is_accepted(warm):
    assert call(event(timed(warm, nbf=CLOCK + INSIDE)))[0] == 200


def test_issued_at_half_a_second_beyond_the_leeway_is_refused(warm):
    assert rejected(event(timed(warm, iat=CLOCK + OUTSIDE))) == "token not yet valid"


def test_issued_at_half_a_second_within_the_leeway_is_accepted(warm):
    assert call(event(timed(warm, iat=CLOCK + INSIDE)))[0] == 200


def _certificate_chain(key) -> list[str]:
    """An x5c value: the base64 DER of a self-signed certificate for the signing key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.private.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(hours=1)).sign(key.private, hashes.SHA256()))
    return [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]


def test_x5c_header_is_refused_even_when_the_signature_verifies(idp, rsa):
    """x5c carries the signer's own certificate: a verifier that trusted it would accept any key. Here the
    token is signed by the published key, so only the header check stands between it and a 200."""
    assert rejected(event(token(rsa, headers={"x5c": _certificate_chain(rsa)}))) == "header-supplied key"


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c"])
def test_every_header_supplied_key_is_refused_with_a_valid_signature(idp, rsa, name):
    value = {"jwk": rsa.jwk(), "jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert",
             "x5c": _certificate_chain(rsa)}[name]
    assert rejected(event(token(rsa, headers={name: value}))) == "header-supplied key"


def test_token_alg_outside_the_configured_list_is_refused_before_the_key_is_chosen():
    """A key published without alg is usable for any RSA algorithm; the policy says RS256 only. A token signed
    RS384 must be refused for its algorithm, by the configured list (not by "any asymmetric algorithm")."""
    bare = rsa_key("no-alg-key", include_alg=False)
    with jwks_server(bare) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_ALGORITHMS="RS256"))
        assert call(event(token(bare)))[0] == 200  # the key works for what the policy allows
        before = srv.fetches
        assert rejected(event(token(bare, alg="RS384"))) == "algorithm not allowed"
        assert rejected(event(token(bare, alg="PS256"))) == "algorithm not allowed"
        assert srv.fetches == before


def test_jwk_alg_different_from_the_token_alg_is_refused(rsa):
    mismatched = rsa_key("rs384-key")
    mismatched.alg = "RS384"  # the JWK says RS384 ...
    with jwks_server(mismatched) as srv:
        lambda_handler.configure(env(srv.url, TOKEN_ALGORITHMS="RS256,RS384"))
        assert rejected(event(token(mismatched, alg="RS256"))) == "invalid token"  # ... the token RS256
        assert call(event(token(mismatched, alg="RS384")))[0] == 200
