"""SECRET-ROTATION: CLOSEST with the reason and the runbook where the IdP holds one client secret (Auth0, Okta);
PASS with the phase where it holds two (Cognito)."""

from __future__ import annotations

from typing import Any

import pytest

from readiness.checklist import Context, Status, all_rules, evaluate
from tests.harness import run_stack_program, settings_with

ADMINS = ["arn:aws:iam::111122223333:role/plaid-ready-deployer"]
SECTIONS = {"auth0": {"domain": "first-platypus-dev.us.auth0.com"},
            "okta": {"orgUrl": "https://first-platypus.okta.com"},
            "cognito": {"domainPrefix": "first-platypus-dev"}}


def row(idp: str, **secret: Any):
    s = settings_with(idp=idp, auth0=None, clientSecret={"administrators": ADMINS, **secret})
    s[idp] = SECTIONS[idp]
    resources = run_stack_program(s, compute=False).resources
    [result] = [x for x in evaluate(all_rules(), Context(resources, "dev")) if x.rule.id == "SECRET-ROTATION"]
    return result.finding


@pytest.mark.parametrize(("idp", "why"), [("auth0", "rotate-secret replaces it at once (no overlap)"),
                                          ("okta", "which would bring a retired secret back")])
def test_one_secret_idps_are_closest_with_the_reason_and_the_runbook(idp, why):
    f = row(idp)
    assert f.status is Status.CLOSEST
    assert f.declared.startswith(f"{idp}: one client secret at a time")
    assert why in f.reason and f.reason.endswith("with Plaid's dashboard: docs/rotation.md#client-secret")


def test_cognito_passes_and_names_each_phase():
    f = row("cognito")
    assert f.status is Status.PASS and "add-next, then retire-previous" in f.declared
    f = row("cognito", version=2, rotation={"phase": "add-next"})
    assert f.status is Status.PASS and f.declared.startswith("two-phase rotation, phase 1 (add-next)")
    assert "plaid-ready check --secret-stage AWSPENDING" in f.declared
    f = row("cognito", version=2, rotation={"phase": "retire-previous"})
    assert f.status is Status.PASS and f.declared.startswith("two-phase rotation, phase 2 (retire-previous)")
    assert "Plaid must already use it" in f.declared


def test_the_runbook_the_row_links_to_exists():
    from tests.harness import ROOT

    text = (ROOT / "docs" / "rotation.md").read_text()
    assert "\n## Client secret\n" in text  # docs/rotation.md#client-secret
    assert "\n### Two-phase (Cognito)\n" in text and "\n### One-step (Auth0 and Okta)\n" in text
    assert "](#two-phase-cognito)" in text and "](#one-step-auth0-and-okta)" in text
