"""``plaid-ready plan --all --compare BASE`` (or ``--stacks GLOB --compare BASE``): compare only the stacks whose
inputs changed since the git revision BASE, one section per stack (docs/fleet.md, docs/review.md).

Which stacks: the files changed between BASE and the working tree (``git diff --name-only --relative BASE``, plus
untracked files). A changed stack file selects its stack. A change anywhere else that the program or the rules
read (components, lambdas, plaid_contract, readiness, ``__main__.py``, ``Pulumi.yaml``, the locks) is shared code:
every stack is compared. Documentation, tests, benchmarks and CI files select none. A stack file deleted since
BASE is listed as removed (there is no head to plan). Each selected stack is compared exactly as
``plan --stack NAME --compare BASE`` compares it (readiness/compare/), one after another.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from readiness.exit_codes import ExitCode

#: Paths (relative to the project) whose change selects no stack: they are not inputs of any plan.
NOT_INPUTS = ("docs/", "tests/", "benchmarks/", ".github/", "tools/", "LICENSE")
#: The most severe outcome wins: a crash, a usage error, a rule newly failing, a Plaid-breaking change, nothing.
SEVERITY = (ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.NOT_READY, ExitCode.PLAID_BREAKING, ExitCode.OK)


class FleetCompareError(Exception):
    """The selection cannot be made (exit 2): not a git revision, git missing."""


@dataclass
class Selection:
    stacks: list[str]
    #: Why: "shared code changed: <first path>" or "stack files changed".
    reason: str
    removed: list[str]


def _git(program_dir: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(program_dir), *args],  # noqa: S603, S607 - fixed argv
                              capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        raise FleetCompareError("--compare with --all/--stacks needs git (it selects the stacks whose inputs "
                                "changed)") from None
    if done.returncode != 0:
        raise FleetCompareError(f"git {args[0]} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return done.stdout


def changed_files(program_dir: Path, base: str) -> list[str]:
    """Files (relative to the project) that differ between ``base`` and the working tree, untracked included."""
    if base.startswith("-"):
        raise FleetCompareError(f"--compare {base}: not a git revision")
    try:
        _git(program_dir, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except FleetCompareError:
        raise FleetCompareError(f"--compare {base}: not a git revision of this repository (with --all or --stacks "
                                "BASE must be a revision, e.g. origin/main; a saved plan file compares one "
                                "--stack)") from None
    diff = _git(program_dir, "diff", "--name-only", "--relative", base, "--", ".")
    untracked = _git(program_dir, "ls-files", "--others", "--exclude-standard", "--", ".")
    return sorted({line.strip() for line in (diff + untracked).splitlines() if line.strip()})


def select(files: Sequence[str], stack_dir: str, selected: Sequence[str]) -> Selection:
    """Which of ``selected`` (the stacks --all/--stacks names) the changed ``files`` make worth comparing."""
    stack_dir = stack_dir.strip("/") or "."
    changed_stacks: set[str] = set()
    for name in files:
        path = PurePosixPath(name)
        parent = str(path.parent)
        if parent == stack_dir and path.name.startswith("Pulumi.") and path.suffix in (".yaml", ".yml"):
            changed_stacks.add(path.name[len("Pulumi."):-len(path.suffix)])
            continue
        if parent == stack_dir or name.startswith(NOT_INPUTS) or (path.suffix == ".md" and "/" not in name):
            continue
        return Selection(list(selected), f"shared code changed ({name}): every stack is compared", [])
    chosen = [s for s in selected if s in changed_stacks]
    removed = sorted(s for s in changed_stacks if s not in selected)
    return Selection(chosen, "stack files changed" if chosen else "no stack's inputs changed", removed)


def run(program_dir: Path, stack_dir: str, selected: Sequence[str], base: str, fmt: str) -> tuple[str, ExitCode]:
    """The fleet comparison's output and exit code (the most severe of the stacks'). Raises FleetCompareError
    when the stacks cannot be selected."""
    from readiness.compare import run as compare_one

    choice = select(changed_files(program_dir, base), stack_dir, selected)
    removed = [r for r in choice.removed if not (program_dir / stack_dir / f"Pulumi.{r}.yaml").exists()]
    md = fmt == "markdown"
    lines = [f"{'## ' if md else ''}Fleet comparison against {base}: {len(choice.stacks)} of {len(selected)} "
             f"stacks compared ({choice.reason})"]
    if removed:
        lines.append(f"Removed since {base} (not compared: no head to plan): {', '.join(removed)}")
    codes = [ExitCode.OK]
    results: list[tuple[str, str, ExitCode]] = []
    for stack in choice.stacks:
        text, code = compare_one(program_dir, stack, base, "markdown" if md else "text")
        results.append((stack, text, code))
        codes.append(code)
    if results:
        lines += ["", "| stack | result |", "|---|---|"] if md else ["", "STACK  RESULT"]
        for stack, _, code in results:
            lines.append(f"| `{stack}` | {_label(code)} |" if md else f"{stack}  {_label(code)}")
        for stack, text, code in results:
            lines += ["", f"### Stack `{stack}`" if md else f"=== {stack} ===",
                      text if code not in (ExitCode.USAGE, ExitCode.INTERNAL) else f"error: {text}"]
    worst = min(codes, key=SEVERITY.index)
    return "\n".join(lines), worst


def _label(code: ExitCode) -> str:
    return {ExitCode.OK: "no Plaid impact, no rule newly failing", ExitCode.NOT_READY: "a rule newly fails",
            ExitCode.PLAID_BREAKING: "breaks Plaid", ExitCode.USAGE: "error",
            ExitCode.INTERNAL: "a plan crashed"}.get(code, str(int(code)))
