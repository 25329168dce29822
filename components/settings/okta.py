"""The ``okta:`` section of the stack settings (components/okta.py reads it)."""

from __future__ import annotations

from pydantic import Field, field_validator

from components.settings.base import SettingsModel, https_url


class OktaSettings(SettingsModel):
    org_url: str = Field(description="https://<org>.okta.com")

    @field_validator("org_url")
    @classmethod
    def _org(cls, v: str) -> str:
        return https_url(v, "orgUrl")
