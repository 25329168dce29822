"""How ``plaid-ready plan`` shows a declared value: the ``--json`` view (secrets and values only the cloud knows
as markers, assets by relative path) and the text view (compact when short, JSON documents parsed and indented,
long plain strings shortened with their length)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.settings.stack_file import SECURE_PLACEHOLDER

SECRET_SHOWN = "[secret]"
UNKNOWN_SHOWN = "(known after apply)"

#: Long plain strings are shortened in the text view (with their length); JSON documents never are.
MAX_TEXT = 300
WIDTH = 100


def _relative(path: str, root: Path | None) -> str:
    """A path shown relative to the project root, so the plan of two clones is the same text."""
    if root is None:
        return path
    p = Path(path)
    for base in (root, root.resolve()):
        for candidate in (p, p.resolve()):
            try:
                return candidate.relative_to(base).as_posix()
            except ValueError:
                continue
    return path


def _asset(value: Any, root: Path | None) -> tuple[str, str] | None:
    """(kind, shown path) for a pulumi FileArchive / FileAsset / AssetArchive, else None."""
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        path = getattr(value, "path", None)
        return type(value).__name__, _relative(str(path), root) if path is not None else ""
    return None


def _json_document(value: str) -> Any | None:
    """The parsed object when a string input holds a JSON object or array (a policy, a dashboard body)."""
    text = value.strip()
    if text[:1] not in ("{", "[") or len(text) < 2:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict | list) else None


def json_value(value: Any, root: Path | None = None) -> Any:
    """The ``--json`` view of a declared value: secrets ``{"secret": true}``, values only the cloud knows
    ``{"unknown": true}``, assets ``{"asset": kind, "path": relative path}``."""
    from readiness.engine import UNKNOWN_TEXT, SecretValue, is_unknown

    if isinstance(value, SecretValue) or (isinstance(value, str) and value == SECURE_PLACEHOLDER):
        return {"secret": True}
    if is_unknown(value) or (isinstance(value, str) and value == UNKNOWN_TEXT):
        return {"unknown": True}
    if isinstance(value, dict):
        return {str(k): json_value(v, root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v, root) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    asset = _asset(value, root)
    if asset is not None:
        return {"asset": asset[0], "path": asset[1]}
    return {"unsupported": type(value).__name__}


@dataclass(frozen=True)
class _Atom:
    """A leaf as the text view prints it: JSON for plain values, bare markers for secrets and unknowns."""

    text: str


@dataclass(frozen=True)
class _Doc:
    """A JSON document held in a string input, shown parsed and indented (never cut)."""

    inner: Any


def _view(value: Any, root: Path | None, in_doc: bool = False) -> Any:
    from readiness.engine import UNKNOWN_TEXT, SecretValue, is_unknown

    if isinstance(value, SecretValue) or (isinstance(value, str) and value == SECURE_PLACEHOLDER):
        return _Atom(SECRET_SHOWN)
    if is_unknown(value) or (isinstance(value, str) and value == UNKNOWN_TEXT):
        return _Atom(UNKNOWN_SHOWN)
    if isinstance(value, str):
        doc = None if in_doc else _json_document(value)
        if doc is not None:
            return _Doc(_view(doc, root, in_doc=True))
        if not in_doc and len(value) > MAX_TEXT:
            return _Atom(json.dumps(value[:MAX_TEXT])[:-1] + f'…" ({len(value)} chars)')
        return _Atom(json.dumps(value))
    if isinstance(value, dict):
        keys = list(value) if in_doc else sorted(value)  # a document keeps its own key order
        return {str(k): _view(value[k], root, in_doc) for k in keys}
    if isinstance(value, list | tuple):
        return [_view(v, root, in_doc) for v in value]
    if isinstance(value, bool | int | float) or value is None:
        return _Atom(json.dumps(value))
    asset = _asset(value, root)
    if asset is not None:
        return _Atom(f"{asset[0]}({asset[1]})")
    return _Atom(f"<{type(value).__name__}>")


def _compact(view: Any) -> str | None:
    """One-line form, or None where a JSON document must be shown indented."""
    if isinstance(view, _Atom):
        return view.text
    if isinstance(view, _Doc):
        return None
    if isinstance(view, dict):
        parts = [(json.dumps(k), _compact(v)) for k, v in view.items()]
        if any(p is None for _, p in parts):
            return None
        return "{" + ", ".join(f"{k}: {p}" for k, p in parts) + "}"
    parts_l = [_compact(v) for v in view]
    if any(p is None for p in parts_l):
        return None
    return "[" + ", ".join(p for p in parts_l if p is not None) + "]"


def _lines(view: Any, width: int) -> list[str]:
    """The view as lines; the first goes after ``key: ``, the rest are indented relative to the key."""
    one = _compact(view)
    if one is not None and (len(one) <= width or isinstance(view, _Atom)):
        return [one]
    if isinstance(view, _Doc):
        first, *rest = _lines(view.inner, width)
        return [f"(JSON document) {first}", *rest]
    items = list(view.items()) if isinstance(view, dict) else [(None, v) for v in view]
    open_, close = ("{", "}") if isinstance(view, dict) else ("[", "]")
    out = [open_]
    for i, (key, item) in enumerate(items):
        lead = f"{json.dumps(key)}: " if key is not None else ""
        sub = _lines(item, width - 2)
        sub[-1] += "," if i < len(items) - 1 else ""
        out.append(f"  {lead}{sub[0]}")
        out.extend(f"  {line}" for line in sub[1:])
    out.append(close)
    return out


def rendered(key: str, value: Any, pad: str, root: Path | None, width: int = WIDTH) -> list[str]:
    """``key: value`` lines. Lists and mappings (IP sets, WAF rules) are shown whole, one item per line
    when long; JSON documents (policies, the dashboard body, the access-log format) parsed and indented;
    only long plain strings are shortened, with their length."""
    first, *rest = _lines(_view(value, root), width)
    return [f"{pad}{key}: {first}", *(f"{pad}  {line}" for line in rest)]
