"""Pydantic's validation errors -> one self-contained line per problem: the key path, what is wrong,
what was expected and what to do. Never the value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from components.settings.base import PROJECT
from components.settings.stack import StackSettings


def _hint(err_type: str) -> str:
    return {
        "missing": "add it to the stack file",
        "string_type": "give a string",
        "int_parsing": "give a whole number",
        "int_type": "give a whole number",
        "bool_parsing": "give true or false",
        "bool_type": "give true or false",
        "list_type": "give a list",
    }.get(err_type, "")


#: Errors whose message is better said plainly than with pydantic's class names.
_PLAIN = {
    "extra_forbidden": "unknown key",
    "missing": "required value is missing",
    "string_pattern_mismatch": "has the wrong format",
    "model_type": "must be a mapping of keys (a section), not a single value or a list",
    "model_attributes_type": "must be a mapping of keys (a section), not a single value or a list",
    "dict_type": "must be a mapping of keys, not a single value or a list",
}


def _describe(err: Mapping[str, Any]) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t in _PLAIN:
        return _PLAIN[t]
    if t == "value_error":
        return str(ctx.get("error", err["msg"]))
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] if msg else t


def format_errors(exc: ValidationError, prefix: str, skip: set[str]) -> list[str]:
    """One line per problem: ``<prefix><key path>: <what is wrong>; <what is expected>; <what to do>``.

    An unknown key, at any depth, lists the valid keys at its level; a value of the wrong format says
    what it must look like, with an example (the field's ``examples``, else its description)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(err["loc"])
        if loc and str(loc[0]) in skip:
            continue
        path = ".".join(str(p) for p in loc)
        t = err["type"]
        parts = [f"{prefix}{path}: {_describe(err)}"]
        if t == "extra_forbidden":
            keys = _valid_keys(loc[:-1])
            parts.append(f"valid keys are: {', '.join(keys)}" if keys
                         else "remove it or fix its spelling (see docs/settings.md)")
        elif t == "string_pattern_mismatch":
            parts.append(_expected_format(loc, str((err.get("ctx") or {}).get("pattern", ""))))
        elif t in ("missing", "string_too_short", "string_too_long"):
            field = _field(loc)
            if field is not None and field.description:
                parts.append(f"expected {field.description}")
        hint = _hint(t)
        if hint:
            parts.append(hint)
        lines.append("; ".join(parts))
    return lines


def _expected_format(loc: tuple[Any, ...], pattern: str) -> str:
    """What a value must look like: the description, with an example where the model gives one."""
    field = _field(loc)
    desc = field.description if field is not None else None
    example = None
    if field is not None and field.examples:
        example = field.examples[0]
        if isinstance(example, list) and loc and isinstance(loc[-1], int) and example:
            example = example[0]  # an entry of a list setting: show one entry
        example = example if isinstance(example, str) else json.dumps(example)
    if desc and example and example not in desc and "e.g." not in desc:
        return f"expected {desc} (e.g. {example})"
    if desc:
        return f"expected {desc}"
    if example:
        return f"expected a value like {example}"
    return f"expected a value matching the pattern {pattern}" if pattern else "see docs/settings.md"


def _walk(loc: tuple[Any, ...]) -> tuple[FieldInfo | None, type[BaseModel] | None]:
    """(the field at ``loc``, the model that holds the last key) by following the settings model;
    list indices and union tags are skipped. ``(None, model)`` when the last key is not a field."""
    model: type[BaseModel] | None = StackSettings
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            return None, None
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        found = fields.get(str(part))
        if found is None:
            if field is not None and str(part) in {m.__name__ for m in _models_in(field.annotation)}:
                continue  # a union member's tag
            return None, model
        field = found
        holder = model
        inner = _models_in(found.annotation)
        model = inner[0] if len(inner) == 1 else None
    return field, (holder if field is not None else model)


def _field(loc: tuple[Any, ...]) -> FieldInfo | None:
    return _walk(loc)[0]


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a section accepts (its aliases, as written in stack files), or [] if it is not a section."""
    if not loc:
        model: type[BaseModel] | None = StackSettings
    else:
        field, _ = _walk(loc)
        inner = _models_in(field.annotation) if field is not None else []
        model = inner[0] if len(inner) == 1 else None
    if model is None:
        return []
    return sorted((f.alias or n) for n, f in model.model_fields.items())


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The settings models inside an annotation (``Model``, ``Model | None``, ``list[Model]``, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        for m in _models_in(arg):
            if m not in found:
                found.append(m)
    return found


def split_model_errors(problems: list[str]) -> list[str]:
    out: list[str] = []
    for p in problems:
        head = f"{PROJECT}:: "
        if p.startswith(head):  # model-level error has an empty location
            out.extend(f"{PROJECT}:{part.strip()}" for part in p[len(head):].split("\n") if part.strip())
        else:
            out.append(p)
    return out
