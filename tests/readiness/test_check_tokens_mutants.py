"""readiness/check/tokens.py (the live check's token and key judging) at the edges `make mutation` found
unguarded (issue #22, round 2): each function's exact answer at its boundaries, with real RS256 keys."""

from __future__ import annotations

import base64
import json
import time

import pytest

from readiness.check import tokens as t
from readiness.check.model import CheckStatus
from tests.lambdas.idp import AUDIENCE, ISSUER, ec_key, rsa_key, token


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


# -- shown, count, shown_kid -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "limit", "expected"), [
    ("abc", 120, "abc"), ("x" * 120, 120, "x" * 120), ("x" * 121, 120, "x" * 117 + "..."),
    ("abcdef", 2, "a..."), ("abcdef", 4, "a..."), ("abcdef", 5, "ab..."),
    (None, 120, "null"), (True, 120, "true"), (False, 120, "false"), (5, 120, "5"), (1.5, 120, "1.5"),
    (12345, 5, "12345"), (123456, 5, "12..."),
    ([1, 2], 120, "(a JSON array)"), ({"a": 1}, 120, "(a JSON object)"),
])
def test_shown_cuts_text_and_numbers_with_an_ellipsis_and_names_structures(value, limit, expected):
    assert t.shown(value, limit) == expected


def test_shown_defaults_to_120_characters():
    assert t.shown("y" * 200) == "y" * 117 + "..."
    assert t.shown(10 ** 130) == str(10 ** 130)[:117] + "..."


@pytest.mark.parametrize(("n", "expected"), [(0, "0 keys"), (1, "1 key"), (2, "2 keys")])
def test_count_is_singular_only_for_one(n, expected):
    assert t.count(n, "key") == expected


@pytest.mark.parametrize(("kid", "expected"), [
    (None, "(none)"), ("", "(none)"), ("k-1", "k-1"), ("k" * 100, "k" * 100), ("k" * 101, "k" * 97 + "..."),
    (7, "7"),
])
def test_shown_kid(kid, expected):
    assert t.shown_kid(kid) == expected


# -- JWT parts and the tampered token ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{"a": 1}, {"ab": 1}, {"abc": 12}, {"abcd": 123}])
def test_b64url_json_reads_unpadded_parts_of_every_length(payload):
    assert t.b64url_json(b64(payload)) == payload


def test_jwt_parts_of_a_compact_jws():
    assert t.jwt_parts(f"{b64({'alg': 'RS256'})}.{b64({'sub': 'x'})}.sig") == ({"alg": "RS256"}, {"sub": "x"})


@pytest.mark.parametrize("value", [
    "opaque-token", f"{b64({})}.{b64({})}", f"{b64({})}.{b64({})}.s.x", f"{b64([1])}.{b64({})}.s",
    f"{b64({})}.{b64([1])}.s", "!!!.###.s", f"{b64({})}.a.s",
])
def test_jwt_parts_is_none_for_anything_else(value):
    assert t.jwt_parts(value) is None


def test_tampered_jwt_changes_the_sub_keeps_header_and_signature():
    original = f"{b64({'alg': 'RS256'})}.{b64({'sub': 'user-1', 'n': 1})}.c2ln"
    changed = t.tampered(original)
    header, payload, signature = changed.split(".")
    assert header == original.split(".")[0] and signature == "c2ln" and "=" not in payload
    assert t.b64url_json(payload) == {"sub": "user-1-tampered", "n": 1}


@pytest.mark.parametrize("claims", [{"sub": 5}, {}])
def test_tampered_jwt_without_a_text_sub_gets_one(claims):
    changed = t.tampered(f"{b64({'alg': 'RS256'})}.{b64(claims)}.c2ln")
    assert t.b64url_json(changed.split(".")[1])["sub"] == "-tampered"


@pytest.mark.parametrize(("opaque", "expected"), [("abcdef", "abcAef"), ("abcAef", "abcBef"), ("x", "A")])
def test_tampered_opaque_token_changes_its_middle_character(opaque, expected):
    assert t.tampered(opaque) == expected


# -- sub_shape -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sub", "expected"), [
    ("abc123", (CheckStatus.FAIL, "sub has 6 characters; Plaid needs >= 7")),
    ("abc1234", (CheckStatus.PASS, "sub has 7 characters, not an email address or phone number")),
    ("jo@ex.com", (CheckStatus.FAIL, "sub looks like an email address (9 characters): PII that can change")),
    ("+14155550100", (CheckStatus.FAIL, "sub looks like a phone number (12 characters): PII that can change")),
    ("(415) 555-0100", (CheckStatus.FAIL, "sub looks like a phone number (14 characters): PII that can change")),
    ("4155550100", (CheckStatus.WARN, "sub is 10 digits only: make sure it is not a phone number")),
    ("1234567", (CheckStatus.WARN, "sub is 7 digits only: make sure it is not a phone number")),
    ("123456789012345", (CheckStatus.WARN, "sub is 15 digits only: make sure it is not a phone number")),
    ("1234567890123456", (CheckStatus.PASS, "sub has 16 characters, not an email address or phone number")),
    ("123-45-6", (CheckStatus.PASS, "sub has 8 characters, not an email address or phone number")),
    ("auth0|65f0c0ffee", (CheckStatus.PASS, "sub has 16 characters, not an email address or phone number")),
])
def test_sub_shape(sub, expected):
    assert t.sub_shape(sub) == expected


# -- keys ------------------------------------------------------------------------------------------------------


def test_signing_keys_are_the_sig_keys_that_may_verify():
    keys = [{"kid": "a"}, {"kid": "b", "use": "sig"}, {"kid": "c", "use": "enc"}, {"kid": "d", "key_ops": ["verify"]},
            {"kid": "e", "key_ops": ["sign"]}, {"kid": "f", "key_ops": "verify"}, "junk",
            {"kid": "g", "use": "sig", "key_ops": ["encrypt", "verify"]}]
    assert [k["kid"] for k in t.signing_keys({"keys": keys})] == ["a", "b", "d", "g"]


@pytest.mark.parametrize("jwks", [{}, {"keys": None}, {"keys": {"kid": "a"}}])
def test_signing_keys_of_a_document_without_a_key_list(jwks):
    assert t.signing_keys(jwks) == []


def test_rsa_bits_of_a_published_key():
    assert t.rsa_bits(rsa_key().jwk()) == 2048
    assert t.rsa_bits({"n": b64(None)[:0] + "AQAB"}) == 17  # 0x010001


@pytest.mark.parametrize("key", [{}, {"n": 5}, {"n": "a"}])
def test_rsa_bits_is_zero_when_n_is_missing_or_unreadable(key):
    assert t.rsa_bits(key) == 0


# -- verify ----------------------------------------------------------------------------------------------------


def jwks(*keys, drop_kid: bool = False) -> dict:
    out = []
    for k in keys:
        jwk = k.jwk()
        if drop_kid:
            jwk.pop("kid")
        out.append(jwk)
    return {"keys": out}


def test_verify_with_the_matching_kid():
    key = rsa_key()
    claims, note = t.verify(token(key), jwks(key), issuer=ISSUER, audience=AUDIENCE)
    assert claims is not None and claims["iss"] == ISSUER and note == "RS256, kid matches the JWKS"


def test_verify_with_a_key_published_without_kid():
    key = rsa_key()
    claims, note = t.verify(token(key), jwks(key, drop_kid=True), issuer=ISSUER, audience=AUDIENCE)
    assert claims is not None and note == "RS256, verified with a JWKS key without kid"


def test_a_token_without_kid_uses_a_key_without_kid_only():
    key = rsa_key()
    no_kid = token(key, headers={"kid": None})
    assert t.verify(no_kid, jwks(key), audience=AUDIENCE) == (None, "RS256: no JWKS key has the token's kid")
    assert t.verify(no_kid, jwks(key, drop_kid=True), audience=AUDIENCE)[1] == \
        "RS256, verified with a JWKS key without kid"


def test_the_right_key_is_found_after_a_wrong_candidate():
    right, wrong = rsa_key(), rsa_key()
    published = {"keys": [{**wrong.jwk(), "kid": right.kid}, right.jwk()]}
    claims, note = t.verify(token(right), published, audience=AUDIENCE)
    assert claims is not None and note == "RS256, kid matches the JWKS"


@pytest.mark.parametrize(("value", "why"), [
    ("opaque", "not a JWT"),
    (f"{b64({'alg': 'HS256', 'kid': 'k'})}.{b64({})}.s",
     "alg HS256 is not an asymmetric algorithm published in a JWKS"),
    (f"{b64({'kid': 'k'})}.{b64({})}.s", "alg null is not an asymmetric algorithm published in a JWKS"),
    (f"{b64({'alg': 'none'})}.{b64({})}.s", "alg none is not an asymmetric algorithm published in a JWKS"),
])
def test_verify_refuses_what_is_not_an_asymmetric_jwt(value, why):
    assert t.verify(value, {"keys": []}) == (None, why)


def test_verify_without_a_jwks():
    assert t.verify(token(rsa_key()), None) == (None, "the JWKS is unavailable (see JWKS-KEYS)")


def test_verify_with_no_key_for_the_kid():
    assert t.verify(token(rsa_key()), jwks(rsa_key())) == (None, "RS256: no JWKS key has the token's kid")


def test_verify_names_each_claim_problem():
    key, now = rsa_key(), int(time.time())
    keys = jwks(key)
    assert t.verify(token(key), keys, issuer="https://other.example/", audience=AUDIENCE) == \
        (None, "iss is not the discovery issuer")
    assert t.verify(token(key), keys, issuer=ISSUER, audience="someone-else") == (None, "aud does not name the client")
    assert t.verify(token(key, claims={"exp": now - 120}), keys, audience=AUDIENCE) == (None, "expired")
    assert t.verify(token(key, drop=("exp",)), keys, audience=AUDIENCE, options={"require": ["exp"]}) == \
        (None, "no exp claim")


def test_verify_allows_a_minute_of_clock_skew():
    key, now = rsa_key(), int(time.time())
    claims, _ = t.verify(token(key, claims={"exp": now - 30}), jwks(key), audience=AUDIENCE)
    assert claims is not None


def test_verify_says_why_a_signature_does_not_verify():
    key, other = rsa_key(), rsa_key()
    forged = {"keys": [{**other.jwk(), "kid": key.kid}]}
    assert t.verify(token(key), forged, audience=AUDIENCE) == (None, "does not verify (InvalidSignatureError)")


def test_a_key_of_another_type_under_the_tokens_kid_is_a_reason_not_a_traceback():
    """An EC key published under an RS256 token's kid: PyJWT raises InvalidKeyError (not an InvalidTokenError)."""
    key, ec = rsa_key(), ec_key()
    published = {"keys": [{**ec.jwk(), "kid": key.kid}]}
    assert t.verify(token(key), published, audience=AUDIENCE) == (None, "does not verify (InvalidKeyError)")
