"""Building a package (or reusing a cached one once verified), and re-pinning build.lock."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from lambdas.build.archive import _compile, _environment, _Mismatch, _pyc_name, _zip_folder, dependency_digest
from lambdas.build.base import (
    ARCHES,
    CACHE_DIR,
    CUSTOMERS,
    FUNCTIONS,
    LOCK_FILE,
    BuildError,
    BuildResult,
    Function,
    Interpreter,
    _load_lock,
    _project_files,
    _say,
    cache_key,
)
from lambdas.build.interpreter import find_python
from lambdas.build.verify import _check_fresh, verify_package
from lambdas.build.wheels import _pip_download, verified_wheels


def _install(target: Path, arch: str, python_version: str, wheels: Mapping[str, bytes]) -> None:
    """pip-install the verified wheels (written to a private folder, pinned by hash again) into ``target``."""
    with tempfile.TemporaryDirectory(prefix="lambda-wheels-") as tmp:
        lines = []
        for filename, data in sorted(wheels.items()):
            (Path(tmp) / filename).write_bytes(data)
            lines.append(f"{Path(tmp) / filename} --hash=sha256:{hashlib.sha256(data).hexdigest()}")
        req = Path(tmp) / "requirements.txt"
        req.write_text("\n".join(lines) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--no-deps", "--no-index", "--require-hashes", "--platform", ARCHES[arch], "--only-binary=:all:",
               "--implementation", "cp", "--python-version", python_version, "--target", str(target), "-r", str(req)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise BuildError(f"pip could not install the Lambda's {arch} wheels:\n{tail}")
    # Drop pip's install records (they name this machine's paths) and the scripts (not used at run time).
    for junk in list(target.rglob("__pycache__")) + list(target.glob("bin")):
        shutil.rmtree(junk, ignore_errors=True)
    for name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
        for path in target.glob(f"*.dist-info/{name}"):
            path.unlink()


def _build(function: Function, arch: str, python_version: str, interp: Interpreter, wheels: Mapping[str, bytes],
           zip_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=zip_path.parent, prefix=".staging-") as tmp:
        staging = Path(tmp) / "package"
        _install(staging, arch, python_version, wheels)
        for name, data in _project_files(function).items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        _compile(interp, staging)
        modules = [p for p in staging.rglob("*.py")]
        pycs = {p.relative_to(staging).as_posix() for p in staging.rglob(f"*.{interp.cache_tag}.pyc")}
        lacking = [p for p in modules if _pyc_name(p.relative_to(staging).as_posix(), interp.cache_tag) not in pycs]
        if lacking:
            raise BuildError(f"no bytecode for {lacking[0].relative_to(staging)}")
        _zip_folder(staging, zip_path)


def build_package(arch: str = "arm64", python_version: str = "3.13", out_dir: Path | None = None,
                  python_bin: str | None = None) -> BuildResult:
    """Build (or reuse, once verified) the /customers/current package for ``arch``; see the module docstring."""
    return build_function(CUSTOMERS, arch, python_version, out_dir, python_bin)


#: (zip path, sha256) of packages verified in this process: the same bytes need no second check.
_verified: set[tuple[str, str]] = set()


def build_function(function: Function | str, arch: str = "arm64", python_version: str = "3.13",
                   out_dir: Path | None = None, python_bin: str | None = None) -> BuildResult:
    """Build (or reuse, once verified) one function's package (a :class:`Function` or a name in FUNCTIONS)."""
    if isinstance(function, str):
        if function not in FUNCTIONS:
            raise BuildError(f"function must be one of {', '.join(FUNCTIONS)}")
        function = FUNCTIONS[function]
    if arch not in ARCHES:
        raise BuildError(f"arch must be one of {', '.join(ARCHES)}")
    interp = find_python(python_version, python_bin)
    cache = out_dir or CACHE_DIR
    key = cache_key(arch, python_version, function)
    out = cache / f"{function.name}-{arch}-py{interp.version}-{key}"
    zip_path = out / f"{function.name}.zip"
    data = zip_path.read_bytes() if zip_path.is_file() else None
    if data is not None:
        digest = hashlib.sha256(data).hexdigest()
        if (str(zip_path), digest) not in _verified:
            try:
                verify_package(data, function, arch, interp)
            except BuildError:
                raise
            except Exception as exc:  # noqa: BLE001 - _Mismatch, or bytes zipfile cannot even parse: rebuild
                why = str(exc) if isinstance(exc, _Mismatch) else f"unreadable: {type(exc).__name__}"
                _say(f"the cached {function.name} package ({arch}) is not what it must be ({why}); rebuilding it")
                data = None
    if data is None:
        wheels = verified_wheels(function, arch, python_version, cache / "wheels")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".tmp-"))
        try:
            _build(function, arch, python_version, interp, wheels, tmp / zip_path.name)
            data = (tmp / zip_path.name).read_bytes()
            _check_fresh(data, function, arch, interp, wheels)
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)  # atomic: a half-built package is never in the cache
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        digest = hashlib.sha256(data).hexdigest()
    _verified.add((str(zip_path), digest))
    return BuildResult(zip_path=zip_path, sha256_base64=base64.b64encode(bytes.fromhex(digest)).decode(),
                       size_bytes=len(data), python=interp.version)


# -- the lock --------------------------------------------------------------------------------------------


def write_lock(python_version: str = "3.13", python_bin: str | None = None) -> dict:
    """Re-pin build.lock from requirements.txt: the wheel pip picks per function and architecture (downloaded
    with --require-hashes), and the dependency digest of a fresh, fully checked build with this interpreter."""
    interp = find_python(python_version, python_bin)
    old = _load_lock()
    lock: dict = {"_comment": "Generated by `make lock-lambdas` (python -m lambdas.build --lock); see build.py."}
    with tempfile.TemporaryDirectory(prefix="lambda-lock-") as tmp:
        for function in FUNCTIONS.values():
            entry: dict = {"wheels": {}, "dependencies": {}}
            for arch in sorted(ARCHES):
                dl = Path(tmp) / function.name / arch
                _pip_download(function, arch, python_version, dl)
                entry["wheels"][arch] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                         for p in sorted(dl.glob("*.whl"))}
            previous = old.get(function.name, {})
            if previous.get("wheels") == entry["wheels"]:  # digests of other interpreters stay valid
                entry["dependencies"].update(previous.get("dependencies", {}))
            lock[function.name] = entry
        LOCK_FILE.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
        for function in FUNCTIONS.values():
            for arch in sorted(ARCHES):
                env = _environment(arch, interp)
                lock[function.name]["dependencies"].pop(env, None)
                LOCK_FILE.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
                wheels = verified_wheels(function, arch, python_version, Path(tmp) / "wheels")
                zip_path = Path(tmp) / f"{function.name}-{arch}.zip"
                _build(function, arch, python_version, interp, wheels, zip_path)
                data = zip_path.read_bytes()
                try:
                    verify_package(data, function, arch, interp, wheels)
                except _Mismatch as exc:
                    raise BuildError(f"the fresh {function.name} package fails its own check: {exc}") from None
                lock[function.name]["dependencies"][env] = dependency_digest(data, function, interp)
    LOCK_FILE.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return lock
