"""PlaidReadinessProbe: the checks of ``plaid-ready check`` that need no user, on a schedule, inside the account
(docs/probe.md; the Lambda is ``lambdas/readiness_probe/``). Declared here, all parented to the component:

- an EventBridge Scheduler schedule, ``rate(<probe.intervalMinutes> minutes)``, with its own role that may only
  invoke the probe (``lambda:InvokeFunction`` on the function and its versions);
- the Lambda from its deterministic package (arm64 by default, python3.13, bytecode shipped), with the log group
  and the logs-only role every function starts from (components/function_logs.py) plus ``ssm:GetParameter`` and
  ``ssm:PutParameter`` on its one parameter;
- that SSM parameter, where the probe keeps the signing-key ids it saw (a String the Lambda rewrites every run:
  the value is ignored after creation); protected in prod (it is the probe's memory of the key set);
- one alarm, ``<prefix>-readiness-probe-failed``, on ``ChecksFailed`` > 0, to the stack's existing encrypted
  alarm topic (components/monitoring.py); a period of twice the interval always holds a run, so a probe that
  stopped running alarms too (missing data is breaching).

The dashboard widget (:func:`dashboard_widget`) goes on the customers API's dashboard (components/monitoring.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from components import options
from components.function_logs import function_logs
from components.lambda_package import RUNTIME, lambda_package
from lambdas import build
from lambdas.readiness_probe import names

if TYPE_CHECKING:
    from components.settings import StackSettings

TYPE: Final = "plaid-ready-idp:probe:PlaidReadinessProbe"
MIN_INTERVAL_MINUTES: Final = 5
MAX_INTERVAL_MINUTES: Final = 60
#: The probe's own deadline: five requests or handshakes of at most 5 s each, with room to spare.
TIMEOUT_SECONDS: Final = 60
MEMORY_MB: Final = 256
SCHEDULER: Final = "scheduler.amazonaws.com"
#: The parameter's value before the first run (not a state the probe reads as one: the first run records the keys).
INITIAL_STATE: Final = "{}"


@dataclass(frozen=True)
class ProbeArgs:
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    #: The IdP's discovery document URL (what Plaid is given); its host is the IdP domain whose certificate is checked.
    discovery_url: pulumi.Input[str]
    #: The stack's alarm topic (components/monitoring.py).
    alarm_topic_arn: pulumi.Input[str]
    #: The customers API's /customers/current URL: must answer 403 to the probe (WAF allowlist).
    customers_url: pulumi.Input[str] | None = None
    #: The API's custom domain (its certificate's expiry is checked), when it has one.
    api_domain: str | None = None
    #: The API's custom domain requires client certificates (mTLS): a refused handshake also proves nothing got in.
    api_mtls: bool = False
    interval_minutes: int = 15
    architecture: str = "arm64"
    log_retention_days: int = 365
    #: Protect the stateful child (the SSM parameter): prod.
    protect: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: StackSettings, *, discovery_url: pulumi.Input[str],
                      customers_url: pulumi.Input[str], alarm_topic_arn: pulumi.Input[str]) -> ProbeArgs:
        custom = settings.api.custom_domain
        return cls(name_prefix=settings.name_prefix, discovery_url=discovery_url, alarm_topic_arn=alarm_topic_arn,
                   customers_url=customers_url, api_domain=custom.domain_name if custom else None,
                   api_mtls=bool(custom and custom.mtls), interval_minutes=settings.probe.interval_minutes,
                   architecture=settings.api.lambda_architecture, log_retention_days=settings.api.log_retention_days,
                   protect=settings.is_prod, tags=settings.tags)

    def __post_init__(self) -> None:
        if not MIN_INTERVAL_MINUTES <= self.interval_minutes <= MAX_INTERVAL_MINUTES:
            raise ValueError(f"ProbeArgs.interval_minutes must be {MIN_INTERVAL_MINUTES}-{MAX_INTERVAL_MINUTES}")


def schedule_expression(interval_minutes: int) -> str:
    """EventBridge Scheduler's rate expression (``rate(1 minute)`` is singular; the probe's minimum is 5)."""
    return f"rate({interval_minutes} minutes)"


def alarm_period_seconds(interval_minutes: int) -> int:
    """Twice the interval: every period holds at least one run, so an empty period means the probe did not run."""
    return 2 * interval_minutes * 60


def parameter_name(prefix: str) -> str:
    return f"/plaid-ready-idp/{prefix}/readiness-probe/kids"


def scheduler_assume_role(account: str) -> str:
    """Only EventBridge Scheduler, for this account's schedules, may assume the schedule's role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": SCHEDULER},
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}, sort_keys=True)


def invoke_policy(function_arn: str) -> str:
    """The schedule role's only permission: invoke the probe (and its versions and aliases)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "InvokeProbe", "Effect": "Allow", "Action": "lambda:InvokeFunction",
        "Resource": [function_arn, f"{function_arn}:*"]}]}, sort_keys=True)


def parameter_policy(partition: str, region: str, account: str, parameter: str) -> str:
    """The probe's permissions besides its logs: read and write its one parameter."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "OwnState", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter"],
        "Resource": f"arn:{partition}:ssm:{region}:{account}:parameter{parameter}"}]}, sort_keys=True)


def dashboard_widget(region: str, period_seconds: int = 300) -> dict[str, Any]:
    """The probe's widget on the stack's dashboard: failed checks per run, and each check's failure metric."""
    dims = ("service", names.SERVICE)
    metrics: list[list[Any]] = [[names.METRICS_NAMESPACE, names.METRIC_CHECKS_FAILED, *dims]]
    metrics += [[names.METRICS_NAMESPACE, names.METRIC_FAILED_PREFIX + c, *dims] for c in names.CHECKS]
    return {"type": "metric", "width": 24, "height": 6, "properties": {
        "title": "Readiness probe: failed checks (docs/probe.md)", "region": region, "stat": "Maximum",
        "period": period_seconds, "metrics": metrics}}


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host if parts.port in (None, 443) else f"{host}:{parts.port}"


class PlaidReadinessProbe(pulumi.ComponentResource):
    def __init__(self, name: str, args: ProbeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        prefix, tags = args.name_prefix, args.tags
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition

        # -- its memory: the SSM parameter --------------------------------------------------------------
        self.parameter_name = parameter_name(prefix)
        self.parameter = aws.ssm.Parameter(
            f"{name}-state", name=self.parameter_name, type="String", tier="Standard",
            insecure_value=INITIAL_STATE,
            description="Readiness probe: the signing-key ids it saw and when (written by the probe each run)",
            tags=tags, opts=options.child(self, stateful=True, protect=args.protect, ignore_changes=["insecureValue"]))

        # -- the Lambda ---------------------------------------------------------------------------------
        self.package = lambda_package(build.READINESS_PROBE, args.architecture)
        self.function_name = f"{prefix}-readiness-probe"
        logs = function_logs(self, name, self.function_name, retention_days=args.log_retention_days, tags=tags,
                             description="Readiness probe Lambda: writes its own logs, reads and writes its parameter")
        self.log_group, self.role, self.role_policy = logs.log_group, logs.role, logs.role_policy
        self.state_policy = aws.iam.RolePolicy(
            f"{name}-fn-state-policy", role=self.role.id,
            policy=pulumi.Output.all(partition, region, account).apply(
                lambda a: parameter_policy(a[0], a[1], a[2], self.parameter_name)),
            opts=options.child(self))
        environment: dict[str, pulumi.Input[str]] = {
            names.DISCOVERY_URL: args.discovery_url,
            names.STATE_PARAMETER: self.parameter_name,
            names.IDP_DOMAIN: pulumi.Output.from_input(args.discovery_url).apply(_host),
            "POWERTOOLS_SERVICE_NAME": names.SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        }
        if args.customers_url is not None:
            environment[names.CUSTOMERS_URL] = args.customers_url
        if args.api_domain is not None:
            environment[names.API_DOMAIN] = args.api_domain
        if args.api_mtls:
            environment[names.API_MTLS] = "true"
        self.function = aws.lambda_.Function(
            f"{name}-fn", name=self.function_name,
            description="Plaid readiness probe: discovery, JWKS, key rotation, WAF allowlist, TLS expiry",
            runtime=RUNTIME, architectures=[args.architecture], handler=build.READINESS_PROBE.handler,
            code=pulumi.FileArchive(str(self.package.zip_path)), source_code_hash=self.package.sha256_base64,
            memory_size=MEMORY_MB, timeout=TIMEOUT_SECONDS, role=self.role.arn,
            environment={"variables": environment},
            logging_config={"log_format": "JSON", "log_group": logs.log_group_name},
            tags=tags, opts=options.child(self, depends_on=[self.log_group, self.role_policy, self.state_policy]))

        # -- the schedule and its invoke-only role -------------------------------------------------------
        self.schedule_role = aws.iam.Role(
            f"{name}-schedule-role", name=f"{prefix}-readiness-probe-schedule",
            assume_role_policy=account.apply(scheduler_assume_role),
            description="EventBridge Scheduler: invokes the readiness probe, nothing else", tags=tags,
            opts=options.child(self))
        # The function's ARN spelt out (not the computed output), so the plan shows and judges the whole policy.
        function_arn = pulumi.Output.all(partition, region, account).apply(
            lambda a: f"arn:{a[0]}:lambda:{a[1]}:{a[2]}:function:{self.function_name}")
        self.schedule_policy = aws.iam.RolePolicy(
            f"{name}-schedule-invoke", role=self.schedule_role.id, policy=function_arn.apply(invoke_policy),
            opts=options.child(self))
        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule", name=f"{prefix}-readiness-probe",
            description=f"Runs the Plaid readiness probe every {args.interval_minutes} minutes",
            schedule_expression=schedule_expression(args.interval_minutes), state="ENABLED",
            flexible_time_window={"mode": "OFF"},
            target={"arn": function_arn, "role_arn": self.schedule_role.arn,
                    "retry_policy": {"maximum_retry_attempts": 0, "maximum_event_age_in_seconds": 60 * 60}},
            opts=options.child(self, depends_on=[self.schedule_policy, self.function]))

        # -- the alarm --------------------------------------------------------------------------------------
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-failed", name=f"{prefix}-readiness-probe-failed",
            alarm_description="A readiness probe check failed, or the probe did not run (docs/probe.md)",
            comparison_operator="GreaterThanThreshold", threshold=0.0, namespace=names.METRICS_NAMESPACE,
            metric_name=names.METRIC_CHECKS_FAILED, dimensions={"service": names.SERVICE}, statistic="Maximum",
            period=alarm_period_seconds(args.interval_minutes), evaluation_periods=1, treat_missing_data="breaching",
            alarm_actions=[args.alarm_topic_arn], ok_actions=[args.alarm_topic_arn], tags=tags,
            opts=options.child(self))
        self.register_outputs({"function_name": self.function_name, "parameter_name": self.parameter_name,
                               "alarm_name": self.alarm.name})
