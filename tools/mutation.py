"""`make mutation`: mutation testing (mutmut 3) of the security-critical modules, one group at a time.

Usage: python tools/mutation.py [--only PATTERN ...] [GROUP ...]   (no group: every group in tools/mutation.toml)
       --only 'components.idps.auth0.rules.*' tests only the mutants whose names match (fnmatch), e.g. one module.

Each group gets a work directory, .mutation/<group>/, holding symlinks to the repository's top-level entries
and a setup.cfg naming the group's files to mutate and the tests that cover them; mutmut runs there and keeps
its results in .mutation/<group>/mutants/. Later runs are incremental: mutmut re-tests only the functions that
changed, and this script re-tests the mutants that survived last time (the tests may have changed since).

Prints killed/total per module and lists every surviving mutant with its diff. Exit status: 0 when the run
completed (whatever the score), 1 when a group could not run, 2 for a bad argument.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tools" / "mutation.toml"
WORK = ROOT / ".mutation"
#: Packages copied into mutmut's tree (importable there); only the group's files are mutated.
PACKAGES = ("lambdas", "readiness", "components", "plaid_contract", "policy")
#: Top-level entries never linked into a group's directory.
SKIP = {".git", ".venv", ".mutation", "mutants", ".hypothesis", ".pytest_cache", ".ruff_cache", ".build",
        "__pycache__", "setup.cfg"}
#: mutmut's statuses counted as detected: a test failed, or the tests never finished (pytest-timeout, CPU cap).
DETECTED = {"killed", "timeout", "segfault"}
JOBS = os.environ.get("MUTATION_JOBS", "1")


@dataclass(frozen=True)
class Group:
    name: str
    about: str
    mutate: list[str]
    tests: list[str]
    skip: list[str]
    isolation: str
    cache_programs: bool


def load_groups() -> dict[str, Group]:
    data = tomllib.loads(CONFIG.read_text())
    prose = data.get("prose", {}).get("patterns", [])
    groups = {}
    for name, g in data["groups"].items():
        mutate = sorted({str(Path(p).relative_to(ROOT)) for pat in g["mutate"] for p in glob.glob(str(ROOT / pat))})
        tests = sorted({str(Path(p).relative_to(ROOT)) for pat in g["tests"] for p in glob.glob(str(ROOT / pat))})
        groups[name] = Group(name, g.get("about", ""), mutate, tests, prose if g.get("skip_prose") else [],
                             g.get("isolation", "fork"), bool(g.get("cache_programs")))
    return groups


def _lines(key: str, values: list[str]) -> str:
    return f"{key} =\n" + "".join(f"    {v}\n" for v in values)


def pytest_args(group: Group) -> list[str]:
    """The arguments mutmut adds to every pytest run of the group (setup.cfg's ``pytest_add_cli_args``)."""
    return ["-p", "no:cacheprovider", "--capture=no"] + (["-p", "tools.mutation_cache"] if group.cache_programs else [])


def prepare(group: Group) -> Path:
    """The group's work directory: symlinks to the repository's entries and mutmut's setup.cfg."""
    work = WORK / group.name
    work.mkdir(parents=True, exist_ok=True)
    entries = [e for e in ROOT.iterdir() if e.name not in SKIP and not e.name.endswith(".egg-info")]
    for entry in entries:
        link = work / entry.name
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(entry, work))
    also_copy = sorted(e.name for e in entries if e.name not in PACKAGES and e.name != "tests")
    cfg = ("# Written by tools/mutation.py from tools/mutation.toml; do not edit.\n[mutmut]\n"
           + _lines("source_paths", list(PACKAGES)) + _lines("only_mutate", group.mutate)
           + _lines("also_copy", also_copy) + _lines("pytest_add_cli_args_test_selection", group.tests)
           + (_lines("do_not_mutate_patterns", group.skip) if group.skip else "")
           # --capture=no: mutmut runs pytest several times in one process; a Powertools Logger created during
           # one session would keep writing to that session's closed capture file. Tests use capfd where needed.
           + _lines("pytest_add_cli_args", pytest_args(group))
           + f"process_isolation = {group.isolation}\n"
           # The work directory sits inside the repository: git would answer for the repository, not for it.
           + "use_git_change_detection = false\n")
    target = work / "setup.cfg"
    if not target.exists() or target.read_text() != cfg:
        # mutmut's incremental mode never mutates a file it already copied unmutated into mutants/ (it counts it
        # "unmodified"): a file added to the group would silently stay unmutated. Start the group over instead.
        if target.exists() and _only_mutate(target.read_text()) != group.mutate:
            shutil.rmtree(work / "mutants", ignore_errors=True)
        target.write_text(cfg)
    return work


def _only_mutate(cfg: str) -> list[str]:
    """The files a group's setup.cfg names in ``only_mutate``."""
    lines = cfg.splitlines()
    at = lines.index("only_mutate =") + 1 if "only_mutate =" in lines else len(lines)
    files = []
    for line in lines[at:]:
        if not line.startswith("    "):
            break
        files.append(line.strip())
    return files


_RESULT = re.compile(r"^\s+(\S+): (.+)$")


def mutmut(work: Path, *args: str, capture_output: bool = False, env: Mapping[str, str] | None = None,
           stdout: IO[str] | None = None, stderr: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run this venv's mutmut in a group's directory (arguments are ours and mutmut's own mutant names)."""
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, text=True, check=False,  # noqa: S603
                          capture_output=capture_output, env=env, stdout=stdout, stderr=stderr)


def results(work: Path) -> dict[str, str]:
    """mutant name -> status, from `mutmut results --all true`."""
    if not (work / "mutants").is_dir():
        return {}
    out = mutmut(work, "results", "--all", "true", capture_output=True)
    return {m[1]: m[2] for line in out.stdout.splitlines() if (m := _RESULT.match(line))}


def module_of(name: str) -> str:
    """``components.idps.auth0.rules.x__rotation__mutmut_3`` -> ``components.idps.auth0.rules`` (methods:
    ``.xǁClassǁname``)."""
    parts = name.split(".")
    cut = next((i for i in range(len(parts) - 1, -1, -1) if parts[i].startswith(("x_", "x\u01c1"))), len(parts) - 1)
    return ".".join(parts[:cut])


def diff(work: Path, name: str) -> list[str]:
    out = mutmut(work, "show", name, capture_output=True).stdout
    return [line for line in out.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def run(group: Group, only: list[str]) -> bool:
    print(f"\n=== {group.name}: {group.about}")
    print(f"    mutating {', '.join(group.mutate)}")
    print(f"    with {', '.join(group.tests)}")
    if not group.mutate or not group.tests:
        print("    nothing to mutate or no tests: check tools/mutation.toml", file=sys.stderr)
        return False
    work = prepare(group)
    before = results(work)
    recheck = sorted(n for n, s in before.items() if s in ("survived", "no tests") and selected(n, only))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if group.cache_programs:  # tools/mutation_cache.py: the program's declarations, fresh for each run
        cache = work / "program-cache"
        shutil.rmtree(cache, ignore_errors=True)
        env["MUTATION_PROGRAM_CACHE"] = str(cache)
    log = work / "mutmut.log"
    with log.open("w") as out:
        if mutmut(work, "run", "--max-children", JOBS, *only, env=env, stdout=out,
                  stderr=subprocess.STDOUT).returncode:
            print(f"    mutmut failed; its output is in {log.relative_to(ROOT)}", file=sys.stderr)
            if CLEAN_TEST_FAILED in log.read_text(errors="replace"):
                clean_test_again(group, work, env, out)
            return False
        if recheck:  # cached survivors: the tests may kill them now
            print(f"    re-testing {len(recheck)} mutants that survived the last run")
            if mutmut(work, "run", "--max-children", JOBS, *recheck, env=env, stdout=out,
                      stderr=subprocess.STDOUT).returncode:
                print(f"    mutmut failed; its output is in {log.relative_to(ROOT)}", file=sys.stderr)
                return False
    report(work, {n: s for n, s in results(work).items() if selected(n, only)})
    return True


#: mutmut's message when the tests fail on the unmutated code. Under a fork server mutmut runs them in a forked child
#: whose output it catches in memory (its CatchOutput); that memory goes with the child: the message comes alone.
CLEAN_TEST_FAILED = "Failed to run clean test"


def clean_test_again(group: Group, work: Path, env: Mapping[str, str], out: IO[str]) -> None:
    """Run mutmut's clean test again as mutmut runs it (its pytest arguments, in its copy of the tree, no mutant
    active), with pytest's output appended to the log, so that the test that failed is named."""
    args = (["--rootdir=.", "--tb=native", "-x", "-q", "-p", "no:randomly", "-p", "no:random-order"]
            + group.tests + pytest_args(group))
    out.write(f"\n--- {CLEAN_TEST_FAILED}: the same tests again, as mutmut ran them (in mutants/):\n"
              f"python -m pytest {' '.join(args)}\n")
    out.flush()
    again = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=work / "mutants", text=True,  # noqa: S603
                           check=False, env={**env, "MUTANT_UNDER_TEST": ""}, stdout=out, stderr=subprocess.STDOUT)
    print(f"    the clean test (the tests on the unmutated code) failed; run again, pytest exited {again.returncode}"
          + (": the failure is in the log" if again.returncode else
             " this time (a test that fails only sometimes, e.g. under load?): the first run's output is lost"),
          file=sys.stderr)


def selected(name: str, only: list[str]) -> bool:
    return not only or any(fnmatch.fnmatch(name, pattern) for pattern in only)


def report(work: Path, status: dict[str, str]) -> None:
    by_module: dict[str, Counter[str]] = {}
    for name, s in status.items():
        by_module.setdefault(module_of(name), Counter())[s] += 1
    print(f"    {'module':<44} {'killed/total':>12} {'score':>6}  other")
    for module, counts in sorted(by_module.items()):
        total, killed = sum(counts.values()), sum(counts[s] for s in DETECTED)
        other = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in DETECTED)
        print(f"    {module:<44} {f'{killed}/{total}':>12} {100 * killed / total:5.1f}%  {other}")
    survivors = sorted(n for n, s in status.items() if s not in DETECTED)
    if survivors:
        print(f"    survivors ({len(survivors)}):")
    for name in survivors:
        print(f"      {name} [{status[name]}]")
        for line in diff(work, name):
            print(f"          {line.strip()[:150]}")


def main(argv: list[str]) -> int:
    groups = load_groups()
    only: list[str] = []
    while "--only" in argv:
        at = argv.index("--only")
        if at + 1 >= len(argv):
            print("--only needs a pattern, e.g. --only 'readiness.rules.api.*'", file=sys.stderr)
            return 2
        only.append(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    chosen = argv or list(groups)
    unknown = [g for g in chosen if g not in groups]
    if unknown:
        print(f"unknown group {', '.join(unknown)}; choose from {', '.join(groups)} (tools/mutation.toml)",
              file=sys.stderr)
        return 2
    ok = [run(groups[g], only) for g in chosen]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
