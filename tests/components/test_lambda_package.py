"""A Lambda package that cannot be built (no CPython 3.13, PyPI out of reach) ends the program with the build's
message as an error that is both a pulumi.RunError (no traceback under `pulumi up`) and a BuildError (the CLI's usage
error, exit 2), for the customers API's function and Cognito's scope adapter alike: not a bug."""

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


def test_a_failed_build_is_a_run_error_and_a_build_error_with_the_builds_message(no_python):
    with pytest.raises(pulumi.RunError) as info:
        lambda_package.lambda_package(build.SCOPE_ADAPTER, "arm64")
    assert isinstance(info.value, build.BuildError) and str(info.value) == WHY


def test_the_customers_api_and_the_scope_adapter_report_it_alike(no_python):
    def customers() -> None:
        PlaidCustomersApi("fpb-customers", CustomersApiArgs.from_settings(parse_settings(config_of(BASE_SETTINGS)),
                                                                          contract()))

    def adapter() -> None:
        PlaidScopeAdapter("fpb-scope-adapter", ScopeAdapterArgs(
            name_prefix="fpb-dev", upstream_issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
            upstream_base_url="https://x.auth.us-east-1.amazoncognito.com"))

    for program in (customers, adapter):
        with pytest.raises(pulumi.RunError) as info:
            declare(program)
        assert isinstance(info.value, build.BuildError) and str(info.value) == WHY
