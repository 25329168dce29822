"""`plaid-ready check`'s registry of checks: each check registered on its stage with its id and requirement, the
stages in Plaid's order, gates and needs as skips, and a RecursionError as a failure of the rest of a stage."""

from __future__ import annotations

import pytest

from readiness.check.model import CheckStatus, Outcome, Stage, failed, passed, skipped
from readiness.check.options import Options
from readiness.check.registry import TOO_DEEP, StageChecks
from readiness.check.run import Run
from readiness.check.stages import CHECK_IDS, CHECKS, STAGES, api, discovery, keys, login


def _run() -> Run:
    opts = Options(discovery_url="https://idp.example/.well-known/openid-configuration", client_id=None, secret=None,
                   customers_url=None, cacert=None, redirect_port=1, redirect_host="127.0.0.1", login_timeout=1,
                   timeout=1, json=True, secret_source=None, secret_arn_hint=None)
    return Run(opts, None, None)


def test_the_stages_run_in_plaids_order_each_with_its_own_checks():
    assert [s.stage for s in STAGES] == list(Stage)
    assert [s.stage for s in STAGES] == [m.STAGE.stage for m in (discovery, keys, login, api)]
    for stage in STAGES:
        assert stage.checks and all(c.spec.stage is stage.stage for c in stage.checks)
    assert len(set(CHECK_IDS)) == len(CHECK_IDS) == 16
    assert tuple(c.id for c in CHECKS) == CHECK_IDS


def test_a_check_id_cannot_be_registered_twice():
    stage = StageChecks(Stage.KEYS)
    stage.check("X-ONE", "one")(lambda run: passed("ok"))
    with pytest.raises(ValueError, match="X-ONE is registered twice"):
        stage.check("X-ONE", "again")(lambda run: passed("ok"))


def test_a_gate_skips_every_check_of_its_stage_and_no_check_runs():
    ran: list[str] = []
    stage = StageChecks(Stage.API, gate=lambda run: skipped("no --customers-url", for_lack_of_input=True))
    for name in ("A", "B"):
        stage.check(name, name)(lambda run, name=name: ran.append(name) or passed("ran"))
    run = _run()
    stage.run(run)
    assert ran == []
    assert [(r.status, r.detail, r.for_lack_of_input) for r in run.results.values()] == \
        [(CheckStatus.SKIP, "no --customers-url", True)] * 2


def test_needs_skip_only_their_check_and_the_stage_goes_on():
    def nothing_yet(run: Run) -> Outcome | None:
        return skipped("no tokens (see A)")

    stage = StageChecks(Stage.LOGIN)
    stage.check("A", "a")(lambda run: failed("login failed"))
    stage.check("B", "b", needs=[nothing_yet])(lambda run: passed("never"))
    stage.check("C", "c")(lambda run: passed("still runs"))
    run = _run()
    stage.run(run)
    assert {k: (r.status, r.detail) for k, r in run.results.items()} == {
        "A": (CheckStatus.FAIL, "login failed"), "B": (CheckStatus.SKIP, "no tokens (see A)"),
        "C": (CheckStatus.PASS, "still runs")}


def test_a_recursion_error_fails_its_check_and_the_rest_of_its_stage_only():
    def too_deep(run: Run) -> Outcome:
        raise RecursionError("maximum recursion depth exceeded")

    stage = StageChecks(Stage.DISCOVERY)
    stage.check("A", "a")(lambda run: passed("fine"))
    stage.check("B", "b")(too_deep)
    stage.check("C", "c")(lambda run: passed("never reached"))
    later = StageChecks(Stage.KEYS)
    later.check("D", "d")(lambda run: passed("the next stage runs"))
    run = _run()
    stage.run(run)
    later.run(run)
    assert {k: (r.status, r.detail) for k, r in run.results.items()} == {
        "A": (CheckStatus.PASS, "fine"), "B": (CheckStatus.FAIL, TOO_DEEP), "C": (CheckStatus.FAIL, TOO_DEEP),
        "D": (CheckStatus.PASS, "the next stage runs")}


def test_without_a_discovery_document_every_later_stage_says_why():
    """The real stages: no document (and no inputs) skips Keys for that reason, Login and API for lack of inputs."""
    run = _run()
    for stage in STAGES[1:]:
        stage.run(run)
    assert {r.id: r.detail for r in run.results.values() if r.spec.stage is Stage.KEYS} == {
        "JWKS-KEYS": "no discovery document (see DISCOVERY-FETCH)"}
    assert {r.detail for r in run.results.values() if r.spec.stage is Stage.LOGIN} == {
        "no --client-id (and no secret): the login is not requested"}
    assert all(r.for_lack_of_input for r in run.results.values() if r.spec.stage in (Stage.LOGIN, Stage.API))
