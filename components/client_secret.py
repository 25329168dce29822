"""Plaid's client credentials in AWS Secrets Manager, under a customer-managed KMS key.

The secret value is 32 CSPRNG bytes, hex (``random.RandomBytes``), unless the IdP generates its own
(Cognito) and supplies it. Either way it is a Pulumi secret everywhere it flows. The component stores
``{"client_id": ..., "client_secret": ...}`` as JSON and exposes only the secret's ARN and name.

Rotation is deliberate: the value is regenerated only when ``rotation_version`` changes (a
``keepers`` entry), which the stack setting ``clientSecret.version`` controls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

import plaid_contract as plaid
from components import options
from components.settings import Environment

TYPE = "plaid-ready-idp:secrets:PlaidClientSecret"


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

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts Plaid's client credentials ({args.name_prefix})",
            enable_key_rotation=True,
            deletion_window_in_days=options.KMS_DELETION_DAYS[args.environment],
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
