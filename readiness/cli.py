"""The ``plaid-ready`` command.

    plaid-ready plan --stack NAME [--json|--summary] [--dir PATH]    offline plan + Plaid readiness verdict
    plaid-ready plan --stack NAME --compare BASE [--head FILE] [--format text|markdown|json]
                                                           what a change does to Plaid (docs/review.md)
    plaid-ready serve-customers --port N [--host H] [--tls-cert FILE --tls-key FILE]
                                                           run the /customers/current Lambda locally
    plaid-ready check --discovery-url URL ...              live conformance check (readiness/check.py)

    plaid-ready --version

Exit codes: 0 ready / ok, 1 a mandatory readiness rule fails (with --compare: newly fails), 2 usage or
settings error, 3 the program itself failed (a bug: please report it), 4 (--compare only) a change that
breaks Plaid. With ``plan --json`` every outcome is JSON on
stdout: the plan, or ``{"schemaVersion": 1, "errors": [...]}`` with exit 2 (readiness/plan.schema.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_NOT_READY, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


PACKAGE = "plaid-ready-idp"


def version() -> str:
    """The installed package's version (its metadata, i.e. pyproject.toml at install time)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version(PACKAGE)
    except PackageNotFoundError:
        return "unknown (not installed: run make install)"


def _json_errors(errors: list[str]) -> None:
    from readiness.plan import SCHEMA_VERSION

    print(json.dumps({"schemaVersion": SCHEMA_VERSION, "kind": "offline-plan-errors", "errors": errors},
                     indent=2, sort_keys=True))


class _Parser(argparse.ArgumentParser):
    #: Set when the command line asks for JSON: usage errors are then JSON on stdout too.
    json_errors = False

    def error(self, message: str) -> None:  # argparse exits 2 with usage: keep that, no traceback
        if _Parser.json_errors:
            _json_errors([message])
            raise SystemExit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        print(f"plaid-ready: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="plaid-ready", description="Plaid Core Exchange readiness for your identity stack.")
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", help="offline plan of a stack with a Plaid-readiness verdict")
    plan.add_argument("--stack", required=True,
                      help="stack name (stacks/Pulumi.<NAME>.yaml), or the path of that file")
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
    # Its own arguments are parsed by lambdas.local_server (main() hands them over untouched).
    sub.add_parser("serve-customers", help="serve the /customers/current handler on 127.0.0.1 (--port N; HTTPS with "
                                           "--tls-cert FILE --tls-key FILE)")
    # Likewise parsed by readiness.check.
    sub.add_parser("check", help="live conformance check of a deployed IdP and API, as Plaid's Validator would")
    return p


def _project_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg.resolve()
    here = Path.cwd()
    if (here / "Pulumi.yaml").is_file():
        return here
    return Path(__file__).resolve().parent.parent


def _plan(args: argparse.Namespace) -> int:
    from components.settings import SettingsError
    from readiness.plan import UsageError, build_report, resolve_stack

    def refuse(errors: list[str], heading: str | None = None) -> int:
        if args.json:
            _json_errors(errors)
        elif heading is not None:
            print(f"plaid-ready plan: {heading}", file=sys.stderr)
            for problem in errors:
                print(f"  - {problem}", file=sys.stderr)
        else:
            for problem in errors:
                print(f"plaid-ready plan: {problem}", file=sys.stderr)
        return EXIT_USAGE

    program_dir = _project_dir(args.dir)
    if args.compare is not None:
        return _compare(args, program_dir)
    if args.format is not None:
        return refuse(["--format goes with --compare (the plan itself has --json and --summary)"])
    if args.head is not None:
        return refuse(["--head goes with --compare (it names the changed side's saved plan)"])
    stack = args.stack
    try:
        stack = resolve_stack(program_dir, args.stack)
        report = build_report(program_dir, stack)
    except UsageError as exc:
        return refuse([str(exc)])
    except SettingsError as exc:
        n = len(exc.problems)
        return refuse(exc.problems, f"stack '{stack}' has invalid settings ({n} problem{'' if n == 1 else 's'}):")
    except Exception as exc:  # noqa: BLE001 - a failing program must not dump a traceback by default
        import pulumi

        if isinstance(exc, pulumi.RunError):
            return refuse([str(exc)])
        if args.traceback:
            raise
        print(f"plaid-ready plan: the program failed: {type(exc).__name__}: {exc}\n"
              "  (re-run with --traceback for details; this is a bug, please report it)", file=sys.stderr)
        return EXIT_INTERNAL
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        print(report.to_text(summary_only=args.summary))
    return EXIT_NOT_READY if report.failed else EXIT_OK


def _compare(args: argparse.Namespace, program_dir: Path) -> int:
    from readiness.compare import run
    from readiness.plan import UsageError, resolve_stack

    fmt = args.format or ("json" if args.json else "text")
    if args.summary or (args.json and fmt != "json"):
        print("plaid-ready plan: --compare takes --format text|markdown|json (or --json), not --summary or "
              "--json with another --format", file=sys.stderr)
        return EXIT_USAGE
    try:
        stack = resolve_stack(program_dir, args.stack)
    except UsageError as exc:
        print(f"plaid-ready plan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text, code = run(program_dir, stack, args.compare, fmt, head=args.head)
    if code in (EXIT_USAGE, EXIT_INTERNAL):
        print(f"plaid-ready plan: {text}", file=sys.stderr)
    else:
        print(text)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pulumi's mock engine logs through the root logger; keep its chatter off the plan output.
    os.environ.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    if argv[:1] == ["serve-customers"]:
        from lambdas.local_server import run

        return run(argv[1:])
    if argv[:1] == ["check"]:
        from readiness.check import main as check

        return check(argv[1:])
    _Parser.json_errors = "--json" in argv
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return _plan(args)
    return EXIT_USAGE  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
