"""The vocabulary of readiness rules: what a rule reads, what it returns. Pure (standard library only).

A rule looks at the declared resources (type and camelCase inputs, as the engine and the policy pack both
see them) and returns a :class:`Finding`. Rules live next to what they judge: each IdP's in its package
(``components/idps/<idp>/rules.py``), the client secret's and the customers API's in ``readiness/rules/``.
They import this module, never ``readiness`` (arrows point one way: readiness -> components). The
checklist itself (which rules, in which order) is ``readiness/checklist.py``.

Statuses:

- ``pass``: the declaration meets Plaid's rule.
- ``closest``: the IdP cannot meet Plaid's rule literally; the declaration is the closest setting the
  IdP accepts, and ``reason`` says why. Does not fail the plan.
- ``fail``: the declaration misses the rule. A failing *mandatory* rule fails the plan (exit 1).

Values: a secret input is a :class:`SecretValue` where secrets are marked (the plan, tests), a value only
the cloud knows is :data:`UNKNOWN` (the engine turns Pulumi's own markers into it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol


class Status(StrEnum):
    PASS = "pass"
    CLOSEST = "closest"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    status: Status
    declared: str
    reason: str = ""


class SecretValue:
    """Marker for a secret value in recorded inputs (keeps the value for tests, never prints it)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "[secret]"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("secret", repr(self.value)))


#: How a value only the cloud knows reads in a mock answer and in the plan.
UNKNOWN_TEXT: Final = "(known after apply)"


class Unknown:
    """A value only the cloud knows (an id, an ARN, a generated client id): :data:`UNKNOWN`, one instance."""

    __slots__ = ()
    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return UNKNOWN_TEXT


UNKNOWN: Final = Unknown()


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is only known after apply."""
    return value is UNKNOWN


def is_secret(value: Any) -> bool:
    """Whether ``value`` is marked secret (only where secrets are marked: see :attr:`Context.secrets_marked`)."""
    return isinstance(value, SecretValue)


def unwrap(value: Any) -> Any:
    return value.value if isinstance(value, SecretValue) else value


class Resource(Protocol):
    """What a rule may read: a declared resource (see readiness.engine.DeclaredResource)."""

    urn: str
    type: str
    name: str
    #: The parent's URN ("" for none). A URN names its parents' types: ``...::<parent type>$<type>::<name>``.
    parent_urn: str
    protect: bool
    inputs: dict[str, Any]
    #: URNs of the resources it depends on (what Pulumi records).
    dependencies: list[str]

    def input(self, *path: str | int, default: Any = None) -> Any: ...


def urn_type(urn: str) -> str:
    """The type a URN names (``urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`` -> ``<type>``)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def in_component(resource: Resource, component_type: str) -> bool:
    """Whether ``resource`` is a component of ``component_type`` or one of its direct children (its URN names
    the parent's type). For any depth, see :meth:`Context.within`."""
    return resource.type == component_type or urn_type(resource.parent_urn) == component_type


@dataclass(frozen=True)
class Context:
    resources: Sequence[Resource]
    #: "dev", "staging" or "prod"; None where unknown (then prod-only rules are skipped).
    environment: str | None = None
    #: Whether secret inputs are marked (:class:`SecretValue`). True in the plan and tests; False in the policy
    #: pack, where the engine hands policies plain values and secretness cannot be judged.
    secrets_marked: bool = True

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def has_prefix(self, prefix: str) -> bool:
        return any(r.type.startswith(prefix) for r in self.resources)

    def within(self, component_type: str) -> list[Resource]:
        """The resources declared inside a component of ``component_type``, at any depth (by their parents'
        URNs), and the components themselves."""
        by_urn = {r.urn: r for r in self.resources}

        def inside(r: Resource) -> bool:
            seen: set[str] = set()
            parent = r.parent_urn
            while parent and parent not in seen:
                if urn_type(parent) == component_type:
                    return True
                seen.add(parent)
                above = by_urn.get(parent)
                parent = above.parent_urn if above is not None else ""
            return False

        return [r for r in self.resources if r.type == component_type or inside(r)]


def _always(ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    id: str
    requirement: str
    evaluate: Callable[[Context], Finding]
    #: Whether the rule concerns this stack at all (e.g. Auth0 rules only where Auth0 is declared).
    applies: Callable[[Context], bool] = field(default=_always)
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
