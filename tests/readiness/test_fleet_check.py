"""``plaid-ready check --all`` (readiness/fleet/check.py): every stack with an outputs file checked in its own
``check`` process, in parallel, one table; a stack whose outputs cannot be used is a row with its error. Talks to
127.0.0.1 only (a port just closed: nothing answers)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from readiness.cli import main


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: plaid-ready-idp\nruntime: python\nstackConfigDir: stacks\n")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    port = closed_port()
    (stacks / "cu1-dev.outputs.json").write_text(json.dumps(
        {"discovery_url": f"https://127.0.0.1:{port}/.well-known/openid-configuration"}))
    (stacks / "cu2-dev.outputs.json").write_text(json.dumps({"client_id": "x"}))
    return tmp_path


def test_every_stack_in_one_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--all", "--dir", str(project), "--jobs", "2", "--timeout", "5"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Live check of 2 stacks: 0 without a failing check, 2 not ready or not checked"
    rows = {line.split()[0]: line for line in lines[3:5]}
    assert rows["cu1-dev"].split()[1:] == ["not", "ready", "DISCOVERY-FETCH"]
    assert rows["cu2-dev"].split()[1] == "error"
    assert rows["cu2-dev"].endswith("the stack outputs have no discovery_url")


@pytest.mark.parametrize(("argv", "message"), [
    (["--stack", "cu1-dev"], "--stack go with one stack"),
    (["--client-secret-env", "SECRET"], "--client-secret-env go with one stack"),
    (["--json"], "--json goes with one stack"),
    (["--jobs", "0"], "--jobs must be between 1 and 64"),
])
def test_usage_errors(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["check", "--all", "--dir", str(project), *argv]) == 2
    assert message in capsys.readouterr().err


def test_no_outputs_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: plaid-ready-idp\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    assert main(["check", "--all", "--dir", str(tmp_path)]) == 2
    assert "no outputs files in" in capsys.readouterr().err


def test_the_table_escapes_what_a_check_child_reported() -> None:
    from readiness.fleet.check import StackCheck, to_text

    text = to_text([StackCheck("cu1-dev", "error", error="boom \x1b]0;owned\x07 \u202e")])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "cu1-dev" in text and "boom" in text
