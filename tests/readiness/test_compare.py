"""plan --compare: two revisions of a scratch copy of this project, the exact Plaid-impact lines per change.

Each case copies the project's committed tree (``git archive HEAD``) into a scratch git repository,
commits it, makes one change, and compares the working tree with ``HEAD`` (or ``HEAD~1``) through
``readiness.compare.run``: the real ``git archive`` + two subprocess plans path. The scratch copies share
this checkout's ``.build`` (the Lambda package cache), so no case builds a package. Cases are
module-scoped fixtures: each comparison runs once (about one plan's time) and several tests read it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import plaid_contract as plaid
from readiness import compare
from readiness.compare import render_text as render
from readiness.compare_model import read_plan
from tests.harness import ROOT

STACK = "auth0-example"
STACK_FILE = Path("stacks") / f"Pulumi.{STACK}.yaml"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}
EXTRA_REDIRECT = "https://links.firstplatypus.example/plaid/callback"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout


def _scratch(factory: pytest.TempPathFactory, name: str) -> Path:
    """A git repository holding this project's committed tree, one commit, .build shared with this checkout."""
    repo = factory.mktemp(name)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    (ROOT / ".build").mkdir(exist_ok=True)
    (repo / ".build").symlink_to(ROOT / ".build", target_is_directory=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".git" / "info" / "exclude").write_text(".build\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def _edit(repo: Path, path: Path | str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, f"{path}: the scratch edit no longer applies (expected {old!r})"
    file.write_text(text.replace(old, new, 1))


def _set(repo: Path, key: str, value: object) -> None:
    """Set ``plaid-ready-idp:<key>`` (a dotted path inside it) in the scratch stack file."""
    file = repo / STACK_FILE
    doc = yaml.safe_load(file.read_text())
    first, *rest = key.split(".")
    node = doc["config"]
    path = [f"plaid-ready-idp:{first}", *rest]
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    file.write_text(yaml.safe_dump(doc, sort_keys=False))


def _compare(repo: Path, base: str = "HEAD", fmt: str = "text", stack: str = STACK) -> tuple[str, int]:
    return compare.run(repo, stack, base, fmt)


def _all_formats(repo: Path, base: str = "HEAD") -> dict[str, tuple[str, int]]:
    """One comparison, rendered in every format (what `run` prints for each --format)."""
    comp = compare.comparison(repo, STACK, base)
    return {fmt: (compare.RENDER[fmt](comp), comp.exit_code) for fmt in compare.FORMATS}


def _impact(text: str) -> list[str]:
    """The lines of the text output's Plaid impact section."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Plaid impact"))
    out = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        out.append(ln.strip())
    return out


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(title))
    out = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        out.append(ln.strip())
    return out


# --- cases (each comparison runs once) -----------------------------------------------------------


@pytest.fixture(scope="module")
def prefix_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "prefix")
    _set(repo, "consistencyKey.prefix", "fpb-")
    return _all_formats(repo)


@pytest.fixture(scope="module")
def redirect_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "redirect")
    _set(repo, "redirectUris", [plaid.PLAID_REDIRECT_URI, EXTRA_REDIRECT])
    _git(repo, "commit", "-q", "-am", "two redirect URIs")
    _set(repo, "redirectUris", [plaid.PLAID_REDIRECT_URI])
    return _compare(repo)


@pytest.fixture(scope="module")
def secret_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "secret")
    _set(repo, "clientSecret.version", 2)
    return _compare(repo)


@pytest.fixture(scope="module")
def range_case(tmp_path_factory):
    # Drop Plaid's current IPv4 range from what the allowlist declares (a scratch copy: the edit is the
    # kind a careless refactor makes). components/waf.py, not plaid_contract, so the Lambda package (which
    # ships plaid_contract) is unchanged and not rebuilt.
    repo = _scratch(tmp_path_factory, "range")
    _edit(repo, "components/waf.py", "[*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4",
          "[*plaid.PLAID_LEGACY_IPV4")
    return _compare(repo)


@pytest.fixture(scope="module")
def lifetime_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "lifetime")
    _set(repo, "auth0.accessTokenLifetimeSeconds", 3600)
    return _compare(repo)


@pytest.fixture(scope="module")
def rename_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "rename")
    _set(repo, "institution.code", "fpbank")
    return _compare(repo, fmt="json")


@pytest.fixture(scope="module")
def comment_case(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "comment")
    _edit(repo, STACK_FILE, "config:\n", "# Reviewed by the platform team.\nconfig:\n")
    _git(repo, "commit", "-q", "-am", "a comment")
    return repo, _compare(repo, base="HEAD~1")


# --- Plaid impact, exactly -----------------------------------------------------------------------


def test_consistency_key_prefix_change_breaks_every_customer_id(prefix_case):
    text, code = prefix_case["text"]
    assert _impact(text) == [
        "BREAKING Consistency-key prefix (none) -> fpb-: every customerId Plaid has stored changes, so Plaid sees "
        "every linked user as a new customer; keep the old prefix, or agree a migration with Plaid before merging.",
    ]
    assert code == compare.EXIT_PLAID_BREAKING
    assert _section(text, "Readiness changes") == ["none"]
    assert _section(text, "Resource changes") == [
        "~ update aws:lambda/function:Function  fpb-customers-fn",
        'environment.variables.CONSISTENCY_KEY_PREFIX: (absent) -> "fpb-"',
    ]


def test_removed_redirect_uri_breaks_plaid(redirect_case):
    text, code = redirect_case
    assert _impact(text) == [
        f"BREAKING Redirect URI {EXTRA_REDIRECT} removed: Plaid's authorization requests that use it now fail "
        "(redirect_uri mismatch); keep it unless Plaid confirmed in writing it no longer uses it.",
    ]
    assert code == compare.EXIT_PLAID_BREAKING
    assert f'callbacks: removed ["{EXTRA_REDIRECT}"]' in _section(text, "Resource changes")


def test_client_secret_version_bump_says_tell_plaid(secret_case):
    text, code = secret_case
    assert _impact(text) == [
        "BREAKING Plaid's client secret is rotated (clientSecret.version 1 -> 2): the old secret stops working when "
        "this deploys; tell Plaid before merging and hand over the new value from Secrets Manager at the cut-over.",
    ]
    assert code == compare.EXIT_PLAID_BREAKING
    resources = _section(text, "Resource changes")
    assert resources[0] == ("+- REPLACE random:index/randomBytes:RandomBytes  fpb-plaid-credentials-value  "
                            "(replaced because keepers.version cannot change in place)")
    assert resources[1] == 'keepers.version: "1" -> "2"'


def test_plaid_range_dropped_from_the_allowlist(range_case):
    text, code = range_case
    cidr = plaid.PLAID_IPV4_RANGES[0]
    assert _impact(text) == [
        f"BREAKING Plaid range {cidr} dropped from the WAF allowlist: Plaid's calls from it get 403; restore it "
        "(Plaid asks data providers never to remove its ranges).",
    ]
    assert _section(text, "Readiness changes")[0].split()[:4] == ["API-PLAID-IPS", "pass", "->", "FAIL"]
    assert code == compare.EXIT_NOT_READY  # a rule newly fails: that wins over the breaking change


def test_access_token_lifetime_raised(lifetime_case):
    text, code = lifetime_case
    assert _impact(text) == [
        "notice   Access-token lifetime 900 s -> 3600 s (fpb-api): Plaid asks for 15-minute access tokens; a "
        "longer-lived token stays usable longer after a user revokes access (see Readiness changes).",
    ]
    assert _section(text, "Readiness changes")[0].split()[:4] == ["AUTH0-AT-LIFETIME", "pass", "->", "FAIL"]
    assert code == compare.EXIT_NOT_READY
    assert "tokenLifetime: 900 -> 3600" in _section(text, "Resource changes")


def test_renamed_stateful_resources_are_replacements(rename_case):
    out, code = rename_case
    doc = json.loads(out)
    assert code == compare.EXIT_PLAID_BREAKING
    assert [(x["severity"], x["message"]) for x in doc["plaidImpact"]] == [
        ("breaking", "Plaid's OAuth client fpb-plaid-client is replaced (renamed fpb-plaid-client -> "
                     "fpbank-plaid-client): a new client id and secret, so Plaid's registration breaks; give Plaid "
                     "the new client id and secret before merging."),
        ("breaking", "Auth0 API fpb-api is replaced (renamed fpb-api -> fpbank-api): refresh tokens granted for the "
                     "old API stop working, so every linked Plaid user must re-link; tell Plaid before merging."),
        ("breaking", "REST API fpb-customers-api is replaced (renamed fpb-customers-api -> fpbank-customers-api): "
                     "the execute-api URL changes, so Plaid's /customers/current URL breaks; give Plaid the new URL "
                     "before merging (or front it with a custom domain)."),
        ("breaking", "Plaid's client secret is rotated (renamed fpb-plaid-credentials-value -> "
                     "fpbank-plaid-credentials-value): the old secret stops working when this deploys; tell Plaid "
                     "before merging and hand over the new value from Secrets Manager at the cut-over."),
    ]
    changes = {(r["type"], r["oldName"]): r for r in doc["resourceChanges"]}
    client = changes[("auth0:index/client:Client", "fpb-plaid-client")]
    assert (client["action"], client["name"], client["stateful"]) == ("replace", "fpbank-plaid-client", True)
    # Every resource is renamed: nothing is left as a bare delete or create.
    assert {r["action"] for r in doc["resourceChanges"]} == {"replace"}
    assert doc["readinessChanges"] == []


def test_comment_only_change_prints_no_changes(comment_case):
    _, (text, code) = comment_case
    assert code == compare.EXIT_OK
    assert "no changes" in text
    assert "Plaid impact" not in text


def test_example_stack_against_itself_at_head(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "self")
    out = _all_formats(repo)
    for fmt in ("text", "markdown"):
        text, code = out[fmt]
        assert code == compare.EXIT_OK
        assert "no changes" in text
    text, code = out["json"]
    assert json.loads(text)["noChanges"] is True and code == 0


# --- output formats ------------------------------------------------------------------------------


def test_markdown_keeps_impact_and_readiness_visible_and_folds_resources(prefix_case):
    md, code = prefix_case["markdown"]
    assert code == compare.EXIT_PLAID_BREAKING
    details = md.index("<details>")
    assert md.index("**Plaid impact**") < details and md.index("**Readiness changes**") < details
    assert "- **BREAKS PLAID**: Consistency-key prefix (none) -> fpb-:" in md
    assert md.index("CONSISTENCY_KEY_PREFIX") > details


def test_json_lists_the_same_impact(prefix_case):
    doc = json.loads(prefix_case["json"][0])
    assert doc["schemaVersion"] == 1 and doc["exitCode"] == compare.EXIT_PLAID_BREAKING
    assert [(x["severity"], x["kind"]) for x in doc["plaidImpact"]] == [("breaking", "consistency-key")]
    assert doc["resourceChanges"] == [{
        "action": "update", "type": "aws:lambda/function:Function", "name": "fpb-customers-fn",
        "oldName": "fpb-customers-fn", "stateful": False, "replaceBecause": [],
        "changes": [{"path": "environment.variables.CONSISTENCY_KEY_PREFIX", "before": {"absent": True},
                     "after": "fpb-"}]}]


def test_docs_review_holds_the_markdown_example_verbatim(prefix_case):
    """docs/review.md shows a real comment: this case's markdown, exactly as the tool printed it."""
    md, _ = prefix_case["markdown"]
    assert md in (ROOT / "docs" / "review.md").read_text()


# --- a saved plan as the base ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_plan(comment_case, tmp_path_factory):
    """``plan --json`` of the comment case's tree, saved to a file (its FileArchive paths are absolute)."""
    repo, _ = comment_case
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", STACK, "--json"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    path = tmp_path_factory.mktemp("saved") / "base-plan.json"
    path.write_text(out.stdout)
    return path


def test_saved_plan_from_another_checkout_compares_equal(saved_plan, tmp_path_factory):
    repo = _scratch(tmp_path_factory, "other-checkout")
    text, code = _compare(repo, base=str(saved_plan))
    assert (code, "no changes" in text) == (0, True), text


def test_both_json_formats_read_the_same(saved_plan):
    """The first `--json` format (marker strings, absolute archive paths) and issue 9's (typed objects,
    relative paths) read into one model: a base saved by either compares equal to the other."""
    saved = json.loads(saved_plan.read_text())

    def as_strings(v):
        if v == {"secret": True}:
            return "[secret]"
        if v == {"unknown": True}:
            return "(known after apply)"
        if isinstance(v, dict) and set(v) == {"asset", "path"}:
            return f"{v['asset']}(/home/someone/clone/{v['path'].removeprefix('/')})"
        if isinstance(v, dict):
            return {k: as_strings(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_strings(x) for x in v]
        return v

    def as_typed(v):
        if v == "[secret]":
            return {"secret": True}
        if v == "(known after apply)":
            return {"unknown": True}
        if isinstance(v, str) and v.startswith("FileArchive("):
            return {"asset": "FileArchive", "path": v[len("FileArchive("):-1].split("/.build/")[-1].join(
                [".build/", ""]) if "/.build/" in v else v[len("FileArchive("):-1]}
        if isinstance(v, dict):
            return {k: as_typed(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_typed(x) for x in v]
        return v

    old, new = as_strings(saved), as_typed(saved)
    assert old != new and "[secret]" in json.dumps(old) and '{"secret": true}' in json.dumps(new)
    comp = compare.compare_plans(read_plan(old), read_plan(new), STACK, "saved")
    assert comp.unchanged and comp.exit_code == 0, render(comp)


# --- usage errors: one line, exit 2 ---------------------------------------------------------------


def test_bad_revision_is_a_usage_error(comment_case):
    repo, _ = comment_case
    text, code = _compare(repo, base="no-such-branch")
    assert code == compare.EXIT_USAGE
    assert text == ("--compare no-such-branch: not a git revision of this repository, nor a file (try a branch, "
                    "tag or commit such as origin/main or HEAD~1)")


def test_stack_unknown_at_the_base_is_a_usage_error(tmp_path_factory):
    repo = _scratch(tmp_path_factory, "newstack")
    (repo / "stacks" / "Pulumi.auth0-new.yaml").write_text((repo / STACK_FILE).read_text())
    text, code = _compare(repo, stack="auth0-new")
    assert code == compare.EXIT_USAGE
    assert "\n" not in text and "Traceback" not in text
    assert text.startswith("stack 'auth0-new' at HEAD: stack 'auth0-new': no file stacks/Pulumi.auth0-new.yaml")


def test_bad_format_and_foreign_saved_plan(saved_plan, tmp_path):
    assert compare.run(ROOT, STACK, "HEAD", "yaml") == ("--format yaml: must be one of text, markdown, json", 2)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(saved_plan.read_text()), "stack": "auth0-prod"}))
    assert compare.run(ROOT, STACK, str(other), "text") == (
        f"--compare {other}: a plan of stack 'auth0-prod', not '{STACK}'", 2)
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    text, code = compare.run(ROOT, STACK, str(junk), "text")
    assert code == 2 and text.startswith(f"--compare {junk}: not JSON")
