"""PlaidCustomersApi: ``GET <base>/customers/current`` on AWS, the way Plaid's checklist asks.

The Lambda from the deterministic package (``lambdas/build/``), configured from the tenant contract;
an API Gateway REST API (WAF cannot attach to HTTP APIs or function URLs), regional and dual-stack;
the Plaid allowlist WAF on its stage; an optional custom domain with TLS 1.2 and mutual TLS (the
default execute-api endpoint then off, so nothing bypasses mTLS); alarms and a dashboard.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import pulumi
import pulumi_aws as aws

import plaid_contract as plaid
from components import options
from components.function_logs import function_logs
from components.lambda_package import PYTHON_VERSION, RUNTIME, lambda_package
from components.monitoring import MonitoringArgs, PlaidApiMonitoring
from components.settings import Environment
from components.tenant import TenantContract
from components.waf import AllowlistArgs, PlaidAllowlist
from lambdas import build
from lambdas.customers_current import names as lambda_names

if TYPE_CHECKING:
    from components.settings import StackSettings
    from components.settings.stack import Alarms, Allowlist, Api

__all__ = ["ACCESS_LOG_FORMAT", "PYTHON_VERSION", "RUNTIME", "TYPE", "CustomersApiArgs", "PlaidCustomersApi"]

TYPE: Final = "plaid-ready-idp:api:PlaidCustomersApi"
ACCESS_LOG_FORMAT: Final = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency", "wafStatus": "$context.waf.status",
    "clientCertNotAfter": "$context.identity.clientCert.validity.notAfter",
}, sort_keys=True)


@dataclass(frozen=True)
class CustomersApiArgs:
    """Exactly what PlaidCustomersApi uses (:meth:`from_settings` builds it from the stack settings)."""

    tenant: TenantContract
    institution_name: str
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    environment: Environment
    api: Api
    allowlist: Allowlist
    alarms: Alarms
    tags: dict[str, str] = field(default_factory=dict)
    #: The stack declares the readiness probe: its widget goes on the dashboard (components/probe.py).
    probe_widget: bool = False

    @classmethod
    def from_settings(cls, settings: StackSettings, tenant: TenantContract) -> CustomersApiArgs:
        return cls(tenant=tenant, institution_name=settings.institution.name, name_prefix=settings.name_prefix,
                   environment=settings.environment, api=settings.api, allowlist=settings.allowlist,
                   alarms=settings.alarms, tags=settings.tags, probe_widget=settings.probe_enabled)

    @property
    def protect(self) -> bool:
        return self.environment is Environment.PROD


class PlaidCustomersApi(pulumi.ComponentResource):
    base_url: pulumi.Output[str]
    customers_current_url: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CustomersApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        api_cfg = args.api
        prefix, tags, protect = args.name_prefix, args.tags, args.protect
        custom = api_cfg.custom_domain
        disable_default = api_cfg.disable_execute_api_endpoint
        if disable_default is None:
            disable_default = custom is not None
        path = f"{api_cfg.base_path}{plaid.CUSTOMERS_CURRENT_PATH}"

        # -- the Lambda ------------------------------------------------------------------------------
        self.package = lambda_package(build.CUSTOMERS, api_cfg.lambda_architecture)
        self.function_name = f"{prefix}-customers-current"
        logs = function_logs(self, name, self.function_name, retention_days=api_cfg.log_retention_days, tags=tags,
                             description="/customers/current Lambda: writes its own logs, nothing else")
        self.log_group, self.role, self.role_policy = logs.log_group, logs.role, logs.role_policy
        log_group_name = logs.log_group_name
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.function = aws.lambda_.Function(
            f"{name}-fn", name=self.function_name, description="Plaid Core Exchange GET /customers/current",
            runtime=RUNTIME, architectures=[api_cfg.lambda_architecture], handler=build.HANDLER,
            code=pulumi.FileArchive(str(self.package.zip_path)), source_code_hash=self.package.sha256_base64,
            memory_size=api_cfg.lambda_memory_mb, timeout=api_cfg.lambda_timeout_seconds, role=self.role.arn,
            environment={"variables": {
                **args.tenant.lambda_environment(),
                "POWERTOOLS_SERVICE_NAME": lambda_names.SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": lambda_names.METRICS_NAMESPACE,
            }},
            logging_config={"log_format": "JSON", "log_group": log_group_name},
            tags=tags, opts=options.child(self, depends_on=[self.log_group, self.role_policy]))

        # -- the REST API ----------------------------------------------------------------------------
        self.api_name = f"{prefix}-core-exchange"
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api", name=self.api_name, description=f"Plaid Core Exchange for {args.institution_name}",
            endpoint_configuration={"types": "REGIONAL", "ip_address_type": "dualstack"},
            disable_execute_api_endpoint=disable_default, tags=tags,
            opts=options.child(self, stateful=True, protect=protect))
        parent_id: pulumi.Input[str] = self.rest_api.root_resource_id
        segments = [p for p in path.split("/") if p]
        self.resources: list[aws.apigateway.Resource] = []
        for i, segment in enumerate(segments):
            res = aws.apigateway.Resource(
                f"{name}-path-{'-'.join(segments[:i + 1])}", rest_api=self.rest_api.id, parent_id=parent_id,
                path_part=segment, opts=options.child(self))
            self.resources.append(res)
            parent_id = res.id
        leaf = self.resources[-1]
        self.method = aws.apigateway.Method(
            f"{name}-get", rest_api=self.rest_api.id, resource_id=leaf.id, http_method="GET",
            authorization="NONE", opts=options.child(self))
        self.integration = aws.apigateway.Integration(
            f"{name}-get-lambda", rest_api=self.rest_api.id, resource_id=leaf.id, http_method=self.method.http_method,
            type="AWS_PROXY", integration_http_method="POST", uri=self.function.invoke_arn, opts=options.child(self))
        self.permission = aws.lambda_.Permission(
            f"{name}-invoke", action="lambda:InvokeFunction", function=self.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=self.rest_api.execution_arn.apply(lambda arn: f"{arn}/*/GET{path}"), opts=options.child(self))
        definition = hashlib.sha256(json.dumps(
            {"path": path, "method": "GET", "integration": "AWS_PROXY", "code": self.package.sha256_base64},
            sort_keys=True).encode()).hexdigest()
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment", rest_api=self.rest_api.id, triggers={"redeploy": definition},
            description="Redeployed when the API definition or the function's code changes",
            opts=options.child(self, depends_on=[self.method, self.integration]))
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name=f"/aws/apigateway/{self.api_name}/{api_cfg.stage_name}",
            retention_in_days=api_cfg.log_retention_days, tags=tags, opts=options.child(self))
        self.stage = aws.apigateway.Stage(
            f"{name}-stage", rest_api=self.rest_api.id, deployment=self.deployment.id,
            stage_name=api_cfg.stage_name,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            tags=tags, opts=options.child(self))
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-throttling", rest_api=self.rest_api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings={"metrics_enabled": True, "throttling_rate_limit": float(api_cfg.throttle_rate_limit),
                      "throttling_burst_limit": api_cfg.throttle_burst_limit, "logging_level": "OFF",
                      "data_trace_enabled": False},
            opts=options.child(self))

        # -- WAF, custom domain, monitoring ----------------------------------------------------------
        self.allowlist = PlaidAllowlist(f"{name}-allowlist", AllowlistArgs(
            name_prefix=prefix, stage_arn=self.stage.arn, extra_cidrs=list(args.allowlist.extra_cidrs),
            rate_limit_per_5_min=args.allowlist.rate_limit_per_5_min, log_retention_days=api_cfg.log_retention_days,
            tags=tags), opts=pulumi.ResourceOptions(parent=self))

        self.domain = self.mapping = None
        if custom is not None:
            mtls: aws.apigateway.DomainNameMutualTlsAuthenticationArgsDict | None = None
            if custom.mtls is not None:
                mtls = {"truststore_uri": custom.mtls.truststore_uri,
                        "truststore_version": custom.mtls.truststore_version}
            self.domain = aws.apigateway.DomainName(
                f"{name}-domain", domain_name=custom.domain_name, regional_certificate_arn=custom.certificate_arn,
                endpoint_configuration={"types": "REGIONAL", "ip_address_type": "dualstack"},
                security_policy=plaid.MIN_TLS_VERSION, mutual_tls_authentication=mtls, tags=tags,
                opts=options.child(self, stateful=True, protect=protect))
            self.mapping = aws.apigateway.BasePathMapping(
                f"{name}-mapping", rest_api=self.rest_api.id, stage_name=self.stage.stage_name,
                domain_name=self.domain.domain_name, opts=options.child(self))
            self.base_url = pulumi.Output.from_input(f"https://{custom.domain_name}{api_cfg.base_path}")
        else:
            self.base_url = self.stage.invoke_url.apply(lambda u: f"{u.rstrip('/')}{api_cfg.base_path}")
        self.customers_current_url = self.base_url.apply(lambda b: f"{b}{plaid.CUSTOMERS_CURRENT_PATH}")

        self.monitoring = PlaidApiMonitoring(f"{name}-monitoring", MonitoringArgs(
            name_prefix=prefix, function_name=self.function_name, api_name=self.api_name,
            stage_name=api_cfg.stage_name, web_acl_name=self.allowlist.web_acl_name, region=region.region,
            latency_p99_ms=args.alarms.latency_p99_ms, email=args.alarms.email, tags=tags,
            key_deletion_days=options.KMS_DELETION_DAYS[args.environment], protect=protect,
            probe_widget=args.probe_widget),
            opts=pulumi.ResourceOptions(parent=self))
        self.web_acl_arn = self.allowlist.web_acl_arn
        self.register_outputs({"base_url": self.base_url, "customers_current_url": self.customers_current_url,
                               "web_acl_arn": self.web_acl_arn})
