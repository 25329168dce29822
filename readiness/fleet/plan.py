"""``plaid-ready plan --all`` / ``--stacks GLOB``: plan many stacks in a bounded pool of long-lived workers, then
judge them together (the fleet rules) and report one table (readiness/fleet/fleet.schema.json for ``--json``).

Each worker is one interpreter (``spawn``, not ``fork``: Pulumi's runtime holds gRPC state and threads that a fork
would copy) started once, which imports the heavy modules once (:func:`readiness.fleet.worker.warm`) and then plans
stack after stack: the pool never starts a process per stack. With one stack or ``--jobs 1`` the stacks are planned
in this process.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readiness.fleet.rules import RULES, Collision, evaluate_fleet
from readiness.fleet.worker import StackOutcome, plan_one, warm

#: Version of the ``plan --all --json`` document (readiness/fleet/fleet.schema.json).
FLEET_SCHEMA_VERSION = 1


def select_stacks(available: Sequence[str], pattern: str | None) -> list[str]:
    """Every stack (``--all``: pattern None) or those whose name matches the glob ``pattern`` (``--stacks``)."""
    if pattern is None:
        return sorted(available)
    return sorted(s for s in available if fnmatch.fnmatchcase(s, pattern))


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def plan_stacks(program_dir: Path, stacks: Sequence[str], jobs: int, *, details: bool = False,
                progress: Callable[[StackOutcome], None] | None = None) -> list[StackOutcome]:
    """Plan ``stacks`` with at most ``jobs`` worker processes; outcomes in the order of ``stacks``."""
    outcomes: dict[str, StackOutcome] = {}

    def done(outcome: StackOutcome) -> None:
        outcomes[outcome.stack] = outcome
        if progress is not None:
            progress(outcome)

    workers = max(1, min(jobs, len(stacks)))
    if workers == 1:
        for stack in stacks:
            done(plan_one(str(program_dir), stack, details))
        return [outcomes[s] for s in stacks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=warm) as pool:
        futures: dict[Future[StackOutcome], str] = {
            pool.submit(plan_one, str(program_dir), stack, details): stack for stack in stacks}
        for future, stack in futures.items():
            try:
                done(future.result())
            except BrokenProcessPool:
                done(StackOutcome(stack=stack, verdict="error",
                                  errors=["the worker planning this stack died (out of memory, or killed); plan it "
                                          "alone with plaid-ready plan --stack " + stack]))
    return [outcomes[s] for s in stacks]


@dataclass
class FleetReport:
    project: str
    outcomes: list[StackOutcome]
    collisions: dict[str, list[Collision]]

    @classmethod
    def build(cls, project: str, outcomes: list[StackOutcome]) -> FleetReport:
        facts = [o.facts for o in outcomes if o.facts is not None]
        return cls(project, outcomes, evaluate_fleet(facts))

    def fleet_failures(self, stack: str) -> list[str]:
        return [rule for rule, found in self.collisions.items() if any(stack in c.stacks for c in found)]

    def failing(self, outcome: StackOutcome) -> list[str]:
        return [*outcome.failing, *self.fleet_failures(outcome.stack)]

    def verdict(self, outcome: StackOutcome) -> str:
        if outcome.verdict == "ready" and self.fleet_failures(outcome.stack):
            return "not-ready"
        return outcome.verdict

    @property
    def ready(self) -> bool:
        return all(self.verdict(o) == "ready" for o in self.outcomes) and bool(self.outcomes)

    def counts(self) -> dict[str, int]:
        verdicts = [self.verdict(o) for o in self.outcomes]
        return {"stacks": len(verdicts), "ready": verdicts.count("ready"), "notReady": verdicts.count("not-ready"),
                "errors": verdicts.count("error")}

    # -- text --------------------------------------------------------------------------------------------------

    def to_text(self, details: bool = False) -> str:
        c = self.counts()
        failing_rules = [r.id for r in RULES if self.collisions[r.id]]
        lines = [f"Fleet plan of {c['stacks']} stack{'' if c['stacks'] == 1 else 's'} (project {self.project}): "
                 f"{c['ready']} ready, {c['notReady']} not ready, {c['errors']} with errors; "
                 f"{len(RULES)} fleet rules, {len(failing_rules)} failing", ""]
        header = ("STACK", "IDP", "ENV", "VERDICT", "FAILING RULES")
        rows = [(o.stack, o.idp or "-", o.environment or "-", self.verdict(o),
                 ", ".join(self.failing(o)) or ("see errors below" if o.errors else "-")) for o in self.outcomes]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
        errors = [o for o in self.outcomes if o.errors]
        if errors:
            lines += ["", "Stacks that could not be planned:"]
            for o in errors:
                lines.append(f"  {o.stack}:")
                lines.extend(f"    - {e}" for e in o.errors)
        lines += ["", "Fleet rules:"]
        for rule in RULES:
            found = self.collisions[rule.id]
            lines.append(f"  {'FAIL' if found else 'PASS'}  {rule.id}: {rule.requirement}")
            lines.extend(f"        - {c.detail}" for c in found)
        if details:
            for o in self.outcomes:
                if o.summary_text:
                    lines += ["", f"--- {o.stack} ---", o.summary_text]
        lines += ["", self.verdict_line()]
        return "\n".join(lines)

    def verdict_line(self) -> str:
        if self.ready:
            return "Verdict: every stack is ready for Plaid as declared, and no fleet rule fails."
        bad = [o.stack for o in self.outcomes if self.verdict(o) != "ready"]
        if not bad:
            return "Verdict: NOT READY: no stack was planned."
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        return f"Verdict: NOT READY: {len(bad)} stack{'' if len(bad) == 1 else 's'} not ready ({shown})."

    # -- json --------------------------------------------------------------------------------------------------

    def to_json(self, details: bool = False) -> dict[str, Any]:
        stacks = []
        for o in self.outcomes:
            row: dict[str, Any] = {"stack": o.stack, "idp": o.idp, "environment": o.environment,
                                   "institution": o.institution, "verdict": self.verdict(o),
                                   "failing": self.failing(o), "errors": list(o.errors)}
            if details and o.plan is not None:
                row["plan"] = o.plan
            stacks.append(row)
        return {
            "schemaVersion": FLEET_SCHEMA_VERSION,
            "kind": "fleet-plan",
            "project": self.project,
            "ready": self.ready,
            "summary": self.counts(),
            "stacks": stacks,
            "fleetRules": [{"id": r.id, "requirement": r.requirement,
                            "status": "fail" if self.collisions[r.id] else "pass",
                            "collisions": [{"stacks": list(c.stacks), "detail": c.detail}
                                           for c in self.collisions[r.id]]} for r in RULES],
        }
