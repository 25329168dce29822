"""The fleet rules: what no single stack's plan can see, checked across every stack planned together
(``plaid-ready plan --all``; docs/fleet.md). One function per rule; each returns the collisions it finds.

Scope: names AWS keeps unique per account and region (API, function, secret names and KMS aliases) collide only
between stacks in the same account and region. A stack's account is ``aws:allowedAccountIds`` (first), else the
account of its first ``clientSecret.administrators`` role; a stack without either is treated as possibly in any
account (a collision is reported rather than missed). DNS names and IdP tenants are global.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from readiness.fleet.facts import UNKNOWN_ACCOUNT, StackFacts


@dataclass(frozen=True)
class Collision:
    """One failing case of a fleet rule: the stacks involved and what they share (never a secret)."""

    rule: str
    stacks: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class FleetRule:
    id: str
    requirement: str
    check: Callable[[Sequence[StackFacts]], list[Collision]]


def _names(stacks: Iterable[str]) -> str:
    return ", ".join(sorted(stacks))


def _same_place_groups(members: list[StackFacts]) -> list[list[StackFacts]]:
    """Stacks (already sharing a value) that are in the same region and account; an unknown account joins every
    account's group (it could be any of them)."""
    out: list[list[StackFacts]] = []
    by_region: dict[str, list[StackFacts]] = defaultdict(list)
    for f in members:
        by_region[f.region].append(f)
    for group in by_region.values():
        unknown = [f for f in group if f.account == UNKNOWN_ACCOUNT]
        accounts = sorted({f.account for f in group if f.account != UNKNOWN_ACCOUNT})
        for account in accounts or [UNKNOWN_ACCOUNT]:
            part = [f for f in group if f.account == account] + ([] if account == UNKNOWN_ACCOUNT else unknown)
            if len({f.stack for f in part}) > 1:
                out.append(part)
    return out


def _shared_in_account(rule: str, what: str, facts: Sequence[StackFacts],
                       values: Callable[[StackFacts], Iterable[str]]) -> list[Collision]:
    by_value: dict[str, list[StackFacts]] = defaultdict(list)
    for f in facts:
        for value in dict.fromkeys(values(f)):
            by_value[value].append(f)
    out = []
    for value in sorted(by_value):
        for part in _same_place_groups(by_value[value]):
            accounts = sorted({f.account or "(unknown account)" for f in part})
            out.append(Collision(rule, tuple(sorted({f.stack for f in part})),
                                 f"{what} '{value}' in account {'/'.join(accounts)} region {part[0].region}: "
                                 f"stacks {_names(f.stack for f in part)} would fight over one resource; give each "
                                 "stack its own institution code or environment (names derive from them), or move "
                                 "one to another account or region"))
    return out


# -- the rules -----------------------------------------------------------------------------------------------------


def institution_codes(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-INSTITUTION-CODE: one code names one institution, and one environment has one stack per code."""
    out = []
    by_code: dict[str, list[StackFacts]] = defaultdict(list)
    for f in facts:
        by_code[f.institution_code].append(f)
    for code in sorted(by_code):
        group = by_code[code]
        names = sorted({f.institution_name for f in group})
        if len(names) > 1:
            out.append(Collision("FLEET-INSTITUTION-CODE", tuple(sorted(f.stack for f in group)),
                                 f"institution code '{code}' names {len(names)} institutions ({'; '.join(names)}) in "
                                 f"stacks {_names(f.stack for f in group)}: give each institution its own code"))
        by_env: dict[str, list[str]] = defaultdict(list)
        for f in group:
            by_env[f.environment].append(f.stack)
        for env in sorted(by_env):
            if len(by_env[env]) > 1:
                out.append(Collision("FLEET-INSTITUTION-CODE", tuple(sorted(by_env[env])),
                                     f"institution code '{code}' has {len(by_env[env])} {env} stacks "
                                     f"({_names(by_env[env])}): resource names, tags and secret paths derive from "
                                     "code and environment; keep one stack per institution and environment"))
    return out


def custom_domains(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-CUSTOM-DOMAIN: no DNS name (API custom domain, IdP custom or hosted domain) is claimed twice."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for f in facts:
        for host in f.hostnames:
            by_host[host].append(f.stack)
    return [Collision("FLEET-CUSTOM-DOMAIN", tuple(sorted(set(stacks))),
                      f"domain '{host}' is claimed by stacks {_names(set(stacks))}: a DNS name points at one "
                      "endpoint; give each institution and environment its own")
            for host, stacks in sorted(by_host.items()) if len(set(stacks)) > 1]


def api_names(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-API-NAME: API Gateway REST API names are unique in an account and region."""
    return _shared_in_account("FLEET-API-NAME", "API name", facts, lambda f: f.api_names)


def function_names(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-FUNCTION-NAME: Lambda function names are unique in an account and region."""
    return _shared_in_account("FLEET-FUNCTION-NAME", "function name", facts, lambda f: f.function_names)


def secret_names(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-SECRET-NAME: Secrets Manager secret names (Plaid's client credentials) are unique in an account and
    region."""
    return _shared_in_account("FLEET-SECRET-NAME", "secret name", facts, lambda f: f.secret_names)


def kms_aliases(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-KMS-ALIAS: KMS aliases are unique in an account and region."""
    return _shared_in_account("FLEET-KMS-ALIAS", "KMS alias", facts, lambda f: f.kms_aliases)


def plaid_clients(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-PLAID-CLIENT: on one IdP tenant, each stack has its own Plaid client (by the name the IdP shows)."""
    by_client: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in facts:
        if f.tenant is not None:
            for name in f.client_names:
                by_client[(f.tenant, name)].append(f.stack)
    return [Collision("FLEET-PLAID-CLIENT", tuple(sorted(set(stacks))),
                      f"client '{name}' on tenant {tenant} is declared by stacks {_names(set(stacks))}: each stack "
                      "must have its own Plaid client (its own id and secret), named apart from the others: give "
                      "dev and prod their own tenants (the client is named after the institution), and each "
                      "institution its own name")
            for (tenant, name), stacks in sorted(by_client.items()) if len(set(stacks)) > 1]


def _namespace(f: StackFacts) -> str:
    return f"prefix '{f.consistency_prefix}'" if f.consistency_prefix else "no prefix"


def consistency_namespaces(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-CONSISTENCY-NAMESPACE: two institutions never share a consistency-key namespace (IdP tenant and
    ``consistencyKey.prefix``): one user id would mean one customer at both."""
    by_ns: dict[tuple[str, str], list[StackFacts]] = defaultdict(list)
    for f in facts:
        if f.tenant is not None:
            by_ns[(f.tenant, f.consistency_prefix)].append(f)
    out = []
    for (tenant, _), group in sorted(by_ns.items()):
        codes = sorted({f.institution_code for f in group})
        if len(codes) > 1:
            out.append(Collision("FLEET-CONSISTENCY-NAMESPACE", tuple(sorted(f.stack for f in group)),
                                 f"institutions {', '.join(codes)} share tenant {tenant} with {_namespace(group[0])} "
                                 f"(stacks {_names(f.stack for f in group)}): set a distinct consistencyKey.prefix "
                                 "per institution, e.g. '<code>-'"))
    return out


def shared_tenant_subs(facts: Sequence[StackFacts]) -> list[Collision]:
    """FLEET-SHARED-TENANT-SUB: institutions sharing an IdP tenant expose keys unique across them. How: each uses
    plain OAuth 2.0 (Plaid reads the key from /customers/current, which prepends ``consistencyKey.prefix``; an
    id_token ``sub`` cannot be prefixed) with a non-empty prefix that no other institution's prefix starts with."""
    by_tenant: dict[str, list[StackFacts]] = defaultdict(list)
    for f in facts:
        if f.tenant is not None:
            by_tenant[f.tenant].append(f)
    out = []
    for tenant, group in sorted(by_tenant.items()):
        if len({f.institution_code for f in group}) < 2:
            continue
        for f in sorted(group, key=lambda f: f.stack):
            if not f.oauth2:
                out.append(Collision("FLEET-SHARED-TENANT-SUB", (f.stack,),
                                     f"stack {f.stack} shares tenant {tenant} with other institutions and uses OIDC: "
                                     "Plaid reads the id_token sub, the same user id at every institution of the "
                                     "tenant; remove openid from scopes (plain OAuth 2.0, the key then comes from "
                                     "/customers/current with its prefix) or give the institution its own tenant"))
            elif not f.consistency_prefix:
                out.append(Collision("FLEET-SHARED-TENANT-SUB", (f.stack,),
                                     f"stack {f.stack} shares tenant {tenant} with other institutions and sets no "
                                     "consistencyKey.prefix: set one unique to the institution, e.g. "
                                     f"'{f.institution_code}-'"))
        prefixed = sorted((f for f in group if f.consistency_prefix), key=lambda f: f.stack)
        for i, a in enumerate(prefixed):
            for b in prefixed[i + 1:]:
                if a.institution_code != b.institution_code and a.consistency_prefix != b.consistency_prefix and (
                        a.consistency_prefix.startswith(b.consistency_prefix)
                        or b.consistency_prefix.startswith(a.consistency_prefix)):
                    out.append(Collision("FLEET-SHARED-TENANT-SUB", (a.stack, b.stack),
                                         f"stacks {a.stack} and {b.stack} share tenant {tenant} and one's "
                                         f"consistencyKey.prefix starts with the other's ('{a.consistency_prefix}', "
                                         f"'{b.consistency_prefix}'): one prefixed key could be read as the other "
                                         "institution's; end each prefix with a separator, e.g. '<code>-'"))
    return out


RULES: tuple[FleetRule, ...] = (
    FleetRule("FLEET-INSTITUTION-CODE", "One institution code per institution, one stack per code and environment",
              institution_codes),
    FleetRule("FLEET-CUSTOM-DOMAIN", "No two stacks claim one DNS name (API or IdP custom domain, hosted domain)",
              custom_domains),
    FleetRule("FLEET-API-NAME", "No two stacks share an API name in one account and region", api_names),
    FleetRule("FLEET-FUNCTION-NAME", "No two stacks share a Lambda function name in one account and region",
              function_names),
    FleetRule("FLEET-SECRET-NAME", "No two stacks share a secret name in one account and region", secret_names),
    FleetRule("FLEET-KMS-ALIAS", "No two stacks share a KMS alias in one account and region", kms_aliases),
    FleetRule("FLEET-PLAID-CLIENT", "Each stack has its own Plaid client on a shared IdP tenant", plaid_clients),
    FleetRule("FLEET-CONSISTENCY-NAMESPACE", "No two institutions share a consistency-key namespace (tenant, prefix)",
              consistency_namespaces),
    FleetRule("FLEET-SHARED-TENANT-SUB", "Institutions on one IdP tenant expose keys unique across them (plain "
              "OAuth 2.0, distinct non-nesting consistencyKey.prefix)", shared_tenant_subs),
)


def evaluate_fleet(facts: Sequence[StackFacts]) -> dict[str, list[Collision]]:
    """Every fleet rule's collisions, by rule id (in :data:`RULES` order; an empty list passes)."""
    return {rule.id: rule.check(facts) for rule in RULES}
