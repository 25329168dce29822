"""The Lambda package: byte-identical rebuilds, the right content, and no Pulumi in the runtime code."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from lambdas import build
from tests.harness import ROOT


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[build.BuildResult, build.BuildResult]:
    a = build.build_package("arm64", out_dir=tmp_path_factory.mktemp("a"))
    b = build.build_package("arm64", out_dir=tmp_path_factory.mktemp("b"))
    return a, b


def test_two_builds_are_byte_identical(two_builds):
    a, b = two_builds
    assert a.zip_path.read_bytes() == b.zip_path.read_bytes()
    assert a.sha256_base64 == b.sha256_base64 and a.size_bytes == b.size_bytes


def test_package_content(two_builds):
    names = zipfile.ZipFile(two_builds[0].zip_path).namelist()
    for needed in ("lambdas/__init__.py", "lambdas/customers_current/handler.py",
                   "plaid_contract/__init__.py", "jwt/__init__.py", "aws_lambda_powertools/__init__.py"):
        assert needed in names
    assert names == sorted(names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith(("pulumi", "components/")) for n in names)  # runtime code ships no IaC
    assert any("aarch64" in n for n in names if n.endswith(".so"))  # Lambda-platform wheels, not this machine's
    info = zipfile.ZipFile(two_builds[0].zip_path).infolist()
    assert {i.date_time for i in info} == {(1980, 1, 1, 0, 0, 0)}


def test_cache_returns_the_same_build_without_pip(two_builds, monkeypatch):
    a = two_builds[0]
    monkeypatch.setattr(build, "_install", lambda *a, **k: pytest.fail("pip ran for a cached build"))
    again = build.build_package("arm64", out_dir=a.zip_path.parent.parent)
    assert again.sha256_base64 == a.sha256_base64


def test_cache_key_follows_the_source(tmp_path, monkeypatch):
    key = build.cache_key("arm64", "3.13")
    assert build.cache_key("x86_64", "3.13") != key and build.cache_key("arm64", "3.12") != key
    assert build.HANDLER == "lambdas.customers_current.handler.handler"


def test_bad_arch_is_refused():
    with pytest.raises(build.BuildError, match="arch must be one of arm64, x86_64"):
        build.build_package("sparc")


def test_runtime_code_never_imports_pulumi():
    code = ("import sys, os; os.environ.update(TOKEN_ISSUER='x', JWKS_URI='https://x/j', TOKEN_AUDIENCE='a',"
            " TOKEN_CLIENT_ID='c');"
            "import lambdas.customers_current.handler, lambdas.local_server;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pydantic')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for path in (ROOT / "lambdas").rglob("*.py"):
        assert "import pulumi" not in path.read_text(), path


# -- the Cognito scope adapter's package (same builder, its own requirements and sources) ---------------


@pytest.fixture(scope="module")
def adapter_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[build.BuildResult, build.BuildResult]:
    a = build.build_function("scope_adapter", "arm64", out_dir=tmp_path_factory.mktemp("sa"))
    b = build.build_function(build.SCOPE_ADAPTER, "arm64", out_dir=tmp_path_factory.mktemp("sb"))
    return a, b


def test_adapter_builds_are_byte_identical(adapter_builds):
    a, b = adapter_builds
    assert a.zip_path.read_bytes() == b.zip_path.read_bytes() and a.sha256_base64 == b.sha256_base64
    assert a.zip_path.name == "scope_adapter.zip"


def test_adapter_package_ships_only_its_own_code(adapter_builds):
    names = zipfile.ZipFile(adapter_builds[0].zip_path).namelist()
    for needed in ("lambdas/__init__.py", "lambdas/scope_adapter/handler.py", "lambdas/scope_adapter/config.py",
                   "plaid_contract/__init__.py", "aws_lambda_powertools/__init__.py"):
        assert needed in names
    assert names == sorted(names)
    assert not any(n.startswith(("lambdas/customers_current/", "jwt/", "cryptography/", "pulumi", "components/"))
                   for n in names)
    assert {i.date_time for i in zipfile.ZipFile(adapter_builds[0].zip_path).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert build.SCOPE_ADAPTER.handler == "lambdas.scope_adapter.handler.handler"


def test_each_function_has_its_own_cache_key_and_folder(adapter_builds):
    assert build.cache_key("arm64", "3.13", build.SCOPE_ADAPTER) != build.cache_key("arm64", "3.13")
    assert build.cache_key("arm64", "3.13", build.CUSTOMERS) == build.cache_key("arm64", "3.13")
    assert adapter_builds[0].zip_path.parent.name.startswith("scope_adapter-arm64-py3.13-")


def test_unknown_function_is_refused():
    with pytest.raises(build.BuildError, match="function must be one of customers_current, scope_adapter"):
        build.build_function("nope")


def test_adapter_runtime_code_never_imports_pulumi():
    code = ("import sys, os; os.environ.update(UPSTREAM_ISSUER='https://i.example/p', UPSTREAM_BASE_URL='https://u.example',"
            " PUBLIC_BASE_URL='https://a.example'); import lambdas.scope_adapter.handler;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pydantic', 'jwt')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
