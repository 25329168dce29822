from __future__ import annotations

import importlib
import importlib.util
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
import yaml

from lambdas.customers_current import verifier
from tests.lambdas.idp import JwksServer, Key, captured_logs, ec_key, env, jwks_server, rsa_key


def _import_handler() -> ModuleType:
    """The handler reads its configuration when it is imported, as a cold start does, and logs an ERROR line if it is
    incomplete. Tests configure it per test (the ``idp`` fixture); the import itself gets a complete configuration
    (the fake IdP's, on a port nothing listens on: nothing is fetched at import), so it logs nothing."""
    with mock.patch.dict(os.environ, env("https://127.0.0.1:9/.well-known/jwks.json")):
        return importlib.import_module("lambdas.customers_current.handler")


lambda_handler = _import_handler()

#: Not tests.harness (it imports the IaC side): this folder's tests also run where only the Lambda's dependencies
#: are installed.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SPEC_DIR = SHARED / "plaid-spec"

#: Modules that need the IaC side (pulumi, components, readiness) or the host's package builder. The run on the
#: Lambda's own runtime (`make test-lambda-313`: CPython 3.13 with exactly the Lambda's pinned dependencies and the
#: test tools) leaves them out; the main run has them.
NEEDS_HOST: tuple[str, ...] = ("test_contract.py", "test_cognito_e2e.py", "test_okta_e2e.py", "test_local_server.py",
                               "test_readiness_probe.py",
                               "test_packaging.py")
LAMBDA_RUNTIME_ONLY = importlib.util.find_spec("pulumi") is None
collect_ignore = list(NEEDS_HOST) if LAMBDA_RUNTIME_ONLY else []


def pytest_report_header(config: pytest.Config) -> str | None:
    if LAMBDA_RUNTIME_ONLY:
        return (f"tests/lambdas on the Lambda's runtime (Python {sys.version.split()[0]}, only its dependencies): "
                f"leaving out {', '.join(NEEDS_HOST)} (they need the IaC side or the package builder)")
    return None


@pytest.fixture(scope="session")
def rsa() -> Key:
    return rsa_key("rsa-1")


@pytest.fixture(scope="session")
def ec() -> Key:
    return ec_key("ec-1")


@pytest.fixture
def idp(rsa: Key, ec: Key) -> Iterator[JwksServer]:
    with jwks_server(rsa, ec) as server:
        lambda_handler.configure(env(server.url))
        yield server


class LogLines:
    """The Lambda's stdout as JSON lines: the Powertools Logger's stream and the EMF blobs."""

    def __init__(self, capfd: pytest.CaptureFixture[str], buffer: io.StringIO) -> None:
        self._capfd, self._buffer = capfd, buffer

    def text(self) -> str:
        out = self._buffer.getvalue() + self._capfd.readouterr().out
        self._buffer.seek(0)
        self._buffer.truncate()
        return out

    def json(self) -> list[dict]:
        return [json.loads(x) for x in self.text().splitlines() if x.startswith("{")]


@pytest.fixture
def logs(capfd: pytest.CaptureFixture[str]) -> Iterator[LogLines]:
    with captured_logs(lambda_handler.logger) as buffer:
        yield LogLines(capfd, buffer)


@pytest.fixture
def fast_cooldown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that rotate keys don't wait 30 s: the cooldown is a module setting."""
    monkeypatch.setattr(verifier, "COOLDOWN_SECONDS", 0.2)


#: The JWKS maximum age in tests (the real one is an hour): the cache expires after this.
SHORT_MAX_AGE = 0.4


@pytest.fixture
def short_max_age(monkeypatch: pytest.MonkeyPatch, fast_cooldown: None) -> float:
    """The JWKS maximum age shortened to SHORT_MAX_AGE (and the cooldown to 0.2 s) for clients built afterwards."""
    monkeypatch.setattr(verifier, "JWKS_MAX_AGE_SECONDS", SHORT_MAX_AGE)
    return SHORT_MAX_AGE


def spec_versions() -> list[Path]:
    return sorted(SPEC_DIR.glob("*/corex.yaml")) if SPEC_DIR.is_dir() else []


def customer_schema(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    schemas = doc["components"]["schemas"]
    ref = doc["paths"]["/customers/current"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    customer = schemas[ref.rsplit("/", 1)[-1]]
    # Inline the Identifier $ref so jsonschema can validate without the rest of the document.
    props = {k: schemas[v["$ref"].rsplit("/", 1)[-1]] if "$ref" in v else v for k, v in customer["properties"].items()}
    return {**customer, "properties": props}


def load_json_schema(name: str) -> dict:
    if not SPEC_DIR.is_dir():
        pytest.skip("../shared/plaid-spec is absent (a user's clone has none); CI validates against it")
    return json.loads((SPEC_DIR / name).read_text())
