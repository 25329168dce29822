"""The registry of checks: each check is one function, registered on its stage with its stable id and the requirement
it judges, so a check's id, description and code sit together (readiness/check/stages/).

    STAGE = StageChecks(Stage.KEYS, gate=...)

    @STAGE.check("JWKS-KEYS", "the JWKS answers with a signing key; ...")
    def jwks_keys(run: Run) -> Outcome: ...

A stage runs its checks in the order they are registered. Its ``gate`` (why none of its checks can run: no discovery
document, no login requested) skips them all with that reason; a check's ``needs`` (what an earlier check of the same
run must have found) skips it alone. A check never raises on what a server sends: a value that is not what it should
be is a failure with the reason. One that is nested too deeply to walk (RecursionError) fails the check and every
check of its stage not yet run, with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from readiness.check.model import CheckResult, CheckSpec, CheckStatus, Outcome, Stage
from readiness.check.run import Run

#: A check's code: what it judges from the run (and, for a check that fetches, what it leaves for later checks).
Judge = Callable[[Run], Outcome]
#: Why a check (or a stage) cannot run in this run, as a skip; None when it can.
Precondition = Callable[[Run], Outcome | None]

TOO_DEEP: Final = "a server's answer is nested too deeply to judge"


@dataclass(frozen=True)
class Check:
    spec: CheckSpec
    judge: Judge
    needs: tuple[Precondition, ...] = ()


@dataclass
class StageChecks:
    """The checks of one stage, in the order they run (and are reported)."""

    stage: Stage
    gate: Precondition | None = None
    checks: list[Check] = field(default_factory=list)

    def check(self, check_id: str, requirement: str, *, needs: Sequence[Precondition] = ()) -> Callable[[Judge], Judge]:
        """Register the decorated function as the check ``check_id`` of this stage."""

        def register(judge: Judge) -> Judge:
            if any(c.spec.id == check_id for c in self.checks):
                raise ValueError(f"check {check_id} is registered twice")
            self.checks.append(Check(CheckSpec(check_id, self.stage, requirement), judge, tuple(needs)))
            return judge

        return register

    @property
    def specs(self) -> tuple[CheckSpec, ...]:
        return tuple(c.spec for c in self.checks)

    def run(self, run: Run) -> None:
        """Run every check of the stage in order, each result stored in ``run.results``."""
        done = 0
        try:
            blocked = self.gate(run) if self.gate is not None else None
            for check in self.checks:
                outcome = blocked or _precondition(run, check.needs) or check.judge(run)
                run.results[check.spec.id] = CheckResult(check.spec, outcome.status, outcome.detail,
                                                         outcome.for_lack_of_input)
                done += 1
        except RecursionError:  # a document nested deeper than any check can walk: a failure, not a crash
            for rest in self.checks[done:]:
                run.results[rest.spec.id] = CheckResult(rest.spec, CheckStatus.FAIL, TOO_DEEP)


def _precondition(run: Run, needs: Sequence[Precondition]) -> Outcome | None:
    for need in needs:
        outcome = need(run)
        if outcome is not None:
            return outcome
    return None
