"""The ``cognito:`` section of the stack settings (components/cognito.py reads it)."""

from __future__ import annotations

from pydantic import Field

from components.settings.base import SettingsModel


class CognitoSettings(SettingsModel):
    domain_prefix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
