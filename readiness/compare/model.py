"""One model of a plan, whichever ``plan --json`` wrote it, and the diff of two plans.

Both sides of a comparison are read from ``plaid-ready plan --json`` documents: the one this tree
prints, a file saved earlier, or the one a base revision's own CLI prints. Older and newer formats
differ in how they mark values the plan cannot show; both are accepted:

- secrets: the string ``"[secret]"`` (or the secure-config placeholder) or an object ``{"secret": true}``;
- values only the cloud knows: ``"(known after apply)"`` or ``{"unknown": true}``;
- file archives: ``"FileArchive(/abs/path)"`` or ``{"asset": "FileArchive", "path": ".build/..."}``. Paths
  are made relative to the project root, so two checkouts of the same code compare equal.

A resource is keyed by type and logical name (its URN without the stack). Inputs are flattened to
paths (``environment.variables.TOKEN_ISSUER``, ``rules[3].statement...``); lists of plain values (IP
sets, redirect URIs, scopes) stay one value so a removal reads as a removal, not a shifted index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from readiness.compare.replace import replace_reasons
from readiness.rules.secrets import STATEFUL_TYPES


class Marker:
    """A value the plan cannot show (a secret, or one only the cloud knows)."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


SECRET: Final = Marker("[secret]")
UNKNOWN: Final = Marker("(known after apply)")
#: An input or output that one side does not have at all.
ABSENT: Final = Marker("(absent)")

_SECRET_STRINGS: Final = ("[secret]", "[secret: secure config value, cannot be decrypted offline]")
_UNKNOWN_STRINGS: Final = ("(known after apply)",)
_ASSET = re.compile(r"^(FileArchive|FileAsset|RemoteArchive|RemoteAsset|AssetArchive)\((.*)\)$")


class PlanFormatError(ValueError):
    """A document that is not a ``plan --json`` output."""


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    parent: str | None
    protect: bool
    custom: bool
    inputs: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.name)

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL_TYPES


@dataclass(frozen=True)
class RuleState:
    id: str
    status: str
    mandatory: bool
    requirement: str

    @property
    def failing(self) -> bool:
        return self.status == "fail" and self.mandatory


@dataclass
class Plan:
    stack: str
    project: str
    resources: dict[tuple[str, str], Resource]
    outputs: dict[str, Any]
    rules: dict[str, RuleState]

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == typ]


def _leaf(value: Any, root: str | None) -> Any:
    if isinstance(value, str):
        if value in _SECRET_STRINGS:
            return SECRET
        if value in _UNKNOWN_STRINGS:
            return UNKNOWN
        return _relative(value, root)
    if isinstance(value, dict):
        if set(value) == {"asset", "path"} and isinstance(value["path"], str):  # issue 9's archive object
            return _relative(f"{value['asset']}({value['path']})", root)
        if value.get("secret") is True and set(value) <= {"secret", "value", "kind"}:
            return SECRET
        if value.get("unknown") is True and set(value) <= {"unknown", "kind"}:
            return UNKNOWN
    return value


def _relative(text: str, root: str | None) -> str:
    """A file path inside the project, relative to the project root (``.build/...``)."""
    m = _ASSET.match(text)
    if m is None:
        return text.replace(f"{root.rstrip('/')}/", "") if root else text
    kind, path = m.groups()
    if root and path.startswith(f"{root.rstrip('/')}/"):
        path = path[len(root.rstrip("/")) + 1:]
    elif path.startswith("/") and "/.build/" in path:  # a saved plan: the root it ran in is unknown
        path = path[path.index("/.build/") + 1:]
    return f"{kind}({path})"


def flatten(value: Any, root: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Nested inputs -> {path: leaf}. Lists of plain values are kept whole (as tuples)."""
    value = _leaf(value, root)
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for k in sorted(value):
            out.update(flatten(value[k], root, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list | tuple):
        items = [_leaf(v, root) for v in value]
        if all(not isinstance(v, dict | list | tuple) for v in items):
            out[prefix] = tuple(items)
            return out
        for i, v in enumerate(value):
            out.update(flatten(v, root, f"{prefix}[{i}]"))
        if not value:
            out[prefix] = ()
        return out
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 2:
        try:  # JSON documents held as strings (IAM policies, dashboards): compare them by field
            doc = json.loads(value)
        except ValueError:
            doc = None
        if isinstance(doc, dict | list) and doc:
            return flatten(doc, root, prefix)
    out[prefix] = value
    return out


def read_plan(doc: Any, root: str | None = None) -> Plan:
    """Normalise a ``plan --json`` document (any known format) into a :class:`Plan`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise PlanFormatError("not the output of `plaid-ready plan --json` (no resources list)")
    resources: dict[tuple[str, str], Resource] = {}
    for r in doc["resources"]:
        if not isinstance(r, dict) or not isinstance(r.get("type"), str) or not isinstance(r.get("name"), str):
            raise PlanFormatError("a resource without a type and a name")
        res = Resource(type=r["type"], name=r["name"], parent=r.get("parent"), protect=bool(r.get("protect")),
                       custom=bool(r.get("custom", True)), inputs=flatten(r.get("inputs") or {}, root))
        resources[res.key] = res
    rules: dict[str, RuleState] = {}
    for x in doc.get("readiness") or []:
        if isinstance(x, dict) and isinstance(x.get("id"), str):
            rules[x["id"]] = RuleState(x["id"], str(x.get("status", "")), bool(x.get("mandatory", True)),
                                       str(x.get("requirement", "")))
    outputs = {k: _leaf(v, root) for k, v in (doc.get("outputs") or {}).items()}
    return Plan(stack=str(doc.get("stack", "")), project=str(doc.get("project", "")), resources=resources,
                outputs=outputs, rules=rules)


# --- the diff ----------------------------------------------------------------------------------


@dataclass
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class ResourceChange:
    """One resource's fate: create, delete, update or replace (a rename is a replace)."""

    action: str
    old: Resource | None
    new: Resource | None
    changes: list[Change] = field(default_factory=list)
    replace_because: list[str] = field(default_factory=list)
    renamed: bool = False

    @property
    def subject(self) -> Resource:
        """The resource this change is about: the new one, or the old one for a delete."""
        either = self.new or self.old
        if either is None:
            raise ValueError(f"a {self.action} change with neither an old nor a new resource")
        return either

    @property
    def type(self) -> str:
        return self.subject.type

    @property
    def name(self) -> str:
        return self.subject.name

    @property
    def stateful(self) -> bool:
        return self.subject.stateful


def _same(a: Any, b: Any) -> bool:
    return a is b if isinstance(a, Marker) or isinstance(b, Marker) else a == b


def diff_inputs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, ABSENT), new.get(path, ABSENT)
        if not _same(a, b):
            out.append(Change(path, a, b))
    return out


def _similarity(a: str, b: str) -> int:
    pre = 0
    while pre < min(len(a), len(b)) and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < min(len(a), len(b)) - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    return pre + suf


def _pair_renames(gone: list[Resource], added: list[Resource]) -> list[tuple[Resource, Resource]]:
    """Pair deleted and created resources of one type that are the same thing under a new logical name."""
    pairs: list[tuple[Resource, Resource]] = []
    if len(gone) == 1 and len(added) == 1:
        return [(gone[0], added[0])]
    scored = sorted(((_similarity(o.name, n.name), i, j) for i, o in enumerate(gone) for j, n in enumerate(added)),
                    reverse=True)
    used_o: set[int] = set()
    used_n: set[int] = set()
    for score, i, j in scored:
        if i in used_o or j in used_n:
            continue
        if 3 * score < min(len(gone[i].name), len(added[j].name)):
            continue
        used_o.add(i)
        used_n.add(j)
        pairs.append((gone[i], added[j]))
    return pairs


def diff_resources(base: Plan, head: Plan) -> list[ResourceChange]:
    """Every resource that changes between the plans, in a stable order."""
    out: list[ResourceChange] = []
    gone = [r for k, r in base.resources.items() if k not in head.resources]
    added = [r for k, r in head.resources.items() if k not in base.resources]
    for key, old in base.resources.items():
        new = head.resources.get(key)
        if new is None:
            continue
        changes = diff_inputs(old.inputs, new.inputs)
        if old.protect != new.protect:
            changes.append(Change("(protect)", old.protect, new.protect))
        if old.parent != new.parent:
            changes.append(Change("(parent)", old.parent, new.parent))
        if changes:
            because = replace_reasons(new.type, [c.path for c in changes])
            out.append(ResourceChange("replace" if because else "update", old, new, changes, because))
    for typ in sorted({r.type for r in gone} & {r.type for r in added}):
        for old, new in _pair_renames([r for r in gone if r.type == typ], [r for r in added if r.type == typ]):
            gone.remove(old)
            added.remove(new)
            out.append(ResourceChange("replace", old, new, diff_inputs(old.inputs, new.inputs),
                                      ["(logical name)"], renamed=True))
    out += [ResourceChange("delete", r, None) for r in gone]
    out += [ResourceChange("create", None, r) for r in added]
    order = {"replace": 0, "delete": 1, "create": 2, "update": 3}
    out.sort(key=lambda c: (order[c.action], not c.stateful, c.type, c.name))
    return out


def diff_outputs(base: Plan, head: Plan) -> list[Change]:
    return diff_inputs(base.outputs, head.outputs)
