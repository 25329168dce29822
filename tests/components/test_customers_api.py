"""PlaidCustomersApi, PlaidAllowlist and monitoring under Pulumi's mock engine."""

from __future__ import annotations

import json

import pulumi
import pytest

import plaid_contract as plaid
from components.customers_api import TYPE, CustomersApiArgs, PlaidCustomersApi
from components.monitoring import TYPE as MONITORING_TYPE
from components.settings import parse_settings
from components.tenant import TenantContract, TokenContract
from components.waf import TYPE as WAF_TYPE
from lambdas import build
from tests.harness import config_of, declare, settings_with

FN = "aws:lambda/function:Function"
ROLE, POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
REST, RES, METHOD = "aws:apigateway/restApi:RestApi", "aws:apigateway/resource:Resource", "aws:apigateway/method:Method"
INTEG, PERM = "aws:apigateway/integration:Integration", "aws:lambda/permission:Permission"
DEPLOY, STAGE = "aws:apigateway/deployment:Deployment", "aws:apigateway/stage:Stage"
SETTINGS_T = "aws:apigateway/methodSettings:MethodSettings"
DOMAIN, MAPPING = "aws:apigateway/domainName:DomainName", "aws:apigateway/basePathMapping:BasePathMapping"
IPSET, ACL = "aws:wafv2/ipSet:IpSet", "aws:wafv2/webAcl:WebAcl"
ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAFLOG = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ALARM, LOGS = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logGroup:LogGroup"
CUSTOM = {"customDomain": {"domainName": "fdx.firstplatypus.example",
                           "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234",
                           "mtls": {"truststoreUri": "s3://fpb-truststore/plaid/truststore.pem",
                                    "truststoreVersion": "v3"}}}


def contract() -> TenantContract:
    return TenantContract(
        discovery_url="https://fpb.us.auth0.com/.well-known/openid-configuration",
        authorize_endpoint="https://fpb.us.auth0.com/authorize", token_endpoint="https://fpb.us.auth0.com/oauth/token",
        credentials_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        token=TokenContract(issuer="https://fpb.us.auth0.com/", jwks_uri="https://fpb.us.auth0.com/.well-known/jwks.json",
                            client_id="cid", audience="https://api.fpb.example/fdx", consistency_key_prefix="fpb-"))


def build_api(**changes):
    s = settings_with(**changes)

    def program():
        args = CustomersApiArgs.from_settings(parse_settings(config_of(s)), contract())
        api = PlaidCustomersApi("fpb-customers", args)
        pulumi.export("base_url", api.base_url)
        pulumi.export("url", api.customers_current_url)
    return declare(program, settings=s)


@pytest.fixture(scope="module")
def dev():
    return build_api()


@pytest.fixture(scope="module")
def prod():
    return build_api(environment="prod", api=CUSTOM, alarms={"email": "oncall@fpb.example"})


def test_component_tree(dev):
    comp = dev.one(TYPE, "fpb-customers")
    waf = dev.one(WAF_TYPE, "fpb-customers-allowlist")
    mon = dev.one(MONITORING_TYPE, "fpb-customers-monitoring")
    assert waf.parent_urn == comp.urn and mon.parent_urn == comp.urn
    for r in dev.custom():
        assert r.parent_urn in {comp.urn, waf.urn, mon.urn}, r.name
    assert dev.of_type(DOMAIN) == [] and dev.of_type(MAPPING) == []


def test_lambda_function(dev):
    fn = dev.one(FN, "fpb-customers-fn")
    pkg = build.build_package("arm64", "3.13")
    assert fn.input("name") == "fpb-dev-customers-current"
    assert fn.input("runtime") == "python3.13" and fn.input("architectures") == ["arm64"]
    assert fn.input("handler") == build.HANDLER
    assert fn.input("sourceCodeHash") == pkg.sha256_base64
    assert fn.input("memorySize") == 256 and fn.input("timeout") == 5
    assert fn.input("role") == "arn:aws:iam:us-east-1:123456789012:fpb-dev-customers-current"
    assert fn.input("environment") == {"variables": {
        "TOKEN_ISSUER": "https://fpb.us.auth0.com/", "JWKS_URI": "https://fpb.us.auth0.com/.well-known/jwks.json",
        "TOKEN_AUDIENCE": "https://api.fpb.example/fdx", "TOKEN_ALGORITHMS": "RS256", "CONSISTENCY_KEY_CLAIM": "sub",
        "TOKEN_CLIENT_ID": "cid", "TOKEN_CLIENT_CLAIM": "client_id",
        "CONSISTENCY_KEY_PREFIX": "fpb-", "POWERTOOLS_SERVICE_NAME": "customers-current",
        "POWERTOOLS_METRICS_NAMESPACE": "PlaidReadyIdp"}}
    assert fn.input("loggingConfig") == {"logFormat": "JSON", "logGroup": "/aws/lambda/fpb-dev-customers-current"}
    logs = dev.one(LOGS, "fpb-customers-fn-logs")
    assert logs.input("name") == "/aws/lambda/fpb-dev-customers-current" and logs.input("retentionInDays") == 365


def test_x86_64_is_selectable():
    d = build_api(api={"lambdaArchitecture": "x86_64"})
    fn = d.one(FN)
    assert fn.input("architectures") == ["x86_64"]
    assert fn.input("sourceCodeHash") == build.build_package("x86_64", "3.13").sha256_base64


def test_iam_least_privilege(dev):
    role = dev.one(ROLE)
    assert json.loads(role.input("assumeRolePolicy")) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    assert not role.input("managedPolicyArns") and not role.input("inlinePolicies")
    policy = json.loads(dev.one(POLICY).input("policy"))
    assert policy == {"Version": "2012-10-17", "Statement": [{
        "Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fpb-dev-customers-current:*"}]}


def test_rest_api_path_method_integration_permission(dev):
    api = dev.one(REST)
    assert api.input("endpointConfiguration") == {"types": "REGIONAL", "ipAddressType": "dualstack"}
    assert api.input("disableExecuteApiEndpoint") is False
    paths = [(r.input("pathPart"), r.input("parentId")) for r in sorted(dev.of_type(RES), key=lambda r: len(r.name))]
    assert paths == [("fdx", "fpb-customers-api-root"), ("v6", "fpb-customers-path-fdx-id"),
                     ("customers", "fpb-customers-path-fdx-v6-id"),
                     ("current", "fpb-customers-path-fdx-v6-customers-id")]
    m = dev.one(METHOD)
    assert m.input("httpMethod") == "GET" and m.input("authorization") == "NONE"
    assert m.input("resourceId") == "fpb-customers-path-fdx-v6-customers-current-id"
    i = dev.one(INTEG)
    assert i.input("type") == "AWS_PROXY" and i.input("integrationHttpMethod") == "POST"
    assert i.input("uri").endswith("function:fpb-customers-fn/invocations")
    p = dev.one(PERM)
    assert p.input("principal") == "apigateway.amazonaws.com" and p.input("action") == "lambda:InvokeFunction"
    assert p.input("sourceArn") == (
        "arn:aws:execute-api:us-east-1:123456789012:fpb-customers-api-id/*/GET/fdx/v6/customers/current")


def test_deployment_redeploys_on_code_or_api_change(dev):
    trig = dev.one(DEPLOY).input("triggers")["redeploy"]
    other = build_api(api={"basePath": "/fdx/v5"}).one(DEPLOY).input("triggers")["redeploy"]
    assert len(trig) == 64 and trig != other


def test_stage_logs_and_throttling(dev):
    stage = dev.one(STAGE)
    assert stage.input("stageName") == "live"
    assert stage.input("accessLogSettings")["destinationArn"].endswith("/aws/apigateway/fpb-dev-core-exchange/live")
    assert json.loads(stage.input("accessLogSettings")["format"])["requestId"] == "$context.requestId"
    ms = dev.one(SETTINGS_T)
    assert ms.input("methodPath") == "*/*"
    assert ms.input("settings") == {"metricsEnabled": True, "throttlingRateLimit": 50, "throttlingBurstLimit": 100,
                                    "loggingLevel": "OFF", "dataTraceEnabled": False}


def test_waf_rules_ip_sets_and_association(dev):
    v4 = dev.one(IPSET, "fpb-customers-allowlist-ipv4")
    v6 = dev.one(IPSET, "fpb-customers-allowlist-ipv6")
    assert v4.input("addresses") == [*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4]
    assert v6.input("addresses") == list(plaid.PLAID_IPV6_RANGES)
    assert v4.input("ipAddressVersion") == "IPV4" and v6.input("ipAddressVersion") == "IPV6"
    acl = dev.one(ACL)
    assert acl.input("scope") == "REGIONAL" and acl.input("defaultAction") == {"block": {}}
    rules = acl.input("rules")
    assert [(r["name"], r["priority"]) for r in rules] == [
        ("AWSManagedRulesCommonRuleSet", 0), ("AWSManagedRulesKnownBadInputsRuleSet", 1),
        ("rate-limit-per-ip", 2), ("allow-plaid", 3)]
    assert rules[0]["overrideAction"] == {"none": {}} and rules[2]["action"] == {"block": {}}
    assert rules[2]["statement"]["rateBasedStatement"] == {"limit": 2000, "aggregateKeyType": "IP"}
    assert rules[3]["action"] == {"allow": {}}
    refs = [s["ipSetReferenceStatement"]["arn"] for s in rules[3]["statement"]["orStatement"]["statements"]]
    assert refs == ["arn:aws:wafv2:us-east-1:123456789012:fpb-dev-plaid-ipv4",
                    "arn:aws:wafv2:us-east-1:123456789012:fpb-dev-plaid-ipv6"]
    assoc = dev.one(ASSOC)
    stage_arn = "arn:aws:apigateway:us-east-1::/restapis/fpb-customers-stage-api-id/stages/live"
    assert assoc.input("resourceArn") == stage_arn
    assert assoc.input("webAclArn") == "arn:aws:wafv2:us-east-1:123456789012:fpb-dev-plaid-allowlist"
    log = dev.one(WAFLOG)
    assert log.input("redactedFields") == [{"singleHeader": {"name": "authorization"}}]
    assert dev.one(LOGS, "fpb-customers-allowlist-logs").input("name") == "aws-waf-logs-fpb-dev-customers-api"


def test_extra_cidrs_are_normalised_into_the_sets():
    d = build_api(allowlist={"extraCidrs": ["9.9.9.0/24", "52.94.76.7", "2620:FE::/48"], "rateLimitPer5Min": 500})
    assert d.one(ACL).input("rules")[2]["statement"]["rateBasedStatement"]["limit"] == 500
    assert d.one(IPSET, "fpb-customers-allowlist-ipv4").input("addresses")[-2:] == ["9.9.9.0/24", "52.94.76.7/32"]
    assert d.one(IPSET, "fpb-customers-allowlist-ipv6").input("addresses") == ["2602:f74b::/40", "2620:fe::/48"]


def test_waf_does_not_sample_plaids_requests(dev):
    acl = dev.one(ACL)
    # Sampled requests keep the Authorization header: off on the allow rule and the default action.
    assert acl.input("visibilityConfig") == {"cloudwatchMetricsEnabled": True, "metricName": "fpb-dev-plaid-allowlist",
                                             "sampledRequestsEnabled": False}
    sampled = {r["name"]: r["visibilityConfig"]["sampledRequestsEnabled"] for r in acl.input("rules")}
    assert sampled == {"AWSManagedRulesCommonRuleSet": True, "AWSManagedRulesKnownBadInputsRuleSet": True,
                       "rate-limit-per-ip": True, "allow-plaid": False}


def test_alarm_thresholds(dev):
    alarms = {a.name: a for a in dev.of_type(ALARM)}
    err = alarms["fpb-customers-monitoring-lambda-error-rate"]
    assert err.input("threshold") == plaid.ERROR_RATE_ALARM_PERCENT == 2
    assert err.input("comparisonOperator") == "GreaterThanThreshold"
    queries = err.input("metricQueries")
    assert [q["id"] for q in queries] == ["errors", "total", "rate"]
    assert queries[0]["metric"]["metricName"] == "Errors" and queries[1]["metric"]["metricName"] == "Invocations"
    assert queries[0]["metric"]["dimensions"] == {"FunctionName": "fpb-dev-customers-current"}
    assert queries[2]["expression"] == "IF(total > 0, 100 * errors / total, 0)"
    api5 = alarms["fpb-customers-monitoring-api-5xx-rate"]
    assert api5.input("threshold") == 2 and api5.input("metricQueries")[0]["metric"]["metricName"] == "5XXError"
    lat = alarms["fpb-customers-monitoring-api-p99-latency"]
    assert lat.input("extendedStatistic") == "p99" and lat.input("threshold") == 1500
    thr = alarms["fpb-customers-monitoring-lambda-throttles"]
    assert thr.input("metricName") == "Throttles" and thr.input("threshold") == 0
    # The Lambda's EMF metric for stale-if-error (its namespace and service dimension, as Powertools emits them).
    stale = alarms["fpb-customers-monitoring-jwks-stale"]
    assert (stale.input("namespace"), stale.input("metricName"), stale.input("dimensions")) == (
        "PlaidReadyIdp", "JwksStale", {"service": "customers-current"})
    assert stale.input("statistic") == "Sum" and stale.input("threshold") == 0
    assert stale.input("name") == "fpb-dev-customers-jwks-stale"  # within the topic policy's alarm prefix
    topic_arn = "arn:aws:sns:us-east-1:123456789012:fpb-dev-customers-api-alarms"
    assert all(a.input("alarmActions") == [topic_arn] and a.input("okActions") == [topic_arn]
               for a in alarms.values())
    assert dev.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    board = json.loads(dev.one("aws:cloudwatch/dashboard:Dashboard").input("dashboardBody"))
    assert "WAF allowed / blocked" in [w["properties"]["title"] for w in board["widgets"]]


TOPIC, TOPIC_POLICY = "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"
KMS = "aws:kms/key:Key"


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_can_use(dev):
    mon = dev.one(MONITORING_TYPE)
    key = dev.one(KMS, "fpb-customers-monitoring-alarms-key")
    topic = dev.one(TOPIC, "fpb-customers-monitoring-alarms")
    assert key.parent_urn == mon.urn and topic.parent_urn == mon.urn
    assert key.input("enableKeyRotation") is True and key.input("deletionWindowInDays") == 7
    assert topic.input("kmsMasterKeyId") == (
        "arn:aws:kms:us-east-1:123456789012:key/fpb-customers-monitoring-alarms-key-key-id")
    assert not topic.input("kmsMasterKeyId").startswith("alias/aws/")
    assert json.loads(key.input("policy")) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersAndUses", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}
    policy = dev.one(TOPIC_POLICY, "fpb-customers-monitoring-alarms-policy")
    arn = "arn:aws:sns:us-east-1:123456789012:fpb-dev-customers-api-alarms"
    assert policy.input("arn") == arn and policy.parent_urn == mon.urn
    assert json.loads(policy.input("policy")) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountOwns", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic", "sns:Publish"], "Resource": arn},
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                       "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:fpb-dev-*"}}}]}


def test_prod_custom_domain_mtls_and_protection(prod):
    dom = prod.one(DOMAIN)
    assert dom.input("securityPolicy") == "TLS_1_2"
    assert dom.input("regionalCertificateArn") == "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234"
    assert dom.input("endpointConfiguration") == {"types": "REGIONAL", "ipAddressType": "dualstack"}
    assert dom.input("mutualTlsAuthentication") == {"truststoreUri": "s3://fpb-truststore/plaid/truststore.pem",
                                                    "truststoreVersion": "v3"}
    assert prod.one(REST).input("disableExecuteApiEndpoint") is True
    mapping = prod.one(MAPPING)
    assert mapping.input("domainName") == "fdx.firstplatypus.example" and mapping.input("stageName") == "live"
    # The alarm topic's key too: deleting it would silence every alarm.
    assert {r.name for r in prod.custom() if r.protect} == {"fpb-customers-api", "fpb-customers-domain",
                                                            "fpb-customers-monitoring-alarms-key"}
    assert prod.one(KMS).input("deletionWindowInDays") == 30
    assert prod.outputs["url"] == "https://fdx.firstplatypus.example/fdx/v6/customers/current"
    sub = prod.one("aws:sns/topicSubscription:TopicSubscription")
    assert sub.input("protocol") == "email" and sub.input("endpoint") == "oncall@fpb.example"


def test_dev_url_is_the_stage_url(dev):
    assert dev.outputs["url"] == (
        "https://fpb-customers-stage-api-id.execute-api.us-east-1.amazonaws.com/live/fdx/v6/customers/current")
    assert not any(r.protect for r in dev.resources)


def test_execute_api_switch_can_be_explicit():
    d = build_api(api={**CUSTOM, "disableExecuteApiEndpoint": False})
    assert d.one(REST).input("disableExecuteApiEndpoint") is False
