"""JWKS-KEYS's findings, exactly (status and detail), judged by lambdas/oidc_checks/keys.py without a network.

tests/readiness/test_check.py proves the check through `plaid-ready check` against real providers; these run in
milliseconds, so the `check` mutation group (tools/mutation.toml, issue #22) can run them once per mutant.
"""

from __future__ import annotations

import base64

import pytest

from lambdas.oidc_checks import keys
from lambdas.oidc_checks.model import Finding, Status, skipped

JSON = "application/json"
ROTATION_NOTE = ("; two signing keys: during a rotation one signs and the other is the next (or previous) key, a "
                 "token's kid tells which signs (docs/rotation.md)")


def modulus(bits: int) -> str:
    """An RSA modulus of exactly ``bits`` bits as a JWK's unpadded base64url ``n``."""
    value = (1 << (bits - 1)) | 1
    return base64.urlsafe_b64encode(value.to_bytes((bits + 7) // 8, "big")).decode().rstrip("=")


def rsa(kid: object = "r1", bits: int = 2048, **extra: object) -> dict[str, object]:
    return {"kty": "RSA", "kid": kid, "n": modulus(bits), "e": "AQAB", **extra}


def ec(kid: object = "e1", **extra: object) -> dict[str, object]:
    return {"kty": "EC", "kid": kid, "crv": "P-256", **extra}


def judged(*published: object) -> Finding:
    return keys.answer(200, JSON, {"keys": list(published)}, "")


def test_one_rsa_key_of_2048_bits_passes():
    assert judged(rsa()) == Finding(Status.PASS, "1 key, 1 for signing: RSA 2048 bits kid r1")


def test_two_signing_keys_pass_and_say_what_a_rotation_looks_like():
    assert judged(rsa(), ec()) == Finding(
        Status.PASS, "2 keys, 2 for signing: RSA 2048 bits kid r1; EC kid e1" + ROTATION_NOTE)


def test_three_signing_keys_pass_without_the_rotation_note():
    assert judged(ec("a"), ec("b"), ec("c")) == Finding(
        Status.PASS, "3 keys, 3 for signing: EC kid a; EC kid b; EC kid c")


def test_at_most_five_signing_keys_are_described():
    found = judged(*(ec(f"k{i}") for i in range(7)))
    assert found == Finding(Status.PASS, "7 keys, 7 for signing: " + "; ".join(f"EC kid k{i}" for i in range(5)))


def test_keys_that_do_not_sign_are_counted_not_described():
    found = judged(rsa(), ec("enc", use="enc"), ec("wrap", key_ops=["wrapKey"]), "not a key")
    assert found == Finding(Status.PASS, "3 keys, 1 for signing: RSA 2048 bits kid r1")


def test_an_rsa_key_one_bit_short_fails():
    assert judged(rsa(bits=2047)) == Finding(
        Status.FAIL, "1 key, 1 for signing: RSA 2047 bits kid r1; 1 RSA keys under 2048 bits")


def test_larger_rsa_keys_pass():
    assert judged(rsa(bits=4096)) == Finding(Status.PASS, "1 key, 1 for signing: RSA 4096 bits kid r1")


def test_an_rsa_key_without_a_modulus_is_weak():
    key = {"kty": "RSA", "kid": "r1"}
    assert judged(key) == Finding(Status.FAIL, "1 key, 1 for signing: RSA 0 bits kid r1; 1 RSA keys under 2048 bits")


def test_an_ec_key_has_no_size_rule():
    assert judged(ec(n=modulus(512))).status is Status.PASS


@pytest.mark.parametrize("material", [rsa(d="private-exponent"), ec(d="private-scalar")])
def test_private_key_material_fails(material):
    found = judged(material)
    assert found.status is Status.FAIL
    assert found.detail.endswith("; the JWKS publishes private or symmetric key material")


def test_a_symmetric_key_fails_even_when_it_does_not_sign():
    found = judged(rsa(), {"kty": "oct", "kid": "h", "k": "c2VjcmV0", "use": "enc"})
    assert found == Finding(Status.FAIL, "2 keys, 1 for signing: RSA 2048 bits kid r1; the JWKS publishes private or "
                                         "symmetric key material")


def test_signing_keys_without_kid_fail():
    found = judged(ec(None), {"kty": "EC"}, ec("e3"))
    assert found == Finding(Status.FAIL, "3 keys, 3 for signing: EC kid (none); EC kid (none); EC kid e3; "
                                         "2 of 3 signing keys have no kid")


def test_a_kid_that_is_not_text_fails():
    found = judged(ec(5), ec("e2"))
    assert found == Finding(Status.FAIL, "2 keys, 2 for signing: EC kid 5; EC kid e2; "
                                         "1 of 2 signing keys have a kid that is not a string")


def test_every_problem_is_named_in_order():
    found = judged(rsa(bits=1024, d="x"), ec(None), ec(7))
    assert found == Finding(Status.FAIL, "3 keys, 3 for signing: RSA 1024 bits kid r1; EC kid (none); EC kid 7; "
                                         "the JWKS publishes private or symmetric key material; "
                                         "1 of 3 signing keys have no kid; "
                                         "1 of 3 signing keys have a kid that is not a string; "
                                         "1 RSA keys under 2048 bits")


def test_no_signing_key_fails():
    assert judged() == Finding(Status.FAIL, "0 keys, 0 for signing; no signing key (use sig)")
    assert judged(ec(use="enc")) == Finding(Status.FAIL, "1 key, 0 for signing; no signing key (use sig)")


def test_two_signing_keys_with_one_kid_warn():
    assert judged(ec("a"), ec("a")) == Finding(
        Status.WARN, "2 keys, 2 for signing: EC kid a; EC kid a; two signing keys share a kid")


@pytest.mark.parametrize(("status", "media_type", "doc", "why", "expected"), [
    (404, JSON, {"keys": []}, "", 'jwks_uri: HTTP 404, application/json: expected 200 with {"keys": [...]}'),
    (500, "", None, "not JSON", 'jwks_uri: HTTP 500, no Content-Type: expected 200 with {"keys": [...]}'),
    (200, "", None, "not JSON", "jwks_uri: HTTP 200, no Content-Type: not JSON"),
    (200, JSON, {"keys": {"kid": "a"}}, "", 'jwks_uri: HTTP 200, application/json: expected 200 with {"keys": [...]}'),
    (200, JSON, {}, "", 'jwks_uri: HTTP 200, application/json: expected 200 with {"keys": [...]}'),
    (200, "t" * 70, None, "x", f"jwks_uri: HTTP 200, {'t' * 57}...: x"),
])
def test_an_answer_that_is_not_a_jwks_fails(status, media_type, doc, why, expected):
    assert keys.answer(status, media_type, doc, why) == Finding(Status.FAIL, expected)


def test_the_jwks_uri_findings_before_a_fetch():
    assert keys.unreachable("timed out") == Finding(Status.FAIL, "jwks_uri: timed out")
    assert keys.not_https() == Finding(Status.FAIL, "jwks_uri is not https:// (not fetched; see DISCOVERY-HTTPS)")


@pytest.mark.parametrize("bits", [8, 15, 16, 17, 2047, 2048, 2049, 3072])
def test_rsa_bits_reads_every_modulus_length(bits):
    assert keys.rsa_bits({"n": modulus(bits)}) == bits


@pytest.mark.parametrize("n", [None, 65537, "a", "!!!!"])
def test_rsa_bits_of_an_unreadable_modulus_is_zero(n):
    assert keys.rsa_bits({"n": n}) == 0


def test_a_skipped_finding_keeps_its_reason():
    assert skipped("no jwks_uri") == Finding(Status.SKIP, "no jwks_uri")
