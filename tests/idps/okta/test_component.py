"""PlaidOktaTenant under Pulumi's mock engine: every child's type, name, parent and security input."""

from __future__ import annotations

import copy
import json

import pulumi
import pytest

import plaid_contract as plaid
from components.client_secret import TYPE as SECRET_TYPE
from components.idps.okta.component import TYPE, OktaTenantArgs, PlaidOktaTenant, tenant
from components.idps.okta.mocks import EVERYONE_GROUP_ID as OKTA_EVERYONE_GROUP_ID
from components.idps.okta.settings import MAX_REFRESH_WINDOW_MINUTES
from components.settings import PROJECT, SettingsError, parse_settings
from readiness import engine
from readiness.checklist import Context, all_rules, evaluate
from readiness.engine import SecretValue, computed_outputs, run_program
from readiness.plan import PlanReport, load_stack_config
from tests.harness import ROOT, config_of, declare, is_secret, settings_with

SERVER = "okta:auth/server:Server"
POLICY = "okta:auth/serverPolicy:ServerPolicy"
RULE = "okta:auth/serverPolicyRule:ServerPolicyRule"
APP = "okta:app/oAuth:OAuth"
ASSIGN = "okta:app/groupAssignment:GroupAssignment"
PROVIDER = "pulumi:providers:okta"
RANDOM_ID = "random:index/randomId:RandomId"
RANDOM = "random:index/randomBytes:RandomBytes"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
EVERYONE_ID = OKTA_EVERYONE_GROUP_ID
ORG = "https://first-platypus.okta.com"
AUDIENCE = "https://api.firstplatypus.example/fdx"
GROUPS = ["00g1a2b3c4d5e6f7g8h9", "00g9h8g7f6e5d4c3b2a1"]

OKTA_SETTINGS = settings_with(idp="okta", auth0=None, okta={"orgUrl": ORG})


def okta_settings(**okta_changes):
    s = copy.deepcopy(OKTA_SETTINGS)
    s["okta"].update(okta_changes)
    return s


def build(settings=None, *, compute: bool = True):
    s = settings or OKTA_SETTINGS

    def program():
        contract = tenant(parse_settings(config_of(s)))
        pulumi.export("env", contract.lambda_environment())
        pulumi.export("contract", contract.outputs())
    return declare(program, settings=s, compute=compute)


@pytest.fixture(scope="module")
def dev():
    return build()


def client_id_hex(d) -> str:
    rid = d.one(RANDOM_ID)
    return computed_outputs(rid.type, rid.name, rid.inputs)["hex"]


def test_children_exact_types_names_parents(dev):
    comp = dev.one(TYPE, "fpb")
    direct = sorted((r.type, r.name) for r in dev.resources if r.parent_urn == comp.urn)
    assert direct == sorted([(SERVER, "fpb-auth-server"), (RANDOM_ID, "fpb-plaid-client-id"),
                             (SECRET_TYPE, "fpb-plaid-credentials"), (APP, "fpb-plaid-app"),
                             (POLICY, "fpb-plaid-policy"), (RULE, "fpb-plaid-rule"),
                             (ASSIGN, "fpb-plaid-app-everyone")])
    # The provider comes in through opts.providers: a root resource, not a child.
    assert dev.one(PROVIDER, "fpb-okta").parent_urn != comp.urn
    secret_comp = dev.one(SECRET_TYPE)
    assert {r.name for r in dev.resources if r.parent_urn == secret_comp.urn} == {
        "fpb-plaid-credentials", "fpb-plaid-credentials-key", "fpb-plaid-credentials-key-alias",
        "fpb-plaid-credentials-value", "fpb-plaid-credentials-version",
        "fpb-plaid-credentials-policy"}  # the harness stacks list a secret reader (clientSecret.readers)


def test_provider_is_the_org_in_settings_without_credentials_in_plain_text(dev):
    p = dev.one(PROVIDER)
    assert p.inputs == {"orgName": "first-platypus", "baseUrl": "okta.com"}


def test_every_okta_resource_uses_the_provider_it_was_given(dev):
    provider = dev.one(PROVIDER)
    okta_resources = [r for r in dev.custom() if r.type.startswith("okta:")]
    assert {r.type for r in okta_resources} == {SERVER, APP, POLICY, RULE, ASSIGN}
    assert all(r.provider.startswith(f"{provider.urn}::") for r in okta_resources)


def test_the_provider_is_aliased_to_its_old_parent(monkeypatch):
    """The provider was the component's child; an alias to that parent lets `pulumi up` move it in state."""
    aliases: dict[str, list] = {}
    register = engine.RecordingMonitor.RegisterResource

    def spy(self, request):
        aliases[request.name] = list(request.aliases)
        return register(self, request)

    monkeypatch.setattr(engine.RecordingMonitor, "RegisterResource", spy)
    build()
    # The URN Pulumi's engine gives a component at the root of the stack (the mock monitor adds the Stack's type).
    assert [a.spec.parentUrn for a in aliases["fpb-okta"]] == [f"urn:pulumi:test::plaid-ready-idp::{TYPE}::fpb"]


def test_provider_credentials_come_from_okta_config_and_the_key_stays_secret():
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    cfg = config_of(OKTA_SETTINGS, {"okta:clientId": "0oa1a2b3c4d5e6f7g8h9", "okta:privateKey": key,
                                    "okta:privateKeyId": "kid-1", "okta:scopes": "okta.apps.manage, okta.groups.read"})

    def program():
        tenant(parse_settings(config_of(OKTA_SETTINGS)))
    run = run_program(ROOT, PROJECT, "test", cfg, ["okta:privateKey"], compute=True, entry=program)
    p = next(r for r in run.resources if r.type == PROVIDER)
    assert p.input("clientId") == "0oa1a2b3c4d5e6f7g8h9" and p.input("privateKeyId") == "kid-1"
    assert p.inputs["privateKey"] == SecretValue(key)
    # The provider SDK passes its list-typed config as JSON text.
    assert json.loads(p.input("scopes")) == ["okta.apps.manage", "okta.groups.read"]
    assert "apiToken" not in p.inputs


def test_authorization_server(dev):
    srv = dev.one(SERVER, "fpb-auth-server")
    assert srv.input("audiences") == [AUDIENCE]
    assert srv.input("issuerMode") == "ORG_URL"
    assert srv.input("credentialsRotationMode") == "AUTO"
    assert srv.input("name") == "First Platypus Bank Core Exchange (dev)"


def test_policy_covers_plaids_client_only(dev):
    pol = dev.one(POLICY, "fpb-plaid-policy")
    assert pol.input("authServerId") == "fpb-auth-server-id"
    assert pol.input("clientWhitelists") == [client_id_hex(dev)]
    assert pol.input("priority") == 1
    assert dev.one(APP).urn in pol.dependencies


def test_policy_rule(dev):
    rule = dev.one(RULE, "fpb-plaid-rule")
    assert rule.input("authServerId") == "fpb-auth-server-id"
    assert rule.input("policyId") == "fpb-plaid-policy-id"
    assert rule.input("priority") == 1
    assert rule.input("grantTypeWhitelists") == ["authorization_code"]
    assert rule.input("scopeWhitelists") == ["openid", "offline_access"]
    assert rule.input("groupWhitelists") == ["EVERYONE"]
    assert rule.input("accessTokenLifetimeMinutes") == plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60 == 15
    assert rule.input("refreshTokenLifetimeMinutes") == 0  # unlimited
    assert rule.input("refreshTokenWindowMinutes") == MAX_REFRESH_WINDOW_MINUTES == 2_628_000
    for absent in ("userWhitelists", "groupBlacklists", "userBlacklists", "inlineHookId"):
        assert absent not in rule.inputs


def test_plaid_app(dev):
    app = dev.one(APP, "fpb-plaid-app")
    expected = {
        "label": "Plaid (First Platypus Bank)", "type": "web",
        "grantTypes": ["authorization_code", "refresh_token"], "responseTypes": ["code"],
        "redirectUris": [plaid.PLAID_REDIRECT_URI], "wildcardRedirect": "DISABLED",
        "tokenEndpointAuthMethod": "client_secret_basic", "omitSecret": False, "pkceRequired": False,
        "refreshTokenRotation": "ROTATE", "refreshTokenLeeway": 30, "consentMethod": "TRUSTED",
        "issuerMode": "ORG_URL", "hideIos": True, "hideWeb": True,
    }
    assert {k: app.input(k) for k in expected} == expected
    assert set(app.inputs) == set(expected) | {"clientId", "clientBasicSecret"}


def test_client_id_is_16_csprng_bytes_hex(dev):
    rid = dev.one(RANDOM_ID, "fpb-plaid-client-id")
    assert rid.input("byteLength") == plaid.CLIENT_ID_BYTES == 16
    hex_id = client_id_hex(dev)
    assert len(hex_id) == 32 and dev.one(APP).input("clientId") == hex_id
    assert rid.urn in dev.one(APP).dependencies


def test_client_secret_is_one_value_in_okta_and_secrets_manager(dev):
    app = dev.one(APP)
    raw = app.inputs["clientBasicSecret"]
    assert is_secret(raw)
    rnd = dev.one(RANDOM)
    hex_value = computed_outputs(rnd.type, rnd.name, rnd.inputs)["hex"]
    assert raw.value == hex_value and len(hex_value) == 64
    stored = json.loads(dev.one(VERSION).inputs["secretString"].value)
    assert stored == {"client_id": client_id_hex(dev), "client_secret": hex_value}
    assert "clientBasicSecret" in app.secret_outputs and "clientSecret" in app.secret_outputs


def test_everyone_group_is_assigned_by_default(dev):
    a = dev.one(ASSIGN, "fpb-plaid-app-everyone")
    assert a.input("appId") == "fpb-plaid-app-id" and a.input("groupId") == EVERYONE_ID


def test_configured_groups_replace_everyone():
    d = build(okta_settings(groups=GROUPS))
    assert sorted(r.name for r in d.of_type(ASSIGN)) == sorted(f"fpb-plaid-app-{g}" for g in GROUPS)
    assert {r.input("groupId") for r in d.of_type(ASSIGN)} == set(GROUPS)
    assert all(r.input("appId") == "fpb-plaid-app-id" for r in d.of_type(ASSIGN))
    assert d.one(RULE).input("groupWhitelists") == GROUPS


def test_contract_and_lambda_environment(dev):
    iss = f"{ORG}/oauth2/fpb-auth-server-id"
    cid = client_id_hex(dev)
    assert dev.outputs["env"] == {
        "TOKEN_ISSUER": iss, "JWKS_URI": f"{iss}/v1/keys", "TOKEN_ALGORITHMS": "RS256",
        "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_CLIENT_ID": cid, "TOKEN_CLIENT_CLAIM": "cid",
        # The Okta user id (= id_token sub); the access token's sub is the app username, usually the email.
        "CONSISTENCY_KEY_CLAIM": "uid"}
    contract = dev.outputs["contract"]
    assert contract == {
        "issuer": iss, "discovery_url": f"{iss}/.well-known/openid-configuration", "jwks_uri": f"{iss}/v1/keys",
        "authorize_endpoint": f"{iss}/v1/authorize", "token_endpoint": f"{iss}/v1/token", "audience": AUDIENCE,
        "client_id": cid, "credentials_secret_arn": contract["credentials_secret_arn"]}
    assert contract["credentials_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert not any(is_secret(v) for v in contract.values())


def test_preview_leaves_cloud_values_unknown_and_the_secret_secret():
    d = build(compute=False)
    app = d.one(APP)
    assert is_secret(app.inputs["clientBasicSecret"])
    from readiness.engine import is_unknown

    assert is_unknown(app.inputs["clientId"])
    assert is_unknown(d.outputs["contract"]["issuer"]) and is_unknown(d.outputs["env"]["TOKEN_CLIENT_ID"])
    assert d.outputs["env"]["CONSISTENCY_KEY_CLAIM"] == "uid" and d.outputs["env"]["TOKEN_CLIENT_CLAIM"] == "cid"


def test_custom_domain_moves_the_issuer():
    d = build(okta_settings(customDomain="login.firstplatypus.example"))
    assert d.one(SERVER).input("issuerMode") == "CUSTOM_URL" and d.one(APP).input("issuerMode") == "CUSTOM_URL"
    iss = "https://login.firstplatypus.example/oauth2/fpb-auth-server-id"
    assert d.outputs["contract"]["issuer"] == iss
    assert d.outputs["contract"]["discovery_url"] == f"{iss}/.well-known/openid-configuration"
    # The provider still manages the org itself.
    assert d.one(PROVIDER).input("orgName") == "first-platypus"


def test_existing_authorization_server_is_attached_not_created():
    d = build(okta_settings(authorizationServerId="aus1a2b3c4d5e6f7g8h9"))
    assert d.of_type(SERVER) == []
    assert d.one(POLICY).input("authServerId") == "aus1a2b3c4d5e6f7g8h9"
    assert d.one(RULE).input("authServerId") == "aus1a2b3c4d5e6f7g8h9"
    assert d.outputs["contract"]["issuer"] == f"{ORG}/oauth2/aus1a2b3c4d5e6f7g8h9"


def test_manual_key_rotation():
    d = build(okta_settings(keyRotation="MANUAL"))
    assert d.one(SERVER).input("credentialsRotationMode") == "MANUAL"


def test_dev_protects_the_client_id_and_app_only(dev):
    # Okta takes a client id only at create: a change replaces the app, so both are protected everywhere.
    assert {r.name for r in dev.resources if r.protect} == {"fpb-plaid-app", "fpb-plaid-client-id"}


def test_prod_protects_identity_and_secret_state():
    d = build(settings_with(idp="okta", auth0=None, environment="prod", okta={"orgUrl": ORG}))
    assert {r.name for r in d.custom() if r.protect} == {
        "fpb-plaid-app", "fpb-plaid-client-id", "fpb-auth-server", "fpb-plaid-credentials",
        "fpb-plaid-credentials-key"}


def test_component_refuses_settings_without_okta():
    s = parse_settings(config_of(settings_with()))
    with pytest.raises(ValueError, match="needs settings with an okta section"):
        declare(lambda: PlaidOktaTenant("x", OktaTenantArgs.from_settings(s)))


def test_consistency_key_attribute_is_refused_with_a_clear_message():
    s = settings_with(idp="okta", auth0=None, okta={"orgUrl": ORG}, scopes=["offline_access"],
                      consistencyKey={"attribute": "profile.customerId"})
    with pytest.raises(SettingsError, match="consistencyKey.attribute: not supported on okta"):
        parse_settings(config_of(s))


def test_no_generated_secret_in_plan_text_json_or_exports():
    """The example stack with computed outputs: the generated secret flows into Okta and Secrets Manager as a
    Pulumi secret and appears in no rendering of the plan and no export."""
    cfg = load_stack_config(ROOT, "okta-example")
    run = run_program(ROOT, cfg.project, "okta-example", cfg.config, cfg.secret_keys, compute=True)
    rnd = next(r for r in run.resources if r.type == RANDOM)
    out = computed_outputs(rnd.type, rnd.name, rnd.inputs)
    values = [out["hex"], out["base64"]]
    report = PlanReport(cfg, run.resources, run.outputs, evaluate(all_rules(), Context(run.resources, "dev")))
    rendered = report.to_text() + json.dumps(report.to_json())
    for value in values:
        assert value not in rendered
    app = next(r for r in run.resources if r.type == APP)
    assert app.inputs["clientBasicSecret"] == SecretValue(values[0])  # it did flow, as a secret
    for key, value in run.outputs.items():
        assert not any(v in json.dumps(str(value)) for v in values), key
