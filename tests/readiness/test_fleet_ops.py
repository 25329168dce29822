"""``plaid-ready fleet up|preview`` (readiness/fleet/ops.py) against a fake workspace with the interface of
``pulumi.automation.Stack`` (up, preview, outputs): ordering (non-prod first, prod only after they all succeed),
the concurrency limit (the most stacks observed at once), the first failure stops the fleet, the summary.

No test waits on the clock for its verdict: a fake operation waits (bounded) until as many operations as the limit
allows are running, so the observed maximum is the limit exactly when the limit holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from readiness.cli import main
from readiness.fleet import command, ops
from readiness.fleet.ops import run_fleet
from readiness.fleet.plan import FleetReport
from readiness.fleet.worker import StackOutcome
from tests.fleet_gen import fleet_project, generate_fleet
from tests.readiness.test_fleet_rules import facts

#: The bounded wait of a fake operation for the others (never reached when the code is right).
WAIT = 5.0


@dataclass
class FakeWorkspace:
    """Hands out fake stacks; records the order operations started and the most running at once."""

    limit: int
    fail: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    active: int = 0
    peak: int = 0
    #: The stacks of each phase: an operation stops waiting for company once its phase's stacks have all started.
    phases: list[set[str]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, name: str) -> FakeStack:
        return FakeStack(self, name)

    def operate(self, name: str, kind: str) -> Any:  # noqa: ANN401
        with self.cond:
            self.started.append(name)
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.cond.notify_all()
            phase = next((p for p in self.phases if name in p), {name})
            self.cond.wait_for(lambda: self.active >= self.limit or phase <= set(self.started), WAIT)
        try:
            if name in self.fail:
                raise RuntimeError(f"code: 255\nstderr: error: update failed\n  {name}: AccessDenied on "
                                   "kms:CreateKey")
            if kind == "up":
                return SimpleNamespace(summary=SimpleNamespace(resource_changes={"create": 47}))
            return SimpleNamespace(change_summary={"create": 47})
        finally:
            with self.cond:
                self.active -= 1
                self.cond.notify_all()


@dataclass
class FakeStack:
    workspace: FakeWorkspace
    name: str

    def up(self, **kwargs: Any) -> Any:  # noqa: ANN401
        return self.workspace.operate(self.name, "up")

    def preview(self, **kwargs: Any) -> Any:  # noqa: ANN401
        return self.workspace.operate(self.name, "preview")

    def outputs(self) -> dict[str, Any]:
        return {}


def planner(not_ready: frozenset[str] = frozenset()) -> tuple[list[str], Any]:
    planned: list[str] = []

    def plan(name: str) -> StackOutcome:
        planned.append(name)
        if name in not_ready:
            return StackOutcome(stack=name, verdict="not-ready", failing=["API-MTLS-PROD"])
        return StackOutcome(stack=name, verdict="ready")

    return planned, plan


FLEET = [(f"s{i}-{env}", env) for i in range(4) for env in ("dev", "prod")] + [("s9-staging", "staging")]
PHASES = [{n for n, e in FLEET if e != "prod"}, {n for n, e in FLEET if e == "prod"}]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_non_prod_first_then_prod_within_the_limit(limit: int) -> None:
    ws = FakeWorkspace(limit=limit, phases=PHASES)
    planned, plan = planner()
    run = run_fleet(FLEET, "up", ws, plan, concurrency=limit)
    assert run.ok and [r.status for r in run.runs] == ["succeeded"] * len(FLEET)
    non_prod = {n for n, e in FLEET if e != "prod"}
    assert set(ws.started[:len(non_prod)]) == non_prod  # every non-prod stack started before any prod stack
    assert ws.peak == run.max_concurrent == limit
    assert sorted(planned) == sorted(n for n, _ in FLEET)  # each planned offline before its operation
    assert all(r.changes == {"create": 47} for r in run.runs)


def test_a_failing_operation_stops_the_fleet_and_prod_never_starts() -> None:
    ws = FakeWorkspace(limit=1, fail={"s1-dev"})
    _, plan = planner()
    run = run_fleet(FLEET, "up", ws, plan, concurrency=1)
    by = {r.stack: r for r in run.runs}
    assert ws.started == ["s0-dev", "s1-dev"]
    assert by["s0-dev"].status == "succeeded"
    assert by["s1-dev"].status == "failed" and by["s1-dev"].detail == "s1-dev: AccessDenied on kms:CreateKey"
    assert by["s2-dev"].status == "skipped" and by["s2-dev"].detail == "not started: an earlier stack failed"
    prod = [r for r in run.runs if r.environment == "prod"]
    assert {r.status for r in prod} == {"skipped"}
    assert {r.detail for r in prod} == {"not started: a non-prod stack did not succeed"}
    assert not run.ok


def test_a_stack_not_ready_offline_is_never_operated_and_stops_the_fleet() -> None:
    ws = FakeWorkspace(limit=1)
    planned, plan = planner(frozenset({"s1-dev"}))
    run = run_fleet(FLEET, "preview", ws, plan, concurrency=1)
    by = {r.stack: r for r in run.runs}
    assert ws.started == ["s0-dev"]
    assert planned == ["s0-dev", "s1-dev"]
    assert by["s1-dev"].status == "not-ready" and by["s1-dev"].detail == "offline plan: API-MTLS-PROD"
    assert [r.status for r in run.runs].count("skipped") == len(FLEET) - 2


def test_a_prod_failure_stops_the_remaining_prod_stacks() -> None:
    ws = FakeWorkspace(limit=1, fail={"s0-prod"})
    _, plan = planner()
    run = run_fleet(FLEET, "up", ws, plan, concurrency=1)
    assert ws.started == ["s0-dev", "s1-dev", "s2-dev", "s3-dev", "s9-staging", "s0-prod"]
    assert [r.status for r in run.runs if r.environment == "prod"] == ["failed", "skipped", "skipped", "skipped"]


def test_summary_table() -> None:
    ws = FakeWorkspace(limit=1, fail={"s1-dev"})
    _, plan = planner()
    text = run_fleet(FLEET[:4], "up", ws, plan, concurrency=1).to_text().splitlines()
    assert text[0] == "Fleet up of 4 stacks: 1 succeeded, 0 not-ready, 1 failed, 2 skipped"
    assert text[2].split() == ["STACK", "ENV", "RESULT", "CHANGES", "DETAIL"]
    assert text[3].split()[:4] == ["s0-dev", "dev", "succeeded", "create"]
    assert "failed" in text[5] and text[5].endswith("s1-dev: AccessDenied on kms:CreateKey")


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_fleet(FLEET, "up", FakeWorkspace(limit=1), planner()[1], concurrency=0)


# -- the command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = fleet_project(tmp_path)
    generate_fleet(p, 4)
    return p


def preflight(colliding: bool = False) -> Any:  # noqa: ANN401
    """A fake of the fleet plan ``fleet`` runs first: every stack ready; ``colliding``: two share an API name."""

    def run(program_dir: Path, stacks: list[str], project: str) -> FleetReport:
        outcomes = []
        for name in stacks:
            k, env = int(name[1:5]), name.split("-")[1]
            f = facts(k, env, stack=name, api_names=("shared-api",)) if colliding else facts(k, env, stack=name)
            outcomes.append(StackOutcome(stack=name, verdict="ready", facts=f))
        return FleetReport.build(project, outcomes)

    return run


def test_cli_runs_the_fleet_with_the_automation_factory(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ws = FakeWorkspace(limit=2, phases=[{"i0000-dev", "i0001-dev"}, {"i0000-prod", "i0001-prod"}])
    monkeypatch.setattr(ops, "automation_factory", lambda program_dir: ws)
    monkeypatch.setattr(command.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "fleet_preflight", preflight())
    assert main(["fleet", "up", "--all", "--dir", str(project), "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Fleet up of 4 stacks: 4 succeeded")
    assert set(ws.started[:2]) == {"i0000-dev", "i0001-dev"} and ws.peak == 2


def test_cli_starts_nothing_when_a_fleet_rule_fails(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ws = FakeWorkspace(limit=2)
    monkeypatch.setattr(ops, "automation_factory", lambda program_dir: ws)
    monkeypatch.setattr(command.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "fleet_preflight", preflight(colliding=True))
    assert main(["fleet", "up", "--all", "--dir", str(project)]) == 1
    captured = capsys.readouterr()
    assert "FAIL  FLEET-API-NAME" in captured.out
    assert captured.err.strip() == ("plaid-ready fleet: not started: fleet rules fail (FLEET-API-NAME); fix the "
                                    "stacks first")
    assert ws.started == []


def test_cli_without_the_pulumi_cli(project: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(command.shutil, "which", lambda name: None)
    assert main(["fleet", "preview", "--all", "--dir", str(project)]) == 2
    assert "the Pulumi CLI is not on PATH" in capsys.readouterr().err


def test_cli_refuses_a_broken_stack_file_before_starting(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (project / "stacks" / "Pulumi.broken.yaml").write_text("config: [\n")
    monkeypatch.setattr(command.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    assert main(["fleet", "up", "--all", "--dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert "stack 'broken': Pulumi.broken.yaml: not valid YAML" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["fleet", "up"], "say which stacks: --all, or --stacks GLOB"),
    (["fleet", "up", "--all", "--concurrency", "0"], "--concurrency must be between 1 and 64"),
    (["fleet", "up", "--stacks", "zz*"], "no stack matches 'zz*'"),
])
def test_cli_usage_errors(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main([*argv, "--dir", str(project)]) == 2
    assert capsys.readouterr().err.strip() == f"plaid-ready fleet: {message}"


def test_cli_with_the_real_offline_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The preflight as shipped: two generated stacks planned in the pool, judged, then operated (fake Pulumi)."""
    p = fleet_project(tmp_path)
    generate_fleet(p, 2)
    ws = FakeWorkspace(limit=1)
    monkeypatch.setattr(ops, "automation_factory", lambda program_dir: ws)
    monkeypatch.setattr(command.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    assert main(["fleet", "preview", "--all", "--dir", str(p), "--concurrency", "1"]) == 0
    assert capsys.readouterr().out.startswith("Fleet preview of 2 stacks: 2 succeeded")
    assert ws.started == ["i0000-dev", "i0000-prod"]
