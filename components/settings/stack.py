"""The whole stack's settings: the sections every stack has, and the IdP section it chooses."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

import plaid_contract as plaid
from components.settings.auth0 import Auth0Settings
from components.settings.base import (
    LOG_RETENTION_DAYS,
    Environment,
    Hostname,
    Idp,
    Protocol,
    SettingsModel,
    https_url,
)
from components.settings.cognito import CognitoSettings
from components.settings.okta import OktaSettings


class Institution(SettingsModel):
    name: str = Field(min_length=2, max_length=100, description="display name, e.g. 'First Platypus Bank'")
    code: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,11}$",
        description="2-12 lowercase letters/digits, starting with a letter; used in resource names",
    )


class ConsistencyKey(SettingsModel):
    """Where Plaid's consistency key comes from. Default: the IdP's immutable ``sub``."""

    attribute: str | None = Field(
        default=None,
        description="a user attribute to use instead of sub (Auth0: app_metadata.<name>); plain OAuth 2.0 only",
    )
    prefix: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_.:-]*$")


class ClientSecret(SettingsModel):
    """The Plaid client's secret. Bump ``version`` to rotate: that, and only that, mints a new value."""

    version: int = Field(default=1, ge=1, le=10_000)


class Allowlist(SettingsModel):
    extra_cidrs: list[str] = Field(default_factory=list, max_length=50)
    rate_limit_per_5_min: int = Field(default=2000, ge=100, le=2_000_000_000)

    @field_validator("extra_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        return normalise_cidrs(values)


def normalise_cidrs(values: Iterable[str]) -> list[str]:
    """Validate CIDRs and return them in canonical form (IPv6 lowercase, compressed), deduplicated."""
    out: list[str] = []
    for i, raw in enumerate(values):
        try:
            net = ipaddress.ip_network(str(raw).strip(), strict=True)
        except ValueError as exc:
            reason = "has host bits set (use the network address)" if "host bits" in str(exc) else (
                "is not an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/48")
            raise ValueError(f"entry {i} {reason}") from None
        if net.prefixlen == 0:
            raise ValueError(f"entry {i} is /0, which would allow the whole internet")
        text = net.compressed
        if text not in out:
            out.append(text)
    return out


class Mtls(SettingsModel):
    truststore_uri: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.pem$",
                                description="s3://bucket/key.pem")
    truststore_version: str = Field(min_length=1, max_length=1024,
                                    description="the S3 object version of the truststore")


class CustomDomain(SettingsModel):
    domain_name: Hostname
    certificate_arn: str = Field(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
    mtls: Mtls | None = None


class Api(SettingsModel):
    base_path: str = Field(default=plaid.DEFAULT_BASE_PATH, pattern=r"^(/[a-z0-9][a-z0-9._-]*){1,4}$")
    stage_name: str = Field(default="live", pattern=r"^[A-Za-z0-9_]{1,64}$")
    lambda_architecture: Literal["arm64", "x86_64"] = "arm64"
    lambda_memory_mb: int = Field(default=256, ge=128, le=3008)
    lambda_timeout_seconds: int = Field(default=5, ge=3, le=28)
    log_retention_days: int = 365
    throttle_rate_limit: int = Field(default=50, ge=1, le=10_000)
    throttle_burst_limit: int = Field(default=100, ge=1, le=5_000)
    custom_domain: CustomDomain | None = None
    disable_execute_api_endpoint: bool | None = Field(
        default=None, description="default: true when a custom domain is set, so nothing bypasses mTLS")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION_DAYS:
            raise ValueError("must be one of CloudWatch's retention values: "
                             + ", ".join(map(str, LOG_RETENTION_DAYS)))
        return v


class Alarms(SettingsModel):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    latency_p99_ms: int = Field(default=1500, ge=50, le=29_000)


class StackSettings(SettingsModel):
    """Everything a stack can say. Keys are camelCase in the stack file."""

    environment: Environment
    idp: Idp
    institution: Institution
    audience: str = Field(min_length=1, max_length=600,
                          description="the API identifier; access tokens carry it as aud")
    scopes: list[str] = Field(default_factory=lambda: list(plaid.REQUIRED_SCOPES), min_length=1, max_length=20,
                              description="scopes Plaid's client may request; Plaid needs openid offline_access")
    redirect_uris: list[str] = Field(default_factory=lambda: [plaid.PLAID_REDIRECT_URI], min_length=1,
                                     max_length=10)
    consistency_key: ConsistencyKey = Field(default_factory=ConsistencyKey)
    client_secret: ClientSecret = Field(default_factory=ClientSecret)
    allowlist: Allowlist = Field(default_factory=Allowlist)
    api: Api = Field(default_factory=Api)
    alarms: Alarms = Field(default_factory=Alarms)
    auth0: Auth0Settings | None = None
    okta: OktaSettings | None = None
    cognito: CognitoSettings | None = None

    @field_validator("audience")
    @classmethod
    def _audience(cls, v: str) -> str:
        # An identifier such as api://fpb or urn:fpb:fdx is fine; a web URL must be https.
        if v.lower().startswith("http://"):
            raise ValueError("audience given as a URL must be an https:// URL (Plaid requires TLS)")
        return v

    @field_validator("scopes", "redirect_uris")
    @classmethod
    def _entries(cls, values: list[str], info: ValidationInfo) -> list[str]:
        for i, v in enumerate(values):
            if info.field_name == "redirect_uris":
                https_url(v, f"entry {i}")
            elif not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}", v):
                raise ValueError(f"entry {i} is not a valid OAuth scope (RFC 6749 3.3: no spaces or quotes)")
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        return values

    @model_validator(mode="after")
    def _idp_section(self) -> StackSettings:
        chosen = self.idp.value
        problems = []
        if getattr(self, chosen) is None:
            problems.append(f"{chosen}: required when idp is {chosen}; add a '{chosen}:' section "
                            f"(see docs/settings.md)")
        for other in Idp:
            if other.value != chosen and getattr(self, other.value) is not None:
                problems.append(f"{other.value}: set, but idp is {chosen}; remove the section or change idp")
        if self.consistency_key.attribute is not None:
            if self.protocol is not Protocol.OAUTH2:
                problems.append(
                    "consistencyKey.attribute: only allowed with plain OAuth 2.0 (scopes without openid). With "
                    "OIDC Plaid reads the id_token sub, which the IdP does not let you replace, so Plaid would "
                    "see a different key than /customers/current. Remove the attribute, or remove openid from "
                    "scopes")
            if self.idp is Idp.AUTH0 and not re.fullmatch(r"app_metadata\.[A-Za-z0-9_]{1,64}",
                                                          self.consistency_key.attribute):
                problems.append(
                    "consistencyKey.attribute: on Auth0 must be app_metadata.<name> (letters, digits, _), "
                    "user_metadata is editable by the user and cannot be a stable key")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- derived values ------------------------------------------------------------------------

    @property
    def protocol(self) -> Protocol:
        """OIDC when Plaid's client may request openid (Plaid reads the id_token sub), else plain OAuth 2.0
        (Plaid calls /customers/current for the key)."""
        return Protocol.OIDC if "openid" in self.scopes else Protocol.OAUTH2

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def name_prefix(self) -> str:
        """Prefix for physical names: unique per institution and environment."""
        return f"{self.institution.code}-{self.environment.value}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "plaid-ready-idp:institution": self.institution.code,
            "plaid-ready-idp:environment": self.environment.value,
            "managed-by": "pulumi",
        }
