"""The customers-API rows at their edges (found by `make mutation`): how the web ACL is tied to the stage,
entries that are not CIDRs, rules that do not allow, a Lambda environment that is not a map, and whether
CloudWatch can use the error alarm's topic (its key, its policy, topics named by ARN)."""

from __future__ import annotations

import copy
import json

import pytest

import plaid_contract as plaid
from components.checklist import UNKNOWN, in_component
from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.rules import api as api_rules
from tests.harness import run_stack_program, settings_with


@pytest.fixture(scope="module")
def declared():
    return run_stack_program(settings_with(), compute=False).resources


def row(resources, rule: str):
    (only,) = [r for r in all_rules() if r.id == rule]
    return evaluate((only,), Context(resources, "dev"))[0].finding


def each(resources, typ: str, change):
    out = copy.deepcopy(resources)
    for r in out:
        if r.type == typ:
            change(r)
    return out


def _unlinked(r, arn: str | None) -> None:
    r.dependencies = []
    r.inputs["resourceArn"] = arn


def test_the_example_attaches_the_web_acl_to_the_stage(declared):
    assert row(declared, "API-WAF").status is Status.PASS


@pytest.mark.parametrize(("arn", "status"), [
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/v1", Status.PASS),
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3", Status.FAIL),
    ("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/x/1", Status.FAIL),
    (None, Status.FAIL),
])
def test_an_association_counts_when_it_depends_on_the_stage_or_names_a_stage_arn(declared, arn, status):
    finding = row(each(declared, api_rules.ASSOCIATION, lambda r: _unlinked(r, arn)), "API-WAF")
    assert finding.status is status


def test_an_entry_that_is_not_a_cidr_does_not_hide_the_plaid_ranges_after_it(declared):
    def prepend(r):
        r.inputs["addresses"] = ["not-a-cidr", *r.inputs["addresses"]]

    changed = each(declared, api_rules.IP_SET, prepend)
    assert row(changed, "API-PLAID-IPS").status is Status.PASS
    assert row(changed, "API-EXTRA-RANGES").status is Status.FAIL  # and it is reported there


def test_a_web_acl_whose_rules_do_not_allow_fails_the_plaid_ranges_row(declared):
    def no_allow(r):
        r.inputs["rules"] = [{**rule, "action": {"block": {}}} if isinstance(rule, dict) else rule
                             for rule in r.inputs.get("rules") or []]

    finding = row(each(declared, api_rules.WEB_ACL, no_allow), "API-PLAID-IPS")
    assert finding.status is Status.FAIL and finding.declared.endswith("CIDRs in IP sets, but no rule allows them")


def test_a_rule_entry_that_is_not_a_map_is_ignored(declared):
    def add_unknown(r):
        r.inputs["rules"] = [UNKNOWN, *(r.inputs.get("rules") or [])]

    assert row(each(declared, api_rules.WEB_ACL, add_unknown), "API-PLAID-IPS").status is Status.PASS


@pytest.mark.parametrize("cidr", ["203.0.113.5/24", "2001:db8::1/48"])
def test_an_extra_range_with_host_bits_set_is_not_a_cidr(declared, cidr):
    def add(r):
        r.inputs["addresses"] = [*r.inputs["addresses"], cidr]

    finding = row(each(declared, api_rules.IP_SET, add), "API-EXTRA-RANGES")
    assert finding.status is Status.FAIL and "an entry is not a CIDR" in finding.declared


def test_plaid_ranges_are_not_counted_as_extra(declared):
    assert row(declared, "API-EXTRA-RANGES").declared == "none: only Plaid's ranges are allowlisted"
    assert len(plaid.PLAID_LEGACY_IPV4) > 0


def test_a_lambda_environment_that_is_not_a_map_fails_the_token_client_row(declared):
    def unknown_env(r):
        if in_component(r, api_rules.CUSTOMERS_API):
            r.inputs["environment"] = {"variables": UNKNOWN}

    finding = row(each(declared, api_rules.FUNCTION, unknown_env), "API-TOKEN-CLIENT")
    assert finding.status is Status.FAIL


def test_a_lambda_environment_unknown_until_apply_fails_the_no_secret_row_instead_of_crashing(declared):
    """It raised AttributeError before (found by the mutation branch's test above)."""
    def unknown_env(r):
        if in_component(r, api_rules.CUSTOMERS_API):
            r.inputs["environment"] = {"variables": UNKNOWN}

    finding = row(each(declared, api_rules.FUNCTION, unknown_env), "API-NO-SECRET-ENV")
    assert finding.status is Status.FAIL
    assert finding.declared == "fpb-customers-fn: environment unknown until apply, cannot be judged"


# --- API-ERROR-ALARM: the alarm's topic must be usable by CloudWatch ------------------------------------------

ERROR_ALARM = "fpb-customers-monitoring-lambda-error-rate"
TOPIC_NAME = "fpb-dev-customers-api-alarms"
TOPIC_ARN = f"arn:aws:sns:us-east-1:111122223333:{TOPIC_NAME}"


def alarm_row(resources):
    return row(resources, "API-ERROR-ALARM")


def test_the_example_alarm_notifies_a_topic_cloudwatch_can_use(declared):
    finding = alarm_row(declared)
    assert finding.status is Status.PASS
    assert finding.declared == (f"{ERROR_ALARM}: Lambda error rate > 2% notifies fpb-customers-monitoring-alarms "
                                "(key fpb-customers-monitoring-alarms-key), which CloudWatch can use")


@pytest.mark.parametrize("kms", ["alias/aws/sns", "aws/sns"])
def test_a_topic_under_the_aws_managed_key_fails(declared, kms):
    finding = alarm_row(each(declared, api_rules.TOPIC, lambda r: r.inputs.update(kmsMasterKeyId=kms)))
    assert finding.status is Status.FAIL
    assert finding.declared == ("fpb-customers-monitoring-alarms is encrypted with the AWS-managed SNS key, whose "
                                "policy CloudWatch cannot use: every alarm action would fail silently")


def test_a_topic_under_a_key_not_in_the_stack_fails(declared):
    def foreign(r):
        r.inputs["kmsMasterKeyId"] = "arn:aws:kms:us-east-1:111122223333:key/0000"
        r.dependencies = []

    finding = alarm_row(each(declared, api_rules.TOPIC, foreign))
    assert finding.status is Status.FAIL and "encrypted with a key not declared in this stack" in finding.declared


@pytest.mark.parametrize(("policy", "problem"), [
    (None, "has the default key policy, which CloudWatch cannot use"),
    (UNKNOWN, "policy unknown until apply, cannot be judged"),
    ("{not json", "has the default key policy, which CloudWatch cannot use"),
    ('{"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, '
     '"Action": ["kms:Decrypt"]}]}', "policy does not let cloudwatch.amazonaws.com use it"),
    ('{"Statement": [{"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"}, '
     '"Action": ["kms:Decrypt", "kms:GenerateDataKey*"]}]}', "policy does not let cloudwatch.amazonaws.com use it"),
])
def test_the_topic_key_policy_must_let_cloudwatch_decrypt_and_generate_data_keys(declared, policy, problem):
    key = next(r for r in declared if r.type == api_rules.TOPIC)
    linked = {d for d in key.dependencies}
    changed = each(declared, api_rules.KMS_KEY,
                   lambda r: r.inputs.update(policy=policy) if r.urn in linked else None)
    finding = alarm_row(changed)
    assert finding.status is Status.FAIL and problem in finding.declared


def test_an_unencrypted_topic_is_accepted_and_shown_as_such(declared):
    def plain(r):
        r.inputs.pop("kmsMasterKeyId", None)
        r.dependencies = []

    finding = alarm_row(each(declared, api_rules.TOPIC, plain))
    assert finding.status is Status.PASS and "fpb-customers-monitoring-alarms (unencrypted)" in finding.declared


def test_a_topic_policy_that_does_not_let_cloudwatch_publish_fails(declared):
    deny = '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, ' \
           '"Action": "sns:Publish"}]}'
    finding = alarm_row(each(declared, api_rules.TOPIC_POLICY, lambda r: r.inputs.update(policy=deny)))
    assert finding.status is Status.FAIL
    assert finding.declared == "fpb-customers-monitoring-alarms: topic policy does not let cloudwatch.amazonaws.com " \
                               "publish"


def _by_arn(actions):
    def change(r):
        if r.type == api_rules.ALARM:
            r.dependencies = []
            r.inputs["alarmActions"] = actions
    return change


def test_an_alarm_naming_the_topic_by_arn_finds_it(declared):
    changed = copy.deepcopy(declared)
    for r in changed:
        _by_arn([TOPIC_ARN])(r)
    assert alarm_row(changed).status is Status.PASS


def test_an_alarm_notifying_only_topics_outside_the_stack_is_not_judged(declared):
    changed = copy.deepcopy(declared)
    for r in changed:
        _by_arn(["arn:aws:sns:us-east-1:111122223333:someone-elses-topic"])(r)
    finding = alarm_row(changed)
    assert finding.status is Status.PASS
    assert finding.declared.endswith("; 1 topic(s) outside this stack, not judged")


def test_an_alarm_with_no_action_fails(declared):
    changed = copy.deepcopy(declared)
    for r in changed:
        _by_arn([])(r)
    assert alarm_row(changed).status is Status.FAIL


# --- API-LEAST-PRIVILEGE: the Lambda's role writes its logs and nothing else ----------------------------------

LOG_GROUP = "arn:aws:logs:us-east-1:(account):log-group:/aws/lambda/fpb-dev-customers-current"


def _policy(declared, statement_or_doc):
    doc = statement_or_doc if isinstance(statement_or_doc, (str, dict)) and "Statement" in statement_or_doc else {
        "Version": "2012-10-17", "Statement": statement_or_doc}
    raw = doc if isinstance(doc, str) else json.dumps(doc)
    return row(each(declared, api_rules.ROLE_POLICY,
                    lambda r: r.inputs.update(policy=raw) if "customers-fn" in r.name else None),
               "API-LEAST-PRIVILEGE")


def test_the_example_role_writes_its_own_logs_only(declared):
    assert row(declared, "API-LEAST-PRIVILEGE").status is Status.PASS


@pytest.mark.parametrize(("statement", "problem"), [
    ({"Effect": "Allow", "Action": "logs:*", "Resource": f"{LOG_GROUP}:*"}, "Action logs:*"),
    ({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}, "Resource *"),
    ({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "arn:aws:logs:us-east-1:1:log-group:*"},
     "Resource arn:aws:logs:us-east-1:1:log-group:*"),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": f"{LOG_GROUP}:*"}, "NotAction iam:*"),
    ({"Effect": "Allow", "Action": "logs:PutLogEvents", "NotResource": "x"}, "NotResource x"),
    ({"Effect": "Allow", "Action": ["logs:PutLogEvents", "s3:GetObject"], "Resource": f"{LOG_GROUP}:*"},
     "actions beyond writing logs: logs:PutLogEvents, s3:GetObject"),
])
def test_wildcards_and_other_actions_fail(declared, statement, problem):
    finding = _policy(declared, [statement])
    assert finding.status is Status.FAIL and problem in finding.declared


# IAM's Statement may be a single object instead of a list (both are valid policy JSON): the rule reads both.
_OWN_LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{LOG_GROUP}:*"}


@pytest.mark.parametrize("shape", [lambda st: st, lambda st: [st]], ids=["single-object", "list"])
def test_a_statement_of_either_shape_writing_its_own_logs_passes(declared, shape):
    finding = _policy(declared, shape(_OWN_LOGS))
    assert finding.status is Status.PASS, finding.declared


@pytest.mark.parametrize(("statement", "problem"), [
    ({"Effect": "Allow", "Action": "logs:*", "Resource": f"{LOG_GROUP}:*"}, "Action logs:*"),
    ({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}, "Resource *"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{LOG_GROUP}:*"},
     "actions beyond writing logs: s3:GetObject"),
    ({"Effect": "Allow", "Action": ["logs:PutLogEvents", "s3:GetObject"], "Resource": f"{LOG_GROUP}:*"},
     "actions beyond writing logs: logs:PutLogEvents, s3:GetObject"),
])
def test_a_single_object_statement_is_judged_like_a_list_of_one(declared, statement, problem):
    single, listed = _policy(declared, statement), _policy(declared, [statement])
    assert single.status is Status.FAIL and problem in single.declared
    assert (single.status, single.declared) == (listed.status, listed.declared)


@pytest.mark.parametrize("doc", [{"Version": "2012-10-17", "Statement": []}, {"Version": "2012-10-17"}, [_OWN_LOGS]],
                         ids=["empty-list", "no-statement", "not-an-object"])
def test_a_policy_with_no_statement_fails_naming_why(declared, doc):
    raw = json.dumps(doc)
    finding = row(each(declared, api_rules.ROLE_POLICY,
                       lambda r: r.inputs.update(policy=raw) if "customers-fn" in r.name else None),
                  "API-LEAST-PRIVILEGE")
    assert finding.status is Status.FAIL and "policy has no statement" in finding.declared


@pytest.mark.parametrize(("raw", "problem"), [(UNKNOWN, "policy unknown until apply, cannot be judged"),
                                              ("{not json", "policy is not JSON")])
def test_a_policy_that_cannot_be_read_fails(declared, raw, problem):
    finding = row(each(declared, api_rules.ROLE_POLICY,
                       lambda r: r.inputs.update(policy=raw) if "customers-fn" in r.name else None),
                  "API-LEAST-PRIVILEGE")
    assert finding.status is Status.FAIL and problem in finding.declared


@pytest.mark.parametrize(("inputs", "problem"), [
    ({"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, "managed policies attached"),
    ({"inlinePolicies": [{"name": "extra", "policy": "{}"}]}, "inline policy extra"),
])
def test_managed_or_inline_policies_on_the_role_fail(declared, inputs, problem):
    finding = row(each(declared, api_rules.ROLE, lambda r: r.inputs.update(inputs)), "API-LEAST-PRIVILEGE")
    assert finding.status is Status.FAIL and problem in finding.declared
