"""The fleet rules (readiness/fleet/rules.py): a clean fleet passes every rule; each rule catches its planted
collision, and only its own (the planted stacks collide in that one way)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from readiness.fleet.facts import StackFacts
from readiness.fleet.rules import RULES, evaluate_fleet


def facts(k: int, env: str = "dev", **changes: object) -> StackFacts:
    """Institution ``k``'s stack in ``env``, with the names the program derives from code and environment."""
    code = f"i{k:04d}"
    p = f"{code}-{env}"
    base = StackFacts(
        stack=p, idp=("auth0", "okta", "cognito")[k % 3], environment=env, institution_code=code,
        institution_name=f"Institution {k:04d}", account="111122223333", region="us-east-1",
        tenant=f"auth0:{p}.us.auth0.com", oauth2=False, consistency_prefix="",
        hostnames=(f"fdx.{code}.example",) if env == "prod" else (),
        api_names=(f"{p}-core-exchange",), function_names=(f"{p}-customers-current",),
        secret_names=(f"plaid-ready-idp/{p}/plaid-client",), kms_aliases=(f"alias/plaid-ready-idp/{p}/plaid-client",),
        client_names=(f"Plaid (Institution {k:04d})",))
    return replace(base, **changes)  # type: ignore[arg-type]


CLEAN = [facts(k, env) for k in range(6) for env in ("dev", "prod")]


def failing(fleet: list[StackFacts]) -> dict[str, list[tuple[str, ...]]]:
    return {rule: [c.stacks for c in found] for rule, found in evaluate_fleet(fleet).items() if found}


def test_a_clean_fleet_passes_every_rule() -> None:
    assert failing(CLEAN) == {}
    assert len(RULES) == len({r.id for r in RULES}) == 9


def test_institution_code_twice_in_one_environment() -> None:
    twin = facts(0, "dev", stack="twin-dev", tenant="auth0:twin.us.auth0.com", api_names=("a",),
                 function_names=("f",), secret_names=("s",), kms_aliases=("k",))
    assert failing([*CLEAN, twin]) == {"FLEET-INSTITUTION-CODE": [("i0000-dev", "twin-dev")]}


def test_institution_code_naming_two_institutions() -> None:
    other = replace(CLEAN[3], institution_name="Someone Else Bank")  # i0001-prod
    found = evaluate_fleet([*CLEAN[:3], other, *CLEAN[4:]])["FLEET-INSTITUTION-CODE"]
    assert [c.stacks for c in found] == [("i0001-dev", "i0001-prod")]
    assert "names 2 institutions" in found[0].detail


def test_custom_domain_claimed_twice() -> None:
    fleet = [*CLEAN, facts(9, "prod", hostnames=("fdx.i0002.example",))]
    assert failing(fleet) == {"FLEET-CUSTOM-DOMAIN": [("i0002-prod", "i0009-prod")]}


@pytest.mark.parametrize(("rule", "field"), [("FLEET-API-NAME", "api_names"),
                                             ("FLEET-FUNCTION-NAME", "function_names"),
                                             ("FLEET-SECRET-NAME", "secret_names"),
                                             ("FLEET-KMS-ALIAS", "kms_aliases")])
def test_a_name_shared_in_one_account_and_region(rule: str, field: str) -> None:
    planted = replace(facts(9), **{field: getattr(CLEAN[0], field)})
    assert failing([*CLEAN, planted]) == {rule: [("i0000-dev", "i0009-dev")]}
    # Another region, or another (known) account: no collision.
    assert failing([*CLEAN, replace(planted, region="us-west-2")]) == {}
    assert failing([*CLEAN, replace(planted, account="444455556666")]) == {}
    # An unknown account could be the same one: reported.
    assert failing([*CLEAN, replace(planted, account="")]) == {rule: [("i0000-dev", "i0009-dev")]}


def test_plaid_client_twice_on_one_tenant() -> None:
    planted = replace(CLEAN[1], tenant=CLEAN[0].tenant)  # i0000 prod on its dev tenant, same client name
    assert failing([CLEAN[0], planted, *CLEAN[2:]]) == {"FLEET-PLAID-CLIENT": [("i0000-dev", "i0000-prod")]}
    # A stack that creates its own tenant (Cognito's new pool) shares nothing.
    assert failing([replace(CLEAN[0], tenant=None), replace(planted, tenant=None), *CLEAN[2:]]) == {}


def test_consistency_namespace_shared_by_two_institutions() -> None:
    shared = "okta:shared.okta.com"
    a = replace(CLEAN[0], tenant=shared, oauth2=True, consistency_prefix="cu-")
    b = replace(CLEAN[2], tenant=shared, oauth2=True, consistency_prefix="cu-")
    found = failing([a, CLEAN[1], b, *CLEAN[3:]])
    assert found == {"FLEET-CONSISTENCY-NAMESPACE": [("i0000-dev", "i0001-dev")]}


@pytest.mark.parametrize(("a_changes", "b_changes", "expected"), [
    ({"oauth2": False, "consistency_prefix": "i0000-"}, {"oauth2": True, "consistency_prefix": "i0001-"},
     [("i0000-dev",)]),                                            # OIDC: the id_token sub cannot be prefixed
    ({"oauth2": True, "consistency_prefix": ""}, {"oauth2": True, "consistency_prefix": "i0001-"},
     [("i0000-dev",)]),                                            # no prefix
    ({"oauth2": True, "consistency_prefix": "i0"}, {"oauth2": True, "consistency_prefix": "i0001-"},
     [("i0000-dev", "i0001-dev")]),                                # one prefix starts with the other
])
def test_shared_tenant_sub(a_changes: dict, b_changes: dict, expected: list[tuple[str, ...]]) -> None:
    shared = "okta:shared.okta.com"
    a = replace(CLEAN[0], tenant=shared, **a_changes)
    b = replace(CLEAN[2], tenant=shared, **b_changes)
    assert failing([a, CLEAN[1], b, *CLEAN[3:]]) == {"FLEET-SHARED-TENANT-SUB": expected}


def test_shared_tenant_done_right_passes() -> None:
    shared = "okta:shared.okta.com"
    a = replace(CLEAN[0], tenant=shared, oauth2=True, consistency_prefix="i0000-")
    b = replace(CLEAN[2], tenant=shared, oauth2=True, consistency_prefix="i0001-")
    assert failing([a, CLEAN[1], b, *CLEAN[3:]]) == {}
