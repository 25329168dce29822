"""The typed, validated stack settings: everything a `stacks/Pulumi.<stack>.yaml` can say.

A package: ``base`` (shared model and types, :class:`~components.settings.base.IdpSettings` that each IdP's
section subclasses in its own package, ``components/idps/<idp>/settings.py``), ``stack`` (the whole stack: its
IdP section is a union built from the registry), ``parse`` (config -> settings), ``errors`` (pydantic's errors ->
one line each) and ``stack_file`` (the stack file read strictly).

Settings live in the project's config namespace (``plaid-ready-idp:<key>``), so ``pulumi config set``
and ``pulumi config set --path`` work as usual. :func:`load_settings` reads them through the Pulumi
runtime; :func:`parse_settings` is the pure function behind it, used by the offline plan and tests.

Every problem is reported as one line that names the key path, what was expected and what to do.
Values are never echoed: a stack file may hold values the engineer would rather not see in CI logs,
and a ``secure:`` value must never leave its ciphertext.

``stack`` and ``parse`` load on first use (PEP 562): they read the IdP registry, whose IdP packages import
``base`` from here, so importing them eagerly would make the registry and this package import each other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from components.settings.base import (
    LOG_RETENTION_DAYS,
    PROJECT,
    Environment,
    IdpSettings,
    Protocol,
    SettingsError,
    SettingsModel,
    https_url,
)

if TYPE_CHECKING:
    from components.settings.parse import load_settings, parse_settings
    from components.settings.stack import StackSettings, normalise_cidrs

_LAZY = {"load_settings": "parse", "parse_settings": "parse", "StackSettings": "stack", "normalise_cidrs": "stack"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["LOG_RETENTION_DAYS", "PROJECT", "Environment", "IdpSettings", "Protocol", "SettingsError",
           "SettingsModel", "StackSettings", "https_url", "load_settings", "normalise_cidrs", "parse_settings"]
