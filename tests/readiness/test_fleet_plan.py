"""``plaid-ready plan --all`` / ``--stacks``: a generated fleet (tests/fleet_gen.py, all three IdPs, dev and prod)
planned in the worker pool, with a stack file that does not parse and a stack planted to collide.

One pool run plans the 14 stacks (module fixture); the reports are built from its outcomes: the 12 generated stacks
alone (clean: every stack ready, every fleet rule passes) and all 14. The command line runs on small selections.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from readiness.cli import main
from readiness.fleet.facts import StackFacts
from readiness.fleet.plan import FleetReport, plan_stacks, select_stacks
from readiness.fleet.worker import StackOutcome
from tests.fleet_gen import fleet_project, generate_fleet, stack_config, write_stack

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "readiness" / "fleet" / "fleet.schema.json").read_text())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict[str, StackOutcome]]:
    project = fleet_project(tmp_path_factory.mktemp("fleet"))
    names = generate_fleet(project, 12)
    (project / "stacks" / "Pulumi.broken.yaml").write_text("config:\n  aws:region: [us-east-1\n")
    _, copy = stack_config(1)  # i0000-prod, under another name: same code, domain, tenant, names
    write_stack(project, "i0000-prod-copy", copy)
    outcomes = plan_stacks(project, [*names, "broken", "i0000-prod-copy"], jobs=2)
    return project, names, {o.stack: o for o in outcomes}


def test_the_generated_fleet_is_clean(fleet: tuple[Path, list[str], dict[str, StackOutcome]]) -> None:
    _, names, outcomes = fleet
    report = FleetReport.build("plaid-ready-idp", [outcomes[n] for n in names])
    assert {(o.idp, o.environment) for o in report.outcomes} == {
        (idp, env) for idp in ("auth0", "okta", "cognito") for env in ("dev", "prod")}
    assert [report.verdict(o) for o in report.outcomes] == ["ready"] * 12, [o.errors for o in report.outcomes]
    assert not any(report.collisions.values())
    doc = report.to_json()
    jsonschema.validate(doc, SCHEMA)
    assert doc["ready"] is True and doc["summary"] == {"stacks": 12, "ready": 12, "notReady": 0, "errors": 0}
    text = report.to_text()
    assert text.splitlines()[2].split() == ["STACK", "IDP", "ENV", "VERDICT", "FAILING", "RULES"]
    assert text.endswith("Verdict: every stack is ready for Plaid as declared, and no fleet rule fails.")


def test_facts_come_from_the_declared_resources(fleet: tuple[Path, list[str], dict[str, StackOutcome]]) -> None:
    _, _, outcomes = fleet
    okta: StackFacts | None = outcomes["i0001-prod"].facts
    assert okta is not None
    assert okta.tenant == "okta:i0001-prod.okta.com"
    assert okta.hostnames == ("login.i0001.example", "fdx.i0001.example")
    assert okta.api_names == ("i0001-prod-core-exchange",)
    # a prod stack runs the readiness probe by default (docs/probe.md): its function is a name the fleet must not share
    assert set(okta.function_names) == {"i0001-prod-customers-current", "i0001-prod-readiness-probe"}
    assert okta.secret_names == ("plaid-ready-idp/i0001-prod/plaid-client",)
    assert okta.kms_aliases == ("alias/plaid-ready-idp/i0001-prod/plaid-client",)
    assert okta.client_names == ("Plaid (Institution 0001 Credit Union)",)
    assert okta.account == "111122223333" and okta.region == "us-east-1"
    cognito = outcomes["i0002-dev"].facts
    assert cognito is not None and cognito.tenant is None  # a new pool: the stack's own
    assert cognito.hostnames == ("i0002-dev.auth.us-east-1.amazoncognito.com",)
    assert set(cognito.function_names) == {"i0002-dev-customers-current", "i0002-dev-scope-adapter"}
    assert cognito.client_names == ("plaid-i0002-dev",)


def test_collisions_and_a_broken_file_in_the_fleet(fleet: tuple[Path, list[str], dict[str, StackOutcome]]) -> None:
    _, names, outcomes = fleet
    report = FleetReport.build("plaid-ready-idp", [outcomes[n] for n in [*names, "broken", "i0000-prod-copy"]])
    doc = report.to_json()
    jsonschema.validate(doc, SCHEMA)
    rows = {row["stack"]: row for row in doc["stacks"]}
    assert rows["broken"]["verdict"] == "error"
    assert rows["broken"]["errors"] == ["Pulumi.broken.yaml: not valid YAML at line 3, column 1: "
                                        "expected ',' or ']', but got '<stream end>'"]
    planted = {"FLEET-INSTITUTION-CODE", "FLEET-CUSTOM-DOMAIN", "FLEET-API-NAME", "FLEET-FUNCTION-NAME",
               "FLEET-SECRET-NAME", "FLEET-KMS-ALIAS", "FLEET-PLAID-CLIENT"}
    for stack in ("i0000-prod", "i0000-prod-copy"):
        assert rows[stack]["verdict"] == "not-ready"
        assert set(rows[stack]["failing"]) == planted
    assert sorted(s for s, r in rows.items() if r["verdict"] != "ready") == ["broken", "i0000-prod",
                                                                            "i0000-prod-copy"]
    assert {r["id"] for r in doc["fleetRules"] if r["status"] == "fail"} == planted
    assert doc["ready"] is False
    text = report.to_text()
    assert "Stacks that could not be planned:\n  broken:\n    - Pulumi.broken.yaml: not valid YAML" in text
    assert "domain 'fdx.i0000.example' is claimed by stacks i0000-prod, i0000-prod-copy" in text


def test_select_stacks() -> None:
    names = ["a-dev", "a-prod", "b-dev"]
    assert select_stacks(names, None) == names
    assert select_stacks(names, "*-dev") == ["a-dev", "b-dev"]
    assert select_stacks(names, "c*") == []


def test_cli_plans_a_selection_in_process(fleet: tuple[Path, list[str], dict[str, StackOutcome]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    project, _, _ = fleet
    assert main(["plan", "--stacks", "i0000-dev", "--dir", str(project), "--json", "--details"]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, SCHEMA)
    assert [r["stack"] for r in doc["stacks"]] == ["i0000-dev"]
    assert doc["stacks"][0]["plan"]["kind"] == "offline-plan" and doc["stacks"][0]["plan"]["stack"] == "i0000-dev"


@pytest.mark.parametrize(("argv", "message"), [
    (["--stacks", "nomatch*"], "no stack matches 'nomatch*'; available stacks: broken, i0000-dev"),
    (["--all", "--jobs", "0"], "--jobs must be between 1 and 64"),
    (["--all", "--head", "x.json"], "--head goes with one --stack"),
    (["--all", "--compare", "HEAD", "--details"], "a fleet comparison (--all/--stacks with --compare) prints"),
    (["--all", "--summary"], "--summary goes with one --stack"),
])
def test_cli_usage_errors(fleet: tuple[Path, list[str], dict[str, StackOutcome]], capsys: pytest.CaptureFixture[str],
                          argv: list[str], message: str) -> None:
    project, _, _ = fleet
    assert main(["plan", *argv, "--dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"plaid-ready plan: {message}") and "Traceback" not in err


def test_cli_usage_error_as_json(fleet: tuple[Path, list[str], dict[str, StackOutcome]],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    project, _, _ = fleet
    assert main(["plan", "--stacks", "zz*", "--json", "--dir", str(project)]) == 2
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["errors"][0].startswith("no stack matches 'zz*'")


def test_stack_and_all_do_not_go_together(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "auth0-example", "--all"]) == 2
    assert "argument --all: not allowed with argument --stack" in capsys.readouterr().err
    assert main(["plan", "--stack", "auth0-example", "--jobs", "2"]) == 2
    assert "--jobs and --details go with --all or --stacks GLOB" in capsys.readouterr().err


def test_generated_stacks_are_valid_yaml(tmp_path: Path) -> None:
    project = fleet_project(tmp_path)
    names = generate_fleet(project, 6)
    docs = [yaml.safe_load((project / "stacks" / f"Pulumi.{n}.yaml").read_text()) for n in names]
    assert [d["config"]["plaid-ready-idp:idp"] for d in docs] == ["auth0", "auth0", "okta", "okta", "cognito",
                                                                    "cognito"]
