"""Readiness rules for Plaid's client credentials and for protecting state (components/client_secret.py)."""

from __future__ import annotations

from typing import Any

import plaid_contract as plaid
from readiness.checklist import Context, Finding, Rule, fail, ok

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KMS_KEY = "aws:kms/key:Key"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"

#: Types that hold state a bank cannot recreate without Plaid noticing (identities, clients, keys).
STATEFUL_TYPES = (
    KMS_KEY,
    SECRET,
    "auth0:index/client:Client",
    "auth0:index/resourceServer:ResourceServer",
    "okta:app/oAuth:OAuth",
    "okta:auth/server:Server",
    "aws:cognito/userPool:UserPool",
    "aws:cognito/userPoolClient:UserPoolClient",
    "aws:apigateway/restApi:RestApi",
    "aws:apigateway/domainName:DomainName",
)


def _is_secret_input(value: Any) -> bool:
    from readiness.engine import SecretValue

    return isinstance(value, SecretValue)


def _secret_in_secrets_manager(ctx: Context) -> Finding:
    secrets = ctx.of_type(SECRET)
    if not secrets:
        return fail("no Secrets Manager secret", "declare the client credentials with PlaidClientSecret")
    keys = ctx.of_type(KMS_KEY)
    problems = []
    for s in secrets:
        kms = s.input("kmsKeyId")
        if kms is None or (isinstance(kms, str) and kms.startswith(("alias/aws/", "aws/"))):
            problems.append(f"{s.name}: encrypted with the AWS-managed key")
    if not keys:
        problems.append("no customer-managed KMS key declared")
    for k in keys:
        if k.input("enableKeyRotation") is not True:
            problems.append(f"{k.name}: key rotation is off")
    versions = ctx.of_type(SECRET_VERSION)
    if not versions:
        problems.append("no secret version holds the credentials")
    for v in versions:
        if ctx.secrets_marked and not _is_secret_input(v.inputs.get("secretString")):
            problems.append(f"{v.name}: secretString is not a Pulumi secret")
    if problems:
        return fail("; ".join(problems), "Plaid: never store the client secret in plain text")
    names = ", ".join(s.name for s in secrets)
    return ok(f"Secrets Manager ({names}), customer-managed KMS key with rotation, value a Pulumi secret")


def _csprng_secret(ctx: Context) -> Finding:
    randoms = ctx.of_type(RANDOM_BYTES)
    if not randoms:
        return fail("no RandomBytes declared",
                    f"generate the secret with random.RandomBytes(length={plaid.CLIENT_SECRET_BYTES})")
    short = [r.name for r in randoms if (r.input("length") or 0) < plaid.CLIENT_SECRET_BYTES]
    if short:
        return fail(f"RandomBytes shorter than {plaid.CLIENT_SECRET_BYTES} bytes: {', '.join(short)}",
                    "Plaid suggests `openssl rand -hex 32`")
    r = randoms[0]
    return ok(f"random.RandomBytes length {r.input('length')} (CSPRNG), hex = "
              f"{2 * int(r.input('length'))} characters")


def _protected(ctx: Context) -> Finding:
    stateful = [r for r in ctx.resources if r.type in STATEFUL_TYPES]
    unprotected = sorted(r.name for r in stateful if not r.protect)
    if unprotected:
        return fail(f"unprotected: {', '.join(unprotected)}",
                    "prod stacks must protect stateful resources (ResourceOptions(protect=True))")
    return ok(f"{len(stateful)} stateful resources protected")


def _recovery_window(ctx: Context) -> Finding:
    bad = [s.name for s in ctx.of_type(SECRET) if (s.input("recoveryWindowInDays") or 0) < 30]
    if bad:
        return fail(f"recovery window under 30 days: {', '.join(bad)}", "prod secrets keep 30 days")
    return ok("30-day recovery window")


RULES: tuple[Rule, ...] = (
    Rule("SECRET-STORE", "Client secret never in plain text: Secrets Manager, customer-managed KMS key",
         _secret_in_secrets_manager, source="Plaid Core Exchange authentication doc (client credentials)"),
    Rule("SECRET-CSPRNG", f"Client secret from a CSPRNG, {plaid.CLIENT_SECRET_BYTES} bytes hex",
         _csprng_secret, applies=lambda ctx: not ctx.has_prefix("aws:cognito/"),
         source="Plaid: `openssl rand -hex 32`"),
    Rule("PROD-PROTECT", "Prod protects stateful resources (identities, clients, APIs, secrets, keys)",
         _protected, applies=lambda ctx: ctx.environment == "prod", source="plaid-ready-idp house rule"),
    Rule("PROD-RECOVERY", "Prod keeps a deleted client secret recoverable for 30 days",
         _recovery_window, applies=lambda ctx: ctx.environment == "prod", source="plaid-ready-idp house rule"),
)
