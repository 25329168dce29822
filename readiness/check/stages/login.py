"""Stage 3, **Login and tokens**: an authorization-code login as Plaid's client, through a loopback redirect, then
the tokens it yields (docs/check.md).

The login: a fresh ``state`` and ``nonce`` from a CSPRNG, Plaid's authorize request (plaid_contract) plus the nonce,
a browser (a person, ``--login-command``, or a test's callable) that must end with the IdP redirecting to the
loopback listener (readiness.check.loopback), then the code exchange with ``client_secret_basic``. The code, the
tokens and the secret are sensitive: never printed (readiness.check.run redacts them).
"""

from __future__ import annotations

import hmac
import re
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Any, Final

import plaid_contract as plaid
from readiness.check.http import NetworkError, Response
from readiness.check.loopback import Callback, LoginCommand, LoginCommandFailed
from readiness.check.model import (
    LIFETIME_TOLERANCE_SECONDS,
    SCOPES_TEXT,
    CheckStatus,
    Outcome,
    Stage,
    failed,
    passed,
    skipped,
    warned,
)
from readiness.check.output import terminal_safe
from readiness.check.registry import StageChecks
from readiness.check.run import Run
from readiness.check.tokens import count, jwt_parts, shown, sub_shape
from readiness.check.tokens import verify as verify_token

#: The authorize request the check sends: Plaid's documented parameters (plaid_contract), in Plaid's order,
#: plus ``nonce`` (OIDC Core 3.1.2.1; Plaid documents none, some IdPs refuse a request without one). Each run
#: draws a fresh ``state`` and ``nonce`` from a CSPRNG; the id_token must carry the nonce back (TOKEN-SUB).
AUTHORIZE_PARAMETERS: Final[tuple[str, ...]] = (*plaid.AUTHORIZE_PARAMETERS, "nonce")
#: error_description from an IdP is shown up to this many characters.
DESCRIPTION_SHOWN: Final = 160
_CLIENT_AUTH_HINT: Final = " (the client secret or client authentication method is wrong)"
#: Why an access token that is not a JWT fails, and where to look: each IdP's page in docs/ says how to make it
#: issue JWT access tokens for the API when the authorize request, like Plaid's, names no audience.
OPAQUE_HINT: Final = ("the IdP must issue JWT access tokens for your API when the authorize request names no "
                      "audience, as Plaid's does: see your IdP's page in docs/")
_LIFE: Final = plaid.ACCESS_TOKEN_LIFETIME_SECONDS
NO_TOKENS: Final = "no tokens (see TOKEN-CLIENT-AUTH)"


def _gate(run: Run) -> Outcome | None:
    """Why the login cannot run (a skip, for lack of an input or not); None when it can."""
    if run.opts.client_id is None:
        return skipped("no --client-id (and no secret): the login is not requested", for_lack_of_input=True)
    if run.opts.secret is None:
        arn = f" (the stack's credentials_secret_arn is {run.opts.secret_arn_hint})" \
            if run.opts.secret_arn_hint else ""
        return skipped(f"no client secret: pass --client-secret-env NAME or --secret-arn ARN{arn}",
                       for_lack_of_input=True)
    if run.discovery is None:
        return skipped("no discovery document (see DISCOVERY-FETCH)")
    for key in ("authorization_endpoint", "token_endpoint"):
        value = run.discovery.get(key)
        if not isinstance(value, str) or not value.startswith("https://"):
            return skipped(f"{key} is missing or not https:// (the secret is never sent over plain http)")
    return None


STAGE = StageChecks(Stage.LOGIN, gate=_gate)


def _tokens(run: Run) -> Outcome | None:
    return skipped(NO_TOKENS) if run.tokens is None else None


def _received(run: Run) -> dict[str, Any]:
    assert run.tokens is not None
    return run.tokens


# --- the login ------------------------------------------------------------------------------------------------


def authorize_url(run: Run, redirect_uri: str) -> str:
    """Plaid's authorize request (plaid_contract.AUTHORIZE_PARAMETERS) plus this run's nonce."""
    assert run.discovery is not None and run.opts.client_id is not None
    endpoint = run.discovery["authorization_endpoint"]
    values = {"response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "redirect_uri": redirect_uri,
              "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES), "client_id": run.opts.client_id,
              "state": run.state, "nonce": run.nonce}
    query = urllib.parse.urlencode([(k, values[k]) for k in AUTHORIZE_PARAMETERS], quote_via=urllib.parse.quote)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _login(run: Run) -> tuple[Callback | None, str]:
    """The browser part: (what came back to the callback, or None with why not)."""
    listener = run.listener
    assert listener is not None
    run.state, run.nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    listener.start(run.state)
    url = authorize_url(run, listener.redirect_uri)
    print(f"authorize_url: {terminal_safe(url)}", file=sys.stderr, flush=True)
    failure: list[str] = []
    driven = threading.Event()
    browser = run.browser
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
    deadline = time.monotonic() + run.opts.login_timeout
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
            run.sensitive.add(result.code)
        return result, ""
    ignored = f" ({count(listener.ignored, 'callback')} with another state ignored)" if listener.ignored else ""
    if failure and finished:
        return None, failure[0] + ignored
    if finished:
        who = "the login command exited 0" if isinstance(browser, LoginCommand) else "the browser finished"
        return None, f"{who} without reaching {listener.redirect_uri}{ignored}"
    return None, (f"no redirect to {listener.redirect_uri} with this login's state within "
                  f"{run.opts.login_timeout:g} s{ignored}")


def oauth_error(resp: Response) -> str:
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


# --- the checks ---------------------------------------------------------------------------------------------


@STAGE.check("TOKEN-CLIENT-AUTH",
             f"the login returns a code; the token endpoint takes it with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}")
def client_auth(run: Run) -> Outcome:
    callback, why = _login(run)
    assert run.listener is not None
    if callback is None or callback.error or not callback.code:
        if callback is not None and callback.error:
            description = f" ({shown(callback.error_description, DESCRIPTION_SHOWN)})" \
                if callback.error_description else ""
            why = f"the IdP redirected with error={shown(callback.error, 60)}{description} instead of a code"
        elif callback is not None:
            why = "the IdP redirected without a code"
        return failed(f"login: {why}")
    try:
        resp = run.token_request({"grant_type": "authorization_code", "code": callback.code,
                                  "redirect_uri": run.listener.redirect_uri})
    except NetworkError as exc:
        return failed(f"token endpoint: {exc}")
    tokens = resp.json_object()
    token = tokens.get("access_token") if tokens is not None else None
    if resp.status != 200 or tokens is None or not isinstance(token, str) or not token:
        wrong_secret = resp.status in (401, 403) or _oauth_error_code(resp) in ("invalid_client",
                                                                                 "unauthorized_client")
        body = "" if resp.status != 200 else f"; {resp.not_an_object()}" if tokens is None else \
            "; no access_token in the answer"
        return failed(f"code exchange with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}: {oauth_error(resp)}{body}"
                      + (_CLIENT_AUTH_HINT if wrong_secret else ""))
    run.tokens, run.access_token = tokens, token
    return passed(f"login redirected with a code and the state; the token endpoint accepted "
                  f"{plaid.TOKEN_ENDPOINT_AUTH_METHOD} (HTTP 200, token_type {shown(tokens.get('token_type'), 20)})")


@STAGE.check("TOKEN-JWT", "the access token is a JWT (not opaque) that verifies against the JWKS", needs=[_tokens])
def access_token_jwt(run: Run) -> Outcome:
    token = _received(run)["access_token"]
    if jwt_parts(token) is None:
        return failed(f"opaque access token ({len(token)} characters, not a JWT): the API cannot verify it "
                      f"({OPAQUE_HINT})")
    claims, note = verify_token(token, run.jwks, issuer=(run.discovery or {}).get("issuer"),
                                options={"verify_aud": False, "require": ["exp"]})
    if claims is None:
        return failed(f"a JWT that does not verify: {note}")
    aud = claims.get("aud")
    listed = ", ".join(shown(a, 80) for a in aud[:4]) if isinstance(aud, list) else \
        shown(aud, 160) if aud is not None else "(none)"
    return passed(f"JWT {note}; iss is the issuer; aud {listed}")


@STAGE.check("TOKEN-AT-LIFETIME", f"the access token lives {_LIFE} s (+/- {LIFETIME_TOLERANCE_SECONDS} s)",
             needs=[_tokens])
def access_token_lifetime(run: Run) -> Outcome:
    tokens = _received(run)
    parts = jwt_parts(tokens["access_token"])
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
        return failed("no expires_in and no exp/iat to read the lifetime from")
    listed = "; ".join(f"{name} {value:g} s" for name, value in seen)
    if any(abs(value - _LIFE) > LIFETIME_TOLERANCE_SECONDS for _, value in seen):
        return failed(f"{listed}; Plaid: expire access tokens in {_LIFE} s")
    return passed(listed)


@STAGE.check("TOKEN-REFRESH-ISSUED", "the code exchange returns a refresh token", needs=[_tokens])
def refresh_issued(run: Run) -> Outcome:
    """With the scopes granted (RFC 6749 5.1: ``scope`` is stated when it differs from the request). Leaves the
    refresh token, if any, for TOKEN-REFRESH-ROTATES."""
    tokens = _received(run)
    refresh = tokens.get("refresh_token")
    run.refresh_token = refresh if isinstance(refresh, str) and refresh else None
    scope = tokens.get("scope")
    granted = scope.split() if isinstance(scope, str) and scope.strip() else None
    offline = plaid.REQUIRED_SCOPES[1]
    scopes = "granted scopes not stated" if granted is None else f"granted scopes: {shown(' '.join(granted), 160)}"
    dropped = granted is not None and offline not in granted
    if run.refresh_token is None:
        why = f"; the IdP dropped {offline} from the granted scopes" if dropped else ""
        return failed(f"no refresh_token although the login asked for {SCOPES_TEXT}: Plaid cannot keep access "
                      f"({scopes}{why})")
    if dropped:
        return warned(f"the code exchange returned a refresh token, but {scopes}: the IdP dropped {offline} "
                      "silently; make sure the refresh token outlives the session")
    return passed(f"the code exchange returned a refresh token; {scopes}")


@STAGE.check("TOKEN-SUB",
             f"the id_token verifies and carries the login's nonce; its sub has >= {plaid.CONSISTENCY_KEY_MIN_LENGTH} "
             "characters and is no email address or phone number", needs=[_tokens])
def id_token_sub(run: Run) -> Outcome:
    id_token = _received(run).get("id_token")
    if not isinstance(id_token, str):
        if run.oidc:
            return failed("no id_token in the token response (scope openid)")
        return skipped("OAuth 2.0 without id_token: Plaid reads /customers/current")
    claims, note = verify_token(id_token, run.jwks, issuer=(run.discovery or {}).get("issuer"),
                                audience=run.opts.client_id, options={"require": ["exp", "sub"]})
    if claims is None:
        return failed(f"the id_token does not verify: {note}")
    sub = claims.get("sub")
    if not isinstance(sub, str):
        return failed("the id_token sub is not a string")
    run.id_sub = sub
    status, shape = sub_shape(sub)
    nonce = claims.get("nonce")
    if nonce is None:
        status, said = CheckStatus.FAIL, ("it carries no nonce although the login sent one (OIDC Core 3.1.3.7: "
                                          "the nonce ties the id_token to this login)")
    elif not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), run.nonce.encode()):
        status, said = CheckStatus.FAIL, ("its nonce is not the one this login sent: a replayed or mixed-up "
                                          "id_token (OIDC Core 3.1.3.7)")
    else:
        said = "nonce is the login's"
    return Outcome(status, f"id_token {note}, aud is the client; {said}; {shape}")


@STAGE.check("USERINFO-SUB", "userinfo answers the access token with the id_token's sub", needs=[_tokens])
def userinfo_sub(run: Run) -> Outcome:
    endpoint = (run.discovery or {}).get("userinfo_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        return skipped("the discovery document has no userinfo_endpoint")
    if not endpoint.startswith("https://"):
        return skipped("userinfo_endpoint is not https://: not called, a token never goes over plain http "
                       "(see DISCOVERY-HTTPS)")
    try:
        resp = run.get(endpoint, {"Authorization": f"Bearer {run.access_token}"})
    except NetworkError as exc:
        return failed(f"userinfo: {exc}")
    body = resp.json_object()
    if resp.status != 200 or body is None:
        why = resp.not_an_object() if resp.status == 200 else "expected 200 with JSON"
        return failed(f"userinfo: HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}: {why}")
    sub = body.get("sub")
    if run.id_sub is None:
        return Outcome(CheckStatus.FAIL if not isinstance(sub, str) else CheckStatus.WARN,
                       "userinfo answered 200" + (" with a sub" if isinstance(sub, str) else " without sub") +
                       "; no verified id_token sub to compare with")
    if sub == run.id_sub:
        return passed("userinfo answered 200 with the id_token's sub")
    return failed("userinfo answered 200 with another sub than the id_token's")


def _refresh_token(run: Run) -> Outcome | None:
    return skipped("no refresh token to refresh (see TOKEN-REFRESH-ISSUED)") if run.refresh_token is None else None


@STAGE.check("TOKEN-REFRESH-ROTATES", "a refresh returns a new refresh token and the old one is then refused",
             needs=[_tokens, _refresh_token])
def refresh_rotates(run: Run) -> Outcome:
    refresh = run.refresh_token
    assert refresh is not None
    try:
        first = run.token_request({"grant_type": "refresh_token", "refresh_token": refresh})
        body = first.json_object() or {}
        if first.status != 200 or not isinstance(body.get("access_token"), str):
            return failed(f"the refresh was refused: {oauth_error(first)}")
        new = body.get("refresh_token")
        if not isinstance(new, str) or not new:
            return failed("the refresh answered without a new refresh_token: refresh tokens do not rotate")
        if new == refresh:
            return failed("the refresh returned the same refresh token: refresh tokens do not rotate")
        again = run.token_request({"grant_type": "refresh_token", "refresh_token": refresh})
    except NetworkError as exc:
        return failed(f"token endpoint: {exc}")
    if again.status == 200:
        return failed("a new refresh token came back, but the old one is still accepted")
    if again.status in (400, 401):
        return passed(f"a new refresh token came back; the old one is then refused ({oauth_error(again)})")
    return failed(f"reusing the old refresh token: {oauth_error(again)} (expected 400 invalid_grant)")
