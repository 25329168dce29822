"""``plan --all --compare BASE`` (readiness/fleet/compare.py): only the stacks whose inputs changed are compared;
a shared-code change compares all; docs and tests select none; one comparison end to end in a git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from readiness.cli import main
from readiness.fleet.compare import FleetCompareError, changed_files, select
from tests.fleet_gen import fleet_project, generate_fleet, stack_config, write_stack

SELECTED = ["a-dev", "a-prod", "b-dev"]


@pytest.mark.parametrize(("files", "stacks", "reason", "removed"), [
    (["stacks/Pulumi.a-prod.yaml"], ["a-prod"], "stack files changed", []),
    (["stacks/Pulumi.a-prod.yaml", "stacks/Pulumi.gone.yaml"], ["a-prod"], "stack files changed", ["gone"]),
    (["docs/fleet.md", "README.md", "tests/x.py", ".github/workflows/pr.yml", "stacks/notes.txt"], [],
     "no stack's inputs changed", []),
    (["stacks/Pulumi.a-dev.yaml", "components/waf.py"], SELECTED,
     "shared code changed (components/waf.py): every stack is compared", []),
    (["Pulumi.yaml"], SELECTED, "shared code changed (Pulumi.yaml): every stack is compared", []),
    (["readiness/rules/api.py"], SELECTED, "shared code changed (readiness/rules/api.py): every stack is compared",
     []),
])
def test_select(files: list[str], stacks: list[str], reason: str, removed: list[str]) -> None:
    choice = select(files, "stacks", SELECTED)
    assert (choice.stacks, choice.reason, choice.removed) == (stacks, reason, removed)


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    project = fleet_project(tmp_path / "project")
    generate_fleet(project, 2)
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "fleet")
    return project


def test_changed_files_include_untracked(repo: Path) -> None:
    name, cfg = stack_config(1)
    cfg["plaid-ready-idp:alarms"] = {"email": "other@i0000.example"}
    write_stack(repo, name, cfg)
    (repo / "stacks" / "Pulumi.new.yaml").write_text("config: {}\n")
    assert changed_files(repo, "HEAD") == ["stacks/Pulumi.i0000-prod.yaml", "stacks/Pulumi.new.yaml"]
    with pytest.raises(FleetCompareError, match="not a git revision of this repository"):
        changed_files(repo, "no-such-branch")


def test_only_the_changed_stack_is_compared(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, cfg = stack_config(1)
    cfg["plaid-ready-idp:alarms"] = {"email": "other@i0000.example"}
    write_stack(repo, name, cfg)
    code = main(["plan", "--all", "--compare", "HEAD", "--dir", str(repo), "--format", "markdown"])
    out = capsys.readouterr().out
    assert out.startswith("## Fleet comparison against HEAD: 1 of 2 stacks compared (stack files changed)")
    assert "| `i0000-prod` | no Plaid impact, no rule newly failing |" in out
    assert "### Stack `i0000-prod`" in out and "i0000-dev" not in out
    assert code == 0


def test_nothing_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--all", "--compare", "HEAD", "--dir", str(repo)]) == 0
    assert capsys.readouterr().out.strip() == ("Fleet comparison against HEAD: 0 of 2 stacks compared (no stack's "
                                               "inputs changed)")


def test_bad_revision(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--all", "--compare", "nope", "--dir", str(repo)]) == 2
    assert capsys.readouterr().err.startswith("plaid-ready plan: --compare nope: not a git revision")
