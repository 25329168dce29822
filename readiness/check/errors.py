"""The one error ``plaid-ready check``'s command line raises."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the command line or its inputs (exit 2). The message never holds a value given (a value could
    be a secret pasted in the wrong place)."""
