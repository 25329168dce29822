"""The Cognito client-secret dynamic providers (components/idps/cognito/secrets.py), with botocore's Stubber:
the exact calls, the value passed only to AddUserPoolClientSecret and never returned, retire keeping only the
new secret, clear errors that hold no secret. moto lacks these operations, so a Stubber stands in for AWS."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from components.idps.cognito import secrets

POOL, CLIENT, REGION = "us-east-1_AbCdEfGhI", "3n4b5urk1ft4fl3mpdv1f4ke", "us-east-1"
VALUE = "ab" * 32  # what csprng_secret makes: 64 hex characters
PROPS = {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT, "version": 2, "client_secret": VALUE}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch):
    client = boto3.client("cognito-idp", region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # noqa: S106 - a stub's dummy credentials
    regions: list[str] = []

    def factory(region: str) -> Any:
        regions.append(region)
        return client
    monkeypatch.setattr(secrets, "cognito_client", factory)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    assert set(regions) <= {REGION}


def test_create_adds_our_value_and_returns_only_its_id(stub):
    stub.add_response("add_user_pool_client_secret", {"ClientSecretDescriptor": {"ClientSecretId": "sec-2"}},
                      {"UserPoolId": POOL, "ClientId": CLIENT, "ClientSecret": VALUE})
    result = secrets.CognitoClientSecretProvider().create(dict(PROPS))
    assert result.id == "sec-2"
    assert result.outs == {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT, "version": 2,
                           "secret_id": "sec-2"}
    assert VALUE not in repr(result.outs)


LIST = {"UserPoolId": POOL, "ClientId": CLIENT}
BOTH = {"ClientSecrets": [{"ClientSecretId": "sec-1"}, {"ClientSecretId": "sec-2"}]}


def test_delete_deletes_that_secret_and_gone_already_is_fine(stub):
    stub.add_response("list_user_pool_client_secrets", BOTH, LIST)
    stub.add_response("delete_user_pool_client_secret", {},
                      {"UserPoolId": POOL, "ClientId": CLIENT, "ClientSecretId": "sec-2"})
    stub.add_response("list_user_pool_client_secrets", {"ClientSecrets": [{"ClientSecretId": "sec-2"}]}, LIST)
    stub.add_client_error("delete_user_pool_client_secret", "ResourceNotFoundException",
                          expected_params={"UserPoolId": POOL, "ClientId": CLIENT, "ClientSecretId": "sec-2"})
    stub.add_response("list_user_pool_client_secrets", {"ClientSecrets": [{"ClientSecretId": "sec-1"}]}, LIST)
    stub.add_client_error("list_user_pool_client_secrets", "ResourceNotFoundException", expected_params=LIST)
    provider = secrets.CognitoClientSecretProvider()
    provider.delete("sec-2", dict(PROPS))
    provider.delete("sec-2", dict(PROPS))  # deleted between the list and the delete
    provider.delete("sec-2", dict(PROPS))  # retired by phase 2 already: no delete call
    provider.delete("sec-2", dict(PROPS))  # the app client is gone


def test_delete_of_the_last_secret_is_a_clear_error_without_the_value(stub):
    stub.add_response("list_user_pool_client_secrets", {"ClientSecrets": [{"ClientSecretId": "sec-2"}]}, LIST)
    stub.add_client_error("delete_user_pool_client_secret", "InvalidParameterException",
                          service_message=f"cannot delete the last secret {VALUE}")
    with pytest.raises(secrets.CognitoSecretError) as err:
        secrets.CognitoClientSecretProvider().delete("sec-2", dict(PROPS))
    assert str(err.value) == (f"cognito-idp delete_user_pool_client_secret on app client {CLIENT} answered "
                              "InvalidParameterException")
    assert VALUE not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__


def test_add_error_never_echoes_the_value(stub):
    stub.add_client_error("add_user_pool_client_secret", "LimitExceededException",
                          service_message=f"two secrets already; got {VALUE}")
    with pytest.raises(secrets.CognitoSecretError, match="answered LimitExceededException$") as err:
        secrets.CognitoClientSecretProvider().create(dict(PROPS))
    assert VALUE not in str(err.value)


def test_diff_replaces_on_a_new_client_pool_region_or_version_never_in_place():
    p = secrets.CognitoClientSecretProvider()
    olds = {k: v for k, v in PROPS.items() if k != "client_secret"} | {"secret_id": "sec-2"}
    assert p.diff("sec-2", olds, dict(PROPS)).changes is False
    d = p.diff("sec-2", olds, {**PROPS, "version": 3, "client_id": "other"})
    assert d.changes is True and d.replaces == ["client_id", "version"] and d.delete_before_replace is False


def test_retire_keeps_only_the_new_secret(stub):
    listed = {"ClientSecrets": [{"ClientSecretId": "sec-1"}, {"ClientSecretId": "sec-2"}]}
    stub.add_response("list_user_pool_client_secrets", listed, {"UserPoolId": POOL, "ClientId": CLIENT})
    stub.add_response("delete_user_pool_client_secret", {},
                      {"UserPoolId": POOL, "ClientId": CLIENT, "ClientSecretId": "sec-1"})
    props = {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT, "keep_secret_id": "sec-2"}
    result = secrets.CognitoRetireSecretsProvider().create(props)
    assert result.outs["retired"] == ["sec-1"] and result.outs["keep_secret_id"] == "sec-2"


def test_retire_refuses_when_the_new_secret_is_not_there_and_deletes_nothing(stub):
    stub.add_response("list_user_pool_client_secrets", {"ClientSecrets": [{"ClientSecretId": "sec-1"}]},
                      {"UserPoolId": POOL, "ClientId": CLIENT})
    props = {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT, "keep_secret_id": "sec-2"}
    with pytest.raises(secrets.CognitoSecretError, match="must exist before the previous one is retired"):
        secrets.CognitoRetireSecretsProvider().create(props)


def test_retire_update_retires_again_and_delete_does_nothing(stub):
    stub.add_response("list_user_pool_client_secrets", {"ClientSecrets": [{"ClientSecretId": "sec-3"}]},
                      {"UserPoolId": POOL, "ClientId": CLIENT})
    provider = secrets.CognitoRetireSecretsProvider()
    old = {"region": REGION, "user_pool_id": POOL, "client_id": CLIENT, "keep_secret_id": "sec-2"}
    new = {**old, "keep_secret_id": "sec-3"}
    assert provider.diff("x", old, old).changes is False and provider.diff("x", old, new).changes is True
    assert provider.update("x", old, new).outs["retired"] == []
    assert provider.delete("x", new) is None  # no call: the Stubber would fail on one


def test_the_real_client_has_bounded_timeouts_and_retries():
    c = secrets.cognito_client(REGION)
    assert c.meta.config.connect_timeout == secrets.TIMEOUT_SECONDS == c.meta.config.read_timeout
    assert c.meta.config.retries == {"mode": "standard", "total_max_attempts": secrets.MAX_ATTEMPTS + 1}
    assert c.meta.region_name == REGION
