"""`plaid-ready plan` on bad input: exit 2, one specific line per problem, no traceback, no value echoed."""

from __future__ import annotations

import json
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
        "cognito, consistencyKey, environment, idp, institution, okta, probe, redirectUris, scopes"]
    assert r.stderr.splitlines()[0] == "plaid-ready plan: stack 'bad' has invalid settings (1 problem):"


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
        "cognito, consistencyKey, environment, idp, institution, okta, probe, redirectUris, scopes",
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


def test_several_problems_are_counted_in_the_plural(project):
    r = plan(project, GOOD.replace("environment: dev", "environment: qa") + "  plaid-ready-idp:bogus: 1\n")
    assert r.stderr.splitlines()[0] == "plaid-ready plan: stack 'bad' has invalid settings (2 problems):"


MTLS = ("  plaid-ready-idp:api:\n    customDomain:\n      domainName: fdx.firstplatypus.example\n"
        "      certificateArn: arn:aws:acm:us-east-1:111122223333:certificate/abc\n"
        "      mtls:\n        truststoreUri: s3://fpb-ts/plaid/ts.pem\n        truststoreVersion: v1\n"
        "        truststoreVerison: v2\n")


@pytest.mark.parametrize(("stack", "path", "model"), [
    (GOOD.replace("    code: fpb\n", "    code: fpb\n    colour: blue\n"), "institution.colour", "Institution"),
    (GOOD + "  plaid-ready-idp:alarms:\n    emial: a@b.example\n", "alarms.emial", "Alarms"),
    (GOOD + MTLS, "api.customDomain.mtls.truststoreVerison", "Mtls"),
    (GOOD.replace("    domain: first-platypus-dev.us.auth0.com\n",
                  "    domain: first-platypus-dev.us.auth0.com\n    domian: x\n"), "auth0.domian", "Auth0Settings"),
])
def test_unknown_nested_key_lists_the_valid_keys_at_its_level(project, stack, path, model):
    """At any depth, an unknown key names every key its section accepts, as the model defines them."""
    import components.idps.auth0.settings as auth0_settings
    import components.settings.stack as stack_settings

    cls = getattr(stack_settings, model, None) or getattr(auth0_settings, model)
    # An IdP section's idp is the union's discriminator, taken from the top-level idp: not a key of the section.
    keys = ", ".join(sorted(f.alias or n for n, f in cls.model_fields.items() if n != "idp"))
    assert problem_lines(plan(project, stack)) == [f"{P}:{path}: unknown key; valid keys are: {keys}"]


def test_wrong_format_says_what_the_value_must_look_like_with_an_example(project):
    """A pattern error gives the field's description and an example (the field's examples, else the
    description's own e.g.), never the value."""
    r = plan(project, GOOD.replace("code: fpb", "code: First-Platypus")
             + "  plaid-ready-idp:api:\n    stageName: l!ve\n")
    lines = problem_lines(r)
    assert len(lines) == 2
    for line in lines:
        head, _, expected = line.partition("has the wrong format; expected ")
        assert expected and "e.g." in expected, line
        assert "First-Platypus" not in line and "l!ve" not in line
    assert {line.split(": ")[0] for line in lines} == {f"{P}:api.stageName", f"{P}:institution.code"}


def test_wrong_format_uses_the_models_examples():
    """Field.examples, where the model gives them, is the example shown."""
    from pydantic import ValidationError

    from components.settings.errors import format_errors
    from components.settings.stack import Institution, StackSettings

    field = Institution.model_fields["code"]
    try:
        StackSettings.model_validate({"environment": "dev", "idp": "auth0", "audience": "x",
                                      "institution": {"name": "First Platypus Bank", "code": "NO"}})
    except ValidationError as exc:
        lines = [line for line in format_errors(exc, "", set()) if line.startswith("institution.code")]
    assert len(lines) == 1
    if field.examples:
        assert lines[0].endswith(f"(e.g. {field.examples[0]})")
    else:
        assert lines[0].endswith(f"expected {field.description}")


def test_a_section_given_as_a_value_is_named_plainly(project):
    r = plan(project, GOOD + "  plaid-ready-idp:api: fast\n")
    assert problem_lines(r) == [f"{P}:api: must be a mapping of keys (a section), not a single value or a list"]


def test_missing_region_is_one_line_and_exit_2(project):
    r = plan(project, GOOD.replace("  aws:region: us-east-1\n", ""))
    lines = problem_lines(r)
    assert len(lines) == 1 and lines[0].startswith("aws:region: ") and "us-east-1" in lines[0]


def test_json_settings_error_is_json_on_stdout(project):
    r = plan(project, GOOD + "  plaid-ready-idp:bogus: 1\n", "--json")
    assert r.returncode == 2 and r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["schemaVersion"] == 1 and doc["kind"] == "offline-plan-errors"
    assert len(doc["errors"]) == 1 and doc["errors"][0].startswith(f"{P}:bogus: unknown key; valid keys are: ")


@pytest.mark.parametrize("argv", [["plan", "--json"], ["plan", "--json", "--stack", "nope"],
                                  ["plan", "--json", "--summary", "--stack", "x"]])
def test_json_usage_errors_are_json_on_stdout(argv):
    r = subprocess.run([sys.executable, "-m", "readiness.cli", *argv], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 2 and r.stderr == "" and "Traceback" not in r.stdout
    doc = json.loads(r.stdout)
    assert doc["kind"] == "offline-plan-errors" and len(doc["errors"]) == 1 and doc["errors"][0]


def test_json_usage_error_names_the_problem():
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--json", "--stack", "nope"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert json.loads(r.stdout)["errors"][0].startswith("stack 'nope': no file stacks/Pulumi.nope.yaml; "
                                                        "available stacks: ")


@pytest.mark.parametrize("given", ["stacks/Pulumi.one.yaml", "Pulumi.one.yaml", "{project}/stacks/Pulumi.one.yaml"])
def test_stack_given_as_a_path_to_its_file(project, given):
    from readiness.plan import resolve_stack

    (project / "stacks" / "Pulumi.one.yaml").write_text(GOOD)
    assert resolve_stack(project, given.format(project=project), cwd=project) == "one"


def test_stack_given_as_a_relative_path_from_the_working_directory(project):
    from readiness.plan import resolve_stack

    (project / "stacks" / "Pulumi.one.yaml").write_text(GOOD)
    assert resolve_stack(project, "../stacks/Pulumi.one.yaml", cwd=project / "stacks") == "one"


def test_stack_file_outside_the_stack_directory_is_answered_with_the_name(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "Pulumi.two.yaml"
    elsewhere.write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", str(elsewhere), "--dir",
                        str(project)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"plaid-ready plan: --stack: {elsewhere} is not in the stack directory stacks/ "
                                "(stackConfigDir in Pulumi.yaml); move it to stacks/Pulumi.two.yaml and pass "
                                "--stack two")


def test_stack_path_that_is_not_a_stack_file(project):
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "stacks/auth0.yaml", "--dir",
                        str(project)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == ("plaid-ready plan: --stack takes a stack name or the path of a stack file "
                                "(stacks/Pulumi.<name>.yaml); 'auth0.yaml' is not a stack file name")


def test_stack_path_plans_like_the_name():
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "stacks/Pulumi.auth0-example.yaml",
                        "--summary"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    assert r.stdout.startswith("Offline plan of stack 'auth0-example' ")


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    r = subprocess.run([sys.executable, "-m", "readiness.cli", "--version"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0 and r.stdout == f"plaid-ready {version('plaid-ready-idp')}\n"
