"""`plan --json` for machines: a versioned document valid against readiness/plan.schema.json, for every
example stack, with unknowns and secrets as typed objects; errors are JSON too."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from readiness import cli
from readiness.plan import SCHEMA_VERSION
from tests.harness import ROOT

SCHEMA_PATH = ROOT / "readiness" / "plan.schema.json"
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = cli.main(["plan", "--json", *argv])
    out = capsys.readouterr()
    assert out.err == "" or "Traceback" not in out.err
    return code, json.loads(out.out)


def _walk(value: object):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


@pytest.mark.parametrize("stack", STACKS)
def test_every_example_stack_is_valid_against_the_schema(stack: str, validator, capsys):
    code, doc = _plan_json(capsys, "--stack", stack)
    assert code in (0, 1), doc  # an example stack must plan (ready or not), not stop on an error
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert doc["schemaVersion"] == SCHEMA_VERSION and doc["stack"] == stack
    assert doc["ready"] is (code == 0) and doc["summary"]["verdict"] == ("ready" if code == 0 else "not-ready")
    values = list(_walk([r["inputs"] for r in doc["resources"]]) ) + list(_walk(doc["outputs"]))
    assert "(known after apply)" not in values and "[secret]" not in values  # typed, not look-alike strings
    assert {"unknown": True} in values


def test_secrets_are_typed(capsys):
    code, doc = _plan_json(capsys, "--stack", "auth0-example")
    version = next(r for r in doc["resources"] if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion")
    assert version["inputs"]["secretString"] == {"secret": True}


def test_errors_document_is_valid_against_the_schema(validator, capsys, tmp_path: Path):
    code, doc = _plan_json(capsys, "--stack", "no-such-stack")
    assert code == 2 and list(validator.iter_errors(doc)) == []
    assert doc == {"schemaVersion": SCHEMA_VERSION, "kind": "offline-plan-errors", "errors": doc["errors"]}


def test_schema_ships_with_the_package():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "plan.schema.json" in project["tool"]["setuptools"]["package-data"]["readiness"]
