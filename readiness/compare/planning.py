"""The two plans of ``plan --compare``: the base revision materialised with ``git archive`` and planned in a
subprocess with an allow-listed environment (it is untrusted code), the head planned alike or read from a saved
``plan --json`` (``--head``). See readiness/compare/__init__.py for the whole design."""

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

from readiness.exit_codes import ExitCode

#: Upper bound for one plan subprocess (a first run builds the Lambda package: pip downloads).
PLAN_TIMEOUT_SECONDS: Final = 600
HEAD_LABEL: Final = "working tree"

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

    def __init__(self, message: str, code: int = ExitCode.USAGE) -> None:
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
    from readiness.plan.stack import UsageError, available_stacks

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
                           ExitCode.INTERNAL) from None
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
    if code in (ExitCode.OK, ExitCode.NOT_READY) and isinstance(doc, dict) and "resources" in doc:
        return doc
    problems = [str(e) for e in doc.get("errors", [])] if isinstance(doc, dict) else []
    lines = problems or [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    detail = "; ".join(ln.removeprefix("plaid-ready plan: ").removeprefix("- ") for ln in lines[:6]) or "no output"
    if code == ExitCode.USAGE:
        raise CompareError(f"stack '{stack}' at {run.label}: {detail}")
    raise CompareError(f"the plan at {run.label} failed (exit {code}): {detail}", ExitCode.INTERNAL)


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
EMPTY_PLAN: Final[dict[str, Any]] = {"resources": [], "outputs": {}, "readiness": []}


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
