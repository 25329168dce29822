"""True values only: the plan shows the stack's region and never an invented account id, ARN or id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from readiness.engine import MOCK_ACCOUNT, MOCK_REGION, UNKNOWN_ACCOUNT
from readiness.plan import PlanReport, build_report
from tests.harness import ROOT

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def eu_plan(tmp_path_factory: pytest.TempPathFactory) -> PlanReport:
    project = tmp_path_factory.mktemp("eu")
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copy(ROOT / "__main__.py", project)
    (project / "stacks").mkdir()
    src = (ROOT / "stacks" / "Pulumi.auth0-example.yaml").read_text()
    assert f"aws:region: {MOCK_REGION}\n" in src
    (project / "stacks" / "Pulumi.eu.yaml").write_text(src.replace(f"aws:region: {MOCK_REGION}\n",
                                                                   f"aws:region: {REGION}\n"))
    return build_report(project, "eu")


def test_the_region_is_the_stacks_everywhere(eu_plan: PlanReport):
    text, doc = eu_plan.to_text(), json.dumps(eu_plan.to_json())
    assert eu_plan.stack.region == REGION and json.loads(doc)["region"] == REGION
    assert f"region {REGION}" in text.splitlines()[0]
    assert MOCK_REGION not in text and MOCK_REGION not in doc
    body = json.loads(next(r for r in eu_plan.resources if r.type == "aws:cloudwatch/dashboard:Dashboard")
                      .input("dashboardBody"))
    regions = {w["properties"]["region"] for w in body["widgets"]}
    assert regions == {REGION}


def test_no_invented_account_id(eu_plan: PlanReport):
    """What only the cloud knows is unknown: inside the role policy the account is '(account)'."""
    text, doc = eu_plan.to_text(), json.dumps(eu_plan.to_json())
    assert MOCK_ACCOUNT not in text and MOCK_ACCOUNT not in doc
    policy = json.loads(next(r for r in eu_plan.resources if r.type == "aws:iam/rolePolicy:RolePolicy")
                        .input("policy"))
    assert policy["Statement"][0]["Resource"] == (
        f"arn:aws:logs:{REGION}:{UNKNOWN_ACCOUNT}:log-group:/aws/lambda/fpb-dev-customers-current:*")
    assert f'"Resource": "arn:aws:logs:{REGION}:{UNKNOWN_ACCOUNT}:log-group:' in text
    # Ids and ARNs the cloud assigns are typed unknowns in --json, never invented strings.
    fn = next(r for r in eu_plan.to_json()["resources"] if r["type"] == "aws:lambda/function:Function")
    assert fn["inputs"]["role"] == {"unknown": True}
    assert not [line for line in text.splitlines() if "arn:aws:" in line and UNKNOWN_ACCOUNT not in line
                and "::" not in line]


def test_the_least_privilege_rule_can_judge_the_placeholder(eu_plan: PlanReport):
    """The readiness rule reads the policy with the account placeholder (readiness/rules/api.py)."""
    row = next(x for x in eu_plan.results if x.rule.id == "API-LEAST-PRIVILEGE")
    assert row.finding.status.value == "pass", row.finding


def test_a_stack_without_a_region_is_refused(tmp_path: Path):
    from components.settings import SettingsError

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / "stacks").mkdir()
    src = (ROOT / "stacks" / "Pulumi.auth0-example.yaml").read_text().replace(f"  aws:region: {MOCK_REGION}\n", "")
    (tmp_path / "stacks" / "Pulumi.none.yaml").write_text(src)
    with pytest.raises(SettingsError) as exc:
        build_report(tmp_path, "none")
    assert [p for p in exc.value.problems if p.startswith("aws:region: ")]
