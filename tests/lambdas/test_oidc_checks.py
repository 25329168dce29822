"""lambdas/oidc_checks/: the judging shared by `plaid-ready check` and the readiness probe (the CLI's own tests,
tests/readiness/test_check*.py, cover discovery and JWKS-KEYS through the command); here the rotation memory and
what only the shared package says."""

from __future__ import annotations

import json

import pytest

import plaid_contract as plaid
from lambdas.customers_current import verifier
from lambdas.oidc_checks import discovery, keys, rotation
from lambdas.oidc_checks.model import Status

HOUR = 3600
T0 = 1_800_000_000


def test_min_rsa_bits_is_the_customers_lambdas_floor():
    assert keys.MIN_RSA_BITS == verifier.MIN_RSA_BITS


def test_first_run_records_the_kids_and_passes():
    finding, kept = rotation.compare(None, ["a", "b"], T0)
    assert finding.status is Status.PASS and "first run: 2 signing kids recorded (a, b)" in finding.detail
    assert kept == {"a": rotation.Seen(T0, T0, False), "b": rotation.Seen(T0, T0, False)}


def test_a_kid_that_appears_is_shown_as_the_next_key_with_when_it_may_sign():
    _, kept = rotation.compare(None, ["old"], T0)
    finding, kept = rotation.compare(kept, ["old", "next"], T0 + 900)
    assert finding.status is Status.PASS
    assert "next key kid next first seen 2027-01-15T08:15Z (0 min ago)" in finding.detail
    assert "sign with it no earlier than 2027-01-16T08:15Z" in finding.detail
    assert kept["next"] == rotation.Seen(T0 + 900, T0 + 900, True) and kept["old"].first == T0
    finding, kept = rotation.compare(kept, ["old", "next"], T0 + 2 * HOUR)  # still shown, with its age
    assert "next key kid next first seen 2027-01-15T08:15Z (1 h 45 min ago)" in finding.detail
    # 24 h later it is no longer news
    finding, _ = rotation.compare(kept, ["old", "next"], T0 + 900 + plaid.PLAID_JWKS_CACHE_HOURS * HOUR)
    assert "next key" not in finding.detail


def test_a_kid_of_the_first_run_is_not_called_a_next_key():
    _, kept = rotation.compare(None, ["a", "b"], T0)
    finding, _ = rotation.compare(kept, ["a", "b"], T0 + 900)
    assert finding.status is Status.PASS and "next key" not in finding.detail


def test_a_kid_removed_within_24_hours_of_last_being_seen_warns():
    _, kept = rotation.compare(None, ["old", "new"], T0)
    finding, kept = rotation.compare(kept, ["new"], T0 + 900)
    assert finding.status is Status.WARN
    assert "kid old was removed from the JWKS less than 24 h after it was last seen" in finding.detail
    assert "Plaid caches a JWKS for 24 h" in finding.detail and "docs/rotation.md" in finding.detail
    assert set(kept) == {"new"}
    finding, _ = rotation.compare(kept, ["new"], T0 + 1800)  # reported once: the next run no longer knows it
    assert finding.status is Status.PASS


def test_a_kid_removed_after_a_gap_of_more_than_24_hours_is_only_noted():
    _, kept = rotation.compare(None, ["old", "new"], T0)
    finding, _ = rotation.compare(kept, ["new"], T0 + plaid.PLAID_JWKS_CACHE_HOURS * HOUR)
    assert finding.status is Status.PASS and "kid old removed, last seen" in finding.detail


def test_state_round_trips_and_hostile_state_is_no_state():
    _, kept = rotation.compare(None, ["a"], T0)
    _, kept = rotation.compare(kept, ["a", "k" * 500], T0 + 60)
    assert rotation.loads(rotation.dumps(kept)) == kept
    assert any(k.startswith("sha256:") for k in kept)  # a very long kid is remembered by its digest
    for bad in (None, "", "{}", "[]", "not json", "[" * 100_000, json.dumps({"version": 2, "kids": {}}),
                json.dumps({"version": 1, "kids": []})):
        assert rotation.loads(bad) is None
    odd = rotation.loads(json.dumps({"version": 1, "kids": {"a": {"first": "x", "last": 1}, "b": {"first": 1,
                                                                                                 "last": 2}}}))
    assert odd == {"b": rotation.Seen(1, 2, False)}


def test_state_is_bounded():
    _, kept = rotation.compare(None, [f"kid-{i}" for i in range(100)], T0)
    assert len(kept) == rotation.MAX_KIDS
    assert len(rotation.dumps({f"{'k' * 128}{i}"[:128]: rotation.Seen(T0, T0, True) for i in range(16)})) < 4096


@pytest.mark.parametrize(("keys_doc", "status", "needle"), [
    ({"keys": []}, Status.FAIL, "no signing key"),
    ({"keys": [{"kty": "EC", "kid": "a"}, {"kty": "EC", "kid": "b"}]}, Status.PASS,
     "one signs and the other is the next (or previous) key"),
    ({"keys": [{"kty": "EC", "kid": "a"}, {"kty": "EC", "kid": "a"}]}, Status.WARN, "share a kid"),
])
def test_jwks_answer(keys_doc, status, needle):
    found = keys.answer(200, "application/json", keys_doc, "")
    assert found.status is status and needle in found.detail


def test_signing_kids_are_the_string_kids_of_signing_keys_once_each():
    doc = {"keys": [{"kid": "a"}, {"kid": "b", "use": "enc"}, {"kid": 3}, {"kid": "a"}, {"kid": "c",
                                                                                         "key_ops": ["verify"]}]}
    assert keys.signing_kids(doc) == ["a", "c"]


def test_discovery_answer_needs_json_content_type():
    assert discovery.answer(200, "text/html", {"a": 1}, "").status is Status.FAIL
    assert discovery.answer(404, "application/json", None, "").detail == "HTTP 404, application/json: expected 200"
    assert discovery.is_oidc("https://x.example/.well-known/openid-configuration")
