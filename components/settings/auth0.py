"""The ``auth0:`` section of the stack settings (components/auth0.py reads it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

import plaid_contract as plaid
from components.settings.base import Hostname, SettingsModel, https_url


class Auth0Settings(SettingsModel):
    domain: Hostname = Field(description="the tenant's domain, e.g. first-platypus.us.auth0.com")
    set_default_audience: bool = Field(
        default=True,
        description="set the tenant-wide default audience to the API so Plaid gets JWT access tokens",
    )
    access_token_lifetime_seconds: int = Field(
        default=plaid.ACCESS_TOKEN_LIFETIME_SECONDS, ge=60, le=86_400,
        description="Plaid asks for 900 (15 min); the plan fails on anything else")
    id_token_lifetime_seconds: int = Field(default=3600, ge=60, le=86_400)
    refresh_token_leeway_seconds: int = Field(default=10, ge=0, le=60)
    claim_namespace: str | None = Field(
        default=None, description="https URL namespacing the consistency-key claim; default: the audience")
    action_runtime: Literal["node22"] = "node22"

    @field_validator("claim_namespace")
    @classmethod
    def _namespace(cls, v: str | None) -> str | None:
        return None if v is None else https_url(v, "claimNamespace")
