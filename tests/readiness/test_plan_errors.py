"""`plaid-ready plan` on bad input: exit 2, one specific line per problem, no traceback, no value echoed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.harness import ROOT

GOOD = """\
config:
  aws:region: us-east-1
  plaid-ready-idp:environment: dev
  plaid-ready-idp:idp: auth0
  plaid-ready-idp:institution:
    name: First Platypus Bank
    code: fpb
  plaid-ready-idp:audience: https://api.firstplatypus.example/fdx
  plaid-ready-idp:auth0:
    domain: first-platypus-dev.us.auth0.com
"""
P = "plaid-ready-idp"
SECURE = "AAABAKVzZWNyZXQtY2lwaGVydGV4dA=="


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    return tmp_path


def plan(project: Path, stack_yaml: str, *extra: str) -> subprocess.CompletedProcess:
    (project / "stacks" / "Pulumi.bad.yaml").write_text(textwrap.dedent(stack_yaml))
    return subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "bad", "--dir", str(project),
                           *extra], capture_output=True, text=True, cwd=ROOT, timeout=60)


def problem_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return [line.removeprefix("  - ") for line in result.stderr.splitlines()[1:]]


def test_unknown_key(project):
    r = plan(project, GOOD + "  plaid-ready-idp:institutoin:\n    name: x\n")
    assert problem_lines(r) == [
        f"{P}:institutoin: unknown key; valid keys are: alarms, allowlist, api, audience, auth0, clientSecret, "
        "cognito, consistencyKey, environment, idp, institution, okta, redirectUris, scopes"]
    assert r.stderr.splitlines()[0] == "plaid-ready plan: stack 'bad' has invalid settings (1 problems):"


def test_wrong_type(project):
    r = plan(project, GOOD + "  plaid-ready-idp:clientSecret:\n    version: two\n")
    assert problem_lines(r) == [
        f"{P}:clientSecret.version: input should be a valid integer, unable to parse string as an integer; "
        "give a whole number"]


def test_missing_required_value(project):
    r = plan(project, GOOD.replace("  plaid-ready-idp:audience: https://api.firstplatypus.example/fdx\n", ""))
    assert problem_lines(r) == [
        f"{P}:audience: required value is missing; expected the API identifier; access tokens carry it as aud; "
        "add it to the stack file"]


def test_non_https_redirect_uri(project):
    r = plan(project, GOOD + "  plaid-ready-idp:redirectUris:\n    - http://cdn.plaid.com/link/v2/stable/oauth.html\n")
    assert problem_lines(r) == [f"{P}:redirectUris: entry 0 must be an https:// URL (Plaid requires TLS)"]


def test_secure_value_in_the_wrong_place(project):
    r = plan(project, GOOD.replace("  plaid-ready-idp:environment: dev\n",
                                   f"  plaid-ready-idp:environment:\n    secure: {SECURE}\n"))
    assert problem_lines(r) == [
        f"{P}:environment: is a secure value, but no {P} setting is secret (client secrets are generated and "
        f"kept in Secrets Manager); set it in plain text with `pulumi config set environment <value>`"]
    assert SECURE not in r.stderr


def test_secure_value_nested_in_a_structured_setting(project):
    r = plan(project, GOOD.replace("    code: fpb\n", f"    code:\n      secure: {SECURE}\n"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and SECURE not in r.stderr
    assert r.stderr.strip() == (
        f"plaid-ready plan: {P}:institution: holds a secure: value inside a structured setting; none of its "
        "fields is secret, so set them in plain text")


def test_credential_in_plain_text(project):
    r = plan(project, GOOD + "  auth0:clientSecret: my-management-api-secret\n")
    lines = problem_lines(r)
    assert lines == ["auth0:clientSecret: holds a credential but is stored in plain text; remove it from the "
                     "stack file and set it with `pulumi config set --secret auth0:clientSecret` (or the "
                     "provider's environment variable)"]
    assert "my-management-api-secret" not in r.stderr


def test_several_problems_are_all_reported(project):
    r = plan(project, GOOD.replace("environment: dev", "environment: qa") + "  plaid-ready-idp:bogus: 1\n")
    assert problem_lines(r) == [
        f"{P}:bogus: unknown key; valid keys are: alarms, allowlist, api, audience, auth0, clientSecret, "
        "cognito, consistencyKey, environment, idp, institution, okta, redirectUris, scopes",
        f"{P}:environment: input should be 'dev', 'staging' or 'prod'"]


def test_invalid_yaml(project):
    r = plan(project, "config:\n  plaid-ready-idp:idp: [auth0\n")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("plaid-ready plan: Pulumi.bad.yaml: not valid YAML at line 3")


def test_unknown_stack_lists_available_ones(project):
    (project / "stacks" / "Pulumi.one.yaml").write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "two", "--dir", str(project)],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == "plaid-ready plan: stack 'two': no file stacks/Pulumi.two.yaml; available stacks: one"


@pytest.mark.parametrize("argv", [["plan"], ["plan", "--stack"], ["bogus"], []])
def test_usage_errors_exit_2(argv):
    r = subprocess.run([sys.executable, "-m", "readiness.cli", *argv], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "usage: plaid-ready" in r.stderr
