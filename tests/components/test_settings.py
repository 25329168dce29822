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
    assert s.idp == "auth0" and s.idp_settings.idp == "auth0"
    assert s.idp_settings.access_token_lifetime_minutes * 60 == plaid.ACCESS_TOKEN_LIFETIME_SECONDS
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
        "cognito, consistencyKey, environment, idp, institution, okta, probe, redirectUris, scopes"]


def test_unknown_nested_key():
    assert problems(settings_with(api={"basePth": "/fdx/v6"})) == [
        f"{PROJECT}:api.basePth: unknown key; valid keys are: basePath, customDomain, disableExecuteApiEndpoint, "
        "lambdaArchitecture, lambdaMemoryMb, lambdaTimeoutSeconds, logRetentionDays, stageName, throttleBurstLimit, "
        "throttleRateLimit"]


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
        "with a letter; used in resource names (e.g. fpb)",
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
    (["9.9.9.0/24"], ["9.9.9.0/24"]),
    (["2620:FE:0:0::/48"], ["2620:fe::/48"]),
    (["52.94.76.7/32", "52.94.76.7/32"], ["52.94.76.7/32"]),
    # Bare IPs become /32 and /128, and are shown so.
    (["52.94.76.7", "2620:fe::9"], ["52.94.76.7/32", "2620:fe::9/128"]),
    (["8.8.0.0/16", "2620:fe::/48"], ["8.8.0.0/16", "2620:fe::/48"]),  # exactly the widest allowed
])
def test_cidrs_normalised(cidrs, expected):
    assert make_settings(allowlist={"extraCidrs": cidrs}).allowlist.extra_cidrs == expected


def test_normalise_cidrs_alone_has_no_width_limit():
    # Plaid's own IPv6 range is a /40: the width limit is for extra ranges only.
    assert normalise_cidrs(["2602:F74B::/40", "10.0.0.0/8"]) == ["2602:f74b::/40", "10.0.0.0/8"]


WIDER = "is wider than /{n}, the widest extra IPv{v} range allowed; list only the addresses that call the API"
PUBLIC = "only public addresses can reach the API"


@pytest.mark.parametrize(("cidr", "message"), [
    ("10.0.0.1/24", "entry 0 has host bits set (use the network address)"),
    ("0.0.0.0/0", "entry 0 is /0, which would allow the whole internet"),
    ("nonsense", "entry 0 is not an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/48"),
    # The review's finding: two halves of the internet planned ready.
    ("0.0.0.0/1", "entry 0 " + WIDER.format(n=16, v=4)),
    ("128.0.0.0/1", "entry 0 " + WIDER.format(n=16, v=4)),
    ("8.0.0.0/15", "entry 0 " + WIDER.format(n=16, v=4)),
    ("2620::/47", "entry 0 " + WIDER.format(n=48, v=6)),
    ("10.1.0.0/16", f"entry 0 overlaps 10.0.0.0/8 (private); {PUBLIC}"),
    ("172.16.5.0/24", f"entry 0 overlaps 172.16.0.0/12 (private); {PUBLIC}"),
    ("192.168.1.1", f"entry 0 overlaps 192.168.0.0/16 (private); {PUBLIC}"),
    ("127.0.0.1", f"entry 0 overlaps 127.0.0.0/8 (loopback); {PUBLIC}"),
    ("169.254.169.254", f"entry 0 overlaps 169.254.0.0/16 (link-local); {PUBLIC}"),
    ("224.0.0.0/16", f"entry 0 overlaps 224.0.0.0/4 (multicast); {PUBLIC}"),
    ("100.64.0.0/16", f"entry 0 overlaps 100.64.0.0/10 (shared address space); {PUBLIC}"),
    ("203.0.113.0/24", f"entry 0 overlaps 203.0.113.0/24 (documentation); {PUBLIC}"),
    ("192.0.0.0/16", f"entry 0 overlaps 192.0.0.0/24 (IETF protocol assignments); {PUBLIC}"),  # partly reserved
    ("255.255.255.255", f"entry 0 overlaps 240.0.0.0/4 (reserved); {PUBLIC}"),
    ("::1", f"entry 0 is outside 2000::/3 (IPv6 global unicast); {PUBLIC}"),
    ("fe80::/64", f"entry 0 is outside 2000::/3 (IPv6 global unicast); {PUBLIC}"),
    ("fd00::/48", f"entry 0 is outside 2000::/3 (IPv6 global unicast); {PUBLIC}"),
    ("ff02::1", f"entry 0 is outside 2000::/3 (IPv6 global unicast); {PUBLIC}"),
    ("2001:db8::/48", f"entry 0 overlaps 2001:db8::/32 (documentation); {PUBLIC}"),
    ("2002:c000:204::/48", f"entry 0 overlaps 2002::/16 (6to4); {PUBLIC}"),
])
def test_bad_cidrs(cidr, message):
    assert problems(settings_with(allowlist={"extraCidrs": [cidr]})) == [f"{PROJECT}:allowlist.extraCidrs: {message}"]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_wide_cidrs_are_refused_in_every_environment(environment):
    msgs = problems(settings_with(environment=environment, allowlist={"extraCidrs": ["9.9.9.0/24", "0.0.0.0/1"]}))
    assert msgs == [f"{PROJECT}:allowlist.extraCidrs: entry 1 " + WIDER.format(n=16, v=4)]


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


# -- aws:region --------------------------------------------------------------------------------


def test_region_is_exposed():
    assert make_settings().region == "us-east-1"
    assert parse_settings(config_of(BASE_SETTINGS, region="eu-west-1")).region == "eu-west-1"


def test_stack_without_region_is_refused_with_one_line():
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(BASE_SETTINGS, region=None))
    assert info.value.problems == [
        "aws:region: required; set the AWS region the stack deploys to, e.g. `pulumi config set aws:region us-east-1`"]


NOT_A_REGION = ("aws:region: is not an AWS region (botocore's endpoint data, which lists the regions of every "
                "partition, has no such name); ")


@pytest.mark.parametrize(("region", "hint"), [
    ("US-EAST-1", "did you mean us-east-1?"), ("us-east-1a", "did you mean us-east-1?"),
    ("useast1", "did you mean us-east-1?"), ("us-east", "did you mean us-east-2?"),
    # Shaped like a region, but none: botocore's partition data, not a pattern, decides.
    ("eu-west-9", "did you mean eu-west-3?"), ("mars-north-1", "expected e.g. us-east-1 or eu-west-1"),
])
def test_malformed_or_unknown_region(region, hint):
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(BASE_SETTINGS, region=region))
    assert info.value.problems == [NOT_A_REGION + hint]


def test_a_secure_region_is_refused():
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(BASE_SETTINGS), ["aws:region"])
    assert info.value.problems == ["aws:region: is a secure value; an AWS region name is not a secret: set it in plain "
                                   "text, e.g. `pulumi config set aws:region us-east-1`"]


def test_the_region_list_is_botocores():
    from botocore.loaders import Loader

    from components.settings.parse import aws_regions

    partitions = Loader().load_data("endpoints")["partitions"]
    assert set(aws_regions()) == {r for p in partitions for r in p["regions"]}
    assert {"us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1"} <= set(aws_regions())


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-3", "il-central-1",
                                    "cn-northwest-1", "mx-central-1"])
def test_region_names(region):
    assert parse_settings(config_of(BASE_SETTINGS, region=region)).region == region


def test_region_property_without_parse_settings_is_a_clear_error():
    from components.settings import StackSettings

    s = StackSettings.model_validate({k: v for k, v in BASE_SETTINGS.items()})
    with pytest.raises(ValueError, match="aws:region is required"):
        _ = s.region


CERT = "arn:aws:acm:{region}:111122223333:certificate/abcd-1234"


def test_certificate_in_the_stack_region_is_fine():
    s = make_settings(api={"customDomain": {"domainName": "fdx.fpb.example", "certificateArn": CERT.format(
        region="us-east-1")}})
    assert s.api.custom_domain is not None


def test_certificate_in_another_region_is_refused():
    cfg = config_of(settings_with(api={"customDomain": {"domainName": "fdx.fpb.example",
                                                        "certificateArn": CERT.format(region="us-east-1")}}),
                    region="eu-west-1")
    with pytest.raises(SettingsError) as info:
        parse_settings(cfg)
    assert info.value.problems == [
        f"{PROJECT}:api.customDomain.certificateArn: the certificate is in us-east-1, the stack's aws:region is "
        "eu-west-1; a regional custom domain needs an ACM certificate in the same region: request or import it in "
        "eu-west-1"]


# -- credentials in stack files ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["aws:secretKey", "aws:accessKey", "aws:token", "auth0:apiToken",
                                 "auth0:clientAssertionPrivateKey", "okta:privateKey", "okta:apiToken",
                                 "aws:secret_key", "gcp:password"])
def test_plaintext_credentials_in_provider_namespaces_are_refused(key):
    value = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    msgs = problems(BASE_SETTINGS, extra={key: value})
    assert msgs == [f"{key}: holds a credential but is stored in plain text; remove it from the stack file and set "
                    f"it with `pulumi config set --secret {key}` (or the provider's environment variable)"]
    assert value not in "".join(msgs)


@pytest.mark.parametrize("key", ["aws:profile", "aws:skipCredentialsValidation", "aws:sharedCredentialsFiles",
                                 "auth0:clientId", "aws:assumeRole"])
def test_provider_keys_that_are_not_credentials_are_fine(key):
    parse_settings(config_of(BASE_SETTINGS, {key: "true"}))


@pytest.mark.parametrize("key", ["aws:profile", "aws:anything", f"{PROJECT}:audience"])
def test_an_access_key_id_in_any_plain_value_is_refused(key):
    marker = "AKIAIOSFODNN7EXAMPLE"
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(BASE_SETTINGS, {key: f"x-{marker}"}))
    assert info.value.problems == [
        f"{key}: holds what looks like an AWS access key id in plain text; remove it from the stack file and give the "
        "AWS provider credentials through the environment (AWS_PROFILE, a role), never a stack file"]
    assert marker not in str(info.value)


def test_secure_credentials_are_fine():
    parse_settings(config_of(BASE_SETTINGS, {"aws:secretKey": "x", "aws:accessKey": "y"}),
                   ["aws:secretKey", "aws:accessKey"])


# -- redirect URIs and audience ------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["https://*.plaid.com/link/v2/stable/oauth.html", "https://bank.example/*",
                                 "https://bank.example/cb?x=*"])
def test_wildcard_redirect_uris_are_refused(uri):
    assert problems(settings_with(redirectUris=[plaid.PLAID_REDIRECT_URI, uri])) == [
        f"{PROJECT}:redirectUris: entry 1 contains a wildcard; register each redirect URI exactly (an authorization "
        "code must only ever go to a URI you control)"]


def test_non_plaid_redirect_uri_is_allowed():
    uris = [plaid.PLAID_REDIRECT_URI, "https://bank.example/plaid/callback"]
    assert make_settings(redirectUris=uris).redirect_uris == uris


IDP_AUDIENCE = (f"{PROJECT}:audience: is a URL on the IdP's own domain (e.g. its /userinfo or Management API); "
                "tokens for it would be accepted by the IdP's own APIs. Use an identifier of your API, e.g. "
                "https://api.<your-domain>/fdx")


@pytest.mark.parametrize("audience", [
    "https://first-platypus-dev.us.auth0.com/userinfo", "https://first-platypus-dev.us.auth0.com/api/v2/",
    "https://FIRST-PLATYPUS-DEV.us.auth0.com/anything", "https://other-tenant.eu.auth0.com/api/v2/",
])
def test_auth0_own_urls_are_refused_as_audience(audience):
    assert problems(settings_with(audience=audience)) == [IDP_AUDIENCE]


def test_okta_org_url_is_refused_as_audience():
    assert problems(settings_with(idp="okta", auth0=None, okta={"orgUrl": "https://fpb.okta.com"},
                                  audience="https://fpb.okta.com/api/v1")) == [IDP_AUDIENCE]


# -- clientSecret.readers ------------------------------------------------------------------------

DEPLOYER = "arn:aws:iam::111122223333:role/plaid-ready-deployer"


def test_readers_are_role_arns():
    readers = [DEPLOYER, "arn:aws:iam::111122223333:role/ops/plaid-secret-reader"]
    assert make_settings(clientSecret={"readers": readers}).client_secret.readers == readers
    assert make_settings(clientSecret={"version": 2}).client_secret.readers == []


@pytest.mark.parametrize("reader", ["arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:root",
                                    "arn:aws:iam::111122223333:user/alice", "*", "arn:aws:iam::1111:role/x",
                                    "arn:aws:sts::111122223333:assumed-role/deployer/session"])
def test_readers_must_be_exact_role_arns(reader):
    msgs = problems(settings_with(clientSecret={"readers": [reader]}))
    assert len(msgs) == 1 and msgs[0].startswith(f"{PROJECT}:clientSecret.readers.0: ")


def test_readers_without_duplicates_and_at_most_ten():
    assert problems(settings_with(clientSecret={"readers": [DEPLOYER, DEPLOYER]})) == [
        f"{PROJECT}:clientSecret.readers: contains duplicates"]
    many = [f"arn:aws:iam::111122223333:role/r{i}" for i in range(11)]
    msgs = problems(settings_with(clientSecret={"readers": many}))
    assert len(msgs) == 1 and msgs[0].startswith(f"{PROJECT}:clientSecret.readers: list should have at most 10 items")


# -- clientSecret.administrators -------------------------------------------------------------------

DEPLOYER = "arn:aws:iam::111122223333:role/fpb-deployer"
READER = "arn:aws:iam::111122223333:role/fpb-reader"


def test_client_secret_administrators_and_readers():
    s = make_settings(clientSecret={"administrators": [DEPLOYER], "readers": [READER]})
    assert s.client_secret.administrators == [DEPLOYER] and s.client_secret.readers == [READER]


def test_a_role_in_both_lists_is_refused():
    assert problems(settings_with(clientSecret={"administrators": [DEPLOYER], "readers": [READER, DEPLOYER]})) == [
        f"{PROJECT}:clientSecret: readers: entry 1 is also in administrators; administrators may read already, and "
        "readers may only read: list the role once, under administrators if it runs pulumi up"]


@pytest.mark.parametrize("value", [["arn:aws:iam::111122223333:role/*"], [DEPLOYER, DEPLOYER], ["not-an-arn"]])
def test_administrators_must_be_distinct_role_arns(value):
    msgs = problems(settings_with(clientSecret={"administrators": value}))
    assert len(msgs) == 1 and msgs[0].startswith(f"{PROJECT}:clientSecret.administrators")


# -- the IdP section: a union on idp, built from the registry -------------------------------------


def test_the_idp_section_is_the_chosen_idps_model():
    from components import idps

    for idp in idps.IDPS:
        assert idp.settings.model_fields["idp"].default == idp.name
    assert type(make_settings().idp_settings) is idps.by_name("auth0").settings


def test_unknown_idp_names_the_registered_ones():
    assert problems(settings_with(idp="keycloak")) == [f"{PROJECT}:idp: input should be 'auth0', 'okta' or 'cognito'"]


def test_missing_idp():
    assert problems(settings_with(idp=None)) == [
        f"{PROJECT}:idp: required value is missing; expected one of auth0, okta, cognito; add it to the stack file"]


def test_the_section_does_not_name_its_idp():
    assert problems(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com", "idp": "okta"})) == [
        f"{PROJECT}:auth0.idp: unknown key; the top-level idp chooses the IdP: remove it from the section"]


def test_a_section_given_as_a_value():
    assert problems(settings_with(auth0="first-platypus-dev.us.auth0.com")) == [
        f"{PROJECT}:auth0: must be a mapping of keys (a section), not a single value or a list"]


def test_errors_inside_the_section_name_the_stack_file_path():
    assert problems(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com", "colour": "x"}))[0].startswith(
        f"{PROJECT}:auth0.colour: unknown key; valid keys are: accessTokenLifetimeMinutes, actionRuntime, "
        "claimNamespace, domain, idTokenLifetimeMinutes, refreshTokenLeewaySeconds, setDefaultAudience")


# -- renamed keys: one name and one unit per concept across IdPs ----------------------------------


COGNITO = {"domainPrefix": "first-platypus-dev"}


@pytest.mark.parametrize(("section", "message"), [
    ({"accessTokenLifetimeSeconds": 900},
     "auth0.accessTokenLifetimeSeconds: was renamed accessTokenLifetimeMinutes (minutes, 5-1440): 900 s is 15"),
    ({"accessTokenLifetimeSeconds": 90},
     "auth0.accessTokenLifetimeSeconds: was renamed accessTokenLifetimeMinutes (minutes, 5-1440): 90 s is 1.5 "
     "minutes; give a whole number"),
    ({"idTokenLifetimeSeconds": 3600},
     "auth0.idTokenLifetimeSeconds: was renamed idTokenLifetimeMinutes (minutes, 1-1440): 3600 s is 60"),
    ({"idTokenLifetimeSeconds": "an hour"},
     "auth0.idTokenLifetimeSeconds: was renamed idTokenLifetimeMinutes (minutes, 1-1440): divide the old value by 60"),
])
def test_renamed_auth0_keys_say_the_new_key_and_unit(section, message):
    assert problems(settings_with(auth0={"domain": "first-platypus-dev.us.auth0.com", **section})) == [
        f"{PROJECT}:{message}"]


@pytest.mark.parametrize(("old", "new", "unit"), [
    ("accessTokenValidityMinutes", "accessTokenLifetimeMinutes", "minutes, 5-1440"),
    ("idTokenValidityMinutes", "idTokenLifetimeMinutes", "minutes, 5-1440"),
    ("refreshTokenValidityDays", "refreshTokenLifetimeDays", "days, 1-3650"),
    ("refreshTokenGraceSeconds", "refreshTokenLeewaySeconds", "seconds, 0-60"),
])
def test_renamed_cognito_keys_say_the_new_key(old, new, unit):
    s = settings_with(idp="cognito", auth0=None, cognito={**COGNITO, old: 15})
    assert problems(s) == [
        f"{PROJECT}:cognito.{old}: was renamed {new} ({unit}): same unit, same value; rename the key"]


def test_one_name_and_unit_per_concept_across_idps():
    from components import idps

    concepts = {"accessTokenLifetimeMinutes", "idTokenLifetimeMinutes", "refreshTokenLifetimeDays",
                "refreshTokenLeewaySeconds"}
    keys = {idp.name: {(f.alias or n) for n, f in idp.settings.model_fields.items()} for idp in idps.IDPS}
    everything = set().union(*keys.values())
    # No IdP names a lifetime, validity or leeway any other way.
    assert {k for k in everything if any(w in k for w in ("Lifetime", "Validity", "Leeway", "Grace"))} <= concepts
    assert all("accessTokenLifetimeMinutes" in k and "refreshTokenLeewaySeconds" in k for k in keys.values())


# -- messages that say why and what to do ---------------------------------------------------------


def test_a_typo_in_the_namespace_says_did_you_mean():
    cfg = config_of(settings_with(audience=None), {"plaid-ready-ipd:audience": "https://api.firstplatypus.example/fdx"})
    with pytest.raises(SettingsError) as info:
        parse_settings(cfg)
    # One line, and not "plaid-ready-idp:audience is missing" as well.
    assert info.value.problems == [
        f"plaid-ready-ipd:audience: unknown namespace plaid-ready-ipd; did you mean {PROJECT}:audience?"]


def test_provider_namespaces_are_not_mistaken_for_a_typo():
    parse_settings(config_of(BASE_SETTINGS, {"aws:profile": "x", "auth0:domain": "y", "okta:orgName": "z",
                                             "random:x": "1", "plaid:x": "1"}))


def test_lambda_timeout_says_why_it_stops_at_28():
    assert problems(settings_with(api={"lambdaTimeoutSeconds": 29})) == [
        f"{PROJECT}:api.lambdaTimeoutSeconds: input should be less than or equal to 28; API Gateway (REST) ends "
        "every Lambda integration at 29 s, which leaves the Lambda 28 s at most to answer (with its own error, not a "
        "504)"]


def test_probe_is_on_by_default_in_prod_only_and_its_interval_is_bounded():
    assert make_settings().probe_enabled is False
    assert make_settings(environment="prod").probe_enabled is True
    assert make_settings(environment="prod", probe={"enabled": False}).probe_enabled is False
    assert make_settings(probe={"enabled": True}).probe.interval_minutes == 15
    for bad in (4, 61):
        found = problems(settings_with(probe={"intervalMinutes": bad}))
        assert len(found) == 1 and found[0].startswith(f"{PROJECT}:probe.intervalMinutes:")
