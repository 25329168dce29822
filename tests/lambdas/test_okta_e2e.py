"""Okta end to end: the Lambda configured from PlaidOktaTenant's contract, against a real OIDC provider on
127.0.0.1 whose tokens look like an Okta custom authorization server's (TOKEN_PROFILE=okta: access-token
``sub`` = the login, here an email; ``uid`` = the Okta user id; ``cid`` = the client id; ``scp`` a list).

Proves: /customers/current answers the Okta user id (the id_token ``sub`` Plaid stores), never the email;
a token issued to another client id is refused; an ID token is refused. The contract's environment is used
as the component declares it; only the issuer and JWKS URI come from the loopback provider (the contract's
are the Okta org's).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import jwt
import pulumi
import pytest

import plaid_contract as plaid
from lambdas.customers_current import env as lambda_env
from lambdas.customers_current import handler as lambda_handler
from tests.harness import config_of, declare, settings_with
from tests.lambdas import oidc
from tests.lambdas.idp import event

USER_ID = "00u1a2b3c4d5e6f7g8h9"  # an Okta user id: 00u + 17 characters
LOGIN = "pat@firstplatypus.example"  # the user's Okta login: the access token's sub (PII)
CLIENT_SECRET = "0123456789abcdef" * 4
OKTA_SETTINGS = settings_with(idp="okta", auth0=None, okta={"orgUrl": "https://first-platypus.okta.com"})


@dataclass
class Op:
    issuer: str
    contract_env: dict[str, str]


def _contract_environment() -> dict[str, str]:
    """PlaidOktaTenant's Lambda environment, as the component declares it (mock engine, computed outputs)."""
    from components.idps.okta.component import tenant
    from components.settings import parse_settings

    def program() -> None:
        contract = tenant(parse_settings(config_of(OKTA_SETTINGS)))
        pulumi.export("env", contract.lambda_environment())
    out = declare(program, settings=OKTA_SETTINGS).outputs["env"]
    assert all(isinstance(v, str) for v in out.values()), out
    return dict(out)


@pytest.fixture(scope="module")
def op() -> Iterator[Op]:
    contract_env = _contract_environment()
    # The provider's client is Plaid's app as the component declares it: its client id and the audience.
    with oidc.provider(CLIENT_ID=contract_env[lambda_env.TOKEN_CLIENT_ID], CLIENT_SECRET=CLIENT_SECRET,
                       REDIRECT_URI=plaid.PLAID_REDIRECT_URI, AUDIENCE=contract_env[lambda_env.TOKEN_AUDIENCE],
                       ACCESS_TOKEN_TTL=str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS), TOKEN_PROFILE="okta",
                       OKTA_LOGINS=json.dumps({USER_ID: LOGIN})) as issuer:
        yield Op(issuer, contract_env)


def authorize(op: Op) -> str:
    """Log in as the Okta user id through the provider's pages and return the authorization code."""
    # prompt=consent: oidc-provider honours offline_access only with it (Okta issues the refresh token without).
    query = urllib.parse.urlencode({"response_type": "code", "client_id": op.contract_env[lambda_env.TOKEN_CLIENT_ID],
                                    "redirect_uri": plaid.PLAID_REDIRECT_URI, "scope": " ".join(plaid.REQUIRED_SCOPES),
                                    "state": "plaid-state-okta", "prompt": "consent"})
    final = oidc.login(f"{op.issuer}/auth?{query}", account=USER_ID, redirect_uri=plaid.PLAID_REDIRECT_URI)
    return oidc.code_from(final, "plaid-state-okta")


def token_request(op: Op, form: dict) -> dict:
    return oidc.token_request(f"{op.issuer}/token", op.contract_env[lambda_env.TOKEN_CLIENT_ID], CLIENT_SECRET, form)


def configure_from_contract(op: Op, **overrides: str) -> dict[str, str]:
    """The contract's environment with the loopback provider's issuer and JWKS (from discovery)."""
    discovery = oidc.discovery(op.issuer)
    environ = {**op.contract_env, lambda_env.TOKEN_ISSUER: discovery["issuer"],
               lambda_env.JWKS_URI: discovery["jwks_uri"], **overrides}
    lambda_handler.configure(environ)
    return environ


def code_grant(op: Op) -> dict:
    return token_request(op, {"grant_type": "authorization_code", "code": authorize(op),
                              "redirect_uri": plaid.PLAID_REDIRECT_URI})


def test_the_contract_reads_uid_and_checks_cid(op: Op):
    assert op.contract_env[lambda_env.CONSISTENCY_KEY_CLAIM] == "uid"
    assert op.contract_env[lambda_env.TOKEN_CLIENT_CLAIM] == "cid"
    assert re.fullmatch(r"[0-9a-f]{32}", op.contract_env[lambda_env.TOKEN_CLIENT_ID])


def test_customers_current_answers_the_okta_user_id_not_the_email(op: Op):
    configure_from_contract(op)
    tokens = code_grant(op)
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    # Okta-shaped: sub is the login (an email), uid the user id, cid the client; no client_id, scp a list.
    assert access["sub"] == LOGIN and access["uid"] == USER_ID
    assert access["cid"] == op.contract_env[lambda_env.TOKEN_CLIENT_ID] and "client_id" not in access
    # scp is a list as Okta's (empty here: the loopback provider grants the API no resource scopes).
    assert isinstance(access["scp"], list) and "scope" not in access
    id_sub = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    assert id_sub == USER_ID  # what Plaid stores as the consistency key

    resp = lambda_handler.handler(event(tokens["access_token"]), None)
    assert resp["statusCode"] == 200, resp
    assert json.loads(resp["body"]) == {"customerId": id_sub}
    assert LOGIN not in resp["body"]

    # After a (rotating) refresh the key is the same.
    refreshed = token_request(op, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    resp = lambda_handler.handler(event(refreshed["access_token"]), None)
    assert resp["statusCode"] == 200 and json.loads(resp["body"]) == {"customerId": USER_ID}


def test_reading_sub_would_leak_the_email(op: Op):
    """The trap this component closes: configured to read sub, the Lambda would hand Plaid the email."""
    configure_from_contract(op, **{lambda_env.CONSISTENCY_KEY_CLAIM: "sub"})
    resp = lambda_handler.handler(event(code_grant(op)["access_token"]), None)
    assert resp["statusCode"] == 200 and json.loads(resp["body"]) == {"customerId": LOGIN}


def test_a_token_issued_to_another_client_is_refused(op: Op):
    tokens = code_grant(op)
    configure_from_contract(op, **{lambda_env.TOKEN_CLIENT_ID: "f" * 32})
    resp = lambda_handler.handler(event(tokens["access_token"]), None)
    assert resp["statusCode"] == 401 and json.loads(resp["body"])["debugMessage"] == "wrong client"


def test_an_id_token_is_refused(op: Op):
    configure_from_contract(op)
    tokens = code_grant(op)
    resp = lambda_handler.handler(event(tokens["id_token"]), None)
    assert resp["statusCode"] == 401, resp
    assert json.loads(resp["body"])["debugMessage"] == "wrong audience"
