"""`plaid-ready plan --compare` as a user runs it: the CLI hands over to readiness.compare, one line on errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ROOT


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example", *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_a_stack_against_a_saved_plan_of_itself_has_no_changes(tmp_path):
    saved = tmp_path / "base.json"
    saved.write_text(cli("--json").stdout)
    r = cli("--compare", str(saved), "--format", "markdown")
    assert r.returncode == 0 and r.stderr == ""
    assert "no changes" in r.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--compare", "no-such-revision-xyz"], "--compare no-such-revision-xyz: not a git revision"),
    (["--format", "markdown"], "--format goes with --compare"),
    (["--compare", "HEAD", "--summary"], "--compare takes --format"),
    (["--head", "x.json"], "--head goes with --compare"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, message):
    r = cli(*argv)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"plaid-ready plan: {message}") and len(r.stderr.strip().splitlines()) == 1


def test_help_says_compare_runs_the_other_revisions_code():
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--help"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    text = " ".join(r.stdout.split())
    assert "Planning a revision RUNS ITS PROGRAM CODE (offline, without your credentials" in text
    assert "compare only against revisions you would run" in text
