"""``plaid-ready new-stack`` (readiness/fleet/new_stack.py): the written file parses, the settings name every
placeholder with what to fill, and once a person fills them the stack's settings are valid; it never overwrites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.settings import SettingsError, parse_settings
from components.settings.base import PLACEHOLDER
from readiness.cli import main
from readiness.plan import load_stack_config
from tests.fleet_gen import STACKS, fleet_project

#: What a person would write for each placeholder, by the last key of its path.
FILLED = {
    "audience": "https://api.telopea.example/fdx",
    "administrators": "arn:aws:iam::111122223333:role/tcu-deployer",
    "readers": "arn:aws:iam::111122223333:role/tcu-onboarding",
    "email": "oncall@telopea.example",
    "domain": "telopea-dev.us.auth0.com",
    "orgUrl": "https://telopea.okta.com",
    "customDomain": "login.telopea.example",
    "groups": "00g1a2b3c4d5e6f7g8h9",
    "domainName": "fdx.telopea.example",
    "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    "truststoreUri": "s3://telopea-truststore/plaid.pem",
    "truststoreVersion": "v1",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = fleet_project(tmp_path)
    for f in STACKS.glob("Pulumi.*.yaml"):
        (p / "stacks" / f.name).write_text(f.read_text())
    return p


def fill(value: Any, key: str = "") -> Any:  # noqa: ANN401
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return FILLED[key]
    if isinstance(value, dict):
        return {k: fill(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, key) for v in value]
    return value


def filled_config(config: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, raw in config.items():
        name = key.partition(":")[2]
        value = json.loads(raw) if raw[:1] in "{[" else raw
        value = fill(value, name)
        out[key] = json.dumps(value) if isinstance(value, dict | list) else value
    return out


@pytest.mark.parametrize("idp", ["auth0", "okta", "cognito"])
@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("from_example", [False, True])
def test_written_stack_names_every_placeholder_and_is_valid_once_filled(
        project: Path, capsys: pytest.CaptureFixture[str], idp: str, environment: str, from_example: bool) -> None:
    argv = ["new-stack", "tcu-x", "--idp", idp, "--institution", "tcu", "--institution-name", "Telopea Credit Union",
            "--environment", environment, "--dir", str(project)] + (["--from-example"] if from_example else [])
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("wrote stacks/Pulumi.tcu-x.yaml: fill every FILL-IN: value")
    cfg = load_stack_config(project, "tcu-x")
    assert cfg.config["plaid-ready-idp:institution"] == json.dumps({"name": "Telopea Credit Union", "code": "tcu"})
    with pytest.raises(SettingsError) as err:
        parse_settings(cfg.config, cfg.secret_keys)
    assert err.value.problems, "placeholders must stop the settings"
    for line in err.value.problems:
        assert "still a placeholder written by plaid-ready new-stack; fill in " in line, line
    assert any(p.startswith("plaid-ready-idp:audience: still a placeholder") for p in err.value.problems)
    settings = parse_settings(filled_config(cfg.config), cfg.secret_keys)
    assert (settings.idp, settings.environment.value, settings.institution.code) == (idp, environment, "tcu")
    if environment == "prod":
        assert settings.api.custom_domain is not None and settings.api.custom_domain.mtls is not None


def test_never_overwrites(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "stacks" / "Pulumi.auth0-example.yaml").read_text()
    argv = ["new-stack", "auth0-example", "--idp", "auth0", "--institution", "tcu", "--institution-name", "Telopea",
            "--dir", str(project)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == ("plaid-ready new-stack: stacks/Pulumi.auth0-example.yaml exists; "
                                               "new-stack never overwrites a stack file: choose another name, or "
                                               "edit that file")
    assert (project / "stacks" / "Pulumi.auth0-example.yaml").read_text() == before


def test_from_csv_writes_each_row(project: Path, tmp_path: Path) -> None:
    csv = tmp_path / "institutions.csv"
    csv.write_text("stack,idp,institution,institution_name,environment\n"
                   "tcu-dev,okta,tcu,Telopea Credit Union,dev\n"
                   "wcu-prod,cognito,wcu,Waratah Community Bank,prod\n")
    assert main(["new-stack", "--from-csv", str(csv), "--dir", str(project)]) == 0
    for stack, idp in (("tcu-dev", "okta"), ("wcu-prod", "cognito")):
        cfg = load_stack_config(project, stack)
        assert cfg.config["plaid-ready-idp:idp"] == idp
    assert json.loads(load_stack_config(project, "wcu-prod").config["plaid-ready-idp:cognito"])["domainPrefix"] == \
        "wcu-prod"


@pytest.mark.parametrize(("rows", "message"), [
    ("stack,idp,institution\nx,okta,tcu\n", "missing column(s) institution_name"),
    ("stack,idp,institution,institution_name\n", "no rows"),
    ("stack,idp,institution,institution_name\nx,ping,TCU,T\n",
     "idp: one of auth0, okta, cognito"),
    ("stack,idp,institution,institution_name\nauth0-example,okta,tcu,Telopea\nnew,okta,tcu,Telopea\n",
     "stacks/Pulumi.auth0-example.yaml exists"),
])
def test_from_csv_refuses_writing_nothing(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          rows: str, message: str) -> None:
    csv = tmp_path / "institutions.csv"
    csv.write_text(rows)
    before = sorted(p.name for p in (project / "stacks").iterdir())
    assert main(["new-stack", "--from-csv", str(csv), "--dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert sorted(p.name for p in (project / "stacks").iterdir()) == before


@pytest.mark.parametrize(("argv", "message"), [
    (["new-stack", "x", "--idp", "okta"], "missing --institution, --institution-name (or give --from-csv FILE)"),
    (["new-stack", "x", "--idp", "okta", "--institution", "TCU", "--institution-name", "T C U"],
     "institution: the institution code, 2-12 lowercase letters/digits"),
    (["new-stack", "../x", "--idp", "okta", "--institution", "tcu", "--institution-name", "TCU"], "stack name:"),
    (["new-stack", "x", "--from-csv", "f.csv"], "--from-csv FILE takes every stack from the file"),
])
def test_usage_errors(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main([*argv, "--dir", str(project)]) == 2
    assert message in capsys.readouterr().err
