"""clientSecret.rotation: the phases, and the specific errors when a phase cannot work."""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import SettingsError
from tests.harness import make_settings

ADMINS = ["arn:aws:iam::111122223333:role/plaid-ready-deployer"]


def secret(**kw: Any) -> dict[str, Any]:
    return {"administrators": ADMINS, **kw}


def cognito(**kw: Any) -> dict[str, Any]:
    return {"idp": "cognito", "auth0": None, "cognito": {"domainPrefix": "first-platypus-dev"},
            "clientSecret": secret(**kw)}


def problems(**changes: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        make_settings(**changes)
    return info.value.problems


def test_default_is_no_rotation():
    s = make_settings()
    assert s.client_secret.rotation.phase.value == "none" and s.client_secret.version == 1


@pytest.mark.parametrize("phase", ["none", "add-next", "retire-previous"])
def test_every_phase_is_accepted_on_cognito(phase):
    s = make_settings(**cognito(version=2, rotation={"phase": phase}))
    assert s.client_secret.rotation.phase.value == phase


@pytest.mark.parametrize("phase", ["add-next", "retire-previous"])
def test_a_phase_needs_version_2_or_more(phase):
    [line] = problems(**cognito(rotation={"phase": phase}))
    assert line.startswith("plaid-ready-idp:clientSecret: rotation.phase")
    assert "version is the NEW secret's version" in line and "bump version together with phase add-next" in line


def test_unknown_phase_names_the_choices():
    [line] = problems(**cognito(version=2, rotation={"phase": "swap"}))
    assert "clientSecret.rotation.phase" in line and "add-next" in line and "retire-previous" in line


def test_unknown_key_in_rotation_is_refused():
    [line] = problems(**cognito(version=2, rotation={"phase": "add-next", "previous": 1}))
    assert "clientSecret.rotation.previous" in line


@pytest.mark.parametrize(("idp", "section", "why"), [
    ("auth0", {"domain": "first-platypus-dev.us.auth0.com"}, "rotate-secret replaces it at once"),
    ("okta", {"orgUrl": "https://first-platypus.okta.com"}, "which would bring a retired secret back"),
])
def test_idps_with_one_secret_refuse_a_phase_and_say_why(idp, section, why):
    changes: dict[str, Any] = {"idp": idp, "auth0": None, idp: section,
                               "clientSecret": secret(version=2, rotation={"phase": "add-next"})}
    lines = problems(**changes)
    line = next(p for p in lines if "clientSecret.rotation.phase:" in p)
    assert f"add-next needs an IdP that holds two client secrets at once; {idp}:" in line
    assert why in line and "docs/rotation.md#client-secret" in line
    # phase none (one-step rotation by version) stays allowed
    changes["clientSecret"] = secret(version=2)
    assert make_settings(**changes).client_secret.version == 2
