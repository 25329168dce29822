"""What every part of the Lambda build shares: the functions, paths, lock file, result types and errors."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent.parent
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
READINESS_PROBE: Final = Function(
    "readiness_probe", "lambdas.readiness_probe.handler.handler",
    ROOT / "lambdas" / "readiness_probe" / "requirements.txt",
    ("lambdas/__init__.py", "lambdas/http.py", "lambdas/oidc_checks", "lambdas/readiness_probe", "plaid_contract"))
FUNCTIONS: Final = {f.name: f for f in (CUSTOMERS, SCOPE_ADAPTER, READINESS_PROBE)}


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


def _load_lock() -> dict[str, Any]:
    try:
        lock = json.loads(LOCK_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return lock if isinstance(lock, dict) else {}


def _say(message: str) -> None:
    print(f"lambdas.build: {message}", file=sys.stderr)
