"""Cognito end to end: Plaid's exact authorize request through the scope adapter to a Cognito-like provider.

A real OIDC provider on 127.0.0.1 (npm oidc-provider, ``TOKEN_PROFILE=cognito``: Cognito's paths, ``invalid_scope``
for ``offline_access`` at ``/oauth2/authorize``, refresh tokens anyway, access tokens without ``aud`` carrying
``client_id`` and ``token_use``), the scope adapter handler served over HTTP on 127.0.0.1 with its upstream set to
that provider, a browser driving the login pages, the code exchanged at the token endpoint the adapter's discovery
names, and ``/customers/current`` configured the way the Cognito tenant contract configures it.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

import plaid_contract as plaid
from components.tenant import TenantContract, TokenContract
from lambdas.customers_current import handler as customers
from lambdas.scope_adapter import handler as adapter
from lambdas.scope_adapter import names
from tests.lambdas import oidc
from tests.lambdas.idp import event

CLIENT_ID, CLIENT_SECRET = "cognito-app-client-1", "f" * 52
ACCOUNT = "3f8e6a1c-0b7d-4c55-9a2e-6d1b0c9e7a42"  # a Cognito sub is a UUID
STATE, NONCE = "plaid-state-8c1d", "plaid-nonce-5e2f"


@dataclass
class Servers:
    issuer: str  # the Cognito-like provider (issuer and hosted domain on one origin)
    adapter: str  # the scope adapter on loopback


def _adapter_server() -> ThreadingHTTPServer:
    """The adapter handler behind a tiny HTTP wrapper: each request becomes a proxy event with the raw query."""

    class H(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            multi: dict[str, list[str]] = {}
            for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
                multi.setdefault(k, []).append(v)
            ev: dict[str, Any] = {"resource": url.path, "path": url.path, "httpMethod": self.command,
                                  "headers": dict(self.headers.items()), "rawQueryString": url.query,
                                  "multiValueQueryStringParameters": multi or None,
                                  "requestContext": {"requestId": "local"}}
            result = adapter.handler(ev, None)
            body = result.get("body", "").encode()
            self.send_response(int(result["statusCode"]))
            for key, value in (result.get("headers") or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), H)


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    http_server = _adapter_server()
    thread = threading.Thread(target=http_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    try:
        with oidc.provider(CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET, REDIRECT_URI=plaid.PLAID_REDIRECT_URI,
                           AUDIENCE="https://api.firstplatypus.example/fdx", TOKEN_PROFILE="cognito",
                           ACCESS_TOKEN_TTL=str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS)) as issuer:
            thread.start()
            public = f"http://127.0.0.1:{http_server.server_address[1]}"
            adapter.configure({names.UPSTREAM_ISSUER: issuer, names.UPSTREAM_BASE_URL: issuer,
                               names.PUBLIC_BASE_URL: public})
            yield Servers(issuer, public)
    finally:
        if thread.is_alive():
            http_server.shutdown()
        http_server.server_close()


def discovery(s: Servers) -> dict[str, Any]:
    with urllib.request.urlopen(f"{s.adapter}{names.DISCOVERY_PATH}", timeout=10) as resp:
        return json.loads(resp.read())


#: Plaid's exact authorize request (plaid_contract.AUTHORIZE_PARAMETERS, in Plaid's order).
PLAID_VALUES = {"response_type": plaid.AUTHORIZE_RESPONSE_TYPE, "redirect_uri": plaid.PLAID_REDIRECT_URI,
                "scope": plaid.SCOPE_SEPARATOR.join(plaid.REQUIRED_SCOPES), "client_id": CLIENT_ID, "state": STATE}


def plaid_authorize_url(doc: dict[str, Any], extra: dict[str, str] | None = None) -> str:
    """Plaid's exact authorize request (``extra``: parameters another OIDC client would add, after Plaid's)."""
    pairs = [(k, PLAID_VALUES[k]) for k in plaid.AUTHORIZE_PARAMETERS] + list((extra or {}).items())
    return f"{doc['authorization_endpoint']}?{urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)}"


def login(s: Servers, extra: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Drive the browser from Plaid's request to Plaid's redirect URI; the code and every URL visited."""
    visited: list[str] = []
    final = oidc.login(plaid_authorize_url(discovery(s), extra), account=ACCOUNT,
                       redirect_uri=plaid.PLAID_REDIRECT_URI, visited=visited)
    return oidc.code_from(final, STATE), visited


def token_request(doc: dict[str, Any], form: dict) -> dict:
    return oidc.token_request(doc["token_endpoint"], CLIENT_ID, CLIENT_SECRET, form)


def cognito_contract(doc: dict[str, Any], client_id: str = CLIENT_ID) -> dict[str, str]:
    """The customers Lambda's environment from a tenant contract built as PlaidCognitoTenant builds it
    (tests/idps/cognito/test_component.py pins the component's token contract to exactly these arguments)."""
    contract = TenantContract(
        discovery_url="unused", authorize_endpoint="unused", token_endpoint=doc["token_endpoint"],
        credentials_secret_arn="unused",
        token=TokenContract(issuer=doc["issuer"], jwks_uri=doc["jwks_uri"], client_id=client_id,
                            client_claim="client_id", token_use="access",  # noqa: S106
                            audience=None, consistency_key_claim="sub"))
    return {k: str(v) for k, v in contract.lambda_environment().items()}


def test_without_the_adapter_cognito_refuses_plaids_request(servers: Servers):
    """The control: Plaid's request sent straight to the Cognito-like provider is invalid_scope."""
    doc = discovery(servers)
    direct = plaid_authorize_url({"authorization_endpoint": f"{servers.issuer}{names.AUTHORIZE_PATH}"})
    status, _, text = oidc.open_url(oidc.browser(), direct)
    assert status == 400 and json.loads(text)["error"] == "invalid_scope"
    # Discovery as Plaid reads it: authorize here, offline_access advertised, tokens from Cognito itself.
    assert doc["authorization_endpoint"] == f"{servers.adapter}{names.AUTHORIZE_PATH}"
    assert {"openid", "offline_access"} <= set(doc["scopes_supported"])
    assert doc["issuer"] == servers.issuer and doc["token_endpoint"].startswith(servers.issuer)
    assert doc["jwks_uri"].startswith(servers.issuer)


def test_plaids_request_through_the_adapter_reaches_plaids_redirect(servers: Servers):
    code, visited = login(servers)
    assert code
    # The adapter sent the browser to the configured upstream, offline_access removed, the rest unchanged.
    upstream = [u for u in visited if u.startswith(f"{servers.issuer}{names.AUTHORIZE_PATH}?")]
    assert len(upstream) == 1
    sent = urllib.parse.parse_qsl(urllib.parse.urlsplit(upstream[0]).query)
    assert sent == [("response_type", "code"), ("redirect_uri", plaid.PLAID_REDIRECT_URI), ("scope", "openid"),
                    ("client_id", CLIENT_ID), ("state", STATE)]


def test_an_oidc_clients_nonce_passes_through_the_adapter_into_the_id_token(servers: Servers):
    """Plaid documents no nonce; a client that sends one (as `plaid-ready check` does) gets it back."""
    doc = discovery(servers)
    code, visited = login(servers, {"nonce": NONCE})
    upstream = next(u for u in visited if u.startswith(f"{servers.issuer}{names.AUTHORIZE_PATH}?"))
    assert urllib.parse.parse_qsl(urllib.parse.urlsplit(upstream).query)[-1] == ("nonce", NONCE)
    tokens = token_request(doc, {"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": plaid.PLAID_REDIRECT_URI})
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["nonce"] == NONCE


def test_code_exchange_then_customers_current_with_the_cognito_contract(servers: Servers):
    doc = discovery(servers)
    code, _ = login(servers)
    tokens = token_request(doc, {"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": plaid.PLAID_REDIRECT_URI})
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)  # a refresh token without offline_access
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert "aud" not in access and access["client_id"] == CLIENT_ID and access["token_use"] == "access"
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_token["sub"] == ACCOUNT and "nonce" not in id_token  # Plaid sends none

    customers.configure(cognito_contract(doc))
    resp = customers.handler(event(tokens["access_token"]), None)
    assert resp["statusCode"] == 200 and json.loads(resp["body"]) == {"customerId": ACCOUNT}
    # An ID token is not an access token (token_use), even though it is signed by the same keys.
    assert customers.handler(event(tokens["id_token"]), None)["statusCode"] == 401
    # Configured for another app client of the pool, Plaid's token is refused.
    customers.configure(cognito_contract(doc, client_id="another-app-client"))
    assert customers.handler(event(tokens["access_token"]), None)["statusCode"] == 401
