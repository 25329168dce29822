"""Stack config -> :class:`StackSettings`, with one specific line per problem and never a value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from components.settings.base import AWS_REGION_PATTERN, PROJECT, SettingsError
from components.settings.errors import format_errors, split_model_errors
from components.settings.stack import StackSettings

#: Config keys outside our namespace that carry credentials (``aws:accessKey``, ``aws:secretKey``,
#: ``aws:token``, ``auth0:clientSecret``, ``okta:apiToken``, ``okta:privateKey``...), matched on the key's
#: last word with ``-`` and ``_`` removed. If a stack file sets one, it must be a ``secure:`` value. (The
#: providers read these; we only check how they are stored.)
_CREDENTIAL_KEY = re.compile(r"(secret|secretkey|accesskey|accesskeyid|password|passwd|passphrase|token|privatekey|"
                             r"apikey|clientassertionprivatekey)$", re.IGNORECASE)
#: An AWS access key id in a plain-text value, whatever its key is called.
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
REGION_KEY = "aws:region"


_TOP_LEVEL = {f.alias or n for n, f in StackSettings.model_fields.items()}


def _decode(value: Any) -> Any:
    """Config values arrive as strings; structured ones as JSON text (as the Pulumi CLI passes them)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


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
    elif REGION_KEY in secret or not re.fullmatch(AWS_REGION_PATTERN, region.strip()):
        problems.append(f"{REGION_KEY}: is not an AWS region name; expected e.g. us-east-1 or eu-west-1, in plain "
                        "text")
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
        if namespace != PROJECT:
            if _CREDENTIAL_KEY.search(name.replace("-", "").replace("_", "")) and key not in secret:
                problems.append(
                    f"{key}: holds a credential but is stored in plain text; remove it from the stack file "
                    f"and set it with `pulumi config set --secret {key}` (or the provider's environment "
                    f"variable)")
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
    try:
        settings = StackSettings.model_validate(raw, context={"region": region})
    except ValidationError as exc:
        problems.extend(format_errors(exc, f"{PROJECT}:", skip=refused))
        settings = None
    if problems:
        # Cross-field errors joined with newlines come back as one value_error: split them back out.
        raise SettingsError(split_model_errors(problems))
    assert settings is not None
    return settings


def load_settings() -> StackSettings:
    """Read and validate the current stack's settings through the Pulumi runtime's config."""
    from pulumi.runtime import config as rc

    keys = set(rc.CONFIG.get()) | set(rc.get_config_env())
    secret = set(rc._SECRET_KEYS.get()) | set(rc.get_config_secret_keys_env())
    values = {k: rc.get_config(k) for k in keys}
    return parse_settings(values, secret)
