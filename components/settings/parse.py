"""Stack config -> :class:`StackSettings`, with one specific line per problem and never a value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from components.settings.base import PROJECT, SettingsError
from components.settings.stack import StackSettings

#: Config keys outside our namespace that carry credentials. If a stack file sets one, it must be
#: a ``secure:`` value. (The IdP providers read these; we only check how they are stored.)
_CREDENTIAL_KEY = re.compile(r"(secret|password|token|privatekey|apikey)$", re.IGNORECASE)


_TOP_LEVEL = {f.alias or n for n, f in StackSettings.model_fields.items()}


def _hint(err_type: str) -> str:
    return {
        "missing": "add it to the stack file",
        "extra_forbidden": "remove it or fix its spelling (see docs/settings.md)",
        "string_type": "give a string",
        "int_parsing": "give a whole number",
        "int_type": "give a whole number",
        "bool_parsing": "give true or false",
        "bool_type": "give true or false",
        "list_type": "give a list",
        "model_type": "give a mapping of keys",
        "model_attributes_type": "give a mapping of keys",
        "enum": "",
        "literal_error": "",
        "string_pattern_mismatch": "",
    }.get(err_type, "")


def _describe(err: Mapping[str, Any]) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t == "extra_forbidden":
        return "unknown key"
    if t == "missing":
        return "required value is missing"
    if t == "string_pattern_mismatch":
        return "has the wrong format"
    if t == "value_error":
        return str(ctx.get("error", err["msg"]))
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] if msg else t


def _format_errors(exc: ValidationError, prefix: str, skip: set[str]) -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        if err["loc"] and str(err["loc"][0]) in skip:
            continue
        path = ".".join(str(p) for p in err["loc"])
        desc = _describe(err)
        field_desc = _field_description(err["loc"])
        hint = _hint(err["type"])
        parts = [f"{prefix}{path}: {desc}"]
        if field_desc and err["type"] in ("string_pattern_mismatch", "missing", "string_too_short",
                                          "string_too_long"):
            parts.append(f"expected {field_desc}")
        if hint:
            parts.append(hint)
        lines.append("; ".join(parts))
    return lines


def _field_description(loc: tuple[Any, ...]) -> str | None:
    model: Any = StackSettings
    desc = None
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return desc
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        field = fields.get(str(part))
        if field is None:
            return None
        desc = field.description
        model = _inner_model(field.annotation)
    return desc


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


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
        problems.extend(_format_errors(exc, f"{PROJECT}:", skip=refused))
        settings = None
    if problems:
        # Cross-field errors joined with newlines come back as one value_error: split them back out.
        raise SettingsError(_split_model_errors(problems))
    assert settings is not None
    return settings


def _split_model_errors(problems: list[str]) -> list[str]:
    out: list[str] = []
    for p in problems:
        head = f"{PROJECT}:: "
        if p.startswith(head):  # model-level error has an empty location
            out.extend(f"{PROJECT}:{part.strip()}" for part in p[len(head):].split("\n") if part.strip())
        else:
            out.append(p)
    return out


def load_settings() -> StackSettings:
    """Read and validate the current stack's settings through the Pulumi runtime's config."""
    from pulumi.runtime import config as rc

    keys = set(rc.CONFIG.get()) | set(rc.get_config_env())
    secret = set(rc._SECRET_KEYS.get()) | set(rc.get_config_secret_keys_env())
    values = {k: rc.get_config(k) for k in keys}
    return parse_settings(values, secret)
