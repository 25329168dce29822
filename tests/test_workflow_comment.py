"""The pull-request comment job's script, run for real in Node.js with a fake GitHub client: one comment for
every stack (a table, then each stack's comparison), updated in place, and one commit status per stack."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is needed (it runs the test OIDC provider too)")

HARNESS = r"""
const fs = require('fs');
const path = require('path');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const github = {
  paginate: async () => state.comments,
  rest: {
    pulls: { get: async () => ({ data: { head: { sha: state.prHead }, labels: state.labels } }) },
    issues: {
      listComments: 'listComments',
      createComment: async (a) => { calls.push(['createComment', a]); },
      updateComment: async (a) => { calls.push(['updateComment', a]); },
    },
    repos: { createCommitStatus: async (a) => { calls.push(['status', a]); } },
  },
};
const core = { info: () => {}, warning: (m) => calls.push(['warning', m]) };
const context = { repo: { owner: 'o', repo: 'r' }, sha: 'a'.repeat(40),
  payload: { workflow_run: { id: 7, head_sha: 'b'.repeat(40) } } };
const body = fs.readFileSync(scriptFile, 'utf8');
const run = new Function('require', 'github', 'core', 'context', 'process',
  `return (async () => {\n${body}\n})();`);
run(require, github, core, context, process).then(
  () => { process.stdout.write(JSON.stringify(calls)); },
  (e) => { console.error(e); process.exit(3); });
"""


def _script() -> str:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pr-comment.yml").read_text())
    return doc["jobs"]["comment"]["steps"][-1]["with"]["script"]


def _run(tmp_path: Path, results: dict[str, tuple[str, str]], *, labels: list[str] = (),
         comments: list[dict] = ()) -> list:
    res = tmp_path / "results"
    res.mkdir()
    (res / "pr-number").write_text("12\n")
    for stack, (code, md) in results.items():
        (res / f"{stack}.exit").write_text(code + "\n")
        (res / f"{stack}.md").write_text(md)
    (tmp_path / "script.js").write_text(_script())
    (tmp_path / "harness.js").write_text(HARNESS)
    (tmp_path / "state.json").write_text(json.dumps({
        "prHead": "b" * 40, "labels": [{"name": n} for n in labels], "comments": list(comments)}))
    out = subprocess.run([NODE, str(tmp_path / "harness.js"), str(tmp_path / "script.js"),
                          str(tmp_path / "state.json")], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "ACK_LABEL": "plaid-impact-acknowledged"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_one_comment_holds_a_table_and_every_stacks_comparison(tmp_path: Path) -> None:
    calls = _run(tmp_path, {"cu1-dev": ("0", "no changes for cu1"), "cu2-prod": ("4", "**Plaid impact** cu2"),
                            "cu3-dev": ("1", "rule newly fails cu3")})
    comments = [c for c in calls if c[0] in ("createComment", "updateComment")]
    assert [c[0] for c in comments] == ["createComment"]
    body = comments[0][1]["body"]
    assert comments[0][1]["issue_number"] == 12
    assert body.startswith("<!-- plaid-ready-compare fleet -->\n")
    assert "| `cu1-dev` | nothing breaks Plaid |" in body
    assert "| `cu2-prod` | breaks Plaid |" in body
    assert "| `cu3-dev` | a readiness rule newly fails |" in body
    # each stack's own text, folded under its name; the failing ones open
    assert "<details><summary>cu1-dev: nothing breaks Plaid</summary>\n\nno changes for cu1" in body
    assert "<details open><summary>cu2-prod: breaks Plaid</summary>\n\n**Plaid impact** cu2" in body
    assert "Computed by the default branch's plaid-ready" in body
    statuses = {c[1]["context"]: c[1]["state"] for c in calls if c[0] == "status"}
    assert statuses == {"plaid-ready compare (cu1-dev)": "success", "plaid-ready compare (cu2-prod)": "failure",
                        "plaid-ready compare (cu3-dev)": "failure"}


def test_the_comment_is_updated_in_place_and_the_label_acknowledges(tmp_path: Path) -> None:
    mine = {"id": 99, "user": {"type": "Bot"}, "body": "<!-- plaid-ready-compare fleet -->\nold"}
    calls = _run(tmp_path, {"cu2-prod": ("4", "impact")}, labels=["plaid-impact-acknowledged"],
                 comments=[{"id": 5, "user": {"type": "User"}, "body": "<!-- plaid-ready-compare fleet -->"}, mine])
    updates = [c[1] for c in calls if c[0] == "updateComment"]
    assert [u["comment_id"] for u in updates] == [99] and not [c for c in calls if c[0] == "createComment"]
    assert "| `cu2-prod` | breaks Plaid (acknowledged) |" in updates[0]["body"]
    assert [c[1]["state"] for c in calls if c[0] == "status"] == ["success"]


def test_a_stack_name_that_could_inject_markdown_is_skipped(tmp_path: Path) -> None:
    calls = _run(tmp_path, {"ok-dev": ("0", "fine"), "bad|name": ("0", "x")})
    body = next(c[1]["body"] for c in calls if c[0] == "createComment")
    assert "bad|name" not in body and "| `ok-dev` |" in body
    assert ["warning", "skipping bad|name.exit"] in calls


def test_a_long_fleet_stays_under_githubs_comment_limit(tmp_path: Path) -> None:
    calls = _run(tmp_path, {f"cu{i:03d}-dev": ("4", "x" * 5000) for i in range(40)})
    body = next(c[1]["body"] for c in calls if c[0] == "createComment")
    assert len(body) < 65536 and body.count("<details open>") == 40 and "(cut: see the run summary" in body
