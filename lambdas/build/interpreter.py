"""The target interpreter: the CPython (3.13, the Lambda runtime's) that compiles the package's bytecode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

from lambdas.build.base import PYTHON_ENV, BuildError, Interpreter

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
