"""The typed, validated stack settings: everything a `stacks/Pulumi.<stack>.yaml` can say.

A package: ``base`` (shared model and types), ``stack`` (the whole stack), one module per IdP section
(``auth0``, ``okta``, ``cognito``) and ``parse`` (config -> settings, errors).

Settings live in the project's config namespace (``plaid-ready-idp:<key>``), so ``pulumi config set``
and ``pulumi config set --path`` work as usual. :func:`load_settings` reads them through the Pulumi
runtime; :func:`parse_settings` is the pure function behind it, used by the offline plan and tests.

Every problem is reported as one line that names the key path, what was expected and what to do.
Values are never echoed: a stack file may hold values the engineer would rather not see in CI logs,
and a ``secure:`` value must never leave its ciphertext.
"""

from __future__ import annotations

from components.settings.base import (
    LOG_RETENTION_DAYS,
    PROJECT,
    Environment,
    Idp,
    Protocol,
    SettingsError,
    SettingsModel,
    https_url,
)
from components.settings.parse import load_settings, parse_settings
from components.settings.stack import StackSettings, normalise_cidrs

__all__ = ["LOG_RETENTION_DAYS", "PROJECT", "Environment", "Idp", "Protocol", "SettingsError", "SettingsModel",
           "StackSettings", "https_url", "load_settings", "normalise_cidrs", "parse_settings"]
