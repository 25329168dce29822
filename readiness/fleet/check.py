"""``plaid-ready check --all``: the live check of every stack that has an outputs file
(``stacks/<stack>.outputs.json``, written by ``pulumi stack output --json``), in parallel, one table.

Each stack is checked by its own ``plaid-ready check --outputs FILE --json`` process (the check holds per-run state
and its output is redacted per run), at most ``--jobs`` at once: the non-interactive stages only (discovery, keys,
the token endpoint's refusals, the customers API without a token). The login needs Plaid's client secret of each
stack: check those one by one with ``check --stack NAME``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from readiness.check.output import terminal_safe
from readiness.exit_codes import ExitCode

SUFFIX = ".outputs.json"
#: Upper bound of one stack's check (its own --timeout bounds each request).
CHECK_TIMEOUT_SECONDS = 600


@dataclass
class StackCheck:
    stack: str
    verdict: str  # the check's verdict, or "error"
    failed: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""


def outputs_files(stack_dir: Path) -> dict[str, Path]:
    """The stacks with an outputs file in ``stack_dir``, by name."""
    return {p.name[: -len(SUFFIX)]: p for p in sorted(stack_dir.glob(f"*{SUFFIX}")) if p.is_file()}


def check_one(stack: str, outputs: Path, extra: Sequence[str]) -> StackCheck:
    argv = [sys.executable, "-m", "readiness.cli", "check", "--outputs", str(outputs), "--json", *extra]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False,  # noqa: S603 - fixed argv
                              timeout=CHECK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return StackCheck(stack, "error", error=f"the check took longer than {CHECK_TIMEOUT_SECONDS} s")
    if done.returncode == ExitCode.USAGE:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return StackCheck(stack, "error", error=(lines[-1] if lines else "usage error").removeprefix(
            "plaid-ready check: error: "))
    try:
        doc = json.loads(done.stdout)
        return StackCheck(stack, str(doc["verdict"]), [c["id"] for c in doc["checks"] if c["status"] == "fail"],
                          dict(doc["counts"]))
    except (ValueError, KeyError, TypeError):
        return StackCheck(stack, "error", error=f"the check exited {done.returncode} without its report (a bug: "
                                                "run check --stack alone)")


def check_all(stacks: dict[str, Path], jobs: int, extra: Sequence[str]) -> list[StackCheck]:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda item: check_one(item[0], item[1], extra), stacks.items()))


def to_text(results: Sequence[StackCheck]) -> str:
    bad = [r for r in results if r.verdict in ("not ready", "error")]
    lines = [f"Live check of {len(results)} stacks: {len(results) - len(bad)} without a failing check, "
             f"{len(bad)} not ready or not checked", ""]
    header = ("STACK", "VERDICT", "FAILED CHECKS / ERROR")
    # The child's stderr and report are printed only through the check's own escaping (terminal_safe).
    rows = [(r.stack, terminal_safe(r.verdict), terminal_safe(", ".join(r.failed) or r.error or "-"))
            for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    lines += ["  ".join((row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2])) for row in [header, *rows]]
    lines += ["", "Only the non-interactive stages ran (no login): check each stack's login with "
                  "plaid-ready check --stack NAME --client-secret-env NAME (docs/check.md)."]
    return "\n".join(lines)


def exit_code(results: Sequence[StackCheck]) -> ExitCode:
    return ExitCode.FAILED if any(r.verdict in ("not ready", "error") for r in results) else ExitCode.OK
