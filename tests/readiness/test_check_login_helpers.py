"""The login stage's helpers (readiness/check/stages/login.py) without an IdP: when the login may run (the secret is
only ever sent to https:// endpoints), Plaid's authorize request exactly, how an OAuth error is shown, and the
browser part driven by a scripted browser against a stand-in for the loopback listener. tests/readiness/test_check.py
runs the login against real providers; these run in milliseconds, for the `check` mutation group (issue #22).
"""

from __future__ import annotations

import json
import threading
import urllib.parse

import pytest

from readiness.check.http import Response
from readiness.check.loopback import Callback, LoginCommand, LoginCommandFailed
from readiness.check.model import CheckStatus, Outcome
from readiness.check.options import Options
from readiness.check.run import Run
from readiness.check.stages import login

#: Each test takes well under a second; a mutant of the login's waiting loop that never ends is stopped sooner than by
#: the suite's 120 s (pytest-timeout).
pytestmark = pytest.mark.timeout(10)

DOC = {"authorization_endpoint": "https://idp.example/authorize", "token_endpoint": "https://idp.example/token"}
REDIRECT = "http://127.0.0.1:8765/callback"


def login_run(*, client_id: str | None = "plaid-client", secret: str | None = "s" * 40, hint: str | None = None,
              doc: dict | None = DOC, timeout: float = 1.0) -> Run:
    opts = Options(discovery_url="https://idp.example/.well-known/openid-configuration", client_id=client_id,
                   secret=secret, customers_url=None, cacert=None, redirect_port=8765, redirect_host="127.0.0.1",
                   login_timeout=timeout, timeout=1, json=True, secret_source=None, secret_arn_hint=hint)
    run = Run(opts, None, None)
    run.discovery = doc
    return run


def skip(outcome: Outcome | None) -> tuple[CheckStatus, str, bool] | None:
    return None if outcome is None else (outcome.status, outcome.detail, outcome.for_lack_of_input)


# -- when the login may run -------------------------------------------------------------------------------------


def test_the_login_runs_with_a_client_a_secret_and_https_endpoints():
    assert login._gate(login_run()) is None


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"client_id": None}, (CheckStatus.SKIP, "no --client-id (and no secret): the login is not requested", True)),
    ({"secret": None}, (CheckStatus.SKIP, "no client secret: pass --client-secret-env NAME or --secret-arn ARN",
                        True)),
    ({"secret": None, "hint": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
     (CheckStatus.SKIP, "no client secret: pass --client-secret-env NAME or --secret-arn ARN (the stack's "
                        "credentials_secret_arn is arn:aws:secretsmanager:us-east-1:1:secret:x)", True)),
    ({"doc": None}, (CheckStatus.SKIP, "no discovery document (see DISCOVERY-FETCH)", False)),
])
def test_why_the_login_does_not_run(kwargs, expected):
    assert skip(login._gate(login_run(**kwargs))) == expected


@pytest.mark.parametrize(("key", "value"), [
    ("authorization_endpoint", "http://idp.example/authorize"), ("authorization_endpoint", None),
    ("authorization_endpoint", 5), ("token_endpoint", "http://idp.example/token"), ("token_endpoint", ""),
])
def test_the_secret_is_never_sent_to_an_endpoint_that_is_not_https(key, value):
    doc = {**DOC, key: value}
    assert skip(login._gate(login_run(doc=doc))) == (
        CheckStatus.SKIP, f"{key} is missing or not https:// (the secret is never sent over plain http)", False)


def test_without_a_refresh_token_the_rotation_check_says_why():
    run = login_run()
    assert skip(login._refresh_token(run)) == (
        CheckStatus.SKIP, "no refresh token to refresh (see TOKEN-REFRESH-ISSUED)", False)
    run.refresh_token = "r"
    assert login._refresh_token(run) is None


def test_without_tokens_the_token_checks_say_why():
    run = login_run()
    assert skip(login._tokens(run)) == (CheckStatus.SKIP, "no tokens (see TOKEN-CLIENT-AUTH)", False)
    run.tokens = {"access_token": "a"}
    assert login._tokens(run) is None and login._received(run) == {"access_token": "a"}


# -- Plaid's authorize request ------------------------------------------------------------------------------------


def test_the_authorize_request_is_plaids_in_plaids_order_plus_the_nonce():
    run = login_run()
    run.state, run.nonce = "st/ate+1", "n once"
    url = login.authorize_url(run, REDIRECT)
    assert url == ("https://idp.example/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765"
                   "%2Fcallback&scope=openid%20offline_access&client_id=plaid-client&state=st%2Fate%2B1&nonce=n%20once")


def test_an_authorize_endpoint_with_a_query_keeps_it():
    run = login_run(doc={**DOC, "authorization_endpoint": "https://idp.example/authorize?tenant=a"})
    run.state, run.nonce = "s", "n"
    query = login.authorize_url(run, REDIRECT).split("?", 1)[1]
    assert query.startswith("tenant=a&response_type=code&")
    assert urllib.parse.parse_qs(query)["nonce"] == ["n"]


# -- OAuth errors ----------------------------------------------------------------------------------------------------


def reply(status: int, body: object) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, {"content-type": "application/json"}, raw)


@pytest.mark.parametrize(("body", "expected"), [
    ({"error": "invalid_grant", "error_description": "code expired"}, "HTTP 400 invalid_grant: code expired"),
    ({"error": "invalid_grant"}, "HTTP 400 invalid_grant"),
    ({"error": "invalid_grant", "error_description": "   "}, "HTTP 400 invalid_grant"),
    ({"error": "invalid_grant", "error_description": 5}, "HTTP 400 invalid_grant"),
    ({"error": "Invalid-Grant"}, "HTTP 400"),
    ({"error": "x" * 40}, f"HTTP 400 {'x' * 40}"),
    ({"error": "x" * 41}, "HTTP 400"),
    ({"error": ""}, "HTTP 400"),
    ({"error": 7}, "HTTP 400"),
    ({"error_description": "d" * 200}, f"HTTP 400: {'d' * 157}..."),
    ({"error_description": "d" * 160}, f"HTTP 400: {'d' * 160}"),
    (b"<html>", "HTTP 400"),
    ([1], "HTTP 400"),
])
def test_an_oauth_error_shows_its_code_and_a_bounded_description(body, expected):
    assert login.oauth_error(reply(400, body)) == expected


@pytest.mark.parametrize(("body", "code"), [
    ({"error": "invalid_grant"}, "invalid_grant"), ({"error": "Any Text"}, "Any Text"), ({"error": 5}, None),
    ({}, None), (b"nope", None), ([1], None),
])
def test_the_oauth_error_code(body, code):
    assert login._oauth_error_code(reply(400, body)) == code


# -- the browser part ------------------------------------------------------------------------------------------------


class Listener:
    """A stand-in for the loopback listener: the callback arrives once the browser has been called (or never)."""

    redirect_uri = REDIRECT

    def __init__(self, callback: Callback | None = None, *, ignored: int = 0, late: Callback | None = None) -> None:
        self.callback, self.ignored, self.late = callback, ignored, late
        self.started: list[str] = []
        self.arrived = threading.Event()
        self.waits = 0

    def start(self, state: str) -> None:
        self.started.append(state)

    def wait(self, timeout: float) -> Callback | None:
        self.waits += 1
        if self.late is not None and timeout == 0.5:
            return self.late
        if self.arrived.wait(timeout):
            return self.callback
        return None


def drive(run: Run, listener: Listener, browser: object) -> tuple[Callback | None, str]:
    run.listener = listener  # type: ignore[assignment]
    run.browser = browser  # type: ignore[assignment]
    return login._login(run)


def test_the_login_sends_the_authorize_url_and_keeps_the_callback_and_its_code(capsys):
    listener, opened = Listener(Callback("the-code", None)), []

    def browser(url: str) -> None:
        opened.append(url)
        me = threading.current_thread()
        threads.append((me.name, me.daemon))
        listener.arrived.set()

    threads: list[tuple[str, bool]] = []
    run = login_run(timeout=5)
    result, why = drive(run, listener, browser)
    assert (result, why) == (Callback("the-code", None), "")
    assert "the-code" in run.sensitive
    assert listener.started == [run.state] and len(run.state) == 32 and len(run.nonce) == 32
    assert run.state != run.nonce
    assert opened == [login.authorize_url(run, REDIRECT)]
    assert capsys.readouterr().err == f"authorize_url: {opened[0]}\n"
    # the browser runs in its own named daemon thread: a browser that hangs never keeps the command alive
    assert threads == [("plaid-ready-check-browser", True)]


def test_an_error_callback_has_no_code_to_keep():
    listener = Listener(Callback(None, "access_denied"))
    run = login_run(timeout=5)
    result, why = drive(run, listener, lambda url: listener.arrived.set())
    assert (result, why) == (Callback(None, "access_denied"), "") and run.sensitive == {"s" * 40}


def test_a_browser_that_finishes_without_the_redirect():
    listener = Listener(ignored=2)
    run = login_run(timeout=5)
    assert drive(run, listener, lambda url: None) == (
        None, f"the browser finished without reaching {REDIRECT} (2 callbacks with another state ignored)")


def test_a_redirect_in_flight_when_the_browser_finishes_is_taken():
    listener = Listener(late=Callback("late-code", None))
    result, why = drive(login_run(timeout=5), listener, lambda url: None)
    assert (result, why) == (Callback("late-code", None), "")


@pytest.mark.parametrize(("error", "why"), [
    (LoginCommandFailed(3, "login page not found"), "the login command exited with status 3: login page not found"),
    (LoginCommandFailed(3, "x" * 400), f"the login command exited with status 3: {'x' * 257}..."),
    (FileNotFoundError("no such command"), "the login command could not start (FileNotFoundError)"),
    (RuntimeError("boom"), "the login did not reach the redirect (RuntimeError)"),
])
def test_a_browser_that_fails_says_why(error, why):
    def browser(url: str) -> None:
        raise error

    listener = Listener(ignored=1)
    assert drive(login_run(timeout=5), listener, browser) == (None, f"{why} (1 callback with another state ignored)")


def test_no_redirect_within_the_login_timeout():
    listener = Listener()
    result, why = drive(login_run(timeout=0.3), listener, None)
    assert (result, why) == (None, f"no redirect to {REDIRECT} with this login's state within 0.3 s")
    assert listener.waits >= 3  # it waited in steps of at most 0.1 s


class ScriptedCommand(LoginCommand):
    """A login command that runs nothing: it returns (exit status 0) without the redirect, and records stop()."""

    def __init__(self) -> None:
        self.stopped = 0

    def __call__(self, authorize_url: str) -> None:
        return None

    def stop(self) -> None:
        self.stopped += 1


def test_a_login_command_that_exits_0_without_the_redirect_is_named_and_stopped():
    command = ScriptedCommand()
    assert drive(login_run(timeout=5), Listener(), command) == (
        None, f"the login command exited 0 without reaching {REDIRECT}")
    assert command.stopped == 1
