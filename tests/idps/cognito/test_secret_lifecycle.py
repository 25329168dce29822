"""The two-phase rotation's provider calls in order, against an in-memory app client that keeps Cognito's
documented limits (at most two secrets; the last one cannot be deleted): the secret Plaid holds is accepted at
every step when the runbook is followed, and refused after phase 2 when Plaid did not switch (the test shows
it). The Stubber tests (test_secrets.py) pin the exact calls; this one pins the sequence."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError

from components.idps.cognito import secrets

POOL, CLIENT, REGION = "us-east-1_AbCdEfGhI", "3n4b5urk1ft4fl3mpdv1f4ke", "us-east-1"
WHERE = {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT}


class AppClient:
    """One Cognito app client's secrets, with the limits AWS documents."""

    MAX = 2  # AddUserPoolClientSecret: "up to 2 active secrets per app client"

    def __init__(self, generated: str) -> None:
        self.ids = (f"sec-{i}" for i in itertools.count(1))
        self.secrets = {next(self.ids): generated}

    def _error(self, code: str, op: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "fake"}}, op)

    def _check(self, kw: dict[str, Any]) -> None:
        assert (kw["UserPoolId"], kw["ClientId"]) == (POOL, CLIENT)

    def add_user_pool_client_secret(self, **kw: Any) -> dict[str, Any]:
        self._check(kw)
        if len(self.secrets) >= self.MAX:
            raise self._error("LimitExceededException", "AddUserPoolClientSecret")
        secret_id = next(self.ids)
        self.secrets[secret_id] = kw["ClientSecret"]
        return {"ClientSecretDescriptor": {"ClientSecretId": secret_id}}

    def list_user_pool_client_secrets(self, **kw: Any) -> dict[str, Any]:
        self._check(kw)
        return {"ClientSecrets": [{"ClientSecretId": i} for i in self.secrets]}

    def delete_user_pool_client_secret(self, **kw: Any) -> dict[str, Any]:
        self._check(kw)
        if kw["ClientSecretId"] not in self.secrets:
            raise self._error("ResourceNotFoundException", "DeleteUserPoolClientSecret")
        if len(self.secrets) == 1:  # "You cannot delete the last remaining secret"
            raise self._error("InvalidParameterException", "DeleteUserPoolClientSecret")
        del self.secrets[kw["ClientSecretId"]]
        return {}

    def accepts(self, secret: str) -> bool:
        return secret in self.secrets.values()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppClient:
    client = AppClient("generated-by-cognito")
    monkeypatch.setattr(secrets, "cognito_client", lambda region: client)
    return client


def add(version: int, value: str) -> str:
    return str(secrets.CognitoClientSecretProvider().create({**WHERE, "version": version,
                                                              "client_secret": value}).id)


def retire(keep: str) -> None:
    secrets.CognitoRetireSecretsProvider().create({**WHERE, "keep_secret_id": keep})


def test_followed_runbook_plaid_is_accepted_at_every_step(app):
    plaid = "generated-by-cognito"
    v2 = add(2, "v2" * 32)                      # phase 1
    assert app.accepts(plaid) and app.accepts("v2" * 32)
    plaid = "v2" * 32                            # Plaid saves the new secret (dashboard)
    assert app.accepts(plaid)
    retire(v2)                                   # phase 2
    assert app.accepts(plaid) and not app.accepts("generated-by-cognito")
    v3 = add(3, "v3" * 32)                      # next rotation, phase 1
    assert app.accepts(plaid)
    plaid = "v3" * 32
    retire(v3)                                   # phase 2: v2 retired...
    secrets.CognitoClientSecretProvider().delete(v2, {**WHERE, "version": 2})  # ...and its resource deleted: no-op
    assert app.accepts(plaid) and list(app.secrets) == [v3]


def test_plaid_that_did_not_switch_is_refused_after_phase_2(app):
    v2 = add(2, "v2" * 32)
    retire(v2)
    assert not app.accepts("generated-by-cognito")  # what Plaid still sends: invalid_client


def test_a_third_secret_is_refused_and_nothing_changes(app):
    add(2, "v2" * 32)
    before = dict(app.secrets)
    with pytest.raises(secrets.CognitoSecretError, match="answered LimitExceededException$"):
        add(3, "v3" * 32)  # add-next twice without retire-previous
    assert app.secrets == before


def test_rolling_back_phase_1_deletes_only_the_new_secret(app):
    v2 = add(2, "v2" * 32)
    secrets.CognitoClientSecretProvider().delete(v2, {**WHERE, "version": 2})
    assert app.accepts("generated-by-cognito") and not app.accepts("v2" * 32)
