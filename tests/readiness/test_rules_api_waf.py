"""The customers-API WAF rows at their edges (found by `make mutation`): how the web ACL is tied to the stage,
entries that are not CIDRs, rules that do not allow, and a Lambda environment that is not a map."""

from __future__ import annotations

import copy

import pytest
from pulumi.runtime import rpc

import plaid_contract as plaid
from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.rules import api as api_rules
from tests.harness import run_stack_program, settings_with


@pytest.fixture(scope="module")
def declared():
    return run_stack_program(settings_with(), compute=False).resources


def row(resources, rule: str):
    (only,) = [r for r in all_rules() if r.id == rule]
    return evaluate((only,), Context(resources, "dev"))[0].finding


def each(resources, typ: str, change):
    out = copy.deepcopy(resources)
    for r in out:
        if r.type == typ:
            change(r)
    return out


def _unlinked(r, arn: str | None) -> None:
    r.dependencies = []
    r.inputs["resourceArn"] = arn


def test_the_example_attaches_the_web_acl_to_the_stage(declared):
    assert row(declared, "API-WAF").status is Status.PASS


@pytest.mark.parametrize(("arn", "status"), [
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/v1", Status.PASS),
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3", Status.FAIL),
    ("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/x/1", Status.FAIL),
    (None, Status.FAIL),
])
def test_an_association_counts_when_it_depends_on_the_stage_or_names_a_stage_arn(declared, arn, status):
    finding = row(each(declared, api_rules.ASSOCIATION, lambda r: _unlinked(r, arn)), "API-WAF")
    assert finding.status is status


def test_an_entry_that_is_not_a_cidr_does_not_hide_the_plaid_ranges_after_it(declared):
    def prepend(r):
        r.inputs["addresses"] = ["not-a-cidr", *r.inputs["addresses"]]

    changed = each(declared, api_rules.IP_SET, prepend)
    assert row(changed, "API-PLAID-IPS").status is Status.PASS
    assert row(changed, "API-EXTRA-RANGES").status is Status.FAIL  # and it is reported there


def test_a_web_acl_whose_rules_do_not_allow_fails_the_plaid_ranges_row(declared):
    def no_allow(r):
        r.inputs["rules"] = [{**rule, "action": {"block": {}}} if isinstance(rule, dict) else rule
                             for rule in r.inputs.get("rules") or []]

    finding = row(each(declared, api_rules.WEB_ACL, no_allow), "API-PLAID-IPS")
    assert finding.status is Status.FAIL and finding.declared.endswith("CIDRs in IP sets, but no rule allows them")


def test_a_rule_entry_that_is_not_a_map_is_ignored(declared):
    def add_unknown(r):
        r.inputs["rules"] = [rpc.UNKNOWN, *(r.inputs.get("rules") or [])]

    assert row(each(declared, api_rules.WEB_ACL, add_unknown), "API-PLAID-IPS").status is Status.PASS


@pytest.mark.parametrize("cidr", ["203.0.113.5/24", "2001:db8::1/48"])
def test_an_extra_range_with_host_bits_set_is_not_a_cidr(declared, cidr):
    def add(r):
        r.inputs["addresses"] = [*r.inputs["addresses"], cidr]

    finding = row(each(declared, api_rules.IP_SET, add), "API-EXTRA-RANGES")
    assert finding.status is Status.FAIL and "an entry is not a CIDR" in finding.declared


def test_plaid_ranges_are_not_counted_as_extra(declared):
    assert row(declared, "API-EXTRA-RANGES").declared == "none: only Plaid's ranges are allowlisted"
    assert len(plaid.PLAID_LEGACY_IPV4) > 0


def test_a_lambda_environment_that_is_not_a_map_fails_the_token_client_row(declared):
    """(API-NO-SECRET-ENV raises AttributeError on the same input: reported, not fixed here.)"""
    def unknown_env(r):
        if not api_rules.in_scope_adapter(r):
            r.inputs["environment"] = {"variables": rpc.UNKNOWN}

    finding = row(each(declared, api_rules.FUNCTION, unknown_env), "API-TOKEN-CLIENT")
    assert finding.status is Status.FAIL
