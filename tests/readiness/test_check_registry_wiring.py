"""The registry's wiring (readiness/check/registry.py): each check and each precondition is given the run itself, a
registered check keeps its stage and requirement, and a RecursionError fails only the checks not yet run, each
under its own spec (written for the `check` mutation group, issue #22)."""

from __future__ import annotations

from readiness.check.model import CheckResult, CheckSpec, CheckStatus, Outcome, Stage, passed, skipped
from readiness.check.registry import TOO_DEEP, StageChecks
from readiness.check.run import Run
from tests.readiness.test_check_registry import _run


def test_a_registered_check_keeps_its_id_stage_and_requirement():
    stage = StageChecks(Stage.LOGIN)

    def judge(run: Run) -> Outcome:
        return passed("ok")

    assert stage.check("X-ONE", "the requirement")(judge) is judge
    assert stage.specs == (CheckSpec("X-ONE", Stage.LOGIN, "the requirement"),)
    assert stage.checks[0].judge is judge and stage.checks[0].needs == ()


def test_checks_gates_and_needs_are_given_the_run_itself():
    seen: list[tuple[str, object]] = []

    def gate(run: Run) -> Outcome | None:
        seen.append(("gate", run))
        return None

    def need(run: Run) -> Outcome | None:
        seen.append(("need", run))
        return None

    def judge(run: Run) -> Outcome:
        seen.append(("judge", run))
        return passed("judged")

    stage = StageChecks(Stage.API, gate=gate)
    stage.check("A", "a", needs=[need])(judge)
    run = _run()
    stage.run(run)
    assert seen == [("gate", run), ("need", run), ("judge", run)]
    assert run.results["A"] == CheckResult(CheckSpec("A", Stage.API, "a"), CheckStatus.PASS, "judged")


def test_the_first_unmet_need_is_the_reason_and_later_needs_are_not_asked():
    asked: list[str] = []

    def first(run: Run) -> Outcome | None:
        asked.append("first")
        return None

    def second(run: Run) -> Outcome | None:
        asked.append("second")
        return skipped("second is missing")

    def third(run: Run) -> Outcome | None:
        asked.append("third")
        return skipped("third is missing")

    stage = StageChecks(Stage.LOGIN)
    stage.check("A", "a", needs=[first, second, third])(lambda run: passed("never"))
    run = _run()
    stage.run(run)
    assert asked == ["first", "second"]
    assert (run.results["A"].status, run.results["A"].detail) == (CheckStatus.SKIP, "second is missing")


def test_a_recursion_error_after_two_checks_keeps_both_results():
    def too_deep(run: Run) -> Outcome:
        raise RecursionError

    stage = StageChecks(Stage.DISCOVERY)
    stage.check("A", "a")(lambda run: passed("first"))
    stage.check("B", "b")(lambda run: passed("second"))
    stage.check("C", "c")(too_deep)
    stage.check("D", "d")(lambda run: passed("never"))
    run = _run()
    stage.run(run)
    assert list(run.results.values()) == [
        CheckResult(CheckSpec("A", Stage.DISCOVERY, "a"), CheckStatus.PASS, "first"),
        CheckResult(CheckSpec("B", Stage.DISCOVERY, "b"), CheckStatus.PASS, "second"),
        CheckResult(CheckSpec("C", Stage.DISCOVERY, "c"), CheckStatus.FAIL, TOO_DEEP),
        CheckResult(CheckSpec("D", Stage.DISCOVERY, "d"), CheckStatus.FAIL, TOO_DEEP),
    ]
