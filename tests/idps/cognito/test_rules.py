"""The Cognito rows of the readiness table: the example plans them, and each fails exactly when its input breaks.

Each case changes one input (a setting, or one declared input where no setting reaches it) and asserts that
the set of failing rules grows by exactly that rule, compared with the unchanged stack.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

import plaid_contract as plaid
from components.checklist import UNKNOWN
from components.idps.cognito.rules import in_scope_adapter
from components.settings import PROJECT, SettingsError, parse_settings
from readiness.checklist import Context, Status, all_rules, evaluate
from readiness.engine import DeclaredResource
from readiness.plan import build_report
from tests.harness import ROOT, config_of, run_stack_program, settings_with

COGNITO_IDS = {"COGNITO-AT-LIFETIME", "COGNITO-RT-LIFETIME", "COGNITO-RT-ROTATION", "COGNITO-CODE-FLOW",
               "COGNITO-REDIRECT", "COGNITO-SECRET", "COGNITO-ADAPTER", "COGNITO-TOKEN-USE", "COGNITO-POOL"}
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
FUNCTION = "aws:lambda/function:Function"
READERS = ["arn:aws:iam::111122223333:role/fpb-dev-pulumi-deployer"]


def cognito_settings(environment: str = "dev", **cognito: Any) -> dict[str, Any]:
    return settings_with(idp="cognito", auth0=None, environment=environment, clientSecret={"readers": READERS},
                         cognito={"domainPrefix": "first-platypus-dev", **cognito})


def declared(settings: dict[str, Any]) -> list[DeclaredResource]:
    return run_stack_program(settings, compute=False, extra={"aws:region": "us-east-1"}).resources


def results(resources: list[DeclaredResource], environment: str) -> dict[str, Any]:
    return {x.rule.id: x for x in evaluate(all_rules(), Context(resources, environment))}


def failing(resources: list[DeclaredResource], environment: str) -> set[str]:
    return {i for i, x in results(resources, environment).items() if x.failed}


@pytest.fixture(scope="module")
def base() -> dict[str, list[DeclaredResource]]:
    return {"dev": declared(cognito_settings()), "prod": declared(cognito_settings("prod"))}


@pytest.fixture(scope="module")
def example():
    return {x.rule.id: x for x in build_report(ROOT, "cognito-example").results}


def test_example_shows_every_cognito_row_closest_ones_with_reasons(example):
    assert COGNITO_IDS <= set(example)
    statuses = {i: example[i].finding.status for i in COGNITO_IDS}
    assert statuses.pop("COGNITO-SECRET") is Status.CLOSEST
    assert set(statuses.values()) == {Status.PASS}
    reason = example["COGNITO-SECRET"].finding.reason
    assert "Cognito generates the secret itself" in reason and "AddUserPoolClientSecret" in reason
    assert "SECRET-CSPRNG" not in example  # not ours to generate on Cognito
    assert not any(example[i].failed for i in example if i.startswith(("COGNITO", "SECRET")))
    assert "new sub" in example["COGNITO-POOL"].finding.declared


def test_base_stacks_pass_every_cognito_rule(base):
    for env, resources in base.items():
        assert not failing(resources, env) & COGNITO_IDS, env


def mutate(resources: list[DeclaredResource], typ: str, pick: Callable[[DeclaredResource], bool],
           change: Callable[[dict[str, Any]], None]) -> list[DeclaredResource]:
    out = copy.deepcopy(resources)
    hits = [r for r in out if r.type == typ and pick(r)]
    assert len(hits) == 1
    change(hits[0].inputs)
    return out


def only_new_failure(base_resources, changed, environment: str = "dev") -> set[str]:
    return failing(changed, environment) - failing(base_resources, environment)


def client(change: Callable[[dict[str, Any]], None]):
    return lambda resources: mutate(resources, CLIENT, lambda r: True, change)


def customers_env(change: Callable[[dict[str, Any]], None]):
    return lambda resources: mutate(resources, FUNCTION, lambda r: not in_scope_adapter(r),
                                    lambda i: change(i["environment"]["variables"]))


def adapter_env(change: Callable[[dict[str, Any]], None]):
    return lambda resources: mutate(resources, FUNCTION, in_scope_adapter,
                                    lambda i: change(i["environment"]["variables"]))


SETTINGS_CASES = [
    ("COGNITO-AT-LIFETIME", cognito_settings(accessTokenLifetimeMinutes=60)),
    ("COGNITO-RT-LIFETIME", cognito_settings(refreshTokenLifetimeDays=plaid.REFRESH_TOKEN_MIN_DAYS - 1)),
    ("COGNITO-REDIRECT", {**cognito_settings(), "redirectUris": ["https://bank.example/callback"]}),
    ("COGNITO-ADAPTER", cognito_settings(scopeAdapter={"enabled": False})),
]


@pytest.mark.parametrize(("rule", "settings"), SETTINGS_CASES, ids=[c[0] for c in SETTINGS_CASES])
def test_a_broken_setting_fails_exactly_its_rule(base, rule, settings):
    assert only_new_failure(base["dev"], declared(settings)) == {rule}


@pytest.mark.parametrize(("rule", "settings", "setting"), [
    ("COGNITO-AT-LIFETIME", cognito_settings(accessTokenLifetimeMinutes=60),
     "cognito.accessTokenLifetimeMinutes to 15"),
    ("COGNITO-RT-LIFETIME", cognito_settings(refreshTokenLifetimeDays=30),
     "cognito.refreshTokenLifetimeDays to at least"),
    ("COGNITO-REDIRECT", {**cognito_settings(), "redirectUris": ["https://bank.example/callback"]}, "to redirectUris"),
])
def test_a_failing_reason_names_the_setting_to_change(rule, settings, setting):
    assert setting in results(declared(settings), "dev")[rule].finding.reason


def test_refresh_validity_of_exactly_13_months_passes(base):
    res = results(declared(cognito_settings(refreshTokenLifetimeDays=plaid.REFRESH_TOKEN_MIN_DAYS)), "dev")
    assert res["COGNITO-RT-LIFETIME"].finding.status is Status.PASS


DECLARATION_CASES = [
    ("COGNITO-AT-LIFETIME", client(lambda i: i["tokenValidityUnits"].update(accessToken="hours"))),
    ("COGNITO-RT-LIFETIME", client(lambda i: i["tokenValidityUnits"].update(refreshToken="hours"))),
    ("COGNITO-RT-ROTATION", client(lambda i: i["refreshTokenRotation"].update(feature="DISABLED"))),
    ("COGNITO-RT-ROTATION", client(lambda i: i["explicitAuthFlows"].append("ALLOW_REFRESH_TOKEN_AUTH"))),
    ("COGNITO-RT-ROTATION", client(lambda i: i.pop("explicitAuthFlows"))),
    ("COGNITO-CODE-FLOW", client(lambda i: i["allowedOauthFlows"].append("implicit"))),
    ("COGNITO-CODE-FLOW", client(lambda i: i["allowedOauthScopes"].append("offline_access"))),
    ("COGNITO-CODE-FLOW", client(lambda i: i.update(allowedOauthFlowsUserPoolClient=False))),
    ("COGNITO-REDIRECT", client(lambda i: i["callbackUrls"].append("http://bank.example/cb"))),
    ("COGNITO-SECRET", client(lambda i: i.update(generateSecret=False))),
    ("COGNITO-ADAPTER", adapter_env(lambda v: v.pop("PUBLIC_BASE_URL"))),
    ("COGNITO-ADAPTER", adapter_env(lambda v: v.update(UPSTREAM_BASE_URL="http://fpb.example"))),
    ("COGNITO-TOKEN-USE", customers_env(lambda v: v.pop("TOKEN_USE"))),
]


@pytest.mark.parametrize(("rule", "change"), DECLARATION_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DECLARATION_CASES)])
def test_a_broken_declaration_fails_exactly_its_rule(base, rule, change):
    assert only_new_failure(base["dev"], change(base["dev"])) == {rule}


def test_adapter_without_a_route_fails(base):
    changed = [r for r in base["dev"] if not (r.type == "aws:apigateway/resource:Resource"
                                              and r.input("pathPart") == "authorize")]
    assert only_new_failure(base["dev"], changed) == {"COGNITO-ADAPTER"}
    assert "no route for /oauth2/authorize" in results(changed, "dev")["COGNITO-ADAPTER"].finding.declared


def test_prod_pool_without_deletion_protection_fails_the_pool_rule(base):
    changed = declared(cognito_settings("prod", newPool={"deletionProtection": False}))
    assert only_new_failure(base["prod"], changed, "prod") == {"COGNITO-POOL"}


def test_prod_pool_without_pulumi_protect_fails_the_pool_rule(base):
    changed = copy.deepcopy(base["prod"])
    for r in changed:
        if r.type == "aws:cognito/userPool:UserPool":
            r.protect = False
    assert {"COGNITO-POOL"} <= only_new_failure(base["prod"], changed, "prod")  # PROD-PROTECT sees it too


def test_dev_pool_without_deletion_protection_is_allowed(base):
    res = results(declared(cognito_settings(newPool={"deletionProtection": False})), "dev")
    assert res["COGNITO-POOL"].finding.status is Status.PASS


def test_existing_pool_row_says_it_is_not_managed():
    res = results(declared(cognito_settings("prod", userPoolId="us-east-1_AbCdEfGhI")), "prod")
    assert res["COGNITO-POOL"].finding.status is Status.PASS
    assert "existing pool us-east-1_AbCdEfGhI: referenced, never managed" in res["COGNITO-POOL"].finding.declared


def test_rules_apply_only_to_cognito_stacks():
    res = results(declared(settings_with()), "dev")  # the Auth0 base stack
    assert not set(res) & COGNITO_IDS


# -- settings errors ---------------------------------------------------------------------------------------


def problems(settings: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(settings))
    return info.value.problems


def test_settings_refuse_offline_access_and_openid_as_extra_scopes():
    msgs = problems(cognito_settings(extraScopes=["email", "offline_access"]))
    assert msgs == [f"{PROJECT}:cognito.extraScopes: entry 1: Cognito refuses offline_access (invalid_scope) and "
                    "issues refresh tokens without it; the scope adapter accepts it on Plaid's behalf. Remove it "
                    "from extraScopes"]
    assert problems(cognito_settings(extraScopes=["openid"])) == [
        f"{PROJECT}:cognito.extraScopes: entry 0: openid is always allowed; remove it from extraScopes"]
    assert "is not a Cognito scope" in problems(cognito_settings(extraScopes=["bank.read"]))[0]


def test_settings_need_exactly_one_domain():
    msg = (f"{PROJECT}:cognito: set exactly one of domainPrefix (a <prefix>.auth.<region>.amazoncognito.com "
           "domain) or customDomain (your own domain with a us-east-1 certificate)")
    assert problems(cognito_settings(domainPrefix=None)) == [msg]
    both = cognito_settings(customDomain={"domainName": "login.firstplatypus.example",
                                          "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/a"})
    assert problems(both) == [msg]


def test_settings_custom_domain_certificate_must_be_in_us_east_1():
    s = cognito_settings(domainPrefix=None, customDomain={
        "domainName": "login.firstplatypus.example",
        "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/a"})
    assert problems(s) == [
        f"{PROJECT}:cognito.customDomain.certificateArn: the certificate is in eu-west-1; it must be an ACM "
        "certificate in us-east-1: Cognito serves custom domains through CloudFront, which takes certificates from "
        "us-east-1 only; request or import it there"]


def test_settings_existing_pool_and_new_pool_conflict():
    assert problems(cognito_settings(userPoolId="us-east-1_AbCdEfGhI", newPool={})) == [
        f"{PROJECT}:cognito: userPoolId names an existing pool and newPool configures a new one; remove one of them"]


def test_settings_bad_pool_id_and_prefix_name_the_key_never_the_value():
    msgs = problems(cognito_settings(userPoolId="pool-SECRETLOOKING", domainPrefix="Has_Caps"))
    assert len(msgs) == 2 and not any("SECRETLOOKING" in m or "Has_Caps" in m for m in msgs)
    assert msgs[0].startswith(f"{PROJECT}:cognito.userPoolId: has the wrong format")
    assert msgs[1].startswith(f"{PROJECT}:cognito.domainPrefix: has the wrong format")
    assert "aws, amazon or cognito" in problems(cognito_settings(domainPrefix="my-cognito-login"))[0]


def test_settings_identity_providers_and_ranges():
    assert "entry 1 is not an identity provider name" in problems(
        cognito_settings(identityProviders=["COGNITO", "bad name"]))[0]
    assert "contains duplicates" in problems(cognito_settings(identityProviders=["COGNITO", "COGNITO"]))[0]
    assert problems(cognito_settings(accessTokenLifetimeMinutes=4))[0].startswith(
        f"{PROJECT}:cognito.accessTokenLifetimeMinutes:")
    assert problems(cognito_settings(refreshTokenLifetimeDays=3651))[0].startswith(
        f"{PROJECT}:cognito.refreshTokenLifetimeDays:")


# -- token validity units: Cognito's defaults when a unit is unset -------------------------------------------
# AWS::Cognito::UserPoolClient TokenValidityUnits: "The default unit for RefreshToken is days, and the default for
# ID and access tokens is hours" (pulumi-aws / terraform-provider-aws tokenValidityUnits say the same).


def _without_unit(unit: str):
    return client(lambda i: i["tokenValidityUnits"].pop(unit))


def test_access_token_validity_without_a_unit_is_read_as_hours_and_fails(base):
    changed = _without_unit("accessToken")(base["dev"])
    assert only_new_failure(base["dev"], changed) == {"COGNITO-AT-LIFETIME"}
    row = results(changed, "dev")["COGNITO-AT-LIFETIME"].finding
    assert row.declared == "client fpb-plaid-client: accessTokenValidity 15 hours"


def test_access_token_validity_without_any_units_block_is_read_as_hours_and_fails(base):
    changed = client(lambda i: i.pop("tokenValidityUnits"))(base["dev"])
    row = results(changed, "dev")["COGNITO-AT-LIFETIME"].finding
    assert row.status is Status.FAIL and row.declared == "client fpb-plaid-client: accessTokenValidity 15 hours"


def test_refresh_token_validity_without_a_unit_is_read_as_days(base):
    def change(i):
        i["tokenValidityUnits"].pop("refreshToken")
        i["refreshTokenValidity"] = plaid.REFRESH_TOKEN_MIN_DAYS

    changed = client(change)(base["dev"])
    row = results(changed, "dev")["COGNITO-RT-LIFETIME"].finding
    assert row.status is Status.PASS
    assert row.declared.startswith(f"client fpb-plaid-client: refreshTokenValidity {plaid.REFRESH_TOKEN_MIN_DAYS} days")


@pytest.mark.parametrize(("value", "unit", "passes"), [
    (900, "seconds", True), (1, "hours", False), (899, "seconds", False), (901, "seconds", False),
    (14, "minutes", False), (16, "minutes", False), ("15", "minutes", False), (15, "fortnights", False),
])
def test_access_token_validity_is_judged_in_seconds_whatever_the_unit(base, value, unit, passes):
    def change(i):
        i["accessTokenValidity"] = value
        i["tokenValidityUnits"]["accessToken"] = unit

    row = results(client(change)(base["dev"]), "dev")["COGNITO-AT-LIFETIME"].finding
    assert (row.status is Status.PASS) is passes
    assert row.declared == f"client fpb-plaid-client: accessTokenValidity {value} {unit}"


# -- the adapter and secret rows at their edges (found by `make mutation`) -----------------------------------

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def test_adapter_row_names_each_variable_known_or_after_apply(base):
    row = results(base["dev"], "dev")["COGNITO-ADAPTER"].finding
    assert row.status is Status.PASS
    assert row.declared == (
        "scope adapter fpb-scope-adapter-fn: UPSTREAM_ISSUER=(known after apply), UPSTREAM_BASE_URL="
        "https://first-platypus-dev.auth.us-east-1.amazoncognito.com, PUBLIC_BASE_URL=(known after apply); its "
        "discovery advertises openid offline_access, its authorize strips offline_access")


def test_adapter_row_lists_every_missing_and_non_https_variable(base):
    def change(v):
        v.pop("PUBLIC_BASE_URL")
        v.pop("UPSTREAM_ISSUER")
        v["UPSTREAM_BASE_URL"] = "http://fpb.example"

    row = results(adapter_env(change)(base["dev"]), "dev")["COGNITO-ADAPTER"].finding
    assert row.status is Status.FAIL
    assert row.declared.endswith("; UPSTREAM_ISSUER, PUBLIC_BASE_URL not set; UPSTREAM_BASE_URL not https")


def test_adapter_row_names_only_the_problem_there_is(base):
    row = results(adapter_env(lambda v: v.update(UPSTREAM_BASE_URL="http://fpb.example"))(base["dev"]),
                  "dev")["COGNITO-ADAPTER"].finding
    assert row.declared.endswith("PUBLIC_BASE_URL=(known after apply); UPSTREAM_BASE_URL not https")
    both_routes = [r for r in base["dev"] if r.type != "aws:apigateway/resource:Resource"]
    row = results(both_routes, "dev")["COGNITO-ADAPTER"].finding
    assert row.declared.endswith("PUBLIC_BASE_URL=(known after apply); no route for "
                                 "/.well-known/openid-configuration, /oauth2/authorize")
    two = adapter_env(lambda v: v.update(UPSTREAM_BASE_URL="http://a.example", UPSTREAM_ISSUER="http://b.example"))
    row = results(two(base["dev"]), "dev")["COGNITO-ADAPTER"].finding
    assert row.declared.endswith("PUBLIC_BASE_URL=(known after apply); UPSTREAM_ISSUER, UPSTREAM_BASE_URL not https")


def test_generated_secret_stored_in_plain_text_fails_the_secret_rule(base):
    changed = mutate(base["dev"], SECRET_VERSION, lambda r: True, lambda i: i.update(secretString="plain"))
    assert only_new_failure(base["dev"], changed) >= {"COGNITO-SECRET"}
    assert results(changed, "dev")["COGNITO-SECRET"].finding.declared == (
        "secret version fpb-plaid-credentials-version: secretString not a Pulumi secret")


def test_generated_secret_known_only_after_apply_is_accepted(base):
    changed = mutate(base["dev"], SECRET_VERSION, lambda r: True, lambda i: i.update(secretString=UNKNOWN))
    assert results(changed, "dev")["COGNITO-SECRET"].finding.status is Status.CLOSEST
