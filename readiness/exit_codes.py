"""The exit codes of every ``plaid-ready`` command, in one place (README "Exit codes", docs/check.md, docs/review.md).

``plan``: 0 every mandatory rule passes, 1 one fails. ``plan --compare``: 0 nothing breaks Plaid and no rule newly
fails, 1 a mandatory rule newly fails (wins over 4), 4 a Plaid-breaking change. ``check``: 0 no check fails, 1 one
does. Every command: 2 a usage, settings or environment error (one line per problem, never a traceback), 3 the
program itself failed (a bug).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: ``plan``: a mandatory readiness rule fails; ``plan --compare``: one newly fails.
    NOT_READY = 1
    #: ``check``: a check fails (the same number as NOT_READY).
    FAILED = 1
    USAGE = 2
    INTERNAL = 3
    #: ``plan --compare``: a change that breaks Plaid (CI can require an explicit label).
    PLAID_BREAKING = 4
