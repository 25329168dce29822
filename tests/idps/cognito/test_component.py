"""PlaidCognitoTenant under Pulumi's mock engine: every child's type, name, parent and security input; the
generated secret only ever as a Pulumi secret; the contract."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

import plaid_contract as plaid
from components.client_secret import TYPE as SECRET_TYPE
from components.idps.cognito.component import (
    EXPLICIT_AUTH_FLOWS,
    REPLACEMENT_TAG,
    TYPE,
    CognitoTenantArgs,
    PlaidCognitoTenant,
    tenant,
)
from components.idps.cognito.scope_adapter import TYPE as ADAPTER_TYPE
from components.settings import SettingsError, parse_settings
from readiness import engine
from tests.harness import config_of, declare, is_secret, run_stack_program, settings_with

POOL = "aws:cognito/userPool:UserPool"
DOMAIN = "aws:cognito/userPoolDomain:UserPoolDomain"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM = "random:index/randomBytes:RandomBytes"
FUNCTION = "aws:lambda/function:Function"
#: What the mock cloud "generates" as the client secret (Cognito's own, never in code or config).
#: What the mock engine answers, as Cognito would, for the generated client secret of Plaid's client.
GENERATED = engine.computed_outputs("aws:cognito/userPoolClient:UserPoolClient", "fpb-plaid-client",
                                    {"generateSecret": True})["clientSecret"]
READERS = ["arn:aws:iam::111122223333:role/fpb-dev-pulumi-deployer"]


def cognito_settings(**cognito: Any) -> dict[str, Any]:
    section = {"domainPrefix": "first-platypus-dev", **cognito}
    return settings_with(idp="cognito", auth0=None, cognito=section, clientSecret={"readers": READERS})


def build(settings: dict[str, Any], stack: str = "test"):
    def program() -> None:
        from components.settings import parse_settings
        from tests.harness import config_of

        contract = tenant(parse_settings(config_of(settings)))
        pulumi.export("env", contract.lambda_environment())
        pulumi.export("contract", contract.outputs())
    return declare(program, settings=settings, stack=stack)


@pytest.fixture(scope="module")
def dev():
    return build(cognito_settings())


def test_children_exact_types_names_parents(dev):
    comp = dev.one(TYPE, "fpb")
    direct = sorted((r.type, r.name) for r in dev.resources if r.parent_urn == comp.urn)
    assert direct == sorted([(POOL, "fpb-user-pool"), (DOMAIN, "fpb-domain"), (CLIENT, "fpb-plaid-client"),
                             (SECRET_TYPE, "fpb-plaid-credentials"), (ADAPTER_TYPE, "fpb-scope-adapter")])
    secret_comp = dev.one(SECRET_TYPE)
    assert {r.name for r in dev.resources if r.parent_urn == secret_comp.urn} >= {
        "fpb-plaid-credentials", "fpb-plaid-credentials-key", "fpb-plaid-credentials-version"}
    assert dev.of_type(RANDOM) == []  # Cognito generates the secret: no CSPRNG of ours


def test_new_pool_deletion_protection_and_the_replacement_warning(dev):
    pool = dev.one(POOL, "fpb-user-pool")
    assert pool.input("name") == "fpb-dev-customers"
    assert pool.input("deletionProtection") == "ACTIVE"
    assert pool.input("tags")[REPLACEMENT_TAG[0]] == REPLACEMENT_TAG[1]
    assert "new sub" in REPLACEMENT_TAG[1]
    assert pool.input("userPoolTier") == "ESSENTIALS" and pool.input("mfaConfiguration") == "OPTIONAL"
    assert pool.input("softwareTokenMfaConfiguration") == {"enabled": True}
    assert pool.input("adminCreateUserConfig") == {"allowAdminCreateUserOnly": True}
    assert pool.protect is False  # dev stays easy to tear down (deletionProtection can be turned off there)


def test_hosted_domain_prefix(dev):
    domain = dev.one(DOMAIN, "fpb-domain")
    assert domain.input("domain") == "first-platypus-dev"
    assert domain.input("userPoolId") == "fpb-user-pool-id"
    assert domain.input("certificateArn") is None and domain.input("managedLoginVersion") == 1


def test_plaid_app_client(dev):
    c = dev.one(CLIENT, "fpb-plaid-client")
    assert c.input("userPoolId") == "fpb-user-pool-id" and c.input("name") == "plaid-fpb-dev"
    assert c.input("generateSecret") is True
    assert c.input("allowedOauthFlowsUserPoolClient") is True
    assert c.input("allowedOauthFlows") == ["code"]
    assert c.input("allowedOauthScopes") == ["openid"]
    assert c.input("callbackUrls") == [plaid.PLAID_REDIRECT_URI]
    assert c.input("supportedIdentityProviders") == ["COGNITO"]
    assert c.input("accessTokenValidity") == 15 and c.input("tokenValidityUnits", "accessToken") == "minutes"
    assert c.input("accessTokenValidity") * 60 == plaid.ACCESS_TOKEN_LIFETIME_SECONDS
    assert c.input("idTokenValidity") == 60 and c.input("tokenValidityUnits", "idToken") == "minutes"
    assert c.input("refreshTokenValidity") == 3650 and c.input("tokenValidityUnits", "refreshToken") == "days"
    assert c.input("refreshTokenRotation") == {"feature": "ENABLED", "retryGracePeriodSeconds": 10}
    assert c.input("explicitAuthFlows") == list(EXPLICIT_AUTH_FLOWS) == ["ALLOW_USER_SRP_AUTH"]
    assert c.input("enableTokenRevocation") is True
    assert c.input("preventUserExistenceErrors") == "ENABLED"
    assert dev.one(DOMAIN).urn in c.dependencies


def test_generated_secret_flows_only_as_a_pulumi_secret(dev):
    version = dev.one(VERSION)
    assert is_secret(version.inputs["secretString"])
    assert json.loads(version.input("secretString")) == {"client_id": "fpb-plaid-client-id",
                                                         "client_secret": GENERATED}
    client = dev.one(CLIENT)
    assert "clientSecret" in client.secret_outputs  # the SDK marks Cognito's output secret
    for r in dev.resources:  # nowhere else, and never in plain text
        if r is not version:
            assert GENERATED not in json.dumps(r.inputs, default=repr), r.name
    assert GENERATED not in json.dumps(dev.outputs, default=repr)


def test_contract_and_lambda_environment(dev):
    contract, env = dev.outputs["contract"], dev.outputs["env"]
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/fpb-user-pool-id"
    adapter_base = "https://fpb-scope-adapter-api-id.execute-api.us-east-1.amazonaws.com/live"
    assert contract == {
        "issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "discovery_url": f"{adapter_base}/.well-known/openid-configuration",
        "authorize_endpoint": f"{adapter_base}/oauth2/authorize",
        "token_endpoint": "https://first-platypus-dev.auth.us-east-1.amazoncognito.com/oauth2/token",
        "audience": None, "client_id": "fpb-plaid-client-id",
        "credentials_secret_arn": contract["credentials_secret_arn"]}
    assert contract["credentials_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert env == {"TOKEN_ISSUER": issuer, "JWKS_URI": f"{issuer}/.well-known/jwks.json", "TOKEN_ALGORITHMS": "RS256",
                   "TOKEN_CLIENT_ID": "fpb-plaid-client-id", "TOKEN_CLIENT_CLAIM": "client_id",
                   "TOKEN_USE": "access", "CONSISTENCY_KEY_CLAIM": "sub"}


def test_adapter_points_at_cognito(dev):
    fn = dev.one(FUNCTION, "fpb-scope-adapter-fn")
    variables = fn.input("environment", "variables")
    assert variables["UPSTREAM_ISSUER"] == "https://cognito-idp.us-east-1.amazonaws.com/fpb-user-pool-id"
    assert variables["UPSTREAM_BASE_URL"] == "https://first-platypus-dev.auth.us-east-1.amazoncognito.com"
    assert variables["PUBLIC_BASE_URL"] == "https://fpb-scope-adapter-api-id.execute-api.us-east-1.amazonaws.com/live"


def test_existing_pool_is_referenced_never_managed():
    d = build(cognito_settings(userPoolId="us-east-1_AbCdEfGhI", existingDomain=True,
                               customDomain={"domainName": "login.firstplatypus.example",
                                             "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
                               domainPrefix=None))
    assert d.of_type(POOL) == [] and d.of_type(DOMAIN) == []
    c = d.one(CLIENT)
    assert c.input("userPoolId") == "us-east-1_AbCdEfGhI"
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"
    assert d.outputs["contract"]["issuer"] == issuer
    assert d.outputs["contract"]["token_endpoint"] == "https://login.firstplatypus.example/oauth2/token"
    fn = d.one(FUNCTION, "fpb-scope-adapter-fn")
    assert fn.input("environment", "variables", "UPSTREAM_BASE_URL") == "https://login.firstplatypus.example"


def test_custom_hosted_domain_with_its_certificate():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    d = build(cognito_settings(domainPrefix=None, customDomain={"domainName": "login.firstplatypus.example",
                                                                 "certificateArn": arn}))
    domain = d.one(DOMAIN)
    assert domain.input("domain") == "login.firstplatypus.example" and domain.input("certificateArn") == arn


def test_settings_reach_the_client():
    d = build(cognito_settings(extraScopes=["email", "profile"], identityProviders=["COGNITO", "BankSaml"],
                               refreshTokenLeewaySeconds=0,
                               newPool={"mfa": "OFF", "tier": "PLUS", "allowSelfSignUp": True,
                                        "deletionProtection": False}))
    c = d.one(CLIENT)
    assert c.input("allowedOauthScopes") == ["openid", "email", "profile"]
    assert c.input("supportedIdentityProviders") == ["COGNITO", "BankSaml"]
    assert c.input("refreshTokenRotation", "retryGracePeriodSeconds") == 0
    pool = d.one(POOL)
    assert pool.input("mfaConfiguration") == "OFF" and pool.input("softwareTokenMfaConfiguration") is None
    assert pool.input("userPoolTier") == "PLUS" and pool.input("deletionProtection") == "INACTIVE"
    assert pool.input("adminCreateUserConfig") == {"allowAdminCreateUserOnly": False}


def test_adapter_switch_off_gives_cognitos_own_discovery():
    d = build(cognito_settings(scopeAdapter={"enabled": False}))
    assert d.of_type(ADAPTER_TYPE) == []
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/fpb-user-pool-id"
    assert d.outputs["contract"]["discovery_url"] == f"{issuer}/.well-known/openid-configuration"
    assert d.outputs["contract"]["authorize_endpoint"] == (
        "https://first-platypus-dev.auth.us-east-1.amazoncognito.com/oauth2/authorize")


def test_prod_protects_pool_and_client():
    d = build({**cognito_settings(), "environment": "prod"})
    assert d.one(POOL).protect is True and d.one(CLIENT).protect is True
    assert d.one(DOMAIN).protect is False  # stateless: a domain can be recreated without changing any sub


def test_pool_in_another_region_is_a_clear_error():
    s = cognito_settings(userPoolId="eu-west-1_AbCdEfGhI")
    with pytest.raises(SettingsError, match="cognito.userPoolId: the pool is not in the stack's region us-east-1"):
        parse_settings(config_of(s))


def test_adapter_certificate_in_another_region_is_a_clear_error():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    s = cognito_settings(scopeAdapter={"customDomain": {"domainName": "auth.firstplatypus.example",
                                                        "certificateArn": arn}})
    with pytest.raises(SettingsError, match="scopeAdapter.customDomain.certificateArn: the certificate is in "
                                            "eu-west-1, the stack's aws:region is us-east-1"):
        parse_settings(config_of(s))


def test_component_refuses_settings_without_cognito():
    s = parse_settings(config_of(settings_with()))
    with pytest.raises(ValueError, match="needs settings with a cognito section"):
        declare(lambda: PlaidCognitoTenant("x", CognitoTenantArgs.from_settings(s)))


def test_attribute_consistency_key_is_refused_on_cognito():
    s = {**cognito_settings(), "scopes": ["offline_access"], "consistencyKey": {"attribute": "custom:key"}}
    with pytest.raises(SettingsError, match="consistencyKey.attribute: not supported on cognito"):
        parse_settings(config_of(s))


def test_the_real_program_declares_the_cognito_tenant_and_exports_no_secret():
    d = run_stack_program(cognito_settings(), extra={"aws:region": "us-east-1"})
    assert d.one(TYPE, "fpb")
    assert {"issuer", "discovery_url", "jwks_uri", "authorize_endpoint", "token_endpoint", "client_id",
            "credentials_secret_arn", "customers_current_url"} <= set(d.outputs)
    assert not any(is_secret(v) for v in d.outputs.values())
    assert "audience" not in d.outputs  # Cognito access tokens carry no aud
