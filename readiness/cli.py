"""The ``plaid-ready`` command: one argparse tree, one subcommand per command package.

    plaid-ready plan --stack NAME [--json|--summary] [--dir PATH]    offline plan + Plaid readiness verdict
                                                           (readiness/plan/)
    plaid-ready plan --all | --stacks GLOB [--jobs N] [--details] [--json]
                                                           a fleet: one table, the fleet rules (readiness/fleet/,
                                                           docs/fleet.md)
    plaid-ready plan --stack NAME --compare BASE [--head FILE] [--format text|markdown|json]
                                                           what a change does to Plaid (readiness/compare/,
                                                           docs/review.md)
    plaid-ready serve-customers --port N [--host H] [--tls-cert FILE --tls-key FILE]
                                                           run the /customers/current Lambda locally
                                                           (lambdas/local_server.py)
    plaid-ready check --discovery-url URL ...              live conformance check (readiness/check/)
    plaid-ready new-stack NAME --idp IDP --institution CODE --institution-name NAME [--from-example] | --from-csv FILE
                                                           a stack file with placeholders (readiness/fleet/new_stack.py)
    plaid-ready fleet up|preview --all|--stacks GLOB [--concurrency N]
                                                           pulumi up/preview over a fleet (readiness/fleet/ops.py)

    plaid-ready --version

Exit codes (readiness/exit_codes.py): 0 ready / ok, 1 a mandatory readiness rule fails (with --compare: newly fails;
check: a check fails), 2 usage, settings or environment error, 3 the program itself failed (a bug: please report
it), 4 (--compare only) a change that breaks Plaid. With ``plan --json`` every outcome is JSON on stdout: the plan,
or ``{"schemaVersion": 1, "errors": [...]}`` with exit 2 (readiness/plan.schema.json).

Usage errors keep each subcommand's own form: ``plan`` prints its usage and ``plaid-ready: error: ...`` (JSON on
stdout with ``--json``); ``check`` one line that never repeats a value given (a value could be a secret);
``serve-customers`` argparse's usual form.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from readiness.check import options as check_options
from readiness.exit_codes import ExitCode

if TYPE_CHECKING:
    from readiness.check.run import Browser

PACKAGE = "plaid-ready-idp"
#: The version of the ``plan --json`` error document (readiness/plan.schema.json; readiness.plan.SCHEMA_VERSION).
PLAN_ERRORS_SCHEMA_VERSION = 1


def version() -> str:
    """The installed package's version (its metadata, i.e. pyproject.toml at install time)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version(PACKAGE)
    except PackageNotFoundError:
        return "unknown (not installed: run make install)"


def _json_errors(errors: list[str]) -> None:
    print(json.dumps({"schemaVersion": PLAN_ERRORS_SCHEMA_VERSION, "kind": "offline-plan-errors", "errors": errors},
                     indent=2, sort_keys=True))


# --- the tree ---------------------------------------------------------------------------------------------------


#: How a parser reports a usage error; each subcommand's parser has its own (set in _parser()).
Reporter = Callable[["_Parser", str], NoReturn]


class _Parser(argparse.ArgumentParser):
    """argparse with this command's usage errors (exit 2, no traceback), in the form of the subcommand at hand."""

    #: The argument strings this parser was last given (a subcommand's own, after its name).
    given: list[str]

    def __init__(self, *args: Any, reporter: Reporter, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self.reporter = reporter
        self.given = []
        self.commands: dict[str, _Parser] = {}

    def parse_known_args(self, args: Iterable[str] | None = None,
                         namespace: Any = None) -> tuple[Any, list[str]]:  # noqa: ANN401 - argparse's overloads
        self.given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self.given, namespace)

    def parse_args(self, args: Iterable[str] | None = None,
                   namespace: Any = None) -> Any:  # noqa: ANN401 - argparse's overloads
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            message = f"unrecognized arguments: {' '.join(extras)}"
            command = self.commands.get(getattr(ns, "command", "") or "")
            if command is not None and command.reporter is not _plan_style:
                command.error(message)  # check and serve-customers: in their own form
            _usage_error(self, message, json_output=bool(getattr(ns, "json", False)))  # plan: the top level's usage
        return ns

    def error(self, message: str) -> NoReturn:
        self.reporter(self, message)


def _usage_error(parser: argparse.ArgumentParser, message: str, *, json_output: bool) -> NoReturn:
    if json_output:
        _json_errors([message])
    else:
        parser.print_usage(sys.stderr)
        print(f"plaid-ready: error: {message}", file=sys.stderr)
    raise SystemExit(ExitCode.USAGE)


def _wants_json(given: Sequence[str]) -> bool:
    """Whether a ``plan`` command line that failed to parse asked for ``--json`` (read with argparse, as ``plan``
    itself reads it, ignoring everything else)."""

    class Lenient(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise ValueError(message)

    reader = Lenient(add_help=False)
    reader.add_argument("--json", action="store_true")
    try:
        return bool(reader.parse_known_args(list(given))[0].json)
    except ValueError:
        return False


def _top_style(parser: _Parser, message: str) -> NoReturn:
    """The top level (no command, an unknown one): its usage and one line on stderr."""
    _usage_error(parser, message, json_output=False)


def _plan_style(parser: _Parser, message: str) -> NoReturn:
    """``plan``: its usage and one line on stderr, or the errors as JSON on stdout with ``--json``."""
    _usage_error(parser, message, json_output=_wants_json(parser.given))


def _check_style(parser: _Parser, message: str) -> NoReturn:
    check_options.usage_error(message)  # a UsageError, printed by main()


def _argparse_style(parser: _Parser, message: str) -> NoReturn:
    argparse.ArgumentParser.error(parser, message)


def _parser() -> _Parser:
    p = _Parser(prog="plaid-ready", description="Plaid Core Exchange readiness for your identity stack.",
                reporter=_top_style)
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", reporter=_plan_style, help="offline plan of a stack with a Plaid-readiness verdict")
    which = plan.add_mutually_exclusive_group()
    which.add_argument("--stack", help="stack name (stacks/Pulumi.<NAME>.yaml), or the path of that file")
    which.add_argument("--all", action="store_true",
                       help="plan every stack of the stack directory as a fleet: one table, the fleet rules "
                            "(docs/fleet.md; --json schema: readiness/fleet/fleet.schema.json)")
    which.add_argument("--stacks", metavar="GLOB", help="plan the stacks whose names match GLOB as a fleet")
    plan.add_argument("--jobs", type=int, default=None, metavar="N",
                      help="with --all/--stacks: worker processes (default: the number of CPUs)")
    plan.add_argument("--details", action="store_true",
                      help="with --all/--stacks: each stack's summary (with --json: each stack's plan document)")
    out = plan.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="machine-readable output (schema: readiness/plan.schema.json)")
    out.add_argument("--summary", action="store_true", help="only the verdict and the readiness table")
    plan.add_argument("--compare", metavar="BASE", default=None,
                      help="compare with a git revision or a file saved with --json: what the change does to "
                           "Plaid (docs/review.md). Planning a revision RUNS ITS PROGRAM CODE (offline, without "
                           "your credentials: an allow-listed environment, its own package cache): compare only "
                           "against revisions you would run")
    plan.add_argument("--head", metavar="FILE", default=None,
                      help="with --compare: the changed side is a plan saved with --json (e.g. a pull request's, "
                           "made elsewhere) instead of this checkout; only this checkout's tools then judge it")
    plan.add_argument("--format", choices=("text", "markdown", "json"), default=None,
                      help="output of --compare (default text; --json means json)")
    plan.add_argument("--dir", type=Path, default=None, help="project directory (default: this checkout)")
    plan.add_argument("--traceback", action="store_true", help="show a traceback if the program fails")
    serve = sub.add_parser("serve-customers", reporter=_argparse_style,
                           help="serve the /customers/current handler on 127.0.0.1 (--port N; HTTPS with "
                                "--tls-cert FILE --tls-key FILE)",
                           description="Serve GET /customers/current on loopback (HTTPS with --tls-cert and "
                                       "--tls-key).")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain) to serve HTTPS with")
    serve.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    check = sub.add_parser("check", reporter=_check_style, allow_abbrev=False,
                           help="live conformance check of a deployed IdP and API, as Plaid's Validator would",
                           description=check_options.DESCRIPTION)
    check_options.add_arguments(check)
    check.add_argument("--all", action="store_true",
                       help="check every stack with an outputs file (stacks/<stack>.outputs.json), in parallel, "
                            "without a login; one table (docs/fleet.md)")
    check.add_argument("--jobs", type=int, default=None, metavar="N", help="with --all: stacks at once (default 4)")
    check.add_argument("--dir", type=Path, default=None, help="with --all: project directory")
    fleet = sub.add_parser("fleet", reporter=_argparse_style,
                           help="pulumi up or preview over many stacks (Automation API): non-prod first, a "
                                "concurrency limit, stop at the first failure (docs/fleet.md)")
    fleet.add_argument("operation", choices=("up", "preview"))
    fleet_which = fleet.add_mutually_exclusive_group()
    fleet_which.add_argument("--all", action="store_true", help="every stack of the stack directory")
    fleet_which.add_argument("--stacks", metavar="GLOB", help="the stacks whose names match GLOB")
    fleet.add_argument("--concurrency", type=int, default=2, metavar="N", help="stacks at once (default 2)")
    fleet.add_argument("--dir", type=Path, default=None, help="project directory (default: this checkout)")
    new = sub.add_parser("new-stack", reporter=_argparse_style,
                         help="write a stack file for an institution, with placeholders to fill (docs/fleet.md)")
    new.add_argument("name", nargs="?", default=None, metavar="NAME", help="the stack (stacks/Pulumi.<NAME>.yaml)")
    new.add_argument("--idp", metavar="IDP", help="one of the registered IdPs (components/idps)")
    new.add_argument("--institution", metavar="CODE", help="the institution code (2-12 lowercase letters/digits)")
    new.add_argument("--institution-name", metavar="NAME", help="the institution's display name")
    new.add_argument("--environment", choices=("dev", "staging", "prod"), default="dev")
    new.add_argument("--region", default="us-east-1", help="aws:region (default us-east-1)")
    new.add_argument("--from-example", action="store_true", help="start from the IdP's example stack's shape")
    new.add_argument("--from-csv", type=Path, metavar="FILE",
                     help="one stack per row: stack, idp, institution, institution_name[, environment, region]")
    new.add_argument("--dir", type=Path, default=None, help="project directory (default: this checkout)")
    p.commands = {"plan": plan, "serve-customers": serve, "check": check, "fleet": fleet, "new-stack": new}
    return p


# --- the commands -----------------------------------------------------------------------------------------------


def _project_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg.resolve()
    here = Path.cwd()
    if (here / "Pulumi.yaml").is_file():
        return here
    return Path(__file__).resolve().parent.parent


def _build_problem(exc: Exception) -> str:
    """A Lambda package that cannot be built, as one line that says how to fix it (lambdas/build/'s messages name
    the fix, except for an interpreter given that is not a CPython 3.13)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = (lines[0] if lines else type(exc).__name__).rstrip(":")
    if "is not a working CPython" in first:
        first += (": point it at a CPython 3.13 (`pyenv install 3.13`, or the OS's python3.13), or unset it to use "
                  "pyenv's or python3.13 on PATH")
    if len(lines) > 1:
        first += " (details: `python -m lambdas.build`)"
    return f"cannot build the Lambda package: {first}"


def _close_event_loops() -> None:
    """After a program that raised under the mock engine: close the event loops Pulumi's runtime left open (the main
    thread's and those its executor threads made). Left to the garbage collector, an unclosed loop can be finalized
    after its own self-pipe socket and print a traceback (``Exception ignored in: BaseEventLoop.__del__ ...
    Invalid file descriptor: -1``), seen now and then after the program raised. A later program in this process
    (tests) gets a fresh loop, as in a new interpreter."""
    import asyncio
    import gc

    closed = False
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_running() and not obj.is_closed():
            obj.close()
            closed = True
    if closed:
        asyncio.set_event_loop_policy(None)


def _plan(args: argparse.Namespace) -> ExitCode:
    from components.settings import SettingsError
    from lambdas.build import BuildError
    from readiness.plan import UsageError, build_report, resolve_stack

    def refuse(errors: list[str], heading: str | None = None) -> ExitCode:
        if args.json:
            _json_errors(errors)
        elif heading is not None:
            print(f"plaid-ready plan: {heading}", file=sys.stderr)
            for problem in errors:
                print(f"  - {problem}", file=sys.stderr)
        else:
            for problem in errors:
                print(f"plaid-ready plan: {problem}", file=sys.stderr)
        return ExitCode.USAGE

    program_dir = _project_dir(args.dir)
    if args.all or args.stacks is not None:
        from readiness.fleet.command import fleet_plan

        return fleet_plan(args, program_dir)
    if args.jobs is not None or args.details:
        return refuse(["--jobs and --details go with --all or --stacks GLOB"])
    if args.compare is not None:
        return _compare(args, program_dir)
    if args.format is not None:
        return refuse(["--format goes with --compare (the plan itself has --json and --summary)"])
    if args.head is not None:
        return refuse(["--head goes with --compare (it names the changed side's saved plan)"])
    stack = args.stack
    try:
        stack = resolve_stack(program_dir, args.stack)
        try:
            report = build_report(program_dir, stack)
        except BaseException:
            _close_event_loops()
            raise
    except UsageError as exc:
        return refuse([str(exc)])
    except SettingsError as exc:
        n = len(exc.problems)
        return refuse(exc.problems, f"stack '{stack}' has invalid settings ({n} problem{'' if n == 1 else 's'}):")
    except BuildError as exc:  # the machine lacks what the build needs (CPython 3.13, PyPI): not a bug
        return refuse([_build_problem(exc)])
    except Exception as exc:  # noqa: BLE001 - a failing program must not dump a traceback by default
        import pulumi

        if isinstance(exc, pulumi.RunError):
            return refuse([str(exc)])
        if args.traceback:
            raise
        print(f"plaid-ready plan: the program failed: {type(exc).__name__}: {exc}\n"
              "  (re-run with --traceback for details; this is a bug, please report it)", file=sys.stderr)
        return ExitCode.INTERNAL
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        print(report.to_text(summary_only=args.summary))
    return ExitCode.NOT_READY if report.failed else ExitCode.OK


def _compare(args: argparse.Namespace, program_dir: Path) -> ExitCode:
    from readiness.compare import run
    from readiness.plan import UsageError, resolve_stack

    fmt = args.format or ("json" if args.json else "text")
    if args.summary or (args.json and fmt != "json"):
        print("plaid-ready plan: --compare takes --format text|markdown|json (or --json), not --summary or "
              "--json with another --format", file=sys.stderr)
        return ExitCode.USAGE
    try:
        stack = resolve_stack(program_dir, args.stack)
    except UsageError as exc:
        print(f"plaid-ready plan: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    text, code = run(program_dir, stack, args.compare, fmt, head=args.head)
    if code in (ExitCode.USAGE, ExitCode.INTERNAL):
        print(f"plaid-ready plan: {text}", file=sys.stderr)
    else:
        print(text)
    return code


def _serve(args: argparse.Namespace) -> ExitCode:
    from lambdas.local_server import ServeError, serve

    try:
        serve(args.host, args.port, args.tls_cert, args.tls_key)
    except ServeError as exc:
        print(f"plaid-ready serve-customers: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.OK


def _check(args: argparse.Namespace, browser: Browser | None) -> ExitCode:
    from readiness.check.command import check

    if args.all:
        from readiness.fleet.command import fleet_check

        return fleet_check(args, _project_dir(args.dir))
    if args.jobs is not None or args.dir is not None:
        print("plaid-ready check: error: --jobs and --dir go with --all", file=sys.stderr)
        return ExitCode.USAGE

    return check(args, browser)


def main(argv: Sequence[str] | None = None, *, browser: Browser | None = None) -> int:
    """``plaid-ready``. ``browser`` drives ``check``'s login in tests (``--login-command`` does for automation)."""
    # Pulumi's mock engine logs through the root logger; keep its chatter off the plan output.
    os.environ.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    try:
        parser = _parser()
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command == "plan" and args.stack is None and not args.all and args.stacks is None:
            parser.commands["plan"].error("the following arguments are required: --stack (or --all, or --stacks "
                                          "GLOB)")
        if args.command == "plan":
            return _plan(args)
        if args.command == "serve-customers":
            return _serve(args)
        if args.command == "new-stack":
            from readiness.fleet.command import new_stack

            return new_stack(args, _project_dir(args.dir))
        if args.command == "fleet":
            from readiness.fleet.command import fleet_ops

            return fleet_ops(args, _project_dir(args.dir))
        return _check(args, browser)
    except check_options.UsageError as exc:
        print(f"plaid-ready check: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except SystemExit as exc:  # --help, --version, or a usage error already reported
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        raise


if __name__ == "__main__":
    sys.exit(main())
