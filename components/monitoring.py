"""Alarms and a dashboard for the customers API: Lambda error rate, API 5XX rate, p99 latency, throttles.

Plaid's checklist asks for monitoring with an error-rate alarm; the thresholds come from
``plaid_contract/__init__.py`` (2 %) and the settings (latency).

The alarm topic is encrypted with a customer-managed KMS key whose policy lets CloudWatch use it. (The
AWS-managed ``alias/aws/sns`` key cannot be used by CloudWatch: its policy is fixed, so every alarm action
would fail silently.) The topic's policy lets CloudWatch publish only for this account's alarms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws

import plaid_contract as plaid
from components import options, probe
from lambdas.customers_current import names as lambda_names

TYPE: Final = "plaid-ready-idp:api:PlaidApiMonitoring"
PERIOD_SECONDS: Final = 300


@dataclass(frozen=True)
class MonitoringArgs:
    name_prefix: str
    function_name: str
    api_name: str
    stage_name: str
    web_acl_name: str
    region: pulumi.Input[str]
    latency_p99_ms: int
    email: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Deletion window of the topic's KMS key (days, 7-30).
    key_deletion_days: int = 30
    #: Protect the topic's KMS key (prod): deleting it would silence every alarm.
    protect: bool = False
    #: Add the readiness probe's widget to the dashboard (the stack declares the probe: components/probe.py).
    probe_widget: bool = False


CLOUDWATCH: Final = "cloudwatch.amazonaws.com"
#: What CloudWatch needs to publish to an encrypted topic (AWS SNS docs, "Enable compatibility between
#: event sources from AWS services and encrypted topics").
CLOUDWATCH_KEY_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey*")


def topic_key_policy(partition: str, account: str) -> str:
    """The alarm topic key's policy: the account administers and uses it (IAM decides who); CloudWatch may
    use it to publish, for this account's alarms only."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersAndUses", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH},
         "Action": list(CLOUDWATCH_KEY_ACTIONS), "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ]}, sort_keys=True)


def topic_policy(topic_arn: str, partition: str, region: str, account: str, prefix: str) -> str:
    """The alarm topic's policy: CloudWatch may publish for this stack's alarms; the account keeps its
    usual access through IAM."""
    alarms = f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountOwns", "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
         "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
                    "sns:Publish"], "Resource": topic_arn},
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH},
         "Action": "sns:Publish", "Resource": topic_arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": account},
                       "ArnLike": {"aws:SourceArn": alarms}}},
    ]}, sort_keys=True)


def _metric(query_id: str, namespace: str, metric: str, dims: dict[str, str],
            stat: str = "Sum") -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
    return {"id": query_id, "return_data": False, "metric": {
        "namespace": namespace, "metric_name": metric, "dimensions": dims, "period": PERIOD_SECONDS, "stat": stat}}


def rate_queries(namespace: str, errors: str, total: str,
                 dims: dict[str, str]) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """Metric math: 100 * errors / total (0 when there was no traffic)."""
    return [
        _metric("errors", namespace, errors, dims),
        _metric("total", namespace, total, dims),
        {"id": "rate", "return_data": True, "label": f"{errors} rate (%)",
         "expression": "IF(total > 0, 100 * errors / total, 0)"},
    ]


class PlaidApiMonitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self.topic_key = aws.kms.Key(
            f"{name}-alarms-key", description=f"Encrypts the customers API alarm topic ({args.name_prefix})",
            enable_key_rotation=True, deletion_window_in_days=args.key_deletion_days,
            policy=pulumi.Output.all(partition, account).apply(lambda a: topic_key_policy(a[0], a[1])),
            tags=args.tags, opts=options.child(self, stateful=True, protect=args.protect))
        topic_name = f"{args.name_prefix}-customers-api-alarms"
        self.topic = aws.sns.Topic(f"{name}-alarms", name=topic_name, kms_master_key_id=self.topic_key.arn,
                                   tags=args.tags, opts=options.child(self))
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-alarms-policy", arn=self.topic.arn,
            # The topic's ARN spelt out (not the computed output), so the plan shows the whole document.
            policy=pulumi.Output.all(partition, args.region, account).apply(
                lambda a: topic_policy(f"arn:{a[0]}:sns:{a[1]}:{a[2]}:{topic_name}", a[0], a[1], a[2],
                                       args.name_prefix)),
            opts=options.child(self))
        self.subscription = None
        if args.email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email", endpoint=args.email, opts=options.child(self))
        fn = {"FunctionName": args.function_name}
        api = {"ApiName": args.api_name, "Stage": args.stage_name}
        common: dict[str, Any] = {
            "alarm_actions": [self.topic.arn], "ok_actions": [self.topic.arn], "evaluation_periods": 1,
            "treat_missing_data": "notBreaching", "tags": args.tags, "opts": options.child(self)}
        threshold = float(plaid.ERROR_RATE_ALARM_PERCENT)
        self.lambda_error_rate = aws.cloudwatch.MetricAlarm(
            f"{name}-lambda-error-rate", name=f"{args.name_prefix}-customers-lambda-error-rate",
            alarm_description=f"Lambda errors above {plaid.ERROR_RATE_ALARM_PERCENT}% of invocations",
            comparison_operator="GreaterThanThreshold", threshold=threshold,
            metric_queries=rate_queries("AWS/Lambda", "Errors", "Invocations", fn), **common)
        self.api_5xx_rate = aws.cloudwatch.MetricAlarm(
            f"{name}-api-5xx-rate", name=f"{args.name_prefix}-customers-api-5xx-rate",
            alarm_description=f"API 5XX responses above {plaid.ERROR_RATE_ALARM_PERCENT}% of requests",
            comparison_operator="GreaterThanThreshold", threshold=threshold,
            metric_queries=rate_queries("AWS/ApiGateway", "5XXError", "Count", api), **common)
        self.latency = aws.cloudwatch.MetricAlarm(
            f"{name}-api-p99-latency", name=f"{args.name_prefix}-customers-api-p99-latency",
            alarm_description=f"p99 latency above {args.latency_p99_ms} ms",
            comparison_operator="GreaterThanThreshold", threshold=float(args.latency_p99_ms),
            namespace="AWS/ApiGateway", metric_name="Latency", dimensions=api, extended_statistic="p99",
            period=PERIOD_SECONDS, **common)
        # The Lambda's own EMF metrics (Powertools: namespace, dimension service): it served cached keys because
        # the IdP's JWKS could not be fetched (stale-if-error). Tokens still pass; a key rotation would not.
        self.jwks_stale = aws.cloudwatch.MetricAlarm(
            f"{name}-jwks-stale", name=f"{args.name_prefix}-customers-jwks-stale",
            alarm_description="The Lambda serves cached signing keys: the IdP's JWKS could not be fetched",
            comparison_operator="GreaterThanThreshold", threshold=0.0, namespace=lambda_names.METRICS_NAMESPACE,
            metric_name=lambda_names.METRIC_JWKS_STALE, dimensions={"service": lambda_names.SERVICE},
            statistic="Sum", period=PERIOD_SECONDS, **common)
        self.throttles = aws.cloudwatch.MetricAlarm(
            f"{name}-lambda-throttles", name=f"{args.name_prefix}-customers-lambda-throttles",
            alarm_description="The Lambda is being throttled", comparison_operator="GreaterThanThreshold",
            threshold=0.0, namespace="AWS/Lambda", metric_name="Throttles", dimensions=fn, statistic="Sum",
            period=PERIOD_SECONDS, **common)

        def body(region: str) -> str:
            def widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
                return {"type": "metric", "width": 12, "height": 6, "properties": {
                    "title": title, "region": region, "stat": stat, "period": PERIOD_SECONDS, "metrics": metrics}}
            waf = ["WebACL", args.web_acl_name, "Region", region, "Rule", "ALL"]
            return json.dumps({"widgets": [
                widget("Lambda invocations and errors", [["AWS/Lambda", "Invocations", *sum(fn.items(), ())],
                                                         ["AWS/Lambda", "Errors", *sum(fn.items(), ())]]),
                widget("API requests, 4XX, 5XX", [["AWS/ApiGateway", m, *sum(api.items(), ())]
                                                 for m in ("Count", "4XXError", "5XXError")]),
                widget("API p99 latency (ms)", [["AWS/ApiGateway", "Latency", *sum(api.items(), ())]], "p99"),
                widget("WAF allowed / blocked", [["AWS/WAFV2", "AllowedRequests", *waf],
                                                 ["AWS/WAFV2", "BlockedRequests", *waf]]),
                *([probe.dashboard_widget(region, PERIOD_SECONDS)] if args.probe_widget else []),
            ]}, sort_keys=True)

        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=f"{args.name_prefix}-customers-api",
            dashboard_body=pulumi.Output.from_input(args.region).apply(body), opts=options.child(self))
        self.register_outputs({"alarm_topic_arn": self.topic.arn})
