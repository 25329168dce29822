"""Plaid's client credentials in AWS Secrets Manager, under a customer-managed KMS key.

The secret value is 32 CSPRNG bytes, hex (``random.RandomBytes``), unless the IdP generates its own
(Cognito) and supplies it. Either way it is a Pulumi secret everywhere it flows. The component stores
``{"client_id": ..., "client_secret": ...}`` as JSON and exposes only the secret's ARN and name.

Rotation is deliberate: the value is regenerated only when ``rotation_version`` changes (a
``keepers`` entry), which the stack setting ``clientSecret.version`` controls.

Who can read it: only the IAM roles in ``readers`` (the stack setting ``clientSecret.readers``). The KMS
key policy gives the account root key *administration* (never decrypt) and lets the readers use the key
only through Secrets Manager; the secret's resource policy lets the readers read it; both deny everyone
else explicitly. Pulumi itself reads the secret on refresh and writes it on rotation, so the role that
runs ``pulumi up`` must be one of the readers. With no readers the component declares neither policy
(the key keeps AWS's default policy) and the readiness rule ``SECRET-POLICY`` fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_random as random

import plaid_contract as plaid
from components import options
from components.settings import Environment

TYPE = "plaid-ready-idp:secrets:PlaidClientSecret"

#: What the account root may do with the key: administer it, never use it (no Decrypt, no CreateGrant:
#: ``kms:Create*`` would include it).
KEY_ADMIN_ACTIONS: Final = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
    "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:Update*",
)
#: What the readers may do with the key, through Secrets Manager only: decrypt the secret and, when Pulumi
#: writes a new version, encrypt it.
KEY_USE_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey")
#: Key uses denied to everyone who is not a reader (whatever their IAM policies or grants say).
KEY_DENIED_ACTIONS: Final = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                             "kms:CreateGrant")
#: What the readers may do with the secret.
SECRET_READ_ACTIONS: Final = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
#: Denied to everyone who is not a reader: reading the value, writing it, and changing who may.
SECRET_DENIED_ACTIONS: Final = (
    "secretsmanager:DeleteResourcePolicy", "secretsmanager:GetSecretValue", "secretsmanager:PutResourcePolicy",
    "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
)


def key_policy(partition: str, account: str, region: str, readers: Sequence[str]) -> str:
    """The client-secret key's policy: administration for the account root, use by ``readers`` through
    Secrets Manager, use denied to everyone else."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "KeyAdministrationByTheAccount", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
         "Action": list(KEY_ADMIN_ACTIONS), "Resource": "*"},
        {"Sid": "UseByReadersThroughSecretsManager", "Effect": "Allow", "Principal": {"AWS": list(readers)},
         "Action": list(KEY_USE_ACTIONS), "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
        {"Sid": "DenyUseToEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(KEY_DENIED_ACTIONS), "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(readers)}}},
    ]}, sort_keys=True)


def secret_policy(readers: Sequence[str]) -> str:
    """The secret's resource policy: ``readers`` may read it; nobody else may read, write or re-permission it."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadByReaders", "Effect": "Allow", "Principal": {"AWS": list(readers)},
         "Action": list(SECRET_READ_ACTIONS), "Resource": "*"},
        {"Sid": "DenyEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(SECRET_DENIED_ACTIONS), "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(readers)}}},
    ]}, sort_keys=True)


@dataclass(frozen=True)
class ClientSecretArgs:
    client_id: pulumi.Input[str]
    #: Physical-name prefix (institution code and environment), e.g. ``fpb-prod``.
    name_prefix: str
    environment: Environment
    rotation_version: int = 1
    #: A secret the IdP generated itself (Cognito). None: generate one here with the CSPRNG.
    supplied_secret: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: IAM role ARNs that may read the secret (``settings.client_secret.readers``), including the role that
    #: runs ``pulumi up``. Empty: no key or secret policy is declared and SECRET-POLICY fails.
    readers: Sequence[str] = ()


class PlaidClientSecret(pulumi.ComponentResource):
    """A KMS key, a Secrets Manager secret and its version holding Plaid's client credentials."""

    secret_arn: pulumi.Output[str]
    secret_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    #: The client secret itself, a Pulumi secret: hand it to the IdP; never export it.
    value: pulumi.Output[str]

    def __init__(self, name: str, args: ClientSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        if args.rotation_version < 1:
            raise ValueError("ClientSecretArgs.rotation_version must be 1 or more")
        protect = args.environment is Environment.PROD
        physical = f"plaid-ready-idp/{args.name_prefix}/plaid-client"
        readers = list(args.readers)
        if len(set(readers)) != len(readers) or any("*" in r for r in readers):
            raise ValueError("ClientSecretArgs.readers must be distinct IAM role ARNs without wildcards")

        policy: Any = None
        if readers:
            invoke = pulumi.InvokeOutputOptions(parent=self)
            account = aws.get_caller_identity_output(opts=invoke).account_id
            region = aws.get_region_output(opts=invoke).region
            partition = aws.get_partition_output(opts=invoke).partition
            policy = pulumi.Output.all(partition, account, region).apply(
                lambda a: key_policy(a[0], a[1], a[2], readers))
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts Plaid's client credentials ({args.name_prefix})",
            enable_key_rotation=True,
            deletion_window_in_days=options.KMS_DELETION_DAYS[args.environment],
            policy=policy,
            tags=args.tags,
            opts=options.child(self, stateful=True, protect=protect),
        )
        self.alias = aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/plaid-ready-idp/{args.name_prefix}/plaid-client",
            target_key_id=self.key.key_id,
            opts=options.child(self),
        )

        if args.supplied_secret is None:
            self.random = random.RandomBytes(
                f"{name}-value",
                length=plaid.CLIENT_SECRET_BYTES,
                keepers={"version": str(args.rotation_version)},
                # Not protected even in prod: a deliberate version bump must be able to replace it.
                opts=options.child(self, additional_secret_outputs=["hex", "base64"]),
            )
            value = self.random.hex
        else:
            self.random = None
            value = pulumi.Output.from_input(args.supplied_secret)
        self.value = pulumi.Output.secret(value)

        self.secret = aws.secretsmanager.Secret(
            name,
            name=physical,
            description="Plaid Core Exchange OAuth client credentials: {client_id, client_secret}",
            kms_key_id=self.key.arn,
            recovery_window_in_days=options.SECRET_RECOVERY_DAYS[args.environment],
            tags=args.tags,
            opts=options.child(self, stateful=True, protect=protect),
        )
        self.policy = None
        if readers:
            self.policy = aws.secretsmanager.SecretPolicy(
                f"{name}-policy",
                secret_arn=self.secret.arn,
                policy=secret_policy(readers),
                block_public_policy=True,
                opts=options.child(self),
            )
        self.version = aws.secretsmanager.SecretVersion(
            f"{name}-version",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.json_dumps({"client_id": args.client_id, "client_secret": self.value})
            ),
            opts=options.child(self),
        )

        self.secret_arn = self.secret.arn
        self.secret_name = self.secret.name
        self.kms_key_arn = self.key.arn
        self.register_outputs(
            {"secret_arn": self.secret_arn, "secret_name": self.secret_name, "kms_key_arn": self.kms_key_arn}
        )
