"""The policy pack runs the same checklist as the plan, over what the engine hands a stack policy."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)

from components.client_secret import ClientSecretArgs, PlaidClientSecret
from components.settings import Environment
from policy.policies import declared, environment_of, policies
from readiness.checklist import all_rules
from readiness.engine import unwrap
from tests.harness import declare


def _plain(value):
    value = unwrap(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def as_policy_resources(resources):
    """What CrossGuard hands a stack policy: plain props (secrets unwrapped), options with protect, and each
    resource's dependencies (as PolicyResources)."""
    out = []
    for r in resources:
        if not r.custom:
            continue
        opts = PolicyResourceOptions(protect=r.protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                                     custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                     additional_secret_outputs=r.secret_outputs, parent=None)
        out.append(PolicyResource(resource_type=r.type, props=_plain(r.inputs), urn=r.urn, name=r.name, opts=opts,
                                  provider=None, parent=None, dependencies=[], property_dependencies={}))
    by_urn = {p.urn: p for p in out}
    for p, r in zip(out, [r for r in resources if r.custom], strict=True):
        p.dependencies = [by_urn[u] for u in r.dependencies if u in by_urn]
    return out


def violations(resources, config=None):
    found = []
    args = StackValidationArgs(resources=as_policy_resources(resources), config=config or {})
    for policy in policies():
        policy.validate(args, lambda message, urn=None, _n=policy.name: found.append((_n, message)))
    return found


def secret_stack(environment: Environment):
    return declare(lambda: PlaidClientSecret("plaid-client", ClientSecretArgs(
        client_id="cid", name_prefix=f"fpb-{environment.value}", environment=environment,
        tags={"plaid-ready-idp:environment": environment.value},
        administrators=("arn:aws:iam::111122223333:role/plaid-ready-deployer",))))


def test_one_policy_per_rule_with_matching_enforcement():
    pols = policies()
    rules = all_rules()
    assert [p.name for p in pols] == [f"plaid-{r.id.lower()}" for r in rules]
    for p, r in zip(pols, rules, strict=True):
        assert p.enforcement_level == (EnforcementLevel.MANDATORY if r.mandatory else EnforcementLevel.ADVISORY)


def test_compliant_prod_secret_has_no_violation():
    d = secret_stack(Environment.PROD)
    mine = [v for v in violations(d.resources) if v[0].startswith(("plaid-secret-", "plaid-prod-"))]
    assert mine == []


def test_unprotected_resources_violate_in_prod_from_tags_or_config():
    d = secret_stack(Environment.DEV)  # dev-built resources judged as prod
    pres = declared(as_policy_resources(d.resources))
    assert environment_of(pres, None) == "dev"
    found = dict(violations(d.resources, {"environment": "prod"}))
    assert found["plaid-prod-protect"] == (
        "PROD-PROTECT: unprotected: plaid-client, plaid-client-key. prod stacks must protect stateful resources "
        "(ResourceOptions(protect=True))")
    assert "plaid-prod-protect" not in dict(violations(d.resources))  # tags say dev: prod rules do not apply


def test_missing_cmk_is_a_violation():
    d = secret_stack(Environment.DEV)
    kept = [r for r in d.resources if r.type != "aws:kms/key:Key"]
    found = dict(violations(kept))
    assert found["plaid-secret-store"].startswith("SECRET-STORE: no customer-managed KMS key declared")


def test_secret_policy_is_judged_from_plain_policy_props():
    # CrossGuard hands plain props: the policy documents are JSON text, the links are the dependencies.
    d = secret_stack(Environment.DEV)
    assert "plaid-secret-policy" not in dict(violations(d.resources))
    found = dict(violations([r for r in d.resources if r.type != "aws:secretsmanager/secretPolicy:SecretPolicy"]))
    assert found["plaid-secret-policy"].startswith("SECRET-POLICY: plaid-client: no resource policy")
