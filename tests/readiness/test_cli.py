"""The `plaid-ready` command line itself: one argparse tree for every command, one exit-code enum, each subcommand's
usage errors in its own form, and a machine that cannot build the Lambda package told so in one line (exit 2)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from lambdas.build import BuildError
from readiness import cli
from readiness.exit_codes import ExitCode
from tests.harness import ROOT


def test_one_tree_holds_every_command(capsys):
    assert list(cli._parser().commands) == ["plan", "serve-customers", "check", "fleet", "new-stack"]
    assert cli.main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "{plan,serve-customers,check,fleet,new-stack}" in out
    for command in ("plan", "serve-customers", "check", "fleet", "new-stack"):
        assert cli.main([command, "--help"]) == ExitCode.OK
        assert capsys.readouterr().out.startswith(f"usage: plaid-ready {command} [-h]")


def test_one_exit_code_enum_and_no_other_definition():
    assert [(c.name, int(c)) for c in ExitCode] == [("OK", 0), ("NOT_READY", 1), ("USAGE", 2), ("INTERNAL", 3),
                                                    ("PLAID_BREAKING", 4)]
    assert ExitCode.FAILED is ExitCode.NOT_READY
    defined = [p.relative_to(ROOT).as_posix() for p in (ROOT / "readiness").rglob("*.py")
               if re.search(r"^\s*EXIT_[A-Z_]+\s*[,:=]", p.read_text(), re.M)]
    assert defined == []


@pytest.mark.parametrize("argv", [["plan", "--summary", "--json"], ["plan", "--stack", "--json"],
                                  ["plan", "--format", "yaml", "--json"], ["plan", "--js"],
                                  ["plan", "--json", "--stack", "x", "--bogus"]])
def test_plan_usage_errors_are_json_with_json_wherever_it_stands(capsys, argv):
    """`plan --json` makes every outcome JSON on stdout, a command line argparse refuses included, whatever the
    order of the options (argparse reads --json, abbreviations included)."""
    assert cli.main(argv) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["kind"] == "offline-plan-errors"


@pytest.mark.parametrize(("argv", "first_line", "last_line"), [
    (["plan"], "usage: plaid-ready plan [-h]", "plaid-ready: error: the following arguments are required: --stack "
                                               "(or --all, or --stacks GLOB)"),
    (["plan", "--stack", "x", "--bogus"], "usage: plaid-ready [-h]", "plaid-ready: error: unrecognized arguments: "
                                                                    "--bogus"),
    (["serve-customers", "--port", "0", "--bogus"], "usage: plaid-ready serve-customers [-h]",
     "plaid-ready serve-customers: error: unrecognized arguments: --bogus"),
    (["check", "--bogus", "s3cr3t-value"], "plaid-ready check: error: unrecognized arguments (see --help)",
     "plaid-ready check: error: unrecognized arguments (see --help)"),
])
def test_each_subcommand_reports_usage_errors_in_its_own_form(capsys, argv, first_line, last_line):
    assert cli.main(argv) == ExitCode.USAGE
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(first_line) and lines[-1] == last_line
    assert "s3cr3t-value" not in "\n".join(lines)


PROBLEM = ("cannot build the Lambda package: $PLAID_READY_LAMBDA_PYTHON=/nonexistent/python3.13 is not a working "
           "CPython 3.13 interpreter: point it at a CPython 3.13 (`pyenv install 3.13`, or the OS's python3.13), or "
           "unset it to use pyenv's or python3.13 on PATH")


@pytest.mark.parametrize("as_json", [False, True])
def test_a_build_error_is_a_usage_error_in_one_line(monkeypatch, capsys, as_json):
    def no_python(program_dir, stack):
        raise BuildError("$PLAID_READY_LAMBDA_PYTHON=/nonexistent/python3.13 is not a working CPython 3.13 "
                         "interpreter")

    monkeypatch.setattr("readiness.plan.build_report", no_python)
    code = cli.main(["plan", "--stack", "auth0-example", *(["--json"] if as_json else [])])
    captured = capsys.readouterr()
    assert code == ExitCode.USAGE
    if as_json:
        assert captured.err == "" and json.loads(captured.out)["errors"] == [PROBLEM]
    else:
        assert captured.out == "" and captured.err == f"plaid-ready plan: {PROBLEM}\n"


def test_a_build_error_with_pips_output_is_still_one_line(monkeypatch, capsys):
    def offline(program_dir, stack):
        raise BuildError("pip could not fetch the Lambda's arm64 wheels with their pinned hashes (PyPI must be "
                         "reachable):\nERROR: Could not find a version\nERROR: No matching distribution")

    monkeypatch.setattr("readiness.plan.build_report", offline)
    assert cli.main(["plan", "--stack", "auth0-example"]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "plaid-ready plan: cannot build the Lambda package: pip could not fetch the Lambda's arm64 wheels with their "
        "pinned hashes (PyPI must be reachable) (details: `python -m lambdas.build`)\n")


def test_no_cpython_313_stops_the_real_plan_in_one_line():
    env = {**os.environ, "PLAID_READY_LAMBDA_PYTHON": "/nonexistent/python3.13"}
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert (r.returncode, r.stdout, r.stderr) == (ExitCode.USAGE, "", f"plaid-ready plan: {PROBLEM}\n")
