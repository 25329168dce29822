"""What a package must contain, checked against the source tree, build.lock and the wheels' RECORDs."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from lambdas.build.archive import (
    _dependency_digest,
    _environment,
    _Mismatch,
    _pyc_name,
    _records,
    _zip_entries,
    compile_sources,
)
from lambdas.build.base import CACHE_DIR, LOCK_FILE, BuildError, Function, Interpreter, _load_lock, _project_files, _rel
from lambdas.build.wheels import verified_wheels, wheel_contents


def _project_records(function: Function, interp: Interpreter) -> dict[str, bytes]:
    """The raw zip records of the project files and their bytecode, built from the source tree."""
    files = _project_files(function)
    entries = [(n, d, False) for n, d in files.items()]
    entries += [(n, d, False) for n, d in compile_sources(interp, files).items()]
    buf = io.BytesIO()
    _zip_entries(entries, buf)
    return _records(buf.getvalue())[1]


def verify_package(data: bytes, function: Function, arch: str, interp: Interpreter,
                   wheels: Mapping[str, bytes] | None = None) -> str:
    """Check a package's bytes against what it must contain; returns how ("lock" or "record"), raises _Mismatch.

    Project files and their bytecode are rebuilt from the source tree and compared (compressed, byte for byte).
    Dependency entries: against build.lock's digest for this interpreter and zlib when it has one (and no
    ``wheels`` are passed); else each file against its wheel's RECORD sha256 and each .pyc against a recompile."""
    with ThreadPoolExecutor(max_workers=1) as pool:  # the recompile runs in CPython 3.13 while this reads the zip
        rebuilt = pool.submit(_project_records, function, interp)
        infos, raw = _records(data)
        project = rebuilt.result()
    present = set(raw)
    missing = sorted(set(project) - present)
    if missing:
        raise _Mismatch(f"{missing[0]} is missing")
    for name, record in project.items():
        if raw[name] != record:
            raise _Mismatch(f"{name} differs from the source tree")
    digest = _load_lock().get(function.name, {}).get("dependencies", {}).get(_environment(arch, interp))
    if wheels is None and digest is not None:
        if _dependency_digest(infos, raw, set(project)) != digest:
            raise _Mismatch("its dependency entries (files and bytecode) differ from build.lock's digest: a file "
                            "was added, removed or changed")
        return "lock"
    if wheels is None:
        minor = ".".join(interp.version.split(".")[:2])
        wheels = verified_wheels(function, arch, minor, CACHE_DIR / "wheels")
    expected = wheel_contents(wheels)
    pycs = {_pyc_name(n, interp.cache_tag) for n in expected if n.endswith(".py")}
    wanted = set(expected) | pycs
    names = present - set(project)
    if names != wanted:
        odd = sorted(names - wanted) or sorted(wanted - names)
        raise _Mismatch(f"{odd[0]} is " + ("not a dependency file" if odd[0] in names else "missing"))
    zf = zipfile.ZipFile(io.BytesIO(data))
    deps = {n: zf.read(n) for n in names}
    sources = {n: d for n, d in deps.items() if n.endswith(".py")}
    for name, exp in expected.items():
        got = base64.urlsafe_b64encode(hashlib.sha256(deps[name]).digest()).rstrip(b"=").decode()
        if got != exp.sha256_b64:
            raise _Mismatch(f"{name} differs from its wheel's RECORD")
        if ((next(i for i in infos if i.filename == name).external_attr >> 16) & 0o111 != 0) != exp.executable:
            raise _Mismatch(f"{name}: wrong file mode")
    for name, pyc in compile_sources(interp, sources).items():
        if deps.get(name) != pyc:
            raise _Mismatch(f"{name} is not the bytecode of its source")
    return "record"


def _check_fresh(data: bytes, function: Function, arch: str, interp: Interpreter, wheels: Mapping[str, bytes]) -> None:
    """A fresh build passes the check a cached one must pass: against build.lock's digest where it has one for this
    interpreter (a mismatch means the lock is stale), else against the wheels' RECORDs and a recompile."""
    locked = _load_lock().get(function.name, {}).get("dependencies", {}).get(_environment(arch, interp))
    try:
        verify_package(data, function, arch, interp, None if locked else wheels)
    except _Mismatch as exc:
        if locked:
            raise BuildError(f"the fresh {function.name} package ({arch}) does not match {_rel(LOCK_FILE)} "
                             f"for {_environment(arch, interp)} ({exc}): run `make lock-lambdas`") from None
        raise BuildError(f"the fresh {function.name} package fails its own check: {exc}") from None
