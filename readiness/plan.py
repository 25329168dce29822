"""The offline plan: run the real ``__main__.py`` under Pulumi's mock engine and judge Plaid readiness.

``plaid-ready plan --stack NAME [--json]``. Exit 0 when every mandatory rule passes, 1 when one fails,
2 for a usage or settings error.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.settings import parse_settings
from readiness.checklist import Context, Result, Status, all_rules, evaluate

SECRET_SHOWN = "[secret]"
UNKNOWN_SHOWN = "(known after apply)"
SECURE_PLACEHOLDER = "[secret: secure config value, cannot be decrypted offline]"

HEADER = (
    "Offline plan of stack '{stack}' (project {project}). This shows what the program declares, run under "
    "Pulumi's mock engine with the stack's config; it is NOT a diff against live state: every resource "
    "is shown as a create, values only the cloud knows are shown as (known after apply), secrets as "
    "[secret]. Provider-side validation does not run. secure: config values cannot be decrypted "
    "offline{secure_note}."
)


class UsageError(Exception):
    """A problem with the command line or the stack file itself (exit 2)."""


@dataclass
class StackConfig:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]


def _project(program_dir: Path) -> tuple[str, Path]:
    path = program_dir / "Pulumi.yaml"
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: not found; run plaid-ready from the project root or pass --dir") from None
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str):
        raise UsageError(f"{path}: has no project name")
    return name, program_dir / str(doc.get("stackConfigDir") or ".")


def available_stacks(program_dir: Path) -> list[str]:
    _, stack_dir = _project(program_dir)
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_dir.glob("Pulumi.*.yaml"))


def load_stack_config(program_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` the way the Pulumi CLI passes it to a program."""
    project, stack_dir = _project(program_dir)
    path = stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(program_dir)) or "none"
        raise UsageError(f"stack '{stack}': no file {path.relative_to(program_dir)}; available stacks: {known}")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{path.name}: not valid YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path.name}: must be a mapping with a 'config:' key")
    unknown_top = sorted(set(doc) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
    if unknown_top:
        raise UsageError(f"{path.name}: unknown top-level keys: {', '.join(unknown_top)} (settings go under 'config:')")
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path.name}: 'config:' must be a mapping of keys to values")
    config: dict[str, str] = {}
    secret: list[str] = []

    def put(key: str, value: Any) -> None:
        key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECURE_PLACEHOLDER
            secret.append(key)
        elif _contains_secure(value):
            raise UsageError(f"{key}: holds a secure: value inside a structured setting; none of its fields "
                             "is secret, so set them in plain text")
        elif isinstance(value, dict | list):
            config[key] = json.dumps(value)
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        elif value is None:
            config[key] = ""
        else:
            config[key] = str(value)

    for key, value in raw.items():
        put(str(key), value)
    return StackConfig(project, stack, config, secret)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


# --- rendering ---------------------------------------------------------------------------------


def display(value: Any) -> Any:
    """A JSON-able view of a declared value: secrets and unknowns replaced, assets summarised."""
    from readiness.engine import SecretValue, is_unknown

    if isinstance(value, SecretValue):
        return SECRET_SHOWN
    if is_unknown(value):
        return UNKNOWN_SHOWN
    if isinstance(value, str) and value == SECURE_PLACEHOLDER:
        return SECRET_SHOWN
    if isinstance(value, dict):
        return {k: display(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [display(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    path = getattr(value, "path", None)
    if path is not None:  # pulumi FileArchive / FileAsset
        return f"{type(value).__name__}({path})"
    return f"<{type(value).__name__}>"


def _rendered(key: str, value: Any, pad: str, width: int = 100, max_text: int = 400) -> list[str]:
    """``key: value`` lines. Long lists and mappings (IP sets, WAF rules) are shown whole, one item per
    line: a reviewer must see every security-relevant value. Only long plain strings are shortened."""
    shown = display(value)
    text = json.dumps(shown, sort_keys=True)
    if len(text) <= width:
        return [f"{pad}{key}: {text}"]
    if isinstance(shown, list | dict):
        first, *rest = json.dumps(shown, sort_keys=True, indent=2).splitlines()
        return [f"{pad}{key}: {first}", *(f"{pad}  {line}" for line in rest)]
    return [f"{pad}{key}: {text if len(text) <= max_text else text[: max_text - 1] + f'… ({len(text)} chars)'}"]


@dataclass
class PlanReport:
    stack: StackConfig
    resources: list[Any]
    outputs: dict[str, Any]
    results: list[Result]

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.failed]

    def header(self) -> str:
        note = (f"; placeholders stand in for: {', '.join(sorted(self.stack.secret_keys))}"
                if self.stack.secret_keys else "")
        return HEADER.format(stack=self.stack.stack, project=self.stack.project, secure_note=note)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "offline-plan",
            "note": self.header(),
            "project": self.stack.project,
            "stack": self.stack.stack,
            "resources": [
                {"type": r.type, "name": r.name, "parent": r.parent_name, "custom": r.custom,
                 "protect": r.protect, "inputs": display(r.inputs)}
                for r in self.resources
            ],
            "outputs": display(self.outputs),
            "readiness": [
                {"id": x.rule.id, "requirement": x.rule.requirement, "mandatory": x.rule.mandatory,
                 "status": x.finding.status.value, "declared": x.finding.declared, "reason": x.finding.reason,
                 "source": x.rule.source}
                for x in self.results
            ],
            "ready": not self.failed,
        }

    def to_text(self) -> str:
        lines = [textwrap.fill(self.header(), width=100), ""]
        by_parent: dict[str, list[Any]] = {}
        urns = {r.urn for r in self.resources}
        for r in self.resources:
            parent = r.parent_urn if r.parent_urn in urns else ""
            by_parent.setdefault(parent, []).append(r)
        for children in by_parent.values():
            children.sort(key=lambda r: (r.custom, r.type, r.name))
        lines.append(f"Resources ({sum(1 for r in self.resources if r.custom)} resources, "
                     f"{sum(1 for r in self.resources if not r.custom)} components):")

        def walk(parent: str, depth: int) -> None:
            for r in by_parent.get(parent, []):
                pad = "    " * depth
                flag = "  [protected]" if r.protect else ""
                lines.append(f"{pad}+ {r.type}  {r.name}{flag}")
                for key in sorted(r.inputs):
                    lines.extend(_rendered(key, r.inputs[key], f"{pad}      "))
                walk(r.urn, depth + 1)

        walk("", 1)
        lines += ["", "Outputs:"]
        for key in sorted(self.outputs):
            lines.extend(_rendered(key, self.outputs[key], "    ", width=120))
        counts = {s: sum(1 for x in self.results if x.finding.status is s) for s in Status}
        lines += ["", f"Plaid readiness ({len(self.results)} rules: {counts[Status.PASS]} pass, "
                      f"{counts[Status.CLOSEST]} closest-possible, {counts[Status.FAIL]} fail)"]
        label = {Status.PASS: "PASS", Status.CLOSEST: "CLOSEST", Status.FAIL: "FAIL"}
        for x in self.results:
            tag = label[x.finding.status] + ("" if x.rule.mandatory else " (advisory)")
            lines.append(f"  {tag:<18} {x.rule.id:<24} {x.rule.requirement}")
            lines.append(f"  {'':<18} {'':<24} declared: {x.finding.declared}")
            if x.finding.reason:
                lines.append(f"  {'':<18} {'':<24} reason:   {x.finding.reason}")
        lines.append("")
        if self.failed:
            lines.append("Verdict: NOT READY for Plaid: " + ", ".join(x.rule.id for x in self.failed) + " failed.")
        else:
            lines.append("Verdict: ready for Plaid as declared (every mandatory rule passes; closest-possible "
                         "rows are IdP limits, see their reasons).")
        return "\n".join(lines)


def build_report(program_dir: Path, stack: str) -> PlanReport:
    """Validate settings, run the program offline, evaluate the checklist. Raises UsageError/SettingsError."""
    from readiness.engine import run_program

    cfg = load_stack_config(program_dir, stack)
    settings = parse_settings(cfg.config, cfg.secret_keys)
    run = run_program(program_dir, cfg.project, stack, cfg.config, cfg.secret_keys, compute=False)
    ctx = Context(resources=run.resources, environment=settings.environment.value)
    return PlanReport(cfg, run.resources, run.outputs, evaluate(all_rules(), ctx))

