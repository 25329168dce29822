"""A Lambda's package for a component: ``lambdas/build/``'s deterministic build, the same for every function.

A build that cannot run (no CPython 3.13, PyPI unreachable, a stale lock) is the machine's problem, not the
program's. It ends the program as :class:`LambdaBuildError`, both a ``pulumi.RunError`` (``pulumi up`` prints its
message alone, no traceback) and the build's ``BuildError`` with the build's own message (``plaid-ready plan``
reports it as a usage error, exit 2, with how to fix it): for the customers API's function and Cognito's scope
adapter alike.
"""

from __future__ import annotations

from typing import Final

import pulumi

from lambdas import build

#: The Lambda runtime every function uses, and the CPython version its bytecode is compiled for.
RUNTIME: Final = "python3.13"
PYTHON_VERSION: Final = "3.13"


class LambdaBuildError(pulumi.RunError, build.BuildError):
    """A Lambda package that cannot be built: its message is the build's."""


def lambda_package(function: build.Function, architecture: str) -> build.BuildResult:
    """Build (or reuse, once verified) ``function``'s package for ``architecture``."""
    try:
        return build.build_function(function, architecture, PYTHON_VERSION)
    except build.BuildError as exc:
        raise LambdaBuildError(str(exc)) from None
