"""A Lambda package that cannot be built (no CPython 3.13, PyPI out of reach) ends the program with its one-line
reason as a pulumi.RunError, for the customers API's function and Cognito's scope adapter alike: not a bug, not a
traceback."""

from __future__ import annotations

import pulumi
import pytest

from components import lambda_package
from components.customers_api import CustomersApiArgs, PlaidCustomersApi
from components.idps.cognito.scope_adapter import PlaidScopeAdapter, ScopeAdapterArgs
from components.settings import parse_settings
from lambdas import build
from tests.components.test_customers_api import contract
from tests.harness import BASE_SETTINGS, config_of, declare

WHY = "$PLAID_READY_LAMBDA_PYTHON=/nowhere is not a working CPython 3.13 interpreter"


@pytest.fixture
def no_python(monkeypatch):
    def fail(*args: object, **kwargs: object) -> None:
        raise build.BuildError(WHY)

    monkeypatch.setattr(build, "build_function", fail)


def test_a_failed_build_is_a_run_error_naming_the_function(no_python):
    with pytest.raises(pulumi.RunError) as info:
        lambda_package.lambda_package(build.SCOPE_ADAPTER, "arm64")
    assert str(info.value) == f"the scope_adapter Lambda package cannot be built: {WHY}"


def test_the_customers_api_and_the_scope_adapter_report_it_alike(no_python):
    def customers() -> None:
        PlaidCustomersApi("fpb-customers", CustomersApiArgs.from_settings(parse_settings(config_of(BASE_SETTINGS)),
                                                                          contract()))

    def adapter() -> None:
        PlaidScopeAdapter("fpb-scope-adapter", ScopeAdapterArgs(
            name_prefix="fpb-dev", upstream_issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
            upstream_base_url="https://x.auth.us-east-1.amazoncognito.com"))

    messages = []
    for program in (customers, adapter):
        with pytest.raises(pulumi.RunError) as info:
            declare(program)
        messages.append(str(info.value))
    assert messages == [f"the customers_current Lambda package cannot be built: {WHY}",
                        f"the scope_adapter Lambda package cannot be built: {WHY}"]
