"""The Lambda packages: byte-identical rebuilds holding CPython 3.13 bytecode for every module, the right content,
no Pulumi in the runtime code, and a cache that is used only once verified (issue 16: anything running as this
user, such as another revision's program under ``plan --compare``, can write into ``.build``)."""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambdas import build
from lambdas.build import archive, base, builder, interpreter, verify
from lambdas.build import wheels as pinned_wheels
from tests.harness import ROOT

#: The package the runner can import (the tampering tests use it too); the other one is the wheel-swap source.
RUNNER_ARCH = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
OTHER_ARCH = "x86_64" if RUNNER_ARCH == "arm64" else "arm64"


def _entries(data: bytes) -> list[tuple[str, bytes, bool]]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, zf.read(i), bool((i.external_attr >> 16) & 0o111)) for i in zf.infolist()]


def _rezip(entries: list[tuple[str, bytes, bool]]) -> bytes:
    """A zip written exactly as the build writes one (so only the content differs)."""
    buf = io.BytesIO()
    archive._zip_entries(entries, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def interp() -> build.Interpreter:
    return build.find_python("3.13")


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[build.BuildResult, build.BuildResult]:
    """Two builds from scratch (each downloads its wheels), for the architecture this machine can import."""
    a = build.build_package(RUNNER_ARCH, out_dir=tmp_path_factory.mktemp("a"))
    b = build.build_package(RUNNER_ARCH, out_dir=tmp_path_factory.mktemp("b"))
    return a, b


@pytest.fixture(scope="module")
def clean(two_builds) -> build.BuildResult:
    """A clean build; the tampering tests alter copies of its cache folder."""
    return two_builds[0]


@pytest.fixture(scope="module")
def arm64() -> build.BuildResult:
    return build.build_package("arm64")  # the project's cache (the plans' package)


def test_two_builds_from_scratch_are_byte_identical(two_builds):
    a, b = two_builds
    assert a.zip_path.read_bytes() == b.zip_path.read_bytes()
    assert a.sha256_base64 == b.sha256_base64 and a.size_bytes == b.size_bytes
    assert a.python.startswith("3.13.")


def test_package_content(two_builds, arm64):
    names = zipfile.ZipFile(two_builds[0].zip_path).namelist()
    for needed in ("lambdas/__init__.py", "lambdas/customers_current/handler.py", "lambdas/http.py",
                   "lambdas/__pycache__/http.cpython-313.pyc",
                   "plaid_contract/__init__.py", "jwt/__init__.py", "aws_lambda_powertools/__init__.py"):
        assert needed in names
    assert names == sorted(names)
    assert not any(n.startswith(("pulumi", "components/", "bin/")) for n in names)  # runtime code ships no IaC
    assert not any(n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")) for n in names)
    info = zipfile.ZipFile(two_builds[0].zip_path).infolist()
    assert {i.date_time for i in info} == {(1980, 1, 1, 0, 0, 0)}
    arm = [n for n in zipfile.ZipFile(arm64.zip_path).namelist() if n.endswith(".so")]
    # Lambda-platform wheels for the architecture asked for, whatever this machine is
    assert any("aarch64" in n for n in arm) and not any("x86_64" in n for n in arm)
    assert sorted(n for n in names if not n.endswith(".so")) == sorted(
        n for n in zipfile.ZipFile(arm64.zip_path).namelist() if not n.endswith(".so"))


def test_every_module_has_unchecked_hash_313_bytecode(two_builds):
    zf = zipfile.ZipFile(two_builds[0].zip_path)
    names = set(zf.namelist())
    modules = sorted(n for n in names if n.endswith(".py"))
    pycs = sorted(n for n in names if n.endswith(".pyc"))
    assert len(modules) > 400 and len(pycs) == len(modules)
    for module in modules:
        folder, _, file = module.rpartition("/")
        assert f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.cpython-313.pyc" in names, module
    headers = {zf.read(n)[:8] for n in pycs}
    assert len(headers) == 1
    (header,) = headers
    assert header[4:8] == b"\x01\x00\x00\x00"  # PEP 552: hash-based, not checked against the source


def test_cpython_313_imports_the_handler_from_the_shipped_bytecode(clean, interp, tmp_path):
    """As Lambda runs it: extracted read-only, no bytecode written; no module of the package is compiled."""
    folder = tmp_path / "task"
    zipfile.ZipFile(clean.zip_path).extractall(folder)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    code = ("import importlib.machinery as m, sys, json\n"
            "compiled = []\n"
            "orig = m.SourceFileLoader.source_to_code\n"
            "def spy(self, data, path, *a, **k):\n"
            "    compiled.append(path); return orig(self, data, path, *a, **k)\n"
            "m.SourceFileLoader.source_to_code = spy\n"
            "import lambdas.customers_current.handler\n"
            "print(json.dumps([p for p in compiled if p.startswith(sys.argv[1])]))\n")
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(folder),
               "TOKEN_ISSUER": "https://i.example/", "JWKS_URI": "https://i.example/j", "TOKEN_AUDIENCE": "a",
               "TOKEN_CLIENT_ID": "c"}
    try:
        out = subprocess.run([interp.path, "-c", code, str(folder)], env=environ, capture_output=True, text=True,
                             check=True, timeout=60)
        assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_cache_returns_the_same_build_without_pip(two_builds, monkeypatch):
    a = two_builds[0]
    monkeypatch.setattr(builder, "_install", lambda *a, **k: pytest.fail("pip ran for a cached build"))
    builder._verified.clear()  # verified again, as a fresh process would
    again = build.build_package(RUNNER_ARCH, out_dir=a.zip_path.parent.parent)
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


# -- the target interpreter ------------------------------------------------------------------------------


def test_no_313_interpreter_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(interpreter, "_interpreters", {})
    monkeypatch.delenv(build.PYTHON_ENV, raising=False)
    monkeypatch.setenv("PYENV_ROOT", "/nonexistent")
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(build.BuildError, match=r"no CPython 3\.13 found .*pyenv install 3\.13.*--python-bin"):
        build.find_python("3.13")


def test_an_explicit_interpreter_of_another_version_is_refused(monkeypatch):
    monkeypatch.setattr(interpreter, "_interpreters", {})
    with pytest.raises(build.BuildError, match=r"--python-bin=.* is not a working CPython 3\.13"):
        build.find_python("3.13", sys.executable)  # the test runner's own Python (3.11)
    monkeypatch.setenv(build.PYTHON_ENV, sys.executable)
    with pytest.raises(build.BuildError, match=r"\$PLAID_READY_LAMBDA_PYTHON=.* is not a working CPython 3\.13"):
        build.find_python("3.13")


def test_cli_reports_a_missing_interpreter_in_one_line(capsys):
    assert build.main(["--python-bin", "/nonexistent/python3.13"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("build failed: --python-bin=/nonexistent/python3.13") and "Traceback" not in err


# -- hash-pinned requirements and the lock ----------------------------------------------------------------


@pytest.mark.parametrize("function", list(build.FUNCTIONS.values()), ids=list(build.FUNCTIONS))
def test_requirements_pin_every_package_with_hashes_and_the_lock_agrees(function):
    allowed = build.requirement_hashes(function.requirements)
    text = function.requirements.read_text()
    pins = [line.split(" ")[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert pins and all("==" in p for p in pins)
    assert len(allowed) == len(pins) and all(allowed.values())
    lock = json.loads(build.LOCK_FILE.read_text())[function.name]
    for arch, plat in (("arm64", "aarch64"), ("x86_64", "x86_64")):
        wheels = lock["wheels"][arch]
        assert {pinned_wheels._wheel_project(f) for f in wheels} == set(allowed)
        for filename, digest in wheels.items():
            assert digest in allowed[pinned_wheels._wheel_project(filename)]
            assert "-none-any" in filename or (plat in filename and ("cp313" in filename or "abi3" in filename))


def test_a_lock_that_disagrees_with_requirements_is_refused(monkeypatch, tmp_path):
    lock = json.loads(build.LOCK_FILE.read_text())
    name = next(iter(lock["customers_current"]["wheels"]["arm64"]))
    lock["customers_current"]["wheels"]["arm64"][name] = "0" * 64
    path = tmp_path / "build.lock"
    path.write_text(json.dumps(lock))
    monkeypatch.setattr(base, "LOCK_FILE", path)
    with pytest.raises(build.BuildError, match=f"disagree on {name}: run `make lock-lambdas`"):
        pinned_wheels._locked_wheels(build.CUSTOMERS, "arm64")


# -- a tampered cache ----------------------------------------------------------------------------------


def _edit(old: bytes) -> bytes:
    return old + b"\nimport os  # planted\n"


def _tamper_entry(zip_path: Path, name: str, change) -> None:
    entries = _entries(zip_path.read_bytes())
    out = [(n, change(d) if n == name else d, x) for n, d, x in entries]
    assert out != entries
    zip_path.write_bytes(_rezip(out))


def _tamper_wheel(wheels: Path, prefix: str, change) -> None:
    (path,) = wheels.glob(f"{prefix}-*.whl")
    entries = _entries(path.read_bytes())
    path.write_bytes(_rezip([(n, change(n, d), x) for n, d, x in entries]))


def _record_edit(name: str, data: bytes) -> bytes:
    if not name.endswith(".dist-info/RECORD"):
        return data
    return data.replace(b"jwt/api_jwt.py,sha256=", b"jwt/api_jwt.py,sha256=AAAA")


def _crypto_wheel(arch: str) -> str:
    lock = json.loads(build.LOCK_FILE.read_text())["customers_current"]["wheels"]
    (name,) = (f for f in lock[arch] if f.startswith("cryptography-"))
    return name


def _swap_wheel(wheels: Path) -> None:
    """Put the other architecture's cryptography wheel (a genuine one, its hash in requirements.txt) in place of the
    runner's."""
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--platform",
           build.ARCHES[OTHER_ARCH], "--python-version", "3.13", "--implementation", "cp", "-d",
           str(wheels.parent / "x"), "cryptography==50.0.2"]
    subprocess.run(pip, check=True, capture_output=True)
    shutil.copyfile(wheels.parent / "x" / _crypto_wheel(OTHER_ARCH), wheels / _crypto_wheel(RUNNER_ARCH))


#: (kind, how to tamper with a copy of a clean build's cache folder, what the rebuild notice names)
TAMPERING = {
    "project file": (lambda z, w: _tamper_entry(z, "lambdas/customers_current/handler.py", _edit),
                     "lambdas/customers_current/handler.py differs from the source tree"),
    "dependency file": (lambda z, w: _tamper_entry(z, "jwt/api_jwt.py", _edit), "dependency entries"),
    "dependency bytecode": (lambda z, w: _tamper_entry(z, "jwt/__pycache__/api_jwt.cpython-313.pyc", _flip),
                            "dependency entries"),
    "extra file": (lambda z, w: z.write_bytes(_rezip([*_entries(z.read_bytes()), ("sitecustomize.py", b"x=1", False)])),
                   "dependency entries"),
    "removed file": (lambda z, w: z.write_bytes(_rezip([e for e in _entries(z.read_bytes())
                                                        if e[0] != "jwt/algorithms.py"])), "dependency entries"),
    "RECORD edit in a wheel": (lambda z, w: (_tamper_wheel(w, "pyjwt", _record_edit), z.unlink()),
                               "wheel pyjwt-2.15.1-py3-none-any.whl does not match its sha256"),
    "wheel swap": (lambda z, w: (_swap_wheel(w), z.unlink()), f"wheel {_crypto_wheel(RUNNER_ARCH)} does not match"),
}


def _flip(data: bytes) -> bytes:
    """One bit of the marshalled code changed (the PEP 552 header, with the source's hash, kept)."""
    return data[:40] + bytes([data[40] ^ 1]) + data[41:]


def _recompress(zip_path: Path) -> None:
    """Same files, same content, one entry compressed at another level: not the package a clean build writes."""
    src = zipfile.ZipFile(io.BytesIO(zip_path.read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            level = 1 if info.filename == "jwt/api_jwt.py" else build.ZIP_LEVEL
            out.writestr(info, src.read(info), compresslevel=level)
    zip_path.write_bytes(buf.getvalue())


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_a_tampered_cache_is_detected_and_rebuilt_byte_identical(kind, clean, tmp_path, capsys):
    cache = tmp_path / "cache"
    shutil.copytree(clean.zip_path.parent.parent, cache)
    zip_path = cache / clean.zip_path.parent.name / clean.zip_path.name
    tamper, notice = TAMPERING[kind]
    tamper(zip_path, cache / "wheels")
    if zip_path.is_file():
        assert zip_path.read_bytes() != clean.zip_path.read_bytes()
    capsys.readouterr()
    rebuilt = build.build_package(RUNNER_ARCH, out_dir=cache)
    err = capsys.readouterr().err
    assert notice in err, err
    if "wheel" not in kind:
        assert "rebuilding it" in err
    assert rebuilt.zip_path.read_bytes() == clean.zip_path.read_bytes()
    assert build.build_package(RUNNER_ARCH, out_dir=cache).sha256_base64 == clean.sha256_base64  # and stays so


def _chmod_x(zip_path: Path) -> None:
    zip_path.write_bytes(_rezip([(n, d, x or n == "jwt/api_jwt.py") for n, d, x in _entries(zip_path.read_bytes())]))


def _comment(zip_path: Path) -> None:
    buf = io.BytesIO(zip_path.read_bytes())
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"x"
    zip_path.write_bytes(buf.getvalue())


@pytest.mark.parametrize(("kind", "tamper", "message"), [
    ("project bytecode", lambda z: _tamper_entry(z, "lambdas/customers_current/__pycache__/verifier.cpython-313.pyc",
                                                 _flip), "verifier.cpython-313.pyc differs from the source tree"),
    ("project file removed", lambda z: z.write_bytes(_rezip([e for e in _entries(z.read_bytes())
                                                             if e[0] != "plaid_contract/__init__.py"])),
     "plaid_contract/__init__.py is missing"),
    ("same content, compressed otherwise", lambda z: _recompress(z), "dependency entries"),
    ("a file made executable", _chmod_x, "dependency entries"),
    ("bytes after the entries", lambda z: z.write_bytes(z.read_bytes() + b"\0"), "bytes outside the entries"),
    ("a zip comment", _comment, "comment"),
    ("not a zip at all", lambda z: z.write_bytes(b"#!/bin/sh\n"), "not a zip"),
])
def test_other_tampering_is_detected(kind, tamper, message, clean, interp, tmp_path):
    copy = tmp_path / "p.zip"
    shutil.copyfile(clean.zip_path, copy)
    tamper(copy)
    with pytest.raises(archive._Mismatch, match=message):
        build.verify_package(copy.read_bytes(), build.CUSTOMERS, RUNNER_ARCH, interp)
    assert build.verify_package(clean.zip_path.read_bytes(), build.CUSTOMERS, RUNNER_ARCH, interp) == "lock"


def test_nothing_is_decompressed_past_lambdas_unzipped_limit(clean, interp, monkeypatch):
    monkeypatch.setattr(archive, "MAX_UNZIPPED_BYTES", 1_000_000)
    with pytest.raises(archive._Mismatch, match="larger than Lambda's 250 MB unzipped limit"):
        build.verify_package(clean.zip_path.read_bytes(), build.CUSTOMERS, RUNNER_ARCH, interp)


def test_without_a_lock_digest_dependencies_are_checked_against_record_and_a_recompile(clean, interp, monkeypatch):
    monkeypatch.setattr(verify, "_environment", lambda arch, i: "an interpreter build.lock has no digest for")
    wheels = build.verified_wheels(build.CUSTOMERS, RUNNER_ARCH, "3.13", clean.zip_path.parent.parent / "wheels")
    data = clean.zip_path.read_bytes()
    assert build.verify_package(data, build.CUSTOMERS, RUNNER_ARCH, interp, wheels) == "record"
    entries = _entries(data)
    for name, change, message in (
            ("jwt/api_jwt.py", _edit, "jwt/api_jwt.py differs from its wheel's RECORD"),
            ("jwt/__pycache__/api_jwt.cpython-313.pyc", _flip,
             "api_jwt.cpython-313.pyc is not the bytecode of its source")):
        bad = _rezip([(n, change(d) if n == name else d, x) for n, d, x in entries])
        with pytest.raises(archive._Mismatch, match=message):
            build.verify_package(bad, build.CUSTOMERS, RUNNER_ARCH, interp, wheels)
    extra = _rezip([*entries, ("jwt/evil.py", b"x = 1\n", False)])
    with pytest.raises(archive._Mismatch, match="jwt/evil.py is not a dependency file"):
        build.verify_package(extra, build.CUSTOMERS, RUNNER_ARCH, interp, wheels)


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


def test_adapter_package_ships_only_its_own_code_with_bytecode(adapter_builds):
    names = zipfile.ZipFile(adapter_builds[0].zip_path).namelist()
    for needed in ("lambdas/__init__.py", "lambdas/scope_adapter/handler.py", "lambdas/scope_adapter/config.py",
                   "lambdas/http.py", "lambdas/__pycache__/http.cpython-313.pyc",
                   "plaid_contract/__init__.py", "aws_lambda_powertools/__init__.py",
                   "lambdas/scope_adapter/__pycache__/handler.cpython-313.pyc"):
        assert needed in names
    assert names == sorted(names)
    assert not any(n.startswith(("lambdas/customers_current/", "jwt/", "cryptography/", "pulumi", "components/"))
                   for n in names)
    assert len([n for n in names if n.endswith(".pyc")]) == len([n for n in names if n.endswith(".py")])
    assert {i.date_time for i in zipfile.ZipFile(adapter_builds[0].zip_path).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert build.SCOPE_ADAPTER.handler == "lambdas.scope_adapter.handler.handler"


def test_each_function_has_its_own_cache_key_and_folder(adapter_builds):
    assert build.cache_key("arm64", "3.13", build.SCOPE_ADAPTER) != build.cache_key("arm64", "3.13")
    assert build.cache_key("arm64", "3.13", build.CUSTOMERS) == build.cache_key("arm64", "3.13")
    assert adapter_builds[0].zip_path.parent.name.startswith("scope_adapter-arm64-py3.13.")


def test_unknown_function_is_refused():
    with pytest.raises(build.BuildError,
                       match="function must be one of customers_current, scope_adapter, readiness_probe"):
        build.build_function("nope")


def test_adapter_runtime_code_never_imports_pulumi():
    code = ("import sys, os; os.environ.update(UPSTREAM_ISSUER='https://i.example/p', UPSTREAM_BASE_URL='https://u.example',"
            " PUBLIC_BASE_URL='https://a.example'); import lambdas.scope_adapter.handler;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pydantic', 'jwt')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the readiness probe's package (same builder, its own requirements and sources) -------------------------


@pytest.fixture(scope="module")
def probe_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[build.BuildResult, build.BuildResult]:
    a = build.build_function("readiness_probe", "arm64", out_dir=tmp_path_factory.mktemp("pa"))
    b = build.build_function(build.READINESS_PROBE, "arm64", out_dir=tmp_path_factory.mktemp("pb"))
    return a, b


def test_probe_builds_are_byte_identical(probe_builds):
    a, b = probe_builds
    assert a.zip_path.read_bytes() == b.zip_path.read_bytes() and a.sha256_base64 == b.sha256_base64
    assert a.zip_path.name == "readiness_probe.zip" and a.python.startswith("3.13.")
    assert a.zip_path.parent.name.startswith("readiness_probe-arm64-py3.13.")


def test_probe_package_ships_the_shared_checks_and_no_iac_with_bytecode(probe_builds):
    names = zipfile.ZipFile(probe_builds[0].zip_path).namelist()
    for needed in ("lambdas/__init__.py", "lambdas/readiness_probe/handler.py", "lambdas/readiness_probe/checks.py",
                   "lambdas/oidc_checks/discovery.py", "lambdas/oidc_checks/keys.py", "lambdas/oidc_checks/rotation.py",
                   "lambdas/oidc_checks/__pycache__/keys.cpython-313.pyc", "lambdas/http.py",
                   "lambdas/readiness_probe/__pycache__/handler.cpython-313.pyc",
                   "plaid_contract/__init__.py", "aws_lambda_powertools/__init__.py"):
        assert needed in names
    assert names == sorted(names)
    assert not any(n.startswith(("lambdas/customers_current/", "lambdas/scope_adapter/", "jwt/", "cryptography/",
                                 "boto3/", "botocore/", "pulumi", "components/", "readiness/")) for n in names)
    assert len([n for n in names if n.endswith(".pyc")]) == len([n for n in names if n.endswith(".py")])
    assert build.READINESS_PROBE.handler == "lambdas.readiness_probe.handler.handler"


def test_cpython_313_imports_the_probe_from_its_bytecode_without_boto3_or_iac(probe_builds, interp, tmp_path):
    """Extracted as Lambda runs it; boto3 is the runtime's and is imported only when SSM is first used."""
    folder = tmp_path / "task"
    zipfile.ZipFile(probe_builds[0].zip_path).extractall(folder)
    code = ("import sys, json; import lambdas.readiness_probe.handler\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pulumi', 'pulumi_aws', 'pydantic', 'jwt', 'cryptography', 'boto3', 'components', 'readiness'})))\n")
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(folder),
               "PROBE_DISCOVERY_URL": "https://i.example/.well-known/openid-configuration",
               "PROBE_STATE_PARAMETER": "/p/kids"}
    out = subprocess.run([interp.path, "-c", code], env=environ,
                         capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
