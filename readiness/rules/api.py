"""Readiness rules for what components/customers_api.py, waf.py and monitoring.py declare.

They apply wherever the customers API (its REST API or Lambda) is declared, so removing the WAF or the
alarm from a stack fails the rule instead of making it vanish. They judge the customers API's resources
only, those declared inside the PlaidCustomersApi component (by URN): an IdP may declare its own Lambda, REST
API and WAF facing users' browsers by design (no IP allowlist, no token check), which its own rules judge; the
least-privilege and no-secret rows still judge every Lambda.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

import plaid_contract as plaid
from components.checklist import Context, Finding, Resource, Rule, fail, is_secret, is_unknown, ok
from components.settings.stack import extra_cidr_problem
from lambdas.customers_current import env as lambda_env
from lambdas.customers_current.env import CLIENT_CLAIMS
from readiness.rules.secrets import KMS_KEY, covers, principals, statements

#: The customers API's component type (components/customers_api.py's TYPE; a test keeps them equal): the rules
#: below judge what is declared inside it.
CUSTOMERS_API = "plaid-ready-idp:api:PlaidCustomersApi"

REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
FUNCTION = "aws:lambda/function:Function"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
IP_SET = "aws:wafv2/ipSet:IpSet"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
DOMAIN = "aws:apigateway/domainName:DomainName"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CLOUDWATCH = "cloudwatch.amazonaws.com"
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|PRIVATE_KEY|API_KEY|CREDENTIAL", re.IGNORECASE)


def _customers(check: Callable[[Context], Finding]) -> Callable[[Context], Finding]:
    """``check`` judging the customers API's resources only: those inside PlaidCustomersApi (see the module doc)."""
    def run(ctx: Context) -> Finding:
        return check(dataclasses.replace(ctx, resources=ctx.within(CUSTOMERS_API)))
    return run


def _on_api(ctx: Context) -> bool:
    return bool(ctx.of_type(REST_API) or ctx.of_type(FUNCTION))


def _waf_attached(ctx: Context) -> Finding:
    stages = {r.urn for r in ctx.of_type(STAGE)}
    assocs = ctx.of_type(ASSOCIATION)
    if not ctx.of_type(WEB_ACL) or not assocs:
        return fail("no WAF web ACL associated", "Plaid's checklist: allowlist Plaid's IPs in front of the API")
    attached = [a for a in assocs if stages & set(getattr(a, "dependencies", []) or [])
                or str(a.input("resourceArn") or "").find("/stages/") > 0]
    if not attached:
        return fail(f"associations {[a.name for a in assocs]} are not on an API Gateway stage",
                    "associate the web ACL with the REST API's stage")
    return ok(f"web ACL associated with the stage ({attached[0].name})")


def _default_block(ctx: Context) -> Finding:
    acls = ctx.of_type(WEB_ACL)
    if not acls:
        return fail("no WAF web ACL", "declare PlaidAllowlist")
    bad = [a.name for a in acls if "block" not in (a.input("defaultAction") or {})]
    if bad:
        return fail(f"default action allow: {', '.join(bad)}", "default action must be block; allow only Plaid")
    return ok("default action block; only the allow rule admits requests")


def _plaid_ranges(ctx: Context) -> Finding:
    sets = ctx.of_type(IP_SET)
    have: set[str] = set()
    for s in sets:
        for cidr in s.input("addresses") or []:
            try:
                have.add(ipaddress.ip_network(str(cidr)).compressed)
            except ValueError:
                continue
    wanted = [*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4, *plaid.PLAID_IPV6_RANGES]
    missing = [c for c in wanted if c not in have]
    allow_rules = [r for a in ctx.of_type(WEB_ACL) for r in (a.input("rules") or [])
                   if isinstance(r, dict) and "allow" in (r.get("action") or {})]
    if missing or not sets:
        return fail(f"missing from the IP sets: {', '.join(missing) or 'no IP sets'}",
                    "allowlist both Plaid ranges and every legacy address (Plaid: do not remove them)")
    if not allow_rules:
        return fail(f"{len(have)} CIDRs in IP sets, but no rule allows them", "add the allow rule")
    return ok(f"all {len(wanted)} Plaid ranges allowlisted (IPv4 and IPv6)")


def _extra_ranges(ctx: Context) -> Finding:
    plaid_ranges = {ipaddress.ip_network(c).compressed
                    for c in (*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4, *plaid.PLAID_IPV6_RANGES)}
    extras: list[str] = []
    problems: list[str] = []
    for s in ctx.of_type(IP_SET):
        for cidr in s.input("addresses") or []:
            try:
                net = ipaddress.ip_network(str(cidr), strict=True)
            except ValueError:
                problems.append(f"{s.name}: an entry is not a CIDR")
                continue
            if net.compressed in plaid_ranges or net.compressed in extras:
                continue
            extras.append(net.compressed)
            if (why := extra_cidr_problem(net)) is not None:
                problems.append(f"{net.compressed} {why}")
    if problems:
        return fail("; ".join(problems), "extra ranges (allowlist.extraCidrs) must be public and at most /16 (IPv4) "
                    "or /48 (IPv6): an allowlist that admits much of the internet is no allowlist")
    if not extras:
        return ok("none: only Plaid's ranges are allowlisted")
    return ok(f"{len(extras)} extra range(s) allowlisted besides Plaid's: {', '.join(extras)}")


def _no_token_samples(ctx: Context) -> Finding:
    problems = []
    for acl in ctx.of_type(WEB_ACL):
        if (acl.input("visibilityConfig") or {}).get("sampledRequestsEnabled") is not False:
            problems.append(f"{acl.name}: default action samples requests")
        for rule in acl.input("rules") or []:
            if isinstance(rule, dict) and "allow" in (rule.get("action") or {}) and (
                    (rule.get("visibilityConfig") or {}).get("sampledRequestsEnabled") is not False):
                problems.append(f"{acl.name}: allow rule {rule.get('name')} samples requests")
    if not ctx.of_type(WEB_ACL):
        problems.append("no WAF web ACL")
    if problems:
        return fail("; ".join(problems), "sampled requests keep the Authorization header (log redaction does not "
                    "apply to them): turn sampling off where Plaid's requests are allowed")
    return ok("sampling off on the allow rule and the default action; blocked requests of the managed and rate "
              "rules are still sampled (docs/api.md, accepted exposure)")


def _token_client(ctx: Context) -> Finding:
    fns = ctx.of_type(FUNCTION)
    problems, shown = [], []
    for fn in fns:
        variables = fn.input("environment", "variables") or {}
        client = variables.get(lambda_env.TOKEN_CLIENT_ID) if isinstance(variables, dict) else None
        claim = variables.get(lambda_env.TOKEN_CLIENT_CLAIM) if isinstance(variables, dict) else None
        if not (is_unknown(client) or (isinstance(client, str) and client.strip())):
            problems.append(f"{fn.name}: {lambda_env.TOKEN_CLIENT_ID} not set")
        if claim not in CLIENT_CLAIMS:
            problems.append(f"{fn.name}: {lambda_env.TOKEN_CLIENT_CLAIM} is not one of {', '.join(CLIENT_CLAIMS)}")
        shown.append(f"{fn.name}: {lambda_env.TOKEN_CLIENT_ID} = Plaid's client id"
                     f"{' (known after apply)' if is_unknown(client) else ''}, checked in the {claim!s} claim")
    if problems:
        return fail("; ".join(problems), "the Lambda must accept only tokens issued to Plaid's client (the tenant "
                    "contract's client_id and client_claim)")
    return ok("; ".join(shown))


def _tls(ctx: Context) -> Finding:
    bad = [d.name for d in ctx.of_type(DOMAIN) if d.input("securityPolicy") != plaid.MIN_TLS_VERSION]
    if bad:
        return fail(f"security policy not {plaid.MIN_TLS_VERSION}: {', '.join(bad)}", "Plaid requires TLS 1.2+")
    return ok(f"custom domain security policy {plaid.MIN_TLS_VERSION}")


def _mtls_prod(ctx: Context) -> Finding:
    domains = ctx.of_type(DOMAIN)
    with_mtls = [d for d in domains if (d.input("mutualTlsAuthentication") or {}).get("truststoreUri")]
    if not with_mtls:
        return fail("no custom domain with mutual TLS",
                    "Plaid: enable mTLS in production (set api.customDomain.mtls; coordinate with Plaid)")
    return ok(f"mTLS on {with_mtls[0].input('domainName')} "
              f"(truststore {with_mtls[0].input('mutualTlsAuthentication', 'truststoreUri')})")


def _no_bypass(ctx: Context) -> Finding:
    open_apis = [a.name for a in ctx.of_type(REST_API) if a.input("disableExecuteApiEndpoint") is not True]
    if open_apis:
        return fail(f"execute-api endpoint enabled on {', '.join(open_apis)}",
                    "with a custom domain, disable the default endpoint so nothing bypasses its TLS/mTLS "
                    "(api.disableExecuteApiEndpoint: true, the default with a custom domain)")
    return ok("default execute-api endpoint disabled")


def _error_alarms(ctx: Context) -> list[Resource]:
    out = []
    for alarm in ctx.of_type(ALARM):
        queries = alarm.input("metricQueries") or []
        names = {((q.get("metric") or {}).get("metricName")) for q in queries if isinstance(q, dict)}
        if {"Errors", "Invocations"} <= names:
            out.append(alarm)
    return out


def _topics_of(ctx: Context, alarm: Resource) -> tuple[list[Resource], list[str]]:
    """The declared SNS topics an alarm notifies (by dependency or by a known ARN), and its actions that name no
    declared topic (known ARNs only)."""
    deps = set(getattr(alarm, "dependencies", []) or [])
    topics = ctx.of_type(TOPIC)
    found = [t for t in topics if t.urn in deps]
    external = []
    for action in alarm.input("alarmActions") or []:
        if isinstance(action, str) and action:
            match = [t for t in topics if t.input("arn") == action or action.endswith(f":{t.input('name')}")]
            if not match:
                external.append(action)
            found += [t for t in match if t not in found]
    return found, external


def _linked_key(ctx: Context, resource: Resource) -> Resource | None:
    deps = set(getattr(resource, "dependencies", []) or [])
    keys = [k for k in ctx.of_type(KMS_KEY) if k.urn in deps]
    return keys[0] if keys else None


def _json(resource: Resource, key: str) -> Any:
    raw = resource.input(key)
    if raw is None or is_unknown(raw):
        return raw
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None


def _cloudwatch_can_use(ctx: Context, topic: Resource) -> str | None:
    """Why CloudWatch cannot publish to ``topic`` (None: it can)."""
    kms = topic.input("kmsMasterKeyId")
    if isinstance(kms, str) and ("alias/aws/" in kms or kms.startswith("aws/")):
        return (f"{topic.name} is encrypted with the AWS-managed SNS key, whose policy CloudWatch cannot use: "
                "every alarm action would fail silently")
    if kms:
        key = _linked_key(ctx, topic)
        if key is None:
            return f"{topic.name} is encrypted with a key not declared in this stack; its policy cannot be shown"
        doc = _json(key, "policy")
        if doc is None:
            return f"{topic.name}: key {key.name} has the default key policy, which CloudWatch cannot use"
        if is_unknown(doc):
            return f"{topic.name}: key {key.name} policy unknown until apply, cannot be judged"
        allowed = [st for st in statements(doc) if st.get("Effect") == "Allow" and CLOUDWATCH in principals(
            st, "Service") and covers(st, "kms:Decrypt") and covers(st, "kms:GenerateDataKey")]
        if not allowed:
            return f"{topic.name}: key {key.name} policy does not let {CLOUDWATCH} use it (kms:Decrypt, " \
                   "kms:GenerateDataKey*)"
    deps = {topic.urn}
    for pol in ctx.of_type(TOPIC_POLICY):
        if not deps & set(getattr(pol, "dependencies", []) or []):
            continue
        doc = _json(pol, "policy")
        if is_unknown(doc) or doc is None:
            return f"{topic.name}: topic policy unknown until apply or not JSON, cannot be judged"
        if not any(st.get("Effect") == "Allow" and (CLOUDWATCH in principals(st, "Service") or "*" in principals(st))
                   and covers(st, "sns:Publish") for st in statements(doc)):
            return f"{topic.name}: topic policy does not let {CLOUDWATCH} publish"
    return None


def _error_alarm(ctx: Context) -> Finding:
    for alarm in _error_alarms(ctx):
        threshold = alarm.input("threshold")
        actions = alarm.input("alarmActions") or []
        if not isinstance(threshold, int | float) or threshold > plaid.ERROR_RATE_ALARM_PERCENT or not actions:
            return fail(f"{alarm.name}: threshold {threshold}%, {len(actions)} action(s)",
                        f"alarm at {plaid.ERROR_RATE_ALARM_PERCENT}% and notify someone")
        topics, external = _topics_of(ctx, alarm)
        if not topics and not external:
            return fail(f"{alarm.name}: notifies no topic declared in this stack",
                        "publish to the stack's alarm topic (PlaidApiMonitoring)")
        problems = [why for t in topics if (why := _cloudwatch_can_use(ctx, t))]
        if problems:
            return fail("; ".join(problems), "encrypt the alarm topic with a customer-managed key whose policy lets "
                        f"{CLOUDWATCH} use it (kms:Decrypt, kms:GenerateDataKey*), or leave it unencrypted")
        how = ", ".join(f"{t.name} ({'key ' + k.name if (k := _linked_key(ctx, t)) else 'unencrypted'})"
                        for t in topics)
        note = f"; {len(external)} topic(s) outside this stack, not judged" if external else ""
        return ok(f"{alarm.name}: Lambda error rate > {threshold}% notifies {how}, which CloudWatch can use{note}")
    return fail("no error-rate alarm",
                f"Plaid's checklist: alarm on an error rate above {plaid.ERROR_RATE_ALARM_PERCENT}%")


def _alarm_subscriber(ctx: Context) -> Finding:
    topics: list[Resource] = []
    for alarm in _error_alarms(ctx):
        topics += [t for t in _topics_of(ctx, alarm)[0] if t not in topics]
    if not topics:
        return fail("no alarm topic declared", "declare the alarm topic (PlaidApiMonitoring)")
    subs = [s for s in ctx.of_type(SUBSCRIPTION)
            if {t.urn for t in topics} & set(getattr(s, "dependencies", []) or [])]
    if not subs:
        where = ("In prod nobody would be told that Plaid's calls fail. " if ctx.environment == "prod" else "")
        return fail(f"no subscription to {', '.join(t.name for t in topics)}",
                    f"{where}Set alarms.email, or subscribe a pager or chat endpoint to the topic outside this stack")
    shown = ", ".join(f"{s.name} ({s.input('protocol')})" for s in subs)
    return ok(f"{len(subs)} subscription(s): {shown}")


#: The one wildcard allowed: "every log stream of this one log group" (the account may be the offline plan's
#: "(account)" placeholder: only the cloud knows it).
_LOG_STREAMS = re.compile(r"^arn:[a-z-]+:logs:[a-z0-9-]+:(\d{12}|\(account\)):log-group:[^*]+:\*$")


def _wildcards(doc: Any) -> list[str]:
    found = []
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict):
            continue
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            values = st.get(key, [])
            for v in values if isinstance(values, list) else [values]:
                text = str(v)
                if key.startswith("Not") or (key == "Action" and "*" in text) or (
                        key == "Resource" and "*" in text and not _LOG_STREAMS.match(text)):
                    found.append(f"{key} {text}")
    return found


def _least_privilege(ctx: Context) -> Finding:
    problems = []
    for role in ctx.of_type(ROLE):
        if role.input("managedPolicyArns"):
            problems.append(f"{role.name}: managed policies attached")
        for inline in role.input("inlinePolicies") or []:
            problems.append(f"{role.name}: inline policy {inline.get('name') if isinstance(inline, dict) else ''}")
    policies = ctx.of_type(ROLE_POLICY)
    if not policies:
        problems.append("no role policy declared")
    for pol in policies:
        raw = pol.input("policy")
        if is_unknown(raw):
            problems.append(f"{pol.name}: policy unknown until apply, cannot be judged")
            continue
        try:
            doc = json.loads(raw)
        except (TypeError, ValueError):
            problems.append(f"{pol.name}: policy is not JSON")
            continue
        problems += [f"{pol.name}: {w}" for w in _wildcards(doc)]
        actions = sorted({a for st in statements(doc) for a in
                          (st.get("Action") if isinstance(st.get("Action"), list) else [st.get("Action")])})
        if any(not str(a).startswith("logs:") for a in actions):
            problems.append(f"{pol.name}: actions beyond writing logs: {', '.join(map(str, actions))}")
    if problems:
        return fail("; ".join(problems), "the Lambda needs only logs:CreateLogStream and logs:PutLogEvents on its "
                    "own log group; no wildcard actions or resources")
    return ok("Lambda role: logs:CreateLogStream, logs:PutLogEvents on its own log group only")


def _no_secret_env(ctx: Context) -> Finding:
    problems = []
    for fn in ctx.of_type(FUNCTION):
        env = fn.inputs.get("environment")
        variables = env.get("variables") if isinstance(env, dict) else None
        if is_secret(env) or is_secret(variables):
            problems.append(f"{fn.name}: environment holds a secret")
            continue
        if is_unknown(env) or is_unknown(variables):
            problems.append(f"{fn.name}: environment unknown until apply, cannot be judged")
            continue
        for name, value in (variables if isinstance(variables, dict) else {}).items():
            if is_secret(value) or _SECRET_NAME.search(name):
                problems.append(f"{fn.name}: {name}")
    if problems:
        return fail("; ".join(problems), "the Lambda validates tokens with public keys; it needs no secret")
    return ok("no secret in the Lambda's environment")


_SEC = "plaid.com/core-exchange/docs/security"
_RANGES = plaid.PLAID_IPV4_RANGES + plaid.PLAID_IPV6_RANGES
RULES: tuple[Rule, ...] = (
    Rule("API-WAF", "A WAF web ACL protects the API stage", _customers(_waf_attached), applies=_on_api, source=_SEC),
    Rule("API-WAF-DEFAULT-BLOCK", "The WAF blocks by default; only Plaid is allowed", _customers(_default_block),
         applies=_on_api, source=_SEC),
    Rule("API-PLAID-IPS", f"Every Plaid range is allowlisted ({', '.join(_RANGES)}, "
         f"{len(plaid.PLAID_LEGACY_IPV4)} legacy IPs)",
         _customers(_plaid_ranges), applies=_on_api, source=f"{_SEC}; implementation checklist"),
    Rule("API-EXTRA-RANGES", "Extra allowlisted ranges (besides Plaid's) are public and at most /16 or /48; listed "
         "here", _customers(_extra_ranges), applies=_on_api,
         source="plaid-ready-idp house rule (allowlist stays an allowlist)"),
    Rule("API-WAF-NO-TOKEN-SAMPLES", "The WAF does not sample Plaid's requests (samples keep Authorization)",
         _customers(_no_token_samples), applies=_on_api, source="AWS WAF docs: sampled requests; log redaction"),
    Rule("API-TLS12", "TLS 1.2+ on the custom domain", _customers(_tls), applies=lambda c: bool(c.of_type(DOMAIN)),
         source=_SEC),
    Rule("API-MTLS-PROD", "Mutual TLS in production", _customers(_mtls_prod),
         applies=lambda c: _on_api(c) and c.environment == "prod", source=_SEC),
    Rule("API-NO-BYPASS", "No default endpoint bypasses the custom domain", _customers(_no_bypass),
         applies=lambda c: bool(c.of_type(DOMAIN)), source="AWS API Gateway mTLS docs"),
    Rule("API-ERROR-ALARM", f"An alarm fires on an error rate above {plaid.ERROR_RATE_ALARM_PERCENT}%",
         _customers(_error_alarm), applies=_on_api, source="Plaid implementation checklist (monitoring)"),
    Rule("API-ALARM-SUBSCRIBER", "Someone is subscribed to the alarm topic", _customers(_alarm_subscriber),
         applies=_on_api, mandatory=False, source="Plaid implementation checklist (monitoring)"),
    Rule("API-TOKEN-CLIENT", "The Lambda accepts only tokens issued to Plaid's client", _customers(_token_client),
         applies=lambda c: bool(c.of_type(FUNCTION)), source="plaid-ready-idp house rule (token audience and client)"),
    Rule("API-LEAST-PRIVILEGE", "The Lambda's role writes its logs and nothing else", _least_privilege,
         applies=lambda c: bool(c.of_type(FUNCTION)), source="plaid-ready-idp house rule (AWS least privilege)"),
    Rule("API-NO-SECRET-ENV", "No secret in the Lambda's environment variables", _no_secret_env,
         applies=lambda c: bool(c.of_type(FUNCTION)), source="plaid-ready-idp house rule"),
)
