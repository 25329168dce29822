"""The real OIDC provider on 127.0.0.1 (npm oidc-provider, tests/lambdas/oidc_provider/server.mjs) and a
scripted browser for its login and consent pages: one piece shared by every end-to-end test (Auth0-, Okta- and
Cognito-shaped tokens, and `plaid-ready check`).

    with provider(CLIENT_ID="plaid", CLIENT_SECRET=..., REDIRECT_URI=..., AUDIENCE=...) as issuer:
        final = login(authorize_url, account="fpb-customer-0042", redirect_uri=plaid.PLAID_REDIRECT_URI)
        code = code_from(final, state="plaid-state-1")

The provider is installed from the committed lockfile by `make test` (npm ci).

For signing-key rotation, :func:`provider_with_key_admin` also starts the provider's key-administration API
(``KEY_ADMIN_PORT``, 127.0.0.1 only) and yields a :class:`KeyAdmin` that publishes a new key, makes a key sign,
and stops publishing one, while the provider keeps running (docs/rotation.md).

Run as a program it is a ``--login-command`` for ``plaid-ready check`` against this provider (docs/check.md,
"Rehearsal"): it completes the login pages for the authorize URL in ``$PLAID_READY_AUTHORIZE_URL`` and follows
the final redirect to the check's loopback listener.

    python -m tests.lambdas.oidc --cacert CA.pem [--account fpb-customer-0042]
"""

from __future__ import annotations

import argparse
import base64
import html
import http.cookiejar
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
#: Login, consent and redirects take a handful of pages: every flow is bounded by this.
MAX_PAGES = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(env: Mapping[str, str]) -> subprocess.Popen:
    """Start one provider process with these env knobs (server.mjs documents them) on a free port, unless
    ``PORT`` is given. Read its first line with :func:`wait_ready`; stop it with :func:`stop`."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is required for the OIDC end-to-end tests (see README, Quick start)")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: run `npm ci --prefix tests/lambdas/oidc_provider` "
                    "(make test does this)")
    environ = {**os.environ, "PORT": str(free_port()), **env}
    return subprocess.Popen(["node", "server.mjs"], cwd=PROVIDER_DIR, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_ready(proc: subprocess.Popen, scheme: str = "http") -> str:
    """The provider's issuer, from its one "ready <issuer>" line (bounded: it prints the line or exits)."""
    line = proc.stdout.readline()
    if not line.startswith(f"ready {scheme}://"):
        pytest.fail(f"oidc-provider did not start: {line}{proc.stderr.read()[-2000:]}")
    return line.split()[1]


def stop(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def provider(**env: str) -> Iterator[str]:
    """One provider for the duration of the block; yields its issuer."""
    proc = spawn(env)
    try:
        yield wait_ready(proc)
    finally:
        stop([proc])


class KeyAdminError(Exception):
    """The key-administration API refused a change; ``status`` is its HTTP status, the message its reason."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"HTTP {status}: {error}")
        self.status = status


@dataclass(frozen=True)
class KeyAdmin:
    """The provider's key-administration API (server.mjs documents it). Every call returns the key state after
    it: ``{"signing": kid, "published": [kid, ...]}``; the provider serves the new key set from the next request.
    """

    url: str

    def _call(self, method: str, path: str, body: dict[str, str] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never a proxy
        try:
            with opener.open(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise KeyAdminError(err.code, json.loads(err.read() or b"{}").get("error", "")) from None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/keys")

    def publish(self, kid: str | None = None) -> dict[str, Any]:
        """A new RSA key, published after the others (verifiable, not signing). The state has its ``kid``."""
        return self._call("POST", "/keys", {"kid": kid} if kid else None)

    def sign_with(self, kid: str) -> dict[str, Any]:
        """``kid`` signs every token issued from now on (it stays published, so do the others)."""
        return self._call("POST", f"/keys/{urllib.parse.quote(kid, safe='')}/sign")

    def unpublish(self, kid: str) -> dict[str, Any]:
        """Stop publishing ``kid`` (refused for the signing key and the last key)."""
        return self._call("DELETE", f"/keys/{urllib.parse.quote(kid, safe='')}")


@contextmanager
def provider_with_key_admin(**env: str) -> Iterator[tuple[str, KeyAdmin]]:
    """One provider with its key-administration API for the duration of the block; yields (issuer, admin)."""
    port, admin_port = free_port(), free_port()
    for _ in range(5):  # two distinct ports (the OS rarely hands out the same one twice in a row)
        if admin_port != port:
            break
        admin_port = free_port()
    proc = spawn({"PORT": str(port), **env, "KEY_ADMIN_PORT": str(admin_port)})
    try:
        yield wait_ready(proc), KeyAdmin(f"http://127.0.0.1:{admin_port}")
    finally:
        stop([proc])


def discovery(issuer: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as resp:
        return json.loads(resp.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def browser(context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """A cookie-keeping client that does not follow redirects (the flow follows them itself)."""
    handlers: list[Any] = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect]
    if context is not None:
        handlers.insert(0, urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def open_url(opener: urllib.request.OpenerDirector, url: str,
             data: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a GET, or a form POST when ``data`` is given; HTTP errors are answers too."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def _location(headers: Mapping[str, str]) -> str | None:
    return headers.get("Location") or headers.get("location")


def login(authorize_url: str, *, account: str, redirect_uri: str,
          opener: urllib.request.OpenerDirector | None = None, visited: list[str] | None = None) -> str:
    """Drive the browser part of the flow as an end user would: follow redirects, submit the provider's login
    (as ``account``) and consent pages, and return the URL of the final redirect to ``redirect_uri`` (not
    opened). ``visited`` collects every URL requested."""
    opener = opener or browser()
    url = authorize_url
    for _ in range(MAX_PAGES):
        if visited is not None:
            visited.append(url)
        status, headers, text = open_url(opener, url)
        location = _location(headers)
        if status in (302, 303) and location:
            url = urllib.parse.urljoin(url, location)
            if url.startswith(redirect_uri):
                return url
            continue
        assert status == 200, (status, text[:500])
        action = urllib.parse.urljoin(url, html.unescape(re.search(r'<form[^>]*action="([^"]+)"', text).group(1)))
        prompt = re.search(r'name="prompt" value="(\w+)"', text).group(1)
        form = {"prompt": prompt, "login": account, "password": "any"} if prompt == "login" else {"prompt": prompt}
        status, headers, text = open_url(opener, action, form)
        assert status in (302, 303), (status, text[:500])
        url = urllib.parse.urljoin(action, _location(headers))
        if url.startswith(redirect_uri):
            return url
    raise AssertionError(f"the authorization flow did not reach {redirect_uri}")


def code_from(redirect: str, state: str) -> str:
    """The authorization code of the final redirect, after checking it carries the state sent."""
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)
    assert params.get("state") == [state], params
    return params["code"][0]


def token_request(token_endpoint: str, client_id: str, client_secret: str, form: Mapping[str, str]) -> dict:
    """A token-endpoint call with client_secret_basic, as Plaid makes it."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    req = urllib.request.Request(token_endpoint, data=urllib.parse.urlencode(form).encode(),
                                 headers={"Authorization": f"Basic {basic}",
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def login_command(argv: list[str]) -> int:
    """The ``--login-command`` of a rehearsal: exit 0 once the check's listener has the redirect, else 1 with
    one line on stderr (the check reports it)."""
    ap = argparse.ArgumentParser(prog="python -m tests.lambdas.oidc",
                                 description="Complete the test provider's login for plaid-ready check.")
    ap.add_argument("--cacert", required=True, help="the CA (or self-signed certificate) the provider serves")
    ap.add_argument("--account", default="fpb-customer-0042", help="the login to submit (becomes the sub)")
    args = ap.parse_args(argv)
    url = os.environ.get("PLAID_READY_AUTHORIZE_URL", "")
    redirect_uri = os.environ.get("PLAID_READY_REDIRECT_URI", "")
    if not url or not redirect_uri:
        print("PLAID_READY_AUTHORIZE_URL and PLAID_READY_REDIRECT_URI are not set: run me as "
              "plaid-ready check --login-command", file=sys.stderr)
        return 1
    opener = browser(ssl.create_default_context(cafile=args.cacert))
    try:
        final = login(url, account=args.account, redirect_uri=redirect_uri, opener=opener)
    except (AssertionError, OSError, AttributeError) as exc:
        print(f"the test provider's login did not complete ({type(exc).__name__})", file=sys.stderr)
        return 1
    status, _, _ = open_url(opener, final)  # the redirect to the check's listener
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(login_command(sys.argv[1:]))
