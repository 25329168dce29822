"""``plaid-ready plan --compare``: both plans made (or read), compared and rendered, with the exit code."""

from __future__ import annotations

from pathlib import Path

from readiness.compare.changes import Comparison, compare_plans
from readiness.compare.model import PlanFormatError, read_plan
from readiness.compare.planning import HEAD_LABEL, CompareError, plans
from readiness.compare.render import FORMATS, RENDER
from readiness.exit_codes import ExitCode


def run(program_dir: Path, stack: str, base: str, fmt: str = "text", head: str | None = None) -> tuple[str, ExitCode]:
    """The whole ``plan --compare``: (output, exit code).

    For exit codes 0, 1 and 4 the output is the comparison for stdout; for 2 and 3 it is a one-line error
    for stderr (no traceback, no value from the stack).
    """
    if fmt not in FORMATS:
        return f"--format {fmt}: must be one of {', '.join(FORMATS)}", ExitCode.USAGE
    try:
        comp = comparison(program_dir, stack, base, head)
    except CompareError as exc:
        return str(exc), ExitCode(exc.code)
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
