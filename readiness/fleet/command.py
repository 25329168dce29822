"""The fleet's command lines: ``plaid-ready plan --all`` / ``plan --stacks GLOB`` (readiness/fleet/plan.py) and
``plaid-ready fleet up|preview`` (readiness/fleet/ops.py).

Exit codes as ``plan``'s: 0 every stack ready and no fleet rule fails, 1 otherwise (a stack not ready, one that
could not be planned, or a fleet rule failing), 2 a usage error before any stack was planned (no stack matches,
``--jobs`` out of range, options that do not go with a fleet).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from readiness.exit_codes import ExitCode

if TYPE_CHECKING:
    from readiness.fleet.plan import FleetReport

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

    if args.head is not None:
        return _refuse(args, "--head goes with one --stack (a fleet comparison plans both sides itself)")
    if args.format is not None and args.compare is None:
        return _refuse(args, "--format goes with --compare")
    if args.compare is not None and (args.json or args.format == "json" or args.summary or args.details):
        return _refuse(args, "a fleet comparison (--all/--stacks with --compare) prints --format text or markdown; "
                             "--json, --summary and --details go without --compare")
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
    if args.compare is not None:
        from readiness.fleet.compare import FleetCompareError
        from readiness.fleet.compare import run as compare_fleet

        _, stack_dir = _project(program_dir)
        try:
            text, code = compare_fleet(program_dir, stack_dir.relative_to(program_dir).as_posix(), stacks,
                                       args.compare, args.format or "text")
        except FleetCompareError as exc:
            return _refuse(args, str(exc))
        print(text)
        return code
    outcomes = plan_stacks(program_dir, stacks, jobs, details=args.details)
    report = FleetReport.build(project, outcomes)
    if args.json:
        print(json.dumps(report.to_json(details=args.details), indent=2, sort_keys=True))
    else:
        print(report.to_text(details=args.details))
    return ExitCode.OK if report.ready else ExitCode.NOT_READY


def fleet_preflight(program_dir: Path, stacks: list[str], project: str) -> FleetReport:
    """Every stack planned offline in the worker pool and judged together (the fleet rules): what ``fleet up``
    checks before it starts anything."""
    from readiness.fleet.plan import FleetReport, default_jobs, plan_stacks

    return FleetReport.build(project, plan_stacks(program_dir, stacks, default_jobs()))


def fleet_ops(args: argparse.Namespace, program_dir: Path) -> ExitCode:
    """``fleet up|preview``: the Automation API over the selected stacks (readiness/fleet/ops.py)."""
    from readiness.fleet import ops
    from readiness.fleet.plan import select_stacks
    from readiness.plan import UsageError, available_stacks, load_stack_config
    from readiness.plan.stack import _project

    def refuse(problems: list[str]) -> ExitCode:
        for problem in problems:
            print(f"plaid-ready fleet: {problem}", file=sys.stderr)
        return ExitCode.USAGE

    if not args.all and args.stacks is None:
        return refuse(["say which stacks: --all, or --stacks GLOB"])
    if not 1 <= args.concurrency <= MAX_JOBS:
        return refuse([f"--concurrency must be between 1 and {MAX_JOBS}"])
    try:
        project, _ = _project(program_dir)
        available = available_stacks(program_dir)
    except UsageError as exc:
        return refuse([str(exc)])
    names = select_stacks(available, None if args.all else args.stacks)
    if not names:
        return refuse([f"no stack matches '{args.stacks}'" if args.stacks else "the stack directory has no stacks"])
    stacks, problems = [], []
    for name in names:
        try:
            cfg = load_stack_config(program_dir, name)
        except Exception as exc:  # noqa: BLE001 - UsageError or SettingsError (duplicate keys): one line each
            problems.append(f"stack '{name}': {exc}")
            continue
        stacks.append((name, cfg.config.get(f"{project}:environment", "")))
    if problems:
        return refuse([*problems, "fix these stack files first (plaid-ready plan --all shows every problem)"])
    if shutil.which("pulumi") is None:
        return refuse(["the Pulumi CLI is not on PATH: fleet up/preview drive it through Pulumi's Automation API; "
                       "install it (https://www.pulumi.com/docs/iac/download-install/) and log in to your backend"])
    factory = ops.automation_factory(program_dir)
    report = fleet_preflight(program_dir, names, project)
    collisions = [rule for rule, found in report.collisions.items() if found]
    if collisions:
        print(report.to_text())
        print(f"\nplaid-ready fleet: not started: fleet rules fail ({', '.join(collisions)}); fix the stacks first",
              file=sys.stderr)
        return ExitCode.NOT_READY
    # Each stack's own verdict is read right before its operation: the first not ready stops the fleet there.
    planned = {o.stack: o for o in report.outcomes}
    run = ops.run_fleet(stacks, args.operation, factory, planned.__getitem__, args.concurrency)
    print(run.to_text())
    return ExitCode.OK if run.ok else ExitCode.NOT_READY



def new_stack(args: argparse.Namespace, program_dir: Path) -> ExitCode:
    """``new-stack NAME --idp ...`` or ``new-stack --from-csv FILE`` (readiness/fleet/new_stack.py)."""
    from readiness.fleet.new_stack import NewStackError, Request, read_csv, write

    def refuse(problems: list[str]) -> ExitCode:
        for problem in problems:
            print(f"plaid-ready new-stack: {problem}", file=sys.stderr)
        return ExitCode.USAGE

    single = (args.name, args.idp, args.institution, args.institution_name)
    try:
        if args.from_csv is not None:
            if any(v is not None for v in single):
                return refuse(["--from-csv FILE takes every stack from the file: give no NAME, --idp, --institution "
                               "or --institution-name"])
            requests = read_csv(args.from_csv)
        else:
            missing = [flag for flag, v in zip(("NAME", "--idp", "--institution", "--institution-name"), single,
                                               strict=True) if v is None]
            if missing:
                return refuse([f"missing {', '.join(missing)} (or give --from-csv FILE)"])
            requests = [Request(args.name, args.idp, args.institution, args.institution_name,
                                args.environment, args.region)]
        written = write(program_dir, requests, args.from_example)
    except NewStackError as exc:
        return refuse(exc.problems)
    for path in written:
        print(f"wrote {path.relative_to(program_dir)}: fill every FILL-IN: value, then "
              f"plaid-ready plan --stack {path.name[len('Pulumi.'):-len('.yaml')]}")
    return ExitCode.OK


#: ``check`` options that go with one stack only (the login, or naming what to check).
_ONE_STACK_CHECK = ("stack", "outputs", "discovery_url", "customers_url", "client_id", "client_secret_env",
                    "secret_arn", "login_command")


def fleet_check(args: argparse.Namespace, program_dir: Path) -> ExitCode:
    """``check --all``: every stack with an outputs file, in parallel (readiness/fleet/check.py)."""
    from readiness.fleet import check
    from readiness.plan import UsageError
    from readiness.plan.stack import _project

    def refuse(problem: str) -> ExitCode:
        print(f"plaid-ready check: error: {problem}", file=sys.stderr)
        return ExitCode.USAGE

    given = [f"--{name.replace('_', '-')}" for name in _ONE_STACK_CHECK if getattr(args, name, None) is not None]
    if given:
        return refuse(f"check --all checks every stack from its outputs file without a login: {', '.join(given)} "
                      "go with one stack (check --stack NAME)")
    if args.json:
        return refuse("check --all prints one table; --json goes with one stack")
    jobs = args.jobs if args.jobs is not None else 4
    if not 1 <= jobs <= MAX_JOBS:
        return refuse(f"--jobs must be between 1 and {MAX_JOBS}")
    try:
        _, stack_dir = _project(program_dir)
    except UsageError as exc:
        return refuse(str(exc))
    stacks = check.outputs_files(stack_dir)
    if not stacks:
        return refuse(f"no outputs files in {stack_dir} (write each with `pulumi stack output --json -s <stack> > "
                      f"{stack_dir.name}/<stack>{check.SUFFIX}`)")
    extra = ["--timeout", str(args.timeout)] + (["--cacert", str(args.cacert)] if args.cacert is not None else [])
    results = check.check_all(stacks, jobs, extra)
    print(check.to_text(results))
    return check.exit_code(results)
