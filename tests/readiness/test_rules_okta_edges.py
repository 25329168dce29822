"""The Okta rows at their edges (found by `make mutation`): client ids once known (after apply), the Lambda's
client and consistency-key settings, the refresh leeway and lifetime limits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

import plaid_contract as plaid
from components.checklist import UNKNOWN
from components.idps.okta import rules as okta_rules
from readiness.checklist import Context, Status, all_rules, evaluate
from tests.harness import run_stack_program, settings_with

OKTA = settings_with(idp="okta", auth0=None, okta={"orgUrl": "https://first-platypus.okta.com"})
CID = "0123456789abcdef" * (2 * plaid.CLIENT_ID_BYTES // 16)  # the CSPRNG's hex, exactly 2 * CLIENT_ID_BYTES
OTHER = "fedcba9876543210" * (2 * plaid.CLIENT_ID_BYTES // 16)


@pytest.fixture(scope="module")
def declared():
    return run_stack_program(OKTA, compute=False).resources


def row(resources, rule: str):
    return next(x for x in evaluate(all_rules(), Context(resources, "dev")) if x.rule.id == rule).finding


def changed(resources, typ: str, change: Callable[[Any], None]):
    out = copy.deepcopy(resources)
    (target,) = [r for r in out if r.type == typ]
    change(target)
    return out


def with_client_id(resources, app: Any = CID, policy: Any = CID, lambda_: Any = CID):
    """The client id as it reads once known: on the app, in the policy's whitelist, in the Lambda."""
    out = changed(resources, okta_rules.APP, lambda r: r.inputs.update(clientId=app))
    out = changed(out, okta_rules.POLICY, lambda r: r.inputs.update(clientWhitelists=[policy]))
    return changed(out, okta_rules.FUNCTION,
                   lambda r: r.inputs["environment"]["variables"].update(TOKEN_CLIENT_ID=lambda_))


def lambda_env(resources, **variables: Any):
    def change(r):
        env = r.inputs["environment"]["variables"]
        for k, v in variables.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return changed(resources, okta_rules.FUNCTION, change)


# --- OKTA-CLIENT-ID -------------------------------------------------------------------------------------------


def test_a_known_csprng_client_id_passes_and_is_shown(declared):
    finding = row(with_client_id(declared), "OKTA-CLIENT-ID")
    assert finding.status is Status.PASS
    assert finding.declared == f"app fpb-plaid-app: clientId {CID}; protected True"


def test_a_client_id_known_only_after_apply_is_shown_as_such(declared):
    assert row(declared, "OKTA-CLIENT-ID").declared == (
        "app fpb-plaid-app: clientId (from the CSPRNG, known after apply); protected True")


@pytest.mark.parametrize("cid", [CID[:-1], CID.upper(), "plaid-" + CID, "g" * len(CID)])
def test_a_client_id_that_is_not_the_csprng_hex_fails(declared, cid):
    assert row(with_client_id(declared, app=cid, policy=cid, lambda_=cid), "OKTA-CLIENT-ID").status is Status.FAIL


def test_an_unset_client_id_fails_and_says_so(declared):
    finding = row(changed(declared, okta_rules.APP, lambda r: r.inputs.pop("clientId")), "OKTA-CLIENT-ID")
    assert finding.status is Status.FAIL
    assert finding.declared == "app fpb-plaid-app: clientId not set; protected True"


@pytest.mark.parametrize("size", [plaid.CLIENT_ID_BYTES - 1, None])
def test_a_random_id_shorter_than_the_contract_fails(declared, size):
    def change(r):
        if size is None:
            r.inputs.pop("byteLength")
        else:
            r.inputs["byteLength"] = size
    assert row(changed(declared, okta_rules.RANDOM_ID, change), "OKTA-CLIENT-ID").status is Status.FAIL


# --- OKTA-POLICY-CLIENT ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("whitelist", "status"), [
    ([CID], Status.PASS), ([OTHER], Status.FAIL), (["ALL_CLIENTS"], Status.FAIL), ([CID, OTHER], Status.FAIL),
    ([], Status.FAIL), (None, Status.FAIL),
])
def test_the_policy_applies_to_plaids_client_only(declared, whitelist, status):
    resources = changed(with_client_id(declared), okta_rules.POLICY,
                        lambda r: r.inputs.update(clientWhitelists=whitelist))
    assert row(resources, "OKTA-POLICY-CLIENT").status is status


# --- OKTA-TOKEN-CLIENT ----------------------------------------------------------------------------------------


def test_the_lambda_pins_plaids_client_in_cid(declared):
    unknown = row(declared, "OKTA-TOKEN-CLIENT")
    assert unknown.declared == "Lambda: TOKEN_CLIENT_CLAIM cid, TOKEN_CLIENT_ID (Plaid client id)"
    known = row(with_client_id(declared), "OKTA-TOKEN-CLIENT")
    assert known.status is Status.PASS and known.declared == f"Lambda: TOKEN_CLIENT_CLAIM cid, TOKEN_CLIENT_ID {CID}"


@pytest.mark.parametrize("variables", [{"TOKEN_CLIENT_CLAIM": "client_id"}, {"TOKEN_CLIENT_ID": ""},
                                       {"TOKEN_CLIENT_ID": None}, {"TOKEN_CLIENT_ID": OTHER}])
def test_the_lambda_pinning_another_client_or_none_fails(declared, variables):
    assert row(lambda_env(with_client_id(declared), **variables), "OKTA-TOKEN-CLIENT").status is Status.FAIL


def test_a_lambda_without_environment_fails_the_lambda_rows(declared):
    resources = changed(declared, okta_rules.FUNCTION, lambda r: r.inputs.pop("environment"))
    assert row(resources, "OKTA-TOKEN-CLIENT").status is Status.FAIL
    assert row(resources, "OKTA-CONSISTENCY-KEY").status is Status.FAIL


# --- OKTA-CONSISTENCY-KEY -------------------------------------------------------------------------------------


def _template(resources, template):
    return changed(resources, okta_rules.APP, lambda r: r.inputs.update(userNameTemplate=template))


def test_sub_is_the_key_by_default_and_passes_with_the_user_id_username(declared):
    resources = _template(lambda_env(declared, CONSISTENCY_KEY_CLAIM=None), okta_rules.USER_ID_TEMPLATE)
    finding = row(resources, "OKTA-CONSISTENCY-KEY")
    assert finding.status is Status.PASS
    assert finding.declared == "Lambda reads 'sub' as the consistency key; app username template ${source.id}: sub " \
                               "is the Okta user id"


@pytest.mark.parametrize("template", [None, "${source.login}"])
def test_sub_with_another_username_fails(declared, template):
    resources = _template(lambda_env(declared, CONSISTENCY_KEY_CLAIM=None), template)
    assert row(resources, "OKTA-CONSISTENCY-KEY").status is Status.FAIL


# --- the rest --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("leeway", "status"), [(0, Status.PASS), (60, Status.PASS), (61, Status.FAIL),
                                                (-1, Status.FAIL), ("30", Status.FAIL), (None, Status.FAIL)])
def test_refresh_leeway_is_an_explicit_0_to_60_seconds(declared, leeway, status):
    resources = changed(declared, okta_rules.APP, lambda r: r.inputs.update(refreshTokenLeeway=leeway))
    assert row(resources, "OKTA-RT-ROTATION").status is status


@pytest.mark.parametrize(("minutes", "status"), [
    (plaid.REFRESH_TOKEN_MIN_SECONDS // 60, Status.CLOSEST), (plaid.REFRESH_TOKEN_MIN_SECONDS // 60 - 1, Status.FAIL),
])
def test_a_limited_refresh_lifetime_of_13_months_is_enough(declared, minutes, status):
    resources = changed(declared, okta_rules.RULE, lambda r: r.inputs.update(refreshTokenLifetimeMinutes=minutes))
    assert row(resources, "OKTA-RT-LIFETIME").status is status


@pytest.mark.parametrize(("secret", "status"), [(UNKNOWN, Status.PASS), ("plain-text", Status.FAIL)])
def test_the_client_secret_must_be_a_pulumi_secret(declared, secret, status):
    resources = changed(declared, okta_rules.APP, lambda r: r.inputs.update(clientBasicSecret=secret))
    assert row(resources, "OKTA-CLIENT-AUTH").status is status


def test_the_audience_row_shows_the_server_and_the_lambda(declared):
    assert row(declared, "OKTA-AUDIENCE").declared == (
        "authorization server fpb-auth-server: audiences ['https://api.firstplatypus.example/fdx']; Lambda "
        "TOKEN_AUDIENCE https://api.firstplatypus.example/fdx")


def test_an_empty_client_id_in_the_lambda_fails_even_before_apply(declared):
    """The app's client id is still unknown here, so only the empty value itself can fail the row."""
    assert row(lambda_env(declared, TOKEN_CLIENT_ID=""), "OKTA-TOKEN-CLIENT").status is Status.FAIL


def test_the_lambda_rows_are_judged_without_an_okta_app(declared):
    without_app = [r for r in declared if r.type != okta_rules.APP]
    assert row(without_app, "OKTA-TOKEN-CLIENT").status is Status.PASS  # the Lambda's own settings
    assert row(without_app, "OKTA-CONSISTENCY-KEY").status is Status.PASS  # it reads uid
