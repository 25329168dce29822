"""The ``cognito:`` section of the stack settings (the component reads it; docs/cognito.md, Settings)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal

from pydantic import Field, field_validator, model_validator

import plaid_contract as plaid
from components.settings.base import Hostname, IdpSettings, Renamed, SettingsModel

#: Cognito's own scopes a client may be allowed besides openid; anything else must be a resource-server
#: scope (``<resource-server-identifier>/<scope>``). Source: pulumi-aws UserPoolClient.allowed_oauth_scopes.
COGNITO_SCOPES: Final = ("phone", "email", "profile", "aws.cognito.signin.user.admin")
#: Scopes the settings may not add: openid is always there, offline_access is what Cognito refuses
#: (the scope adapter strips it on Plaid's behalf).
_NOT_EXTRA: Final = {
    "openid": "openid is always allowed; remove it from extraScopes",
    "offline_access": "Cognito refuses offline_access (invalid_scope) and issues refresh tokens without it; "
                      "the scope adapter accepts it on Plaid's behalf. Remove it from extraScopes",
}
_ACM_ARN: Final = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$"
_ACM_EXAMPLE: Final = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


class HostedDomain(SettingsModel):
    """A custom domain for Cognito's hosted login pages (a CloudFront distribution AWS runs)."""

    domain_name: Hostname = Field(description="a DNS name, e.g. login.firstplatypus.example",
                                  examples=["login.firstplatypus.example"])
    certificate_arn: str = Field(
        pattern=_ACM_ARN, examples=[_ACM_EXAMPLE],
        description="an ACM certificate ARN in us-east-1 (Cognito custom domains require us-east-1)")

    @field_validator("certificate_arn")
    @classmethod
    def _us_east_1(cls, v: str) -> str:
        if (region := v.split(":")[3]) != "us-east-1":
            raise ValueError(f"the certificate is in {region}; it must be an ACM certificate in us-east-1: Cognito "
                             "serves custom domains through CloudFront, which takes certificates from us-east-1 only; "
                             "request or import it there")
        return v


class AdapterDomain(SettingsModel):
    """The scope adapter's custom domain: Plaid's "server domain" (a regional API Gateway domain)."""

    domain_name: Hostname = Field(description="a DNS name, e.g. auth.firstplatypus.example",
                                  examples=["auth.firstplatypus.example"])
    certificate_arn: str = Field(pattern=_ACM_ARN, examples=[_ACM_EXAMPLE],
                                 description="an ACM certificate ARN in the stack's region")


class ScopeAdapter(SettingsModel):
    """The small Lambda in front of Cognito's authorize endpoint that lets Plaid send offline_access."""

    enabled: bool = Field(default=True, description="off only if Plaid confirmed it omits offline_access")
    custom_domain: AdapterDomain | None = None
    rate_limit_per_5_min: int = Field(default=1000, ge=100, le=2_000_000_000)


class NewPool(SettingsModel):
    """Options for a user pool this stack creates (when no userPoolId is given)."""

    tier: Literal["LITE", "ESSENTIALS", "PLUS"] = "ESSENTIALS"
    mfa: Literal["OFF", "OPTIONAL", "ON"] = Field(default="OPTIONAL",
                                                 description="TOTP (software token) MFA")
    allow_self_sign_up: bool = False
    deletion_protection: bool = Field(
        default=True, description="Cognito's own guard against deleting the pool; turn off only to tear down dev")


class CognitoSettings(IdpSettings):
    idp: Literal["cognito"] = "cognito"
    user_pool_id: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d_[0-9A-Za-z]{1,55}$", examples=["us-east-1_AbCdEfGhI"],
        description="an existing user pool's id, <region>_<id>, e.g. us-east-1_AbCdEfGhI")
    new_pool: NewPool | None = None
    domain_prefix: str | None = Field(
        default=None, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", examples=["first-platypus-login"],
        description="a DNS label (lowercase letters, digits, hyphens), e.g. first-platypus-login")
    custom_domain: HostedDomain | None = None
    existing_domain: bool = Field(
        default=False, description="the pool already has this domain: reference it, do not declare it")
    scope_adapter: ScopeAdapter = Field(default_factory=ScopeAdapter)
    identity_providers: list[str] = Field(default_factory=lambda: ["COGNITO"], min_length=1, max_length=10)
    extra_scopes: list[str] = Field(default_factory=list, max_length=20)
    access_token_lifetime_minutes: int = Field(
        default=plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60, ge=5, le=1440,
        description="Plaid asks for 15; the plan fails on anything else")
    id_token_lifetime_minutes: int = Field(default=60, ge=5, le=1440)
    refresh_token_lifetime_days: int = Field(default=3650, ge=1, le=3650,
                                             description="Cognito's maximum, 3650, by default")
    refresh_token_leeway_seconds: int = Field(
        default=10, ge=0, le=60,
        description="how long the previous refresh token still works after a rotation (Cognito's grace period)")

    #: Add/DeleteUserPoolClientSecret: two secrets per app client (components/idps/cognito/secrets.py).
    rotation_limit: ClassVar[str | None] = None
    renamed: ClassVar[Mapping[str, Renamed]] = {
        "accessTokenValidityMinutes": Renamed("accessTokenLifetimeMinutes", "minutes"),
        "idTokenValidityMinutes": Renamed("idTokenLifetimeMinutes", "minutes"),
        "refreshTokenValidityDays": Renamed("refreshTokenLifetimeDays", "days"),
        "refreshTokenGraceSeconds": Renamed("refreshTokenLeewaySeconds", "seconds"),
    }

    @field_validator("domain_prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        if v is not None and any(w in v for w in ("aws", "amazon", "cognito")):
            raise ValueError("must not contain aws, amazon or cognito (Cognito reserves them)")
        return v

    @field_validator("identity_providers")
    @classmethod
    def _providers(cls, values: list[str]) -> list[str]:
        for i, v in enumerate(values):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", v):
                raise ValueError(f"entry {i} is not an identity provider name (1-32 letters, digits, . _ -), "
                                 "e.g. COGNITO or the name of a SAML/OIDC provider of the pool")
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        return values

    @field_validator("extra_scopes")
    @classmethod
    def _scopes(cls, values: list[str]) -> list[str]:
        for i, v in enumerate(values):
            if v in _NOT_EXTRA:
                raise ValueError(f"entry {i}: {_NOT_EXTRA[v]}")
            if v not in COGNITO_SCOPES and not re.fullmatch(r"[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]{1,256}/"
                                                            r"[\x21\x23-\x5b\x5d-\x7e]{1,256}", v):
                raise ValueError(f"entry {i} is not a Cognito scope: use one of {', '.join(COGNITO_SCOPES)} "
                                 "or a resource-server scope <identifier>/<scope>")
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        return values

    @model_validator(mode="after")
    def _choices(self) -> CognitoSettings:
        problems = []
        if self.user_pool_id is not None and self.new_pool is not None:
            problems.append("userPoolId names an existing pool and newPool configures a new one; remove one of them")
        if (self.domain_prefix is None) == (self.custom_domain is None):
            problems.append("set exactly one of domainPrefix (a <prefix>.auth.<region>.amazoncognito.com "
                            "domain) or customDomain (your own domain with a us-east-1 certificate)")
        if problems:
            raise ValueError("; and ".join(problems))
        return self

    def region_problems(self, region: str) -> list[str]:
        """What does not fit the stack's ``aws:region`` (the stack settings call this with the region)."""
        problems = []
        if self.user_pool_id is not None and not self.user_pool_id.startswith(f"{region}_"):
            problems.append(f"cognito.userPoolId: the pool is not in the stack's region {region} (a pool id starts "
                            "with its region); set aws:region to the pool's region or name a pool in this region")
        adapter = self.scope_adapter.custom_domain
        if adapter is not None and (cert_region := adapter.certificate_arn.split(":")[3]) != region:
            problems.append(f"cognito.scopeAdapter.customDomain.certificateArn: the certificate is in {cert_region}, "
                            f"the stack's aws:region is {region}; the adapter's regional custom domain needs an ACM "
                            f"certificate in the same region: request or import it in {region}")
        return problems

    def tenant(self) -> str | None:
        return f"cognito:{self.user_pool_id}" if self.user_pool_id else None  # a new pool is the stack's own

    @classmethod
    def new_stack_section(cls, section: dict[str, Any], code: str, environment: str) -> dict[str, Any]:
        out = {k: v for k, v in section.items() if k != "customDomain"}
        out["domainPrefix"] = f"{code}-{environment}"  # unique per institution and environment
        return out

    def hostnames(self, region: str) -> list[str]:
        names = [f"{self.domain_prefix}.auth.{region}.amazoncognito.com"] if self.domain_prefix else []
        names += [d.domain_name for d in (self.custom_domain, self.scope_adapter.custom_domain) if d is not None]
        return names

    @property
    def creates_pool(self) -> bool:
        return self.user_pool_id is None


SETTINGS: Final = CognitoSettings
