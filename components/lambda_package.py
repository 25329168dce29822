"""A Lambda's package for a component: ``lambdas/build.py``'s deterministic build, the same for every function.

A build that cannot run (no CPython 3.13, PyPI unreachable, a stale lock) is the machine's problem, not the
program's: it ends the program with its one-line reason as a ``pulumi.RunError`` (no traceback under ``pulumi up``;
exit 2 from ``plaid-ready plan``), for the customers API's function and Cognito's scope adapter alike.
"""

from __future__ import annotations

from typing import Final

import pulumi

from lambdas import build

#: The Lambda runtime every function uses, and the CPython version its bytecode is compiled for.
RUNTIME: Final = "python3.13"
PYTHON_VERSION: Final = "3.13"


def lambda_package(function: build.Function, architecture: str) -> build.BuildResult:
    """Build (or reuse, once verified) ``function``'s package for ``architecture``."""
    try:
        return build.build_function(function, architecture, PYTHON_VERSION)
    except build.BuildError as exc:
        raise pulumi.RunError(f"the {function.name} Lambda package cannot be built: {exc}") from None
