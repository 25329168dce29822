"""The API rows of the readiness table: pass for the examples, fail when the WAF, alarm or IAM scope go."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from readiness.checklist import Context, evaluate
from readiness.engine import SecretValue
from readiness.plan import build_report
from readiness.rules import api
from tests.harness import ROOT

API_IDS = {"API-WAF", "API-WAF-DEFAULT-BLOCK", "API-PLAID-IPS", "API-ERROR-ALARM", "API-LEAST-PRIVILEGE",
           "API-NO-SECRET-ENV"}
PROD_IDS = API_IDS | {"API-TLS12", "API-MTLS-PROD", "API-NO-BYPASS"}


@pytest.fixture(scope="module")
def example():
    return build_report(ROOT, "auth0-example")


@pytest.fixture(scope="module")
def prod():
    return build_report(ROOT, "auth0-prod")


def statuses(results):
    return {x.rule.id: x.finding.status.value for x in results if x.rule.id.startswith("API-")}


def test_example_passes(example):
    assert statuses(example.results) == dict.fromkeys(API_IDS, "pass")


def test_prod_passes_with_tls_mtls_and_no_bypass(prod):
    assert statuses(prod.results) == dict.fromkeys(PROD_IDS, "pass")
    assert prod.failed == []


def test_plan_lists_api_waf_and_alarms(example):
    types = {r.type for r in example.resources}
    assert {"aws:apigateway/restApi:RestApi", "aws:wafv2/webAcl:WebAcl", "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:lambda/function:Function", "aws:wafv2/webAclAssociation:WebAclAssociation"} <= types


def judge(resources, environment="dev"):
    return {x.rule.id: x for x in evaluate(api.RULES, Context(resources, environment))}


def failing(resources, environment="dev"):
    return {i for i, x in judge(resources, environment).items() if x.failed}


def test_removing_the_waf_fails_the_waf_rules(example):
    kept = [r for r in example.resources if not r.type.startswith("aws:wafv2/")]
    assert failing(kept) == {"API-WAF", "API-WAF-DEFAULT-BLOCK", "API-PLAID-IPS"}


def test_detached_waf_fails_only_the_attachment_rule(example):
    kept = [r for r in example.resources if r.type != api.ASSOCIATION]
    assert failing(kept) == {"API-WAF"}


def test_allow_by_default_fails(example):
    res = [replace(r, inputs={**r.inputs, "defaultAction": {"allow": {}}}) if r.type == api.WEB_ACL else r
           for r in example.resources]
    assert failing(res) == {"API-WAF-DEFAULT-BLOCK"}


def test_missing_legacy_plaid_ip_fails(example):
    res = []
    for r in example.resources:
        if r.type == api.IP_SET and r.input("ipAddressVersion") == "IPV4":
            r = replace(r, inputs={**r.inputs, "addresses": r.input("addresses")[:-1]})
        res.append(r)
    assert failing(res) == {"API-PLAID-IPS"}
    assert "3.219.116.195/32" in judge(res)["API-PLAID-IPS"].finding.declared


def _with_policy(resources, document):
    return [replace(r, inputs={**r.inputs, "policy": json.dumps(document)}) if r.type == api.ROLE_POLICY else r
            for r in resources]


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/x:*"},
    {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "arn:aws:secretsmanager:x"},
    {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/x:*"},
])
def test_opening_the_iam_policy_fails_least_privilege(example, statement):
    assert failing(_with_policy(example.resources, {"Version": "2012-10-17", "Statement": [statement]})) == {
        "API-LEAST-PRIVILEGE"}


def test_managed_policy_on_the_role_fails(example):
    res = [replace(r, inputs={**r.inputs, "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]})
           if r.type == api.ROLE else r for r in example.resources]
    assert failing(res) == {"API-LEAST-PRIVILEGE"}


def test_missing_error_alarm_fails(example):
    kept = [r for r in example.resources if r.type != api.ALARM]
    assert failing(kept) == {"API-ERROR-ALARM"}


def test_secret_in_lambda_environment_fails(example):
    def patch(r):
        if r.type != api.FUNCTION:
            return r
        variables = dict(r.input("environment", "variables"))
        variables["CLIENT_SECRET"] = SecretValue("abc")
        return replace(r, inputs={**r.inputs, "environment": {"variables": variables}})
    res = [patch(r) for r in example.resources]
    assert failing(res) == {"API-NO-SECRET-ENV"}


def test_prod_without_mtls_fails(prod):
    res = [replace(r, inputs={k: v for k, v in r.inputs.items() if k != "mutualTlsAuthentication"})
           if r.type == api.DOMAIN else r for r in prod.resources]
    assert failing(res, "prod") == {"API-MTLS-PROD"}
    assert failing([r for r in prod.resources if r.type != api.DOMAIN], "prod") == {"API-MTLS-PROD"}


def test_custom_domain_with_execute_api_open_fails(prod):
    res = [replace(r, inputs={**r.inputs, "disableExecuteApiEndpoint": False}) if r.type == api.REST_API else r
           for r in prod.resources]
    assert failing(res, "prod") == {"API-NO-BYPASS"}


def test_weak_tls_fails(prod):
    res = [replace(r, inputs={**r.inputs, "securityPolicy": "TLS_1_0"}) if r.type == api.DOMAIN else r
           for r in prod.resources]
    assert failing(res, "prod") == {"API-TLS12"}


def _archive_hash() -> str:
    out = subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    fn = next(r for r in json.loads(out.stdout)["resources"] if r["type"] == api.FUNCTION)
    return fn["inputs"]["sourceCodeHash"]


def test_planning_twice_shows_the_same_archive_hash():
    first, second = _archive_hash(), _archive_hash()
    assert first == second and len(first) == 44
