"""The CrossGuard policy pack's policies: the readiness checklist, one stack policy per rule.

Importable and side-effect free; ``policy/__main__.py`` builds the pack (which starts a gRPC server and
blocks, so it must never be imported by tests). Run it with ``pulumi preview --policy-pack policy``.

Not here: the fleet rules (FLEET-*, readiness/fleet/rules.py), which compare stacks with each other; a stack
policy sees one stack. They run in ``plaid-ready plan --all`` (docs/fleet.md): gate deployments with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Policy, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from readiness.checklist import Context, Rule, Status, all_rules
from readiness.engine import DeclaredResource

ENVIRONMENT_TAG = "plaid-ready-idp:environment"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={"environment": {"type": "string", "enum": ["dev", "staging", "prod"]}})


def declared(resources: Sequence[Any]) -> list[DeclaredResource]:
    """PolicyResource (as the engine hands it to a policy) -> the shape the rules read."""
    out = []
    for r in resources:
        opts = getattr(r, "opts", None)
        parent = getattr(r, "parent", None)
        out.append(DeclaredResource(
            urn=r.urn, type=r.resource_type, name=r.name, parent_urn=parent.urn if parent is not None else "",
            custom=True, protect=bool(getattr(opts, "protect", False)), inputs=dict(r.props or {}),
            dependencies=[d.urn for d in (getattr(r, "dependencies", None) or [])]))
    return out


def environment_of(resources: Sequence[DeclaredResource], config: Mapping[str, Any] | None) -> str | None:
    """The policy config's ``environment``, else the environment tag the components put on AWS resources."""
    if config and config.get("environment"):
        return str(config["environment"])
    for r in resources:
        tags = r.input("tags")
        if isinstance(tags, dict) and tags.get(ENVIRONMENT_TAG):
            return str(tags[ENVIRONMENT_TAG])
    return None


def _validator(rule: Rule) -> Callable[[StackValidationArgs, Callable[..., None]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        resources = declared(args.resources)
        ctx = Context(resources, environment_of(resources, args.get_config() if hasattr(args, "get_config")
                                                 else getattr(args, "config", None)), secrets_marked=False)
        if not rule.applies(ctx):
            return
        finding = rule.evaluate(ctx)
        if finding.status is Status.FAIL:
            report_violation(f"{rule.id}: {finding.declared}. {finding.reason}", None)

    return validate


def policies(rules: Sequence[Rule] | None = None) -> list[Policy]:
    return [
        StackValidationPolicy(
            name=f"plaid-{rule.id.lower()}",
            description=rule.requirement,
            validate=_validator(rule),
            enforcement_level=EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY,
            config_schema=CONFIG_SCHEMA,
        )
        for rule in (all_rules() if rules is None else rules)
    ]
