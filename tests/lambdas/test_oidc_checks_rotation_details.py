"""JWKS-ROTATION's exact details, times and stored state (lambdas/oidc_checks/rotation.py): the summary of the kids,
ages at the hour boundary, UTC whatever the machine's zone, every removed kid reported, the state's exact JSON and
the kid length kept as is (written for the `check` mutation group, issue #22)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator

import pytest

from lambdas.oidc_checks import rotation
from lambdas.oidc_checks.model import Finding, Status

HOUR = 3600
T0 = 1_800_000_000  # 2027-01-15T08:00Z


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """The process's local zone set to UTC+05:30 for the test (times must still be shown in UTC)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_the_summary_names_every_kept_kid():
    previous = {"a": rotation.Seen(T0, T0), "b": rotation.Seen(T0, T0)}
    assert rotation.compare(previous, ["a", "b"], T0 + 60) == (
        Finding(Status.PASS, "2 signing kids: a, b"),
        {"a": rotation.Seen(T0, T0 + 60), "b": rotation.Seen(T0, T0 + 60)})
    assert rotation.compare(previous, ["a"], T0 + 2 * 86400)[0] == Finding(
        Status.PASS, "1 signing kid: a; kid b removed, last seen 2027-01-15T08:00Z")


def test_every_removed_kid_is_reported_after_one_that_is_kept():
    previous = {"kept": rotation.Seen(T0, T0), "gone1": rotation.Seen(T0, T0), "gone2": rotation.Seen(T0, T0)}
    finding, kept = rotation.compare(previous, ["kept"], T0 + 30 * HOUR)
    assert finding == Finding(Status.PASS, "1 signing kid: kept; kid gone1 removed, last seen 2027-01-15T08:00Z; "
                                           "kid gone2 removed, last seen 2027-01-15T08:00Z")
    assert set(kept) == {"kept"}


def test_a_removal_warning_and_a_note_are_joined_after_the_summary():
    previous = {"old": rotation.Seen(T0, T0 + HOUR), "new": rotation.Seen(T0 + HOUR, T0 + HOUR, appeared=True)}
    finding, _ = rotation.compare(previous, ["new"], T0 + 2 * HOUR)
    assert finding.status is Status.WARN
    assert finding.detail == (
        "1 signing kid: new; kid old was removed from the JWKS less than 24 h after it was last seen "
        "(2027-01-15T09:00Z, 1 h 00 min ago): Plaid caches a JWKS for 24 h, so if it signed in that time Plaid's "
        "users may fail; keep a key published 24 h after it stops signing (docs/rotation.md); next key kid new "
        "first seen 2027-01-15T09:00Z (1 h 00 min ago): sign with it no earlier than 2027-01-16T09:00Z")


@pytest.mark.parametrize(("age", "shown"), [
    (0, "0 min"), (59, "0 min"), (60, "1 min"), (3599, "59 min"), (3600, "1 h 00 min"), (3660, "1 h 01 min"),
    (5 * HOUR - 1, "4 h 59 min"), (5 * HOUR, "5 h 00 min"), (23 * HOUR + 59 * 60, "23 h 59 min"),
])
def test_the_age_of_a_next_key(age, shown):
    previous = {"next": rotation.Seen(T0, T0, appeared=True)}
    finding, _ = rotation.compare(previous, ["next"], T0 + age)
    assert f"next key kid next first seen 2027-01-15T08:00Z ({shown} ago)" in finding.detail


def test_times_are_shown_in_utc_whatever_the_local_zone(far_from_utc):
    assert time.localtime(T0).tm_hour != 8  # the fixture moved the local zone
    previous = {"next": rotation.Seen(T0, T0, appeared=True)}
    finding, _ = rotation.compare(previous, ["next"], T0 + 90)
    assert "first seen 2027-01-15T08:00Z (1 min ago): sign with it no earlier than 2027-01-16T08:00Z" in finding.detail


def test_the_state_is_compact_json_with_sorted_keys():
    kids = {"b": rotation.Seen(T0, T0 + 1, True), "a": rotation.Seen(T0, T0)}
    assert rotation.dumps(kids) == (
        '{"kids":{"a":{"appeared":false,"first":1800000000,"last":1800000000},'
        '"b":{"appeared":true,"first":1800000000,"last":1800000001}},"version":1}')


def test_a_kid_of_128_characters_is_kept_as_it_is_and_a_longer_one_as_its_digest():
    assert rotation.stored_kid("k" * 128) == "k" * 128
    assert rotation.stored_kid("k" * 129) == "sha256:" + hashlib.sha256(b"k" * 129).hexdigest()


def test_a_long_kid_with_a_lone_surrogate_is_still_remembered():
    kid = "k" * 200 + "\ud800"
    stored = rotation.stored_kid(kid)
    assert stored == "sha256:" + hashlib.sha256(kid.encode("utf-8", "surrogatepass")).hexdigest()
    assert json.loads(rotation.dumps({stored: rotation.Seen(T0, T0)}))["kids"] == {
        stored: {"first": T0, "last": T0, "appeared": False}}
