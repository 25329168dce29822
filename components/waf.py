"""PlaidAllowlist: a regional WAFv2 web ACL that lets only Plaid's IP ranges reach the customers API.

Default action block; AWS managed rule groups and a per-IP rate limit run first, then one rule allows
requests from Plaid's IPv4 or IPv6 set (plus extra CIDRs from the settings). Logs go to an
``aws-waf-logs-`` log group with the Authorization header redacted.

Sampled requests keep every header, ``Authorization`` included (log redaction does not apply to them),
so sampling is off on the allow rule and on the web ACL's default (the rule Plaid's requests match, and
the catch-all). The managed rule groups and the rate rule keep sampling, to debug false positives: a
request they block is sampled with its headers (docs/api.md, "Accepted exposure").

Never put this in front of a page an end user's browser loads (the IdP's authorize/login pages): Plaid
sends end users there from their own devices. Those pages are on Auth0/Okta/Cognito anyway.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

import plaid_contract as plaid
from components import options
from components.settings import normalise_cidrs

TYPE: Final = "plaid-ready-idp:api:PlaidAllowlist"
MANAGED_RULE_GROUPS: Final = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_RULE: Final = "rate-limit-per-ip"
ALLOW_RULE: Final = "allow-plaid"


@dataclass(frozen=True)
class AllowlistArgs:
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    #: The API Gateway stage to protect.
    stage_arn: pulumi.Input[str]
    extra_cidrs: list[str] = field(default_factory=list)
    rate_limit_per_5_min: int = 2000
    log_retention_days: int = 365
    tags: dict[str, str] = field(default_factory=dict)


def split_cidrs(extra: list[str]) -> tuple[list[str], list[str]]:
    """Plaid's ranges plus ``extra``, canonical and deduplicated, split into (IPv4, IPv6)."""
    every = normalise_cidrs([*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4, *plaid.PLAID_IPV6_RANGES, *extra])
    v4 = [c for c in every if ipaddress.ip_network(c).version == 4]
    v6 = [c for c in every if ipaddress.ip_network(c).version == 6]
    return v4, v6


def _visibility(metric: str, *, sampled: bool = True) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": sampled}


class PlaidAllowlist(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    web_acl_name: str

    def __init__(self, name: str, args: AllowlistArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        v4, v6 = split_cidrs(args.extra_cidrs)
        prefix = args.name_prefix
        self.ipv4 = aws.wafv2.IpSet(
            f"{name}-ipv4", name=f"{prefix}-plaid-ipv4", scope="REGIONAL", ip_address_version="IPV4",
            addresses=v4, description="Plaid Core Exchange egress (IPv4) and extra allowlisted CIDRs",
            tags=args.tags, opts=options.child(self))
        self.ipv6 = aws.wafv2.IpSet(
            f"{name}-ipv6", name=f"{prefix}-plaid-ipv6", scope="REGIONAL", ip_address_version="IPV6",
            addresses=v6, description="Plaid Core Exchange egress (IPv6) and extra allowlisted CIDRs",
            tags=args.tags, opts=options.child(self))

        rules: list[aws.wafv2.WebAclRuleArgsDict] = []
        for priority, group in enumerate(MANAGED_RULE_GROUPS):
            rules.append({
                "name": group, "priority": priority, "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                "visibility_config": _visibility(f"{prefix}-{group}"),
            })
        rules.append({
            "name": RATE_RULE, "priority": len(rules), "action": {"block": {}},
            "statement": {"rate_based_statement": {"limit": args.rate_limit_per_5_min, "aggregate_key_type": "IP"}},
            "visibility_config": _visibility(f"{prefix}-{RATE_RULE}"),
        })
        rules.append({
            "name": ALLOW_RULE, "priority": len(rules), "action": {"allow": {}},
            "statement": {"or_statement": {"statements": [
                {"ip_set_reference_statement": {"arn": self.ipv4.arn}},
                {"ip_set_reference_statement": {"arn": self.ipv6.arn}},
            ]}},
            # Plaid's requests carry a bearer token: never sample them.
            "visibility_config": _visibility(f"{prefix}-{ALLOW_RULE}", sampled=False),
        })
        self.web_acl_name = f"{prefix}-plaid-allowlist"
        self.acl = aws.wafv2.WebAcl(
            f"{name}-acl", name=self.web_acl_name, scope="REGIONAL",
            description="Only Plaid reaches /customers/current; everything else is blocked",
            default_action={"block": {}}, rules=rules, visibility_config=_visibility(self.web_acl_name, sampled=False),
            tags=args.tags, opts=options.child(self))
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"aws-waf-logs-{prefix}-customers-api",
            retention_in_days=args.log_retention_days, tags=args.tags, opts=options.child(self))
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging", resource_arn=self.acl.arn, log_destination_configs=[self.log_group.arn],
            redacted_fields=[{"single_header": {"name": "authorization"}}], opts=options.child(self))
        self.association = aws.wafv2.WebAclAssociation(
            f"{name}-association", resource_arn=args.stage_arn, web_acl_arn=self.acl.arn, opts=options.child(self))
        self.web_acl_arn = self.acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
