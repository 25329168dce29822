"""How readiness/rules/secrets.py reads an IAM policy document (found by `make mutation`): statements, actions
with wildcards and NotAction, principals and NotPrincipal, as IAM reads them."""

from __future__ import annotations

import pytest

from readiness.rules.secrets import covers, listed, principals, statements


@pytest.mark.parametrize(("doc", "count"), [
    ({"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}, 2),
    ({"Statement": {"Effect": "Allow"}}, 1),  # a single statement object
    ({"Statement": [{"Effect": "Allow"}, "junk", 3]}, 1),  # only objects count
    ({}, 0), ("not a document", 0), (None, 0), ({"Statement": None}, 0),
])
def test_statements_of_a_policy_document(doc, count):
    assert len(statements(doc)) == count


@pytest.mark.parametrize(("value", "expected"), [
    (["a", "b"], ["a", "b"]), ("a", ["a"]), (None, []), (7, ["7"]), ([], []),
])
def test_listed_turns_one_value_or_a_list_into_strings(value, expected):
    assert listed(value) == expected


@pytest.mark.parametrize(("st", "action", "expected"), [
    ({"Action": "kms:Decrypt"}, "kms:Decrypt", True),
    ({"Action": ["kms:Encrypt", "kms:Decrypt"]}, "kms:Decrypt", True),
    ({"Action": "KMS:decrypt"}, "kms:Decrypt", True),  # IAM actions are case-insensitive
    ({"Action": "kms:*"}, "kms:Decrypt", True),
    ({"Action": "kms:Decrypt*"}, "kms:Decrypt", True),
    ({"Action": "*"}, "secretsmanager:GetSecretValue", True),
    ({"Action": "kms:Encrypt"}, "kms:Decrypt", False),
    ({"Action": "kms:De?rypt"}, "kms:Decrypt", True),
    ({}, "kms:Decrypt", False),
    ({"NotAction": "kms:Encrypt"}, "kms:Decrypt", True),  # everything but Encrypt
    ({"NotAction": ["kms:Encrypt", "KMS:DECRYPT"]}, "kms:Decrypt", False),
    ({"NotAction": "kms:*"}, "kms:Decrypt", False),
])
def test_covers_reads_actions_as_iam_does(st, action, expected):
    assert covers(st, action) is expected


@pytest.mark.parametrize(("st", "kind", "expected"), [
    ({"Principal": "*"}, "AWS", ["*"]),
    ({"Principal": {"AWS": "arn:aws:iam::1:role/r"}}, "AWS", ["arn:aws:iam::1:role/r"]),
    ({"Principal": {"AWS": ["a", "b"], "Service": "logs.amazonaws.com"}}, "Service", ["logs.amazonaws.com"]),
    ({"Principal": {"Service": "logs.amazonaws.com"}}, "AWS", []),
    ({"NotPrincipal": {"AWS": "arn:aws:iam::1:role/r"}}, "AWS", ["*"]),  # everyone but one: everyone
    ({}, "AWS", []),
    ({"Principal": "arn:aws:iam::1:root"}, "AWS", []),
])
def test_principals_of_a_statement(st, kind, expected):
    assert principals(st, kind) == expected
