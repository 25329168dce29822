"""Stack settings: valid stacks parse; every malformed one gets one specific line per problem."""

from __future__ import annotations

import json

import pytest

import plaid_contract as plaid
from components.settings import PROJECT, Environment, SettingsError, normalise_cidrs, parse_settings
from tests.harness import BASE_SETTINGS, config_of, make_settings, settings_with


def problems(settings: dict, extra: dict | None = None, secret_keys: tuple = ()) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(settings, extra), secret_keys)
    return info.value.problems


def test_minimal_stack_gets_plaid_defaults():
    s = make_settings()
    assert s.environment is Environment.DEV and not s.is_prod
    assert s.redirect_uris == [plaid.PLAID_REDIRECT_URI]
    assert s.scopes == list(plaid.REQUIRED_SCOPES)
    assert s.api.base_path == plaid.DEFAULT_BASE_PATH
    assert s.consistency_key.attribute is None and s.consistency_key.prefix == ""
    assert s.client_secret.version == 1
    assert s.auth0 is not None and s.auth0.access_token_lifetime_seconds == plaid.ACCESS_TOKEN_LIFETIME_SECONDS
    assert s.name_prefix == "fpb-dev"


def test_prod_is_prod():
    assert make_settings(environment="prod").is_prod


def test_values_arrive_as_strings_like_the_cli_passes_them():
    cfg = config_of(BASE_SETTINGS)
    cfg[f"{PROJECT}:api"] = json.dumps({"lambdaMemoryMb": "512", "disableExecuteApiEndpoint": "true"})
    s = parse_settings(cfg)
    assert s.api.lambda_memory_mb == 512 and s.api.disable_execute_api_endpoint is True


def test_unknown_top_level_key():
    assert problems(settings_with(colour="blue")) == [
        f"{PROJECT}:colour: unknown key; valid keys are: alarms, allowlist, api, audience, auth0, clientSecret, "
        "cognito, consistencyKey, environment, idp, institution, okta, redirectUris, scopes"]


def test_unknown_nested_key():
    assert problems(settings_with(api={"basePth": "/fdx/v6"})) == [
        f"{PROJECT}:api.basePth: unknown key; remove it or fix its spelling (see docs/settings.md)"]


def test_wrong_type():
    assert problems(settings_with(api={"lambdaMemoryMb": "lots"})) == [
        f"{PROJECT}:api.lambdaMemoryMb: input should be a valid integer, unable to parse string as an integer; "
        "give a whole number"]


def test_missing_required_value():
    assert problems(settings_with(audience=None)) == [
        f"{PROJECT}:audience: required value is missing; expected the API identifier; access tokens carry it "
        "as aud; add it to the stack file"]


def test_non_https_redirect_uri():
    assert problems(settings_with(redirectUris=["http://cdn.plaid.com/link/v2/stable/oauth.html"])) == [
        f"{PROJECT}:redirectUris: entry 0 must be an https:// URL (Plaid requires TLS)"]


def test_secure_value_in_our_namespace_is_refused_without_echo():
    cfg = config_of(BASE_SETTINGS)
    cfg[f"{PROJECT}:audience"] = "s3cr3t-ciphertext-value"
    with pytest.raises(SettingsError) as info:
        parse_settings(cfg, [f"{PROJECT}:audience"])
    assert info.value.problems == [
        f"{PROJECT}:audience: is a secure value, but no {PROJECT} setting is secret (client secrets are "
        f"generated and kept in Secrets Manager); set it in plain text with `pulumi config set audience <value>`"]
    assert "s3cr3t" not in str(info.value)


def test_credential_in_plain_text_is_refused_without_echo():
    msgs = problems(BASE_SETTINGS, extra={"auth0:clientSecret": "plain-text-management-secret"})
    assert msgs == ["auth0:clientSecret: holds a credential but is stored in plain text; remove it from the "
                    "stack file and set it with `pulumi config set --secret auth0:clientSecret` (or the "
                    "provider's environment variable)"]
    assert not any("plain-text-management-secret" in m for m in msgs)


def test_credential_stored_securely_is_fine():
    parse_settings(config_of(BASE_SETTINGS, {"auth0:clientSecret": "x"}), ["auth0:clientSecret"])


def test_several_problems_one_line_each():
    msgs = problems(settings_with(institution={"name": "First Platypus Bank", "code": "First Platypus"},
                                  environment="production"))
    assert msgs == [
        f"{PROJECT}:environment: input should be 'dev', 'staging' or 'prod'",
        f"{PROJECT}:institution.code: has the wrong format; expected 2-12 lowercase letters/digits, starting "
        "with a letter; used in resource names",
    ]


def test_idp_section_must_match_idp():
    msgs = problems(settings_with(idp="okta"))
    assert msgs == [
        f"{PROJECT}:okta: required when idp is okta; add a 'okta:' section (see docs/settings.md)",
        f"{PROJECT}:auth0: set, but idp is okta; remove the section or change idp",
    ]


def test_values_never_echoed_in_any_message():
    marker = "ZZ-MARKER-9f3a"
    bad = settings_with(audience=f"http://{marker}", redirectUris=[marker],
                        institution={"name": marker, "code": marker}, api={"basePath": marker},
                        alarms={"email": marker})
    text = "\n".join(problems(bad))
    assert marker not in text


@pytest.mark.parametrize(("cidrs", "expected"), [
    (["203.0.113.0/24"], ["203.0.113.0/24"]),
    (["2001:DB8:0:0::/48"], ["2001:db8::/48"]),
    (["198.51.100.7/32", "198.51.100.7/32"], ["198.51.100.7/32"]),
])
def test_cidrs_normalised(cidrs, expected):
    assert normalise_cidrs(cidrs) == expected
    assert make_settings(allowlist={"extraCidrs": cidrs}).allowlist.extra_cidrs == expected


@pytest.mark.parametrize(("cidr", "message"), [
    ("10.0.0.1/24", "entry 0 has host bits set (use the network address)"),
    ("0.0.0.0/0", "entry 0 is /0, which would allow the whole internet"),
    ("nonsense", "entry 0 is not an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/48"),
])
def test_bad_cidrs(cidr, message):
    assert problems(settings_with(allowlist={"extraCidrs": [cidr]})) == [f"{PROJECT}:allowlist.extraCidrs: {message}"]


def test_custom_domain_and_mtls_shapes():
    s = make_settings(api={"customDomain": {
        "domainName": "fdx.firstplatypus.example",
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234",
        "mtls": {"truststoreUri": "s3://fpb-truststore/plaid/truststore.pem", "truststoreVersion": "v1"}}})
    assert s.api.custom_domain is not None and s.api.custom_domain.mtls is not None
    msgs = problems(settings_with(api={"customDomain": {"domainName": "fdx.example",
                                                        "certificateArn": "not-an-arn"}}))
    assert len(msgs) == 1 and msgs[0].startswith(f"{PROJECT}:api.customDomain.certificateArn: has the wrong format")


def test_log_retention_must_be_a_cloudwatch_value():
    msgs = problems(settings_with(api={"logRetentionDays": 100}))
    assert len(msgs) == 1 and msgs[0].startswith(f"{PROJECT}:api.logRetentionDays: must be one of CloudWatch's")


def test_unnamespaced_key():
    with pytest.raises(SettingsError) as info:
        parse_settings({"idp": "auth0", **config_of(BASE_SETTINGS)})
    assert info.value.problems == [f"idp: config keys must be namespaced (e.g. {PROJECT}:idp)"]


@pytest.mark.parametrize("audience", ["api://fpb", "urn:fpb:fdx", "https://api.fpb.example/fdx", "fpb-api"])
def test_audience_identifiers_that_are_not_web_urls_are_fine(audience):
    assert make_settings(audience=audience).audience == audience


def test_http_audience_is_refused():
    assert problems(settings_with(audience="http://api.fpb.example")) == [
        f"{PROJECT}:audience: audience given as a URL must be an https:// URL (Plaid requires TLS)"]


def test_protocol_follows_openid_in_scopes():
    assert make_settings().protocol.value == "oidc"
    assert make_settings(scopes=["offline_access"]).protocol.value == "oauth2"


def test_attribute_mapping_needs_plain_oauth2():
    assert problems(settings_with(consistencyKey={"attribute": "app_metadata.customer_id"})) == [
        f"{PROJECT}:consistencyKey.attribute: only allowed with plain OAuth 2.0 (scopes without openid). With "
        "OIDC Plaid reads the id_token sub, which the IdP does not let you replace, so Plaid would see a "
        "different key than /customers/current. Remove the attribute, or remove openid from scopes"]
    s = make_settings(consistencyKey={"attribute": "app_metadata.customer_id"}, scopes=["offline_access"])
    assert s.consistency_key.attribute == "app_metadata.customer_id"


@pytest.mark.parametrize(("changes", "message"), [
    ({"scopes": ["openid", "openid"]}, f"{PROJECT}:scopes: contains duplicates"),
    ({"scopes": ["open id"]},
     f"{PROJECT}:scopes: entry 0 is not a valid OAuth scope (RFC 6749 3.3: no spaces or quotes)"),
    ({"redirectUris": [plaid.PLAID_REDIRECT_URI, plaid.PLAID_REDIRECT_URI]},
     f"{PROJECT}:redirectUris: contains duplicates"),
])
def test_list_entries(changes, message):
    assert problems(settings_with(**changes)) == [message]
