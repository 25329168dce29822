"""The dependency wheels: hash-pinned in requirements.txt, the exact files in build.lock, verified before every use;
and what a package built from them holds (their RECORDs)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdas.build.base import ARCHES, LOCK_FILE, BuildError, Function, _canonical, _load_lock, _rel, _say


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
    wheels: dict[str, str] | None = _load_lock().get(function.name, {}).get("wheels", {}).get(arch)
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
