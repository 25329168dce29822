"""The Auth0 rows of the readiness table, over the real program's declarations."""

from __future__ import annotations

from dataclasses import replace

import pytest

import plaid_contract as plaid
from components.checklist import UNKNOWN
from components.idps.auth0 import rules as auth0_rules
from components.settings import PROJECT, SettingsError, parse_settings
from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.plan import build_report
from tests.harness import ROOT, config_of, run_stack_program, settings_with

AUTH0_IDS = {"AUTH0-AT-LIFETIME", "AUTH0-JWT-AT", "AUTH0-RS256", "AUTH0-OFFLINE", "AUTH0-RT-ROTATION",
             "AUTH0-RT-LIFETIME", "AUTH0-REDIRECT", "AUTH0-REDIRECT-EXTRA", "AUTH0-USER-ONLY", "AUTH0-GRANTS",
             "AUTH0-CLIENT-AUTH"}


def results(settings):
    d = run_stack_program(settings, compute=False)
    return {x.rule.id: x for x in evaluate(all_rules(), Context(d.resources, settings["environment"]))}


@pytest.fixture(scope="module")
def example():
    return {x.rule.id: x for x in build_report(ROOT, "auth0-example").results}


def test_example_passes_every_auth0_rule_with_one_closest(example):
    assert AUTH0_IDS <= set(example)
    statuses = {i: example[i].finding.status for i in AUTH0_IDS}
    assert statuses.pop("AUTH0-RT-LIFETIME") is Status.CLOSEST
    assert set(statuses.values()) == {Status.PASS}
    reason = example["AUTH0-RT-LIFETIME"].finding.reason
    assert "no inactivity timeout" in reason and "31557600 s (365.25 days)" in reason
    # Said plainly: the absolute lifetime is infinite.
    assert reason.startswith("The absolute lifetime is infinite: a refresh token used at least once a year never "
                             "expires; only revoking it (or the user's grant) ends it.")
    assert "AUTH0-POST-LOGIN" not in example  # no Action without consistencyKey.attribute


def failing(res):
    return {i for i, x in res.items() if x.failed}


def test_one_hour_access_token_fails_that_rule_alone():
    res = results(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com",
                                       "accessTokenLifetimeMinutes": 60}))
    assert failing(res) == {"AUTH0-AT-LIFETIME"}
    assert res["AUTH0-AT-LIFETIME"].finding.declared == (
        "ResourceServer fpb-api: tokenLifetime 3600 s, tokenLifetimeForWeb 3600 s")
    # The reason names the setting to change.
    assert res["AUTH0-AT-LIFETIME"].finding.reason == (
        "Plaid: expire access tokens in 15 minutes (900 s): set auth0.accessTokenLifetimeMinutes to 15 (the default)")


def test_dropping_offline_access_fails_that_rule_alone():
    res = results(settings_with(scopes=["openid"]))
    assert failing(res) == {"AUTH0-OFFLINE"}


def test_default_audience_off_fails_the_jwt_rule():
    res = results(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com", "setDefaultAudience": False}))
    assert failing(res) == {"AUTH0-JWT-AT"}
    assert "opaque access tokens" in res["AUTH0-JWT-AT"].finding.reason


def test_plaid_redirect_missing_fails():
    res = results(settings_with(redirectUris=["https://bank.example/callback"]))
    assert failing(res) == {"AUTH0-REDIRECT"}


def test_non_plaid_redirect_uri_is_a_warning_not_a_failure():
    extra = "https://bank.example/plaid/callback"
    res = results(settings_with(redirectUris=["https://cdn.plaid.com/link/v2/stable/oauth.html", extra]))
    assert failing(res) == set()
    row = res["AUTH0-REDIRECT-EXTRA"]
    assert not row.rule.mandatory and row.finding.status is Status.FAIL
    assert row.finding.declared == f"callbacks besides Plaid's: {extra}"
    assert row.finding.reason.startswith("warning: ")


def _patch(resources, typ, **inputs):
    return [replace(r, inputs={**r.inputs, **inputs}) if r.type == typ else r for r in resources]


def test_wildcard_callback_fails_the_redirect_rule():
    d = run_stack_program(settings_with(), compute=False)
    res = judge(_patch(d.resources, auth0_rules.CLIENT, callbacks=[
        "https://cdn.plaid.com/link/v2/stable/oauth.html", "https://*.bank.example/cb"]))
    assert failing(res) == {"AUTH0-REDIRECT"}
    assert res["AUTH0-REDIRECT"].finding.reason.startswith("no wildcard callbacks")


def judge(resources, environment="dev"):
    return {x.rule.id: x for x in evaluate(all_rules(), Context(resources, environment))}


@pytest.mark.parametrize(("policies", "declared"), [
    (None, "ResourceServer fpb-api: subjectTypeAuthorization user None, client None"),
    ({"user": {"policy": "allow_all"}, "client": {"policy": "require_client_grant"}},
     "ResourceServer fpb-api: subjectTypeAuthorization user allow_all, client require_client_grant"),
    ({"user": {"policy": "deny_all"}, "client": {"policy": "deny_all"}},
     "ResourceServer fpb-api: subjectTypeAuthorization user deny_all, client deny_all"),
])
def test_api_open_to_client_credentials_fails_user_only(policies, declared):
    d = run_stack_program(settings_with(), compute=False)
    res = judge(_patch(d.resources, auth0_rules.API, subjectTypeAuthorization=policies))
    assert failing(res) == {"AUTH0-USER-ONLY"}
    assert res["AUTH0-USER-ONLY"].finding.declared == declared


ATTRIBUTE = {"scopes": ["offline_access"], "consistencyKey": {"attribute": "app_metadata.customer_id"}}


@pytest.fixture(scope="module")
def with_action():
    return run_stack_program(settings_with(**ATTRIBUTE), compute=True)


def test_action_bound_alone_passes(with_action):
    res = judge(with_action.resources)
    assert failing(res) == set()
    assert res["AUTH0-POST-LOGIN"].finding.declared == (
        "Action fpb-consistency-key bound by fpb-post-login (trigger post-login), acting for Plaid's client only; "
        "the tenant's other post-login Actions stay bound")


def test_trigger_actions_owning_the_flow_fails(with_action):
    trig = next(r for r in with_action.resources if r.type == auth0_rules.TRIGGER_ACTION)
    owner = replace(trig, type=auth0_rules.TRIGGER_ACTIONS, inputs={"trigger": "post-login", "actions": [{}]})
    res = judge([r for r in with_action.resources if r is not trig] + [owner])
    assert failing(res) == {"AUTH0-POST-LOGIN"}
    assert res["AUTH0-POST-LOGIN"].finding.declared == "TriggerActions fpb-post-login owns every post-login binding"


def test_unbound_action_fails(with_action):
    res = judge([r for r in with_action.resources if r.type != auth0_rules.TRIGGER_ACTION])
    assert failing(res) == {"AUTH0-POST-LOGIN"}
    assert res["AUTH0-POST-LOGIN"].finding.declared == "Action fpb-consistency-key is not bound"


def test_action_for_every_client_fails(with_action):
    code = next(r for r in with_action.resources if r.type == auth0_rules.ACTION).input("code")
    res = judge(_patch(with_action.resources, auth0_rules.ACTION,
                       code=code.replace("event.client.client_id !== CONFIG.clientId", "false")))
    assert failing(res) == {"AUTH0-POST-LOGIN"}
    assert res["AUTH0-POST-LOGIN"].finding.declared == (
        "Action fpb-consistency-key does not check event.client.client_id")


def problems(settings):
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(settings))
    return info.value.problems


def test_settings_missing_auth0_domain():
    assert problems(settings_with(auth0={})) == [
        f"{PROJECT}:auth0.domain: required value is missing; expected the tenant's domain, e.g. "
        "first-platypus.us.auth0.com; add it to the stack file"]


def test_settings_missing_auth0_section():
    assert problems(settings_with(auth0=None)) == [
        f"{PROJECT}:auth0: required when idp is auth0; add a 'auth0:' section (see docs/settings.md)"]


def test_settings_non_https_audience():
    assert problems(settings_with(audience="http://api.firstplatypus.example/fdx")) == [
        f"{PROJECT}:audience: audience given as a URL must be an https:// URL (Plaid requires TLS)"]


def test_settings_attribute_mapping_with_oidc():
    msgs = problems(settings_with(consistencyKey={"attribute": "app_metadata.customer_id"}))
    assert msgs == [f"{PROJECT}:consistencyKey.attribute: only allowed with plain OAuth 2.0 (scopes without openid). "
                    "With OIDC Plaid reads the id_token sub, which the IdP does not let you replace, so Plaid would "
                    "see a different key than /customers/current. Remove the attribute, or remove openid from scopes"]


def test_settings_attribute_must_be_app_metadata():
    msgs = problems(settings_with(scopes=["offline_access"], consistencyKey={"attribute": "user_metadata.id"}))
    assert msgs == [f"{PROJECT}:consistencyKey.attribute: on Auth0 must be app_metadata.<name> (letters, digits, _), "
                    "user_metadata is editable by the user and cannot be a stable key"]


# -- tokenLifetimeForWeb: the lifetime of access tokens from browser (implicit, hybrid) flows ------------------
# terraform-provider-auth0 (resource_server): optional and computed (Auth0 picks it when unset), "Cannot be greater
# than the `token_lifetime` value".


def _drop(resources, typ, key):
    return [replace(r, inputs={k: v for k, v in r.inputs.items() if k != key}) if r.type == typ else r
            for r in resources]


@pytest.fixture(scope="module")
def base_resources():
    return run_stack_program(settings_with(), compute=False).resources


def test_web_token_lifetime_unset_fails_the_access_token_rule(base_resources):
    res = judge(_drop(base_resources, auth0_rules.API, "tokenLifetimeForWeb"))
    assert failing(res) == {"AUTH0-AT-LIFETIME"}
    finding = res["AUTH0-AT-LIFETIME"].finding
    assert finding.declared == "ResourceServer fpb-api: tokenLifetime 900 s, tokenLifetimeForWeb None s"
    assert finding.reason.startswith("tokenLifetimeForWeb unset: Auth0 applies its own default")


@pytest.mark.parametrize(("web", "passes"), [(901, False), (7200, False), (900, True), (600, True)])
def test_web_token_lifetime_may_not_exceed_the_access_token_lifetime(base_resources, web, passes):
    res = judge(_patch(base_resources, auth0_rules.API, tokenLifetimeForWeb=web))
    finding = res["AUTH0-AT-LIFETIME"].finding
    assert failing(res) == (set() if passes else {"AUTH0-AT-LIFETIME"})
    assert finding.declared == f"ResourceServer fpb-api: tokenLifetime 900 s, tokenLifetimeForWeb {web} s"
    if not passes:
        assert finding.reason == "tokenLifetimeForWeb must not exceed tokenLifetime (900 s)"


@pytest.mark.parametrize("life", [899, 901, None])
def test_access_token_lifetime_other_than_900_seconds_fails(base_resources, life):
    res = judge(_patch(base_resources, auth0_rules.API, tokenLifetime=life, tokenLifetimeForWeb=600))
    assert failing(res) == {"AUTH0-AT-LIFETIME"}
    assert res["AUTH0-AT-LIFETIME"].finding.reason == (
        "Plaid: expire access tokens in 15 minutes (900 s): set auth0.accessTokenLifetimeMinutes to 15 (the default)")


# -- the other Auth0 rows at their edges (found by `make mutation`) ------------------------------------------


def _client_patch(resources, **refresh):
    return [replace(r, inputs={**r.inputs, "refreshToken": {**(r.inputs.get("refreshToken") or {}), **refresh}})
            if r.type == auth0_rules.CLIENT else r for r in resources]


def test_default_audience_known_only_after_apply_passes_the_jwt_rule(base_resources):
    res = judge(_patch(base_resources, auth0_rules.TENANT, defaultAudience=UNKNOWN))
    assert res["AUTH0-JWT-AT"].finding.status is Status.PASS


@pytest.mark.parametrize(("typ", "inputs"), [
    (auth0_rules.API, {"signingAlg": "HS256"}),
    (auth0_rules.CLIENT, {"jwtConfiguration": {"alg": "HS256"}}),
])
def test_anything_not_signed_rs256_fails_the_rs256_rule(base_resources, typ, inputs):
    res = judge(_patch(base_resources, typ, **inputs))
    assert failing(res) == {"AUTH0-RS256"}
    assert "HS256" in res["AUTH0-RS256"].finding.declared


@pytest.mark.parametrize(("rotation", "expiration"), [("rotating", "non-expiring"), ("non-rotating", "expiring")])
def test_refresh_tokens_must_both_rotate_and_expire(base_resources, rotation, expiration):
    res = judge(_client_patch(base_resources, rotationType=rotation, expirationType=expiration))
    assert failing(res) == {"AUTH0-RT-ROTATION"}


THIRTEEN_MONTHS = plaid.REFRESH_TOKEN_MIN_SECONDS


@pytest.mark.parametrize(("refresh", "status"), [
    # absolute lifetime: infinite, or at least 13 months
    ({"infiniteTokenLifetime": False, "tokenLifetime": THIRTEEN_MONTHS}, Status.CLOSEST),
    ({"infiniteTokenLifetime": False, "tokenLifetime": THIRTEEN_MONTHS - 1}, Status.FAIL),
    ({"infiniteTokenLifetime": False, "tokenLifetime": None}, Status.FAIL),
    # idle lifetime: infinite or at least 13 months passes; Auth0's maximum is the closest; anything else fails
    ({"infiniteIdleTokenLifetime": True, "idleTokenLifetime": None}, Status.PASS),
    ({"infiniteIdleTokenLifetime": False, "idleTokenLifetime": THIRTEEN_MONTHS}, Status.PASS),
    ({"infiniteIdleTokenLifetime": False, "idleTokenLifetime": THIRTEEN_MONTHS - 1}, Status.FAIL),
    ({"infiniteIdleTokenLifetime": False, "idleTokenLifetime": None}, Status.FAIL),
])
def test_refresh_token_lifetimes_at_their_limits(base_resources, refresh, status):
    res = judge(_client_patch(base_resources, **refresh))
    assert res["AUTH0-RT-LIFETIME"].finding.status is status


def test_a_client_that_is_not_oidc_conformant_fails_the_grants_rule(base_resources):
    res = judge(_patch(base_resources, auth0_rules.CLIENT, oidcConformant=False))
    assert failing(res) == {"AUTH0-GRANTS"}


def test_a_client_secret_known_only_after_apply_passes(base_resources):
    res = judge(_patch(base_resources, auth0_rules.CREDENTIALS, clientSecret=UNKNOWN))
    assert res["AUTH0-CLIENT-AUTH"].finding.status is Status.PASS
    plain = judge(_patch(base_resources, auth0_rules.CREDENTIALS, clientSecret="plain-text"))
    assert failing(plain) == {"AUTH0-CLIENT-AUTH"}


@pytest.mark.parametrize(("removed", "row", "declared"), [
    (auth0_rules.API, "AUTH0-AT-LIFETIME", "0 ResourceServer resources"),
    (auth0_rules.CLIENT, "AUTH0-GRANTS", "0 Client resources"),
])
def test_auth0_rows_apply_when_either_the_api_or_the_client_is_declared(base_resources, removed, row, declared):
    res = judge([r for r in base_resources if r.type != removed])
    assert res[row].failed and res[row].finding.declared == declared
