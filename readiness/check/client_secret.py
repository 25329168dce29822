"""The client secret of ``plaid-ready check``'s login: from an environment variable (``--client-secret-env NAME``)
or from AWS Secrets Manager (``--secret-arn ARN``, the stack's ``credentials_secret_arn``; ``--secret-stage
AWSPENDING`` reads phase 1's new secret of a two-phase rotation instead of AWSCURRENT). Never from the command
line. Every problem is a :class:`UsageError` whose message never holds the value."""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

from readiness.check.errors import UsageError


def from_env(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,255}", name):
        raise UsageError("--client-secret-env takes the NAME of an environment variable (letters, digits, _), "
                         "not the secret itself")
    value = os.environ.get(name, "")
    if not value.strip():
        raise UsageError("--client-secret-env: that environment variable is not set or is empty")
    return value.strip()


#: Secrets Manager's staging labels (1-256 characters); AWSCURRENT unless ``--secret-stage`` says otherwise.
CURRENT_STAGE = "AWSCURRENT"
STAGE_PATTERN = r"[A-Za-z0-9_+=.@-]{1,256}"


def stage_of(value: str | None, arn: str | None) -> str:
    """``--secret-stage``: a staging label, only with ``--secret-arn``."""
    if value is None:
        return CURRENT_STAGE
    if arn is None:
        raise UsageError("--secret-stage selects a version of the --secret-arn secret: give --secret-arn too")
    if not re.fullmatch(STAGE_PATTERN, value):
        raise UsageError("--secret-stage must be a Secrets Manager staging label such as AWSCURRENT or AWSPENDING "
                         "(letters, digits, _+=.@-)")
    return value


def from_arn(arn: str, timeout: float, stage: str = CURRENT_STAGE) -> str:
    """The secret's version staged ``stage``, read within ``timeout`` seconds in all (boto3's own timeouts bound
    each read only)."""
    match = re.fullmatch(r"arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+", arn)
    if not match:
        raise UsageError("--secret-arn must be a Secrets Manager secret ARN "
                         "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"})
    outcome: dict[str, Any] = {}

    def fetch() -> None:
        try:
            outcome["value"] = boto3.client("secretsmanager", region_name=match.group(1),
                                            config=config).get_secret_value(SecretId=arn, VersionStage=stage)
        except Exception as exc:  # noqa: BLE001 - judged below
            outcome["error"] = exc

    worker = threading.Thread(target=fetch, name="plaid-ready-check-secret", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise UsageError(f"--secret-arn: Secrets Manager did not answer within {timeout:g} s")
    exc = outcome.get("error")
    if isinstance(exc, NoCredentialsError):
        raise UsageError("--secret-arn: no AWS credentials (set AWS_PROFILE or role credentials)")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        hint = ""
        if code == "ResourceNotFoundException" and stage != CURRENT_STAGE:
            hint = (f" (no version staged {stage}: is phase add-next of clientSecret.rotation deployed? "
                    "docs/rotation.md#client-secret)")
        raise UsageError(f"--secret-arn: Secrets Manager answered {code}{hint}")
    if exc is not None:
        kind = type(exc).__name__ if isinstance(exc, BotoCoreError) else "unexpected error"
        raise UsageError(f"--secret-arn: cannot read the secret ({kind})")
    text = outcome["value"].get("SecretString")
    if not isinstance(text, str) or not text.strip():
        raise UsageError("--secret-arn: the secret has no string value")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return text.strip()
    if isinstance(doc, dict):
        secret = doc.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise UsageError("--secret-arn: the secret is JSON without a client_secret string")
        return secret
    raise UsageError("--secret-arn: the secret is neither a JSON object nor a plain string")
