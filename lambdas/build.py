"""Deterministic, verified build of the Lambda packages: /customers/current and the Cognito scope adapter.

    python -m lambdas.build [--function customers_current|scope_adapter] [--arch arm64|x86_64]
                            [--python 3.13] [--python-bin /path/to/python3.13]
    python -m lambdas.build --lock      # what `make lock-lambdas` runs after refreshing the requirements
    python -m lambdas.build --find-python   # the CPython 3.13 it would use (or why there is none)

What a package holds, and where each part comes from:

- **Dependencies**: the wheels pinned in ``lambdas/<function>/requirements.txt`` (``--hash=sha256:`` for every
  file of every package, generated from ``requirements.in`` by ``uv pip compile --generate-hashes``; see
  ``make lock-lambdas``), for the Lambda platform (``manylinux2014_<arch>``, CPython 3.13). They are
  downloaded with ``pip download --require-hashes`` into ``.build/lambda/wheels/``, checked against the exact
  files named in ``lambdas/build.lock`` (file name and sha256, one wheel per package and architecture) before
  every use, and installed with ``pip install --require-hashes --target``.
- **Project code**: the handler package and Plaid's contract constants, copied from the source tree.
- **Bytecode**: every module compiled by the target CPython (3.13: found through ``--python-bin`` /
  ``$PLAID_READY_LAMBDA_PYTHON``, pyenv, or ``python3.13`` on PATH; never a package without bytecode) as
  PEP 552 unchecked-hash ``.pyc`` files (``compileall --invalidation-mode unchecked-hash``). Lambda's
  ``/var/task`` is read-only: without them every cold start compiles every module from source.

The zip has sorted entries, fixed timestamps and permissions: two builds from the same source with the same
interpreter are byte-identical, so ``pulumi preview`` never shows a perpetual code diff.

**The cache is not trusted.** Builds are cached under ``.build/lambda/`` (keyed by the sources, the
requirements, the lock, the architecture and the interpreter), but anything running as this user can write
there (``plaid-ready plan --compare REV`` runs another revision's program code). A cached zip is used only
after it is verified against what it must contain, anchored on the tracked tree (sources, requirements
hashes, ``build.lock``): the exact entry list (nothing added, nothing missing), canonical zip structure (no
bytes outside the entries, fixed metadata); project files and their bytecode rebuilt from the source tree and
compared byte for byte; the dependency entries (files and bytecode, compressed) against the digest in
``build.lock`` recorded from a verified build with the same interpreter and zlib. Where ``build.lock`` has no
digest for this interpreter, the dependency files are checked against the sha256 in their wheel's ``RECORD``
(wheels verified as above) and their bytecode against a recompile of those sources. A mismatch rebuilds the
package and says so on stderr. docs/lambda.md ("Package") gives the costs.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
HANDLER: Final = "lambdas.customers_current.handler.handler"
REQUIREMENTS: Final = ROOT / "lambdas" / "customers_current" / "requirements.txt"
#: The code shipped besides the dependencies: the handler package, the Lambdas' HTTP client and Plaid's contract
#: constants.
SOURCES: Final = ("lambdas/__init__.py", "lambdas/http.py", "lambdas/customers_current", "plaid_contract")
ARCHES: Final = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
#: zlib's default level: 0.7 % larger than level 9 for this package, in a third of the time.
ZIP_LEVEL: Final = 6
CACHE_DIR: Final = ROOT / ".build" / "lambda"
#: The exact wheel files per function and architecture, and the digest of the dependency entries of a verified
#: package per interpreter (written by ``python -m lambdas.build --lock``; reviewed like any source file).
LOCK_FILE: Final = ROOT / "lambdas" / "build.lock"
#: An explicit target interpreter (what ``--python-bin`` sets for one command).
PYTHON_ENV: Final = "PLAID_READY_LAMBDA_PYTHON"


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class Function:
    """One Lambda package: what it is called, where its handler is, what it installs and ships."""

    name: str
    handler: str
    requirements: Path
    sources: tuple[str, ...]


CUSTOMERS: Final = Function("customers_current", HANDLER, REQUIREMENTS, SOURCES)
SCOPE_ADAPTER: Final = Function(
    "scope_adapter", "lambdas.scope_adapter.handler.handler", ROOT / "lambdas" / "scope_adapter" / "requirements.txt",
    ("lambdas/__init__.py", "lambdas/http.py", "lambdas/scope_adapter", "plaid_contract"))
FUNCTIONS: Final = {f.name: f for f in (CUSTOMERS, SCOPE_ADAPTER)}


@dataclass(frozen=True)
class BuildResult:
    zip_path: Path
    #: base64(sha256(zip)): the Lambda ``source_code_hash`` format.
    sha256_base64: str
    size_bytes: int
    #: The interpreter that compiled the bytecode, e.g. "3.13.0".
    python: str


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.13.0"
    cache_tag: str  # "cpython-313"


# -- the target interpreter -------------------------------------------------------------------------------

_PROBE: Final = ("import json, sys; print(json.dumps({'impl': sys.implementation.name, 'cache_tag': "
                 "sys.implementation.cache_tag, 'version': '%d.%d.%d' % sys.version_info[:3]}))")
_interpreters: dict[tuple[str, str | None], Interpreter] = {}


def _probe(path: str, python_version: str) -> Interpreter | None:
    try:
        proc = subprocess.run([path, "-I", "-S", "-c", _PROBE], capture_output=True, text=True, timeout=30,  # noqa: S603
                              check=False)
        info = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(info, dict) or info.get("impl") != "cpython":
        return None
    if not str(info.get("version", "")).startswith(python_version + "."):
        return None
    return Interpreter(path=path, version=info["version"], cache_tag=info["cache_tag"])


def _pyenv_candidates(python_version: str) -> list[str]:
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    found: list[tuple[tuple[int, ...], str]] = []
    for root in dict.fromkeys(r for r in roots if r):
        for exe in Path(root).glob(f"versions/{python_version}.*/bin/python{python_version}"):
            patch = exe.parent.parent.name.removeprefix(python_version + ".")
            if patch.isdigit():
                found.append(((int(patch),), str(exe)))
    return [path for _, path in sorted(found, reverse=True)]


def find_python(python_version: str = "3.13", python_bin: str | None = None) -> Interpreter:
    """The CPython ``python_version`` that compiles the package's bytecode: ``python_bin`` if given, else
    ``$PLAID_READY_LAMBDA_PYTHON``, else the newest pyenv ``python_version.*``, else ``python<version>`` on PATH.
    Raises BuildError naming how to get one."""
    explicit = python_bin or os.environ.get(PYTHON_ENV) or None
    memo = (python_version, explicit)
    if memo in _interpreters:
        return _interpreters[memo]
    if explicit:
        found = _probe(explicit, python_version)
        if found is None:
            source = "--python-bin" if python_bin else f"${PYTHON_ENV}"
            raise BuildError(f"{source}={explicit} is not a working CPython {python_version} interpreter")
    else:
        on_path = shutil.which(f"python{python_version}")
        candidates = _pyenv_candidates(python_version) + ([on_path] if on_path and "/shims/" not in on_path else [])
        found = next((i for i in map(lambda c: _probe(c, python_version), candidates) if i is not None), None)
        if found is None:
            raise BuildError(
                f"no CPython {python_version} found to compile the Lambda's bytecode (the runtime is python"
                f"{python_version}; a package without bytecode compiles every module at each cold start). "
                f"Install it (`pyenv install {python_version}`, or your OS's python{python_version} package), or "
                f"point to it: --python-bin /path/to/python{python_version} or {PYTHON_ENV}=/path/to/python"
                f"{python_version}")
    _interpreters[memo] = found
    return found


# -- sources, requirements, lock ------------------------------------------------------------------------------


def _source_files(function: Function = CUSTOMERS) -> list[Path]:
    files: list[Path] = []
    for entry in function.sources:
        path = ROOT / entry
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                      and p.suffix in (".py", ".txt")]
        else:
            files.append(path)
    return sorted(files)


def _project_files(function: Function) -> dict[str, bytes]:
    """Zip name -> content of the project files the package ships (read from the tracked tree)."""
    return {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in _source_files(function)}


def cache_key(arch: str, python_version: str, function: Function = CUSTOMERS) -> str:
    h = hashlib.sha256(f"v2|{function.name}|{arch}|{python_version}".encode())
    for path in [*_source_files(function), LOCK_FILE]:
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + (path.read_bytes() if path.is_file() else b"")
                 + b"\0")
    return h.hexdigest()[:24]


def _rel(path: Path) -> str:
    """A path as messages show it: relative to the checkout when inside it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_hashes(requirements: Path) -> dict[str, set[str]]:
    """Canonical project name -> the sha256 hex digests requirements.txt allows (``--hash=sha256:`` options)."""
    text = re.sub(r"\\\n", " ", requirements.read_text())
    allowed: dict[str, set[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]
        allowed[_canonical(name)] = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return allowed


def _load_lock() -> dict:
    try:
        return json.loads(LOCK_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _wheel_project(filename: str) -> str:
    return _canonical(filename.split("-", 1)[0])


# -- wheels ---------------------------------------------------------------------------------------------


def _pip_download(function: Function, arch: str, python_version: str, dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--only-binary=:all:", "--platform", ARCHES[arch], "--implementation", "cp", "--python-version",
           python_version, "--require-hashes", "-r", str(function.requirements), "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if proc.returncode != 0:
        tail = "\n".join(line for line in proc.stderr.strip().splitlines()[-5:] if "is ignored" not in line)
        raise BuildError(f"pip could not fetch the Lambda's {arch} wheels with their pinned hashes "
                         f"(PyPI must be reachable):\n{tail}")


def _locked_wheels(function: Function, arch: str) -> dict[str, str]:
    wheels = _load_lock().get(function.name, {}).get("wheels", {}).get(arch)
    if not wheels:
        raise BuildError(f"{_rel(LOCK_FILE)} names no {arch} wheels for {function.name}: run "
                         "`make lock-lambdas`")
    allowed = requirement_hashes(function.requirements)
    for filename, digest in wheels.items():
        if digest not in allowed.get(_wheel_project(filename), set()):
            raise BuildError(f"{_rel(LOCK_FILE)} and {_rel(function.requirements)} disagree "
                             f"on {filename}: run `make lock-lambdas`")
    if set(allowed) != {_wheel_project(f) for f in wheels}:
        raise BuildError(f"{_rel(LOCK_FILE)} does not list one wheel per requirement of "
                         f"{function.name} ({arch}): run `make lock-lambdas`")
    return wheels


def verified_wheels(function: Function, arch: str, python_version: str, wheel_dir: Path) -> dict[str, bytes]:
    """File name -> content of each wheel the package is built from, every one checked against the sha256 in
    build.lock (itself one of requirements.txt's hashes) right here. Missing or altered wheels are fetched again
    (``pip download --require-hashes``), saying so for altered ones."""
    locked = _locked_wheels(function, arch)
    out: dict[str, bytes] = {}
    for filename, digest in locked.items():
        path = wheel_dir / filename
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                out[filename] = data
                continue
            _say(f"the cached wheel {filename} does not match its sha256 in {_rel(LOCK_FILE)}; "
                 "fetching it again")
    if len(out) < len(locked):
        wheel_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".dl-") as tmp:
            _pip_download(function, arch, python_version, Path(tmp))
            for filename, digest in locked.items():
                if filename in out:
                    continue
                got = Path(tmp) / filename
                data = got.read_bytes() if got.is_file() else b""
                if hashlib.sha256(data).hexdigest() != digest:
                    raise BuildError(f"pip did not fetch {filename} (sha256 {digest[:12]}...) for {arch}: "
                                     f"{_rel(LOCK_FILE)} is stale; run `make lock-lambdas`")
                got.replace(wheel_dir / filename)
                out[filename] = data
    return out


# -- what a package must contain --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Expected:
    """A dependency file as its wheel's RECORD describes it."""

    sha256_b64: str
    executable: bool


def wheel_contents(wheels: Mapping[str, bytes]) -> dict[str, _Expected]:
    """Zip name -> (RECORD sha256, executable) of every dependency file a package built from ``wheels`` holds:
    RECORD's entries, ``<name>.data/{purelib,platlib}/`` at the top level, scripts dropped, RECORD itself
    dropped (pip rewrites it; the build removes it with pip's other install records)."""
    files: dict[str, _Expected] = {}
    for filename, data in sorted(wheels.items()):
        with zipfile.ZipFile(io.BytesIO(data)) as whl:
            records = [n for n in whl.namelist() if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
            if len(records) != 1:
                raise BuildError(f"{filename} has no single RECORD")
            modes = {i.filename: bool((i.external_attr >> 16) & 0o111) for i in whl.infolist()}
            for row in csv.reader(io.StringIO(whl.read(records[0]).decode("utf-8"))):
                if not row or row[0] == records[0]:
                    continue
                path, digest = row[0], row[1] if len(row) > 1 else ""
                top, _, rest = path.partition("/")
                if top.endswith(".data"):
                    kind, _, inner = rest.partition("/")
                    if kind == "scripts":
                        continue
                    if kind not in ("purelib", "platlib"):
                        raise BuildError(f"{filename}: {kind} files are not supported in a Lambda package")
                    name = inner
                else:
                    name = path
                if "__pycache__/" in name or name.endswith(".pyc"):
                    continue
                if not digest.startswith("sha256="):
                    raise BuildError(f"{filename}: RECORD has no sha256 for {path}")
                files[name] = _Expected(digest.removeprefix("sha256="), modes.get(path, False))
    return files


def _pyc_name(source: str, cache_tag: str) -> str:
    folder, _, file = source.rpartition("/")
    return (f"{folder}/" if folder else "") + f"__pycache__/{file[:-3]}.{cache_tag}.pyc"


_COMPILE_ARGS: Final = ("-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash")


def _compile(interp: Interpreter, folder: Path) -> None:
    """Compile every module under ``folder`` with the target interpreter, as the package ships them (names in the
    code objects relative to the package root)."""
    proc = subprocess.run([interp.path, "-I", "-S", *_COMPILE_ARGS, "-s", str(folder), str(folder)],  # noqa: S603
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": ""})
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise BuildError(f"Python {interp.version} ({interp.path}) could not compile every module:\n{tail}")


def compile_sources(interp: Interpreter, sources: Mapping[str, bytes]) -> dict[str, bytes]:
    """pyc zip name -> bytecode for each ``.py`` in ``sources`` (zip name -> content), compiled exactly as the
    build does, in a private temporary folder."""
    modules = {n: d for n, d in sources.items() if n.endswith(".py")}
    if not modules:
        return {}
    with tempfile.TemporaryDirectory(prefix="lambda-pyc-") as tmp:
        root = Path(tmp)
        for name, data in modules.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        _compile(interp, root)
        return {_pyc_name(n, interp.cache_tag): (root / _pyc_name(n, interp.cache_tag)).read_bytes() for n in modules}


# -- the zip ---------------------------------------------------------------------------------------------


def _zip_entries(entries: Iterable[tuple[str, bytes, bool]], zip_file: io.BufferedIOBase | Path) -> None:
    """Write (name, content, executable) entries as the package does: sorted, fixed time, fixed modes."""
    with zipfile.ZipFile(zip_file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zf:
        for name, data, executable in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100000 | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, data, compresslevel=ZIP_LEVEL)


def _zip_folder(folder: Path, zip_path: Path) -> None:
    _zip_entries(((p.relative_to(folder).as_posix(), p.read_bytes(), os.access(p, os.X_OK))
                  for p in folder.rglob("*") if p.is_file()), zip_path)


#: AWS Lambda's limit on a function's unzipped code.
MAX_UNZIPPED_BYTES: Final = 250 * 1024 * 1024
_CENTRAL_HEADER: Final = 46
_END_RECORD: Final = 22


def _reference_info() -> zipfile.ZipInfo:
    buf = io.BytesIO()
    _zip_entries([("a", b"a", False)], buf)
    return zipfile.ZipFile(buf).infolist()[0]


_FIXED_FIELDS: Final = ("create_system", "create_version", "extract_version", "reserved", "flag_bits", "volume",
                        "internal_attr", "compress_type", "date_time", "extra", "comment")


class _Mismatch(Exception):
    """The package is not what it must be; the message says which entry and how (for the rebuild notice)."""


def _records(data: bytes) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    """The zip's entries, after checking its structure is what the build writes (no bytes outside the entries,
    the same metadata everywhere), and each entry's raw local record (header + compressed data)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _Mismatch(f"not a zip ({exc})") from None
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if names != sorted(set(names)):
        raise _Mismatch("entries unsorted or duplicated")
    if zf.comment:
        raise _Mismatch("the zip has a comment")
    ref = _reference_info()
    raw: dict[str, bytes] = {}
    offset = 0
    central = 0
    for info in infos:
        if any(getattr(info, f) != getattr(ref, f) for f in _FIXED_FIELDS):
            raise _Mismatch(f"{info.filename}: unexpected zip metadata")
        if info.external_attr not in ((0o100644 << 16), (0o100755 << 16)):
            raise _Mismatch(f"{info.filename}: unexpected file mode")
        if info.header_offset != offset:
            raise _Mismatch(f"{info.filename}: bytes outside the entries")
        header = info.FileHeader()
        end = offset + len(header) + info.compress_size
        if data[offset:offset + len(header)] != header or end > len(data):
            raise _Mismatch(f"{info.filename}: local header differs from the directory")
        raw[info.filename] = data[offset:end]
        offset = end
        central += _CENTRAL_HEADER + len(info.filename.encode())
    if len(data) != offset + central + _END_RECORD:
        raise _Mismatch("bytes outside the entries")
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:  # nothing is decompressed past Lambda's own limit
        raise _Mismatch("larger than Lambda's 250 MB unzipped limit")
    return infos, raw


def _dependency_digest(infos: list[zipfile.ZipInfo], raw: Mapping[str, bytes], project: set[str]) -> str:
    h = hashlib.sha256()
    for info in infos:
        if info.filename not in project:
            h.update(info.filename.encode() + b"\0" + str(info.external_attr).encode() + b"\0"
                     + hashlib.sha256(raw[info.filename]).digest())
    return h.hexdigest()


def _environment(arch: str, interp: Interpreter) -> str:
    """The key of a dependency digest in build.lock: what the compressed bytecode depends on."""
    return f"{arch} cpython-{interp.version} zlib-{zlib.ZLIB_RUNTIME_VERSION}"


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


# -- building --------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"lambdas/build.py: {message}", file=sys.stderr)


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


def dependency_digest(data: bytes, function: Function, interp: Interpreter) -> str:
    """The digest build.lock records: every entry that is not a project file or its bytecode (name, mode, raw
    compressed record), in zip order."""
    infos, raw = _records(data)
    project = set(_project_files(function))
    project |= {_pyc_name(n, interp.cache_tag) for n in project if n.endswith(".py")}
    return _dependency_digest(infos, raw, project)


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lambdas.build", description=__doc__.splitlines()[0])
    ap.add_argument("--function", choices=sorted(FUNCTIONS), default=CUSTOMERS.name)
    ap.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    ap.add_argument("--python", dest="python_version", default="3.13", help="the Lambda runtime's Python version")
    ap.add_argument("--python-bin", help=f"the CPython that compiles the bytecode (default: ${PYTHON_ENV}, pyenv, "
                                         "python<version> on PATH)")
    ap.add_argument("--lock", action="store_true", help="re-pin lambdas/build.lock from the requirements files")
    ap.add_argument("--find-python", action="store_true", help="print the target interpreter's path and exit")
    args = ap.parse_args(argv)
    try:
        if args.find_python:
            print(find_python(args.python_version, args.python_bin).path)
            return 0
        if args.lock:
            write_lock(args.python_version, args.python_bin)
            print(f"wrote {_rel(LOCK_FILE)}")
            return 0
        result = build_function(args.function, args.arch, args.python_version, python_bin=args.python_bin)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"{result.zip_path}\nsha256 (base64): {result.sha256_base64}\n"
          f"size: {result.size_bytes} bytes ({result.size_bytes / 1e6:.2f} MB), bytecode: CPython {result.python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
