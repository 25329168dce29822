"""Readiness rules for the scheduled readiness probe (components/probe.py, docs/probe.md).

They apply wherever the customers API is declared. ``PROBE-DECLARED`` fails a prod stack without the probe
(``probe.enabled: false``); elsewhere it says the probe is off and what replaces it. The other rows judge the probe
when it is declared: its schedule, its alarm on the stack's topic, and its two roles' least privilege.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from components.checklist import Context, Finding, Resource, Rule, fail, is_unknown, ok
from lambdas.readiness_probe import names
from readiness.rules.api import ALARM, FUNCTION, PROBE, REST_API, ROLE, ROLE_POLICY, _topics_of, _wildcards

SCHEDULE: Final = "aws:scheduler/schedule:Schedule"
PARAMETER: Final = "aws:ssm/parameter:Parameter"
_RATE: Final = re.compile(r"rate\((\d+) minutes?\)")
_SOURCE: Final = "Plaid implementation checklist (monitor the authorize, token, userinfo and jwks_uri endpoints)"


def _probe(ctx: Context) -> list[Resource]:
    return ctx.within(PROBE)


def _of(resources: list[Resource], typ: str) -> list[Resource]:
    return [r for r in resources if r.type == typ]


def _on_api(ctx: Context) -> bool:
    return bool(ctx.of_type(REST_API) or ctx.of_type(FUNCTION))


def _declared(ctx: Context) -> Finding:
    inside = _probe(ctx)
    if _of(inside, FUNCTION) and _of(inside, SCHEDULE):
        fn = _of(inside, FUNCTION)[0]
        return ok(f"{fn.name}: {fn.input('name')} (docs/probe.md)")
    if ctx.environment == "prod":
        return fail("no readiness probe (probe.enabled is false)",
                    "in prod a scheduled probe tells you before Plaid's users do that discovery, the JWKS, the WAF "
                    "allowlist or a certificate broke: remove probe.enabled: false")
    return ok("not declared: probe.enabled is false (the default outside prod); run `plaid-ready check` by hand "
              "(docs/check.md) or set probe.enabled: true")


def _schedule(ctx: Context) -> Finding:
    inside = _probe(ctx)
    schedules, fns = _of(inside, SCHEDULE), _of(inside, FUNCTION)
    if len(schedules) != 1 or len(fns) != 1:
        return fail(f"{len(schedules)} schedules, {len(fns)} functions in the probe", "declare PlaidReadinessProbe")
    sched, fn = schedules[0], fns[0]
    problems = []
    match = _RATE.fullmatch(str(sched.input("scheduleExpression") or ""))
    if match is None or not 5 <= int(match.group(1)) <= 60:
        problems.append(f"schedule {sched.input('scheduleExpression')!r} is not rate(5-60 minutes)")
    if sched.input("state") not in (None, "ENABLED"):
        problems.append(f"schedule state {sched.input('state')}")
    target = str(sched.input("target", "arn") or "")
    if not (fn.urn in (sched.dependencies or []) or target.endswith(f":function:{fn.input('name')}")):
        problems.append(f"the schedule's target is not {fn.name}")
    if problems:
        return fail("; ".join(problems), "the probe must run every 5-60 minutes (probe.intervalMinutes)")
    return ok(f"{sched.input('name')}: {sched.input('scheduleExpression')}, invokes {fn.input('name')}")


def _alarm(ctx: Context) -> Finding:
    inside = _probe(ctx)
    alarms = [a for a in _of(inside, ALARM) if a.input("metricName") == names.METRIC_CHECKS_FAILED
              and a.input("namespace") == names.METRICS_NAMESPACE
              and (a.input("dimensions") or {}).get("service") == names.SERVICE]
    if not alarms:
        return fail("no alarm on the probe's ChecksFailed metric", "declare PlaidReadinessProbe's alarm")
    alarm = alarms[0]
    topics, _ = _topics_of(ctx, alarm)
    if not topics:
        return fail(f"{alarm.name} notifies no declared topic", "send it to the stack's alarm topic")
    if alarm.input("comparisonOperator") != "GreaterThanThreshold" or alarm.input("threshold") not in (0, 0.0):
        return fail(f"{alarm.name}: not 'ChecksFailed > 0'", "any failed check must alarm")
    if alarm.input("treatMissingData") != "breaching":
        return fail(f"{alarm.name}: missing data is {alarm.input('treatMissingData')}",
                    "a probe that stopped running must alarm too (treat missing data as breaching)")
    return ok(f"{alarm.name}: any failed check (or no run in {alarm.input('period')} s) notifies "
              f"{', '.join(t.name for t in topics)}")


def _statements(resource: Resource) -> list[dict[str, Any]] | None:
    raw = resource.input("policy")
    if raw is None or is_unknown(raw):
        return None
    try:
        doc = json.loads(raw)
    except (TypeError, ValueError):
        return None
    found = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _actions(statement: dict[str, Any]) -> set[str]:
    value = statement.get("Action")
    return {str(a) for a in (value if isinstance(value, list) else [value])}


def _least_privilege(ctx: Context) -> Finding:
    inside = _probe(ctx)
    problems: list[str] = []
    for role in _of(inside, ROLE):
        if role.input("managedPolicyArns") or role.input("inlinePolicies"):
            problems.append(f"{role.name}: managed or inline policies attached")
    parameters = [p.input("name") for p in _of(inside, PARAMETER)]
    functions = [str(f.input("name")) for f in _of(inside, FUNCTION)]
    own_versions = [re.compile(rf"^Resource arn:[a-z-]+:lambda:[a-z0-9-]+:(\d{{12}}|\(account\)):function:"
                               rf"{re.escape(f)}:\*$") for f in functions]
    allowed = {"logs:CreateLogStream", "logs:PutLogEvents", "ssm:GetParameter", "ssm:PutParameter",
               "lambda:InvokeFunction"}
    for policy in _of(inside, ROLE_POLICY):
        statements = _statements(policy)
        if statements is None:
            problems.append(f"{policy.name}: policy unknown until apply or not JSON, cannot be judged")
            continue
        problems += [f"{policy.name}: {w}" for w in _wildcards({"Statement": statements})
                     if not any(v.match(w) for v in own_versions)]
        for st in statements:
            extra = _actions(st) - allowed
            if extra:
                problems.append(f"{policy.name}: {', '.join(sorted(extra))}")
            resources = st.get("Resource")
            resources = resources if isinstance(resources, list) else [resources]
            if _actions(st) & {"ssm:GetParameter", "ssm:PutParameter"} and not all(
                    isinstance(r, str) and any(r.endswith(f":parameter{p}") for p in parameters) for r in resources):
                problems.append(f"{policy.name}: SSM access beyond the probe's parameter")
            if "lambda:InvokeFunction" in _actions(st) and not all(
                    isinstance(r, str) and any(r.endswith((f":function:{f}", f":function:{f}:*")) for f in functions)
                    for r in resources):
                problems.append(f"{policy.name}: invokes more than the probe")
    if problems:
        return fail("; ".join(problems), "the probe writes its logs and its one parameter; its schedule's role "
                    "invokes the probe and nothing else")
    return ok("probe role: its logs and ssm:GetParameter/PutParameter on its parameter; schedule role: "
              "lambda:InvokeFunction on the probe")


def _probe_declared(ctx: Context) -> bool:
    return bool(_of(_probe(ctx), FUNCTION))


RULES: Final[tuple[Rule, ...]] = (
    Rule("PROBE-DECLARED", "A scheduled readiness probe runs the checks that need no user (on by default in prod)",
         _declared, applies=_on_api, source=_SOURCE),
    Rule("PROBE-SCHEDULE", "The probe runs every 5-60 minutes", _schedule, applies=_probe_declared, source=_SOURCE),
    Rule("PROBE-ALARM", "Any failed probe check (or a probe that stopped) alarms to the stack's topic", _alarm,
         applies=_probe_declared, source=_SOURCE),
    Rule("PROBE-LEAST-PRIVILEGE", "The probe's roles: its logs and its parameter; the schedule may only invoke it",
         _least_privilege, applies=_probe_declared, source="plaid-ready-idp house rule (AWS least privilege)"),
)
