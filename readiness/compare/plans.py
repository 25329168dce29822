"""``plaid-ready plan --stack NAME --compare BASE``: what a change does to Plaid, for a reviewer.

BASE is a git revision of the project (``main``, ``origin/main``, ``HEAD~1``, a SHA) or a file saved
earlier with ``plaid-ready plan --json``. The head is the project directory as it is now (the working
tree, uncommitted changes included).

How the two plans are made, so the comparison never touches the user's tree and costs about one plan:

- the base revision is materialised with ``git archive <rev> | tar -x`` into a temporary directory (no
  worktree, no index, no checkout). It gets its **own** Lambda package cache (``.build``), seeded by
  copying the project's cached packages, so a package whose sources did not change is not rebuilt and
  nothing the base runs writes the project's cache;
- each side runs its *own* ``plaid-ready plan --json`` in a subprocess, with its directory as the working
  directory and first on ``PYTHONPATH`` (this process may already have imported the head's modules, and
  the base's ``components``/``plaid_contract`` must win in the base's run);
- **the other revision is untrusted code**: planning it runs its ``__main__.py`` and components. Both
  subprocesses get an allow-listed environment (:func:`plan_environment`: PATH, HOME, locale, temporary
  directory, the Python and pip settings an offline run needs), never the caller's credentials (no
  ``AWS_*``, ``*_TOKEN``, ``*_SECRET*``, ``PULUMI_*`` but the one offline switch, ``GITHUB_*``, provider
  config such as ``AUTH0_*``/``OKTA_*``). Compare only against revisions you would run;
- both subprocesses run at once (on a first run, when the package cache is empty, the head runs first so
  the package is built once).

``--head FILE`` (for CI's trusted comparison) takes the head side from a plan saved with ``plan --json``
instead of planning this checkout: the comparison then runs only this checkout's tools, on a base it
plans itself and a head that is data. A stack the base does not have is a **new stack**: every
resource is a create, the readiness table is its verdict, nothing is said to break Plaid (exit 0 or 1).

The two ``plan --json`` documents (any format version) are read into one model
(``readiness.compare_model``) and diffed: Plaid impact first (``readiness.compare_plaid``), then
readiness rules whose status changed, then resource changes with replacements predicted from the
providers' create-only fields (``readiness.compare_replace``).

Exit codes: 0 nothing breaks Plaid and no rule newly fails; 1 a mandatory readiness rule newly fails
(wins over 4: a failing rule is not something a label can acknowledge); 4 a Plaid-breaking change (so CI
can require an explicit label); 2 usage errors (bad revision or file, a stack the base does not have,
invalid settings); 3 a plan crashed (a bug).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from readiness.compare_model import (
    ABSENT,
    SECRET,
    UNKNOWN,
    Change,
    Marker,
    Plan,
    PlanFormatError,
    ResourceChange,
    diff_outputs,
    diff_resources,
    read_plan,
)
from readiness.compare_plaid import BREAKING, Impact, plaid_impact

EXIT_OK, EXIT_NOT_READY, EXIT_USAGE, EXIT_INTERNAL, EXIT_PLAID_BREAKING = 0, 1, 2, 3, 4
FORMATS: Final = ("text", "markdown", "json")
SCHEMA_VERSION: Final = 1
#: Upper bound for one plan subprocess (a first run builds the Lambda package: pip downloads).
PLAN_TIMEOUT_SECONDS: Final = 600
HEAD_LABEL: Final = "working tree"
SECRET_CHANGED: Final = "[secret changed]"

#: The only variables a plan subprocess inherits (plus ``LC_*``): running Python and pip offline.
ENV_ALLOWED: Final = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT",
    "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONHASHSEED",
    "PYTHONNOUSERSITE", "VIRTUAL_ENV",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_CONFIG_FILE", "PIP_DEFAULT_TIMEOUT",
    "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_INDEX", "PIP_TRUSTED_HOST", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR",
    "PIP_RETRIES", "PIP_TIMEOUT", "PIP_PROGRESS_BAR", "PIP_CONSTRAINT",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})
#: Never passed, even when allowed above: a name that says it holds a credential.
_CREDENTIAL_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|SESSION", re.IGNORECASE)
#: A URL with user information (``https://user:token@mirror/simple``) carries a credential: dropped.
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s@]*@")
#: What the plan subprocesses are given on top: offline, never fetch a Pulumi plugin.
_ENV_SET: Final = {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}


def plan_environment(environ: dict[str, str], directory: Path) -> dict[str, str]:
    """The environment of a plan subprocess: the allow-listed variables of ``environ`` that carry no credential,
    the offline switch, and ``directory`` first on ``PYTHONPATH`` (the caller's own PYTHONPATH is not passed)."""
    env = {k: v for k, v in environ.items()
           if (k in ENV_ALLOWED or k.startswith("LC_")) and not _CREDENTIAL_NAME.search(k)
           and not _URL_USERINFO.search(v)}
    env.update(_ENV_SET)
    env["PYTHONPATH"] = str(directory)
    return env


class CompareError(Exception):
    """A comparison that cannot be made; ``code`` is the exit code (2 usage, 3 a plan crashed)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# --- producing the two plans ---------------------------------------------------------------------


def _git(program_dir: Path, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[Any]:
    return subprocess.run(["git", "-C", str(program_dir), *args],  # noqa: S603, S607 - fixed argv, git on PATH
                          stdout=stdout, stderr=subprocess.PIPE, check=False, timeout=120)


def _resolve_revision(program_dir: Path, base: str) -> tuple[str, str]:
    """(commit, path of the project inside the repository) or CompareError."""
    if base.startswith("-"):
        raise CompareError(f"--compare {base}: not a git revision or a saved plan file")
    try:
        top = _git(program_dir, "rev-parse", "--show-prefix")
    except (OSError, subprocess.TimeoutExpired):
        raise CompareError("--compare: git is not available; pass a file saved with `plan --json` instead") from None
    if top.returncode != 0:
        raise CompareError(f"--compare {base}: no such file, and {program_dir} is not in a git repository "
                           "(pass a file saved with `plaid-ready plan --json`, or a git revision)")
    commit = _git(program_dir, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if commit.returncode != 0:
        raise CompareError(f"--compare {base}: not a git revision of this repository, nor a file "
                           "(try a branch, tag or commit such as origin/main or HEAD~1)")
    return commit.stdout.decode().strip(), top.stdout.decode().strip()


def _materialise(program_dir: Path, commit: str, prefix: str, into: Path) -> None:
    """``git archive <commit>[:prefix] | tar -x`` into ``into``: the user's tree and index stay untouched."""
    tree = f"{commit}:{prefix}" if prefix else commit
    tar = into.parent / "base.tar"
    with tar.open("wb") as fh:
        done = _git(program_dir, "archive", "--format=tar", tree, stdout=fh)
    if done.returncode != 0:
        raise CompareError(f"--compare: git archive of {commit[:12]} failed: "
                           f"{done.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    into.mkdir()
    subprocess.run(["tar", "-x", "-f", str(tar), "-C", str(into)],  # noqa: S603, S607 - fixed argv
                   check=True, timeout=120)
    tar.unlink()


def _seed_build_cache(program_dir: Path, base_dir: Path) -> bool:
    """Give the base its own ``.build``, seeded with *copies* of the project's cached Lambda packages (never
    a link: nothing the base runs may write the project's cache). True when a package was copied."""
    source = program_dir / ".build" / "lambda"
    target = base_dir / ".build" / "lambda"
    build = base_dir / ".build"
    if build.is_symlink() or build.is_file():  # a .build committed in the base: never trusted, never used
        build.unlink()
    elif build.exists():
        shutil.rmtree(build)
    target.mkdir(parents=True)
    warm = False
    if source.is_dir():
        for zip_path in sorted(source.glob("*/*.zip")):
            if zip_path.is_file() and not zip_path.is_symlink():
                (target / zip_path.parent.name).mkdir(exist_ok=True)
                shutil.copyfile(zip_path, target / zip_path.parent.name / zip_path.name)
                warm = True
    return warm


def _has_stack(directory: Path, stack: str) -> bool:
    """Whether the tree at ``directory`` has the stack's file (read as data: nothing of it is run)."""
    from readiness.plan import UsageError, available_stacks

    try:
        return stack in available_stacks(directory)
    except (UsageError, OSError, ValueError, AttributeError):
        return True  # let the base's own plan say what is wrong


@dataclass
class _PlanRun:
    label: str
    directory: Path
    proc: subprocess.Popen[bytes]
    out: Any
    err: Any


def _start_plan(label: str, directory: Path, stack: str, scratch: Path) -> _PlanRun:
    env = plan_environment(dict(os.environ), directory)
    out = tempfile.TemporaryFile(dir=scratch)
    err = tempfile.TemporaryFile(dir=scratch)
    cmd = [sys.executable, "-m", "readiness.cli", "plan", "--stack", stack, "--json", "--dir", str(directory)]
    proc = subprocess.Popen(cmd, cwd=directory, env=env, stdout=out, stderr=err)  # noqa: S603 - our own CLI
    return _PlanRun(label, directory, proc, out, err)


def _finish_plan(run: _PlanRun, stack: str) -> dict[str, Any]:
    try:
        code = run.proc.wait(timeout=PLAN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        run.proc.kill()
        run.proc.wait()
        raise CompareError(f"the plan at {run.label} did not finish in {PLAN_TIMEOUT_SECONDS} s",
                           EXIT_INTERNAL) from None
    run.out.seek(0)
    run.err.seek(0)
    stdout, stderr = run.out.read().decode(errors="replace"), run.err.read().decode(errors="replace")
    run.out.close()
    run.err.close()
    doc: Any = None
    try:
        doc = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        doc = None
    if code in (EXIT_OK, EXIT_NOT_READY) and isinstance(doc, dict) and "resources" in doc:
        return doc
    problems = [str(e) for e in doc.get("errors", [])] if isinstance(doc, dict) else []
    lines = problems or [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    detail = "; ".join(ln.removeprefix("plaid-ready plan: ").removeprefix("- ") for ln in lines[:6]) or "no output"
    if code == EXIT_USAGE:
        raise CompareError(f"stack '{stack}' at {run.label}: {detail}")
    raise CompareError(f"the plan at {run.label} failed (exit {code}): {detail}", EXIT_INTERNAL)


def _load_saved(path: Path, stack: str, option: str = "--compare") -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise CompareError(f"{option} {path}: cannot read it ({type(exc).__name__})") from None
    except ValueError:
        raise CompareError(f"{option} {path}: not JSON; save a plan with `plaid-ready plan --stack {stack} "
                           "--json > FILE`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise CompareError(f"{option} {path}: not the output of `plaid-ready plan --json`")
    if doc.get("stack") not in (None, stack):
        raise CompareError(f"{option} {path}: a plan of stack '{doc.get('stack')}', not '{stack}'")
    return doc


#: The base side of a new stack: a plan with nothing in it.
EMPTY_PLAN: Final = {"resources": [], "outputs": {}, "readiness": []}


@dataclass
class Plans:
    base: dict[str, Any]
    base_root: str | None
    head: dict[str, Any]
    head_root: str | None
    #: The base revision has no such stack: every resource is a create.
    new_stack: bool = False


def plans(program_dir: Path, stack: str, base: str, head: str | None = None) -> Plans:
    """Run (or load) both plans. ``head``: a plan saved with ``--json`` instead of planning this checkout."""
    program_dir = program_dir.resolve()
    saved = Path(base)
    with tempfile.TemporaryDirectory(prefix="plaid-ready-compare-") as tmp:
        scratch = Path(tmp)
        head_doc: dict[str, Any] | None = _load_saved(Path(head), stack, "--head") if head is not None else None
        head_root = None if head is not None else str(program_dir)
        if saved.is_file():
            base_doc = _load_saved(saved, stack)
            if head_doc is None:
                head_doc = _finish_plan(_start_plan(HEAD_LABEL, program_dir, stack, scratch), stack)
            return Plans(base_doc, None, head_doc, head_root)
        commit, prefix = _resolve_revision(program_dir, base)
        base_dir = scratch / "base"
        _materialise(program_dir, commit, prefix, base_dir)
        if not _has_stack(base_dir, stack):
            if head_doc is None:
                head_doc = _finish_plan(_start_plan(HEAD_LABEL, program_dir, stack, scratch), stack)
            return Plans({**EMPTY_PLAN, "stack": stack}, None, head_doc, head_root, new_stack=True)
        warm = _seed_build_cache(program_dir, base_dir)
        head_run = _start_plan(HEAD_LABEL, program_dir, stack, scratch) if head_doc is None else None
        if head_run is not None and not warm:  # build the package once, in the head's run, then copy it
            head_doc = _finish_plan(head_run, stack)
            _seed_build_cache(program_dir, base_dir)
            head_run = None
        base_run = _start_plan(base, base_dir, stack, scratch)
        try:
            base_doc = _finish_plan(base_run, stack)
        except CompareError:
            if head_run is not None and head_run.proc.poll() is None:  # the comparison is off: stop the head
                head_run.proc.kill()
                head_run.proc.wait()
            raise
        if head_run is not None:
            head_doc = _finish_plan(head_run, stack)
        assert head_doc is not None
        return Plans(base_doc, str(base_dir), head_doc, head_root)


# --- the comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    """A readiness rule whose status changed. ``mandatory`` False: an advisory rule (it never fails the plan)."""

    id: str
    before: str
    after: str
    requirement: str
    newly_failing: bool
    mandatory: bool = True

    @property
    def after_label(self) -> str:
        label = self.after.upper() if self.after == "fail" else self.after
        return label if self.mandatory else f"{label} (advisory)"


@dataclass
class Comparison:
    stack: str
    base_label: str
    head_label: str
    impact: list[Impact]
    readiness: list[RuleChange]
    resources: list[ResourceChange]
    outputs: list[Change]
    new_stack: bool = False

    @property
    def breaking(self) -> list[Impact]:
        return [x for x in self.impact if x.severity == BREAKING]

    @property
    def newly_failing(self) -> list[str]:
        return [r.id for r in self.readiness if r.newly_failing]

    @property
    def unchanged(self) -> bool:
        return not (self.impact or self.readiness or self.resources or self.outputs)

    @property
    def exit_code(self) -> int:
        if self.newly_failing:
            return EXIT_NOT_READY
        if self.breaking:
            return EXIT_PLAID_BREAKING
        return EXIT_OK


def compare_plans(base: Plan, head: Plan, stack: str, base_label: str, head_label: str = HEAD_LABEL,
                  new_stack: bool = False) -> Comparison:
    """The comparison of two plans. ``new_stack``: the base has no such stack (an empty plan): nothing has been
    given to Plaid yet, so nothing can break it; the readiness rows are the new stack's verdict."""
    changes = diff_resources(base, head)
    readiness = []
    for rid in [*base.rules, *(r for r in head.rules if r not in base.rules)]:
        old, new = base.rules.get(rid), head.rules.get(rid)
        a = old.status if old else "not evaluated"
        b = new.status if new else "not evaluated"
        if a != b:
            rule = new or old
            assert rule is not None
            newly = bool(new and new.failing and not (old and old.failing))
            readiness.append(RuleChange(rid, a, b, rule.requirement, newly, rule.mandatory))
    impact = [] if new_stack else plaid_impact(base, head, changes)
    return Comparison(stack, base_label, head_label, impact, readiness, changes, diff_outputs(base, head),
                      new_stack=new_stack)


# --- rendering -----------------------------------------------------------------------------------


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
        name = f"{r.old.name} -> {r.new.name}" if r.renamed else r.name  # type: ignore[union-attr]
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


RENDER: Final = {"text": render_text, "markdown": render_markdown, "json": render_json}


def run(program_dir: Path, stack: str, base: str, fmt: str = "text", head: str | None = None) -> tuple[str, int]:
    """The whole ``plan --compare``: (output, exit code).

    For exit codes 0, 1 and 4 the output is the comparison for stdout; for 2 and 3 it is a one-line error
    for stderr (no traceback, no value from the stack).
    """
    if fmt not in FORMATS:
        return f"--format {fmt}: must be one of {', '.join(FORMATS)}", EXIT_USAGE
    try:
        comp = comparison(program_dir, stack, base, head)
    except CompareError as exc:
        return str(exc), exc.code
    return RENDER[fmt](comp), comp.exit_code


def comparison(program_dir: Path, stack: str, base: str, head: str | None = None) -> Comparison:
    """Plan both sides and compare them (raises CompareError); render with RENDER[fmt]. ``head``: a saved plan
    of the head side (``--head FILE``) instead of planning ``program_dir``."""
    both = plans(program_dir, stack, base, head)
    try:
        base_plan = read_plan(both.base, both.base_root)
    except PlanFormatError as exc:
        raise CompareError(f"--compare {base}: {exc}") from None
    try:
        head_plan = read_plan(both.head, both.head_root)
    except PlanFormatError as exc:
        raise CompareError(f"--head {head}: {exc}" if head else f"the plan at {HEAD_LABEL}: {exc}") from None
    head_label = f"plan {Path(head).name} (--head)" if head else HEAD_LABEL
    return compare_plans(base_plan, head_plan, stack, base, head_label, new_stack=both.new_stack)
