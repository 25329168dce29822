"""The two-phase client-secret rotation on Cognito (clientSecret.version + clientSecret.rotation.phase): which
secrets exist in each phase, where each value goes, and that every value stays a Pulumi secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

import plaid_contract as plaid
from components.client_secret import PENDING_STAGE
from readiness import engine
from tests.harness import is_secret
from tests.idps.cognito.test_component import GENERATED, READERS, VERSION, build, cognito_settings

RANDOM = "random:index/randomBytes:RandomBytes"
DYNAMIC = "pulumi-python:dynamic:Resource"


def rotated(version: int, phase: str) -> Any:
    s = cognito_settings()
    s["clientSecret"] = {"readers": READERS, "version": version, "rotation": {"phase": phase}}
    return build(s)


def value(v: int) -> str:
    """What the mock CSPRNG gives secret version v (deterministic per name and keepers)."""
    return engine.computed_outputs(RANDOM, f"fpb-plaid-secret-v{v}", {"length": plaid.CLIENT_SECRET_BYTES,
                                                                      "keepers": {"version": str(v)}})["hex"]


def stored(d: Any, name: str) -> str:
    version = d.one(VERSION, name)
    assert is_secret(version.inputs["secretString"])
    doc = json.loads(version.input("secretString"))
    assert doc["client_id"] == "fpb-plaid-client-id"
    return str(doc["client_secret"])


def names(d: Any) -> list[tuple[str, str]]:
    return sorted((r.type, r.name) for r in d.resources if r.type in (RANDOM, DYNAMIC, VERSION))


def test_phase_1_adds_version_2_beside_cognitos_own_secret():
    d = rotated(2, "add-next")
    assert names(d) == sorted([(RANDOM, "fpb-plaid-secret-v2"), (DYNAMIC, "fpb-plaid-secret-v2-cognito"),
                               (VERSION, "fpb-plaid-credentials-version"), (VERSION, "fpb-plaid-credentials-pending")])
    assert stored(d, "fpb-plaid-credentials-version") == GENERATED  # Plaid's secret still AWSCURRENT
    assert stored(d, "fpb-plaid-credentials-pending") == value(2)
    assert d.one(VERSION, "fpb-plaid-credentials-pending").input("versionStages") == [PENDING_STAGE] == ["AWSPENDING"]
    assert d.one(VERSION, "fpb-plaid-credentials-version").input("versionStages") is None  # AWSCURRENT by default
    rb = d.one(RANDOM, "fpb-plaid-secret-v2")
    assert rb.input("length") == 32 and rb.input("keepers") == {"version": "2"}
    assert {"hex", "base64"} <= set(rb.secret_outputs)
    added = d.one(DYNAMIC, "fpb-plaid-secret-v2-cognito")
    assert is_secret(added.inputs["client_secret"]) and added.input("client_secret") == value(2)
    assert "client_secret" in added.secret_outputs
    assert (added.input("user_pool_id"), added.input("client_id"), added.input("region"), added.input("version")) == (
        "fpb-user-pool-id", "fpb-plaid-client-id", "us-east-1", 2)
    assert added.protect is False  # phase 2 of the next rotation deletes it


def test_phase_2_makes_version_2_current_and_retires_the_rest():
    d = rotated(2, "retire-previous")
    assert names(d) == sorted([(RANDOM, "fpb-plaid-secret-v2"), (DYNAMIC, "fpb-plaid-secret-v2-cognito"),
                               (DYNAMIC, "fpb-plaid-secret-retire"), (VERSION, "fpb-plaid-credentials-version")])
    assert stored(d, "fpb-plaid-credentials-version") == value(2)
    retire = d.one(DYNAMIC, "fpb-plaid-secret-retire")
    assert d.one(DYNAMIC, "fpb-plaid-secret-v2-cognito").urn in retire.dependencies  # keeps v2's id
    assert (retire.input("user_pool_id"), retire.input("client_id")) == ("fpb-user-pool-id", "fpb-plaid-client-id")


def test_after_the_rotation_version_2_alone_and_nothing_to_retire():
    d = rotated(2, "none")
    assert names(d) == sorted([(RANDOM, "fpb-plaid-secret-v2"), (DYNAMIC, "fpb-plaid-secret-v2-cognito"),
                               (VERSION, "fpb-plaid-credentials-version")])
    assert stored(d, "fpb-plaid-credentials-version") == value(2)


def test_the_next_rotation_keeps_version_2_current_and_adds_3():
    d = rotated(3, "add-next")
    assert (DYNAMIC, "fpb-plaid-secret-v3-cognito") in names(d) and (DYNAMIC, "fpb-plaid-secret-v2-cognito") in names(d)
    assert stored(d, "fpb-plaid-credentials-version") == value(2)
    assert stored(d, "fpb-plaid-credentials-pending") == value(3)
    d = rotated(3, "retire-previous")  # v2's resource is no longer declared: deleting it deletes that secret
    assert (DYNAMIC, "fpb-plaid-secret-v2-cognito") not in names(d)
    assert stored(d, "fpb-plaid-credentials-version") == value(3)


@pytest.mark.parametrize("phase", ["add-next", "retire-previous"])
def test_no_value_in_plain_text_anywhere(phase):
    d = rotated(2, phase)
    values = (value(2), GENERATED)
    for r in d.resources:
        for key, raw in r.inputs.items():
            if not is_secret(raw):
                assert not any(v in json.dumps(raw, default=repr) for v in values), (r.name, key)
    assert not any(v in json.dumps(d.outputs, default=repr) for v in values)


def test_cognito_secret_row_passes_once_the_secret_is_ours():
    from readiness.checklist import Context, Status, all_rules, evaluate

    def row(d: Any) -> Any:
        results = evaluate(all_rules(), Context(d.resources, "dev"))
        return next(x.finding for x in results if x.rule.id == "COGNITO-SECRET")
    first = row(build(cognito_settings()))
    assert first.status is Status.CLOSEST
    assert "from clientSecret.version 2 the rotation adds one of ours" in first.reason
    ours = row(rotated(2, "none"))
    assert ours.status is Status.PASS and ours.declared.startswith(
        "client fpb-plaid-client: secret fpb-plaid-secret-v2, 32 CSPRNG bytes hex of ours, added with "
        "AddUserPoolClientSecret")
