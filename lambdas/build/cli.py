"""``python -m lambdas.build``: build one package, re-pin build.lock, or name the target interpreter."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from lambdas.build.base import ARCHES, CUSTOMERS, FUNCTIONS, LOCK_FILE, PYTHON_ENV, BuildError, _rel
from lambdas.build.builder import build_function, write_lock
from lambdas.build.interpreter import find_python

_DESCRIPTION: Final = ("Deterministic, verified build of the Lambda packages: /customers/current and the Cognito "
                       "scope adapter (see lambdas/build/__init__.py).")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lambdas.build", description=_DESCRIPTION)
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
