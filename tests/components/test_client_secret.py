"""PlaidClientSecret: CSPRNG value, Secrets Manager under a CMK, secret everywhere, prod protection."""

from __future__ import annotations

import json

import pulumi
import pytest

import plaid_contract as plaid
from components import options
from components.client_secret import TYPE, ClientSecretArgs, PlaidClientSecret
from components.settings import Environment
from tests.harness import declare, is_secret

KEY, ALIAS = "aws:kms/key:Key", "aws:kms/alias:Alias"
SECRET, VERSION = "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM = "random:index/randomBytes:RandomBytes"


def build(environment: Environment = Environment.DEV, **kw):
    def program():
        cs = PlaidClientSecret("plaid-client", ClientSecretArgs(
            client_id="client-id-1234", name_prefix=f"fpb-{environment.value}", environment=environment,
            tags={"t": "1"}, **kw))
        pulumi.export("value", cs.value)
        pulumi.export("secret_arn", cs.secret_arn)
        pulumi.export("secret_name", cs.secret_name)
    return declare(program)


def test_children_types_names_and_parents():
    d = build()
    comp = d.one(TYPE, "plaid-client")
    assert sorted((r.type, r.name) for r in d.custom()) == sorted([
        (KEY, "plaid-client-key"), (ALIAS, "plaid-client-key-alias"), (RANDOM, "plaid-client-value"),
        (SECRET, "plaid-client"), (VERSION, "plaid-client-version")])
    assert all(r.parent_urn == comp.urn for r in d.custom())


def test_kms_key_and_secret_inputs():
    d = build()
    key = d.one(KEY)
    assert key.input("enableKeyRotation") is True
    assert key.input("deletionWindowInDays") == options.KMS_DELETION_DAYS[Environment.DEV]
    assert d.one(ALIAS).input("name") == "alias/plaid-ready-idp/fpb-dev/plaid-client"
    secret = d.one(SECRET)
    assert secret.input("name") == "plaid-ready-idp/fpb-dev/plaid-client"
    assert secret.input("kmsKeyId") == "arn:aws:kms:us-east-1:123456789012:key/plaid-client-key-key-id"
    assert secret.input("recoveryWindowInDays") == 0
    assert secret.input("tags") == {"t": "1"}


def test_value_is_32_csprng_bytes_hex_and_secret_everywhere():
    d = build()
    rnd = d.one(RANDOM)
    assert rnd.input("length") == plaid.CLIENT_SECRET_BYTES
    assert set(rnd.secret_outputs) == {"hex", "base64"}
    version = d.one(VERSION)
    raw = version.inputs["secretString"]
    assert is_secret(raw)
    stored = json.loads(raw.value)
    assert stored["client_id"] == "client-id-1234"
    assert len(stored["client_secret"]) == 2 * plaid.CLIENT_SECRET_BYTES
    int(stored["client_secret"], 16)
    assert rnd.urn in version.dependencies
    assert is_secret(d.outputs["value"]) and d.outputs["value"].value == stored["client_secret"]
    assert not is_secret(d.outputs["secret_arn"]) and d.outputs["secret_name"] == "plaid-ready-idp/fpb-dev/plaid-client"


def test_rotation_is_a_deliberate_version_bump():
    v1 = build().one(RANDOM)
    v2 = build(rotation_version=2).one(RANDOM)
    assert v1.input("keepers") == {"version": "1"} and v2.input("keepers") == {"version": "2"}
    s1 = json.loads(build().one(VERSION).inputs["secretString"].value)["client_secret"]
    s1_again = json.loads(build().one(VERSION).inputs["secretString"].value)["client_secret"]
    s2 = json.loads(build(rotation_version=2).one(VERSION).inputs["secretString"].value)["client_secret"]
    assert s1 == s1_again and s1 != s2


def test_supplied_secret_is_stored_and_stays_secret():
    d = build(supplied_secret=pulumi.Output.secret("cognito-generated-secret-value"))
    assert d.of_type(RANDOM) == []
    raw = d.one(VERSION).inputs["secretString"]
    assert is_secret(raw) and json.loads(raw.value)["client_secret"] == "cognito-generated-secret-value"
    assert is_secret(d.outputs["value"])


def test_prod_protects_key_and_secret_only():
    d = build(Environment.PROD)
    protected = {r.name for r in d.custom() if r.protect}
    assert protected == {"plaid-client-key", "plaid-client"}
    assert d.one(SECRET).input("recoveryWindowInDays") == 30
    assert d.one(KEY).input("deletionWindowInDays") == 30


@pytest.mark.parametrize("env", [Environment.DEV, Environment.STAGING])
def test_non_prod_is_easy_to_tear_down(env):
    d = build(env)
    assert not any(r.protect for r in d.custom())
    assert d.one(SECRET).input("recoveryWindowInDays") == options.SECRET_RECOVERY_DAYS[env] <= 7


def test_rotation_version_must_be_positive():
    with pytest.raises(ValueError, match="rotation_version must be 1 or more"):
        build(rotation_version=0)


def test_readiness_rules_pass_for_the_component():
    d = build(Environment.PROD)
    mine = {"SECRET-STORE", "SECRET-CSPRNG", "PROD-PROTECT", "PROD-RECOVERY"}
    assert {x.rule.id: x.finding.status.value for x in d.readiness("prod") if x.rule.id in mine} == {
        "SECRET-STORE": "pass", "SECRET-CSPRNG": "pass", "PROD-PROTECT": "pass", "PROD-RECOVERY": "pass"}


def test_readiness_fails_when_secret_is_not_protected_in_prod():
    d = build(Environment.DEV)
    results = {x.rule.id: x for x in d.readiness("prod")}
    assert results["PROD-PROTECT"].failed
    assert results["PROD-PROTECT"].finding.declared == "unprotected: plaid-client, plaid-client-key"
