"""The Auth0 rows of the readiness table, over the real program's declarations."""

from __future__ import annotations

import pytest

from components.settings import PROJECT, SettingsError, parse_settings
from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.plan import build_report
from tests.harness import ROOT, config_of, run_stack_program, settings_with

AUTH0_IDS = {"AUTH0-AT-LIFETIME", "AUTH0-JWT-AT", "AUTH0-RS256", "AUTH0-OFFLINE", "AUTH0-RT-ROTATION",
             "AUTH0-RT-LIFETIME", "AUTH0-REDIRECT", "AUTH0-GRANTS", "AUTH0-CLIENT-AUTH"}


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


def failing(res):
    return {i for i, x in res.items() if x.failed}


def test_one_hour_access_token_fails_that_rule_alone():
    res = results(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com",
                                       "accessTokenLifetimeSeconds": 3600}))
    assert failing(res) == {"AUTH0-AT-LIFETIME"}
    assert res["AUTH0-AT-LIFETIME"].finding.declared == (
        "ResourceServer fpb-api: tokenLifetime 3600 s, tokenLifetimeForWeb 3600 s")


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
