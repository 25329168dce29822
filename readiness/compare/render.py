"""The renderers of ``plan --compare``: text (a terminal), markdown (a pull-request comment), json
(``kind: plan-comparison``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from readiness.compare.changes import Comparison
from readiness.compare.model import ABSENT, SECRET, UNKNOWN, Change, Marker
from readiness.compare.plaid import BREAKING

FORMATS: Final = ("text", "markdown", "json")
#: Version of the ``--format json`` document.
SCHEMA_VERSION: Final = 1
SECRET_CHANGED: Final = "[secret changed]"


def _value(v: Any, other: Any) -> str:
    if v is SECRET or other is SECRET:
        return SECRET_CHANGED
    if isinstance(v, Marker):
        return v.label
    if isinstance(v, tuple):
        return json.dumps(list(v))
    return json.dumps(v)


def _change_lines(c: Change) -> str:
    if isinstance(c.old, tuple) and isinstance(c.new, tuple):
        gone = [x for x in c.old if x not in c.new]
        added = [x for x in c.new if x not in c.old]
        if gone or added:
            parts = ([f"removed {json.dumps([_value(x, None).strip(chr(34)) for x in gone])}"] if gone else []) + \
                    ([f"added {json.dumps([_value(x, None).strip(chr(34)) for x in added])}"] if added else [])
            return f"{c.path}: {'; '.join(parts)}"
    if c.old is SECRET or c.new is SECRET:
        return f"{c.path}: {SECRET_CHANGED}"
    return f"{c.path}: {_value(c.old, c.new)} -> {_value(c.new, c.old)}"


_SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "+-"}


def _resource_lines(comp: Comparison) -> list[str]:
    lines = []
    for r in comp.resources:
        name = f"{r.old.name} -> {r.new.name}" if r.renamed and r.old and r.new else r.name
        flags = []
        if r.action == "replace":
            flags.append("renamed: Pulumi deletes the old and creates the new" if r.renamed
                         else "replaced because " + ", ".join(r.replace_because) + " cannot change in place")
        if r.stateful and r.action in ("replace", "delete"):
            flags.append("STATEFUL: its state is lost")
        head = f"{_SYMBOL[r.action]} {r.action.upper() if r.action == 'replace' else r.action} {r.type}  {name}"
        lines.append(head + (f"  ({'; '.join(flags)})" if flags else ""))
        if r.action in ("update", "replace"):
            lines += [f"      {_change_lines(c)}" for c in r.changes]
    return lines


def _counts(comp: Comparison) -> str:
    n = {a: sum(1 for r in comp.resources if r.action == a) for a in ("create", "update", "replace", "delete")}
    return ", ".join(f"{v} to {k}" for k, v in n.items() if v) or "none"


def _intro(comp: Comparison) -> str:
    if comp.new_stack:
        return (f"Stack '{comp.stack}': new stack (not in {comp.base_label}) -> {comp.head_label}: every resource is "
                "a create (an offline plan; not a diff against live state)")
    return (f"Stack '{comp.stack}': {comp.base_label} -> {comp.head_label} (offline plans of both; not a diff "
            "against live state)")


_NEW_STACK_IMPACT = "none: a new stack; nothing has been given to Plaid yet"


def _verdict(comp: Comparison) -> str:
    if comp.new_stack:
        if comp.newly_failing:
            return ("Verdict: new stack, NOT READY for Plaid: " + ", ".join(comp.newly_failing) + " fail (exit 1).")
        return "Verdict: new stack, ready for Plaid as declared (exit 0)."
    if comp.newly_failing:
        return ("Verdict: a readiness rule newly fails (" + ", ".join(comp.newly_failing) + "): fix it before "
                "merging (exit 1).")
    if comp.breaking:
        return (f"Verdict: {len(comp.breaking)} Plaid-breaking change{'s' if len(comp.breaking) > 1 else ''}: do "
                "what each line says before merging (exit 4).")
    return "Verdict: nothing here breaks Plaid (exit 0)."


def render_text(comp: Comparison) -> str:
    if comp.unchanged:
        return f"{_intro(comp)}\n\nno changes: both plans declare exactly the same resources, outputs and verdict."
    lines = [_intro(comp), ""]
    lines.append(f"Plaid impact ({len(comp.breaking)} breaking, {len(comp.impact) - len(comp.breaking)} notice):")
    lines += [f"  {'BREAKING' if x.severity == BREAKING else 'notice':<9}{x.message}" for x in comp.impact] or \
        [f"  {_NEW_STACK_IMPACT if comp.new_stack else 'none: nothing Plaid sees changes'}"]
    lines += ["", "Readiness changes:"]
    lines += [f"  {r.id:<24} {r.before} -> {r.after_label}   {r.requirement}" for r in comp.readiness] or ["  none"]
    lines += ["", f"Resource changes ({_counts(comp)}):"]
    lines += [f"  {ln}" for ln in _resource_lines(comp)] or ["  none"]
    if comp.outputs:
        lines += ["", "Output changes:"] + [f"  {_change_lines(c)}" for c in comp.outputs]
    lines += ["", _verdict(comp)]
    return "\n".join(lines)


def render_markdown(comp: Comparison) -> str:
    lines = [f"### Plaid-ready: stack `{comp.stack}`", "",
             (f"new stack (not in `{comp.base_label}`) → {comp.head_label}: every resource is a create (an offline "
              "plan; not a diff against live state)") if comp.new_stack else
             f"`{comp.base_label}` → {comp.head_label} (offline plans of both; not a diff against live state)", ""]
    if comp.unchanged:
        return "\n".join([*lines, "**no changes**: both plans declare exactly the same resources, outputs and "
                                  "verdict."])
    lines.append(f"**Plaid impact** ({len(comp.breaking)} breaking, {len(comp.impact) - len(comp.breaking)} notice)")
    lines.append("")
    lines += [f"- {'**BREAKS PLAID**' if x.severity == BREAKING else 'notice'}: {x.message}" for x in comp.impact] \
        or [f"- {_NEW_STACK_IMPACT if comp.new_stack else 'none: nothing Plaid sees changes'}"]
    lines += ["", "**Readiness changes**", ""]
    if comp.readiness:
        lines += ["| rule | before | after | requirement |", "|---|---|---|---|"]
        lines += [f"| `{r.id}` | {r.before} | "
                  f"{('**FAIL**' if r.after == 'fail' else r.after) + ('' if r.mandatory else ' (advisory)')} | "
                  f"{r.requirement} |" for r in comp.readiness]
    else:
        lines.append("none")
    lines += ["", "<details>", f"<summary>Resource changes ({_counts(comp)})</summary>", "", "```"]
    lines += _resource_lines(comp) or ["none"]
    if comp.outputs:
        lines += ["", "Output changes:"] + [f"  {_change_lines(c)}" for c in comp.outputs]
    lines += ["```", "", "</details>", "", f"**{_verdict(comp)}**"]
    return "\n".join(lines)


def _json_value(v: Any) -> Any:
    if v is SECRET:
        return {"secret": True}
    if v is UNKNOWN:
        return {"unknown": True}
    if v is ABSENT:
        return {"absent": True}
    if isinstance(v, tuple):
        return [_json_value(x) for x in v]
    return v


def render_json(comp: Comparison) -> str:
    def change(c: Change) -> dict[str, Any]:
        if c.old is SECRET or c.new is SECRET:
            return {"path": c.path, "secretChanged": True}
        return {"path": c.path, "before": _json_value(c.old), "after": _json_value(c.new)}

    doc = {
        "schemaVersion": SCHEMA_VERSION,
        "kind": "plan-comparison",
        "stack": comp.stack,
        "base": comp.base_label,
        "head": comp.head_label,
        "noChanges": comp.unchanged,
        "newStack": comp.new_stack,
        "exitCode": comp.exit_code,
        "plaidImpact": [{"severity": x.severity, "kind": x.kind, "message": x.message} for x in comp.impact],
        "readinessChanges": [{"id": r.id, "before": r.before, "after": r.after, "requirement": r.requirement,
                              "newlyFailing": r.newly_failing, "mandatory": r.mandatory} for r in comp.readiness],
        "resourceChanges": [{"action": r.action, "type": r.type, "name": r.name,
                             "oldName": r.old.name if r.old else None, "stateful": r.stateful,
                             "replaceBecause": r.replace_because, "changes": [change(c) for c in r.changes]}
                            for r in comp.resources],
        "outputChanges": [change(c) for c in comp.outputs],
    }
    return json.dumps(doc, indent=2, sort_keys=True)


RENDER: Final[dict[str, Callable[[Comparison], str]]] = {
    "text": render_text, "markdown": render_markdown, "json": render_json}
