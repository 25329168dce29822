"""``plaid-ready check``: the options validated, the loopback listener bound, the four stages run, the verdict printed
with every sensitive value redacted. The command line itself is readiness/cli.py's."""

from __future__ import annotations

import argparse
import json
import sys

from readiness.check.errors import UsageError
from readiness.check.http import tls_context
from readiness.check.loopback import CallbackListener, LoginCommand
from readiness.check.model import CheckResult
from readiness.check.options import options_from
from readiness.check.output import NOT_READY, to_json, to_text, verdict
from readiness.check.run import Browser, Run
from readiness.check.stages import CHECKS, STAGES
from readiness.exit_codes import ExitCode


def run_checks(run: Run) -> list[CheckResult]:
    """Every stage in order; the results in the order of :data:`CHECKS`."""
    for stage in STAGES:
        stage.run(run)
    return [run.results[c.id] for c in CHECKS]


def check(args: argparse.Namespace, browser: Browser | None = None) -> ExitCode:
    """``plaid-ready check`` with its parsed arguments. ``browser`` drives the login for tests; ``--login-command``
    drives it for automation. Raises UsageError (exit 2, the message safe to print)."""
    opts = options_from(args)
    try:
        tls_context(opts.cacert)
    except (OSError, ValueError):
        raise UsageError("--cacert: not a readable PEM CA certificate") from None
    listener = None
    if opts.client_id is not None and opts.secret is not None:
        try:
            listener = CallbackListener(opts.redirect_port, opts.redirect_host)
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{opts.redirect_port} ({exc.strerror or 'in use'}); pass "
                             "another --redirect-port and allow its callback URI") from None
        if browser is None and opts.login_command is not None:
            hidden = frozenset({opts.secret_env} if opts.secret_env else set())
            browser = LoginCommand(opts.login_command, listener.redirect_uri, hidden)
    run = Run(opts, browser, listener)
    try:
        results = run_checks(run)
    except Exception as exc:  # noqa: BLE001 - a bug must not dump a traceback that could hold a token
        print(f"plaid-ready check: internal error ({type(exc).__name__}); this is a bug, please report it",
              file=sys.stderr)
        return ExitCode.INTERNAL
    finally:
        if listener is not None:
            listener.close()
    text = json.dumps(to_json(results), indent=2) if opts.json else to_text(results, opts)
    print(run.redact(text))
    return ExitCode.FAILED if verdict(results) == NOT_READY else ExitCode.OK
