"""The offline plan: run the real ``__main__.py`` under Pulumi's mock engine and judge Plaid readiness.

``plaid-ready plan --stack NAME [--json]``. Exit 0 when every mandatory rule passes, 1 when one fails,
2 for a usage or settings error.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.settings import parse_settings
from components.settings.stack_file import SECURE_PLACEHOLDER, is_secure, read_stack_file
from readiness.checklist import Context, Result, Status, all_rules, evaluate

SECRET_SHOWN = "[secret]"
UNKNOWN_SHOWN = "(known after apply)"

HEADER = (
    "This offline plan of stack '{stack}' (project {project}, region {region}) shows what the program "
    "declares, run under Pulumi's mock engine with the stack's config; it is NOT a diff against live state: "
    "every resource is shown as a create; values only the cloud knows are shown as (known after apply), the "
    "account id inside a document as (account), secrets as [secret]. Provider-side validation does not run. "
    "secure: config values cannot be decrypted offline{secure_note}."
)


class UsageError(Exception):
    """A problem with the command line or the stack file itself (exit 2)."""


@dataclass
class StackConfig:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]

    @property
    def region(self) -> str:
        """The stack's ``aws:region`` (a required setting: parse_settings refuses a stack without one)."""
        return self.config.get("aws:region", "")


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


_STACK_FILE = re.compile(r"^Pulumi\.(?P<name>[^/\\]+)\.ya?ml$")


def resolve_stack(program_dir: Path, arg: str, cwd: Path | None = None) -> str:
    """The stack name for ``--stack``: a name, or the path of its stack file (``stacks/Pulumi.x.yaml``,
    relative to the working directory or the project, or absolute). A file elsewhere is refused with
    the name to use once it is in the stack directory."""
    if "/" not in arg and "\\" not in arg and not _STACK_FILE.match(arg):
        return arg
    _, stack_dir = _project(program_dir)
    match = _STACK_FILE.match(Path(arg).name)
    if match is None:
        raise UsageError(f"--stack takes a stack name or the path of a stack file "
                         f"({stack_dir.relative_to(program_dir).as_posix()}/Pulumi.<name>.yaml); "
                         f"'{Path(arg).name}' is not a stack file name")
    name = match.group("name")
    given = Path(arg)
    candidates = [given] if given.is_absolute() else [(cwd or Path.cwd()) / given, program_dir / given]
    home = stack_dir.resolve()
    if any(c.resolve().parent == home for c in candidates) or "/" not in arg and "\\" not in arg:
        return name
    where = stack_dir.relative_to(program_dir).as_posix()
    raise UsageError(f"--stack: {arg} is not in the stack directory {where}/ (stackConfigDir in Pulumi.yaml); "
                     f"move it to {where}/Pulumi.{name}.yaml and pass --stack {name}")


def load_stack_config(program_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` the way the Pulumi CLI passes it to a program."""
    project, stack_dir = _project(program_dir)
    path = stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(program_dir)) or "none"
        raise UsageError(f"stack '{stack}': no file {path.relative_to(program_dir)}; available stacks: {known}")
    try:
        doc = read_stack_file(path) or {}  # refuses duplicate keys (SettingsError, exit 2)
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
        elif _contains_secure(value) and not key.startswith(f"{project}:"):
            # A provider key with secure: values inside (`pulumi config set --secret --path`): they cannot
            # be decrypted offline; each becomes the placeholder, and the key is marked secret.
            config[key] = json.dumps(_placeholders(value))
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


def _placeholders(value: Any) -> Any:
    if is_secure(value):
        return SECURE_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


# --- rendering ---------------------------------------------------------------------------------

#: Version of the ``plan --json`` document (readiness/plan.schema.json). Bump on an incompatible change.
SCHEMA_VERSION = 1
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


def _rendered(key: str, value: Any, pad: str, root: Path | None, width: int = WIDTH) -> list[str]:
    """``key: value`` lines. Lists and mappings (IP sets, WAF rules) are shown whole, one item per line
    when long; JSON documents (policies, the dashboard body, the access-log format) parsed and indented;
    only long plain strings are shortened, with their length."""
    first, *rest = _lines(_view(value, root), width)
    return [f"{pad}{key}: {first}", *(f"{pad}  {line}" for line in rest)]


_LABEL = {Status.PASS: "PASS", Status.CLOSEST: "CLOSEST", Status.FAIL: "FAIL"}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass
class PlanReport:
    stack: StackConfig
    resources: list[Any]
    outputs: dict[str, Any]
    results: list[Result]
    #: The project root: paths (the Lambda archive) are shown relative to it.
    root: Path | None = None

    @property
    def failed(self) -> list[Result]:
        """Failing mandatory rules: these make the stack not ready."""
        return [r for r in self.results if r.failed]

    @property
    def failing(self) -> list[Result]:
        """Every failing rule, mandatory or advisory."""
        return [r for r in self.results if r.finding.status is Status.FAIL]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for x in self.results if x.finding.status is s) for s in Status}

    def header(self) -> str:
        note = (f"; placeholders stand in for: {', '.join(sorted(self.stack.secret_keys))}"
                if self.stack.secret_keys else "")
        return HEADER.format(stack=self.stack.stack, project=self.stack.project, region=self.stack.region,
                             secure_note=note)

    def verdict(self) -> str:
        if self.failed:
            return (f"Verdict: NOT READY for Plaid: {_plural(len(self.failed), 'mandatory rule')} "
                    f"{'fails' if len(self.failed) == 1 else 'fail'} ({', '.join(x.rule.id for x in self.failed)}).")
        return ("Verdict: ready for Plaid as declared (every mandatory rule passes; closest-possible rows are "
                "IdP limits: see their reasons).")

    def to_json(self) -> dict[str, Any]:
        root = self.root
        counts = self.counts()
        return {
            "schemaVersion": SCHEMA_VERSION,
            "kind": "offline-plan",
            "note": self.header(),
            "project": self.stack.project,
            "stack": self.stack.stack,
            "region": self.stack.region,
            "ready": not self.failed,
            "summary": {
                "verdict": "not-ready" if self.failed else "ready",
                "resources": sum(1 for r in self.resources if r.custom),
                "components": sum(1 for r in self.resources if not r.custom),
                "rules": {"total": len(self.results), **counts},
                "failing": [x.rule.id for x in self.failing],
            },
            "resources": [
                {"type": r.type, "name": r.name, "parent": r.parent_name, "custom": r.custom,
                 "protect": r.protect, "inputs": json_value(r.inputs, root)}
                for r in self.resources
            ],
            "outputs": json_value(self.outputs, root),
            "readiness": [
                {"id": x.rule.id, "requirement": x.rule.requirement, "mandatory": x.rule.mandatory,
                 "status": x.finding.status.value, "declared": x.finding.declared, "reason": x.finding.reason,
                 "source": x.rule.source}
                for x in self.results
            ],
        }

    def _summary(self) -> list[str]:
        c = self.counts()
        lines = [f"Offline plan of stack '{self.stack.stack}' (project {self.stack.project}, "
                 f"region {self.stack.region})",
                 self.verdict(),
                 f"Counts: {_plural(sum(1 for r in self.resources if r.custom), 'resource')}, "
                 f"{_plural(sum(1 for r in self.resources if not r.custom), 'component')}; "
                 f"{_plural(len(self.results), 'readiness rule')}: {c['pass']} pass, "
                 f"{c['closest']} closest-possible, {c['fail']} fail"]
        if not self.failing:
            lines.append("Failing rules: none")
            return lines
        lines.append("Failing rules:")
        for x in self.failing:
            lines.extend(self._row(x))
        return lines

    @staticmethod
    def _row(x: Result) -> list[str]:
        tag = _LABEL[x.finding.status] + ("" if x.rule.mandatory else " (advisory)")
        lines = [f"  {tag:<18} {x.rule.id:<24} {x.rule.requirement}",
                 f"  {'':<18} {'':<24} declared: {x.finding.declared}"]
        if x.finding.reason:
            lines.append(f"  {'':<18} {'':<24} reason:   {x.finding.reason}")
        return lines

    def _table(self) -> list[str]:
        c = self.counts()
        lines = [f"Plaid readiness ({_plural(len(self.results), 'rule')}: {c['pass']} pass, "
                 f"{c['closest']} closest-possible, {c['fail']} fail)"]
        for x in self.results:
            lines.extend(self._row(x))
        return lines

    def to_text(self, summary_only: bool = False) -> str:
        """Summary first (verdict, counts, failing rules), then the tree and outputs, then the readiness
        table. ``summary_only``: the summary and the readiness table."""
        if summary_only:
            return "\n".join([*self._summary()[:3], "", *self._table()])
        lines = [*self._summary(), ""]
        lines += [textwrap.fill(self.header(), width=WIDTH, break_on_hyphens=False), ""]
        by_parent: dict[str, list[Any]] = {}
        urns = {r.urn for r in self.resources}
        for r in self.resources:
            parent = r.parent_urn if r.parent_urn in urns else ""
            by_parent.setdefault(parent, []).append(r)
        for children in by_parent.values():
            children.sort(key=lambda r: (r.custom, r.type, r.name))
        lines.append(f"Resources ({_plural(sum(1 for r in self.resources if r.custom), 'resource')}, "
                     f"{_plural(sum(1 for r in self.resources if not r.custom), 'component')}):")

        def walk(parent: str, depth: int) -> None:
            for r in by_parent.get(parent, []):
                pad = "    " * depth
                flag = "  [protected]" if r.protect else ""
                lines.append(f"{pad}+ {r.type}  {r.name}{flag}")
                for key in sorted(r.inputs):
                    lines.extend(_rendered(key, r.inputs[key], f"{pad}      ", self.root))
                walk(r.urn, depth + 1)

        walk("", 1)
        lines += ["", "Outputs:"]
        for key in sorted(self.outputs):
            lines.extend(_rendered(key, self.outputs[key], "    ", self.root, width=120))
        lines += ["", *self._table(), "", self.verdict()]
        return "\n".join(lines)


def build_report(program_dir: Path, stack: str) -> PlanReport:
    """Validate settings, run the program offline, evaluate the checklist. Raises UsageError/SettingsError."""
    from readiness.engine import run_program

    cfg = load_stack_config(program_dir, stack)
    settings = parse_settings(cfg.config, cfg.secret_keys)
    run = run_program(program_dir, cfg.project, stack, cfg.config, cfg.secret_keys, compute=False)
    # The engine registers resources as their inputs resolve, in an order that varies from run to run:
    # sort them (by URN: parent chain, type, name) so the plan, --json and every rule see one order.
    resources = sorted(run.resources, key=lambda r: r.urn)
    ctx = Context(resources=resources, environment=settings.environment.value)
    return PlanReport(cfg, resources, run.outputs, evaluate(all_rules(), ctx), root=program_dir)

