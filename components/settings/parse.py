"""Stack config -> :class:`StackSettings`, with one specific line per problem and never a value."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from components import idps
from components.settings.base import PLACEHOLDER, PROJECT, SettingsError
from components.settings.errors import format_errors, split_model_errors
from components.settings.stack import IDP_SECTION, StackSettings, fold_idp_section, stack_file_fields
from components.settings.stack_file import (
    SECURE_PLACEHOLDER,
    check_stack_file,
    credential_problem,
    is_credential_key,
    plaintext_credentials,
)

#: An AWS access key id in a plain-text value, whatever its key is called.
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
REGION_KEY = "aws:region"


_TOP_LEVEL = set(stack_file_fields())


@cache
def aws_regions() -> dict[str, str]:
    """Every AWS region botocore knows (its endpoint data, the list the AWS SDKs ship), with its partition."""
    from botocore.loaders import Loader

    data = Loader().load_data("endpoints")
    return {region: p["partition"] for p in data["partitions"] for region in p.get("regions", {})}


def _region_problem(region: str) -> str | None:
    if region in aws_regions():
        return None
    close = difflib.get_close_matches(region.lower(), list(aws_regions()), n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else "expected e.g. us-east-1 or eu-west-1"
    return (f"{REGION_KEY}: is not an AWS region (botocore's endpoint data, which lists the regions of every "
            f"partition, has no such name); {hint}")


def _namespace_typo(namespace: str) -> bool:
    """Whether a namespace is most likely this project's, mistyped (plaid-ready-ipd, plaid_ready_idp)."""
    return bool(difflib.get_close_matches(namespace.lower().replace("_", "-"), [PROJECT], n=1, cutoff=0.8))


def _decode(value: Any) -> Any:
    """Config values arrive as strings; structured ones as JSON text (as the Pulumi CLI passes them)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _provider_key_problems(key: str, raw: Any, secret: bool) -> list[str]:
    """Plain-text credentials in a provider-namespace key, at any depth (one line per path, never a value).

    A structured value (JSON text, as the CLI passes it) is walked: nested ``secure:`` values arrive as
    the offline plan's placeholder. A structured key the Pulumi CLI marked secret arrives decrypted, so
    which of its leaves were ``secure:`` cannot be told here: :func:`load_settings` checks the stack file
    itself for those."""
    value = _decode(raw)
    if not isinstance(value, dict | list):
        return [credential_problem(key)] if is_credential_key(key.partition(":")[2]) and not secret else []
    if secret and SECURE_PLACEHOLDER not in json.dumps(value):
        return []
    return [credential_problem(path) for path in plaintext_credentials(key, value)]


def placeholders(value: Any, path: str) -> list[str]:
    """Every value still holding ``new-stack``'s placeholder, as one line each: its key path and what to fill."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return [f"{path}: still a placeholder written by plaid-ready new-stack; fill in "
                f"{value[len(PLACEHOLDER):].strip()}"]
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in placeholders(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [line for i, v in enumerate(value) for line in placeholders(v, f"{path}[{i}]")]
    return []


def parse_settings(config: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> StackSettings:
    """Validate a stack's whole config (fully qualified keys such as ``plaid-ready-idp:idp``).

    Raises :class:`SettingsError` listing every problem; never includes a value.
    """
    secret = set(secret_keys)
    problems: list[str] = []
    raw: dict[str, Any] = {}
    refused: set[str] = set()  # keys already reported: don't report them again as missing
    region = config.get(REGION_KEY)
    if not isinstance(region, str) or not region.strip():
        problems.append(f"{REGION_KEY}: required; set the AWS region the stack deploys to, e.g. "
                        f"`pulumi config set {REGION_KEY} us-east-1`")
        region = None
    elif REGION_KEY in secret:
        problems.append(f"{REGION_KEY}: is a secure value; an AWS region name is not a secret: set it in plain text, "
                        f"e.g. `pulumi config set {REGION_KEY} us-east-1`")
        region = None
    elif (why := _region_problem(region.strip())) is not None:
        problems.append(why)
        region = None
    else:
        region = region.strip()
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if not name:
            problems.append(f"{key}: config keys must be namespaced (e.g. {PROJECT}:{key})")
            continue
        if key not in secret and _AWS_ACCESS_KEY_ID.search(str(config[key])):
            problems.append(
                f"{key}: holds what looks like an AWS access key id in plain text; remove it from the stack file "
                "and give the AWS provider credentials through the environment (AWS_PROFILE, a role), never a "
                "stack file")
            refused.add(name)
            continue
        if namespace != PROJECT and _namespace_typo(namespace):
            problems.append(f"{key}: unknown namespace {namespace}; did you mean {PROJECT}:{name}?")
            refused.add(name)
            continue
        if namespace != PROJECT:
            problems.extend(_provider_key_problems(key, config[key], key in secret))
            continue
        if key in secret:
            problems.append(
                f"{key}: is a secure value, but no {PROJECT} setting is secret (client secrets are "
                f"generated and kept in Secrets Manager); set it in plain text with "
                f"`pulumi config set {name} <value>`")
            refused.add(name)
            continue
        if name not in _TOP_LEVEL:
            problems.append(f"{key}: unknown key; valid keys are: {', '.join(sorted(_TOP_LEVEL))}")
            continue
        raw[name] = _decode(config[key])
        if unfilled := placeholders(raw[name], key):
            problems.extend(unfilled)
            refused.update((name, IDP_SECTION) if name in idps.names() else (name,))
    chosen = raw.get("idp")
    if refused & {"idp", *idps.names()}:
        # Already refused (a secure value, an access key id): no second line about the IdP section.
        raw = {k: v for k, v in raw.items() if k not in {"idp", *idps.names()}}
        refused.add(IDP_SECTION)
    else:
        raw, idp_problems = fold_idp_section(raw)
        problems.extend(f"{PROJECT}:{p}" for p in idp_problems)
        if idp_problems:  # said once: not again as the model's errors
            refused.update((IDP_SECTION, *idps.names()))
    try:
        settings = StackSettings.model_validate(raw, context={"region": region})
    except ValidationError as exc:
        problems.extend(format_errors(exc, f"{PROJECT}:", skip=refused,
                                      idp=chosen if isinstance(chosen, str) else None))
        settings = None
    if problems:
        # Cross-field errors joined with newlines come back as one value_error: split them back out.
        raise SettingsError(split_model_errors(problems))
    assert settings is not None
    return settings


def _stack_file() -> Path | None:
    """The stack file the Pulumi CLI read for this program (``<stackConfigDir>/Pulumi.<stack>.yaml`` beside
    the ``Pulumi.yaml`` in the working directory), or None where there is none (config from elsewhere)."""
    import pulumi
    import yaml

    project = Path.cwd() / "Pulumi.yaml"
    try:
        doc = yaml.safe_load(project.read_text())
        stack = pulumi.get_stack()
    except (OSError, yaml.YAMLError):
        return None
    base = project.parent / str((doc or {}).get("stackConfigDir") or ".") if isinstance(doc, dict) else project.parent
    path = base / f"Pulumi.{stack}.yaml"
    return path if path.is_file() else None


def load_settings() -> StackSettings:
    """Read and validate the current stack's settings through the Pulumi runtime's config, after checking
    the stack file itself (duplicate keys, plain-text credentials at any depth) where it is found."""
    from pulumi.runtime import config as rc

    from components._pulumi_private import config_keys

    path = _stack_file()
    if path is not None:
        check_stack_file(path)

    keys = config_keys()
    # Public API: which keys are secret (set in-process, or named by PULUMI_CONFIG_SECRET_KEYS).
    secret = {k for k in keys if rc.is_config_secret(k)} | set(rc.get_config_secret_keys_env())
    values = {k: rc.get_config(k) for k in keys}
    return parse_settings(values, secret)
