"""PlaidReadinessProbe under Pulumi's mock engine, through the real __main__.py: exact children, names, the schedule,
both roles' policies, the SSM parameter, the alarm on the stack's topic, the dashboard widget, protect in prod."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.probe import TYPE, PlaidReadinessProbe, ProbeArgs, schedule_expression
from lambdas import build
from lambdas.readiness_probe import names
from tests.harness import declare, run_stack_program, settings_with

FN, ROLE, POLICY = "aws:lambda/function:Function", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
SCHEDULE, PARAM = "aws:scheduler/schedule:Schedule", "aws:ssm/parameter:Parameter"
ALARM, LOGS = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logGroup:LogGroup"
BOARD = "aws:cloudwatch/dashboard:Dashboard"
ACCOUNT, REGION = "123456789012", "us-east-1"
CUSTOM = {"customDomain": {"domainName": "fdx.firstplatypus.example",
                           "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234",
                           "mtls": {"truststoreUri": "s3://fpb-truststore/plaid/truststore.pem",
                                    "truststoreVersion": "v3"}}}


@pytest.fixture(scope="module")
def prod():
    return run_stack_program(settings_with(environment="prod", api=CUSTOM, alarms={"email": "oncall@fpb.example"}),
                             compute=True)


@pytest.fixture(scope="module")
def dev_on():
    return run_stack_program(settings_with(probe={"enabled": True, "intervalMinutes": 5}), compute=True)


def _children(declared):
    comp = declared.one(TYPE, "fpb-probe")
    return comp, [r for r in declared.resources if r.parent_urn == comp.urn]


def test_prod_declares_the_probe_with_exactly_these_children(prod):
    comp, children = _children(prod)
    assert comp.parent_urn.endswith("pulumi:pulumi:Stack::plaid-ready-idp-test")
    assert sorted((r.type, r.name) for r in children) == sorted([
        (PARAM, "fpb-probe-state"), (LOGS, "fpb-probe-fn-logs"), (ROLE, "fpb-probe-fn-role"),
        (POLICY, "fpb-probe-fn-logs-policy"), (POLICY, "fpb-probe-fn-state-policy"), (FN, "fpb-probe-fn"),
        (ROLE, "fpb-probe-schedule-role"), (POLICY, "fpb-probe-schedule-invoke"), (SCHEDULE, "fpb-probe-schedule"),
        (ALARM, "fpb-probe-failed")])
    # prod protects the stateful child only: the parameter (the probe's memory of the key set)
    assert {r.name for r in children if r.protect} == {"fpb-probe-state"}


def test_dev_has_no_probe_unless_enabled(dev_on):
    assert run_stack_program(settings_with(), compute=False).of_type(TYPE) == []
    comp, children = _children(dev_on)
    assert not any(r.protect for r in children)


def test_the_lambda(prod):
    fn = prod.one(FN, "fpb-probe-fn")
    pkg = build.build_function(build.READINESS_PROBE, "arm64", "3.13")
    assert fn.input("name") == "fpb-prod-readiness-probe"
    assert (fn.input("runtime"), fn.input("architectures"), fn.input("handler")) == (
        "python3.13", ["arm64"], "lambdas.readiness_probe.handler.handler")
    assert fn.input("sourceCodeHash") == pkg.sha256_base64
    assert fn.input("timeout") == 60 and fn.input("memorySize") == 256
    assert fn.input("role") == "arn:aws:iam:us-east-1:123456789012:fpb-prod-readiness-probe"  # the mock's role ARN
    assert fn.input("loggingConfig") == {"logFormat": "JSON", "logGroup": "/aws/lambda/fpb-prod-readiness-probe"}
    env = fn.input("environment")["variables"]
    assert env == {
        names.DISCOVERY_URL: "https://first-platypus-dev.us.auth0.com/.well-known/openid-configuration",
        names.STATE_PARAMETER: "/plaid-ready-idp/fpb-prod/readiness-probe/kids",
        names.IDP_DOMAIN: "first-platypus-dev.us.auth0.com",
        names.CUSTOMERS_URL: "https://fdx.firstplatypus.example/fdx/v6/customers/current",
        names.API_DOMAIN: "fdx.firstplatypus.example", names.API_MTLS: "true",
        "POWERTOOLS_SERVICE_NAME": "readiness-probe", "POWERTOOLS_METRICS_NAMESPACE": "PlaidReadyIdp"}


def test_the_lambda_role_writes_its_logs_and_its_one_parameter_nothing_else(prod):
    role = prod.one(ROLE, "fpb-probe-fn-role")
    assert role.input("name") == "fpb-prod-readiness-probe"
    assert json.loads(role.input("assumeRolePolicy"))["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
    assert not role.input("managedPolicyArns") and not role.input("inlinePolicies")
    logs = json.loads(prod.one(POLICY, "fpb-probe-fn-logs-policy").input("policy"))
    assert logs["Statement"] == [{
        "Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fpb-prod-readiness-probe:*"}]
    state = json.loads(prod.one(POLICY, "fpb-probe-fn-state-policy").input("policy"))
    assert state == {"Version": "2012-10-17", "Statement": [{
        "Sid": "OwnState", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter"],
        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plaid-ready-idp/fpb-prod/readiness-probe/kids"}]}
    roles = {p.input("role") for p in (prod.one(POLICY, "fpb-probe-fn-logs-policy"),
                                       prod.one(POLICY, "fpb-probe-fn-state-policy"))}
    assert len(roles) == 1


def test_the_parameter(prod):
    param = prod.one(PARAM, "fpb-probe-state")
    assert param.input("name") == "/plaid-ready-idp/fpb-prod/readiness-probe/kids"
    assert (param.input("type"), param.input("tier"), param.input("insecureValue")) == ("String", "Standard", "{}")
    assert param.input("value") is None  # not a secret: key ids and times


def test_the_schedule_and_its_invoke_only_role(prod, dev_on):
    sched = prod.one(SCHEDULE, "fpb-probe-schedule")
    assert sched.input("name") == "fpb-prod-readiness-probe"
    assert sched.input("scheduleExpression") == "rate(15 minutes)" and sched.input("state") == "ENABLED"
    assert sched.input("flexibleTimeWindow") == {"mode": "OFF"}
    target = sched.input("target")
    assert target["retryPolicy"] == {"maximumRetryAttempts": 0, "maximumEventAgeInSeconds": 3600}
    assert target["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fpb-prod-readiness-probe"
    assert prod.one(FN, "fpb-probe-fn").urn in sched.dependencies
    assert target["roleArn"] == "arn:aws:iam:us-east-1:123456789012:fpb-prod-readiness-probe-schedule"
    role = prod.one(ROLE, "fpb-probe-schedule-role")
    assert role.input("name") == "fpb-prod-readiness-probe-schedule"
    assert json.loads(role.input("assumeRolePolicy"))["Statement"] == [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "scheduler.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]
    invoke = json.loads(prod.one(POLICY, "fpb-probe-schedule-invoke").input("policy"))
    (statement,) = invoke["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction" and statement["Effect"] == "Allow"
    assert statement["Resource"] == [target["arn"], f"{target['arn']}:*"]
    assert dev_on.one(SCHEDULE).input("scheduleExpression") == "rate(5 minutes)"


def test_one_alarm_on_any_failure_to_the_stacks_topic(prod, dev_on):
    alarm = prod.one(ALARM, "fpb-probe-failed")
    topic = "arn:aws:sns:us-east-1:123456789012:fpb-prod-customers-api-alarms"
    assert alarm.input("name") == "fpb-prod-readiness-probe-failed"  # within the topic policy's alarm prefix
    assert (alarm.input("namespace"), alarm.input("metricName"), alarm.input("dimensions")) == (
        "PlaidReadyIdp", "ChecksFailed", {"service": "readiness-probe"})
    assert (alarm.input("statistic"), alarm.input("comparisonOperator"), alarm.input("threshold")) == (
        "Maximum", "GreaterThanThreshold", 0)
    assert alarm.input("period") == 1800 and alarm.input("evaluationPeriods") == 1
    assert alarm.input("treatMissingData") == "breaching"
    assert alarm.input("alarmActions") == [topic] and alarm.input("okActions") == [topic]
    assert dev_on.one(ALARM, "fpb-probe-failed").input("period") == 600


def test_the_dashboard_shows_the_probe_only_when_declared(prod):
    board = json.loads(prod.one(BOARD).input("dashboardBody"))
    (widget,) = [w for w in board["widgets"] if w["properties"]["title"].startswith("Readiness probe")]
    metrics = widget["properties"]["metrics"]
    assert metrics[0] == ["PlaidReadyIdp", "ChecksFailed", "service", "readiness-probe"]
    assert [m[1] for m in metrics[1:]] == [f"CheckFailed.{c}" for c in names.CHECKS]
    off = run_stack_program(settings_with(), compute=False)
    titles = [w["properties"]["title"] for w in json.loads(off.one(BOARD).input("dashboardBody"))["widgets"]]
    assert not any(t.startswith("Readiness probe") for t in titles)


def test_the_interval_is_bounded():
    assert schedule_expression(60) == "rate(60 minutes)"
    for bad in (4, 61):
        with pytest.raises(ValueError, match="interval_minutes must be 5-60"):
            ProbeArgs(name_prefix="fpb-dev", discovery_url="https://x.example/d", alarm_topic_arn="arn",
                      interval_minutes=bad)


def test_component_without_api_domain_or_customers_url():
    def program():
        PlaidReadinessProbe("p", ProbeArgs(name_prefix="fpb-dev", discovery_url="https://idp.example:8443/d",
                                           alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:t"))
        pulumi.export("ok", True)
    declared = declare(program)
    env = declared.one(FN).input("environment")["variables"]
    assert env[names.IDP_DOMAIN] == "idp.example:8443"
    assert names.CUSTOMERS_URL not in env and names.API_DOMAIN not in env and names.API_MTLS not in env
