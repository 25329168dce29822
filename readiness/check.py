"""``plaid-ready check``: Plaid's Validator, run by the bank before Plaid runs it (docs/check.md).

The offline plan proves what a stack declares; this checks what is live, the way Plaid judges it, in four
stages run in order: **Discovery**, **Keys**, **Login and tokens** (an authorization-code login through a
loopback redirect, as Plaid's client) and **API** (``GET /customers/current``). A stage that lacks its
inputs is skipped with the reason, not failed. Every check has a stable id (:data:`CHECKS`) and ends
``pass``, ``fail``, ``warn`` or ``skip`` with what was seen.

Exit 0 when no check fails, 1 when one does, 2 for a usage error (one line, no traceback). Tokens, the
authorization code and the client secret never appear in the output; the secret never goes on the command
line (``--client-secret-env NAME`` or ``--secret-arn ARN``). Every request has a timeout (``--timeout``),
the login waits at most ``--login-timeout`` seconds, so the whole run is bounded.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, NoReturn

import jwt

import plaid_contract as plaid
from lambdas.customers_current.verifier import ASYMMETRIC, MIN_RSA_BITS
from readiness import check_schema
from readiness.check_http import NetworkError, Response, request, tls_context
from readiness.check_login import HOST_NAMES, Callback, CallbackListener

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
DEFAULT_REDIRECT_PORT: Final = 8765
DEFAULT_LOGIN_TIMEOUT: Final = 300
DEFAULT_TIMEOUT: Final = 10
MAX_LOGIN_TIMEOUT: Final = 3600
MAX_TIMEOUT: Final = 120
#: Tolerance on the access-token lifetime and clock skew when verifying tokens.
LIFETIME_TOLERANCE_SECONDS: Final = 60
LEEWAY_SECONDS: Final = 60
OIDC_DISCOVERY_SUFFIX: Final = "/.well-known/openid-configuration"
WELL_KNOWN: Final = "/.well-known/"
REDACTED: Final = "[redacted]"

#: A 403 without FDX code 602 at the API: the WAF (it lets only Plaid's addresses through) answered, not the API.
WAF_BLOCKED: Final = ("HTTP 403, blocked before the API (the WAF lets only Plaid's addresses through); run the check "
                      "from an address in allowlist.extraCidrs to judge the API's own answer")

#: Where ``--stack NAME`` looks for ``pulumi stack output --json -s NAME`` by default (see docs/check.md).
STACK_OUTPUTS: Final = "stacks/{stack}.outputs.json"


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Stage(StrEnum):
    DISCOVERY = "Discovery"
    KEYS = "Keys"
    LOGIN = "Login and tokens"
    API = "API"


@dataclass(frozen=True)
class CheckSpec:
    id: str
    stage: Stage
    requirement: str


_SCOPES = " and ".join(plaid.REQUIRED_SCOPES)
_LIFE = plaid.ACCESS_TOKEN_LIFETIME_SECONDS
_DENIED = plaid.CUSTOMER_NOT_AUTHORIZED

#: Every check, in the order they run. The ids are stable: documented in docs/check.md, never renamed.
CHECKS: Final[tuple[CheckSpec, ...]] = (
    CheckSpec("DISCOVERY-FETCH", Stage.DISCOVERY, "the discovery document answers 200 with a JSON object"),
    CheckSpec("DISCOVERY-HTTPS", Stage.DISCOVERY, "every endpoint in the discovery document is https://"),
    CheckSpec("DISCOVERY-FIELDS", Stage.DISCOVERY,
              "issuer, authorize and token endpoints, response_types_supported with code; OIDC: userinfo, JWKS"),
    CheckSpec("DISCOVERY-SCOPES", Stage.DISCOVERY, f"scopes_supported lists {_SCOPES}"),
    CheckSpec("DISCOVERY-AUTH-METHOD", Stage.DISCOVERY,
              f"token_endpoint_auth_methods_supported includes {plaid.TOKEN_ENDPOINT_AUTH_METHOD} or is absent"),
    CheckSpec("JWKS-KEYS", Stage.KEYS,
              f"the JWKS answers with a signing key; every signing key has a kid; RSA >= {MIN_RSA_BITS} bits"),
    CheckSpec("TOKEN-CLIENT-AUTH", Stage.LOGIN,
              f"the login returns a code; the token endpoint takes it with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}"),
    CheckSpec("TOKEN-JWT", Stage.LOGIN, "the access token is a JWT (not opaque) that verifies against the JWKS"),
    CheckSpec("TOKEN-AT-LIFETIME", Stage.LOGIN,
              f"the access token lives {_LIFE} s (+/- {LIFETIME_TOLERANCE_SECONDS} s)"),
    CheckSpec("TOKEN-REFRESH-ISSUED", Stage.LOGIN, "the code exchange returns a refresh token"),
    CheckSpec("TOKEN-SUB", Stage.LOGIN,
              f"the id_token verifies; its sub has >= {plaid.CONSISTENCY_KEY_MIN_LENGTH} characters and is "
              "no email address or phone number"),
    CheckSpec("USERINFO-SUB", Stage.LOGIN, "userinfo answers the access token with the id_token's sub"),
    CheckSpec("TOKEN-REFRESH-ROTATES", Stage.LOGIN,
              "a refresh returns a new refresh token and the old one is then refused"),
    CheckSpec("API-CUSTOMERS-CURRENT", Stage.API,
              f"GET {plaid.CUSTOMERS_CURRENT_PATH}: 200, Plaid's Customer schema, customerId = id_token sub"),
    CheckSpec("API-REJECTS-NO-TOKEN", Stage.API, f"no token: {_DENIED.status} with FDX code {_DENIED.code}"),
    CheckSpec("API-REJECTS-BAD-TOKEN", Stage.API,
              f"a tampered token: {_DENIED.status} with FDX code {_DENIED.code}"),
)
CHECK_IDS: Final[tuple[str, ...]] = tuple(c.id for c in CHECKS)
_SPEC: Final = {c.id: c for c in CHECKS}


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    status: CheckStatus
    detail: str

    @property
    def id(self) -> str:
        return self.spec.id


class UsageError(Exception):
    """A problem with the command line or its inputs (exit 2). The message never holds a value given."""


#: Drives the browser part of the login: receives the authorize URL; must end with the IdP redirecting
#: to the loopback callback. A person with a browser by default; tests pass a callable.
Browser = Callable[[str], None]


# --- command line -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = "unrecognized arguments (see --help)"  # argparse would echo them, maybe a secret
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="plaid-ready check", allow_abbrev=False,
                description="Live check of a deployed IdP and customers API, as Plaid's Validator would run it. "
                            "See docs/check.md.")
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
    login.add_argument("--redirect-port", metavar="N", default=str(DEFAULT_REDIRECT_PORT),
                       help=f"loopback callback port: http://127.0.0.1:N/callback (default {DEFAULT_REDIRECT_PORT})")
    login.add_argument("--redirect-host", metavar="HOST", default=HOST_NAMES[0],
                       help=f"host in the redirect URI: {' or '.join(HOST_NAMES)} (Cognito accepts http:// only for "
                            "localhost); the listener is always on 127.0.0.1")
    login.add_argument("--login-timeout", metavar="SECONDS", default=str(DEFAULT_LOGIN_TIMEOUT),
                       help=f"how long to wait for the browser's redirect (default {DEFAULT_LOGIN_TIMEOUT})")
    p.add_argument("--cacert", metavar="FILE", type=Path, help="also trust this PEM CA (private CA, staging)")
    p.add_argument("--timeout", metavar="SECONDS", default=str(DEFAULT_TIMEOUT),
                   help=f"timeout of each request (default {DEFAULT_TIMEOUT})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


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


def _int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,6}", value or "") or not low <= int(value) <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _https_url(value: str, name: str) -> str:
    url = urllib.parse.urlsplit(value)
    if url.scheme != "https" or not url.hostname:
        raise UsageError(f"{name} must be an https:// URL (Plaid calls it over TLS)")
    if url.username or url.password:
        raise UsageError(f"{name} must not carry credentials")
    if url.fragment:
        raise UsageError(f"{name} must not have a #fragment")
    return value


def _project_dir() -> Path:
    here = Path.cwd()
    return here if (here / "Pulumi.yaml").is_file() else Path(__file__).resolve().parent.parent


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
    except (OSError, ValueError):
        raise UsageError(f"stack outputs are not readable JSON: {path}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"stack outputs must be a JSON object of output names to values: {path}")
    return doc


def _output(outputs: dict[str, Any], key: str) -> str | None:
    value = outputs.get(key)
    return value if isinstance(value, str) and value and value != "[secret]" else None


def _secret_from_env(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,255}", name):
        raise UsageError("--client-secret-env takes the NAME of an environment variable (letters, digits, _), "
                         "not the secret itself")
    value = os.environ.get(name, "")
    if not value.strip():
        raise UsageError("--client-secret-env: that environment variable is not set or is empty")
    return value.strip()


def _secret_from_arn(arn: str, timeout: float) -> str:
    match = re.fullmatch(r"arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+", arn)
    if not match:
        raise UsageError("--secret-arn must be a Secrets Manager secret ARN "
                         "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"})
    try:
        value = boto3.client("secretsmanager", region_name=match.group(1), config=config).get_secret_value(
            SecretId=arn)
    except NoCredentialsError:
        raise UsageError("--secret-arn: no AWS credentials (set AWS_PROFILE or role credentials)") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise UsageError(f"--secret-arn: Secrets Manager answered {code}") from None
    except BotoCoreError as exc:
        raise UsageError(f"--secret-arn: cannot read the secret ({type(exc).__name__})") from None
    text = value.get("SecretString")
    if not isinstance(text, str) or not text.strip():
        raise UsageError("--secret-arn: the secret has no string value")
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(doc, dict):
        secret = doc.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise UsageError("--secret-arn: the secret is JSON without a client_secret string")
        return secret
    raise UsageError("--secret-arn: the secret is neither a JSON object nor a plain string")


def parse_options(argv: Sequence[str]) -> Options:
    """The command line, validated; secrets resolved. Raises UsageError (message safe to print)."""
    for arg in argv:
        if arg == "--client-secret" or arg.startswith("--client-secret="):
            raise UsageError("there is no --client-secret: a secret never goes on the command line (shell history, "
                             "process lists); use --client-secret-env NAME or --secret-arn ARN")
    args = _parser().parse_args(list(argv))
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
    redirect_port = _int(args.redirect_port, "--redirect-port", 1, 65535)
    login_timeout = _int(args.login_timeout, "--login-timeout", 1, MAX_LOGIN_TIMEOUT)
    if args.redirect_host not in HOST_NAMES:
        raise UsageError(f"--redirect-host must be {' or '.join(HOST_NAMES)}")
    if args.cacert is not None and not args.cacert.is_file():
        raise UsageError("--cacert: no such file")
    secret, source = None, None
    if args.client_secret_env is not None:
        secret, source = _secret_from_env(args.client_secret_env), "environment variable"
    elif args.secret_arn is not None:
        secret, source = _secret_from_arn(args.secret_arn, timeout), "Secrets Manager"
    return Options(discovery_url=discovery_url, client_id=client_id, secret=secret, customers_url=customers_url,
                   cacert=args.cacert, redirect_port=redirect_port, redirect_host=args.redirect_host,
                   login_timeout=login_timeout, timeout=timeout,
                   json=args.json, secret_source=source,
                   secret_arn_hint=_output(outputs, "credentials_secret_arn"))


# --- the checks -----------------------------------------------------------------------------------


def _b64url_json(part: str) -> Any:  # noqa: ANN401 - any JSON
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a compact JWS, unverified; None when the token is not one (opaque)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    except (ValueError, UnicodeDecodeError):
        return None
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def _tampered(token: str) -> str:
    """The token with its payload changed and the signature kept (or, when opaque, one character changed)."""
    parts = token.split(".")
    if _jwt_parts(token) is not None:
        claims = _b64url_json(parts[1])
        claims["sub"] = f"{claims.get('sub', '')}-tampered"
        parts[1] = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return ".".join(parts)
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle:middle + 1] != "A" else "B") + token[middle + 1:]


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().-]+")


def _sub_shape(sub: str) -> tuple[CheckStatus, str]:
    n, digits = len(sub), sum(c.isdigit() for c in sub)
    if n < plaid.CONSISTENCY_KEY_MIN_LENGTH:
        return CheckStatus.FAIL, f"sub has {n} characters; Plaid needs >= {plaid.CONSISTENCY_KEY_MIN_LENGTH}"
    if _EMAIL.fullmatch(sub):
        return CheckStatus.FAIL, f"sub looks like an email address ({n} characters): PII that can change"
    if _PHONE.fullmatch(sub) and 7 <= digits <= 15:
        if sub.startswith("+") or not sub.isdigit():
            return CheckStatus.FAIL, f"sub looks like a phone number ({n} characters): PII that can change"
        return CheckStatus.WARN, f"sub is {n} digits only: make sure it is not a phone number"
    return CheckStatus.PASS, f"sub has {n} characters, not an email address or phone number"


def _signing_keys(jwks: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
    return [k for k in keys if k.get("use", "sig") == "sig"
            and ("key_ops" not in k or "verify" in (k.get("key_ops") or []))]


def _rsa_bits(key: dict[str, Any]) -> int:
    try:
        n = base64.urlsafe_b64decode(str(key.get("n", "")) + "=" * (-len(str(key.get("n", ""))) % 4))
    except ValueError:
        return 0
    return int.from_bytes(n, "big").bit_length()


def _verify(token: str, jwks: dict[str, Any] | None, **kwargs: Any) -> tuple[dict[str, Any] | None, str]:  # noqa: ANN401
    """(claims, note) when the token verifies against the JWKS; (None, why not) otherwise. ``kwargs`` go to
    ``jwt.decode`` (issuer, audience, options)."""
    parts = _jwt_parts(token)
    if parts is None:
        return None, "not a JWT"
    header = parts[0]
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ASYMMETRIC:
        return None, f"alg {alg!s:.20} is not an asymmetric algorithm published in a JWKS"
    if jwks is None:
        return None, "the JWKS is unavailable (see JWKS-KEYS)"
    keys = _signing_keys(jwks)
    candidates = [k for k in keys if kid is not None and k.get("kid") == kid]
    note = f"{alg}, kid matches the JWKS"
    if not candidates:
        candidates = [k for k in keys if "kid" not in k]
        note = f"{alg}, verified with a JWKS key without kid"
    if not candidates:
        return None, f"{alg}: no JWKS key has the token's kid"
    why = "signature does not verify"
    for key in candidates:
        try:
            pyjwk = jwt.PyJWK(key, algorithm=alg)
            claims = jwt.decode(token, pyjwk.key, algorithms=[alg], leeway=LEEWAY_SECONDS, **kwargs)
        except jwt.InvalidIssuerError:
            return None, "iss is not the discovery issuer"
        except jwt.InvalidAudienceError:
            return None, "aud does not name the client"
        except jwt.ExpiredSignatureError:
            return None, "expired"
        except jwt.MissingRequiredClaimError as exc:
            return None, f"no {exc.claim} claim"
        except (jwt.PyJWKError, jwt.InvalidTokenError) as exc:
            why = f"does not verify ({type(exc).__name__})"
            continue
        return claims, note
    return None, why


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fdx_code(resp: Response) -> Any:  # noqa: ANN401 - whatever the body says
    body = resp.json_object()
    return None if body is None else body.get("code")


def _oauth_error(resp: Response) -> str:
    body = resp.json_object() or {}
    error = body.get("error")
    shown = f" {error}" if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,40}", error) else ""
    return f"HTTP {resp.status}{shown}"


@dataclass
class _Run:
    opts: Options
    browser: Browser | None
    listener: CallbackListener | None
    results: dict[str, CheckResult] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)
    discovery: dict[str, Any] | None = None
    oidc: bool = True
    jwks: dict[str, Any] | None = None
    access_token: str | None = None
    id_sub: str | None = None

    def __post_init__(self) -> None:
        self.tls = tls_context(self.opts.cacert)
        if self.opts.secret:
            self.sensitive.add(self.opts.secret)

    # results

    def set(self, check_id: str, status: CheckStatus, detail: str) -> None:
        self.results[check_id] = CheckResult(_SPEC[check_id], status, detail)

    def skip_rest(self, stage: Stage, reason: str) -> None:
        for spec in CHECKS:
            if spec.stage is stage and spec.id not in self.results:
                self.set(spec.id, CheckStatus.SKIP, reason)

    # network

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        return request("GET", url, context=self.tls, timeout=self.opts.timeout, headers=headers)

    def token_request(self, form: dict[str, str]) -> Response:
        assert self.discovery is not None and self.opts.client_id is not None and self.opts.secret is not None
        # RFC 6749 2.3.1: client id and secret are form-encoded, then joined and base64-encoded.
        pair = f"{urllib.parse.quote_plus(self.opts.client_id)}:{urllib.parse.quote_plus(self.opts.secret)}"
        basic = base64.b64encode(pair.encode()).decode()
        self.sensitive.update(v for k, v in form.items() if k in ("code", "refresh_token"))
        resp = request("POST", self.discovery["token_endpoint"], context=self.tls, timeout=self.opts.timeout,
                       headers={"Authorization": f"Basic {basic}"}, form=form)
        for key, value in (resp.json_object() or {}).items():
            if isinstance(value, str) and key.endswith("token"):
                self.sensitive.add(value)
        return resp

    # stage 1

    def discovery_stage(self) -> None:
        url = self.opts.discovery_url
        self.oidc = urllib.parse.urlsplit(url).path.endswith(OIDC_DISCOVERY_SUFFIX)
        try:
            resp = self.get(url)
        except NetworkError as exc:
            self.set("DISCOVERY-FETCH", CheckStatus.FAIL,
                     f"{exc} (Plaid's Validator reports this as 'Error getting OIDC configuration': check DNS, "
                     "TLS and that no firewall blocks Plaid)")
            self.skip_rest(Stage.DISCOVERY, "no discovery document (see DISCOVERY-FETCH)")
            return
        doc = resp.json_object()
        if resp.status != 200 or doc is None:
            seen = f"HTTP {resp.status}, {resp.media_type or 'no Content-Type'}"
            why = "not a JSON object" if resp.status == 200 else "expected 200"
            self.set("DISCOVERY-FETCH", CheckStatus.FAIL, f"{seen}: {why}")
            self.skip_rest(Stage.DISCOVERY, "no discovery document (see DISCOVERY-FETCH)")
            return
        self.discovery = doc
        seen = f"HTTP 200, {resp.media_type or 'no Content-Type'}, {len(doc)} fields"
        if resp.media_type != "application/json":
            self.set("DISCOVERY-FETCH", CheckStatus.FAIL, f"{seen}: the Content-Type must be application/json")
        else:
            self.set("DISCOVERY-FETCH", CheckStatus.PASS, seen)
        self._https(doc)
        self._fields(doc, url)
        self._scopes(doc)
        self._auth_method(doc)

    def _https(self, doc: dict[str, Any]) -> None:
        urls: dict[str, Any] = {k: v for k, v in doc.items() if k == "issuer" or k.endswith(("_endpoint", "_uri"))}
        aliases = doc.get("mtls_endpoint_aliases")
        if isinstance(aliases, dict):
            urls.update({f"mtls_endpoint_aliases.{k}": v for k, v in aliases.items()})
        bad = sorted(k for k, v in urls.items() if not (isinstance(v, str) and v.startswith("https://")))
        if bad:
            self.set("DISCOVERY-HTTPS", CheckStatus.FAIL,
                     "not https://: " + ", ".join(f"{k} = {str(urls[k])[:120]}" for k in bad))
        else:
            self.set("DISCOVERY-HTTPS", CheckStatus.PASS, f"{len(urls)} URLs, all https://")

    def _fields(self, doc: dict[str, Any], url: str) -> None:
        required = ["issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"]
        if self.oidc:
            required += ["userinfo_endpoint", "jwks_uri"]
        missing = [k for k in required if not doc.get(k)]
        problems = [f"missing {k}" for k in missing]
        types = doc.get("response_types_supported")
        if "response_types_supported" not in missing and (not isinstance(types, list) or "code" not in types):
            problems.append("response_types_supported does not include code")
        if problems:
            self.set("DISCOVERY-FIELDS", CheckStatus.FAIL, "; ".join(problems))
            return
        kind = "OIDC" if self.oidc else "OAuth 2.0"
        issuer = str(doc["issuer"])
        expected = issuer.rstrip("/") + (OIDC_DISCOVERY_SUFFIX if self.oidc else "")
        if self.oidc and url.rstrip("/") != expected:
            self.set("DISCOVERY-FIELDS", CheckStatus.WARN,
                     f"{kind} fields present; issuer {issuer[:120]} is not where the document was fetched "
                     "(OIDC Discovery expects <issuer>" + OIDC_DISCOVERY_SUFFIX + ")")
            return
        self.set("DISCOVERY-FIELDS", CheckStatus.PASS,
                 f"{kind}: {', '.join(required)} present; response_types_supported includes code")

    def _scopes(self, doc: dict[str, Any]) -> None:
        scopes = doc.get("scopes_supported")
        if not isinstance(scopes, list):
            self.set("DISCOVERY-SCOPES", CheckStatus.FAIL,
                     f"scopes_supported is absent; Plaid needs it to list {_SCOPES}")
            return
        missing = [s for s in plaid.REQUIRED_SCOPES if s not in scopes]
        if missing:
            self.set("DISCOVERY-SCOPES", CheckStatus.FAIL,
                     f"scopes_supported lacks {', '.join(missing)} (lists {_count(len(scopes), 'scope')})")
        else:
            self.set("DISCOVERY-SCOPES", CheckStatus.PASS, f"scopes_supported includes {_SCOPES}")

    def _auth_method(self, doc: dict[str, Any]) -> None:
        methods = doc.get("token_endpoint_auth_methods_supported")
        basic = plaid.TOKEN_ENDPOINT_AUTH_METHOD
        if methods is None:
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.PASS, f"absent: Plaid uses {basic} by default")
        elif isinstance(methods, list) and basic in methods:
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.PASS, f"includes {basic}")
        else:
            shown = ", ".join(str(m)[:40] for m in methods) if isinstance(methods, list) else "not a list"
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.FAIL, f"lists {shown}; Plaid authenticates with {basic}")

    # stage 2

    def keys_stage(self) -> None:
        if self.discovery is None:
            self.skip_rest(Stage.KEYS, "no discovery document (see DISCOVERY-FETCH)")
            return
        uri = self.discovery.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            self.skip_rest(Stage.KEYS, "the discovery document has no jwks_uri")
            return
        if not uri.startswith("https://"):
            self.set("JWKS-KEYS", CheckStatus.FAIL, "jwks_uri is not https:// (not fetched; see DISCOVERY-HTTPS)")
            return
        try:
            resp = self.get(uri)
        except NetworkError as exc:
            self.set("JWKS-KEYS", CheckStatus.FAIL, f"jwks_uri: {exc}")
            return
        doc = resp.json_object()
        if resp.status != 200 or doc is None or not isinstance(doc.get("keys"), list):
            self.set("JWKS-KEYS", CheckStatus.FAIL,
                     f"jwks_uri: HTTP {resp.status}, {resp.media_type or 'no Content-Type'}: expected 200 with "
                     '{"keys": [...]}')
            return
        self.jwks = doc
        keys = [k for k in doc["keys"] if isinstance(k, dict)]
        signing = _signing_keys(doc)
        problems: list[str] = []
        if any("d" in k or k.get("kty") == "oct" for k in keys):
            problems.append("the JWKS publishes private or symmetric key material")
        if not signing:
            problems.append("no signing key (use sig)")
        no_kid = [k for k in signing if not k.get("kid")]
        if no_kid:
            problems.append(f"{len(no_kid)} of {len(signing)} signing keys have no kid")
        weak = [k for k in signing if k.get("kty") == "RSA" and _rsa_bits(k) < MIN_RSA_BITS]
        if weak:
            problems.append(f"{len(weak)} RSA keys under {MIN_RSA_BITS} bits")
        described = "; ".join(
            f"{k.get('kty')}{' ' + str(_rsa_bits(k)) + ' bits' if k.get('kty') == 'RSA' else ''} "
            f"kid {str(k['kid'])[:40] if k.get('kid') else '(none)'}" for k in signing[:5])
        seen = f"{_count(len(keys), 'key')}, {len(signing)} for signing" + (f": {described}" if described else "")
        if problems:
            self.set("JWKS-KEYS", CheckStatus.FAIL, f"{seen}; " + "; ".join(problems))
            return
        kids = [k["kid"] for k in signing]
        if len(set(kids)) != len(kids):
            self.set("JWKS-KEYS", CheckStatus.WARN, f"{seen}; two signing keys share a kid")
            return
        self.set("JWKS-KEYS", CheckStatus.PASS, seen)

    # stage 3

    def _login_blocker(self) -> str | None:
        if self.opts.client_id is None:
            return "no --client-id (and no secret): the login is not requested"
        if self.opts.secret is None:
            arn = f" (the stack's credentials_secret_arn is {self.opts.secret_arn_hint})" \
                if self.opts.secret_arn_hint else ""
            return f"no client secret: pass --client-secret-env NAME or --secret-arn ARN{arn}"
        if self.discovery is None:
            return "no discovery document (see DISCOVERY-FETCH)"
        for key in ("authorization_endpoint", "token_endpoint"):
            value = self.discovery.get(key)
            if not isinstance(value, str) or not value.startswith("https://"):
                return f"{key} is missing or not https:// (the secret is never sent over plain http)"
        return None

    def _authorize_url(self, redirect_uri: str, state: str) -> str:
        assert self.discovery is not None and self.opts.client_id is not None
        endpoint = self.discovery["authorization_endpoint"]
        # Exactly what Plaid sends (response_type, client_id, redirect_uri, scope, state): no prompt, no PKCE.
        query = urllib.parse.urlencode({"response_type": "code", "client_id": self.opts.client_id,
                                        "redirect_uri": redirect_uri, "scope": " ".join(plaid.REQUIRED_SCOPES),
                                        "state": state}, quote_via=urllib.parse.quote)
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def _login(self) -> tuple[Callback | None, str]:
        assert self.listener is not None
        state = secrets.token_urlsafe(24)
        self.listener.start(state)
        url = self._authorize_url(self.listener.redirect_uri, state)
        print(f"authorize_url: {url}", file=sys.stderr, flush=True)
        failure: list[str] = []
        driven = threading.Event()
        if self.browser is not None:
            browser = self.browser

            def drive() -> None:
                try:
                    browser(url)
                except Exception as exc:  # noqa: BLE001 - reported as the login's failure
                    failure.append(type(exc).__name__)
                finally:
                    driven.set()

            threading.Thread(target=drive, name="plaid-ready-check-browser", daemon=True).start()
        deadline = time.monotonic() + self.opts.login_timeout
        result = None
        while result is None and (remaining := deadline - time.monotonic()) > 0:
            result = self.listener.wait(min(remaining, 0.2))
            if result is None and driven.is_set():  # the browser gave up: nothing more will come
                result = self.listener.wait(0.2)
                break
        if result is None and failure:
            return None, f"the login did not reach the redirect ({failure[0]})"
        if result is None and driven.is_set():
            return None, f"the browser finished without reaching {self.listener.redirect_uri}"
        if result is None:
            return None, f"no redirect to {self.listener.redirect_uri} within {self.opts.login_timeout:g} s"
        if result.code:
            self.sensitive.add(result.code)
        return result, ""

    def login_stage(self) -> None:
        blocker = self._login_blocker()
        if blocker is not None:
            self.skip_rest(Stage.LOGIN, blocker)
            return
        callback, why = self._login()
        assert self.listener is not None
        if callback is None or callback.error or not callback.code or not callback.state_ok:
            if callback is not None and callback.error:
                why = f"the IdP redirected with error={callback.error[:60]} instead of a code"
            elif callback is not None and not callback.code:
                why = "the IdP redirected without a code"
            elif callback is not None:
                why = "the IdP did not return the state it was sent"
            self.set("TOKEN-CLIENT-AUTH", CheckStatus.FAIL, f"login: {why}")
            self.skip_rest(Stage.LOGIN, "no tokens (see TOKEN-CLIENT-AUTH)")
            return
        try:
            resp = self.token_request({"grant_type": "authorization_code", "code": callback.code,
                                       "redirect_uri": self.listener.redirect_uri})
        except NetworkError as exc:
            self.set("TOKEN-CLIENT-AUTH", CheckStatus.FAIL, f"token endpoint: {exc}")
            self.skip_rest(Stage.LOGIN, "no tokens (see TOKEN-CLIENT-AUTH)")
            return
        tokens = resp.json_object()
        if resp.status != 200 or tokens is None or not isinstance(tokens.get("access_token"), str):
            hint = " (the client secret or client authentication method is wrong)" if resp.status == 401 or \
                "invalid_client" in _oauth_error(resp) else ""
            self.set("TOKEN-CLIENT-AUTH", CheckStatus.FAIL,
                     f"code exchange with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}: {_oauth_error(resp)}{hint}")
            self.skip_rest(Stage.LOGIN, "no tokens (see TOKEN-CLIENT-AUTH)")
            return
        self.set("TOKEN-CLIENT-AUTH", CheckStatus.PASS,
                 f"login redirected with a code and the state; the token endpoint accepted "
                 f"{plaid.TOKEN_ENDPOINT_AUTH_METHOD} (HTTP 200, token_type {str(tokens.get('token_type'))[:20]})")
        self.access_token = tokens["access_token"]
        self._access_token(tokens)
        refresh = tokens.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self.set("TOKEN-REFRESH-ISSUED", CheckStatus.PASS, "the code exchange returned a refresh token")
        else:
            self.set("TOKEN-REFRESH-ISSUED", CheckStatus.FAIL,
                     f"no refresh_token although the login asked for {_SCOPES}: Plaid cannot keep access")
            refresh = None
        self._id_token(tokens)
        self._userinfo()
        self._rotation(refresh)

    def _access_token(self, tokens: dict[str, Any]) -> None:
        token = tokens["access_token"]
        parts = _jwt_parts(token)
        if parts is None:
            self.set("TOKEN-JWT", CheckStatus.FAIL,
                     f"opaque access token ({len(token)} characters, not a JWT): the API cannot verify it "
                     "(Auth0: set a default audience)")
        else:
            claims, note = _verify(token, self.jwks, issuer=(self.discovery or {}).get("issuer"),
                                   options={"verify_aud": False, "require": ["exp"]})
            if claims is None:
                self.set("TOKEN-JWT", CheckStatus.FAIL, f"a JWT that does not verify: {note}")
            else:
                aud = claims.get("aud")
                shown = ", ".join(aud) if isinstance(aud, list) else str(aud) if aud is not None else "(none)"
                self.set("TOKEN-JWT", CheckStatus.PASS, f"JWT {note}; iss is the issuer; aud {shown[:160]}")
        seen: list[tuple[str, float]] = []
        expires_in = tokens.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            seen.append(("expires_in", float(expires_in)))
        if parts is not None:
            exp, iat = parts[1].get("exp"), parts[1].get("iat")
            if isinstance(exp, int | float) and isinstance(iat, int | float):
                seen.append(("exp - iat", float(exp - iat)))
        if not seen:
            self.set("TOKEN-AT-LIFETIME", CheckStatus.FAIL, "no expires_in and no exp/iat to read the lifetime from")
            return
        shown = "; ".join(f"{name} {value:g} s" for name, value in seen)
        if any(abs(value - _LIFE) > LIFETIME_TOLERANCE_SECONDS for _, value in seen):
            self.set("TOKEN-AT-LIFETIME", CheckStatus.FAIL, f"{shown}; Plaid: expire access tokens in {_LIFE} s")
        else:
            self.set("TOKEN-AT-LIFETIME", CheckStatus.PASS, shown)

    def _id_token(self, tokens: dict[str, Any]) -> None:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            if self.oidc:
                self.set("TOKEN-SUB", CheckStatus.FAIL, "no id_token in the token response (scope openid)")
            else:
                self.set("TOKEN-SUB", CheckStatus.SKIP, "OAuth 2.0 without id_token: Plaid reads /customers/current")
            return
        claims, note = _verify(id_token, self.jwks, issuer=(self.discovery or {}).get("issuer"),
                               audience=self.opts.client_id, options={"require": ["exp", "sub"]})
        if claims is None:
            self.set("TOKEN-SUB", CheckStatus.FAIL, f"the id_token does not verify: {note}")
            return
        sub = claims.get("sub")
        if not isinstance(sub, str):
            self.set("TOKEN-SUB", CheckStatus.FAIL, "the id_token sub is not a string")
            return
        self.id_sub = sub
        status, shape = _sub_shape(sub)
        self.set("TOKEN-SUB", status, f"id_token {note}, aud is the client; {shape}")

    def _userinfo(self) -> None:
        endpoint = (self.discovery or {}).get("userinfo_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            self.set("USERINFO-SUB", CheckStatus.SKIP, "the discovery document has no userinfo_endpoint")
            return
        if not endpoint.startswith("https://"):
            self.set("USERINFO-SUB", CheckStatus.SKIP,
                     "userinfo_endpoint is not https://: not called, a token never goes over plain http "
                     "(see DISCOVERY-HTTPS)")
            return
        assert self.access_token is not None
        try:
            resp = self.get(endpoint, {"Authorization": f"Bearer {self.access_token}"})
        except NetworkError as exc:
            self.set("USERINFO-SUB", CheckStatus.FAIL, f"userinfo: {exc}")
            return
        body = resp.json_object()
        if resp.status != 200 or body is None:
            self.set("USERINFO-SUB", CheckStatus.FAIL,
                     f"userinfo: HTTP {resp.status}, {resp.media_type or 'no Content-Type'}: expected 200 with JSON")
            return
        sub = body.get("sub")
        if self.id_sub is None:
            self.set("USERINFO-SUB", CheckStatus.FAIL if not isinstance(sub, str) else CheckStatus.WARN,
                     "userinfo answered 200" + (" with a sub" if isinstance(sub, str) else " without sub") +
                     "; no verified id_token sub to compare with")
        elif sub == self.id_sub:
            self.set("USERINFO-SUB", CheckStatus.PASS, "userinfo answered 200 with the id_token's sub")
        else:
            self.set("USERINFO-SUB", CheckStatus.FAIL, "userinfo answered 200 with another sub than the id_token's")

    def _rotation(self, refresh: str | None) -> None:
        if refresh is None:
            self.set("TOKEN-REFRESH-ROTATES", CheckStatus.SKIP,
                     "no refresh token to refresh (see TOKEN-REFRESH-ISSUED)")
            return
        try:
            first = self.token_request({"grant_type": "refresh_token", "refresh_token": refresh})
            body = first.json_object() or {}
            if first.status != 200 or not isinstance(body.get("access_token"), str):
                self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL, f"the refresh was refused: {_oauth_error(first)}")
                return
            new = body.get("refresh_token")
            if not isinstance(new, str) or not new:
                self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL,
                         "the refresh answered without a new refresh_token: refresh tokens do not rotate")
                return
            if new == refresh:
                self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL,
                         "the refresh returned the same refresh token: refresh tokens do not rotate")
                return
            again = self.token_request({"grant_type": "refresh_token", "refresh_token": refresh})
        except NetworkError as exc:
            self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL, f"token endpoint: {exc}")
            return
        if again.status == 200:
            self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL,
                     "a new refresh token came back, but the old one is still accepted")
        elif again.status in (400, 401):
            self.set("TOKEN-REFRESH-ROTATES", CheckStatus.PASS,
                     f"a new refresh token came back; the old one is then refused ({_oauth_error(again)})")
        else:
            self.set("TOKEN-REFRESH-ROTATES", CheckStatus.FAIL,
                     f"reusing the old refresh token: {_oauth_error(again)} (expected 400 invalid_grant)")

    # stage 4

    def api_stage(self) -> None:
        url = self.opts.customers_url
        if url is None:
            self.skip_rest(Stage.API, "no --customers-url")
            return
        self._rejects("API-REJECTS-NO-TOKEN", url, None)
        if self.access_token is None:
            self.skip_rest(Stage.API, "no access token (the login did not run or failed; see TOKEN-CLIENT-AUTH)")
            return
        self._customers_current(url)
        tampered = _tampered(self.access_token)
        self.sensitive.add(tampered)
        self._rejects("API-REJECTS-BAD-TOKEN", url, tampered)

    def _customers_current(self, url: str) -> None:
        assert self.access_token is not None
        try:
            resp = self.get(url, {"Authorization": f"Bearer {self.access_token}"})
        except NetworkError as exc:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL, str(exc))
            return
        if resp.status == 403:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.WARN, f"with the access token: {WAF_BLOCKED}")
            return
        if resp.status != 200:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL,
                     f"HTTP {resp.status} with the access token; expected 200")
            return
        try:
            body = resp.json()
        except (ValueError, UnicodeDecodeError):
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL, f"HTTP 200, {resp.media_type}: the body is not JSON")
            return
        problems = check_schema.problems(body)
        if resp.media_type != "application/json":
            problems.append(f"Content-Type is {resp.media_type or 'absent'}, not application/json")
        if problems:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL,
                     "HTTP 200 but not Plaid's Customer schema: " + "; ".join(problems))
            return
        customer_id = body["customerId"]
        seen = f"HTTP 200, Plaid's Customer schema; customerId has {len(customer_id)} characters"
        if self.id_sub is None:
            status = CheckStatus.PASS if not self.oidc else CheckStatus.WARN
            self.set("API-CUSTOMERS-CURRENT", status, f"{seen}; no verified id_token sub to compare with")
        elif customer_id == self.id_sub:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.PASS, f"{seen}, equal to the id_token sub")
        else:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL,
                     f"{seen}, but not equal to the id_token sub: Plaid would see two different users")

    def _rejects(self, check_id: str, url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        what = "a tampered token (payload changed, signature kept)" if token is not None else "no token"
        try:
            resp = self.get(url, headers)
        except NetworkError as exc:
            self.set(check_id, CheckStatus.FAIL, str(exc))
            return
        code = _fdx_code(resp)
        if resp.status == 403 and str(code) != str(_DENIED.code):
            self.set(check_id, CheckStatus.WARN, f"{what}: {WAF_BLOCKED}")
            return
        seen = f"{what}: HTTP {resp.status}" + (f", code {code!s:.20}" if code is not None else ", no FDX code")
        if resp.status == _DENIED.status and str(code) == str(_DENIED.code):
            self.set(check_id, CheckStatus.PASS, seen)
        else:
            self.set(check_id, CheckStatus.FAIL, f"{seen}; expected {_DENIED.status} with code {_DENIED.code}")

    def run(self) -> list[CheckResult]:
        self.discovery_stage()
        self.keys_stage()
        self.login_stage()
        self.api_stage()
        return [self.results[c.id] for c in CHECKS]

    def redact(self, text: str) -> str:
        for value in sorted(self.sensitive, key=len, reverse=True):
            if value:
                text = text.replace(value, REDACTED)
        return text


# --- output ---------------------------------------------------------------------------------------


def verdict(results: Sequence[CheckResult]) -> str:
    return "not ready" if any(r.status is CheckStatus.FAIL for r in results) else "ready"


def to_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {"checks": [{"id": r.id, "status": r.status.value, "detail": r.detail} for r in results],
            "verdict": verdict(results)}


def to_text(results: Sequence[CheckResult], opts: Options) -> str:
    lines = [f"Plaid live check of {opts.discovery_url}",
             "(what Plaid's Validator checks; tokens, the authorization code and the client secret are never shown)",
             f"  client: {opts.client_id or '(none)'}"
             + (f" (secret from the {opts.secret_source})" if opts.secret_source else ""),
             f"  customers API: {opts.customers_url or '(none)'}"]
    label = {s: s.value.upper() for s in CheckStatus}
    for stage in Stage:
        lines += ["", stage.value]
        for r in results:
            if r.spec.stage is stage:
                lines.append(f"  {label[r.status]:<6} {r.id:<22} {r.spec.requirement}")
                lines.append(f"  {'':<6} {'':<22} seen: {r.detail}")
    counts = {s: sum(1 for r in results if r.status is s) for s in CheckStatus}
    lines += ["", f"Plaid live check ({len(results)} checks: {counts[CheckStatus.PASS]} pass, "
                  f"{counts[CheckStatus.WARN]} warn, {counts[CheckStatus.FAIL]} fail, {counts[CheckStatus.SKIP]} skip)"]
    failed = [r.id for r in results if r.status is CheckStatus.FAIL]
    if failed:
        lines.append("Verdict: NOT READY for Plaid: " + ", ".join(failed) + " failed.")
    elif counts[CheckStatus.SKIP]:
        lines.append("Verdict: ready for Plaid as far as checked (nothing fails; skipped checks did not run, "
                     "see their reasons).")
    else:
        lines.append("Verdict: ready for Plaid (every check passes" +
                     ("; see the warnings)." if counts[CheckStatus.WARN] else ")."))
    return "\n".join(lines)


def main(argv: Sequence[str], browser: Browser | None = None) -> int:
    """``plaid-ready check`` (argv after "check"). ``browser`` drives the login for tests and automation."""
    try:
        opts = parse_options(argv)
    except UsageError as exc:
        print(f"plaid-ready check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        tls_context(opts.cacert)
    except (OSError, ValueError):
        print("plaid-ready check: error: --cacert: not a readable PEM CA certificate", file=sys.stderr)
        return EXIT_USAGE
    listener = None
    if opts.client_id is not None and opts.secret is not None:
        try:
            listener = CallbackListener(opts.redirect_port, opts.redirect_host)
        except OSError as exc:
            print(f"plaid-ready check: error: cannot listen on 127.0.0.1:{opts.redirect_port} "
                  f"({exc.strerror or 'in use'}); pass another --redirect-port and allow its callback URI",
                  file=sys.stderr)
            return EXIT_USAGE
    run = _Run(opts, browser, listener)
    try:
        results = run.run()
    except Exception as exc:  # noqa: BLE001 - a bug must not dump a traceback that could hold a token
        print(f"plaid-ready check: internal error ({type(exc).__name__}); this is a bug, please report it",
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if listener is not None:
            listener.close()
    text = json.dumps(to_json(results), indent=2) if opts.json else to_text(results, opts)
    print(run.redact(text))
    return EXIT_FAILED if verdict(results) == "not ready" else EXIT_OK
