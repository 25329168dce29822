"""The readiness probe's rows (readiness/rules/probe.py): pass for every committed stack, fail when the probe is
off in prod, its schedule, alarm or roles go wrong; API-LEAST-PRIVILEGE leaves the probe's roles to its own row."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.probe import TYPE
from readiness.checklist import Context, evaluate
from readiness.plan import build_report
from readiness.rules import api, probe
from tests.harness import ROOT, make_settings, run_stack_program, settings_with

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012"
IDS = ("PROBE-DECLARED", "PROBE-SCHEDULE", "PROBE-ALARM", "PROBE-LEAST-PRIVILEGE")


@pytest.fixture(scope="module")
def prod():
    return build_report(ROOT, "auth0-prod")


def judge(resources, environment="prod"):
    return {x.rule.id: x for x in evaluate([*api.RULES, *probe.RULES], Context(resources, environment))}


def failing(resources, environment="prod"):
    return {i for i, x in judge(resources, environment).items() if x.failed}


def test_the_component_type_is_the_rules():
    assert api.PROBE == probe.PROBE == TYPE


@pytest.mark.parametrize("stack", ["auth0-prod", "okta-prod"])
def test_prod_stacks_pass_every_probe_row(stack):
    results = {x.rule.id: x.finding.status.value for x in build_report(ROOT, stack).results}
    assert {i: results[i] for i in IDS} == dict.fromkeys(IDS, "pass")
    assert results["API-LEAST-PRIVILEGE"] == "pass"


@pytest.mark.parametrize("stack", ["auth0-example", "okta-example", "cognito-example"])
def test_example_stacks_show_the_probe_off(stack):
    results = {x.rule.id: x for x in build_report(ROOT, stack).results}
    assert results["PROBE-DECLARED"].finding.status.value == "pass"
    assert results["PROBE-DECLARED"].finding.declared.startswith("not declared: probe.enabled is false")
    assert not set(IDS[1:]) & set(results)


def test_prod_without_the_probe_fails(prod):
    declared = run_stack_program(settings_with(environment="prod", probe={"enabled": False},
                                               api={"customDomain": {
                                                   "domainName": "fdx.firstplatypus.example",
                                                   "certificateArn": "arn:aws:acm:us-east-1:111122223333:"
                                                                     "certificate/abcd-1234",
                                                   "mtls": {"truststoreUri": "s3://fpb-truststore/t.pem",
                                                            "truststoreVersion": "v1"}}}))
    assert declared.of_type(TYPE) == []
    found = judge(declared.resources)["PROBE-DECLARED"]
    assert found.failed and "probe.enabled is false" in found.finding.declared
    assert not judge(declared.resources, "dev")["PROBE-DECLARED"].failed
    assert make_settings(environment="prod", probe={"enabled": False}).probe_enabled is False


def _change(resources, typ, name_part, **inputs):
    return [replace(r, inputs={**r.inputs, **inputs}) if r.type == typ and name_part in r.name else r
            for r in resources]


def test_planted_faults_fail_their_row(prod):
    res = list(prod.resources)
    assert failing(res) == set()
    assert failing(_change(res, probe.SCHEDULE, "probe", scheduleExpression="rate(2 minutes)")) == {"PROBE-SCHEDULE"}
    assert failing(_change(res, probe.SCHEDULE, "probe", state="DISABLED")) == {"PROBE-SCHEDULE"}
    assert failing([r for r in res if not (r.type == api.ALARM and "probe" in r.name)]) == {"PROBE-ALARM"}
    assert failing(_change(res, api.ALARM, "probe", treatMissingData="notBreaching")) == {"PROBE-ALARM"}
    silent = [replace(r, inputs={**r.inputs, "alarmActions": []}, dependencies=[])
              if r.type == api.ALARM and "probe" in r.name else r for r in res]
    assert failing(silent) == {"PROBE-ALARM"}
    assert "notifies no declared topic" in judge(silent)["PROBE-ALARM"].finding.declared


def _policy(resources, name, statement):
    return [replace(r, inputs={**r.inputs, "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})})
            if r.type == api.ROLE_POLICY and r.name == name else r for r in resources]


@pytest.mark.parametrize(("name", "statement", "needle"), [
    ("fpb-probe-fn-state-policy", {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "*"}, "Resource *"),
    ("fpb-probe-fn-state-policy", {"Effect": "Allow", "Action": ["ssm:GetParameter"],
                                   "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/other"},
     "SSM access beyond the probe's parameter"),
    ("fpb-probe-fn-state-policy", {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                                   "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"},
     "secretsmanager:GetSecretValue"),
    ("fpb-probe-schedule-invoke", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                   "Resource": f"{LAMBDA_ARN}:function:fpb-prod-customers-current"},
     "invokes more than the probe"),
    ("fpb-probe-schedule-invoke", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                   "Resource": f"{LAMBDA_ARN}:function:*"}, "Resource"),
])
def test_planted_privileges_fail_the_probes_row_only(prod, name, statement, needle):
    res = _policy(list(prod.resources), name, statement)
    found = judge(res)
    assert {i for i, x in found.items() if x.failed} == {"PROBE-LEAST-PRIVILEGE"}
    assert needle in found["PROBE-LEAST-PRIVILEGE"].finding.declared


def test_api_least_privilege_still_judges_the_customers_lambda(prod):
    res = _policy(list(prod.resources), "fpb-customers-fn-logs-policy",
                  {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:1:parameter/x"})
    assert failing(res) == {"API-LEAST-PRIVILEGE"}
