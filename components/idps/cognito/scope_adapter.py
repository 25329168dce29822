"""PlaidScopeAdapter: the small Lambda that lets Plaid talk to Cognito at all (docs/cognito.md).

Cognito answers ``invalid_scope`` to ``offline_access``, which Plaid always sends. The adapter
(``lambdas/scope_adapter/``) serves the discovery document Plaid is given, with ``authorization_endpoint``
pointing at itself, and redirects ``/oauth2/authorize`` to Cognito's hosted domain with
``offline_access`` removed. Declared here, all parented to the component:

- the Lambda from its deterministic package, with a role that writes its own logs and nothing else;
- its own REST API (WAF cannot attach to HTTP APIs or function URLs), regional and dual-stack, exactly two
  routes (``/.well-known/openid-configuration`` and ``/oauth2/authorize``; any method reaches the Lambda,
  which answers 405 to all but GET) and a JSON 404 for every other path;
- its own WAF web ACL: AWS managed rule groups and a per-IP rate limit, default allow. **No IP allowlist**:
  end users' browsers reach ``/oauth2/authorize``. Logs redact the query string (login hints, state);
- optionally its custom domain (Plaid's "server domain"), TLS 1.2, the execute-api endpoint then off.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

import plaid_contract as plaid
from components import options
from components.function_logs import function_logs
from components.lambda_package import RUNTIME, lambda_package
from components.waf import MANAGED_RULE_GROUPS, RATE_RULE
from lambdas import build
from lambdas.scope_adapter import names

TYPE: Final = "plaid-ready-idp:cognito:PlaidScopeAdapter"
#: The two routes, as API Gateway path segments.
ROUTES: Final = (tuple(names.DISCOVERY_PATH.strip("/").split("/")), tuple(names.AUTHORIZE_PATH.strip("/").split("/")))
THROTTLE_RATE_PER_SECOND: Final = 50.0
THROTTLE_BURST: Final = 100
NOT_FOUND_BODY: Final = json.dumps({"error": "not_found", "error_description": "no such resource"})
ACCESS_LOG_FORMAT: Final = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "latencyMs": "$context.responseLatency", "wafStatus": "$context.waf.status",
}, sort_keys=True)


@dataclass(frozen=True)
class AdapterDomainArgs:
    domain_name: str
    certificate_arn: str


@dataclass(frozen=True)
class ScopeAdapterArgs:
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    #: Cognito's issuer, ``https://cognito-idp.<region>.amazonaws.com/<poolId>``.
    upstream_issuer: pulumi.Input[str]
    #: The pool's hosted domain as an https URL: the only place the adapter redirects to.
    upstream_base_url: pulumi.Input[str]
    architecture: str = "arm64"
    stage_name: str = "live"
    log_retention_days: int = 365
    rate_limit_per_5_min: int = 1000
    custom_domain: AdapterDomainArgs | None = None
    #: Protect the stateful children (the REST API and its custom domain): prod.
    protect: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    # No sampled requests: samples keep the query string (login_hint, state), which log redaction does not cover.
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": False}


def waf_rules(prefix: str, rate_limit_per_5_min: int) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """Managed rule groups, then a per-IP rate limit. Nothing allowlists: browsers must get through."""
    rules: list[aws.wafv2.WebAclRuleArgsDict] = [{
        "name": group, "priority": priority, "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
        "visibility_config": _visibility(f"{prefix}-adapter-{group}"),
    } for priority, group in enumerate(MANAGED_RULE_GROUPS)]
    rules.append({
        "name": RATE_RULE, "priority": len(rules), "action": {"block": {}},
        "statement": {"rate_based_statement": {"limit": rate_limit_per_5_min, "aggregate_key_type": "IP"}},
        "visibility_config": _visibility(f"{prefix}-adapter-{RATE_RULE}"),
    })
    return rules


class PlaidScopeAdapter(pulumi.ComponentResource):
    base_url: pulumi.Output[str]
    discovery_url: pulumi.Output[str]
    authorize_url: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ScopeAdapterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        prefix, tags, custom = args.name_prefix, args.tags, args.custom_domain
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)

        # -- the REST API first: the Lambda needs its own public URL ----------------------------------
        self.api_name = f"{prefix}-scope-adapter"
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api", name=self.api_name,
            description="Plaid's OIDC server domain for Cognito: discovery and authorize (scope adapter)",
            endpoint_configuration={"types": "REGIONAL", "ip_address_type": "dualstack"},
            disable_execute_api_endpoint=custom is not None, tags=tags,
            opts=options.child(self, stateful=True, protect=args.protect))
        if custom is not None:
            self.base_url = pulumi.Output.from_input(f"https://{custom.domain_name}")
        else:
            self.base_url = pulumi.Output.all(self.rest_api.id, region.region, partition.dns_suffix).apply(
                lambda a: f"https://{a[0]}.execute-api.{a[1]}.{a[2]}/{args.stage_name}")
        self.discovery_url = self.base_url.apply(lambda b: f"{b}{names.DISCOVERY_PATH}")
        self.authorize_url = self.base_url.apply(lambda b: f"{b}{names.AUTHORIZE_PATH}")

        # -- the Lambda --------------------------------------------------------------------------------
        self.package = lambda_package(build.SCOPE_ADAPTER, args.architecture)
        self.function_name = f"{prefix}-scope-adapter"
        logs = function_logs(self, name, self.function_name, retention_days=args.log_retention_days, tags=tags,
                             description="Scope adapter Lambda: writes its own logs, nothing else")
        self.log_group, self.role, self.role_policy = logs.log_group, logs.role, logs.role_policy
        log_group_name = logs.log_group_name
        self.function = aws.lambda_.Function(
            f"{name}-fn", name=self.function_name,
            description="Plaid scope adapter for Cognito: discovery with offline_access, authorize without it",
            runtime=RUNTIME, architectures=[args.architecture], handler=build.SCOPE_ADAPTER.handler,
            code=pulumi.FileArchive(str(self.package.zip_path)), source_code_hash=self.package.sha256_base64,
            memory_size=128, timeout=5, role=self.role.arn,
            environment={"variables": {
                names.UPSTREAM_ISSUER: args.upstream_issuer,
                names.UPSTREAM_BASE_URL: args.upstream_base_url,
                names.PUBLIC_BASE_URL: self.base_url,
                "POWERTOOLS_SERVICE_NAME": names.SERVICE,
            }},
            logging_config={"log_format": "JSON", "log_group": log_group_name},
            tags=tags, opts=options.child(self, depends_on=[self.log_group, self.role_policy]))

        # -- routes: two resources, any method to the Lambda; every other path a JSON 404 ---------------
        self.methods: list[aws.apigateway.Method] = []
        self.integrations: list[aws.apigateway.Integration] = []
        self.permissions: list[aws.lambda_.Permission] = []
        created: dict[tuple[str, ...], aws.apigateway.Resource] = {}
        for route in ROUTES:
            parent_id: pulumi.Input[str] = self.rest_api.root_resource_id
            for i in range(len(route)):
                key = route[:i + 1]
                if key not in created:
                    created[key] = aws.apigateway.Resource(
                        f"{name}-path-{'-'.join(key)}", rest_api=self.rest_api.id, parent_id=parent_id,
                        path_part=key[-1], opts=options.child(self))
                parent_id = created[key].id
            leaf, path, label = created[route], "/" + "/".join(route), route[-1]
            method = aws.apigateway.Method(
                f"{name}-{label}", rest_api=self.rest_api.id, resource_id=leaf.id, http_method="ANY",
                authorization="NONE", opts=options.child(self))
            self.methods.append(method)
            self.integrations.append(aws.apigateway.Integration(
                f"{name}-{label}-lambda", rest_api=self.rest_api.id, resource_id=leaf.id,
                http_method=method.http_method, type="AWS_PROXY", integration_http_method="POST",
                uri=self.function.invoke_arn, opts=options.child(self)))
            self.permissions.append(aws.lambda_.Permission(
                f"{name}-invoke-{label}", action="lambda:InvokeFunction", function=self.function.name,
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(self.rest_api.execution_arn, "/*/*", path),
                opts=options.child(self)))
        self.resources = list(created.values())
        self.not_found = aws.apigateway.Response(
            f"{name}-not-found", rest_api_id=self.rest_api.id, response_type="MISSING_AUTHENTICATION_TOKEN",
            status_code="404", response_templates={"application/json": NOT_FOUND_BODY},
            opts=options.child(self))

        definition = hashlib.sha256(json.dumps(
            {"routes": [list(r) for r in ROUTES], "method": "ANY", "integration": "AWS_PROXY",
             "not_found": NOT_FOUND_BODY, "code": self.package.sha256_base64}, sort_keys=True).encode()).hexdigest()
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment", rest_api=self.rest_api.id, triggers={"redeploy": definition},
            description="Redeployed when the routes or the function's code change",
            opts=options.child(self, depends_on=[*self.methods, *self.integrations, self.not_found]))
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name=f"/aws/apigateway/{self.api_name}/{args.stage_name}",
            retention_in_days=args.log_retention_days, tags=tags, opts=options.child(self))
        self.stage = aws.apigateway.Stage(
            f"{name}-stage", rest_api=self.rest_api.id, deployment=self.deployment.id, stage_name=args.stage_name,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            tags=tags, opts=options.child(self))
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-throttling", rest_api=self.rest_api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings={"metrics_enabled": True, "throttling_rate_limit": THROTTLE_RATE_PER_SECOND,
                      "throttling_burst_limit": THROTTLE_BURST, "logging_level": "OFF", "data_trace_enabled": False},
            opts=options.child(self))

        # -- WAF: managed rules and a rate limit, no allowlist ------------------------------------------
        self.web_acl_name = f"{prefix}-scope-adapter"
        self.acl = aws.wafv2.WebAcl(
            f"{name}-waf", name=self.web_acl_name, scope="REGIONAL",
            description="Scope adapter: managed rule groups and a per-IP rate limit; browsers reach it, no allowlist",
            default_action={"allow": {}}, rules=waf_rules(prefix, args.rate_limit_per_5_min),
            visibility_config=_visibility(self.web_acl_name), tags=tags, opts=options.child(self))
        self.waf_logs = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs", name=f"aws-waf-logs-{prefix}-scope-adapter",
            retention_in_days=args.log_retention_days, tags=tags, opts=options.child(self))
        self.waf_logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging", resource_arn=self.acl.arn, log_destination_configs=[self.waf_logs.arn],
            redacted_fields=[{"query_string": {}}], opts=options.child(self))
        self.waf_association = aws.wafv2.WebAclAssociation(
            f"{name}-waf-association", resource_arn=self.stage.arn, web_acl_arn=self.acl.arn,
            opts=options.child(self))

        # -- custom domain (Plaid's "server domain") -----------------------------------------------------
        self.domain = self.mapping = None
        if custom is not None:
            self.domain = aws.apigateway.DomainName(
                f"{name}-domain", domain_name=custom.domain_name, regional_certificate_arn=custom.certificate_arn,
                endpoint_configuration={"types": "REGIONAL", "ip_address_type": "dualstack"},
                security_policy=plaid.MIN_TLS_VERSION, tags=tags,
                opts=options.child(self, stateful=True, protect=args.protect))
            self.mapping = aws.apigateway.BasePathMapping(
                f"{name}-mapping", rest_api=self.rest_api.id, stage_name=self.stage.stage_name,
                domain_name=self.domain.domain_name, opts=options.child(self))

        self.web_acl_arn = self.acl.arn
        self.register_outputs({"base_url": self.base_url, "discovery_url": self.discovery_url,
                               "authorize_url": self.authorize_url, "web_acl_arn": self.web_acl_arn})
