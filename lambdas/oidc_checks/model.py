"""A finding of one check (its status and what was seen) and how server-supplied values are shown in it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

#: Key ids longer than this are shown cut, with an explicit ellipsis.
KID_SHOWN: Final = 100
ELLIPSIS: Final = "..."


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """What one check found: its status and what was seen (or why it did not run)."""

    status: Status
    detail: str


def passed(detail: str) -> Finding:
    return Finding(Status.PASS, detail)


def failed(detail: str) -> Finding:
    return Finding(Status.FAIL, detail)


def warned(detail: str) -> Finding:
    return Finding(Status.WARN, detail)


def skipped(reason: str) -> Finding:
    return Finding(Status.SKIP, reason)


def shown(value: Any, limit: int = 120) -> str:  # noqa: ANN401 - any JSON value
    """A server-supplied JSON value as short text: a string cut at ``limit`` with an explicit ellipsis, a
    number as written, anything else by its kind (never ``str()`` of a structure, which could be nested
    thousands of levels deep)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:max(limit - len(ELLIPSIS), 1)] + ELLIPSIS
    if value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
        return text if len(text) <= limit else text[:limit - len(ELLIPSIS)] + ELLIPSIS
    return "(a JSON array)" if isinstance(value, list) else "(a JSON object)"


def count(n: int, noun: str) -> str:
    """``1 key``, ``2 keys``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def shown_kid(kid: Any) -> str:  # noqa: ANN401 - any JSON value
    """A key id in full up to KID_SHOWN characters, else cut with an explicit ellipsis."""
    return shown(kid, KID_SHOWN) if kid not in (None, "") else "(none)"
