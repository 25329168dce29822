"""The Plaid readiness checklist: rules that evaluate what a stack declares.

A rule looks at the declared resources (type and camelCase inputs, as the engine and the policy
pack both see them) and returns a :class:`Finding`. The same rules run in the offline plan, the
CrossGuard policy pack (``policy/``) and, where they concern live endpoints, the live check.

Statuses:

- ``pass``: the declaration meets Plaid's rule.
- ``closest``: the IdP cannot meet Plaid's rule literally; the declaration is the closest setting the
  IdP accepts, and ``reason`` says why. Does not fail the plan.
- ``fail``: the declaration misses the rule. A failing *mandatory* rule fails the plan (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    PASS = "pass"
    CLOSEST = "closest"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    status: Status
    declared: str
    reason: str = ""


class Resource(Protocol):
    """What a rule may read: a declared resource (see readiness.engine.DeclaredResource)."""

    type: str
    name: str
    protect: bool
    inputs: dict[str, Any]

    def input(self, *path: str | int, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class Context:
    resources: Sequence[Resource]
    #: "dev", "staging" or "prod"; None where unknown (then prod-only rules are skipped).
    environment: str | None = None
    #: Whether secret inputs are marked (readiness.engine.SecretValue). True in the plan and tests; False
    #: in the policy pack, where the engine hands policies plain values and secretness cannot be judged.
    secrets_marked: bool = True

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def has_prefix(self, prefix: str) -> bool:
        return any(r.type.startswith(prefix) for r in self.resources)


@dataclass(frozen=True)
class Rule:
    id: str
    requirement: str
    evaluate: Callable[[Context], Finding]
    #: Whether the rule concerns this stack at all (e.g. Auth0 rules only where Auth0 is declared).
    applies: Callable[[Context], bool] = field(default=lambda ctx: True)
    mandatory: bool = True
    source: str = ""


@dataclass(frozen=True)
class Result:
    rule: Rule
    finding: Finding

    @property
    def failed(self) -> bool:
        return self.finding.status is Status.FAIL and self.rule.mandatory


def evaluate(rules: Iterable[Rule], ctx: Context) -> list[Result]:
    results = []
    for rule in rules:
        if rule.applies(ctx):
            results.append(Result(rule, rule.evaluate(ctx)))
    return results


def ok(declared: str) -> Finding:
    return Finding(Status.PASS, declared)


def fail(declared: str, reason: str) -> Finding:
    return Finding(Status.FAIL, declared, reason)


def closest(declared: str, reason: str) -> Finding:
    return Finding(Status.CLOSEST, declared, reason)


def all_rules() -> list[Rule]:
    """Every rule, in checklist order."""
    from readiness.rules import RULES

    return list(RULES)
