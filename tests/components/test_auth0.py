"""PlaidAuth0Tenant under Pulumi's mock engine: every child's type, name, parent and security input."""

from __future__ import annotations

import json
import shutil
import subprocess

import pulumi
import pytest

import plaid_contract as plaid
from components.auth0 import (
    AUTH0_MAX_REFRESH_LIFETIME_SECONDS,
    TYPE,
    Auth0TenantArgs,
    PlaidAuth0Tenant,
    action_code,
)
from components.client_secret import TYPE as SECRET_TYPE
from tests.harness import declare, is_secret, settings_with

API = "auth0:index/resourceServer:ResourceServer"
CLIENT = "auth0:index/client:Client"
CREDS = "auth0:index/clientCredentials:ClientCredentials"
TENANT = "auth0:index/tenant:Tenant"
ACTION = "auth0:index/action:Action"
TRIGGER = "auth0:index/triggerActions:TriggerActions"
PROVIDER = "pulumi:providers:auth0"
RANDOM = "random:index/randomBytes:RandomBytes"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def build(**changes):
    s = settings_with(**changes)

    def program():
        from components.settings import parse_settings
        from tests.harness import config_of

        t = PlaidAuth0Tenant("fpb", Auth0TenantArgs(parse_settings(config_of(s))))
        pulumi.export("env", t.contract.lambda_environment())
        pulumi.export("contract", t.contract.outputs())
    return declare(program, settings=s)


@pytest.fixture(scope="module")
def dev():
    return build()


def test_children_exact_types_names_parents(dev):
    comp = dev.one(TYPE, "fpb")
    direct = sorted((r.type, r.name) for r in dev.resources if r.parent_urn == comp.urn)
    assert direct == sorted([(PROVIDER, "fpb-auth0"), (API, "fpb-api"), (CLIENT, "fpb-plaid-client"),
                             (CREDS, "fpb-plaid-client-credentials"), (TENANT, "fpb-tenant"),
                             (SECRET_TYPE, "fpb-plaid-credentials")])
    secret_comp = dev.one(SECRET_TYPE)
    assert {r.name for r in dev.resources if r.parent_urn == secret_comp.urn} == {
        "fpb-plaid-credentials", "fpb-plaid-credentials-key", "fpb-plaid-credentials-key-alias",
        "fpb-plaid-credentials-value", "fpb-plaid-credentials-version"}
    assert dev.of_type(ACTION) == [] and dev.of_type(TRIGGER) == []


def test_provider_is_the_tenant_in_settings(dev):
    assert dev.one(PROVIDER).input("domain") == "first-platypus-dev.us.auth0.com"


def test_api(dev):
    api = dev.one(API, "fpb-api")
    assert api.input("identifier") == "https://api.firstplatypus.example/fdx"
    assert api.input("signingAlg") == "RS256"
    assert api.input("tokenLifetime") == plaid.ACCESS_TOKEN_LIFETIME_SECONDS == 900
    assert api.input("tokenLifetimeForWeb") == 900
    assert api.input("allowOfflineAccess") is True
    assert api.input("skipConsentForVerifiableFirstPartyClients") is True
    assert api.input("tokenDialect") == "rfc9068_profile"


def test_plaid_client(dev):
    c = dev.one(CLIENT, "fpb-plaid-client")
    assert c.input("appType") == "regular_web" and c.input("oidcConformant") is True
    assert c.input("isFirstParty") is True
    assert c.input("grantTypes") == ["authorization_code", "refresh_token"]
    assert c.input("callbacks") == [plaid.PLAID_REDIRECT_URI]
    assert c.input("jwtConfiguration") == {"alg": "RS256", "lifetimeInSeconds": 3600}
    assert c.input("refreshToken") == {
        "rotationType": "rotating", "expirationType": "expiring", "infiniteTokenLifetime": True,
        "tokenLifetime": AUTH0_MAX_REFRESH_LIFETIME_SECONDS, "infiniteIdleTokenLifetime": False,
        "idleTokenLifetime": AUTH0_MAX_REFRESH_LIFETIME_SECONDS, "leeway": 10}


def test_client_secret_is_one_value_in_auth0_and_secrets_manager(dev):
    creds = dev.one(CREDS)
    assert creds.input("authenticationMethod") == "client_secret_basic"
    raw = creds.inputs["clientSecret"]
    assert is_secret(raw)
    rnd = dev.one(RANDOM)
    from readiness.engine import computed_outputs

    hex_value = computed_outputs(rnd.type, rnd.name, rnd.inputs)["hex"]
    assert raw.value == hex_value and len(hex_value) == 64
    stored = json.loads(dev.one(VERSION).inputs["secretString"].value)
    client_id = creds.input("clientId")
    assert stored == {"client_id": client_id, "client_secret": hex_value}
    assert client_id and dev.one(CLIENT).urn in creds.dependencies


def test_tenant_default_audience_is_the_api(dev):
    assert dev.one(TENANT).input("defaultAudience") == "https://api.firstplatypus.example/fdx"


def test_contract_and_lambda_environment(dev):
    env = dev.outputs["env"]
    assert env == {"TOKEN_ISSUER": "https://first-platypus-dev.us.auth0.com/",
                   "JWKS_URI": "https://first-platypus-dev.us.auth0.com/.well-known/jwks.json",
                   "TOKEN_ALGORITHMS": "RS256", "CONSISTENCY_KEY_CLAIM": "sub",
                   "TOKEN_AUDIENCE": "https://api.firstplatypus.example/fdx",
                   # Plaid's client only: Auth0's RFC 9068 profile names the client in `client_id`.
                   "TOKEN_CLIENT_ID": dev.outputs["contract"]["client_id"], "TOKEN_CLIENT_CLAIM": "client_id"}
    contract = dev.outputs["contract"]
    assert contract["discovery_url"] == "https://first-platypus-dev.us.auth0.com/.well-known/openid-configuration"
    assert contract["token_endpoint"] == "https://first-platypus-dev.us.auth0.com/oauth/token"
    assert contract["credentials_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert not any(is_secret(v) for v in contract.values())


def test_prod_protects_identity_and_secret_state():
    d = build(environment="prod")
    assert {r.name for r in d.custom() if r.protect} == {
        "fpb-api", "fpb-plaid-client", "fpb-plaid-credentials", "fpb-plaid-credentials-key"}


def test_dev_protects_nothing(dev):
    assert not any(r.protect for r in dev.resources)


def _comparable(d):
    return {(r.type, r.name): r.inputs for r in d.custom() if r.type != TENANT}


def test_default_audience_switch_off_removes_only_the_tenant(dev):
    off = build(auth0={"domain": "first-platypus-dev.us.auth0.com", "setDefaultAudience": False})
    assert off.of_type(TENANT) == []
    assert _comparable(off) == _comparable(dev)


def test_attribute_mapping_adds_the_action_and_changes_the_claim():
    d = build(scopes=["offline_access"], consistencyKey={"attribute": "app_metadata.customer_id"})
    action = d.one(ACTION, "fpb-consistency-key")
    assert action.input("runtime") == "node22" and action.input("deploy") is True
    assert action.input("supportedTriggers") == {"id": "post-login", "version": "v3"}
    code = action.input("code")
    assert '"https://api.firstplatypus.example/fdx/consistency_key"' in code
    assert '["app_metadata", "customer_id"]' in code
    trig = d.one(TRIGGER, "fpb-post-login")
    assert trig.input("trigger") == "post-login" and trig.input("actions")[0]["id"] == "fpb-consistency-key-id"
    assert d.outputs["env"]["CONSISTENCY_KEY_CLAIM"] == "https://api.firstplatypus.example/fdx/consistency_key"


ACTION_HARNESS = """
const m = {exports: {}};
new Function("exports", require("fs").readFileSync(0, "utf8"))(m.exports);
const results = [];
for (const user of JSON.parse(process.argv[1])) {
  const out = {};
  await m.exports.onExecutePostLogin({user}, {
    access: {deny: (msg) => { out.denied = msg; }},
    accessToken: {setCustomClaim: (k, v) => { out[k] = v; }},
  });
  results.push(out);
}
console.log(JSON.stringify(results));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_action_code_runs_in_node():
    claim = "https://api.fpb.example/consistency_key"
    users = [{"app_metadata": {"customer_id": "C0012345"}}, {"app_metadata": {"customer_id": "C01"}},
             {"app_metadata": {}}, {}, {"app_metadata": {"customer_id": 12345678}}]
    code = action_code(claim, "app_metadata.customer_id")
    out = subprocess.run(["node", "--input-type=module", "-e",
                          "import {createRequire} from 'module'; const require = createRequire(import.meta.url);"
                          + ACTION_HARNESS, json.dumps(users)], input=code, capture_output=True, text=True,
                         timeout=30, check=True)
    results = json.loads(out.stdout)
    assert results[0] == {claim: "C0012345"}
    for denied in results[1:4]:
        assert denied == {"denied": "Account setup incomplete: app_metadata.customer_id must be a string of at "
                                    f"least {plaid.CONSISTENCY_KEY_MIN_LENGTH} characters"}
    assert results[4] == {claim: "12345678"}


def test_component_refuses_settings_without_auth0():
    from components.settings import parse_settings
    from tests.harness import config_of

    s = parse_settings(config_of(settings_with(idp="okta", auth0=None, okta={"orgUrl": "https://fpb.okta.com"})))
    with pytest.raises(ValueError, match="needs settings with an auth0 section"):
        declare(lambda: PlaidAuth0Tenant("x", Auth0TenantArgs(s)))
