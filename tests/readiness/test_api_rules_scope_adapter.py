"""The customers-API rows judge the customers API only: the Cognito scope adapter's own WAF (no allowlist, by
design) neither fails them nor stands in for the customers API's WAF."""

from __future__ import annotations

import pytest

from components.idps.cognito.rules import in_scope_adapter
from readiness.checklist import Context, all_rules, evaluate
from readiness.rules.api import WEB_ACL
from tests.idps.cognito.test_rules import cognito_settings, declared

CUSTOMERS_ROWS = ("API-WAF", "API-WAF-DEFAULT-BLOCK", "API-PLAID-IPS", "API-WAF-NO-TOKEN-SAMPLES", "API-TOKEN-CLIENT")


@pytest.fixture(scope="module")
def resources():
    return declared(cognito_settings())


def _status(resources, rule_id: str) -> str:
    results = evaluate(all_rules(), Context(resources, "dev"))
    return next(x.finding.status.value for x in results if x.rule.id == rule_id)


def test_a_cognito_stack_declares_two_web_acls_and_the_customers_rows_pass(resources):
    acls = [r for r in resources if r.type == WEB_ACL]
    assert sorted(in_scope_adapter(a) for a in acls) == [False, True]
    assert [_status(resources, i) for i in CUSTOMERS_ROWS] == ["pass"] * len(CUSTOMERS_ROWS)


def test_the_adapter_waf_does_not_stand_in_for_the_customers_waf(resources):
    without_customers_acl = [r for r in resources if not (r.type == WEB_ACL and not in_scope_adapter(r))]
    assert _status(without_customers_acl, "API-WAF") == "fail"
    assert _status(without_customers_acl, "API-WAF-DEFAULT-BLOCK") == "fail"
