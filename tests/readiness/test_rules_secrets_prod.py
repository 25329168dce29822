"""The prod rows of readiness/rules/secrets.py at their edges (found by `make mutation`): every unprotected
stateful resource is named, and a deleted client secret stays recoverable for 30 days."""

from __future__ import annotations

import copy

import pytest

from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.rules import secrets as secret_rules
from tests.harness import run_stack_program, settings_with


@pytest.fixture(scope="module")
def prod():
    return run_stack_program(settings_with(environment="prod"), compute=False).resources


def judge(resources):
    return {x.rule.id: x for x in evaluate(all_rules(), Context(resources, "prod"))}


def test_the_prod_example_protects_everything_and_keeps_30_days(prod):
    res = judge(prod)
    assert res["PROD-PROTECT"].finding.status is Status.PASS
    assert res["PROD-RECOVERY"].finding.status is Status.PASS


def test_each_unprotected_stateful_resource_is_named(prod):
    changed = copy.deepcopy(prod)
    secret = next(r for r in changed if r.type == secret_rules.SECRET)
    secret.protect = False
    row = judge(changed)["PROD-PROTECT"].finding
    assert row.status is Status.FAIL and row.declared == f"unprotected: {secret.name}"


@pytest.mark.parametrize(("days", "status"), [(30, Status.PASS), (29, Status.FAIL), (0, Status.FAIL),
                                              (None, Status.FAIL)])
def test_a_deleted_client_secret_is_recoverable_for_30_days(prod, days, status):
    changed = copy.deepcopy(prod)
    secret = next(r for r in changed if r.type == secret_rules.SECRET)
    if days is None:
        secret.inputs.pop("recoveryWindowInDays", None)
    else:
        secret.inputs["recoveryWindowInDays"] = days
    row = judge(changed)["PROD-RECOVERY"].finding
    assert row.status is status
    if status is Status.FAIL:
        assert row.declared == f"recovery window under 30 days: {secret.name}"


@pytest.mark.parametrize(("length", "status"), [(32, Status.PASS), (31, Status.FAIL), (None, Status.FAIL)])
def test_the_client_secret_takes_32_csprng_bytes(prod, length, status):
    changed = copy.deepcopy(prod)
    randoms = [r for r in changed if r.type == secret_rules.RANDOM_BYTES]
    assert len(randoms) == 1
    if length is None:
        randoms[0].inputs.pop("length")
    else:
        randoms[0].inputs["length"] = length
    assert judge(changed)["SECRET-CSPRNG"].finding.status is status
