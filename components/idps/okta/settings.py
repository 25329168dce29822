"""The ``okta:`` section of the stack settings (the component reads it; docs/okta.md)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, ClassVar, Final, Literal

from pydantic import Field, ValidationInfo, field_validator

import plaid_contract as plaid
from components.settings.base import PLACEHOLDER, Hostname, IdpSettings, https_url

#: The literal Okta accepts in a policy rule for "every user"; the component assigns the app to the
#: org's Everyone group for it.
EVERYONE: Final = "EVERYONE"

#: Okta's own limits on a custom authorization server's policy rule (provider docs, ServerPolicyRule).
ACCESS_TOKEN_MINUTES_MIN: Final = 5
ACCESS_TOKEN_MINUTES_MAX: Final = 1440
#: The longest refresh-token window (inactivity timeout) Okta accepts on a policy rule: 2,628,000 minutes
#: (5 years). Okta cannot switch the window off, so this maximum is the closest it gets to Plaid's "no
#: inactivity timeout". Source: ServerPolicyRule docs (pulumi-okta 7.0.1 docstring, okta provider schema).
MAX_REFRESH_WINDOW_MINUTES: Final = 2_628_000

#: The domains Okta serves orgs on (commercial, preview, EMEA, US government, US military): an org URL is
#: ``https://<org>.<one of these>``. Source: okta/okta-commons-java, config-check ConfigurationValidator
#: (the org-URL check Okta's SDKs share), and Okta's "Find your Okta domain" guide.
OKTA_DOMAINS: Final = ("okta.com", "oktapreview.com", "okta-emea.com", "okta-gov.com", "okta.mil")
#: The admin console of org ``x`` is ``x-admin.<domain>``: not the org URL the provider and issuer use.
ADMIN_SUFFIX: Final = "-admin"

_ORG_URL = re.compile(r"https://[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
_GROUP = re.compile(r"00g[A-Za-z0-9]{17}")


class KeyRotation(StrEnum):
    """Who rotates the authorization server's signing key: Okta (about four times a year) or you."""

    AUTO = "AUTO"
    MANUAL = "MANUAL"


class OktaSettings(IdpSettings):
    idp: Literal["okta"] = "okta"
    org_url: str = Field(description="the org's URL, https://<org>.okta.com (no path)",
                         examples=["https://first-platypus.okta.com"])
    authorization_server_id: str | None = Field(
        default=None, pattern=r"^(default|aus[A-Za-z0-9]{17})$",
        description="an existing custom authorization server's id (aus followed by 17 letters/digits, or "
                    "default) to attach to instead of creating one",
        examples=["aus1a2b3c4d5e6f7g8h9", "default"])
    custom_domain: Hostname | None = Field(
        default=None, description="an Okta custom domain already set up on the org, e.g. login.firstplatypus.example; "
                                  "the issuer then uses it",
        examples=["login.firstplatypus.example"])
    groups: list[str] = Field(
        default_factory=lambda: [EVERYONE], min_length=1, max_length=20,
        description="who may link accounts through Plaid: EVERYONE or Okta group ids (00g + 17 letters/digits)",
        examples=[[EVERYONE], ["00g1a2b3c4d5e6f7g8h9"]])
    key_rotation: KeyRotation = Field(
        default=KeyRotation.AUTO,
        description="signing-key rotation of a server this stack creates: AUTO (Okta rotates) or MANUAL (runbook)")
    access_token_lifetime_minutes: int = Field(
        default=plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60, ge=ACCESS_TOKEN_MINUTES_MIN, le=ACCESS_TOKEN_MINUTES_MAX,
        description="Plaid asks for 15; the plan fails on anything else")
    refresh_token_leeway_seconds: int = Field(default=30, ge=0, le=60)

    @field_validator("org_url")
    @classmethod
    def _org(cls, v: str) -> str:
        https_url(v, "orgUrl")
        v = v.removesuffix("/")
        if not _ORG_URL.fullmatch(v):
            raise ValueError("orgUrl must be the org's base URL, https://<org>.okta.com (lowercase host, no path, "
                             "no port), e.g. https://first-platypus.okta.com")
        org, _, domain = v.removeprefix("https://").partition(".")
        if domain not in OKTA_DOMAINS:
            raise ValueError("orgUrl must be the org's Okta URL, https://<org>.<domain> with domain one of "
                             f"{', '.join(OKTA_DOMAINS)} (e.g. https://first-platypus.okta.com); a custom domain is "
                             "not the org: put it in customDomain (the issuer then uses it)")
        if org.endswith(ADMIN_SUFFIX):
            raise ValueError(f"orgUrl is the admin console's URL (<org>{ADMIN_SUFFIX}.<domain>); give the org's own "
                             f"URL, without {ADMIN_SUFFIX} (e.g. https://first-platypus.okta.com, not "
                             f"https://first-platypus{ADMIN_SUFFIX}.okta.com)")
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, values: list[str]) -> list[str]:
        for i, v in enumerate(values):
            if v != EVERYONE and not _GROUP.fullmatch(v):
                raise ValueError(f"entry {i} is neither {EVERYONE} nor an Okta group id (00g followed by 17 "
                                 "letters/digits, e.g. 00g1a2b3c4d5e6f7g8h9)")
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        if EVERYONE in values and len(values) > 1:
            raise ValueError(f"{EVERYONE} already includes every user; list it alone or list group ids only")
        return values

    @field_validator("key_rotation")
    @classmethod
    def _rotation_only_for_a_new_server(cls, v: KeyRotation, info: ValidationInfo) -> KeyRotation:
        # Runs only when keyRotation is given: the default never conflicts.
        if info.data.get("authorization_server_id") is not None:
            raise ValueError("applies only to an authorization server this stack creates; with "
                             "authorizationServerId set, rotate that server's keys in Okta (docs/okta.md) and "
                             "remove keyRotation")
        return v

    def owns_host(self, host: str) -> bool:
        return host == self.org_host

    def tenant(self) -> str | None:
        return f"okta:{self.org_host}"

    @classmethod
    def new_stack_section(cls, section: dict[str, Any], code: str, environment: str) -> dict[str, Any]:
        out = {**section, "orgUrl": f"{PLACEHOLDER} your Okta org's URL, e.g. https://<org>.okta.com"}
        if "customDomain" in out:
            out["customDomain"] = f"{PLACEHOLDER} your Okta custom domain, e.g. login.<your-domain> (or remove the key)"
        if out.get("groups") not in (None, [EVERYONE]):
            out["groups"] = [f"{PLACEHOLDER} an Okta group id (00g + 17 letters/digits) whose users may link "
                             f"accounts, or {EVERYONE}"]
        return out

    def hostnames(self, region: str) -> list[str]:
        return [self.custom_domain] if self.custom_domain else []

    consistency_key_note: ClassVar[str] = "the id_token sub; on Okta also uid in access tokens"
    rotation_limit: ClassVar[str | None] = (
        "Okta's Apps API can hold two secrets per app, but no Pulumi or Terraform resource manages a second, and "
        "pulumi-okta's okta.app.OAuth sets its one client_secret on the API at every update of the app "
        "(terraform-provider-okta, omit_secret), which would bring a retired secret back")

    # -- derived values ------------------------------------------------------------------------

    @property
    def org_host(self) -> str:
        return self.org_url.removeprefix("https://")

    @property
    def org_name(self) -> str:
        """The Okta provider's ``org_name``: the org URL's first DNS label."""
        return self.org_host.split(".", 1)[0]

    @property
    def base_url(self) -> str:
        """The Okta provider's ``base_url``: the rest of the host (okta.com, oktapreview.com, ...)."""
        return self.org_host.split(".", 1)[1]

    @property
    def issuer_base(self) -> str:
        """The origin the authorization server's issuer starts with: the custom domain when set, else the org URL."""
        return f"https://{self.custom_domain}" if self.custom_domain else self.org_url


SETTINGS: Final = OktaSettings
