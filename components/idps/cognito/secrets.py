"""Cognito app-client secrets beyond the generated one: the two-phase client-secret rotation.

Cognito holds up to two secrets per app client (AddUserPoolClientSecret, DeleteUserPoolClientSecret,
ListUserPoolClientSecrets; https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/
API_AddUserPoolClientSecret.html: *"Supports up to 2 active secrets per app client for zero-downtime credential
rotation workflows"*; API_DeleteUserPoolClientSecret.html: *"You cannot delete the last remaining secret"*).
pulumi-aws's ``UserPoolClient`` has no resource for them (its ``generate_secret`` makes the first one only), and
moto does not implement the API, so two Pulumi dynamic resources call it with boto3:

- :class:`CognitoClientSecret`: one secret, our CSPRNG value (AddUserPoolClientSecret takes 24-64 characters of
  ``[\\w+]``: 64 hex characters fit); deleting the resource deletes the secret;
- :class:`CognitoRetireSecrets`: keeps only the named secret on the app client (every other one is deleted:
  phase 2, ``retire-previous``); deleting the resource does nothing (a deleted secret cannot come back).

The value never leaves the resource's (secret) inputs: outputs hold the secret's id, never its value; errors
name the operation and AWS's error code, never a value. boto3 uses the standard AWS credential chain of the
process that runs ``pulumi up`` (the same as the stack's default AWS provider) and bounded timeouts.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

#: Seconds for each connection and read; boto3 retries at most MAX_ATTEMPTS times in all.
TIMEOUT_SECONDS: Final = 10
MAX_ATTEMPTS: Final = 3
#: Inputs whose change makes a new secret (the old one is deleted after the new one exists).
REPLACE_ON: Final = ("region", "user_pool_id", "client_id", "version", "client_secret")


class CognitoSecretError(Exception):
    """A Cognito call failed: the message names the operation and AWS's error code, never a secret."""


def cognito_client(region: str) -> Any:
    """A cognito-idp client with bounded timeouts and retries (tests replace this with a stubbed client)."""
    import boto3
    from botocore.config import Config

    return boto3.client("cognito-idp", region_name=region, config=Config(
        connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"}))


def _call(region: str, operation: str, **params: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result: dict[str, Any] = getattr(cognito_client(region), operation)(**params)
        return result
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise CognitoSecretError(f"cognito-idp {operation} on app client {params.get('ClientId')} answered {code}"
                                 ) from None
    except BotoCoreError as exc:
        raise CognitoSecretError(f"cognito-idp {operation}: {type(exc).__name__} (credentials, network or "
                                 "region)") from None


def _is_not_found(exc: CognitoSecretError) -> bool:
    return str(exc).endswith("answered ResourceNotFoundException")


def _where(props: dict[str, Any]) -> dict[str, Any]:
    return {"region": props["region"], "user_pool_id": props["user_pool_id"], "client_id": props["client_id"]}


def _secret_ids(props: dict[str, Any]) -> list[str]:
    """The ids of the app client's secrets (ListUserPoolClientSecrets)."""
    try:
        listed = _call(props["region"], "list_user_pool_client_secrets", UserPoolId=props["user_pool_id"],
                       ClientId=props["client_id"]).get("ClientSecrets", [])
    except CognitoSecretError as exc:
        if _is_not_found(exc):
            return []  # the app client (or pool) is gone, and its secrets with it
        raise
    return [str(s["ClientSecretId"]) for s in listed]


class CognitoClientSecretProvider(ResourceProvider):
    """Create: AddUserPoolClientSecret with the given value. Delete: DeleteUserPoolClientSecret if the client
    still lists it (gone already is fine). Any input change: a new secret, then the old one deleted."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        value = props["client_secret"]
        answer = _call(props["region"], "add_user_pool_client_secret", UserPoolId=props["user_pool_id"],
                       ClientId=props["client_id"], ClientSecret=value)
        secret_id = answer["ClientSecretDescriptor"]["ClientSecretId"]
        return CreateResult(id_=secret_id, outs={**_where(props), "version": props["version"],
                                                 "secret_id": secret_id})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # olds are the outputs: they hold no value, so a value change shows as the version's (the value is
        # keyed by it: random.RandomBytes keepers).
        changed = [k for k in REPLACE_ON if k != "client_secret" and olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Phase 2 may have retired it already (CognitoRetireSecrets runs before Pulumi's deletes), and AWS does
        # not document the error for an unknown secret id: look first.
        if _id in _secret_ids(props):
            _delete_secret(props, _id)


def _delete_secret(props: dict[str, Any], secret_id: str) -> None:
    """Delete one of the app client's secrets; one already gone (a race with another delete) is not an error."""
    try:
        _call(props["region"], "delete_user_pool_client_secret", UserPoolId=props["user_pool_id"],
              ClientId=props["client_id"], ClientSecretId=secret_id)
    except CognitoSecretError as exc:
        if not _is_not_found(exc):
            raise


class CognitoRetireSecretsProvider(ResourceProvider):
    """Create and update: delete every secret of the app client but ``keep_secret_id`` (which must exist).
    Delete: nothing (retired secrets stay retired)."""

    def _retire(self, props: dict[str, Any]) -> dict[str, Any]:
        keep = props["keep_secret_id"]
        ids = _secret_ids(props)
        if keep not in ids:
            raise CognitoSecretError(
                f"app client {props['client_id']} has no secret {keep}: the new secret must exist before the "
                "previous one is retired (clientSecret.rotation.phase add-next first)")
        retired = [i for i in ids if i != keep]
        for secret_id in retired:
            _delete_secret(props, secret_id)
        return {**_where(props), "keep_secret_id": keep, "retired": retired}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._retire(props)
        return CreateResult(id_=f"{props['client_id']}:{props['keep_secret_id']}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("region", "user_pool_id", "client_id", "keep_secret_id")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._retire(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class CognitoClientSecret(Resource):
    """One more secret on a Cognito app client; ``secret_id`` is Cognito's id for it (the value stays an input,
    a Pulumi secret)."""

    secret_id: pulumi.Output[str]

    def __init__(self, name: str, *, region: pulumi.Input[str], user_pool_id: pulumi.Input[str],
                 client_id: pulumi.Input[str], version: int, client_secret: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CognitoClientSecretProvider(), name, {
            "region": region, "user_pool_id": user_pool_id, "client_id": client_id, "version": version,
            "client_secret": pulumi.Output.secret(client_secret), "secret_id": None,
        }, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["client_secret"])))


class CognitoRetireSecrets(Resource):
    """Phase 2: only ``keep_secret_id`` stays on the app client; ``retired`` lists the ids deleted."""

    retired: pulumi.Output[list[str]]

    def __init__(self, name: str, *, region: pulumi.Input[str], user_pool_id: pulumi.Input[str],
                 client_id: pulumi.Input[str], keep_secret_id: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CognitoRetireSecretsProvider(), name, {
            "region": region, "user_pool_id": user_pool_id, "client_id": client_id,
            "keep_secret_id": keep_secret_id, "retired": None}, opts)
