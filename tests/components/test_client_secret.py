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


# -- key and secret policies (clientSecret.readers, clientSecret.administrators) -----------------

POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
DEPLOYER = "arn:aws:iam::111122223333:role/fpb-deployer"
ONBOARDING = "arn:aws:iam::111122223333:role/fpb-plaid-onboarding"
AUDITOR = "arn:aws:iam::111122223333:role/fpb-auditor"
READERS = (ONBOARDING, AUDITOR)
ADMINS = (DEPLOYER,)
#: Everyone who may read: the administrators first, then the readers.
READING = [DEPLOYER, ONBOARDING, AUDITOR]

# The action lists below are written out on purpose (not imported from the component): a name dropped
# from the component's constants must fail these exact-document tests.
KEY_MANAGEMENT = ["kms:CreateGrant", "kms:DeleteAlias", "kms:DisableKey", "kms:DisableKeyRotation", "kms:Encrypt",
                  "kms:GenerateDataKey*", "kms:PutKeyPolicy", "kms:ReEncrypt*", "kms:ReplicateKey",
                  "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
                  "kms:UpdateAlias", "kms:UpdateKeyDescription", "kms:UpdatePrimaryRegion"]
SECRET_MANAGEMENT = ["secretsmanager:CancelRotateSecret", "secretsmanager:DeleteResourcePolicy",
                     "secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy",
                     "secretsmanager:PutSecretValue", "secretsmanager:RemoveRegionsFromReplication",
                     "secretsmanager:ReplicateSecretToRegions", "secretsmanager:RestoreSecret",
                     "secretsmanager:RotateSecret", "secretsmanager:StopReplicationToReplica",
                     "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret",
                     "secretsmanager:UpdateSecretVersionStage"]


def built(**kw):
    return build(readers=kw.pop("readers", READERS), administrators=kw.pop("administrators", ADMINS), **kw)


def test_key_policy_is_exactly_admin_decrypt_encrypt_and_the_two_denies():
    d = built()
    via = {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    assert json.loads(d.one(KEY).input("policy")) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "KeyAdministrationByTheAccount", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": ["kms:CancelKeyDeletion", "kms:CreateAlias", "kms:Delete*", "kms:Describe*", "kms:Disable*",
                    "kms:Enable*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand",
                    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:Update*"],
         "Resource": "*"},
        {"Sid": "DecryptByReadersAndAdministratorsThroughSecretsManager", "Effect": "Allow",
         "Principal": {"AWS": READING}, "Action": ["kms:Decrypt"], "Resource": "*", "Condition": via},
        {"Sid": "EncryptByAdministratorsThroughSecretsManager", "Effect": "Allow",
         "Principal": {"AWS": [DEPLOYER]}, "Action": ["kms:GenerateDataKey"], "Resource": "*", "Condition": via},
        {"Sid": "DenyDecryptToEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt"], "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": READING}}},
        {"Sid": "DenyManagementToAllButAdministrators", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": KEY_MANAGEMENT, "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [DEPLOYER]}}},
    ]}


def test_account_administers_but_never_decrypts():
    import fnmatch

    from components.client_secret import KEY_ADMIN_ACTIONS

    for use in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"):
        assert not any(fnmatch.fnmatchcase(use, a) for a in KEY_ADMIN_ACTIONS), use


def test_secret_policy_is_exactly_read_for_readers_manage_for_administrators_deny_for_the_rest():
    d = built()
    pol = d.one(POLICY, "plaid-client-policy")
    assert pol.parent_urn == d.one(TYPE).urn
    assert pol.input("secretArn") == d.one(SECRET).input("arn") or d.one(SECRET).urn in pol.dependencies
    assert pol.input("blockPublicPolicy") is True
    assert json.loads(pol.input("policy")) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadByReadersAndAdministrators", "Effect": "Allow", "Principal": {"AWS": READING},
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], "Resource": "*"},
        {"Sid": "ManageByAdministrators", "Effect": "Allow", "Principal": {"AWS": [DEPLOYER]},
         "Action": SECRET_MANAGEMENT, "Resource": "*"},
        {"Sid": "DenyReadToEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["secretsmanager:GetSecretValue"], "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": READING}}},
        {"Sid": "DenyManagementToAllButAdministrators", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": SECRET_MANAGEMENT, "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [DEPLOYER]}}},
    ]}


def test_readers_may_only_read():
    """No statement lets a reader who is not an administrator do anything but read."""
    d = built()
    for doc in (json.loads(d.one(KEY).input("policy")), json.loads(d.one(POLICY).input("policy"))):
        for st in doc["Statement"]:
            if st["Effect"] == "Allow" and ONBOARDING in st["Principal"]["AWS"]:
                assert set(st["Action"]) <= {"kms:Decrypt", "secretsmanager:DescribeSecret",
                                             "secretsmanager:GetSecretValue"}, st["Sid"]
            if st["Effect"] == "Deny" and st["Sid"] == "DenyManagementToAllButAdministrators":
                assert ONBOARDING not in st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]


@pytest.mark.parametrize("kw", [{}, {"readers": READERS, "administrators": ()}])
def test_without_administrators_no_policy_is_declared_and_the_rule_says_so(kw):
    d = build(**kw)
    assert d.of_type(POLICY) == [] and d.one(KEY).input("policy") is None
    res = {x.rule.id: x for x in d.readiness()}["SECRET-POLICY"]
    assert res.failed
    assert res.finding.declared == ("plaid-client-key: no policy (AWS's default key policy lets any administrator "
                                    "in the account decrypt); plaid-client: no resource policy")


def test_administrators_without_readers_is_closed():
    res = {x.rule.id: x for x in built(readers=()).readiness()}["SECRET-POLICY"]
    assert res.finding.status.value == "pass", res.finding.declared


@pytest.mark.parametrize(("readers", "administrators"), [
    ((ONBOARDING, ONBOARDING), ADMINS), (("arn:aws:iam::111122223333:role/*",), ADMINS),
    ((DEPLOYER,), (DEPLOYER,)), ((), ("",))])
def test_readers_and_administrators_must_be_distinct_exact_arns(readers, administrators):
    with pytest.raises(ValueError, match="distinct IAM role ARNs without wildcards"):
        build(readers=readers, administrators=administrators)


def test_secret_policy_rule_passes_with_readers_and_administrators():
    res = {x.rule.id: x for x in built().readiness()}["SECRET-POLICY"]
    assert res.finding.status.value == "pass"
    assert res.finding.declared == (
        f"key and secret policies: only {AUDITOR}, {DEPLOYER}, {ONBOARDING} may decrypt/read ({AUDITOR}, "
        f"{ONBOARDING}: read only); only {DEPLOYER} may write, delete, roll back, rotate, replicate or re-permission "
        "the secret and its key; the account administers the key but cannot decrypt")


def _patched(d, typ, change):
    from dataclasses import replace

    out = []
    for r in d.resources:
        if r.type == typ:
            doc = json.loads(r.input("policy"))
            change(doc)
            r = replace(r, inputs={**r.inputs, "policy": json.dumps(doc)})
        out.append(r)
    return out


def _secret_policy_finding(resources):
    from readiness.checklist import Context, evaluate
    from readiness.rules import secrets

    return next(x for x in evaluate(secrets.RULES, Context(resources)) if x.rule.id == "SECRET-POLICY")


def _sid(doc, sid):
    return next(st for st in doc["Statement"] if st["Sid"] == sid)


def _allow_everyone(doc):
    reader = next(st for st in doc["Statement"] if st["Sid"] in (
        "DecryptByReadersAndAdministratorsThroughSecretsManager", "ReadByReadersAndAdministrators"))
    reader["Principal"] = "*"


def _allow_root(doc):
    doc["Statement"][0]["Action"].append("kms:Decrypt")


def _drop_read_deny(doc):
    doc["Statement"] = [st for st in doc["Statement"] if st["Sid"] not in ("DenyDecryptToEveryoneElse",
                                                                          "DenyReadToEveryoneElse")]


def _wildcard_exemption(doc):
    _sid(doc, "DenyDecryptToEveryoneElse")["Condition"] = {
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/*"]}}


def _no_condition_name(doc):
    _sid(doc, "DenyReadToEveryoneElse")["Condition"] = {"StringNotEquals": {"aws:username": ["x"]}}


def _empty_string_exemption(doc):
    for st in doc["Statement"]:
        if st["Effect"] == "Deny" and "Decrypt" in st["Sid"] or st["Sid"] == "DenyReadToEveryoneElse":
            st["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": ""}}


def _empty_list_exemption(doc):
    for st in doc["Statement"]:
        if st["Effect"] == "Deny" and "Decrypt" in st["Sid"] or st["Sid"] == "DenyReadToEveryoneElse":
            st["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": []}}


def _dropping(action):
    def change(doc):
        st = _sid(doc, "DenyManagementToAllButAdministrators")
        st["Action"] = [a for a in st["Action"] if a != action]
    change.__name__ = f"drop_{action}"
    return change


def _empty_admins(doc):
    _sid(doc, "DenyManagementToAllButAdministrators")["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": []}}


LOCKOUT = "denies {0} to everyone with an empty exemption list: nobody may do it, not even the principals meant to " \
          "(a lock-out); list them"


@pytest.mark.parametrize(("typ", "change", "problem"), [
    (KEY, _allow_everyone, "plaid-client-key: allows kms:Decrypt to everyone"),
    (KEY, _allow_root, "plaid-client-key: allows kms:Decrypt to the account root (any administrator)"),
    (KEY, _drop_read_deny, "plaid-client-key: no explicit deny of kms:Decrypt to everyone but the listed principals"),
    (KEY, _wildcard_exemption,
     "plaid-client-key: no explicit deny of kms:Decrypt to everyone but the listed principals"),
    (POLICY, _allow_everyone, "plaid-client-policy: allows secretsmanager:GetSecretValue to everyone"),
    (POLICY, _drop_read_deny,
     "plaid-client-policy: no explicit deny of secretsmanager:GetSecretValue to everyone but the listed principals"),
    (POLICY, _no_condition_name,
     "plaid-client-policy: no explicit deny of secretsmanager:GetSecretValue to everyone but the listed principals"),
    # A Deny whose exemption is empty is a lock-out, not a closed policy (it used to read "only  may decrypt").
    (KEY, _empty_string_exemption, "plaid-client-key: " + LOCKOUT.format("kms:Decrypt")),
    (KEY, _empty_list_exemption, "plaid-client-key: " + LOCKOUT.format("kms:Decrypt")),
    (POLICY, _empty_string_exemption, "plaid-client-policy: " + LOCKOUT.format("secretsmanager:GetSecretValue")),
])
def test_secret_policy_rule_fails_when_a_policy_is_opened(typ, change, problem):
    res = _secret_policy_finding(_patched(built(), typ, change))
    assert res.failed and res.finding.declared == problem


@pytest.mark.parametrize("action", SECRET_MANAGEMENT)
def test_secret_policy_rule_fails_when_a_secret_management_action_is_not_denied(action):
    res = _secret_policy_finding(_patched(built(), POLICY, _dropping(action)))
    assert res.failed
    assert res.finding.declared == (f"plaid-client-policy: does not deny {action} to everyone but named "
                                    "administrators (any IAM principal of the account allowed by its own policies "
                                    "could do it)")


@pytest.mark.parametrize("action", ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation",
                                    "kms:PutKeyPolicy", "kms:CreateGrant", "kms:Encrypt", "kms:TagResource",
                                    "kms:UntagResource", "kms:UpdateAlias", "kms:DeleteAlias"])
def test_secret_policy_rule_fails_when_a_key_management_action_is_not_denied(action):
    res = _secret_policy_finding(_patched(built(), KEY, _dropping(action)))
    assert res.failed
    assert res.finding.declared == (f"plaid-client-key: does not deny {action} to everyone but named "
                                    "administrators (any IAM principal of the account allowed by its own policies "
                                    "could do it)")


def test_secret_policy_rule_fails_when_the_administrators_list_is_empty():
    res = _secret_policy_finding(_patched(built(), POLICY, _empty_admins))
    assert res.failed
    assert res.finding.declared.startswith("plaid-client-policy: denies secretsmanager:DeleteSecret, "
                                           "secretsmanager:UpdateSecretVersionStage")
    assert "(a lock-out: nobody could update, rotate or delete it, pulumi up included)" in res.finding.declared


def test_secret_policy_rule_fails_without_the_secret_policy_or_with_public_policies_allowed():
    from dataclasses import replace

    d = built()
    res = _secret_policy_finding([r for r in d.resources if r.type != POLICY])
    assert res.failed and res.finding.declared == "plaid-client: no resource policy"
    opened = [replace(r, inputs={**r.inputs, "blockPublicPolicy": False}) if r.type == POLICY else r
              for r in d.resources]
    res = _secret_policy_finding(opened)
    assert res.failed and res.finding.declared == "plaid-client-policy: blockPublicPolicy is not true"


def test_secret_policy_rule_fails_without_a_key_policy():
    from dataclasses import replace

    d = built()
    res = _secret_policy_finding([replace(r, inputs={k: v for k, v in r.inputs.items() if k != "policy"})
                                  if r.type == KEY else r for r in d.resources])
    assert res.failed and res.finding.declared.startswith("plaid-client-key: no policy")


def test_pending_secret_is_a_second_version_staged_awspending_and_stays_secret():
    d = build(supplied_secret="current-" + "c" * 56, pending_secret="pending-" + "p" * 56)
    versions = {r.name: r for r in d.of_type(VERSION)}
    assert set(versions) == {"plaid-client-version", "plaid-client-pending"}
    current, pending = versions["plaid-client-version"], versions["plaid-client-pending"]
    assert current.input("versionStages") is None  # AWSCURRENT, Secrets Manager's default
    assert pending.input("versionStages") == ["AWSPENDING"]
    assert pending.input("secretId") == current.input("secretId")
    assert is_secret(pending.inputs["secretString"]) and is_secret(current.inputs["secretString"])
    assert json.loads(pending.input("secretString")) == {"client_id": "client-id-1234",
                                                         "client_secret": "pending-" + "p" * 56}
    assert json.loads(current.input("secretString"))["client_secret"] == "current-" + "c" * 56
    assert pending.parent_urn == d.one(TYPE, "plaid-client").urn and pending.protect is False
    assert "pending-" not in json.dumps(d.outputs, default=repr)
    assert not build().of_type(VERSION)[1:]  # no pending version without a pending secret
