"""JWKS-ROTATION: the signing-key set compared with the one an earlier run saw (docs/rotation.md, docs/probe.md).

Plaid caches a JWKS for 24 hours (plaid_contract.PLAID_JWKS_CACHE_HOURS). The safe rotation publishes the next
key, waits 24 h before signing with it, and keeps the old key published 24 h after it stopped signing. A JWKS
does not say which key signs, so what a scheduled run can know is when each kid appeared and disappeared:

- a kid first seen less than 24 h ago is a **next key** being published: shown, with the earliest time it may
  sign;
- a kid seen by the previous run and gone now, less than 24 h after it was last seen, is a **warning**: if it
  signed in the 24 h before it was removed, Plaid may still hold tokens signed with it and a cached JWKS that
  does not yet have its successor (or, the other way round, a cached JWKS that lacks the new key).

The state is a small JSON object (:func:`dumps`/:func:`loads`), stored by the caller (the probe: an SSM
parameter it owns). Hostile or corrupt state is treated as no state (a first run), never an exception.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import plaid_contract as plaid
from lambdas.oidc_checks.model import Finding, count, passed, shown_kid, warned

CACHE_SECONDS: Final = plaid.PLAID_JWKS_CACHE_HOURS * 3600
#: At most this many kids are remembered (an SSM standard parameter holds 4 KB).
MAX_KIDS: Final = 16
#: A kid longer than this is remembered by its SHA-256 (shown as ``sha256:<hex>``).
MAX_KID_STORED: Final = 128
STATE_VERSION: Final = 1


@dataclass(frozen=True)
class Seen:
    """When a kid was first and last seen in the JWKS (Unix seconds), and whether it appeared after an earlier run
    (its first-seen time is then when it was published, within one interval; a kid of the first run was published
    at some unknown earlier time)."""

    first: int
    last: int
    appeared: bool = False


Kids = dict[str, Seen]


def stored_kid(kid: str) -> str:
    """The kid as the state keeps it: itself, or ``sha256:<hex>`` when longer than MAX_KID_STORED."""
    if len(kid) <= MAX_KID_STORED:
        return kid
    return "sha256:" + hashlib.sha256(kid.encode("utf-8", "surrogatepass")).hexdigest()


def _when(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _ago(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min" if seconds >= 3600 else f"{seconds // 60} min"


def compare(previous: Kids | None, current: Sequence[str], now: int) -> tuple[Finding, Kids]:
    """JWKS-ROTATION for the signing kids ``current`` seen at ``now`` against ``previous`` (None: no earlier run);
    the finding and the state to keep for the next run."""
    kept: Kids = {}
    for kid in (stored_kid(k) for k in current):
        if len(kept) >= MAX_KIDS:
            break
        before = previous.get(kid) if previous else None
        if before is not None:
            kept[kid] = Seen(first=before.first, last=now, appeared=before.appeared)
        else:
            kept[kid] = Seen(first=now, last=now, appeared=previous is not None)
    if previous is None:
        return passed(f"first run: {count(len(kept), 'signing kid')} recorded "
                      f"({', '.join(shown_kid(k) for k in kept)})"), kept
    notes: list[str] = []
    warnings: list[str] = []
    for kid, seen in previous.items():
        if kid in kept:
            continue
        since = now - seen.last
        if since < CACHE_SECONDS:
            warnings.append(
                f"kid {shown_kid(kid)} was removed from the JWKS less than {plaid.PLAID_JWKS_CACHE_HOURS} h after it "
                f"was last seen ({_when(seen.last)}, {_ago(max(since, 0))} ago): Plaid caches a JWKS for "
                f"{plaid.PLAID_JWKS_CACHE_HOURS} h, so if it signed in that time Plaid's users may fail; keep a key "
                f"published {plaid.PLAID_JWKS_CACHE_HOURS} h after it stops signing (docs/rotation.md)")
        else:
            notes.append(f"kid {shown_kid(kid)} removed, last seen {_when(seen.last)}")
    for kid, seen in kept.items():
        age = now - seen.first
        if seen.appeared and age < CACHE_SECONDS:
            notes.append(f"next key kid {shown_kid(kid)} first seen {_when(seen.first)} ({_ago(max(age, 0))} ago): "
                         f"sign with it no earlier than {_when(seen.first + CACHE_SECONDS)}")
    summary = f"{count(len(kept), 'signing kid')}: " + ", ".join(shown_kid(k) for k in kept)
    detail = "; ".join([summary, *warnings, *notes])
    return (warned(detail) if warnings else passed(detail)), kept


def dumps(kids: Kids) -> str:
    """The state as compact JSON (what the probe stores)."""
    return json.dumps({"version": STATE_VERSION,
                       "kids": {k: {"first": s.first, "last": s.last, "appeared": s.appeared}
                                for k, s in kids.items()}},
                      separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Kids | None:
    """The state from :func:`dumps`'s JSON; None when absent or not a state this version wrote."""
    if not text:
        return None
    try:
        doc: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION or not isinstance(doc.get("kids"), dict):
        return None
    kids: Kids = {}
    for kid, seen in list(doc["kids"].items())[:MAX_KIDS]:
        if (isinstance(seen, Mapping) and all(isinstance(seen.get(f), int) and not isinstance(seen.get(f), bool)
                                              for f in ("first", "last"))):
            kids[kid] = Seen(first=seen["first"], last=seen["last"], appeared=seen.get("appeared") is True)
    return kids
