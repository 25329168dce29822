"""The API rows of the readiness table: pass for the examples, fail when the WAF, alarm or IAM scope go."""

from __future__ import annotations

import copy
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

API_IDS = {"API-WAF", "API-WAF-DEFAULT-BLOCK", "API-PLAID-IPS", "API-EXTRA-RANGES", "API-WAF-NO-TOKEN-SAMPLES",
           "API-ERROR-ALARM", "API-ALARM-SUBSCRIBER", "API-TOKEN-CLIENT", "API-LEAST-PRIVILEGE", "API-NO-SECRET-ENV"}
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
    assert failing(kept) == {"API-WAF", "API-WAF-DEFAULT-BLOCK", "API-PLAID-IPS", "API-WAF-NO-TOKEN-SAMPLES"}


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
    # The subscriber row is advisory: without the alarm there is no topic to judge, and it never fails the plan.
    assert judge(kept)["API-ALARM-SUBSCRIBER"].finding.status.value == "fail"


def test_error_alarm_row_names_the_topic_and_its_key(example):
    assert judge(example.resources)["API-ERROR-ALARM"].finding.declared == (
        "fpb-customers-monitoring-lambda-error-rate: Lambda error rate > 2% notifies fpb-customers-monitoring-alarms "
        "(key fpb-customers-monitoring-alarms-key), which CloudWatch can use")


def _topic(resources, **inputs):
    return [replace(r, inputs={**r.inputs, **inputs}) if r.type == api.TOPIC else r for r in resources]


def _key_policy(resources, change):
    out = []
    for r in resources:
        if r.type == api.KMS_KEY and r.name.endswith("-alarms-key"):
            doc = json.loads(r.input("policy"))
            change(doc)
            r = replace(r, inputs={**r.inputs, "policy": json.dumps(doc)})
        out.append(r)
    return out


def test_alarm_topic_under_the_aws_managed_key_fails(example):
    res = judge(_topic(example.resources, kmsMasterKeyId="alias/aws/sns"))
    assert {i for i, x in res.items() if x.failed} == {"API-ERROR-ALARM"}
    assert res["API-ERROR-ALARM"].finding.declared == (
        "fpb-customers-monitoring-alarms is encrypted with the AWS-managed SNS key, whose policy CloudWatch cannot "
        "use: every alarm action would fail silently")


def test_alarm_key_without_a_cloudwatch_statement_fails(example):
    res = judge(_key_policy(example.resources, lambda doc: doc["Statement"].pop()))
    assert {i for i, x in res.items() if x.failed} == {"API-ERROR-ALARM"}
    assert res["API-ERROR-ALARM"].finding.declared == (
        "fpb-customers-monitoring-alarms: key fpb-customers-monitoring-alarms-key policy does not let "
        "cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*)")


def test_alarm_key_with_the_default_policy_fails(example):
    res = [replace(r, inputs={k: v for k, v in r.inputs.items() if k != "policy"})
           if r.type == api.KMS_KEY and r.name.endswith("-alarms-key") else r for r in example.resources]
    assert failing(res) == {"API-ERROR-ALARM"}


def test_topic_policy_without_cloudwatch_fails(example):
    def patch(r):
        if r.type != api.TOPIC_POLICY:
            return r
        doc = json.loads(r.input("policy"))
        doc["Statement"] = [st for st in doc["Statement"] if st["Sid"] != "CloudWatchAlarmsPublish"]
        return replace(r, inputs={**r.inputs, "policy": json.dumps(doc)})
    assert failing([patch(r) for r in example.resources]) == {"API-ERROR-ALARM"}


def test_unencrypted_topic_is_usable_by_cloudwatch(example):
    res = _topic(example.resources, kmsMasterKeyId=None)
    assert failing(res) == set()


def test_no_subscriber_warns_and_says_so_plainly_in_prod(prod):
    kept = [r for r in prod.resources if r.type != api.SUBSCRIPTION]
    assert failing(kept, "prod") == set()  # advisory: the plan stays ready
    row = judge(kept, "prod")["API-ALARM-SUBSCRIBER"]
    assert not row.rule.mandatory and row.finding.status.value == "fail"
    assert row.finding.declared == "no subscription to fpb-customers-monitoring-alarms"
    assert row.finding.reason.startswith("In prod nobody would be told that Plaid's calls fail. Set alarms.email")
    assert not judge(kept, "dev")["API-ALARM-SUBSCRIBER"].finding.reason.startswith("In prod")
    assert judge(prod.resources, "prod")["API-ALARM-SUBSCRIBER"].finding.declared == (
        "1 subscription(s): fpb-customers-monitoring-email (email)")


def _ip_sets(resources, extra4=(), extra6=()):
    out = []
    for r in resources:
        if r.type == api.IP_SET:
            extra = extra4 if r.input("ipAddressVersion") == "IPV4" else extra6
            r = replace(r, inputs={**r.inputs, "addresses": [*r.input("addresses"), *extra]})
        out.append(r)
    return out


def test_extra_ranges_are_listed(prod):
    res = judge(_ip_sets(prod.resources, ["9.9.9.0/24", "52.94.76.7/32"], ["2620:fe::/48"]), "prod")
    assert res["API-EXTRA-RANGES"].finding.status.value == "pass"
    assert res["API-EXTRA-RANGES"].finding.declared == (
        "3 extra range(s) allowlisted besides Plaid's: 9.9.9.0/24, 52.94.76.7/32, 2620:fe::/48")
    assert judge(prod.resources, "prod")["API-EXTRA-RANGES"].finding.declared == (
        "none: only Plaid's ranges are allowlisted")


@pytest.mark.parametrize(("extra4", "extra6", "declared"), [
    (["0.0.0.0/1", "128.0.0.0/1"], [],
     "0.0.0.0/1 is wider than /16, the widest extra IPv4 range allowed; list only the addresses that call the API; "
     "128.0.0.0/1 is wider than /16, the widest extra IPv4 range allowed; list only the addresses that call the API"),
    (["10.0.0.0/8"], [], "10.0.0.0/8 is wider than /16, the widest extra IPv4 range allowed; list only the addresses "
                         "that call the API"),
    (["192.168.0.0/16"], [], "192.168.0.0/16 overlaps 192.168.0.0/16 (private); only public addresses can reach the "
                             "API"),
    ([], ["::/1"], "::/1 is wider than /48, the widest extra IPv6 range allowed; list only the addresses that call the "
                   "API"),
    ([], ["fe80::/64"], "fe80::/64 is outside 2000::/3 (IPv6 global unicast); only public addresses can reach the "
                        "API"),
])
def test_wide_or_private_extra_ranges_fail_in_any_environment(example, prod, extra4, extra6, declared):
    for stack, env in ((example, "dev"), (example, "staging"), (prod, "prod")):
        res = judge(_ip_sets(stack.resources, extra4, extra6), env)
        assert {i for i, x in res.items() if x.failed} == {"API-EXTRA-RANGES"}
        assert res["API-EXTRA-RANGES"].finding.declared == declared


def _acl(resources, change):
    out = []
    for r in resources:
        if r.type == api.WEB_ACL:
            inputs = copy.deepcopy(r.inputs)
            change(inputs)
            r = replace(r, inputs=inputs)
        out.append(r)
    return out


def test_sampling_plaids_requests_fails(example):
    def allow_rule(inputs):
        rule = next(x for x in inputs["rules"] if x["name"] == "allow-plaid")
        rule["visibilityConfig"]["sampledRequestsEnabled"] = True

    def default(inputs):
        inputs["visibilityConfig"]["sampledRequestsEnabled"] = True
    res = judge(_acl(example.resources, allow_rule))
    assert {i for i, x in res.items() if x.failed} == {"API-WAF-NO-TOKEN-SAMPLES"}
    assert res["API-WAF-NO-TOKEN-SAMPLES"].finding.declared == (
        "fpb-customers-allowlist-acl: allow rule allow-plaid samples requests")
    res = judge(_acl(example.resources, default))
    assert res["API-WAF-NO-TOKEN-SAMPLES"].finding.declared == (
        "fpb-customers-allowlist-acl: default action samples requests")


def _env(resources, **changes):
    out = []
    for r in resources:
        if r.type == api.FUNCTION:
            variables = {k: v for k, v in r.input("environment", "variables").items() if k not in changes}
            variables.update({k: v for k, v in changes.items() if v is not None})
            r = replace(r, inputs={**r.inputs, "environment": {"variables": variables}})
        out.append(r)
    return out


def test_token_client_row(example):
    assert judge(example.resources)["API-TOKEN-CLIENT"].finding.declared == (
        "fpb-customers-fn: TOKEN_CLIENT_ID = Plaid's client id (known after apply), checked in the client_id claim")


@pytest.mark.parametrize(("changes", "declared"), [
    ({"TOKEN_CLIENT_ID": None}, "fpb-customers-fn: TOKEN_CLIENT_ID not set"),
    ({"TOKEN_CLIENT_ID": " "}, "fpb-customers-fn: TOKEN_CLIENT_ID not set"),
    ({"TOKEN_CLIENT_CLAIM": None}, "fpb-customers-fn: TOKEN_CLIENT_CLAIM is not one of client_id, azp, cid"),
    ({"TOKEN_CLIENT_CLAIM": "sub"}, "fpb-customers-fn: TOKEN_CLIENT_CLAIM is not one of client_id, azp, cid"),
])
def test_lambda_without_plaids_client_fails(example, changes, declared):
    res = judge(_env(example.resources, **changes))
    assert {i for i, x in res.items() if x.failed} == {"API-TOKEN-CLIENT"}
    assert res["API-TOKEN-CLIENT"].finding.declared == declared


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


def test_the_rules_judge_what_is_inside_the_customers_api_component(example):
    """By parent URN, at any depth (the WAF and the alarms sit in child components): no IdP knowledge needed."""
    from components.checklist import Context
    from components.customers_api import TYPE

    assert api.CUSTOMERS_API == TYPE
    inside = Context(example.resources).within(TYPE)
    assert {"fpb-customers", "fpb-customers-fn", "fpb-customers-allowlist-acl", "fpb-customers-allowlist-ipv4"} <= {
        r.name for r in inside}
    assert not any(r.type.startswith(("auth0:", "aws:secretsmanager/")) for r in inside)
