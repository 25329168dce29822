"""plan --compare across the phases of a two-phase client-secret rotation (Cognito): phase 1 is a notice with
no impact on Plaid, phase 2 breaks unless Plaid already has the new secret (and says so louder when phase 1
was skipped). The plans are the real program's resources for each phase, under the mock engine."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from readiness import compare
from readiness.compare.model import read_plan
from readiness.engine import SecretValue
from readiness.exit_codes import ExitCode
from tests.harness import run_stack_program, settings_with

ADMINS = ["arn:aws:iam::111122223333:role/plaid-ready-deployer"]


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: {"secret": True} if isinstance(o, SecretValue) else repr(o)))


@cache
def plan(version: int, phase: str) -> Any:
    s = settings_with(idp="cognito", auth0=None, cognito={"domainPrefix": "first-platypus-dev"},
                      clientSecret={"administrators": ADMINS, "version": version, "rotation": {"phase": phase}})
    d = run_stack_program(s, compute=True)
    doc = {"stack": "s", "project": "p", "outputs": {}, "readiness": [],
           "resources": [{"type": r.type, "name": r.name, "parent": None, "custom": True, "protect": r.protect,
                          "inputs": _plain({k: v for k, v in r.inputs.items() if k != "__provider"})}
                         for r in d.resources]}
    return read_plan(doc)


def impact(old: tuple[int, str], new: tuple[int, str]) -> tuple[list[tuple[str, str]], compare.Comparison]:
    comp = compare.compare_plans(plan(*old), plan(*new), "s", "base")
    return [(x.severity, x.message) for x in comp.impact if x.kind == "client-secret-rotation"], comp


def test_phase_1_is_a_notice_with_no_impact_on_plaid():
    rows, comp = impact((1, "none"), (2, "add-next"))
    [(severity, message)] = rows
    assert severity == "notice"
    assert message.startswith("Client-secret rotation, phase 1 (add-next): a new secret is added to the IdP next "
                              "to the current one and stored staged AWSPENDING; Plaid's current secret keeps "
                              "working, so nothing changes for Plaid.")
    assert "`plaid-ready check --secret-arn ARN --secret-stage AWSPENDING`" in message
    assert not [x for x in comp.impact if x.severity == "breaking"]
    assert comp.exit_code != ExitCode.PLAID_BREAKING


def test_phase_2_breaks_unless_plaid_already_uses_the_new_secret():
    rows, comp = impact((2, "add-next"), (2, "retire-previous"))
    [(severity, message)] = rows
    assert severity == "breaking"
    assert "Plaid must already use the new secret" in message and "Phase 1 was not deployed" not in message
    assert comp.exit_code == ExitCode.PLAID_BREAKING


def test_skipping_phase_1_says_plaid_cannot_have_the_new_secret():
    rows, _ = impact((1, "none"), (2, "retire-previous"))
    [(severity, message)] = rows
    assert severity == "breaking" and message.endswith(
        "Phase 1 was not deployed before this change (no AWSPENDING version in the base): Plaid cannot have the new "
        "secret yet; deploy phase add-next first.")


def test_back_to_none_after_phase_2_changes_nothing_for_plaid():
    rows, comp = impact((2, "retire-previous"), (2, "none"))
    assert rows == [] and not comp.impact


def test_rolling_back_phase_1_warns_that_plaid_may_already_use_the_new_secret():
    rows, comp = impact((2, "add-next"), (1, "none"))
    [(severity, message)] = rows
    assert severity == "breaking" and message.startswith(
        "The IdP's client secret fpb-plaid-secret-v2-cognito is deleted (clientSecret.version went down, or a "
        "rotation's phase 1 was rolled back): if Plaid already uses it")
    assert comp.exit_code == ExitCode.PLAID_BREAKING


def test_phase_2_of_a_later_rotation_says_it_once():
    rows, _ = impact((3, "add-next"), (3, "retire-previous"))  # v2's resource goes with the retirement
    assert [severity for severity, _ in rows] == ["breaking"]
    assert "phase 2 (retire-previous)" in rows[0][1]
