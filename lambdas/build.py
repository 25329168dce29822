"""Deterministic build of the Lambda packages: /customers/current and the Cognito scope adapter.

    python -m lambdas.build [--function customers_current|scope_adapter] [--arch arm64|x86_64] [--python 3.13]

Installs the pinned runtime dependencies as Lambda-platform wheels (``pip --platform
manylinux2014_<arch> --only-binary=:all:``) plus the handler code into a folder, then zips it with sorted
entries, fixed timestamps and fixed permissions: two builds of the same source are byte-identical, so
``pulumi preview`` never shows a perpetual code diff. Builds are cached under ``.build/lambda/<key>/``,
keyed by the source files, the requirements, the architecture and the Python version; a repeat call
with nothing changed returns at once without running pip.

Each function is a :class:`Function`: its handler, its own requirements file and the sources it ships.
``build_package(arch, python_version)`` builds the customers Lambda (``CUSTOMERS``); ``build_function``
builds any of ``FUNCTIONS``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
HANDLER: Final = "lambdas.customers_current.handler.handler"
REQUIREMENTS: Final = ROOT / "lambdas" / "customers_current" / "requirements.txt"
#: The code shipped besides the dependencies: the handler package and Plaid's contract constants.
SOURCES: Final = ("lambdas/__init__.py", "lambdas/customers_current", "plaid_contract")
ARCHES: Final = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
CACHE_DIR: Final = ROOT / ".build" / "lambda"


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
    ("lambdas/__init__.py", "lambdas/scope_adapter", "plaid_contract"))
FUNCTIONS: Final = {f.name: f for f in (CUSTOMERS, SCOPE_ADAPTER)}


@dataclass(frozen=True)
class BuildResult:
    zip_path: Path
    folder: Path
    #: base64(sha256(zip)): the Lambda ``source_code_hash`` format.
    sha256_base64: str
    size_bytes: int


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


def cache_key(arch: str, python_version: str, function: Function = CUSTOMERS) -> str:
    # The customers Lambda keeps its original key (existing caches stay valid); others add their name.
    seed = f"v1|{arch}|{python_version}" if function == CUSTOMERS else f"v1|{function.name}|{arch}|{python_version}"
    h = hashlib.sha256(seed.encode())
    for path in _source_files(function):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def _zip_folder(folder: Path, zip_path: Path) -> None:
    entries = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, path.read_bytes())


def _install(target: Path, arch: str, python_version: str, requirements: Path = REQUIREMENTS) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--no-deps", "--platform", ARCHES[arch], "--only-binary=:all:", "--implementation", "cp",
           "--python-version", python_version, "--target", str(target), "-r", str(requirements)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise BuildError(f"pip could not fetch the Lambda's {arch} wheels (PyPI must be reachable):\n{tail}")
    # Drop what varies between installs and is not needed at run time.
    for junk in list(target.rglob("__pycache__")) + list(target.glob("bin")):
        shutil.rmtree(junk, ignore_errors=True)
    for record in target.glob("*.dist-info/RECORD"):
        record.unlink()
    for installer in target.glob("*.dist-info/INSTALLER"):
        installer.unlink()
    for direct in target.glob("*.dist-info/direct_url.json"):
        direct.unlink()


def build_package(arch: str = "arm64", python_version: str = "3.13", out_dir: Path | None = None) -> BuildResult:
    """Build (or reuse from the cache) the /customers/current package for ``arch``; see the module docstring."""
    return build_function(CUSTOMERS, arch, python_version, out_dir)


def build_function(function: Function | str, arch: str = "arm64", python_version: str = "3.13",
                   out_dir: Path | None = None) -> BuildResult:
    """Build (or reuse from the cache) one function's package (a :class:`Function` or a name in FUNCTIONS)."""
    if isinstance(function, str):
        if function not in FUNCTIONS:
            raise BuildError(f"function must be one of {', '.join(FUNCTIONS)}")
        function = FUNCTIONS[function]
    if arch not in ARCHES:
        raise BuildError(f"arch must be one of {', '.join(ARCHES)}")
    key = cache_key(arch, python_version, function)
    folder_name = f"{arch}-py{python_version}-{key}"
    if function != CUSTOMERS:
        folder_name = f"{function.name}-{folder_name}"
    out = (out_dir or CACHE_DIR) / folder_name
    zip_name = f"{function.name}.zip"
    zip_path, folder = out / zip_name, out / "package"
    if not zip_path.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".tmp-"))
        try:
            staging = tmp / "package"
            _install(staging, arch, python_version, function.requirements)
            for src in _source_files(function):
                dest = staging / src.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
            _zip_folder(staging, tmp / zip_name)
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)  # atomic: a half-built package is never in the cache
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    data = zip_path.read_bytes()
    return BuildResult(zip_path=zip_path, folder=folder,
                       sha256_base64=base64.b64encode(hashlib.sha256(data).digest()).decode(), size_bytes=len(data))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lambdas.build", description=__doc__.splitlines()[0])
    ap.add_argument("--function", choices=sorted(FUNCTIONS), default=CUSTOMERS.name)
    ap.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    ap.add_argument("--python", dest="python_version", default="3.13")
    args = ap.parse_args(argv)
    try:
        result = build_function(args.function, args.arch, args.python_version)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"{result.zip_path}\nsha256 (base64): {result.sha256_base64}\nsize: {result.size_bytes} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
