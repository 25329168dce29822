"""The offline plan of the real program: header, tree, outputs, readiness verdict, no secret leaks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.settings import PROJECT
from readiness.checklist import Context, all_rules, evaluate
from readiness.engine import computed_outputs, run_program
from readiness.plan import PlanReport, build_report, load_stack_config
from tests.harness import ROOT

RANDOM = "random:index/randomBytes:RandomBytes"


@pytest.fixture(scope="module")
def example() -> PlanReport:
    return build_report(ROOT, "auth0-example")


def test_example_stack_is_ready(example: PlanReport):
    assert example.failed == []
    ids = {x.rule.id for x in example.results}
    assert {"SECRET-STORE", "SECRET-CSPRNG"} <= ids
    assert not {"PROD-PROTECT", "PROD-RECOVERY"} & ids  # dev stack: prod-only rules do not apply


def test_text_has_summary_header_tree_outputs_and_table(example: PlanReport):
    text = example.to_text()
    lines = text.splitlines()
    assert lines[0] == "Offline plan of stack 'auth0-example' (project plaid-ready-idp, region us-east-1)"
    assert "NOT a diff against live state" in text.replace("\n", " ")
    assert "\nResources (" in text and "\nOutputs:\n" in text and "\nPlaid readiness (" in text
    # Tree: the client-secret component's children are indented under it.
    comp = next(i for i, line in enumerate(lines) if "plaid-ready-idp:secrets:PlaidClientSecret" in line)
    indent = len(lines[comp]) - len(lines[comp].lstrip())
    child = next(line for line in lines[comp + 1:] if "aws:secretsmanager/secret:Secret " in line)
    assert len(child) - len(child.lstrip()) > indent
    assert "(known after apply)" in text and "[secret]" in text
    assert '"(known after apply)"' not in text and '"[secret]"' not in text  # markers, not quoted values


def test_summary_comes_first_then_tree_then_table(example: PlanReport):
    """Verdict and counts open the plan, then the failing rules, then the tree, then the full table."""
    lines = example.to_text().splitlines()
    custom = sum(1 for r in example.resources if r.custom)
    comps = len(example.resources) - custom
    counts = example.counts()
    assert lines[1] == example.verdict() == lines[-1]
    assert lines[2] == (f"Counts: {custom} resources, {comps} components; {len(example.results)} readiness rules: "
                        f"{counts['pass']} pass, {counts['closest']} closest-possible, {counts['fail']} fail")
    assert lines[3] == ("Failing rules: none" if not example.failing else "Failing rules:")
    tree = lines.index(f"Resources ({custom} resources, {comps} components):")
    table = next(i for i, line in enumerate(lines) if line.startswith("Plaid readiness ("))
    assert 3 < tree < table
    def ids(rows: list[str]) -> list[str]:  # "  TAG (advisory)    RULE-ID   requirement": the id column
        return [line[21:].split()[0] for line in rows if line.split()[:1] in (["PASS"], ["CLOSEST"], ["FAIL"])]

    assert ids(lines[4:tree]) == [x.rule.id for x in example.failing]
    assert ids(lines[table + 1:]) == [x.rule.id for x in example.results]


def test_summary_lists_each_failing_rule_before_the_tree(example: PlanReport):
    """A failing rule appears under the verdict (with its reason) before the resources."""
    from readiness.checklist import Finding, Result, Status

    first = example.results[0]
    broken = PlanReport(example.stack, example.resources, example.outputs,
                        [Result(first.rule, Finding(Status.FAIL, "nothing declared", "declare it")),
                         *(Result(x.rule, Finding(Status.PASS, "fine")) for x in example.results[1:])], example.root)
    lines = broken.to_text().splitlines()
    assert lines[1] == f"Verdict: NOT READY for Plaid: 1 mandatory rule fails ({first.rule.id})."
    assert lines[3] == "Failing rules:"
    assert lines[4].split()[:2] == ["FAIL", first.rule.id]
    assert lines[5].strip() == "declared: nothing declared" and lines[6].strip() == "reason:   declare it"
    assert lines.index(next(line for line in lines if line.startswith("Resources ("))) > 6
    assert lines[-1] == lines[1]


def test_summary_flag_prints_only_verdict_and_table(example: PlanReport):
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example", "--summary"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == (1 if example.failed else 0), r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Offline plan of stack 'auth0-example'") and lines[1] == example.verdict()
    assert lines[2].startswith("Counts: ") and lines[3] == "" and lines[4].startswith("Plaid readiness (")
    assert "Resources (" not in r.stdout and "Outputs:" not in r.stdout and "+ aws:" not in r.stdout
    assert sum(1 for line in lines if line.split()[:1] in (["PASS"], ["CLOSEST"], ["FAIL"])) > 10


def test_json_documents_are_indented_whole(example: PlanReport):
    """Policies, trust policies, the access-log format and the dashboard body: parsed, indented, never cut."""
    text = example.to_text()
    assert "…" not in text  # nothing in the example is shortened
    lines = text.splitlines()
    for key in ("policy", "assumeRolePolicy", "dashboardBody"):
        line = next(line for line in lines if line.strip().startswith(f"{key}: "))
        assert line.strip() == f"{key}: (JSON document) {{", line
    assert any(line.strip() == '"format": (JSON document) {' for line in lines)
    assert any(line.strip() == '"Sid": "WriteOwnLogs"' for line in lines)
    body = json.loads(next(r for r in example.resources if r.type == "aws:cloudwatch/dashboard:Dashboard")
                      .input("dashboardBody"))
    for widget in body["widgets"]:
        assert f'"title": "{widget["properties"]["title"]}"' in text
    assert '\\"' not in text  # no escaped JSON string anywhere


def test_long_plain_strings_are_shortened_with_their_length():
    from readiness.plan.values import MAX_TEXT, rendered

    text = "x" * (MAX_TEXT + 50)
    (line,) = rendered("description", text, "  ", None)
    assert line == f'  description: "{"x" * MAX_TEXT}…" ({MAX_TEXT + 50} chars)'
    doc = json.dumps({"k": "y" * (MAX_TEXT + 50)})
    assert any("y" * (MAX_TEXT + 50) in line for line in rendered("policy", doc, "  ", None))


def test_cli_exit_0_and_json(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example", "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "offline-plan" and doc["ready"] is True and doc["stack"] == "auth0-example"
    assert doc["schemaVersion"] == 1 and doc["region"] == "us-east-1"
    assert doc["summary"]["verdict"] == "ready" and doc["summary"]["failing"] == []
    assert {"type", "name", "parent", "custom", "protect", "inputs"} <= set(doc["resources"][0])
    row = doc["readiness"][0]
    assert set(row) == {"id", "requirement", "mandatory", "status", "declared", "reason", "source"}
    assert all(x["status"] in ("pass", "closest", "fail") for x in doc["readiness"])


def test_no_generated_secret_in_plan_text_json_or_exports():
    """Run with computed outputs (the mock engine generates the secret), then grep every rendering."""
    cfg = load_stack_config(ROOT, "auth0-example")
    run = run_program(ROOT, cfg.project, "auth0-example", cfg.config, cfg.secret_keys, compute=True)
    randoms = [r for r in run.resources if r.type == RANDOM]
    assert randoms
    values = []
    for r in randoms:
        out = computed_outputs(r.type, r.name, r.inputs)
        values += [out["hex"], out["base64"]]
    report = PlanReport(cfg, run.resources, run.outputs, evaluate(all_rules(), Context(run.resources, "dev")))
    rendered = report.to_text() + json.dumps(report.to_json())
    for value in values:
        assert value not in rendered
    # The value did flow: it is inside the recorded (secret) inputs, never in an export.
    assert any(values[0] in json.dumps(r.input("secretString") or "") for r in run.resources)
    for key, value in run.outputs.items():
        assert not any(v in json.dumps(str(value)) for v in values), key


def test_secure_config_values_are_placeholders(tmp_path: Path):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    ciphertext = "AAABAHNlY3JldC1jaXBoZXJ0ZXh0LWRvLW5vdC1wcmludA=="
    src = (ROOT / "stacks" / "Pulumi.auth0-example.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.sec.yaml").write_text(src + f"  auth0:clientSecret:\n    secure: {ciphertext}\n")
    cfg = load_stack_config(tmp_path, "sec")
    assert cfg.secret_keys == ["auth0:clientSecret"]
    assert ciphertext not in json.dumps(cfg.config)
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "sec", "--dir", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert ciphertext not in r.stdout + r.stderr
    assert "placeholders stand in for: auth0:clientSecret" in r.stdout.replace("\n", " ")


def test_failing_rule_exits_1(tmp_path: Path):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    src = (ROOT / "stacks" / "Pulumi.auth0-example.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.short.yaml").write_text(src + f"  {PROJECT}:scopes: [openid]\n")
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "short", "--dir", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "Verdict: NOT READY for Plaid" in r.stdout


def test_security_relevant_lists_are_shown_whole(example: PlanReport):
    import plaid_contract as plaid

    text = example.to_text()
    for cidr in (*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4, *plaid.PLAID_IPV6_RANGES):
        assert f'"{cidr}"' in text
    assert '"allow-plaid"' in text and '"rate-limit-per-ip"' in text
