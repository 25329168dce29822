"""API-* rows of readiness/rules/api.py at the edges `make mutation` found unguarded (issue #22, round 2).

The rows' functions are called on hand-built declarations (readiness.engine.DeclaredResource), one change per
case: which topics an alarm notifies, whether CloudWatch can use them, who is subscribed, the Lambda role's
wildcards, and its environment.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import plaid_contract as plaid
from components.checklist import UNKNOWN, Context, SecretValue, Status
from readiness.engine import DeclaredResource
from readiness.rules import api as a
from readiness.rules.secrets import KMS_KEY

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alarms"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/customers"


def res(typ: str, name: str, inputs: dict[str, Any] | None = None, deps: list[str] | None = None) -> DeclaredResource:
    return DeclaredResource(urn=f"urn:pulumi:dev::p::{typ}::{name}", type=typ, name=name, parent_urn="",
                            custom=True, protect=False, inputs=dict(inputs or {}), dependencies=list(deps or []))


def cw_key_policy(*actions: str, service: str = a.CLOUDWATCH, effect: str = "Allow") -> str:
    return json.dumps({"Statement": [{"Effect": effect, "Principal": {"Service": service},
                                      "Action": list(actions or ("kms:Decrypt", "kms:GenerateDataKey*")),
                                      "Resource": "*"}]})


def publish_policy(principal: Any = None, action: str = "sns:Publish", effect: str = "Allow") -> str:
    return json.dumps({"Statement": [{"Effect": effect, "Principal": principal or {"Service": a.CLOUDWATCH},
                                      "Action": action, "Resource": TOPIC_ARN}]})


# -- _cloudwatch_can_use -------------------------------------------------------------------------------------


def can_use(topic_inputs: dict[str, Any], key_policy: Any = "absent", topic_policy: Any = "absent",
            link_key: bool = True, link_policy: bool = True) -> str | None:
    key = res(KMS_KEY, "key", {} if key_policy == "absent" else {"policy": key_policy})
    topic = res(a.TOPIC, "alarms", topic_inputs, deps=[key.urn] if link_key else [])
    extra = [] if topic_policy == "absent" else [
        res(a.TOPIC_POLICY, "pol", {"policy": topic_policy}, deps=[topic.urn] if link_policy else [])]
    return a._cloudwatch_can_use(Context([key, topic, *extra], "dev"), topic)


def test_an_unencrypted_topic_without_a_policy_is_usable():
    assert can_use({}) is None
    assert can_use({"kmsMasterKeyId": ""}) is None


@pytest.mark.parametrize("kms", ["alias/aws/sns", "aws/sns", "arn:aws:kms:us-east-1:1:alias/aws/sns"])
def test_the_aws_managed_sns_key_is_not_usable(kms):
    why = can_use({"kmsMasterKeyId": kms}, key_policy=cw_key_policy())
    assert why is not None and "AWS-managed SNS key" in why


@pytest.mark.parametrize("kms", ["alias/alarms", UNKNOWN])
def test_a_customer_key_that_lets_cloudwatch_in_is_usable(kms):
    assert can_use({"kmsMasterKeyId": kms}, key_policy=cw_key_policy()) is None


def test_a_key_not_declared_here_cannot_be_shown():
    why = can_use({"kmsMasterKeyId": "alias/alarms"}, key_policy=cw_key_policy(), link_key=False)
    assert why is not None and "not declared in this stack" in why


@pytest.mark.parametrize("policy", ["absent", None, "{not json"])
def test_a_key_with_the_default_or_an_unreadable_policy_is_not_usable(policy):
    why = can_use({"kmsMasterKeyId": "alias/alarms"}, key_policy=policy)
    assert why is not None and "default key policy" in why


def test_a_key_policy_unknown_until_apply_cannot_be_judged():
    why = can_use({"kmsMasterKeyId": "alias/alarms"}, key_policy=UNKNOWN)
    assert why is not None and "unknown until apply" in why


@pytest.mark.parametrize("policy", [
    cw_key_policy("kms:Decrypt"), cw_key_policy("kms:GenerateDataKey*"), cw_key_policy(service="sns.amazonaws.com"),
    cw_key_policy(effect="Deny"),
    json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]}),
], ids=["no-generate", "no-decrypt", "other-service", "deny", "everyone-not-a-service"])
def test_a_key_policy_must_allow_cloudwatch_both_actions(policy):
    why = can_use({"kmsMasterKeyId": "alias/alarms"}, key_policy=policy)
    assert why is not None and "does not let cloudwatch.amazonaws.com use it" in why


def test_a_key_policy_as_a_map_is_read_too():
    assert can_use({"kmsMasterKeyId": "alias/alarms"}, key_policy=json.loads(cw_key_policy())) is None


@pytest.mark.parametrize("policy", [publish_policy(), publish_policy("*"), publish_policy({"AWS": "*"})])
def test_a_topic_policy_letting_cloudwatch_publish_is_usable(policy):
    assert can_use({}, topic_policy=policy) is None


@pytest.mark.parametrize("policy", [
    publish_policy(action="sns:Subscribe"), publish_policy(effect="Deny"),
    publish_policy({"Service": "events.amazonaws.com"}), publish_policy({"AWS": "arn:aws:iam::1:root"}),
])
def test_a_topic_policy_that_does_not_let_cloudwatch_publish_is_not_usable(policy):
    why = can_use({}, topic_policy=policy)
    assert why is not None and "does not let cloudwatch.amazonaws.com publish" in why


@pytest.mark.parametrize("policy", [UNKNOWN, None, "{not json"])
def test_a_topic_policy_unknown_or_unreadable_cannot_be_judged(policy):
    why = can_use({}, topic_policy=policy)
    assert why is not None and "cannot be judged" in why


def test_a_topic_policy_of_another_topic_is_not_this_topics():
    assert can_use({}, topic_policy=publish_policy(effect="Deny"), link_policy=False) is None


def test_a_topic_policy_with_no_recorded_dependencies_is_not_this_topics():
    topic = res(a.TOPIC, "alarms")
    pol = res(a.TOPIC_POLICY, "pol", {"policy": publish_policy(effect="Deny")})
    pol.dependencies = None  # type: ignore[assignment]
    assert a._cloudwatch_can_use(Context([topic, pol], "dev"), topic) is None


# -- _linked_key and _json -----------------------------------------------------------------------------------


def test_linked_key_is_the_first_key_the_resource_depends_on():
    k1, k2, k3 = res(KMS_KEY, "k1"), res(KMS_KEY, "k2"), res(KMS_KEY, "k3")
    topic = res(a.TOPIC, "t", deps=[k3.urn, k2.urn])
    assert a._linked_key(Context([k1, k2, k3, topic]), topic) is k2
    assert a._linked_key(Context([k1, topic]), topic) is None


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ('{"a": 1}', {"a": 1}), ({"a": 1}, {"a": 1}), ("{not json", None), ("[1]", [1]),
])
def test_json_reads_a_policy_input(raw, expected):
    assert a._json(res(a.TOPIC_POLICY, "p", {"policy": raw}), "policy") == expected


def test_json_keeps_unknown():
    assert a._json(res(a.TOPIC_POLICY, "p", {"policy": UNKNOWN}), "policy") is UNKNOWN


# -- alarms, topics, subscribers -----------------------------------------------------------------------------


def error_alarm(name: str = "errors", threshold: Any = 1, actions: Any = (TOPIC_ARN,), deps: list[str] | None = None,
                metrics: tuple[str, ...] = ("Errors", "Invocations")) -> DeclaredResource:
    queries = [{"id": m.lower(), "metric": {"metricName": m}} for m in metrics] + [{"id": "rate", "expression": "x"}]
    return res(a.ALARM, name, {"metricQueries": queries, "threshold": threshold,
                               "alarmActions": list(actions) if actions is not None else None}, deps=deps)


def topic(name: str = "alarms", arn: Any = TOPIC_ARN, **inputs: Any) -> DeclaredResource:
    return res(a.TOPIC, name, {"arn": arn, "name": name, **inputs})


def test_error_alarms_need_both_errors_and_invocations():
    both = error_alarm("both")
    assert a._error_alarms(Context([both, error_alarm("e", metrics=("Errors",)),
                                    error_alarm("i", metrics=("Invocations",)),
                                    res(a.ALARM, "none", {"metricQueries": None}),
                                    res(a.ALARM, "junk", {"metricQueries": ["junk", {"metric": None}]})])) == [both]


def test_topics_of_by_dependency_by_arn_and_by_name():
    by_dep, by_arn = topic("dep", arn=None), topic("arn")
    by_name = topic("named", arn=UNKNOWN)
    other = topic("other", arn="arn:aws:sns:us-east-1:1:other")
    alarm = error_alarm(actions=(TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:named", "", 7,
                                 "arn:aws:sns:us-east-1:123456789012:outside"), deps=[by_dep.urn])
    found, external = a._topics_of(Context([by_dep, by_arn, by_name, other, alarm]), alarm)
    assert found == [by_dep, by_arn, by_name]
    assert external == ["arn:aws:sns:us-east-1:123456789012:outside"]


def test_topics_of_names_a_topic_once_when_linked_twice():
    t = topic("alarms")
    alarm = error_alarm(actions=(TOPIC_ARN, TOPIC_ARN), deps=[t.urn])
    assert a._topics_of(Context([t, alarm]), alarm) == ([t], [])


def test_topics_of_without_actions_or_dependencies():
    t = topic("alarms")
    alarm = error_alarm(actions=None)
    alarm.dependencies = None  # type: ignore[assignment]
    assert a._topics_of(Context([t, alarm]), alarm) == ([], [])


def alarm_row(*resources: DeclaredResource) -> Status:
    return a._error_alarm(Context(list(resources), "dev")).status


def test_an_error_alarm_at_the_threshold_notifying_a_usable_topic_passes():
    assert alarm_row(topic(), error_alarm(threshold=plaid.ERROR_RATE_ALARM_PERCENT)) is Status.PASS
    assert alarm_row(topic(), error_alarm(threshold=0.5)) is Status.PASS


def test_an_error_alarm_naming_only_topics_outside_the_stack_passes_with_a_note():
    finding = a._error_alarm(Context([error_alarm(actions=("arn:aws:sns:us-east-1:1:elsewhere",))], "dev"))
    assert finding.status is Status.PASS and "1 topic(s) outside this stack" in finding.declared


@pytest.mark.parametrize("alarm", [
    error_alarm(threshold=plaid.ERROR_RATE_ALARM_PERCENT + 0.5), error_alarm(threshold="1"),
    error_alarm(threshold=None), error_alarm(actions=()),
    error_alarm(actions=None), error_alarm(actions=("",)),
], ids=["above", "text", "none", "no-actions", "actions-none", "blank-action"])
def test_an_error_alarm_above_the_threshold_or_notifying_nobody_fails(alarm):
    assert alarm_row(topic(), alarm) is Status.FAIL


def test_an_error_alarm_whose_topic_cloudwatch_cannot_use_fails():
    assert alarm_row(topic(kmsMasterKeyId="alias/aws/sns"), error_alarm()) is Status.FAIL


def test_no_error_alarm_fails():
    assert alarm_row(topic(), error_alarm(metrics=("Errors",))) is Status.FAIL


def subscriber_row(*resources: DeclaredResource, environment: str = "dev") -> Any:
    return a._alarm_subscriber(Context(list(resources), environment))


def test_a_subscription_to_the_alarm_topic_passes():
    t = topic()
    sub = res(a.SUBSCRIPTION, "mail", {"protocol": "email"}, deps=[t.urn])
    finding = subscriber_row(t, error_alarm(deps=[t.urn]), sub)
    assert finding.status is Status.PASS and finding.declared == "1 subscription(s): mail (email)"


def test_subscriptions_of_each_alarms_topic_count_once():
    t1, t2 = topic("a1", arn="arn:aws:sns:us-east-1:1:a1"), topic("a2", arn="arn:aws:sns:us-east-1:1:a2")
    s1 = res(a.SUBSCRIPTION, "s1", {"protocol": "email"}, deps=[t1.urn])
    s2 = res(a.SUBSCRIPTION, "s2", {"protocol": "https"}, deps=[t2.urn])
    finding = subscriber_row(t1, t2, error_alarm("x", deps=[t1.urn, t2.urn]), error_alarm("y", deps=[t1.urn]), s1, s2)
    assert finding.status is Status.PASS and finding.declared == "2 subscription(s): s1 (email), s2 (https)"


def test_a_subscription_to_another_topic_does_not_count():
    t, other = topic(), topic("other", arn="arn:aws:sns:us-east-1:1:other")
    sub = res(a.SUBSCRIPTION, "mail", {"protocol": "email"}, deps=[other.urn])
    unlinked = res(a.SUBSCRIPTION, "none", {"protocol": "email"})
    unlinked.dependencies = None  # type: ignore[assignment]
    assert subscriber_row(t, other, error_alarm(deps=[t.urn]), sub, unlinked).status is Status.FAIL


def test_no_subscriber_in_prod_says_nobody_would_be_told():
    t = topic()
    prod = subscriber_row(t, error_alarm(deps=[t.urn]), environment="prod")
    dev = subscriber_row(t, error_alarm(deps=[t.urn]), environment="dev")
    assert prod.status is dev.status is Status.FAIL
    assert prod.reason.startswith("In prod nobody would be told that Plaid's calls fail. Set alarms.email")
    assert dev.reason.startswith("Set alarms.email")


def test_no_alarm_topic_fails_the_subscriber_row():
    assert subscriber_row(error_alarm(actions=("arn:aws:sns:us-east-1:1:elsewhere",))).status is Status.FAIL


# -- API-LEAST-PRIVILEGE ---------------------------------------------------------------------------------------


def role_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{LOG_GROUP}:*"}


def least(*resources: DeclaredResource) -> Status:
    return a._least_privilege(Context([res(a.ROLE, "role"), *resources], "dev")).status


def test_least_privilege_passes_for_log_writes_on_one_log_group():
    assert least(res(a.ROLE_POLICY, "p", {"policy": role_policy(LOGS)})) is Status.PASS


def test_least_privilege_accepts_the_offline_plans_account_placeholder():
    st = {**LOGS, "Resource": "arn:aws:logs:us-east-1:(account):log-group:/aws/lambda/customers:*"}
    assert least(res(a.ROLE_POLICY, "p", {"policy": role_policy(st)})) is Status.PASS


@pytest.mark.parametrize("st", [
    {**LOGS, "Action": "logs:*"},
    {**LOGS, "Resource": "*"},
    {**LOGS, "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:*"},
    {**LOGS, "Resource": f"{LOG_GROUP}:*:extra*"},
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": f"{LOG_GROUP}:*"},
    {"Effect": "Allow", "Action": "logs:PutLogEvents", "NotResource": f"{LOG_GROUP}:*"},
    {**LOGS, "Action": ["logs:PutLogEvents", "s3:GetObject"]},
], ids=["action-wildcard", "resource-star", "every-log-group", "stream-wildcard-plus", "not-action", "not-resource",
        "beyond-logs"])
def test_least_privilege_fails_on_a_wildcard_or_an_action_beyond_logs(st):
    assert least(res(a.ROLE_POLICY, "p", {"policy": role_policy(st)})) is Status.FAIL


def test_least_privilege_fails_on_managed_or_inline_policies():
    ok_policy = res(a.ROLE_POLICY, "p", {"policy": role_policy(LOGS)})
    managed = res(a.ROLE, "managed", {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]})
    inline = res(a.ROLE, "inline", {"inlinePolicies": [{"name": "x", "policy": "{}"}]})
    inline_junk = res(a.ROLE, "junk", {"inlinePolicies": ["x"]})
    for role in (managed, inline, inline_junk):
        assert a._least_privilege(Context([role, ok_policy], "dev")).status is Status.FAIL
    assert a._least_privilege(Context([res(a.ROLE, "r", {"managedPolicyArns": []}), ok_policy])).status is Status.PASS


@pytest.mark.parametrize("raw", [UNKNOWN, "{not json", None])
def test_least_privilege_fails_on_a_policy_it_cannot_read(raw):
    assert least(res(a.ROLE_POLICY, "p", {"policy": raw})) is Status.FAIL


def test_least_privilege_fails_without_a_role_policy():
    assert least() is Status.FAIL


def test_least_privilege_reads_a_single_statement_object():
    """IAM accepts ``Statement`` as one object: judged, never a traceback."""
    single = json.dumps({"Version": "2012-10-17", "Statement": LOGS})
    assert least(res(a.ROLE_POLICY, "p", {"policy": single})) is Status.PASS
    wild = json.dumps({"Version": "2012-10-17", "Statement": {**LOGS, "Action": "s3:*"}})
    assert least(res(a.ROLE_POLICY, "p", {"policy": wild})) is Status.FAIL


def test_wildcards_of_a_document_that_is_not_a_policy():
    assert a._wildcards(["*"]) == []
    assert a._wildcards({"Statement": ["*", {"Action": "s3:*"}]}) == ["Action s3:*"]
    assert a._wildcards({"Statement": {"Resource": "*"}}) == ["Resource *"]


# -- API-NO-SECRET-ENV ---------------------------------------------------------------------------------------


def env_row(environment: Any) -> Status:
    fn = res(a.FUNCTION, "fn", {} if environment == "absent" else {"environment": environment})
    return a._no_secret_env(Context([fn], "dev")).status


@pytest.mark.parametrize("environment", ["absent", None, {}, {"variables": None}, {"variables": {"LOG_LEVEL": "INFO"}},
                                         {"variables": "not a map"}])
def test_an_environment_without_secrets_passes(environment):
    assert env_row(environment) is Status.PASS


@pytest.mark.parametrize("environment", [
    SecretValue({"variables": {}}), {"variables": SecretValue({"A": "b"})}, {"variables": {"A": SecretValue("b")}},
    {"variables": {"DB_PASSWORD": "x"}}, {"variables": {"my_api_key": "x"}}, UNKNOWN, {"variables": UNKNOWN},
], ids=["env-secret", "variables-secret", "value-secret", "name-password", "name-api-key", "env-unknown",
        "variables-unknown"])
def test_a_secret_or_an_unknown_environment_fails(environment):
    assert env_row(environment) is Status.FAIL


@pytest.mark.parametrize("first", [SecretValue({"variables": {}}), UNKNOWN], ids=["secret", "unknown"])
def test_every_lambda_is_judged_after_one_whose_environment_is_secret_or_unknown(first):
    fns = [res(a.FUNCTION, "first", {"environment": first}),
           res(a.FUNCTION, "second", {"environment": {"variables": {"DB_PASSWORD": "x"}}})]
    finding = a._no_secret_env(Context(fns, "dev"))
    assert finding.status is Status.FAIL and finding.declared.endswith("; second: DB_PASSWORD")


def test_least_privilege_judges_every_policy_after_one_it_cannot_read():
    for unreadable in (UNKNOWN, "{not json"):
        first = res(a.ROLE_POLICY, "first", {"policy": unreadable})
        second = res(a.ROLE_POLICY, "second", {"policy": role_policy({**LOGS, "Action": "s3:*"})})
        finding = a._least_privilege(Context([res(a.ROLE, "role"), first, second], "dev"))
        assert finding.status is Status.FAIL and "second: Action s3:*" in finding.declared


def test_least_privilege_reads_a_single_action_string():
    one = {**LOGS, "Action": "logs:PutLogEvents"}
    assert least(res(a.ROLE_POLICY, "p", {"policy": role_policy(one)})) is Status.PASS
    assert least(res(a.ROLE_POLICY, "p", {"policy": role_policy({**one, "Action": "s3:GetObject"})})) is Status.FAIL


def test_extra_ranges_are_all_judged_after_an_entry_that_is_not_a_cidr():
    ipset = res(a.IP_SET, "extra", {"addresses": ["not-a-cidr", "10.0.0.0/8"]})
    finding = a._extra_ranges(Context([ipset], "dev"))
    assert finding.status is Status.FAIL and "10.0.0.0/8" in finding.declared


@pytest.mark.parametrize(("arn", "status"), [
    ("/stages/v1", Status.FAIL),  # no REST API before the stage
    ("a/stages/v1", Status.PASS),
    ("arn:aws:apigateway:us-east-1::/restapis/a1/stages/v1", Status.PASS),
])
def test_an_association_names_a_stage_only_after_its_api(arn, status):
    acl = res(a.WEB_ACL, "acl")
    assoc = res(a.ASSOCIATION, "assoc", {"resourceArn": arn})
    assert a._waf_attached(Context([acl, assoc, res(a.STAGE, "stage")], "dev")).status is status


def test_the_topics_own_policy_is_judged_after_another_topics_policy():
    t = res(a.TOPIC, "alarms")
    other = res(a.TOPIC_POLICY, "other", {"policy": publish_policy()}, deps=["urn:pulumi:dev::p::other-topic"])
    mine = res(a.TOPIC_POLICY, "mine", {"policy": publish_policy(effect="Deny")}, deps=[t.urn])
    why = a._cloudwatch_can_use(Context([t, other, mine], "dev"), t)
    assert why is not None and "does not let cloudwatch.amazonaws.com publish" in why


def test_an_error_alarm_is_one_on_exactly_errors_and_invocations():
    queries = [{"id": "e", "metric": {"metricName": "Errors"}}, {"id": "i", "metric": {"metricName": "Invocations"}}]
    alarm = res(a.ALARM, "exact", {"metricQueries": queries})
    assert a._error_alarms(Context([alarm])) == [alarm]


def test_the_error_alarm_row_names_each_topic_it_notifies():
    t1, t2 = topic("a1", arn="arn:aws:sns:us-east-1:1:a1"), topic("a2", arn="arn:aws:sns:us-east-1:1:a2")
    alarm = error_alarm(actions=("arn:aws:sns:us-east-1:1:a1",), deps=[t1.urn, t2.urn])
    finding = a._error_alarm(Context([t1, t2, alarm], "dev"))
    assert finding.status is Status.PASS and "notifies a1 (unencrypted), a2 (unencrypted), which" in finding.declared


@pytest.mark.parametrize(("types", "applies"), [
    ((a.REST_API,), True), ((a.FUNCTION,), True), ((a.REST_API, a.FUNCTION), True), ((a.TOPIC,), False), ((), False),
])
def test_the_api_rows_apply_wherever_the_rest_api_or_the_function_is_declared(types, applies):
    assert a._on_api(Context([res(typ, f"r{i}") for i, typ in enumerate(types)])) is applies
