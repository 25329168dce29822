"""Deterministic, verified build of the Lambda packages: /customers/current and the Cognito scope adapter.

    python -m lambdas.build [--function customers_current|scope_adapter|readiness_probe] [--arch arm64|x86_64]
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

Modules: ``base`` (the functions, paths, result types), ``interpreter`` (the target CPython), ``wheels`` (the pinned
wheels and their RECORDs), ``archive`` (bytecode and the canonical zip), ``verify`` (what a package must contain),
``builder`` (build or reuse, re-pin the lock), ``cli`` (``python -m lambdas.build``).
"""

from lambdas.build.archive import compile_sources, dependency_digest
from lambdas.build.base import (
    ARCHES,
    CACHE_DIR,
    CUSTOMERS,
    FUNCTIONS,
    HANDLER,
    LOCK_FILE,
    PYTHON_ENV,
    READINESS_PROBE,
    REQUIREMENTS,
    ROOT,
    SCOPE_ADAPTER,
    SOURCES,
    ZIP_LEVEL,
    BuildError,
    BuildResult,
    Function,
    Interpreter,
    cache_key,
)
from lambdas.build.builder import build_function, build_package, write_lock
from lambdas.build.cli import main
from lambdas.build.interpreter import find_python
from lambdas.build.verify import verify_package
from lambdas.build.wheels import requirement_hashes, verified_wheels, wheel_contents

__all__ = ["ARCHES", "CACHE_DIR", "CUSTOMERS", "FUNCTIONS", "HANDLER", "LOCK_FILE", "PYTHON_ENV", "READINESS_PROBE",
           "REQUIREMENTS",
           "ROOT", "SCOPE_ADAPTER", "SOURCES", "ZIP_LEVEL", "BuildError", "BuildResult", "Function", "Interpreter",
           "build_function", "build_package", "cache_key", "compile_sources", "dependency_digest", "find_python",
           "main", "requirement_hashes", "verified_wheels", "verify_package", "wheel_contents", "write_lock"]
