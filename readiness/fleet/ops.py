"""``plaid-ready fleet up|preview``: run ``pulumi up`` (or ``preview``) over many stacks with Pulumi's Automation API
(``pulumi.automation``), in order and with a limit (docs/fleet.md).

- Non-prod stacks first; prod stacks only if every non-prod stack succeeded.
- At most ``concurrency`` stacks at once (a thread each: the work is the Pulumi CLI's, in its own process).
- Each stack's offline plan (its Plaid readiness) is read right before its operation (the command plans every stack
  first, in the worker pool, and starts nothing if a fleet rule fails); the first stack that is not ready, or
  whose operation fails, stops the fleet: no further stack starts (those already running finish), the rest are
  reported ``skipped``.
- One summary table at the end.

The orchestration takes a *workspace factory* (stack name -> an object with ``up``, ``preview`` and ``outputs``, the
interface of ``pulumi.automation.Stack``) and a *planner* (stack name -> its offline plan outcome): the command
passes :func:`automation_factory` and the offline planner; tests pass fakes. The Pulumi CLI cannot run where this
was written: the orchestration is tested against a fake workspace, the real run is unproven.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from readiness.fleet.worker import StackOutcome

Operation = Literal["up", "preview"]


class StackLike(Protocol):
    """What the orchestration uses of ``pulumi.automation.Stack``."""

    def up(self) -> Any: ...  # noqa: ANN401 - pulumi.automation's UpResult
    def preview(self) -> Any: ...  # noqa: ANN401 - pulumi.automation's PreviewResult
    def outputs(self) -> Any: ...  # noqa: ANN401 - pulumi.automation's OutputMap


WorkspaceFactory = Callable[[str], StackLike]
Planner = Callable[[str], StackOutcome]


def automation_factory(program_dir: Path) -> WorkspaceFactory:
    """Stacks of the project in ``program_dir`` run by the local Pulumi CLI (``pulumi.automation.select_stack``:
    the stack must exist in the backend the CLI is logged in to; its settings are the stack file)."""
    from pulumi import automation

    def make(stack: str) -> StackLike:
        return automation.select_stack(stack_name=stack, work_dir=str(program_dir))

    return make


@dataclass
class StackRun:
    stack: str
    environment: str
    #: ``succeeded``, ``not-ready`` (the offline plan failed a rule or could not run), ``failed`` (the operation
    #: raised), ``skipped`` (not started: an earlier stack stopped the fleet, or non-prod did not all succeed).
    status: str = "skipped"
    detail: str = ""
    changes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class FleetRun:
    operation: Operation
    runs: list[StackRun]
    #: The most stacks whose operation ran at the same time (never above the limit).
    max_concurrent: int = 0

    @property
    def ok(self) -> bool:
        return all(r.status == "succeeded" for r in self.runs)

    def to_text(self) -> str:
        counts = {s: sum(1 for r in self.runs if r.status == s) for s in ("succeeded", "not-ready", "failed",
                                                                          "skipped")}
        lines = [f"Fleet {self.operation} of {len(self.runs)} stacks: " + ", ".join(f"{n} {s}" for s, n in
                                                                                counts.items()), ""]
        header = ("STACK", "ENV", "RESULT", "CHANGES", "DETAIL")
        rows = [(r.stack, r.environment or "-", r.status,
                 ", ".join(f"{k} {v}" for k, v in sorted(r.changes.items())) or "-", r.detail or "-")
                for r in self.runs]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
        return "\n".join(lines)


def _changes(operation: Operation, result: Any) -> dict[str, int]:  # noqa: ANN401 - UpResult or PreviewResult
    if operation == "up":
        raw = getattr(getattr(result, "summary", None), "resource_changes", None)
    else:
        raw = getattr(result, "change_summary", None)
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower() if not hasattr(k, "value") else str(k.value): int(v) for k, v in raw.items()}


def _last_line(exc: BaseException, limit: int = 300) -> str:
    """The end of an error (the Pulumi CLI's last words), on one line: never a traceback."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_fleet(stacks: Sequence[tuple[str, str]], operation: Operation, factory: WorkspaceFactory, planner: Planner,
              concurrency: int) -> FleetRun:
    """Run ``operation`` over ``stacks`` ((name, environment) pairs): non-prod first, then prod if all non-prod
    succeeded; at most ``concurrency`` at once; stop at the first failure."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    runs = {name: StackRun(name, env) for name, env in stacks}
    phases = [[n for n, e in stacks if e != "prod"], [n for n, e in stacks if e == "prod"]]
    stop = threading.Event()
    lock = threading.Lock()
    active = 0
    fleet = FleetRun(operation, [runs[n] for n, _ in stacks])

    def one(name: str) -> None:
        nonlocal active
        run = runs[name]
        if stop.is_set():
            run.detail = "not started: an earlier stack failed"
            return
        outcome = planner(name)
        if outcome.verdict != "ready":
            run.status = "not-ready"
            run.detail = ("offline plan: " + (", ".join(outcome.failing) or "; ".join(outcome.errors)
                                              or outcome.verdict))
            stop.set()
            return
        if stop.is_set():
            run.detail = "not started: an earlier stack failed"
            return
        with lock:
            active += 1
            fleet.max_concurrent = max(fleet.max_concurrent, active)
        start = time.monotonic()
        try:
            stack = factory(name)
            result = stack.up() if operation == "up" else stack.preview()
            run.status, run.changes = "succeeded", _changes(operation, result)
        except Exception as exc:  # noqa: BLE001 - one stack's failure is a row, and stops the fleet
            run.status, run.detail = "failed", _last_line(exc)
            stop.set()
        finally:
            run.seconds = time.monotonic() - start
            with lock:
                active -= 1

    for i, phase in enumerate(phases):
        if not phase:
            continue
        if i == 1 and stop.is_set():
            for name in phase:
                runs[name].detail = "not started: a non-prod stack did not succeed"
            break
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(one, name) for name in phase]:
                future.result()
    return fleet
