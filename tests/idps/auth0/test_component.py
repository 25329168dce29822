"""PlaidAuth0Tenant under Pulumi's mock engine: every child's type, name, parent and security input."""

from __future__ import annotations

import json
import shutil
import subprocess

import pulumi
import pytest

import plaid_contract as plaid
from components.client_secret import TYPE as SECRET_TYPE
from components.idps.auth0.component import (
    AUTH0_MAX_REFRESH_LIFETIME_SECONDS,
    TYPE,
    Auth0TenantArgs,
    PlaidAuth0Tenant,
    action_code,
    tenant,
)
from readiness import engine
from tests.harness import declare, is_secret, settings_with

API = "auth0:index/resourceServer:ResourceServer"
CLIENT = "auth0:index/client:Client"
CREDS = "auth0:index/clientCredentials:ClientCredentials"
TENANT = "auth0:index/tenant:Tenant"
ACTION = "auth0:index/action:Action"
TRIGGER = "auth0:index/triggerAction:TriggerAction"
TRIGGERS_ALL = "auth0:index/triggerActions:TriggerActions"
PROVIDER = "pulumi:providers:auth0"
RANDOM = "random:index/randomBytes:RandomBytes"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def build(**changes):
    s = settings_with(**changes)

    def program():
        from components.settings import parse_settings
        from tests.harness import config_of

        contract = tenant(parse_settings(config_of(s)))
        pulumi.export("env", contract.lambda_environment())
        pulumi.export("contract", contract.outputs())
    return declare(program, settings=s)


@pytest.fixture(scope="module")
def dev():
    return build()


def test_children_exact_types_names_parents(dev):
    comp = dev.one(TYPE, "fpb")
    direct = sorted((r.type, r.name) for r in dev.resources if r.parent_urn == comp.urn)
    assert direct == sorted([(API, "fpb-api"), (CLIENT, "fpb-plaid-client"),
                             (CREDS, "fpb-plaid-client-credentials"), (TENANT, "fpb-tenant"),
                             (SECRET_TYPE, "fpb-plaid-credentials")])
    # The provider comes in through opts.providers: a root resource, not a child.
    assert dev.one(PROVIDER, "fpb-auth0").parent_urn != comp.urn
    secret_comp = dev.one(SECRET_TYPE)
    assert {r.name for r in dev.resources if r.parent_urn == secret_comp.urn} == {
        "fpb-plaid-credentials", "fpb-plaid-credentials-key", "fpb-plaid-credentials-key-alias",
        "fpb-plaid-credentials-policy", "fpb-plaid-credentials-value", "fpb-plaid-credentials-version"}
    assert dev.of_type(ACTION) == [] and dev.of_type(TRIGGER) == [] and dev.of_type(TRIGGERS_ALL) == []


def test_provider_is_the_tenant_in_settings(dev):
    assert dev.one(PROVIDER).input("domain") == "first-platypus-dev.us.auth0.com"


def test_every_auth0_resource_uses_the_provider_it_was_given(dev):
    provider = dev.one(PROVIDER)
    auth0_resources = [r for r in dev.custom() if r.type.startswith("auth0:")]
    assert {r.name for r in auth0_resources} == {"fpb-api", "fpb-plaid-client", "fpb-plaid-client-credentials",
                                                 "fpb-tenant"}
    assert all(r.provider.startswith(f"{provider.urn}::") for r in auth0_resources)


def test_the_provider_is_aliased_to_its_old_parent(monkeypatch):
    """The provider was the component's child; an alias to that parent lets `pulumi up` move it in state."""
    aliases: dict[str, list] = {}
    register = engine.RecordingMonitor.RegisterResource

    def spy(self, request):
        aliases[request.name] = list(request.aliases)
        return register(self, request)

    monkeypatch.setattr(engine.RecordingMonitor, "RegisterResource", spy)
    d = build()
    assert d.one(TYPE, "fpb").urn.endswith(f"{TYPE}::fpb")
    # The URN Pulumi's engine gives a component at the root of the stack (the mock monitor adds the Stack's type).
    assert [a.spec.parentUrn for a in aliases["fpb-auth0"]] == [f"urn:pulumi:test::plaid-ready-idp::{TYPE}::fpb"]
    assert aliases["fpb-api"] == []


def test_api(dev):
    api = dev.one(API, "fpb-api")
    assert api.input("identifier") == "https://api.firstplatypus.example/fdx"
    assert api.input("signingAlg") == "RS256"
    assert api.input("tokenLifetime") == plaid.ACCESS_TOKEN_LIFETIME_SECONDS == 900
    assert api.input("tokenLifetimeForWeb") == 900
    assert api.input("allowOfflineAccess") is True
    assert api.input("skipConsentForVerifiableFirstPartyClients") is True
    assert api.input("tokenDialect") == "rfc9068_profile"
    # User-delegated access only: no client-credentials (machine-to-machine) token for this API.
    assert api.input("subjectTypeAuthorization") == {"user": {"policy": "allow_all"},
                                                     "client": {"policy": "deny_all"}}


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


ATTRIBUTE = {"scopes": ["offline_access"], "consistencyKey": {"attribute": "app_metadata.customer_id"}}


def test_attribute_mapping_adds_the_action_and_one_binding():
    d = build(**ATTRIBUTE)
    action = d.one(ACTION, "fpb-consistency-key")
    assert action.input("runtime") == "node22" and action.input("deploy") is True
    assert action.input("supportedTriggers") == {"id": "post-login", "version": "v3"}
    client_id = d.outputs["contract"]["client_id"]
    assert action.input("code") == action_code(claim="https://api.firstplatypus.example/fdx/consistency_key",
                                               attribute="app_metadata.customer_id", client_id=client_id)
    assert d.one(CLIENT).urn in action.dependencies
    # One binding (TriggerAction), never TriggerActions, which would unbind the tenant's other Actions.
    assert d.of_type(TRIGGERS_ALL) == []
    trig = d.one(TRIGGER, "fpb-post-login")
    assert trig.input("trigger") == "post-login" and trig.input("actionId") == "fpb-consistency-key-id"
    assert trig.input("displayName") == "plaid-consistency-key-fpb-dev"
    assert trig.parent_urn == d.one(TYPE).urn and action.urn in trig.dependencies
    assert d.outputs["env"]["CONSISTENCY_KEY_CLAIM"] == "https://api.firstplatypus.example/fdx/consistency_key"


def test_action_source_holds_its_config_as_one_json_object():
    code = action_code(claim="https://x.example/c", attribute="app_metadata.id", client_id="abc")
    config_line = next(line for line in code.splitlines() if line.startswith("const CONFIG = "))
    assert json.loads(config_line.removeprefix("const CONFIG = ").removesuffix(";")) == {
        "attribute": ["app_metadata", "id"], "claim": "https://x.example/c", "clientId": "abc",
        "minLength": plaid.CONSISTENCY_KEY_MIN_LENGTH}
    assert "__CONFIG__" not in code and code.count("const CONFIG = ") == 1


def test_action_template_must_hold_the_placeholder_once(tmp_path, monkeypatch):
    import components.idps.auth0.component as mod

    bad = tmp_path / "a.js"
    bad.write_text("const A = __CONFIG__; const B = __CONFIG__;")
    monkeypatch.setattr(mod, "ACTION_SOURCE", bad)
    with pytest.raises(ValueError, match="must hold __CONFIG__ exactly once"):
        action_code(claim="https://x.example/c", attribute="app_metadata.id", client_id="abc")


ACTION_HARNESS = """
const m = {exports: {}};
new Function("exports", require("fs").readFileSync(0, "utf8"))(m.exports);
const results = [];
for (const [clientId, user] of JSON.parse(process.argv[1])) {
  const out = {};
  await m.exports.onExecutePostLogin({user, client: {client_id: clientId}}, {
    access: {deny: (msg) => { out.denied = msg; }},
    accessToken: {setCustomClaim: (k, v) => { out[k] = v; }},
  });
  results.push(out);
}
console.log(JSON.stringify(results));
"""
PLAID, OTHER = "plaid-client-id-123", "bank-mobile-app-456"


def run_action(code: str, logins: list) -> list:
    out = subprocess.run(["node", "--input-type=module", "-e",
                          "import {createRequire} from 'module'; const require = createRequire(import.meta.url);"
                          + ACTION_HARNESS, json.dumps(logins)], input=code, capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
DENIED = {"denied": "Account setup incomplete: app_metadata.customer_id must be a string of at least "
                    f"{plaid.CONSISTENCY_KEY_MIN_LENGTH} characters"}


@needs_node
def test_action_for_plaids_client_sets_the_claim_or_refuses():
    claim = "https://api.fpb.example/consistency_key"
    users = [{"app_metadata": {"customer_id": "C0012345"}}, {"app_metadata": {"customer_id": "C01"}},
             {"app_metadata": {}}, {}, {"app_metadata": {"customer_id": 12345678}},
             {"app_metadata": {"customer_id": {"toString": "x"}}}]
    code = action_code(claim=claim, attribute="app_metadata.customer_id", client_id=PLAID)
    results = run_action(code, [[PLAID, u] for u in users])
    assert results[0] == {claim: "C0012345"}
    assert results[1:4] == [DENIED] * 3
    assert results[4] == {claim: "12345678"}
    assert results[5] == DENIED


@needs_node
def test_action_for_another_client_does_nothing():
    code = action_code(claim="https://api.fpb.example/consistency_key", attribute="app_metadata.customer_id",
                       client_id=PLAID)
    # Another application's users: neither refused (no key) nor given the claim (key present).
    results = run_action(code, [[OTHER, {}], [OTHER, {"app_metadata": {"customer_id": "C0012345"}}],
                                [None, {"app_metadata": {"customer_id": "C0012345"}}]])
    assert results == [{}, {}, {}]


HOSTILE = [
    'https://evil.example/__CONFIG__/__ATTRIBUTE__/__CLAIM__/__MIN_LENGTH__',
    'https://evil.example/";process.exit(7);//',
    "https://evil.example/`${process.exit(7)}`/*/",
    "https://evil.example/\\'\"\u00e9</script>",
]


@needs_node
@pytest.mark.parametrize("namespace", HOSTILE)
def test_hostile_namespace_cannot_change_the_code(namespace):
    # The settings accept any https URL without white space as a namespace; whatever it holds stays data.
    s = build(**ATTRIBUTE, auth0={"domain": "first-platypus-dev.us.auth0.com", "claimNamespace": namespace})
    claim = s.outputs["env"]["CONSISTENCY_KEY_CLAIM"]
    assert claim == f"{namespace.rstrip('/')}/consistency_key"
    code = s.one(ACTION).input("code")
    client_id = s.outputs["contract"]["client_id"]
    results = run_action(code, [[client_id, {"app_metadata": {"customer_id": "C0012345"}}],
                                [client_id, {}], [OTHER, {"app_metadata": {"customer_id": "C0012345"}}]])
    assert results == [{claim: "C0012345"}, DENIED, {}]


@needs_node
def test_line_separators_stay_inside_the_json():
    # The settings refuse white space in a namespace; the generator does not rely on it.
    claim = "https://evil.example/\u2028\u2029x"
    code = action_code(claim=claim, attribute="app_metadata.customer_id", client_id=PLAID)
    assert "\u2028" not in code and "\u2029" not in code
    assert run_action(code, [[PLAID, {"app_metadata": {"customer_id": "C0012345"}}]]) == [{claim: "C0012345"}]


def test_readers_reach_the_secret_policies():
    role = "arn:aws:iam::111122223333:role/deployer"
    d = build(clientSecret={"administrators": [role]})
    policy = json.loads(d.one("aws:secretsmanager/secretPolicy:SecretPolicy").input("policy"))
    assert policy["Statement"][0]["Principal"] == {"AWS": [role]}
    assert d.one(SECRET_TYPE).urn == d.parent_of(d.one("aws:secretsmanager/secretPolicy:SecretPolicy")).urn


def test_component_refuses_settings_without_auth0():
    from components.settings import parse_settings
    from tests.harness import config_of

    s = parse_settings(config_of(settings_with(idp="okta", auth0=None, okta={"orgUrl": "https://fpb.okta.com"})))
    with pytest.raises(ValueError, match="needs settings with an auth0 section"):
        declare(lambda: PlaidAuth0Tenant("x", Auth0TenantArgs.from_settings(s)))
