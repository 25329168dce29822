"""End to end with a real OIDC provider on 127.0.0.1 (npm oidc-provider): the authorization-code flow
Plaid runs, then /customers/current with the resulting access token, then a refresh and again.

The provider is installed from the committed lockfile by `make test` (npm ci).
"""

from __future__ import annotations

import base64
import html
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest

import plaid_contract as plaid
from lambdas.customers_current import handler as lambda_handler
from tests.lambdas.idp import event

HERE = Path(__file__).resolve().parent / "oidc_provider"
AUDIENCE = "https://api.firstplatypus.example/fdx"
CLIENT_ID, CLIENT_SECRET = "plaid-test-client", "0123456789abcdef" * 4
ACCOUNT = "fpb-customer-0042"  # the login the test submits; >= 7 characters


@dataclass
class Op:
    issuer: str
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def op() -> Iterator[Op]:
    if shutil.which("node") is None:
        pytest.fail("Node.js is required for the OIDC end-to-end test (see README, Quick start)")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: run `npm ci --prefix tests/lambdas/oidc_provider` "
                    "(make test does this)")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
           "REDIRECT_URI": plaid.PLAID_REDIRECT_URI, "AUDIENCE": AUDIENCE,
           "ACCESS_TOKEN_TTL": str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS)}
    proc = subprocess.Popen(["node", "server.mjs"], cwd=HERE, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # bounded: the process prints one line or exits
        if not line.startswith("ready "):
            pytest.fail(f"oidc-provider did not start: {line}{proc.stderr.read()[-2000:]}")
        yield Op(line.split()[1], proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)


def _open(opener, url: str, data: dict | None = None) -> tuple[int, dict, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def authorize(op: Op) -> str:
    """Drive the browser part of the flow (as an end user would) and return the authorization code."""
    browser = _browser()
    # What Plaid sends (response_type, client_id, redirect_uri, scope, state), plus prompt=consent: oidc-provider
    # follows OIDC Core 11 and honours offline_access only with it (Auth0/Okta issue the refresh token without).
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID,
                                    "redirect_uri": plaid.PLAID_REDIRECT_URI, "scope": " ".join(plaid.REQUIRED_SCOPES),
                                    "state": "plaid-state-123", "prompt": "consent"})
    url = f"{op.issuer}/auth?{query}"
    for _ in range(10):  # bounded: login, consent, redirects
        status, headers, text = _open(browser, url)
        location = headers.get("Location") or headers.get("location")
        if status in (302, 303) and location:
            if location.startswith(plaid.PLAID_REDIRECT_URI):
                params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
                assert params["state"] == ["plaid-state-123"], params
                return params["code"][0]
            url = urllib.parse.urljoin(url, location)
            continue
        assert status == 200, (status, text[:500])
        action = urllib.parse.urljoin(url, html.unescape(re.search(r'<form[^>]*action="([^"]+)"', text).group(1)))
        prompt = re.search(r'name="prompt" value="(\w+)"', text).group(1)
        form = {"prompt": prompt, "login": ACCOUNT, "password": "any"} if prompt == "login" else {"prompt": prompt}
        status, headers, text = _open(browser, action, form)
        assert status in (302, 303), (status, text[:500])
        url = urllib.parse.urljoin(action, headers.get("Location") or headers.get("location"))
    pytest.fail("authorization flow did not reach Plaid's redirect URI")


def token_request(op: Op, form: dict) -> dict:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    req = urllib.request.Request(f"{op.issuer}/token", data=urllib.parse.urlencode(form).encode(),
                                 headers={"Authorization": f"Basic {basic}",
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_plaid_flow_then_customers_current_then_refresh(op: Op):
    discovery = json.loads(urllib.request.urlopen(f"{op.issuer}/.well-known/openid-configuration", timeout=10).read())
    assert {"openid", "offline_access"} <= set(discovery["scopes_supported"])
    assert "client_secret_basic" in discovery["token_endpoint_auth_methods_supported"]
    lambda_handler.configure({"TOKEN_ISSUER": discovery["issuer"], "JWKS_URI": discovery["jwks_uri"],
                              "TOKEN_AUDIENCE": AUDIENCE})

    code = authorize(op)
    tokens = token_request(op, {"grant_type": "authorization_code", "code": code,
                                "redirect_uri": plaid.PLAID_REDIRECT_URI})
    assert tokens["expires_in"] == plaid.ACCESS_TOKEN_LIFETIME_SECONDS
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["aud"] == AUDIENCE  # a JWT for the API although no resource/audience was sent
    id_sub = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    assert id_sub == ACCOUNT

    resp = lambda_handler.handler(event(tokens["access_token"]), None)
    assert resp["statusCode"] == 200, resp
    assert json.loads(resp["body"]) == {"customerId": id_sub}

    refreshed = token_request(op, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed["refresh_token"] != tokens["refresh_token"]  # rotation
    resp = lambda_handler.handler(event(refreshed["access_token"]), None)
    assert resp["statusCode"] == 200 and json.loads(resp["body"]) == {"customerId": id_sub}

    # The old refresh token is spent: rotation means reuse fails.
    with pytest.raises(urllib.error.HTTPError) as info:
        token_request(op, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert info.value.code == 400


def test_tokens_of_another_audience_are_refused(op: Op):
    discovery = json.loads(urllib.request.urlopen(f"{op.issuer}/.well-known/openid-configuration", timeout=10).read())
    lambda_handler.configure({"TOKEN_ISSUER": discovery["issuer"], "JWKS_URI": discovery["jwks_uri"],
                              "TOKEN_AUDIENCE": "https://another.example/api"})
    tokens = token_request(op, {"grant_type": "authorization_code", "code": authorize(op),
                                "redirect_uri": plaid.PLAID_REDIRECT_URI})
    resp = lambda_handler.handler(event(tokens["access_token"]), None)
    assert resp["statusCode"] == 401 and json.loads(resp["body"])["debugMessage"] == "wrong audience"
    # An ID token is not an access token for the API either.
    lambda_handler.configure({"TOKEN_ISSUER": discovery["issuer"], "JWKS_URI": discovery["jwks_uri"],
                              "TOKEN_AUDIENCE": AUDIENCE})
    assert lambda_handler.handler(event(tokens["id_token"]), None)["statusCode"] == 401
