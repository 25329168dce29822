"""``plaid-ready check``: Plaid's Validator, run by the bank before Plaid runs it (docs/check.md).

The offline plan proves what a stack declares; this checks what is live, the way Plaid judges it, in four
stages run in order: **Discovery**, **Keys**, **Login and tokens** (an authorization-code login through a
loopback redirect, as Plaid's client) and **API** (``GET /customers/current``). A stage that lacks its
inputs is skipped with the reason, not failed. Every check has a stable id (:data:`CHECKS`) and ends
``pass``, ``fail``, ``warn`` or ``skip`` with what was seen.

Exit 0 when no check fails, 1 when one does, 2 for a usage error (one line, no traceback). Tokens, the
authorization code and the client secret never appear in the output; the secret never goes on the command
line (``--client-secret-env NAME`` or ``--secret-arn ARN``). Bounded: each request completes within
``--timeout`` (one deadline for DNS, connection, TLS, headers and body), a run makes at most
:data:`MAX_REQUESTS` of them, and the login waits at most ``--login-timeout`` (docs/check.md states the
whole-run bound).

Modules: check_model (ids, stages, results), check_options (command line), check_http (HTTPS with one
deadline), check_login (loopback callback, ``--login-command``), check_tokens (JWTs and keys),
check_output (verdict, text, JSON), check_schema (Plaid's Customer schema).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import plaid_contract as plaid
from lambdas.customers_current.verifier import MIN_RSA_BITS
from readiness import check_schema
from readiness.check_http import NetworkError, Response, request, tls_context
from readiness.check_login import Callback, CallbackListener, LoginCommand, LoginCommandFailed
from readiness.check_model import (
    CHECK_IDS,
    CHECKS,
    LIFETIME_TOLERANCE_SECONDS,
    SCOPES_TEXT,
    SPECS,
    CheckResult,
    CheckSpec,
    CheckStatus,
    Stage,
)
from readiness.check_options import OIDC_DISCOVERY_SUFFIX, Options, UsageError, parse_options
from readiness.check_output import NOT_READY, terminal_safe, to_json, to_text, verdict
from readiness.check_tokens import (
    jwt_parts,
    rsa_bits,
    shown,
    shown_kid,
    signing_keys,
    sub_shape,
    tampered,
)
from readiness.check_tokens import verify as verify_token

__all__ = ["CHECKS", "CHECK_IDS", "CheckResult", "CheckSpec", "CheckStatus", "Options", "Stage", "UsageError",
           "main", "parse_options", "request", "to_json", "to_text", "verdict"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REDACTED: Final = "[redacted]"
_LIFE = plaid.ACCESS_TOKEN_LIFETIME_SECONDS
_DENIED = plaid.CUSTOMER_NOT_AUTHORIZED

#: The authorize request the check sends: Plaid's documented parameters (plaid_contract), in Plaid's order,
#: plus ``nonce`` (OIDC Core 3.1.2.1; Plaid documents none, some IdPs refuse a request without one). Each run
#: draws a fresh ``state`` and ``nonce`` from a CSPRNG; the id_token must carry the nonce back (TOKEN-SUB).
AUTHORIZE_PARAMETERS: Final[tuple[str, ...]] = (*plaid.AUTHORIZE_PARAMETERS, "nonce")
#: Requests one run makes at most: discovery, JWKS, code exchange, userinfo, refresh, refresh reuse, and the
#: API without a token, with the token and with a tampered token. With the login and the Secrets Manager read
#: this bounds a run (docs/check.md, "Bounds").
MAX_REQUESTS: Final = 9
#: error_description from an IdP is shown up to this many characters.
DESCRIPTION_SHOWN: Final = 160

#: A 403 without FDX code 602 at the API: the WAF (it lets only Plaid's addresses through) answered, not the API.
WAF_BLOCKED: Final = ("HTTP 403, blocked before the API (the WAF lets only Plaid's addresses through); run the check "
                      "from an address in allowlist.extraCidrs to judge the API's own answer")
_CLIENT_AUTH_HINT: Final = " (the client secret or client authentication method is wrong)"

#: Drives the browser part of the login: receives the authorize URL; must end with the IdP redirecting
#: to the loopback callback. A person with a browser by default; ``--login-command``; tests pass a callable.
Browser = Callable[[str], None]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fdx_code(resp: Response) -> Any:  # noqa: ANN401 - whatever the body says
    body = resp.json_object()
    code = None if body is None else body.get("code")
    return code if code is None or isinstance(code, int | str) and not isinstance(code, bool) else shown(code)


def _oauth_error(resp: Response) -> str:
    """``HTTP 400 invalid_grant: description``: the error code when it is one, the description bounded."""
    body = resp.json_object() or {}
    error, description = body.get("error"), body.get("error_description")
    shown_error = f" {error}" if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,40}", error) else ""
    shown_description = f": {shown(description, DESCRIPTION_SHOWN)}" if isinstance(description, str) and \
        description.strip() else ""
    return f"HTTP {resp.status}{shown_error}{shown_description}"


def _oauth_error_code(resp: Response) -> str | None:
    error = (resp.json_object() or {}).get("error")
    return error if isinstance(error, str) else None


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
    state: str = ""
    nonce: str = ""
    requests: int = 0

    def __post_init__(self) -> None:
        self.tls = tls_context(self.opts.cacert)
        if self.opts.secret:
            self.sensitive.add(self.opts.secret)

    @property
    def login_requested(self) -> bool:
        return self.opts.client_id is not None and self.opts.secret is not None

    # results

    def set(self, check_id: str, status: CheckStatus, detail: str, *, for_lack_of_input: bool = False) -> None:
        self.results[check_id] = CheckResult(SPECS[check_id], status, detail, for_lack_of_input)

    def skip_rest(self, stage: Stage, reason: str, *, for_lack_of_input: bool = False) -> None:
        for spec in CHECKS:
            if spec.stage is stage and spec.id not in self.results:
                self.set(spec.id, CheckStatus.SKIP, reason, for_lack_of_input=for_lack_of_input)

    # network

    def _send(self, method: str, url: str, headers: dict[str, str] | None = None,
              form: dict[str, str] | None = None) -> Response:
        self.requests += 1
        assert self.requests <= MAX_REQUESTS, "a run makes at most MAX_REQUESTS requests (docs/check.md, Bounds)"
        return request(method, url, context=self.tls, timeout=self.opts.timeout, headers=headers, form=form)

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        return self._send("GET", url, headers)

    def token_request(self, form: dict[str, str]) -> Response:
        assert self.discovery is not None and self.opts.client_id is not None and self.opts.secret is not None
        # RFC 6749 2.3.1: client id and secret are form-encoded, then joined and base64-encoded.
        pair = f"{urllib.parse.quote_plus(self.opts.client_id)}:{urllib.parse.quote_plus(self.opts.secret)}"
        basic = base64.b64encode(pair.encode()).decode()
        self.sensitive.update(v for k, v in form.items() if k in ("code", "refresh_token"))
        resp = self._send("POST", self.discovery["token_endpoint"], {"Authorization": f"Basic {basic}"}, form)
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
            seen = f"HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}"
            why = resp.not_an_object() if resp.status == 200 else "expected 200"
            self.set("DISCOVERY-FETCH", CheckStatus.FAIL, f"{seen}: {why}")
            self.skip_rest(Stage.DISCOVERY, "no discovery document (see DISCOVERY-FETCH)")
            return
        self.discovery = doc
        seen = f"HTTP 200, {shown(resp.media_type or 'no Content-Type', 60)}, {len(doc)} fields"
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
                     "not https://: " + ", ".join(f"{shown(k, 60)} = {shown(urls[k])}" for k in bad[:10]))
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
        issuer = doc.get("issuer")
        if "issuer" not in missing and not isinstance(issuer, str):
            problems.append("issuer is not a string")
        if problems:
            self.set("DISCOVERY-FIELDS", CheckStatus.FAIL, "; ".join(problems))
            return
        kind = "OIDC" if self.oidc else "OAuth 2.0"
        expected = issuer.rstrip("/") + (OIDC_DISCOVERY_SUFFIX if self.oidc else "")
        if self.oidc and url.rstrip("/") != expected:
            self.set("DISCOVERY-FIELDS", CheckStatus.WARN,
                     f"{kind} fields present; issuer {shown(issuer)} is not where the document was fetched "
                     "(OIDC Discovery expects <issuer>" + OIDC_DISCOVERY_SUFFIX + ")")
            return
        self.set("DISCOVERY-FIELDS", CheckStatus.PASS,
                 f"{kind}: {', '.join(required)} present; response_types_supported includes code")

    def _scopes(self, doc: dict[str, Any]) -> None:
        scopes = doc.get("scopes_supported")
        if not isinstance(scopes, list):
            self.set("DISCOVERY-SCOPES", CheckStatus.FAIL,
                     f"scopes_supported is absent; Plaid needs it to list {SCOPES_TEXT}")
            return
        missing = [s for s in plaid.REQUIRED_SCOPES if s not in scopes]
        if missing:
            self.set("DISCOVERY-SCOPES", CheckStatus.FAIL,
                     f"scopes_supported lacks {', '.join(missing)} (lists {_count(len(scopes), 'scope')})")
        else:
            self.set("DISCOVERY-SCOPES", CheckStatus.PASS, f"scopes_supported includes {SCOPES_TEXT}")

    def _auth_method(self, doc: dict[str, Any]) -> None:
        methods = doc.get("token_endpoint_auth_methods_supported")
        basic = plaid.TOKEN_ENDPOINT_AUTH_METHOD
        if methods is None:
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.PASS, f"absent: Plaid uses {basic} by default")
        elif isinstance(methods, list) and basic in methods:
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.PASS, f"includes {basic}")
        else:
            listed = ", ".join(shown(m, 40) for m in methods[:10]) if isinstance(methods, list) else "not a list"
            self.set("DISCOVERY-AUTH-METHOD", CheckStatus.FAIL, f"lists {listed}; Plaid authenticates with {basic}")

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
            why = resp.not_an_object() if resp.status == 200 and doc is None else 'expected 200 with {"keys": [...]}'
            self.set("JWKS-KEYS", CheckStatus.FAIL,
                     f"jwks_uri: HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}: {why}")
            return
        self.jwks = doc
        keys = [k for k in doc["keys"] if isinstance(k, dict)]
        signing = signing_keys(doc)
        problems: list[str] = []
        if any("d" in k or k.get("kty") == "oct" for k in keys):
            problems.append("the JWKS publishes private or symmetric key material")
        if not signing:
            problems.append("no signing key (use sig)")
        no_kid = [k for k in signing if not k.get("kid")]
        if no_kid:
            problems.append(f"{len(no_kid)} of {len(signing)} signing keys have no kid")
        odd_kid = [k for k in signing if k.get("kid") and not isinstance(k.get("kid"), str)]
        if odd_kid:
            problems.append(f"{len(odd_kid)} of {len(signing)} signing keys have a kid that is not a string")
        weak = [k for k in signing if k.get("kty") == "RSA" and rsa_bits(k) < MIN_RSA_BITS]
        if weak:
            problems.append(f"{len(weak)} RSA keys under {MIN_RSA_BITS} bits")
        described = "; ".join(
            f"{shown(k.get('kty'), 10)}{' ' + str(rsa_bits(k)) + ' bits' if k.get('kty') == 'RSA' else ''} "
            f"kid {shown_kid(k.get('kid'))}" for k in signing[:5])
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

    def _login_blocker(self) -> tuple[str, bool] | None:
        """Why the login cannot run, and whether that is for lack of an input; None when it can."""
        if self.opts.client_id is None:
            return "no --client-id (and no secret): the login is not requested", True
        if self.opts.secret is None:
            arn = f" (the stack's credentials_secret_arn is {self.opts.secret_arn_hint})" \
                if self.opts.secret_arn_hint else ""
            return f"no client secret: pass --client-secret-env NAME or --secret-arn ARN{arn}", True
        if self.discovery is None:
            return "no discovery document (see DISCOVERY-FETCH)", False
        for key in ("authorization_endpoint", "token_endpoint"):
            value = self.discovery.get(key)
            if not isinstance(value, str) or not value.startswith("https://"):
                return f"{key} is missing or not https:// (the secret is never sent over plain http)", False
        return None

    def authorize_url(self, redirect_uri: str) -> str:
        """Plaid's authorize request (plaid_contract.AUTHORIZE_PARAMETERS) plus this run's nonce."""
        assert self.discovery is not None and self.opts.client_id is not None
        endpoint = self.discovery["authorization_endpoint"]
        values = {"response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "redirect_uri": redirect_uri,
                  "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES), "client_id": self.opts.client_id,
                  "state": self.state, "nonce": self.nonce}
        query = urllib.parse.urlencode([(k, values[k]) for k in AUTHORIZE_PARAMETERS], quote_via=urllib.parse.quote)
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def _login(self) -> tuple[Callback | None, str]:
        listener = self.listener
        assert listener is not None
        self.state, self.nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        listener.start(self.state)
        url = self.authorize_url(listener.redirect_uri)
        print(f"authorize_url: {terminal_safe(url)}", file=sys.stderr, flush=True)
        failure: list[str] = []
        driven = threading.Event()
        browser = self.browser
        if browser is not None:

            def drive() -> None:
                try:
                    browser(url)
                except LoginCommandFailed as exc:
                    failure.append(shown(str(exc), 300))
                except OSError as exc:
                    failure.append(f"the login command could not start ({type(exc).__name__})")
                except Exception as exc:  # noqa: BLE001 - reported as the login's failure
                    failure.append(f"the login did not reach the redirect ({type(exc).__name__})")
                finally:
                    driven.set()

            threading.Thread(target=drive, name="plaid-ready-check-browser", daemon=True).start()
        deadline = time.monotonic() + self.opts.login_timeout
        result, finished = None, False
        try:
            while result is None and (remaining := deadline - time.monotonic()) > 0:
                result = listener.wait(min(remaining, 0.1))
                if result is None and driven.is_set():  # the browser is done: only a redirect in flight can come
                    result, finished = listener.wait(0.5), True
                    break
        finally:
            if isinstance(browser, LoginCommand):
                browser.stop()
        if result is not None:
            if result.code:
                self.sensitive.add(result.code)
            return result, ""
        ignored = f" ({_count(listener.ignored, 'callback')} with another state ignored)" if listener.ignored else ""
        if failure and finished:
            return None, failure[0] + ignored
        if finished:
            who = "the login command exited 0" if isinstance(browser, LoginCommand) else "the browser finished"
            return None, f"{who} without reaching {listener.redirect_uri}{ignored}"
        return None, (f"no redirect to {listener.redirect_uri} with this login's state within "
                      f"{self.opts.login_timeout:g} s{ignored}")

    def login_stage(self) -> None:
        blocker = self._login_blocker()
        if blocker is not None:
            self.skip_rest(Stage.LOGIN, blocker[0], for_lack_of_input=blocker[1])
            return
        callback, why = self._login()
        assert self.listener is not None
        if callback is None or callback.error or not callback.code:
            if callback is not None and callback.error:
                description = f" ({shown(callback.error_description, DESCRIPTION_SHOWN)})" \
                    if callback.error_description else ""
                why = f"the IdP redirected with error={shown(callback.error, 60)}{description} instead of a code"
            elif callback is not None:
                why = "the IdP redirected without a code"
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
        token = tokens.get("access_token") if tokens is not None else None
        if resp.status != 200 or tokens is None or not isinstance(token, str) or not token:
            wrong_secret = resp.status in (401, 403) or _oauth_error_code(resp) in ("invalid_client",
                                                                                     "unauthorized_client")
            body = "" if resp.status != 200 else f"; {resp.not_an_object()}" if tokens is None else \
                "; no access_token in the answer"
            self.set("TOKEN-CLIENT-AUTH", CheckStatus.FAIL,
                     f"code exchange with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}: {_oauth_error(resp)}{body}"
                     + (_CLIENT_AUTH_HINT if wrong_secret else ""))
            self.skip_rest(Stage.LOGIN, "no tokens (see TOKEN-CLIENT-AUTH)")
            return
        self.set("TOKEN-CLIENT-AUTH", CheckStatus.PASS,
                 f"login redirected with a code and the state; the token endpoint accepted "
                 f"{plaid.TOKEN_ENDPOINT_AUTH_METHOD} (HTTP 200, token_type {shown(tokens.get('token_type'), 20)})")
        self.access_token = token
        self._access_token(tokens)
        refresh = self._refresh_issued(tokens)
        self._id_token(tokens)
        self._userinfo()
        self._rotation(refresh)

    def _access_token(self, tokens: dict[str, Any]) -> None:
        token = tokens["access_token"]
        parts = jwt_parts(token)
        if parts is None:
            self.set("TOKEN-JWT", CheckStatus.FAIL,
                     f"opaque access token ({len(token)} characters, not a JWT): the API cannot verify it "
                     "(Auth0: set a default audience)")
        else:
            claims, note = verify_token(token, self.jwks, issuer=(self.discovery or {}).get("issuer"),
                                        options={"verify_aud": False, "require": ["exp"]})
            if claims is None:
                self.set("TOKEN-JWT", CheckStatus.FAIL, f"a JWT that does not verify: {note}")
            else:
                aud = claims.get("aud")
                listed = ", ".join(shown(a, 80) for a in aud[:4]) if isinstance(aud, list) else \
                    shown(aud, 160) if aud is not None else "(none)"
                self.set("TOKEN-JWT", CheckStatus.PASS, f"JWT {note}; iss is the issuer; aud {listed}")
        seen: list[tuple[str, float]] = []
        expires_in = tokens.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            seen.append(("expires_in", float(expires_in)))
        if parts is not None:
            exp, iat = parts[1].get("exp"), parts[1].get("iat")
            if isinstance(exp, int | float) and isinstance(iat, int | float) and not isinstance(exp, bool) \
                    and not isinstance(iat, bool):
                seen.append(("exp - iat", float(exp - iat)))
        if not seen:
            self.set("TOKEN-AT-LIFETIME", CheckStatus.FAIL, "no expires_in and no exp/iat to read the lifetime from")
            return
        listed = "; ".join(f"{name} {value:g} s" for name, value in seen)
        if any(abs(value - _LIFE) > LIFETIME_TOLERANCE_SECONDS for _, value in seen):
            self.set("TOKEN-AT-LIFETIME", CheckStatus.FAIL, f"{listed}; Plaid: expire access tokens in {_LIFE} s")
        else:
            self.set("TOKEN-AT-LIFETIME", CheckStatus.PASS, listed)

    def _refresh_issued(self, tokens: dict[str, Any]) -> str | None:
        """TOKEN-REFRESH-ISSUED, with the scopes granted (RFC 6749 5.1: ``scope`` is stated when it differs
        from the request). Returns the refresh token, if any."""
        refresh = tokens.get("refresh_token")
        refresh = refresh if isinstance(refresh, str) and refresh else None
        scope = tokens.get("scope")
        granted = scope.split() if isinstance(scope, str) and scope.strip() else None
        offline = plaid.REQUIRED_SCOPES[1]
        scopes = "granted scopes not stated" if granted is None else f"granted scopes: {shown(' '.join(granted), 160)}"
        dropped = granted is not None and offline not in granted
        if refresh is None:
            why = f"; the IdP dropped {offline} from the granted scopes" if dropped else ""
            self.set("TOKEN-REFRESH-ISSUED", CheckStatus.FAIL,
                     f"no refresh_token although the login asked for {SCOPES_TEXT}: Plaid cannot keep access "
                     f"({scopes}{why})")
        elif dropped:
            self.set("TOKEN-REFRESH-ISSUED", CheckStatus.WARN,
                     f"the code exchange returned a refresh token, but {scopes}: the IdP dropped {offline} "
                     "silently; make sure the refresh token outlives the session")
        else:
            self.set("TOKEN-REFRESH-ISSUED", CheckStatus.PASS, f"the code exchange returned a refresh token; {scopes}")
        return refresh

    def _id_token(self, tokens: dict[str, Any]) -> None:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            if self.oidc:
                self.set("TOKEN-SUB", CheckStatus.FAIL, "no id_token in the token response (scope openid)")
            else:
                self.set("TOKEN-SUB", CheckStatus.SKIP, "OAuth 2.0 without id_token: Plaid reads /customers/current")
            return
        claims, note = verify_token(id_token, self.jwks, issuer=(self.discovery or {}).get("issuer"),
                                    audience=self.opts.client_id, options={"require": ["exp", "sub"]})
        if claims is None:
            self.set("TOKEN-SUB", CheckStatus.FAIL, f"the id_token does not verify: {note}")
            return
        sub = claims.get("sub")
        if not isinstance(sub, str):
            self.set("TOKEN-SUB", CheckStatus.FAIL, "the id_token sub is not a string")
            return
        self.id_sub = sub
        status, shape = sub_shape(sub)
        nonce = claims.get("nonce")
        if nonce is None:
            status, said = CheckStatus.FAIL, ("it carries no nonce although the login sent one (OIDC Core 3.1.3.7: "
                                              "the nonce ties the id_token to this login)")
        elif not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), self.nonce.encode()):
            status, said = CheckStatus.FAIL, ("its nonce is not the one this login sent: a replayed or mixed-up "
                                              "id_token (OIDC Core 3.1.3.7)")
        else:
            said = "nonce is the login's"
        self.set("TOKEN-SUB", status, f"id_token {note}, aud is the client; {said}; {shape}")

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
            why = resp.not_an_object() if resp.status == 200 else "expected 200 with JSON"
            self.set("USERINFO-SUB", CheckStatus.FAIL,
                     f"userinfo: HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}: {why}")
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
            self.skip_rest(Stage.API, "no --customers-url", for_lack_of_input=True)
            return
        self._rejects("API-REJECTS-NO-TOKEN", url, None)
        if self.access_token is None:
            self.skip_rest(Stage.API, "no access token (the login did not run or failed; see TOKEN-CLIENT-AUTH)",
                           for_lack_of_input=not self.login_requested)
            return
        self._customers_current(url)
        bad = tampered(self.access_token)
        self.sensitive.add(bad)
        self._rejects("API-REJECTS-BAD-TOKEN", url, bad)

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
        except ValueError as exc:
            self.set("API-CUSTOMERS-CURRENT", CheckStatus.FAIL,
                     f"HTTP 200, {shown(resp.media_type or 'no Content-Type', 60)}: {exc}")
            return
        problems = check_schema.problems(body)
        if resp.media_type != "application/json":
            problems.append(f"Content-Type is {shown(resp.media_type or 'absent', 60)}, not application/json")
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
        seen = f"{what}: HTTP {resp.status}" + (f", code {shown(code, 20)}" if code is not None else ", no FDX code")
        if resp.status == _DENIED.status and str(code) == str(_DENIED.code):
            self.set(check_id, CheckStatus.PASS, seen)
        else:
            self.set(check_id, CheckStatus.FAIL, f"{seen}; expected {_DENIED.status} with code {_DENIED.code}")

    def run(self) -> list[CheckResult]:
        for stage, judge in ((Stage.DISCOVERY, self.discovery_stage), (Stage.KEYS, self.keys_stage),
                             (Stage.LOGIN, self.login_stage), (Stage.API, self.api_stage)):
            try:
                judge()
            except RecursionError:  # a document nested deeper than any check can walk: a failure, not a crash
                for spec in CHECKS:
                    if spec.stage is stage and spec.id not in self.results:
                        self.set(spec.id, CheckStatus.FAIL, "a server's answer is nested too deeply to judge")
        return [self.results[c.id] for c in CHECKS]

    def redact(self, text: str) -> str:
        for value in sorted(self.sensitive, key=len, reverse=True):
            if value:
                text = text.replace(value, REDACTED)
        return text


def main(argv: Sequence[str], browser: Browser | None = None) -> int:
    """``plaid-ready check`` (argv after "check"). ``browser`` drives the login for tests; ``--login-command``
    drives it for automation."""
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
        if browser is None and opts.login_command is not None:
            hidden = frozenset({opts.secret_env} if opts.secret_env else set())
            browser = LoginCommand(opts.login_command, listener.redirect_uri, hidden)
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
    return EXIT_FAILED if verdict(results) == NOT_READY else EXIT_OK
