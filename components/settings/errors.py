"""Pydantic's validation errors -> one self-contained line per problem: the key path, what is wrong,
what was expected and what to do. Never the value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from components import idps
from components.settings.base import PROJECT, Renamed
from components.settings.stack import IDP_SECTION, section_fields, stack_file_fields


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


#: Bounds a field enforces (ge, le, gt, lt): the field's ``limit_reason`` says why, where it has one.
_BOUNDS = ("greater_than_equal", "less_than_equal", "greater_than", "less_than")


def _stack_file_loc(loc: tuple[Any, ...], idp: str | None) -> tuple[Any, ...]:
    """A model location -> the stack file's: ``idpSettings.<tag>.x`` is ``<idp>.x``; ``idpSettings`` itself (a
    section that is not a mapping) is ``<idp>``."""
    if not loc or loc[0] != IDP_SECTION:
        return loc
    if len(loc) > 1 and isinstance(loc[1], str) and loc[1] in idps.names():
        return (loc[1], *loc[2:])
    return (idp or "idp", *loc[1:])


def format_errors(exc: ValidationError, prefix: str, skip: set[str], idp: str | None = None) -> list[str]:
    """One line per problem: ``<prefix><key path>: <what is wrong>; <what is expected>; <what to do>``.

    An unknown key, at any depth, lists the valid keys at its level (a key that was renamed names its new key
    instead); a value of the wrong format says what it must look like, with an example (the field's
    ``examples``, else its description). ``idp``: the stack's IdP, whose section the model holds as
    ``idpSettings``."""
    lines = []
    for err in exc.errors(include_url=False):
        if err["loc"] and str(err["loc"][0]) in skip:
            continue
        loc = _stack_file_loc(tuple(err["loc"]), idp)
        path = ".".join(str(p) for p in loc)
        t = err["type"]
        renamed = _renamed(loc) if t == "extra_forbidden" else None
        if renamed is not None:
            lines.append(f"{prefix}{path}: {_renamed_message(renamed, loc, err.get('input'))}")
            continue
        parts = [f"{prefix}{path}: {_describe(err)}"]
        if t == "extra_forbidden":
            keys = _valid_keys(loc[:-1])
            parts.append(f"valid keys are: {', '.join(keys)}" if keys
                         else "remove it or fix its spelling (see docs/settings.md)")
        elif t in _BOUNDS:
            field = _field(loc)
            reason = (field.json_schema_extra or {}).get("limit_reason") if field is not None and isinstance(
                field.json_schema_extra, dict) else None
            if reason:
                parts.append(str(reason))
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


def _fields_of(model: type[BaseModel] | None) -> dict[str, FieldInfo]:
    """The keys a level accepts as a stack file writes them (None: the top level of the project's namespace)."""
    return stack_file_fields() if model is None else section_fields(model)


def _walk(loc: tuple[Any, ...]) -> tuple[FieldInfo | None, type[BaseModel] | None]:
    """(the field at ``loc``, the model that holds the last key; None for the top level) by following the
    stack file's keys (``loc`` as :func:`_stack_file_loc` gives it); list indices and union tags are skipped.
    ``(None, model)`` when the last key is not a field."""
    model: type[BaseModel] | None = None
    field: FieldInfo | None = None
    holder: type[BaseModel] | None = None
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if model is None and i > 0:
            return None, None
        found = _fields_of(model).get(str(part))
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


def _section(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model of the section at ``loc`` (None for the top level or where ``loc`` is not one section)."""
    field, _ = _walk(loc)
    inner = _models_in(field.annotation) if field is not None else []
    return inner[0] if len(inner) == 1 else None


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a section accepts (its aliases, as written in stack files), or [] if it is not a section."""
    if not loc:
        return sorted(stack_file_fields())
    model = _section(loc)
    return sorted(_fields_of(model)) if model is not None else []


def _renamed(loc: tuple[Any, ...]) -> Renamed | None:
    """The :class:`Renamed` entry for an unknown key that an IdP section used to accept."""
    model = _section(loc[:-1]) if len(loc) > 1 else None
    renamed = getattr(model, "renamed", None) or {}
    return renamed.get(str(loc[-1])) if isinstance(renamed, Mapping) else None


def _renamed_message(renamed: Renamed, loc: tuple[Any, ...], value: Any) -> str:
    """``was renamed accessTokenLifetimeMinutes (minutes, 5-1440): 900 s is 15``."""
    field = _field((*loc[:-1], renamed.new))
    bounds = [str(getattr(m, a)) for m in (field.metadata if field is not None else [])
              for a in ("ge", "le") if getattr(m, a, None) is not None]
    unit = renamed.unit
    what = f"{unit}, {'-'.join(bounds)}" if bounds else unit
    head = f"was renamed {renamed.new} ({what})"
    if renamed.factor == 1:
        return f"{head}: same unit, same value; rename the key"
    if isinstance(value, int) and not isinstance(value, bool):
        converted = value / renamed.factor
        shown = f"{converted:g}" if converted != int(converted) else str(int(converted))
        if value % renamed.factor:
            return f"{head}: {value} {renamed.old_unit} is {shown} {unit}; give a whole number"
        return f"{head}: {value} {renamed.old_unit} is {shown}"
    return f"{head}: divide the old value by {renamed.factor}"


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
