"""Pydantic's validation errors -> one self-contained line per problem: the key path, what is wrong,
what was expected and what to do. Never the value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from components.settings.base import PROJECT
from components.settings.stack import StackSettings


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


def format_errors(exc: ValidationError, prefix: str, skip: set[str]) -> list[str]:
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


def split_model_errors(problems: list[str]) -> list[str]:
    out: list[str] = []
    for p in problems:
        head = f"{PROJECT}:: "
        if p.startswith(head):  # model-level error has an empty location
            out.extend(f"{PROJECT}:{part.strip()}" for part in p[len(head):].split("\n") if part.strip())
        else:
            out.append(p)
    return out
