"""What a check of ``plaid-ready check`` is: its spec (stable id, stage, requirement), its outcome and its result
(docs/check.md). The checks themselves, each with its code, are in readiness/check/stages/."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import plaid_contract as plaid
from lambdas.oidc_checks.model import Finding

#: Tolerance on the access-token lifetime and clock skew when verifying tokens.
LIFETIME_TOLERANCE_SECONDS: Final = 60


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Stage(StrEnum):
    DISCOVERY = "Discovery"
    KEYS = "Keys"
    LOGIN = "Login and tokens"
    API = "API"


@dataclass(frozen=True)
class CheckSpec:
    id: str
    stage: Stage
    requirement: str


SCOPES_TEXT: Final = " and ".join(plaid.REQUIRED_SCOPES)


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    status: CheckStatus
    detail: str
    #: A skip because an input was not given (no --customers-url, no login requested): the run is partial.
    for_lack_of_input: bool = False

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Outcome:
    """What one check found: its status and what was seen (or why it did not run)."""

    status: CheckStatus
    detail: str
    #: A skip because an input was not given (no --customers-url, no login requested): the run is partial.
    for_lack_of_input: bool = False


def passed(detail: str) -> Outcome:
    return Outcome(CheckStatus.PASS, detail)


def failed(detail: str) -> Outcome:
    return Outcome(CheckStatus.FAIL, detail)


def warned(detail: str) -> Outcome:
    return Outcome(CheckStatus.WARN, detail)


def skipped(reason: str, *, for_lack_of_input: bool = False) -> Outcome:
    return Outcome(CheckStatus.SKIP, reason, for_lack_of_input)


def outcome(found: Finding) -> Outcome:
    """A finding of the shared checks (lambdas/oidc_checks/) as this command's outcome."""
    return Outcome(CheckStatus(found.status.value), found.detail)
