"""The comparison of two plans: Plaid impact (readiness.compare.plaid), readiness rules whose status changed,
resource changes (readiness.compare.model), and the exit code they make."""

from __future__ import annotations

from dataclasses import dataclass

from readiness.compare.model import Change, Plan, ResourceChange, diff_outputs, diff_resources
from readiness.compare.plaid import BREAKING, Impact, plaid_impact
from readiness.compare.planning import HEAD_LABEL
from readiness.exit_codes import ExitCode


@dataclass(frozen=True)
class RuleChange:
    """A readiness rule whose status changed. ``mandatory`` False: an advisory rule (it never fails the plan)."""

    id: str
    before: str
    after: str
    requirement: str
    newly_failing: bool
    mandatory: bool = True

    @property
    def after_label(self) -> str:
        label = self.after.upper() if self.after == "fail" else self.after
        return label if self.mandatory else f"{label} (advisory)"


@dataclass
class Comparison:
    stack: str
    base_label: str
    head_label: str
    impact: list[Impact]
    readiness: list[RuleChange]
    resources: list[ResourceChange]
    outputs: list[Change]
    new_stack: bool = False

    @property
    def breaking(self) -> list[Impact]:
        return [x for x in self.impact if x.severity == BREAKING]

    @property
    def newly_failing(self) -> list[str]:
        return [r.id for r in self.readiness if r.newly_failing]

    @property
    def unchanged(self) -> bool:
        return not (self.impact or self.readiness or self.resources or self.outputs)

    @property
    def exit_code(self) -> ExitCode:
        if self.newly_failing:
            return ExitCode.NOT_READY
        if self.breaking:
            return ExitCode.PLAID_BREAKING
        return ExitCode.OK


def compare_plans(base: Plan, head: Plan, stack: str, base_label: str, head_label: str = HEAD_LABEL,
                  new_stack: bool = False) -> Comparison:
    """The comparison of two plans. ``new_stack``: the base has no such stack (an empty plan): nothing has been
    given to Plaid yet, so nothing can break it; the readiness rows are the new stack's verdict."""
    changes = diff_resources(base, head)
    readiness = []
    for rid in [*base.rules, *(r for r in head.rules if r not in base.rules)]:
        old, new = base.rules.get(rid), head.rules.get(rid)
        a = old.status if old else "not evaluated"
        b = new.status if new else "not evaluated"
        if a != b:
            rule = new or old
            assert rule is not None
            newly = bool(new and new.failing and not (old and old.failing))
            readiness.append(RuleChange(rid, a, b, rule.requirement, newly, rule.mandatory))
    impact = [] if new_stack else plaid_impact(base, head, changes)
    return Comparison(stack, base_label, head_label, impact, readiness, changes, diff_outputs(base, head),
                      new_stack=new_stack)
