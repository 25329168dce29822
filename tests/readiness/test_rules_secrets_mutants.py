"""SECRET-* rows of readiness/rules/secrets.py at the edges `make mutation` found unguarded (issue #22, round 2).

Each rule function is called on hand-built declarations (readiness.engine.DeclaredResource), one change per
case, so a condition turned around, a key misspelt or a branch dropped changes a verdict these tests assert.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.checklist import UNKNOWN, Context, SecretValue, Status
from readiness.engine import DeclaredResource
from readiness.rules import secrets as s

READER = "arn:aws:iam::123456789012:role/reader"
ADMIN = "arn:aws:iam::123456789012:role/admin"
ROOT = "arn:aws:iam::123456789012:root"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/k-1"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:plaid-1"


def res(typ: str, name: str, inputs: dict[str, Any] | None = None, deps: list[str] | None = None) -> DeclaredResource:
    return DeclaredResource(urn=f"urn:pulumi:dev::p::{typ}::{name}", type=typ, name=name, parent_urn="",
                            custom=True, protect=False, inputs=dict(inputs or {}), dependencies=list(deps or []))


def deny(actions: str | list[str], exempt: Any, op: str = "ArnNotEquals", key: str = "aws:PrincipalArn",
         principal: Any = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": actions, "Resource": "*",
            "Condition": {op: {key: exempt}}}


def allow(actions: str | list[str], principal: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# -- SECRET-STORE ---------------------------------------------------------------------------------------------


def store(secret: dict[str, Any] | None = None, key: dict[str, Any] | None = None,
          version: dict[str, Any] | None = None, *, marked: bool = True, drop: str = "") -> Status:
    resources = [res(s.SECRET, "sec", {"kmsKeyId": KEY_ARN, **(secret or {})}),
                 res(s.KMS_KEY, "key", {"enableKeyRotation": True, **(key or {})}),
                 res(s.SECRET_VERSION, "ver", {"secretString": SecretValue("x"), **(version or {})})]
    resources = [r for r in resources if r.type != drop]
    return s._secret_in_secrets_manager(Context(resources, "dev", secrets_marked=marked)).status


def test_secret_store_passes_for_a_cmk_with_rotation_and_a_secret_value():
    assert store() is Status.PASS


@pytest.mark.parametrize("kms", [None, "alias/aws/secretsmanager", "aws/secretsmanager"])
def test_secret_store_fails_on_the_aws_managed_key(kms):
    assert store({"kmsKeyId": kms}) is Status.FAIL


@pytest.mark.parametrize("kms", ["alias/plaid-client", "arn:aws:kms:us-east-1:1:alias/aws-like", UNKNOWN])
def test_secret_store_accepts_a_customer_key_known_or_not_yet(kms):
    assert store({"kmsKeyId": kms}) is Status.PASS


@pytest.mark.parametrize("rotation", [False, None, "true", 1])
def test_secret_store_needs_key_rotation_exactly_true(rotation):
    assert store(key={"enableKeyRotation": rotation}) is Status.FAIL


@pytest.mark.parametrize("drop", [s.SECRET, s.KMS_KEY, s.SECRET_VERSION])
def test_secret_store_fails_without_the_secret_its_key_or_a_version(drop):
    assert store(drop=drop) is Status.FAIL


def test_secret_store_fails_on_a_plain_secret_string_where_secrets_are_marked():
    assert store(version={"secretString": "plain"}) is Status.FAIL


def test_secret_store_cannot_judge_secretness_where_secrets_are_not_marked():
    assert store(version={"secretString": "plain"}, marked=False) is Status.PASS


# -- policy helpers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"])
def test_exempt_reads_each_negated_operator(op):
    assert s._exempt(deny("kms:Decrypt", [READER], op=op)) == [READER]


@pytest.mark.parametrize("key", ["aws:PrincipalArn", "AWS:PRINCIPALARN", "aws:principalarn"])
def test_exempt_reads_the_condition_key_case_insensitively(key):
    assert s._exempt(deny("kms:Decrypt", READER, key=key)) == [READER]


@pytest.mark.parametrize("st", [
    deny("kms:Decrypt", [READER], op="ArnEquals"),  # not an exemption: a deny of those only
    deny("kms:Decrypt", [READER], key="aws:SourceArn"),
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt"},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Condition": "ArnNotEquals"},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Condition": {"ArnNotEquals": [READER]}},
])
def test_exempt_is_none_without_a_principal_arn_exemption(st):
    assert s._exempt(st) is None


def test_exempt_finds_the_principal_arn_among_other_keys():
    st = {"Effect": "Deny", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1", "aws:PrincipalArn": [ADMIN]}}}
    assert s._exempt(st) == [ADMIN]


def test_exempt_takes_the_first_operator_that_names_the_principal():
    st = {"Condition": {"ArnNotLike": {"aws:PrincipalArn": [READER]}, "StringNotEquals": {"aws:x": "y"}}}
    assert s._exempt(st) == [READER]


@pytest.mark.parametrize(("arn", "exact"), [
    (READER, True), ("arn:aws:iam::123456789012:role/XRayReader", True),  # any letter but the wildcards
    ("", False), ("  ", False), ("arn:aws:iam::1:role/*", False), ("arn:aws:iam::1:role/r?", False)])
def test_exact_arns_have_no_wildcard_and_are_not_blank(arn, exact):
    assert s._exact(arn) is exact


# -- judge_restricted ------------------------------------------------------------------------------------------


def test_a_deny_to_everyone_but_exact_arns_is_closed_and_names_them_sorted():
    problems, readers = s.judge_restricted(doc(deny("kms:Decrypt", [READER, ADMIN])), "kms:Decrypt")
    assert problems == [] and readers == [ADMIN, READER]


def test_readers_of_several_closing_denies_are_merged_once():
    d = doc(deny("kms:Decrypt", [READER]), deny(["kms:Decrypt", "kms:Encrypt"], [READER, ADMIN], op="ArnNotLike"))
    assert s.judge_restricted(d, "kms:Decrypt") == ([], [ADMIN, READER])


def test_no_deny_at_all_is_open():
    problems, readers = s.judge_restricted(doc(allow("kms:Decrypt", {"AWS": READER})), "kms:Decrypt")
    assert len(problems) == 1 and readers == []


def test_a_deny_of_another_action_does_not_close_this_one():
    problems, readers = s.judge_restricted(doc(deny("kms:Encrypt", [READER])), "kms:Decrypt")
    assert len(problems) == 1 and readers == []


def test_a_deny_to_one_principal_does_not_close_the_action_for_everyone_else():
    d = doc(deny("kms:Decrypt", [READER], principal={"AWS": "arn:aws:iam::123456789012:role/other"}))
    problems, readers = s.judge_restricted(d, "kms:Decrypt")
    assert len(problems) == 1 and readers == []


def test_a_deny_without_an_exemption_next_to_a_closing_one_is_not_closed():
    d = doc(deny("kms:Decrypt", [READER]), {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt"})
    problems, readers = s.judge_restricted(d, "kms:Decrypt")
    assert len(problems) == 1 and readers == []


def test_an_exemption_by_wildcard_is_not_closed():
    problems, readers = s.judge_restricted(doc(deny("kms:Decrypt", ["arn:aws:iam::1:role/*"])), "kms:Decrypt")
    assert len(problems) == 1 and readers == []


@pytest.mark.parametrize("exempt", [[], [""], ["  "], [READER, ""]])
def test_an_empty_exemption_list_is_a_lock_out_and_names_nobody(exempt):
    problems, readers = s.judge_restricted(doc(deny("kms:Decrypt", exempt)), "kms:Decrypt")
    assert len(problems) == 1 and "empty exemption list" in problems[0] and readers == []


def test_a_lock_out_is_reported_once_even_next_to_a_closing_deny():
    d = doc(deny("kms:Decrypt", [READER]), deny("kms:Decrypt", []))
    problems, readers = s.judge_restricted(d, "kms:Decrypt")
    assert len(problems) == 1 and "empty exemption list" in problems[0] and readers == []


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [READER, "*"]}])
def test_an_allow_to_everyone_is_open_even_with_a_closing_deny(principal):
    d = doc(allow("kms:Decrypt", principal), deny("kms:Decrypt", [READER]))
    problems, readers = s.judge_restricted(d, "kms:Decrypt")
    assert len(problems) == 1 and readers == [READER]


def test_an_allow_to_everyone_of_another_action_is_not_this_actions_problem():
    d = doc(allow("kms:Encrypt", "*"), deny("kms:Decrypt", [READER]))
    assert s.judge_restricted(d, "kms:Decrypt") == ([], [READER])


def test_a_deny_to_everyone_of_the_action_is_not_an_allow():
    d = doc({"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Condition": {
        "ArnNotEquals": {"aws:PrincipalArn": [READER]}}})
    assert s.judge_restricted(d, "kms:Decrypt") == ([], [READER])


@pytest.mark.parametrize("root", [ROOT, "123456789012"])
def test_an_allow_to_the_account_root_is_open_unless_roots_are_allowed(root):
    d = doc(allow("kms:Decrypt", {"AWS": root}), deny("kms:Decrypt", [READER]))
    assert len(s.judge_restricted(d, "kms:Decrypt")[0]) == 1
    assert s.judge_restricted(d, "kms:Decrypt", allow_root=True) == ([], [READER])


def test_an_allow_to_a_named_role_is_not_the_root():
    d = doc(allow("kms:Decrypt", {"AWS": READER}), deny("kms:Decrypt", [READER]))
    assert s.judge_restricted(d, "kms:Decrypt") == ([], [READER])


# -- _management ---------------------------------------------------------------------------------------------


def test_management_closed_for_every_action_names_the_administrators():
    problems, admins = s._management(doc(deny(list(s.KEY_MANAGEMENT), [ADMIN])), s.KEY_MANAGEMENT)
    assert problems == [] and admins == {ADMIN}


def test_management_missing_one_action_is_one_problem():
    actions = [a for a in s.SECRET_MANAGEMENT if a != "secretsmanager:DeleteSecret"]
    problems, admins = s._management(doc(deny(actions, [ADMIN])), s.SECRET_MANAGEMENT)
    assert len(problems) == 1 and "secretsmanager:DeleteSecret" in problems[0] and admins == {ADMIN}


def test_management_locked_out_and_missing_are_two_problems():
    actions = [a for a in s.SECRET_MANAGEMENT if a != "secretsmanager:DeleteSecret"]
    problems, admins = s._management(doc(deny(actions, [])), s.SECRET_MANAGEMENT)
    assert len(problems) == 2 and "empty exemption" in problems[0] and "DeleteSecret" in problems[1]
    assert "DeleteSecret" not in problems[0] and admins == set()


def test_management_lets_the_root_hold_the_actions_the_deny_wins():
    d = doc(allow("kms:*", {"AWS": ROOT}), deny(list(s.KEY_MANAGEMENT), [ADMIN]))
    assert s._management(d, s.KEY_MANAGEMENT) == ([], {ADMIN})


# -- _doc and _linked ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (None, (None, "no policy")),
    ("", (None, "no policy")),
    (UNKNOWN, (None, "policy unknown until apply, cannot be judged")),
    ("{not json", (None, "policy is not JSON")),
    ('{"Statement": []}', ({"Statement": []}, None)),
    ({"Statement": []}, ({"Statement": []}, None)),
])
def test_doc_reads_a_policy_input(raw, expected):
    assert s._doc(res(s.KMS_KEY, "k", {"policy": raw}), "policy") == expected


def test_linked_by_dependency_or_by_arn_only():
    a = res(s.KMS_KEY, "a", {"arn": KEY_ARN})
    b = res(s.KMS_KEY, "b", {"arn": "arn:aws:kms:us-east-1:1:key/other"})
    c = res(s.KMS_KEY, "c")
    assert s._linked(res(s.SECRET, "x", {"kmsKeyId": KEY_ARN}), [a, b, c], "kmsKeyId") == [a]
    assert s._linked(res(s.SECRET, "x", {}, deps=[c.urn]), [a, b, c], "kmsKeyId") == [c]
    assert s._linked(res(s.SECRET, "x", {"kmsKeyId": "alias/x"}), [a, b, c], "kmsKeyId") == []


@pytest.mark.parametrize("arn", ["", None])
def test_an_empty_or_missing_arn_links_nothing(arn):
    blank = res(s.KMS_KEY, "blank", {"arn": arn})
    assert s._linked(res(s.SECRET, "x", {"kmsKeyId": arn}), [blank], "kmsKeyId") == []


def test_linked_tolerates_no_recorded_dependencies():
    secret = res(s.SECRET, "x", {"kmsKeyId": KEY_ARN})
    secret.dependencies = None  # type: ignore[assignment]
    key = res(s.KMS_KEY, "a", {"arn": KEY_ARN})
    assert s._linked(secret, [key], "kmsKeyId") == [key]


# -- SECRET-POLICY --------------------------------------------------------------------------------------------


def key_policy(**over: Any) -> dict[str, Any]:
    return doc(allow(["kms:DescribeKey", *s.KEY_MANAGEMENT], {"AWS": ROOT}),
               deny("kms:Decrypt", over.get("readers", [READER, ADMIN])),
               deny(list(s.KEY_MANAGEMENT), over.get("admins", [ADMIN])))


def secret_policy(**over: Any) -> dict[str, Any]:
    return doc(allow("secretsmanager:GetSecretValue", {"AWS": READER}),
               deny("secretsmanager:GetSecretValue", over.get("readers", [READER, ADMIN])),
               deny(list(s.SECRET_MANAGEMENT), over.get("admins", [ADMIN])))


def policy_ctx(*, key: dict[str, Any] | None = None, pol: dict[str, Any] | None = None, secret: dict[str, Any] | None
               = None, link_policy: str = "dependency", extra: list[DeclaredResource] | None = None) -> Context:
    sec = res(s.SECRET, "sec", {"kmsKeyId": KEY_ARN, "arn": SECRET_ARN, **(secret or {})})
    kms = res(s.KMS_KEY, "key", {"arn": KEY_ARN, "policy": json.dumps(key_policy()), **(key or {})})
    pol_inputs = {"policy": json.dumps(secret_policy()), "blockPublicPolicy": True, **(pol or {})}
    if link_policy == "arn":
        pol_inputs["secretArn"] = SECRET_ARN
    policy = res(s.SECRET_POLICY, "pol", pol_inputs, deps=[sec.urn] if link_policy == "dependency" else [])
    return Context([sec, kms, policy, *(extra or [])], "dev")


def verdict(ctx: Context) -> Status:
    return s._secret_policies(ctx).status


def test_secret_policy_passes_when_both_policies_close_read_and_management():
    finding = s._secret_policies(policy_ctx())
    assert finding.status is Status.PASS
    assert f"only {ADMIN}, {READER} may decrypt/read" in finding.declared
    assert f"({READER}: read only)" in finding.declared and f"only {ADMIN} may write" in finding.declared


def test_secret_policy_links_the_resource_policy_by_secret_arn():
    assert verdict(policy_ctx(link_policy="arn")) is Status.PASS


def test_secret_policy_fails_when_the_resource_policy_names_another_secret():
    ctx = policy_ctx(link_policy="none", pol={"secretArn": "arn:aws:secretsmanager:us-east-1:1:secret:other"})
    assert verdict(ctx) is Status.FAIL


def test_secret_policy_fails_when_neither_the_policy_nor_the_secret_has_an_arn():
    ctx = policy_ctx(link_policy="none", secret={"arn": None})
    assert verdict(ctx) is Status.FAIL


def test_secret_policy_fails_without_any_secret():
    assert verdict(Context([res(s.KMS_KEY, "key", {"policy": json.dumps(key_policy())})], "dev")) is Status.FAIL


def test_secret_policy_fails_when_the_key_is_not_declared():
    assert verdict(policy_ctx(secret={"kmsKeyId": "arn:aws:kms:us-east-1:1:key/elsewhere"})) is Status.FAIL


@pytest.mark.parametrize("raw", [None, "", UNKNOWN, "{not json"])
def test_secret_policy_fails_when_the_key_policy_cannot_be_read(raw):
    assert verdict(policy_ctx(key={"policy": raw})) is Status.FAIL


@pytest.mark.parametrize("raw", [None, UNKNOWN, "{not json"])
def test_secret_policy_fails_when_the_resource_policy_cannot_be_read(raw):
    assert verdict(policy_ctx(pol={"policy": raw})) is Status.FAIL


@pytest.mark.parametrize("block", [False, None, "true"])
def test_secret_policy_needs_block_public_policy_exactly_true(block):
    assert verdict(policy_ctx(pol={"blockPublicPolicy": block})) is Status.FAIL


@pytest.mark.parametrize("change", [
    {"key": {"policy": json.dumps(key_policy(readers=["arn:aws:iam::1:role/*"]))}},
    {"key": {"policy": json.dumps(key_policy(admins=[]))}},
    {"key": {"policy": json.dumps(doc(deny("kms:Decrypt", [READER])))}},
    {"pol": {"policy": json.dumps(secret_policy(readers=[]))}},
    {"pol": {"policy": json.dumps(secret_policy(admins=["arn:aws:iam::1:role/admin*"]))}},
    {"pol": {"policy": json.dumps(doc(deny("secretsmanager:GetSecretValue", [READER])))}},
], ids=["key-read-wildcard", "key-admins-locked-out", "key-no-management", "secret-read-locked-out",
        "secret-admins-wildcard", "secret-no-management"])
def test_secret_policy_fails_on_each_policy_that_does_not_close(change):
    assert verdict(policy_ctx(**change)) is Status.FAIL


def test_secret_policy_judges_every_secret():
    other = res(s.SECRET, "other", {"kmsKeyId": KEY_ARN, "arn": "arn:aws:secretsmanager:us-east-1:1:secret:o"})
    assert verdict(policy_ctx(extra=[other])) is Status.FAIL  # the second secret has no resource policy


def test_secret_store_names_every_secret_when_it_passes():
    resources = [res(s.SECRET, "first", {"kmsKeyId": KEY_ARN}), res(s.SECRET, "second", {"kmsKeyId": KEY_ARN}),
                 res(s.KMS_KEY, "key", {"enableKeyRotation": True}),
                 res(s.SECRET_VERSION, "ver", {"secretString": SecretValue("x")})]
    finding = s._secret_in_secrets_manager(Context(resources, "dev"))
    assert finding.status is Status.PASS and finding.declared.startswith("Secrets Manager (first, second), ")


def test_secret_policy_keeps_the_problems_of_an_earlier_secret():
    first = res(s.SECRET, "first", {"kmsKeyId": KEY_ARN, "arn": "arn:aws:secretsmanager:us-east-1:1:secret:f"})
    ctx = policy_ctx()
    finding = s._secret_policies(Context([first, *ctx.resources], "dev"))
    assert finding.status is Status.FAIL and finding.declared == "first: no resource policy"


def test_secret_policy_judges_each_key_after_an_unreadable_one():
    sec = res(s.SECRET, "sec", {"kmsKeyId": KEY_ARN, "arn": SECRET_ARN})
    unreadable = res(s.KMS_KEY, "unreadable", {"policy": UNKNOWN})
    opened = res(s.KMS_KEY, "opened", {"policy": json.dumps(doc(allow("kms:Decrypt", "*")))})
    sec.dependencies = [unreadable.urn, opened.urn]
    pol = res(s.SECRET_POLICY, "pol", {"policy": json.dumps(secret_policy()), "blockPublicPolicy": True},
              deps=[sec.urn])
    finding = s._secret_policies(Context([sec, unreadable, opened, pol], "dev"))
    assert finding.status is Status.FAIL and "opened: allows kms:Decrypt to everyone" in finding.declared


def test_secret_policy_judges_each_resource_policy_after_an_unreadable_one():
    ctx = policy_ctx()
    sec = next(r for r in ctx.resources if r.type == s.SECRET)
    unreadable = res(s.SECRET_POLICY, "unreadable", {"policy": "{not json"}, deps=[sec.urn])
    opened = res(s.SECRET_POLICY, "opened", {"policy": json.dumps(secret_policy()), "blockPublicPolicy": False},
                 deps=[sec.urn])
    kept = [r for r in ctx.resources if r.type != s.SECRET_POLICY]
    finding = s._secret_policies(Context([*kept, unreadable, opened], "dev"))
    assert finding.status is Status.FAIL and "opened: blockPublicPolicy is not true" in finding.declared
