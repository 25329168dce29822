"""The Okta rows of the readiness table, over the real program's declarations (as the offline plan runs it).

Each rule gets a test that breaks exactly one declared input (or one setting) and asserts that exactly
that rule starts failing.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

import plaid_contract as plaid
from components.idps.okta.settings import MAX_REFRESH_WINDOW_MINUTES
from components.settings import PROJECT, SettingsError, parse_settings
from readiness.checklist import Context, SecretValue, Status, all_rules, evaluate
from readiness.plan import build_report
from tests.harness import ROOT, config_of, run_stack_program, settings_with

OKTA_IDS = {"OKTA-AT-LIFETIME", "OKTA-OFFLINE", "OKTA-RT-ROTATION", "OKTA-RT-LIFETIME", "OKTA-REDIRECT",
            "OKTA-GRANTS", "OKTA-CLIENT-AUTH", "OKTA-CLIENT-ID", "OKTA-POLICY-CLIENT", "OKTA-AUDIENCE",
            "OKTA-KEY-ROTATION", "OKTA-CONSISTENCY-KEY", "OKTA-TOKEN-CLIENT"}
SERVER = "okta:auth/server:Server"
POLICY = "okta:auth/serverPolicy:ServerPolicy"
RULE = "okta:auth/serverPolicyRule:ServerPolicyRule"
APP = "okta:app/oAuth:OAuth"
FUNCTION = "aws:lambda/function:Function"
ORG = "https://first-platypus.okta.com"
OKTA = settings_with(idp="okta", auth0=None, okta={"orgUrl": ORG})


def okta(**changes: Any) -> dict[str, Any]:
    s = copy.deepcopy(OKTA)
    s["okta"].update(changes)
    return s


@pytest.fixture(scope="module")
def declared():
    return run_stack_program(OKTA, compute=False).resources


def results(resources, environment: str = "dev"):
    return {x.rule.id: x for x in evaluate(all_rules(), Context(resources, environment))}


def failing(res) -> set[str]:
    return {i for i, x in res.items() if x.failed}


def mutated(resources, typ: str, path: tuple[str, ...], value: Any = None, *, delete: bool = False):
    """A deep copy of the declarations with one input of the one resource of ``typ`` changed (or removed)."""
    out = copy.deepcopy(resources)
    (target,) = [r for r in out if r.type == typ]
    node = target.inputs
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.fixture(scope="module")
def baseline(declared):
    res = results(declared)
    assert OKTA_IDS <= set(res)
    assert not failing(res) & OKTA_IDS
    return failing(res)


def only_new_failure(res, baseline: set[str]) -> set[str]:
    return failing(res) - baseline


@pytest.fixture(scope="module")
def example():
    return {x.rule.id: x for x in build_report(ROOT, "okta-example").results}


def test_example_passes_every_okta_rule_with_one_closest(example):
    assert OKTA_IDS <= set(example)
    assert "OKTA-EXISTING-SERVER" not in example  # the example creates its server
    statuses = {i: example[i].finding.status for i in OKTA_IDS}
    assert statuses.pop("OKTA-RT-LIFETIME") is Status.CLOSEST
    assert set(statuses.values()) == {Status.PASS}
    assert not [x for x in example.values() if x.failed]
    finding = example["OKTA-RT-LIFETIME"].finding
    assert finding.declared == ("policy rule fpb-plaid-rule: refresh lifetime unlimited, "
                                f"window {MAX_REFRESH_WINDOW_MINUTES} min")
    assert "no inactivity timeout" in finding.reason and "2628000 min (5 years)" in finding.reason


def test_okta_rules_do_not_apply_to_an_auth0_stack():
    res = results(run_stack_program(settings_with(), compute=False).resources)
    assert not {i for i in res if i.startswith("OKTA-")}


# --- one test per rule: one broken input, exactly that rule fails ------------------------------------


def test_one_hour_access_token_fails_that_rule_alone(baseline):
    res = results(run_stack_program(okta(accessTokenLifetimeMinutes=60), compute=False).resources)
    assert only_new_failure(res, baseline) == {"OKTA-AT-LIFETIME"}
    assert res["OKTA-AT-LIFETIME"].finding.declared == "policy rule fpb-plaid-rule: accessTokenLifetimeMinutes 60"
    # The reason names the setting to change.
    assert res["OKTA-AT-LIFETIME"].finding.reason == (
        "Plaid: expire access tokens in 15 minutes (900 s; Okta's default is 60): set okta.accessTokenLifetimeMinutes "
        "to 15 (the default)")


def test_dropping_offline_access_fails_that_rule_alone(baseline):
    s = okta()
    s["scopes"] = ["openid"]
    res = results(run_stack_program(s, compute=False).resources)
    assert only_new_failure(res, baseline) == {"OKTA-OFFLINE"}


def test_wildcard_scope_fails_the_offline_rule(declared, baseline):
    res = results(mutated(declared, RULE, ("scopeWhitelists",), ["*"]))
    assert only_new_failure(res, baseline) == {"OKTA-OFFLINE"}
    assert "no wildcard" in res["OKTA-OFFLINE"].finding.reason


def test_static_refresh_tokens_fail_rotation_alone(declared, baseline):
    res = results(mutated(declared, APP, ("refreshTokenRotation",), "STATIC"))
    assert only_new_failure(res, baseline) == {"OKTA-RT-ROTATION"}


def test_implicit_leeway_fails_rotation(declared, baseline):
    res = results(mutated(declared, APP, ("refreshTokenLeeway",), delete=True))
    assert only_new_failure(res, baseline) == {"OKTA-RT-ROTATION"}


def test_default_refresh_window_fails_the_lifetime_rule(declared, baseline):
    res = results(mutated(declared, RULE, ("refreshTokenWindowMinutes",), 10_080))
    assert only_new_failure(res, baseline) == {"OKTA-RT-LIFETIME"}
    assert str(MAX_REFRESH_WINDOW_MINUTES) in res["OKTA-RT-LIFETIME"].finding.reason


def test_a_30_day_refresh_lifetime_fails_the_lifetime_rule(declared, baseline):
    res = results(mutated(declared, RULE, ("refreshTokenLifetimeMinutes",), 43_200))
    assert only_new_failure(res, baseline) == {"OKTA-RT-LIFETIME"}


def test_plaid_redirect_missing_fails(baseline):
    s = okta()
    s["redirectUris"] = ["https://bank.example/callback"]
    res = results(run_stack_program(s, compute=False).resources)
    assert only_new_failure(res, baseline) == {"OKTA-REDIRECT"}


def test_wildcard_redirect_fails(declared, baseline):
    res = results(mutated(declared, APP, ("wildcardRedirect",), "SUBDOMAIN"))
    assert only_new_failure(res, baseline) == {"OKTA-REDIRECT"}


@pytest.mark.parametrize(("typ", "key", "value"), [
    (APP, "grantTypes", ["authorization_code", "refresh_token", "client_credentials"]),
    (APP, "type", "browser"),
    (APP, "responseTypes", ["code", "token"]),
    (RULE, "grantTypeWhitelists", ["authorization_code", "password"]),
])
def test_an_extra_grant_or_public_app_fails_the_grants_rule(declared, baseline, typ, key, value):
    res = results(mutated(declared, typ, (key,), value))
    assert only_new_failure(res, baseline) == {"OKTA-GRANTS"}


@pytest.mark.parametrize(("key", "value", "delete"), [
    ("tokenEndpointAuthMethod", "client_secret_post", False),
    ("clientBasicSecret", None, True),
    ("omitSecret", True, False),
])
def test_client_auth_breaks_fail_that_rule_alone(declared, baseline, key, value, delete):
    res = results(mutated(declared, APP, (key,), value, delete=delete))
    assert only_new_failure(res, baseline) == {"OKTA-CLIENT-AUTH"}


def test_a_secret_in_plain_text_fails_client_auth(declared, baseline):
    app = next(r for r in declared if r.type == APP)
    assert isinstance(app.inputs["clientBasicSecret"], SecretValue)
    res = results(mutated(declared, APP, ("clientBasicSecret",), "0123456789abcdef" * 4))
    assert only_new_failure(res, baseline) == {"OKTA-CLIENT-AUTH"}
    assert "not a Pulumi secret" in res["OKTA-CLIENT-AUTH"].finding.declared


def test_an_okta_generated_client_id_fails(declared, baseline):
    res = results(mutated(declared, APP, ("clientId",), delete=True))
    assert only_new_failure(res, baseline) == {"OKTA-CLIENT-ID"}


def test_an_unprotected_app_fails_the_client_id_rule(declared, baseline):
    out = copy.deepcopy(declared)
    next(r for r in out if r.type == APP).protect = False
    res = results(out)
    assert only_new_failure(res, baseline) == {"OKTA-CLIENT-ID"}
    assert "replaces the app" in res["OKTA-CLIENT-ID"].finding.reason


def test_all_clients_policy_fails(declared, baseline):
    res = results(mutated(declared, POLICY, ("clientWhitelists",), ["ALL_CLIENTS"]))
    assert only_new_failure(res, baseline) == {"OKTA-POLICY-CLIENT"}


def test_two_audiences_fail(declared, baseline):
    res = results(mutated(declared, SERVER, ("audiences",), ["https://api.firstplatypus.example/fdx", "api://x"]))
    assert only_new_failure(res, baseline) == {"OKTA-AUDIENCE"}


def test_a_lambda_pinned_to_another_audience_fails_the_audience_rule(declared, baseline):
    res = results(mutated(declared, FUNCTION, ("environment", "variables", "TOKEN_AUDIENCE"), "api://other"))
    assert only_new_failure(res, baseline) & OKTA_IDS == {"OKTA-AUDIENCE"}


def test_missing_rotation_mode_fails(declared, baseline):
    res = results(mutated(declared, SERVER, ("credentialsRotationMode",), delete=True))
    assert only_new_failure(res, baseline) == {"OKTA-KEY-ROTATION"}


def test_manual_rotation_passes_and_points_at_the_runbook(baseline):
    res = results(run_stack_program(okta(keyRotation="MANUAL"), compute=False).resources)
    assert only_new_failure(res, baseline) == set()
    assert "runbook" in res["OKTA-KEY-ROTATION"].finding.declared


def test_reading_sub_as_the_consistency_key_fails(declared, baseline):
    # Okta's access-token sub is the app username: usually the email (PII), not the id_token sub Plaid stores.
    res = results(mutated(declared, FUNCTION, ("environment", "variables", "CONSISTENCY_KEY_CLAIM"), "sub"))
    assert only_new_failure(res, baseline) & OKTA_IDS == {"OKTA-CONSISTENCY-KEY"}
    assert "email" in res["OKTA-CONSISTENCY-KEY"].finding.reason


def test_sub_passes_only_when_the_app_username_is_the_user_id(declared, baseline):
    out = mutated(declared, FUNCTION, ("environment", "variables", "CONSISTENCY_KEY_CLAIM"), "sub")
    app = next(r for r in out if r.type == APP)
    app.inputs["userNameTemplate"] = "${source.id}"
    assert not only_new_failure(results(out), baseline) & OKTA_IDS


@pytest.mark.parametrize(("key", "value", "delete"), [
    ("TOKEN_CLIENT_CLAIM", "client_id", False),
    ("TOKEN_CLIENT_ID", None, True),
])
def test_a_lambda_that_does_not_check_cid_fails(declared, baseline, key, value, delete):
    # Other rule sets may also flag a Lambda without a client check: only the Okta rows are asserted here.
    res = results(mutated(declared, FUNCTION, ("environment", "variables", key), value, delete=delete))
    assert only_new_failure(res, baseline) & OKTA_IDS == {"OKTA-TOKEN-CLIENT"}


def test_existing_server_is_an_advisory_row_and_the_stack_stays_ready(baseline):
    res = results(run_stack_program(okta(authorizationServerId="aus1a2b3c4d5e6f7g8h9"), compute=False).resources)
    assert "OKTA-AUDIENCE" not in res and "OKTA-KEY-ROTATION" not in res
    row = res["OKTA-EXISTING-SERVER"]
    assert row.finding.status is Status.FAIL and not row.rule.mandatory and not row.failed
    assert row.finding.declared.startswith("existing authorization server aus1a2b3c4d5e6f7g8h9")
    assert only_new_failure(res, baseline) == set()


# --- settings errors: one line per problem, no value echoed -------------------------------------------


def problems(settings):
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(settings))
    return info.value.problems


def test_settings_missing_okta_org_url():
    s = okta()
    del s["okta"]["orgUrl"]
    assert problems(s) == [f"{PROJECT}:okta.orgUrl: required value is missing; expected the org's URL, "
                           "https://<org>.okta.com (no path); add it to the stack file"]


def test_settings_okta_problems_each_on_one_line_without_values():
    secretish = "Zq9-not-to-be-echoed"
    msgs = problems(okta(orgUrl=f"https://first-platypus.okta.com/{secretish}", authorizationServerId=secretish,
                         groups=["EVERYONE", "EVERYONE"], keyRotation=secretish, refreshTokenLeewaySeconds=61,
                         bogus=secretish))
    assert msgs == [
        f"{PROJECT}:okta.orgUrl: orgUrl must be the org's base URL, https://<org>.okta.com (lowercase host, no path, "
        "no port), e.g. https://first-platypus.okta.com",
        f"{PROJECT}:okta.authorizationServerId: has the wrong format; expected an existing custom authorization "
        "server's id (aus followed by 17 letters/digits, or default) to attach to instead of creating one "
        "(e.g. aus1a2b3c4d5e6f7g8h9)",
        f"{PROJECT}:okta.groups: contains duplicates",
        f"{PROJECT}:okta.keyRotation: input should be 'AUTO' or 'MANUAL'",
        f"{PROJECT}:okta.refreshTokenLeewaySeconds: input should be less than or equal to 60",
        f"{PROJECT}:okta.bogus: unknown key; valid keys are: accessTokenLifetimeMinutes, authorizationServerId, "
        "customDomain, groups, keyRotation, orgUrl, refreshTokenLeewaySeconds"]
    assert not any(secretish in m for m in msgs)


def test_settings_okta_groups_and_rotation_with_an_existing_server():
    msgs = problems(okta(groups=["EVERYONE", "00g1a2b3c4d5e6f7g8h9"], authorizationServerId="default",
                         keyRotation="MANUAL"))
    assert msgs == [
        f"{PROJECT}:okta.groups: EVERYONE already includes every user; list it alone or list group ids only",
        f"{PROJECT}:okta.keyRotation: applies only to an authorization server this stack creates; with "
        "authorizationServerId set, rotate that server's keys in Okta (docs/okta.md) and remove keyRotation"]
    assert problems(okta(groups=["admins"])) == [
        f"{PROJECT}:okta.groups: entry 0 is neither EVERYONE nor an Okta group id (00g followed by 17 "
        "letters/digits, e.g. 00g1a2b3c4d5e6f7g8h9)"]


def test_settings_okta_http_org_url_and_short_access_token():
    assert problems(okta(orgUrl="http://first-platypus.okta.com", accessTokenLifetimeMinutes=1)) == [
        f"{PROJECT}:okta.orgUrl: orgUrl must be an https:// URL (Plaid requires TLS)",
        f"{PROJECT}:okta.accessTokenLifetimeMinutes: input should be greater than or equal to 5"]


def test_settings_okta_credentials_in_plain_text_are_refused():
    cfg = config_of(OKTA, {"okta:privateKey": "-----BEGIN PRIVATE KEY-----x", "okta:apiToken": "00abc"})
    with pytest.raises(SettingsError) as info:
        parse_settings(cfg)
    assert info.value.problems == [
        f"okta:{k}: holds a credential but is stored in plain text; remove it from the stack file and set it "
        f"with `pulumi config set --secret okta:{k}` (or the provider's environment variable)"
        for k in ("apiToken", "privateKey")]
    assert parse_settings(cfg, ["okta:privateKey", "okta:apiToken"]).idp_settings.idp == "okta"


def test_okta_example_derives_the_provider_org():
    s = parse_settings(config_of(OKTA)).idp_settings
    assert (s.org_name, s.base_url, s.issuer_base) == ("first-platypus", "okta.com", ORG)
    assert plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60 == s.access_token_lifetime_minutes


def test_prod_example_is_ready_with_the_custom_domain_issuer_and_its_group():
    report = build_report(ROOT, "okta-prod")
    assert not report.failed
    res = {x.rule.id: x for x in report.results}
    assert {"PROD-PROTECT", "API-MTLS-PROD"} <= set(res) and OKTA_IDS <= set(res)
    assert res["OKTA-RT-LIFETIME"].finding.status is Status.CLOSEST
    rule = next(r for r in report.resources if r.type == RULE)
    assert rule.input("groupWhitelists") == ["00g1a2b3c4d5e6f7g8h9"]
    assert next(r for r in report.resources if r.type == SERVER).input("issuerMode") == "CUSTOM_URL"
