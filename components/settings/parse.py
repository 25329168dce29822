"""Stack config -> :class:`StackSettings`, with one specific line per problem and never a value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from components.settings.base import PROJECT, SettingsError
from components.settings.errors import format_errors, split_model_errors
from components.settings.stack import StackSettings

#: Config keys outside our namespace that carry credentials. If a stack file sets one, it must be
#: a ``secure:`` value. (The IdP providers read these; we only check how they are stored.)
_CREDENTIAL_KEY = re.compile(r"(secret|password|token|privatekey|apikey)$", re.IGNORECASE)


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
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if not name:
            problems.append(f"{key}: config keys must be namespaced (e.g. {PROJECT}:{key})")
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
        settings = StackSettings.model_validate(raw)
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
