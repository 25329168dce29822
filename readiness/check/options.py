"""``plaid-ready check``'s command line (docs/check.md): its arguments in the CLI's one argparse tree
(readiness/cli.py), then validated into :class:`Options`, the client secret resolved (readiness.check.client_secret).

Every problem is a :class:`UsageError` whose message is one line that never holds a value given (a value
could be a secret pasted in the wrong place).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn

from lambdas.oidc_checks.discovery import OIDC_DISCOVERY_SUFFIX
from readiness.check import client_secret
from readiness.check.errors import UsageError
from readiness.check.loopback import HOST_NAMES

DEFAULT_REDIRECT_PORT: Final = 8765
DEFAULT_LOGIN_TIMEOUT: Final = 300
DEFAULT_TIMEOUT: Final = 10
MAX_LOGIN_TIMEOUT: Final = 3600
MAX_TIMEOUT: Final = 120
WELL_KNOWN: Final = "/.well-known/"
#: Where ``--stack NAME`` looks for ``pulumi stack output --json -s NAME`` by default (see docs/check.md).
STACK_OUTPUTS: Final = "stacks/{stack}.outputs.json"
#: The one way to pass a secret that is refused by name, with how to pass it instead.
NO_CLIENT_SECRET: Final = ("there is no --client-secret: a secret never goes on the command line (shell history, "
                           "process lists); use --client-secret-env NAME or --secret-arn ARN")
#: The check subcommand's description in --help.
DESCRIPTION: Final = ("Live check of a deployed IdP and customers API, as Plaid's Validator would run it. "
                      "See docs/check.md.")

__all__ = ["Options", "UsageError", "add_arguments", "options_from", "usage_error"]


def usage_error(message: str) -> NoReturn:
    """How the check's parser reports a usage error: a :class:`UsageError`, never an argument's value."""
    if message.startswith("unrecognized arguments"):
        message = "unrecognized arguments (see --help)"  # argparse would echo them, maybe a secret
    raise UsageError(message)


class _RefuseClientSecret(argparse.Action):
    """``--client-secret`` (not shown in --help): refused with :data:`NO_CLIENT_SECRET`, whatever follows it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> NoReturn:
        raise UsageError(NO_CLIENT_SECRET)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The check's arguments, on its subparser (``allow_abbrev=False``: an abbreviation is unrecognized)."""
    src = p.add_argument_group("what to check")
    src.add_argument("--discovery-url", metavar="URL",
                     help="the OIDC discovery document (https://.../.well-known/openid-configuration)")
    src.add_argument("--stack", metavar="NAME",
                     help=f"take discovery_url, client_id and customers_current_url from {STACK_OUTPUTS} "
                          "(written by `pulumi stack output --json -s NAME`)")
    src.add_argument("--outputs", metavar="FILE", type=Path, help="the stack outputs file (with --stack)")
    src.add_argument("--customers-url", metavar="URL", help="GET /customers/current URL (the API stage)")
    login = p.add_argument_group("login (Plaid's client; the secret never goes on the command line)")
    login.add_argument("--client-id", metavar="ID")
    login.add_argument("--client-secret-env", metavar="NAME", help="environment variable holding the secret")
    login.add_argument("--secret-arn", metavar="ARN",
                       help="AWS Secrets Manager secret holding {client_id, client_secret} (credentials_secret_arn)")
    login.add_argument("--secret-stage", metavar="LABEL",
                       help="the --secret-arn version to use: AWSCURRENT (default), or AWSPENDING to prove a "
                            "rotation's new secret before retiring the old one (docs/rotation.md#client-secret)")
    login.add_argument("--redirect-port", metavar="N", default=str(DEFAULT_REDIRECT_PORT),
                       help=f"loopback callback port: http://127.0.0.1:N/callback (default {DEFAULT_REDIRECT_PORT})")
    login.add_argument("--redirect-host", metavar="HOST", default=HOST_NAMES[0],
                       help=f"host in the redirect URI: {' or '.join(HOST_NAMES)} (some IdPs accept http:// only for "
                            "localhost: docs/check.md); the listener is always on 127.0.0.1")
    login.add_argument("--login-timeout", metavar="SECONDS", default=str(DEFAULT_LOGIN_TIMEOUT),
                       help=f"how long to wait for the browser's redirect (default {DEFAULT_LOGIN_TIMEOUT})")
    login.add_argument("--login-command", metavar="CMD",
                       help="run CMD (split like a shell would, not run by one) to complete the login; it gets the "
                            "authorize URL in $PLAID_READY_AUTHORIZE_URL; its failure ends the login at once")
    p.add_argument("--cacert", metavar="FILE", type=Path, help="also trust this PEM CA (private CA, staging)")
    p.add_argument("--timeout", metavar="SECONDS", default=str(DEFAULT_TIMEOUT),
                   help=f"deadline of each request: DNS, connection, TLS, headers and body (default {DEFAULT_TIMEOUT})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--client-secret", nargs="?", action=_RefuseClientSecret, help=argparse.SUPPRESS)


@dataclass
class Options:
    discovery_url: str
    client_id: str | None
    secret: str | None = field(repr=False)
    customers_url: str | None
    cacert: Path | None
    redirect_port: int
    redirect_host: str
    login_timeout: float
    timeout: float
    json: bool
    secret_source: str | None  # a description for the output, never the value
    secret_arn_hint: str | None  # the stack's credentials_secret_arn, to name in a skip reason
    login_command: list[str] | None = None
    secret_env: str | None = None  # the NAME of the secret's environment variable, hidden from the login command


def _int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,6}", value or "") or not low <= int(value) <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _https_url(value: str, name: str) -> str:
    url = urllib.parse.urlsplit(value)
    if url.scheme != "https" or not url.hostname:
        raise UsageError(f"{name} must be an https:// URL (Plaid calls it over TLS)")
    if any(ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise UsageError(f"{name} must not contain spaces or control characters")
    if url.username or url.password:
        raise UsageError(f"{name} must not carry credentials")
    if url.fragment:
        raise UsageError(f"{name} must not have a #fragment")
    return value


def _project_dir() -> Path:
    here = Path.cwd()
    return here if (here / "Pulumi.yaml").is_file() else Path(__file__).resolve().parents[2]


def _stack_outputs(stack: str | None, path: Path | None) -> dict[str, Any]:
    if stack is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", stack):
        raise UsageError("--stack: a stack name has letters, digits, '.', '_' and '-' only")
    if path is None:
        path = _project_dir() / STACK_OUTPUTS.format(stack=stack)
    shown = f"{path} (write it with `pulumi stack output --json -s {stack or '<stack>'} > {path}`)"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"stack outputs not found: {shown}") from None
    except (OSError, ValueError, RecursionError):
        raise UsageError(f"stack outputs are not readable JSON: {path}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"stack outputs must be a JSON object of output names to values: {path}")
    return doc


def _output(outputs: dict[str, Any], key: str) -> str | None:
    value = outputs.get(key)
    return value if isinstance(value, str) and value and value != "[secret]" else None


def _login_command(value: str) -> list[str]:
    try:
        argv = shlex.split(value)
    except ValueError:
        raise UsageError("--login-command: unbalanced quotes or a trailing backslash") from None
    if not argv:
        raise UsageError("--login-command: empty command")
    if shutil.which(argv[0]) is None:
        raise UsageError("--login-command: its program is not found (give a path or a program on PATH)")
    return argv


def options_from(args: argparse.Namespace) -> Options:
    """The parsed command line, validated; secrets resolved. Raises UsageError (message safe to print)."""
    timeout = _int(args.timeout, "--timeout", 1, MAX_TIMEOUT)
    outputs: dict[str, Any] = {}
    if args.stack is not None or args.outputs is not None:
        if args.discovery_url is not None:
            raise UsageError("give --discovery-url or --stack, not both")
        outputs = _stack_outputs(args.stack, args.outputs)
        discovery_url = _output(outputs, "discovery_url")
        if discovery_url is None:
            raise UsageError("the stack outputs have no discovery_url")
    elif args.discovery_url is not None:
        discovery_url = args.discovery_url
    else:
        raise UsageError("give --discovery-url URL or --stack NAME")
    _https_url(discovery_url, "--discovery-url" if not outputs else "discovery_url (stack outputs)")
    if WELL_KNOWN not in urllib.parse.urlsplit(discovery_url).path:
        raise UsageError("--discovery-url must be the discovery document's URL (ending in "
                         f"{OIDC_DISCOVERY_SUFFIX}), not the issuer")
    customers_url = args.customers_url or _output(outputs, "customers_current_url")
    if customers_url is not None:
        _https_url(customers_url, "--customers-url")
    client_id = args.client_id or _output(outputs, "client_id")
    if client_id is not None and not re.fullmatch(r"[\x21-\x7e]{1,256}", client_id):
        raise UsageError("--client-id must be 1-256 printable characters without spaces")
    if args.client_secret_env is not None and args.secret_arn is not None:
        raise UsageError("give --client-secret-env or --secret-arn, not both")
    login_requested = args.client_secret_env is not None or args.secret_arn is not None
    if login_requested and client_id is None:
        raise UsageError("the login needs --client-id (Plaid's client id at the IdP)")
    if args.login_command is not None and not login_requested:
        raise UsageError("--login-command drives the login: give the client secret too (--client-secret-env NAME "
                         "or --secret-arn ARN)")
    login_command = _login_command(args.login_command) if args.login_command is not None else None
    redirect_port = _int(args.redirect_port, "--redirect-port", 1, 65535)
    login_timeout = _int(args.login_timeout, "--login-timeout", 1, MAX_LOGIN_TIMEOUT)
    if args.redirect_host not in HOST_NAMES:
        raise UsageError(f"--redirect-host must be {' or '.join(HOST_NAMES)}")
    if args.cacert is not None and not args.cacert.is_file():
        raise UsageError("--cacert: no such file")
    stage = client_secret.stage_of(args.secret_stage, args.secret_arn)
    secret, source = None, None
    if args.client_secret_env is not None:
        secret, source = client_secret.from_env(args.client_secret_env), "environment variable"
    elif args.secret_arn is not None:
        secret = client_secret.from_arn(args.secret_arn, timeout, stage)
        source = "Secrets Manager" + ("" if stage == client_secret.CURRENT_STAGE else f" version staged {stage}")
    return Options(discovery_url=discovery_url, client_id=client_id, secret=secret, customers_url=customers_url,
                   cacert=args.cacert, redirect_port=redirect_port, redirect_host=args.redirect_host,
                   login_timeout=login_timeout, timeout=timeout,
                   json=args.json, secret_source=source,
                   secret_arn_hint=_output(outputs, "credentials_secret_arn"),
                   login_command=login_command, secret_env=args.client_secret_env)
