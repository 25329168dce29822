"""The stack file itself: duplicate keys refused at any depth (both lines named), plain-text credentials
refused at any depth of a provider namespace (the path named, never the value); for the plan, --compare
(which runs the plan) and the Pulumi program (load_settings)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.settings import PROJECT, SettingsError, parse_settings
from components.settings.stack_file import check_stack_file, duplicate_keys, provider_credential_problems
from tests.harness import BASE_SETTINGS, ROOT, config_of

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ"  # distinctive: findable if echoed
EXAMPLE = (ROOT / "stacks" / "Pulumi.auth0-example.yaml").read_text()


def _dup_line(file: str, key: str, a: int, b: int) -> str:
    return (f"{file}: duplicate key {key} (lines {a} and {b}); YAML would keep only the last one, so a reviewer may "
            "read one value while the program uses the other: keep one of them")


def test_duplicate_keys_at_every_depth_name_the_key_and_both_lines():
    text = ("config:\n"                                   # 1
            "  aws:region: us-east-1\n"                   # 2
            "  plaid-ready-idp:okta:\n"                   # 3
            "    orgUrl: https://a.okta.com\n"            # 4
            "  aws:region: us-west-2\n"                   # 5
            "  plaid-ready-idp:okta:\n"                   # 6
            "    accessTokenLifetimeMinutes: 60\n"        # 7
            "    accessTokenLifetimeMinutes: 15\n"        # 8
            "  plaid-ready-idp:redirectUris:\n"           # 9
            "    - {a: 1, a: 2}\n")                       # 10
    assert duplicate_keys(text, "Pulumi.x.yaml") == [
        _dup_line("Pulumi.x.yaml", "aws:region", 2, 5),
        _dup_line("Pulumi.x.yaml", "plaid-ready-idp:okta", 3, 6),
        _dup_line("Pulumi.x.yaml", "plaid-ready-idp:okta.accessTokenLifetimeMinutes", 7, 8),
        _dup_line("Pulumi.x.yaml", "plaid-ready-idp:redirectUris[0].a", 10, 10),
    ]


def test_committed_stack_files_have_no_duplicate_keys():
    for f in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        assert duplicate_keys(f.read_text(), f.name) == [], f.name


@pytest.mark.parametrize(("config", "paths"), [
    ({"aws:assumeRoleWithWebIdentity": {"roleArn": "arn:aws:iam::1:role/r", "webIdentityToken": TOKEN}},
     ["aws:assumeRoleWithWebIdentity.webIdentityToken"]),
    ({"aws:assumeRole": {"roleArn": "arn:aws:iam::1:role/r", "sessionToken": TOKEN}}, ["aws:assumeRole.sessionToken"]),
    ({"aws:assumeRoles": [{"roleArn": "r"}, {"externalId": "x", "sessionToken": TOKEN}]},
     ["aws:assumeRoles[1].sessionToken"]),
    ({"okta:auth": {"privateKey": TOKEN, "nested": {"password": TOKEN}}},
     ["okta:auth.privateKey", "okta:auth.nested.password"]),
    ({"auth0:extra": {"clientSecret": TOKEN}}, ["auth0:extra.clientSecret"]),
])
def test_nested_plaintext_credentials_are_found_by_path(config, paths):
    problems = provider_credential_problems(config)
    assert problems == [f"{p}: holds a credential but is stored in plain text; remove it from the stack file and set "
                        f"it with `pulumi config set --secret --path '{p}'` (or the provider's environment variable)"
                        for p in paths]
    assert TOKEN not in "".join(problems)


def test_nested_secure_values_and_non_credentials_pass():
    assert provider_credential_problems({
        "aws:assumeRole": {"roleArn": "arn:aws:iam::1:role/r", "sessionToken": {"secure": "v1:abc"}},
        "aws:assumeRoleWithWebIdentity": {"webIdentityTokenFile": "/var/run/token", "roleArn": "r"},
        "aws:endpoints": [{"kms": "https://kms.example"}], "aws:skipCredentialsValidation": True,
        f"{PROJECT}:api": {"basePath": "/fdx/v6"},
    }) == []


def test_parse_settings_refuses_nested_credentials_passed_as_json():
    """As the plan passes config: structured values as JSON text; nested secure values as the placeholder."""
    import json

    from components.settings.stack_file import SECURE_PLACEHOLDER

    cfg = config_of(BASE_SETTINGS, {
        "aws:assumeRoleWithWebIdentity": json.dumps({"roleArn": "r", "webIdentityToken": TOKEN}),
        "aws:assumeRole": json.dumps({"sessionToken": SECURE_PLACEHOLDER, "password": TOKEN}),
    })
    with pytest.raises(SettingsError) as info:
        parse_settings(cfg, ["aws:assumeRole"])
    assert [p.split(":", 2)[0] + ":" + p.split(":", 2)[1] for p in info.value.problems] == [
        "aws:assumeRole.password", "aws:assumeRoleWithWebIdentity.webIdentityToken"]
    assert TOKEN not in str(info.value)
    # Only secure leaves: fine.
    parse_settings(config_of(BASE_SETTINGS, {"aws:assumeRole": json.dumps({"sessionToken": SECURE_PLACEHOLDER})}),
                   ["aws:assumeRole"])


def _project(tmp_path: Path, extra: str) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(EXAMPLE + extra)
    return tmp_path


def _plan(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "t", "--dir", str(project),
                           *argv], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_plan_refuses_a_nested_plaintext_token_with_exit_2(tmp_path):
    project = _project(tmp_path, f"  aws:assumeRoleWithWebIdentity:\n    roleArn: arn:aws:iam::111122223333:role/r\n"
                                 f"    webIdentityToken: {TOKEN}\n")
    r = _plan(project)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        "plaid-ready plan: stack 't' has invalid settings (1 problem):",
        "  - aws:assumeRoleWithWebIdentity.webIdentityToken: holds a credential but is stored in plain text; remove "
        "it from the stack file and set it with `pulumi config set --secret --path "
        "'aws:assumeRoleWithWebIdentity.webIdentityToken'` (or the provider's environment variable)"]
    assert TOKEN not in r.stdout + r.stderr


def test_plan_accepts_a_nested_secure_token(tmp_path):
    project = _project(tmp_path, "  aws:assumeRole:\n    roleArn: arn:aws:iam::111122223333:role/r\n"
                                 "    sessionToken:\n      secure: v1:AAAAcGxhbnRlZC1jaXBoZXJ0ZXh0\n")
    (project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    r = _plan(project, "--summary")
    assert r.returncode == 0, r.stderr
    assert "AAAAcGxhbnRlZC1jaXBoZXJ0ZXh0" not in r.stdout + r.stderr


def test_plan_refuses_duplicate_keys_with_exit_2(tmp_path):
    project = _project(tmp_path, "  aws:region: us-west-2\n")
    r = _plan(project, "--json")
    assert r.returncode == 2
    import json

    assert json.loads(r.stdout)["errors"] == [_dup_line("Pulumi.t.yaml", "aws:region", 4, 25)]


def test_the_program_checks_the_stack_file_it_runs_with(tmp_path, monkeypatch):
    """load_settings (what __main__.py calls under the Pulumi CLI) reads the stack file beside Pulumi.yaml."""
    import pulumi

    from components.settings import load_settings

    project = _project(tmp_path, "  plaid-ready-idp:environment: prod\n")
    monkeypatch.chdir(project)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "t")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.problems == [_dup_line("Pulumi.t.yaml", "plaid-ready-idp:environment", 7, 25)]
    (project / "stacks" / "Pulumi.t.yaml").write_text(EXAMPLE + f"  aws:assumeRole:\n    sessionToken: {TOKEN}\n")
    with pytest.raises(SettingsError) as info:
        check_stack_file(project / "stacks" / "Pulumi.t.yaml")
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in info.value.problems] == ["aws:assumeRole.sessionToken"]
