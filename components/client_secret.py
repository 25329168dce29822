"""Plaid's client credentials in AWS Secrets Manager, under a customer-managed KMS key.

The secret value is 32 CSPRNG bytes, hex (``random.RandomBytes``), unless the IdP generates its own
(Cognito) and supplies it. Either way it is a Pulumi secret everywhere it flows. The component stores
``{"client_id": ..., "client_secret": ...}`` as JSON and exposes only the secret's ARN and name.

Rotation is deliberate: the value is regenerated only when ``rotation_version`` changes (a
``keepers`` entry), which the stack setting ``clientSecret.version`` controls. Where the IdP holds two secrets
(Cognito), ``clientSecret.rotation.phase`` makes it two steps: ``add-next`` stores the new value as a second
version staged ``AWSPENDING`` (``pending_secret``) while ``AWSCURRENT`` keeps the old one; ``retire-previous``
makes the new value ``AWSCURRENT`` (docs/rotation.md#client-secret).

Who can do what (the stack settings ``clientSecret.readers`` and ``clientSecret.administrators``):

- readers may read the secret (and decrypt it through Secrets Manager), nothing else;
- administrators may also write it, delete or restore it, move ``AWSCURRENT`` (roll back), rotate,
  replicate, tag and re-permission it, and encrypt with, disable, delete or re-permission its key.
  Pulumi reads the secret on refresh and writes it on rotation and on every change of its policies, so
  the role that runs ``pulumi up`` is an administrator (not a reader);
- everyone else is denied all of it explicitly, whatever their IAM policies say. The account root keeps
  key *administration* in the key policy (so IAM can delegate it, as AWS requires), never decrypt, and
  the deny statements leave the destructive part to the administrators alone.

With no administrators the component declares neither policy (the key keeps AWS's default policy) and
the readiness rule ``SECRET-POLICY`` fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_random as random

import plaid_contract as plaid
from components import options
from components.settings import Environment

if TYPE_CHECKING:
    from components.settings import StackSettings

TYPE = "plaid-ready-idp:secrets:PlaidClientSecret"

# Action names: AWS Service Authorization Reference ("Actions, resources, and condition keys for AWS Key
# Management Service" and "... for AWS Secrets Manager") and the Secrets Manager API reference's list of
# operations (every operation is authorised by the IAM action of the same name).

#: What the account root may do with the key: administer it, never use it (no Decrypt, no CreateGrant:
#: ``kms:Create*`` would include it). It lets IAM policies delegate administration; the deny statements
#: below then leave the destructive part to the administrators alone.
KEY_ADMIN_ACTIONS: Final = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
    "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:Update*",
)
#: What readers and administrators may do with the key, through Secrets Manager only: decrypt the secret.
KEY_READ_ACTIONS: Final = ("kms:Decrypt",)
#: What administrators may also do with it through Secrets Manager: encrypt a new version (PutSecretValue).
KEY_WRITE_ACTIONS: Final = ("kms:GenerateDataKey",)
#: Denied to everyone who is neither a reader nor an administrator.
KEY_DENIED_READ_ACTIONS: Final = ("kms:Decrypt",)
#: Denied to everyone but the administrators: using the key to write, granting it, and every action that
#: destroys, disables or re-permissions it (a disabled or deleted key makes the secret unreadable).
KEY_MANAGEMENT_ACTIONS: Final = (
    "kms:CreateGrant", "kms:DeleteAlias", "kms:DisableKey", "kms:DisableKeyRotation", "kms:Encrypt",
    "kms:GenerateDataKey*", "kms:PutKeyPolicy", "kms:ReEncrypt*", "kms:ReplicateKey", "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription", "kms:UpdatePrimaryRegion",
)
#: What readers (and administrators) may do with the secret.
SECRET_READ_ACTIONS: Final = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
#: Denied to everyone who is neither a reader nor an administrator.
SECRET_DENIED_READ_ACTIONS: Final = ("secretsmanager:GetSecretValue",)
#: Denied to everyone but the administrators: writing the value, deleting or restoring the secret, rolling
#: ``AWSCURRENT`` back (UpdateSecretVersionStage), rotation, replication, tags (tag-based access) and
#: changing who may do any of it.
SECRET_MANAGEMENT_ACTIONS: Final = (
    "secretsmanager:CancelRotateSecret", "secretsmanager:DeleteResourcePolicy", "secretsmanager:DeleteSecret",
    "secretsmanager:PutResourcePolicy", "secretsmanager:PutSecretValue",
    "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:ReplicateSecretToRegions",
    "secretsmanager:RestoreSecret", "secretsmanager:RotateSecret", "secretsmanager:StopReplicationToReplica",
    "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)


def _not(principals: Sequence[str]) -> dict[str, Any]:
    return {"ArnNotEquals": {"aws:PrincipalArn": list(principals)}}


def key_policy(partition: str, account: str, region: str, readers: Sequence[str],
               administrators: Sequence[str]) -> str:
    """The client-secret key's policy: administration for the account root (delegated through IAM), decrypt
    through Secrets Manager for readers and administrators, encrypt for administrators; decrypt denied to
    everyone else, and writing, granting, disabling, deleting or re-permissioning the key denied to
    everyone but the administrators."""
    via = {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}
    everyone_reading = [*administrators, *readers]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "KeyAdministrationByTheAccount", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
         "Action": list(KEY_ADMIN_ACTIONS), "Resource": "*"},
        {"Sid": "DecryptByReadersAndAdministratorsThroughSecretsManager", "Effect": "Allow",
         "Principal": {"AWS": everyone_reading}, "Action": list(KEY_READ_ACTIONS), "Resource": "*",
         "Condition": via},
        {"Sid": "EncryptByAdministratorsThroughSecretsManager", "Effect": "Allow",
         "Principal": {"AWS": list(administrators)}, "Action": list(KEY_WRITE_ACTIONS), "Resource": "*",
         "Condition": via},
        {"Sid": "DenyDecryptToEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(KEY_DENIED_READ_ACTIONS), "Resource": "*", "Condition": _not(everyone_reading)},
        {"Sid": "DenyManagementToAllButAdministrators", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(KEY_MANAGEMENT_ACTIONS), "Resource": "*", "Condition": _not(administrators)},
    ]}, sort_keys=True)


def secret_policy(readers: Sequence[str], administrators: Sequence[str]) -> str:
    """The secret's resource policy: readers and administrators may read it; only administrators may write,
    delete, restore, roll back, rotate, replicate, tag or re-permission it; both denied to everyone else."""
    everyone_reading = [*administrators, *readers]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadByReadersAndAdministrators", "Effect": "Allow", "Principal": {"AWS": everyone_reading},
         "Action": list(SECRET_READ_ACTIONS), "Resource": "*"},
        {"Sid": "ManageByAdministrators", "Effect": "Allow", "Principal": {"AWS": list(administrators)},
         "Action": list(SECRET_MANAGEMENT_ACTIONS), "Resource": "*"},
        {"Sid": "DenyReadToEveryoneElse", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(SECRET_DENIED_READ_ACTIONS), "Resource": "*", "Condition": _not(everyone_reading)},
        {"Sid": "DenyManagementToAllButAdministrators", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": list(SECRET_MANAGEMENT_ACTIONS), "Resource": "*", "Condition": _not(administrators)},
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
    #: Phase 1 of a two-phase rotation: the next secret, stored as a second version staged AWSPENDING.
    pending_secret: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: IAM role ARNs that may read the secret (``settings.client_secret.readers``), and nothing else.
    readers: Sequence[str] = ()
    #: IAM role ARNs that may also write, delete, roll back, rotate, replicate or re-permission the secret and
    #: its key (``settings.client_secret.administrators``), including the role that runs ``pulumi up``.
    #: Empty: no key or secret policy is declared and SECRET-POLICY fails.
    administrators: Sequence[str] = ()


@dataclass(frozen=True)
class ClientSecretSettings:
    """What a tenant component needs to declare Plaid's client secret, before the client id exists."""

    name_prefix: str
    environment: Environment
    rotation_version: int = 1
    tags: dict[str, str] = field(default_factory=dict)
    readers: Sequence[str] = ()
    administrators: Sequence[str] = ()
    #: ``clientSecret.rotation.phase``: none, add-next or retire-previous (settings.stack.RotationPhase).
    rotation_phase: str = "none"

    @classmethod
    def from_settings(cls, settings: StackSettings) -> ClientSecretSettings:
        return cls(name_prefix=settings.name_prefix, environment=settings.environment,
                   rotation_version=settings.client_secret.version, tags=settings.tags,
                   readers=tuple(settings.client_secret.readers),
                   administrators=tuple(settings.client_secret.administrators),
                   rotation_phase=settings.client_secret.rotation.phase.value)

    def args(self, client_id: pulumi.Input[str], supplied_secret: pulumi.Input[str] | None = None,
             pending_secret: pulumi.Input[str] | None = None) -> ClientSecretArgs:
        return ClientSecretArgs(client_id=client_id, name_prefix=self.name_prefix, environment=self.environment,
                                rotation_version=self.rotation_version, supplied_secret=supplied_secret,
                                pending_secret=pending_secret, tags=self.tags, readers=self.readers,
                                administrators=self.administrators)


#: The Secrets Manager staging label of phase 1's new secret (``plaid-ready check --secret-stage AWSPENDING``).
PENDING_STAGE: Final = "AWSPENDING"


def csprng_secret(name: str, version: int, parent: pulumi.Resource) -> random.RandomBytes:
    """Secret ``version`` of a two-phase rotation: 32 CSPRNG bytes (hex), named after its version so the
    previous and the next one coexist, regenerated only if its version changes."""
    return random.RandomBytes(
        f"{name}-v{version}", length=plaid.CLIENT_SECRET_BYTES, keepers={"version": str(version)},
        opts=options.child(parent, additional_secret_outputs=["hex", "base64"]))


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
        readers, administrators = list(args.readers), list(args.administrators)
        everyone = readers + administrators
        if len(set(everyone)) != len(everyone) or any("*" in r or not r for r in everyone):
            raise ValueError("ClientSecretArgs.readers and administrators must be distinct IAM role ARNs without "
                             "wildcards, none in both lists")

        policy: Any = None
        if administrators:
            invoke = pulumi.InvokeOutputOptions(parent=self)
            account = aws.get_caller_identity_output(opts=invoke).account_id
            region = aws.get_region_output(opts=invoke).region
            partition = aws.get_partition_output(opts=invoke).partition
            policy = pulumi.Output.all(partition, account, region).apply(
                lambda a: key_policy(a[0], a[1], a[2], readers, administrators))
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

        self.random: random.RandomBytes | None = None
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
        if administrators:
            self.policy = aws.secretsmanager.SecretPolicy(
                f"{name}-policy",
                secret_arn=self.secret.arn,
                policy=secret_policy(readers, administrators),
                block_public_policy=True,
                opts=options.child(self),
            )
        # Built apart from the call: inferred inside secret_string's Input[str | None], Output.secret's T is Never.
        credentials: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.json_dumps({"client_id": args.client_id, "client_secret": self.value}))
        self.version = aws.secretsmanager.SecretVersion(
            f"{name}-version",
            secret_id=self.secret.id,
            secret_string=credentials,
            opts=options.child(self),
        )
        self.pending: aws.secretsmanager.SecretVersion | None = None
        if args.pending_secret is not None:
            # Phase 1: the next secret beside AWSCURRENT; `plaid-ready check --secret-stage AWSPENDING` reads it.
            pending: pulumi.Output[str] = pulumi.Output.secret(pulumi.Output.json_dumps(
                {"client_id": args.client_id, "client_secret": pulumi.Output.secret(args.pending_secret)}))
            self.pending = aws.secretsmanager.SecretVersion(
                f"{name}-pending",
                secret_id=self.secret.id,
                secret_string=pending,
                version_stages=[PENDING_STAGE],
                opts=options.child(self),
            )

        self.secret_arn = self.secret.arn
        self.secret_name = self.secret.name
        self.kms_key_arn = self.key.arn
        self.register_outputs(
            {"secret_arn": self.secret_arn, "secret_name": self.secret_name, "kms_key_arn": self.kms_key_arn}
        )
