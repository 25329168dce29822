"""The ``auth0:`` section of the stack settings (the component reads it; docs/auth0.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal

from pydantic import Field, field_validator

import plaid_contract as plaid
from components.settings.base import PLACEHOLDER, Hostname, IdpSettings, Renamed, https_url

#: The longest refresh-token lifetime Auth0 documents for rotating tokens (365.25 days). Auth0 cannot
#: rotate refresh tokens without an idle timeout (rotation requires expiration_type "expiring"), so the
#: idle lifetime is set to this maximum: the closest Auth0 gets to Plaid's "13 months, no inactivity
#: timeout". Source: Auth0 docs "Configure Refresh Token Expiration" / "Configure Refresh Token Rotation".
AUTH0_MAX_REFRESH_LIFETIME_SECONDS: Final = 31_557_600

#: An attribute-sourced consistency key must come from app_metadata (user_metadata is editable by the user).
APP_METADATA_ATTRIBUTE: Final = r"app_metadata\.[A-Za-z0-9_]{1,64}"


class Auth0Settings(IdpSettings):
    idp: Literal["auth0"] = "auth0"
    domain: Hostname = Field(description="the tenant's domain, e.g. first-platypus.us.auth0.com")
    set_default_audience: bool = Field(
        default=True,
        description="set the tenant-wide default audience to the API so Plaid gets JWT access tokens",
    )
    access_token_lifetime_minutes: int = Field(
        default=plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60, ge=5, le=1440,
        description="Plaid asks for 15; the plan fails on anything else")
    id_token_lifetime_minutes: int = Field(default=60, ge=1, le=1440)
    refresh_token_leeway_seconds: int = Field(default=10, ge=0, le=60)
    claim_namespace: str | None = Field(
        default=None, description="https URL namespacing the consistency-key claim; default: the audience")
    action_runtime: Literal["node22"] = "node22"

    rotation_limit: ClassVar[str | None] = (
        "an Auth0 client has one client_secret, and POST /api/v2/clients/{id}/rotate-secret replaces it at once "
        "(no overlap); pulumi-auth0's ClientCredentials holds that one secret")
    renamed: ClassVar[Mapping[str, Renamed]] = {
        "accessTokenLifetimeSeconds": Renamed("accessTokenLifetimeMinutes", "minutes", factor=60, old_unit="s"),
        "idTokenLifetimeSeconds": Renamed("idTokenLifetimeMinutes", "minutes", factor=60, old_unit="s"),
    }

    @field_validator("claim_namespace")
    @classmethod
    def _namespace(cls, v: str | None) -> str | None:
        return None if v is None else https_url(v, "claimNamespace")

    def owns_host(self, host: str) -> bool:
        return host == self.domain or host.endswith(".auth0.com")

    def tenant(self) -> str | None:
        return f"auth0:{self.domain}"

    @classmethod
    def new_stack_section(cls, section: dict[str, Any], code: str, environment: str) -> dict[str, Any]:
        return {**section, "domain": f"{PLACEHOLDER} your Auth0 tenant's domain, e.g. <tenant>.us.auth0.com"}

    def consistency_attribute_problems(self, attribute: str) -> list[str]:
        if re.fullmatch(APP_METADATA_ATTRIBUTE, attribute):
            return []
        return ["consistencyKey.attribute: on Auth0 must be app_metadata.<name> (letters, digits, _), "
                "user_metadata is editable by the user and cannot be a stable key"]


SETTINGS: Final = Auth0Settings
