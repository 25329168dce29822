"""``plaid-ready plan --all`` and ``plan --stacks GLOB``: the command line of the fleet plan (readiness/fleet/plan.py).

Exit codes as ``plan``'s: 0 every stack ready and no fleet rule fails, 1 otherwise (a stack not ready, one that
could not be planned, or a fleet rule failing), 2 a usage error before any stack was planned (no stack matches,
``--jobs`` out of range, options that do not go with a fleet).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from readiness.exit_codes import ExitCode

#: The most workers ``--jobs`` takes (each is one interpreter holding Pulumi and the providers' SDKs).
MAX_JOBS = 64


def _refuse(args: argparse.Namespace, problem: str) -> ExitCode:
    if args.json:
        print(json.dumps({"schemaVersion": 1, "kind": "offline-plan-errors", "errors": [problem]}, indent=2,
                         sort_keys=True))
    else:
        print(f"plaid-ready plan: {problem}", file=sys.stderr)
    return ExitCode.USAGE


def fleet_plan(args: argparse.Namespace, program_dir: Path) -> ExitCode:
    """``plan --all`` / ``plan --stacks GLOB``."""
    from readiness.fleet.plan import FleetReport, default_jobs, plan_stacks, select_stacks
    from readiness.plan import UsageError, available_stacks
    from readiness.plan.stack import _project

    if args.compare is not None or args.head is not None or args.format is not None:
        return _refuse(args, "--compare, --head and --format go with one --stack (a fleet comparison is not built "
                             "yet: compare each changed stack with --stack NAME --compare BASE)")
    if args.summary:
        return _refuse(args, "--summary goes with one --stack (a fleet plan shows its summary table by default; "
                             "--details adds each stack's summary)")
    jobs = default_jobs() if args.jobs is None else args.jobs
    if not 1 <= jobs <= MAX_JOBS:
        return _refuse(args, f"--jobs must be between 1 and {MAX_JOBS} (default: the number of CPUs)")
    try:
        project, _ = _project(program_dir)
        available = available_stacks(program_dir)
    except UsageError as exc:
        return _refuse(args, str(exc))
    pattern = None if args.all else args.stacks
    stacks = select_stacks(available, pattern)
    if not stacks:
        known = ", ".join(available) or "none"
        what = "the stack directory has no stack files" if pattern is None else f"no stack matches '{pattern}'"
        return _refuse(args, f"{what}; available stacks: {known}")
    outcomes = plan_stacks(program_dir, stacks, jobs, details=args.details)
    report = FleetReport.build(project, outcomes)
    if args.json:
        print(json.dumps(report.to_json(details=args.details), indent=2, sort_keys=True))
    else:
        print(report.to_text(details=args.details))
    return ExitCode.OK if report.ready else ExitCode.NOT_READY
