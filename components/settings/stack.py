"""The whole stack's settings: the sections every stack has, and the IdP section it chooses.

The IdP section is a pydantic discriminated union on ``idp``, built from the registry (``components/idps``): this
module names no IdP. The stack file keeps its shape (``plaid-ready-idp:idp: <name>`` and a
``plaid-ready-idp:<name>:`` section); :func:`fold_idp_section` turns it into the model's (``idpSettings``, the
section with its ``idp``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Union
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

import plaid_contract as plaid
from components import idps
from components.settings.base import (
    LOG_RETENTION_DAYS,
    Environment,
    Hostname,
    IdpSettings,
    Protocol,
    SettingsModel,
    https_url,
)


class Institution(SettingsModel):
    name: str = Field(min_length=2, max_length=100, description="display name, e.g. 'First Platypus Bank'")
    code: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,11}$",
        description="2-12 lowercase letters/digits, starting with a letter; used in resource names",
        examples=["fpb"],
    )


class ConsistencyKey(SettingsModel):
    """Where Plaid's consistency key comes from. Default: the IdP's immutable ``sub``."""

    attribute: str | None = Field(
        default=None,
        description="a user attribute to use instead of sub, where the IdP allows one (see its page); plain OAuth 2.0 "
                    "only",
    )
    prefix: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_.:-]*$",
                        description="letters, digits, _ . : -", examples=["fpb-"])


#: An IAM role ARN (no wildcards): who may read or administer Plaid's client secret.
ROLE_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
MAX_READERS: Final = 10
MAX_ADMINISTRATORS: Final = 5

_RoleArn = Annotated[str, Field(pattern=ROLE_ARN_PATTERN,
                                examples=["arn:aws:iam::111122223333:role/plaid-ready-deployer"])]


class RotationPhase(StrEnum):
    """Where a two-phase client-secret rotation stands (docs/rotation.md#client-secret)."""

    #: One secret: ``version``.
    NONE = "none"
    #: Phase 1: secret ``version`` is added next to ``version - 1`` (Secrets Manager AWSPENDING, and the IdP's
    #: second secret); Plaid keeps working with the previous one.
    ADD_NEXT = "add-next"
    #: Phase 2: secret ``version`` becomes AWSCURRENT and the IdP forgets ``version - 1``: Plaid must already use
    #: the new one.
    RETIRE_PREVIOUS = "retire-previous"


class SecretRotation(SettingsModel):
    """A two-phase rotation: two reviewed stack changes, ``add-next`` (with ``version`` bumped) then
    ``retire-previous``, then back to ``none``."""

    phase: RotationPhase = Field(
        default=RotationPhase.NONE,
        description="none | add-next (phase 1: the new secret `version` is added, the previous one still works) | "
                    "retire-previous (phase 2: the previous one is retired; Plaid must already use the new one)")


class ClientSecret(SettingsModel):
    """The Plaid client's secret. Bump ``version`` to rotate: that, and only that, mints a new value. With
    ``rotation.phase`` the rotation takes two steps where the IdP can hold two secrets."""

    version: int = Field(default=1, ge=1, le=10_000)
    rotation: SecretRotation = Field(default_factory=SecretRotation)
    readers: list[_RoleArn] = Field(
        default_factory=list, max_length=MAX_READERS,
        description="IAM role ARNs allowed to read the secret and decrypt it (nothing else); not the role that "
                    "runs pulumi up (list it under administrators)",
        examples=[["arn:aws:iam::111122223333:role/fpb-plaid-onboarding"]])
    administrators: list[_RoleArn] = Field(
        default_factory=list, max_length=MAX_ADMINISTRATORS,
        description="IAM role ARNs allowed to write, delete, roll back, rotate, replicate or re-permission the "
                    "secret and its KMS key (and to read it); list the role that runs pulumi up",
        examples=[["arn:aws:iam::111122223333:role/plaid-ready-deployer"]])

    @field_validator("readers", "administrators")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        return values

    @model_validator(mode="after")
    def _disjoint(self) -> ClientSecret:
        both = [i for i, arn in enumerate(self.readers) if arn in self.administrators]
        if both:
            raise ValueError(
                f"readers: entry {both[0]} is also in administrators; administrators may read already, and "
                "readers may only read: list the role once, under administrators if it runs pulumi up")
        if self.rotation.phase is not RotationPhase.NONE and self.version < 2:
            raise ValueError(
                f"rotation.phase {self.rotation.phase.value}: version is the NEW secret's version and the previous "
                "one is version - 1, so version must be 2 or more; bump version together with phase add-next")
        return self


#: The widest extra range the allowlist accepts: /16 IPv4 (65,536 addresses), /48 IPv6 (one site).
MAX_PREFIX: Final = {4: 16, 6: 48}

#: Ranges that must never be allowlisted: they are not public internet addresses (IANA special-purpose
#: registries). IPv6 outside 2000::/3 (global unicast) is refused as well.
SPECIAL_RANGES: Final = tuple((ipaddress.ip_network(net), kind) for net, kind in (
    ("0.0.0.0/8", "'this network'"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "shared address space"),
    ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"), ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"), ("192.168.0.0/16", "private"), ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"), ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"), ("::1/128", "loopback"), ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "NAT64"), ("64:ff9b:1::/48", "NAT64"), ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments"), ("2001:db8::/32", "documentation"), ("2002::/16", "6to4"),
    ("fc00::/7", "unique local (private)"), ("fe80::/10", "link-local"), ("ff00::/8", "multicast"),
))
_GLOBAL_UNICAST_V6: Final = ipaddress.IPv6Network("2000::/3")


class Allowlist(SettingsModel):
    extra_cidrs: list[str] = Field(
        default_factory=list, max_length=50,
        description="public CIDRs or bare IPs; at most /16 (IPv4) or /48 (IPv6)",
        examples=[["9.9.9.9", "2620:fe::/48"]])
    rate_limit_per_5_min: int = Field(default=2000, ge=100, le=2_000_000_000)

    @field_validator("extra_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        return check_extra_cidrs(values)


def normalise_cidrs(values: Iterable[str]) -> list[str]:
    """Validate CIDRs (a bare IP is a /32 or /128) and return them in canonical form (IPv6 lowercase,
    compressed, always with a prefix length), deduplicated."""
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


def extra_cidr_problem(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """Why an extra allowlist range is refused (too wide, or not public), or None. Shared with the readiness
    rule that judges the declared IP sets."""
    limit = MAX_PREFIX[net.version]
    if net.prefixlen < limit:
        return (f"is wider than /{limit}, the widest extra IPv{net.version} range allowed; list only the "
                "addresses that call the API")
    if isinstance(net, ipaddress.IPv6Network) and not net.subnet_of(_GLOBAL_UNICAST_V6):
        return "is outside 2000::/3 (IPv6 global unicast); only public addresses can reach the API"
    for special, kind in SPECIAL_RANGES:
        if special.version == net.version and net.overlaps(special):
            return f"overlaps {special} ({kind}); only public addresses can reach the API"
    return None


def check_extra_cidrs(values: Iterable[str]) -> list[str]:
    """Extra allowlist entries: valid, normalised (bare IPs to /32 or /128), no wider than /16 or /48, public."""
    values = list(values)
    out = normalise_cidrs(values)
    for i, raw in enumerate(values):
        problem = extra_cidr_problem(ipaddress.ip_network(str(raw).strip()))
        if problem:
            raise ValueError(f"entry {i} {problem}")
    return out


class Mtls(SettingsModel):
    truststore_uri: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.pem$",
                                description="s3://bucket/key.pem",
                                examples=["s3://fpb-plaid-truststore/plaid/truststore.pem"])
    truststore_version: str = Field(min_length=1, max_length=1024,
                                    description="the S3 object version of the truststore")


#: An ACM certificate ARN; group 1 is its region.
CERTIFICATE_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$"


class CustomDomain(SettingsModel):
    domain_name: Hostname
    certificate_arn: str = Field(
        pattern=CERTIFICATE_ARN_PATTERN, description="an ACM certificate ARN in the stack's aws:region",
        examples=["arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"])
    mtls: Mtls | None = None


class Api(SettingsModel):
    base_path: str = Field(default=plaid.DEFAULT_BASE_PATH, pattern=r"^(/[a-z0-9][a-z0-9._-]*){1,4}$",
                           description="one to four lowercase path segments", examples=["/fdx/v6"])
    stage_name: str = Field(default="live", pattern=r"^[A-Za-z0-9_]{1,64}$",
                            description="1-64 letters, digits or _", examples=["live"])
    lambda_architecture: Literal["arm64", "x86_64"] = "arm64"
    lambda_memory_mb: int = Field(default=256, ge=128, le=3008)
    lambda_timeout_seconds: int = Field(
        default=5, ge=3, le=28,
        json_schema_extra={"limit_reason": "API Gateway (REST) ends every Lambda integration at 29 s, which leaves "
                                           "the Lambda 28 s at most to answer (with its own error, not a 504)"})
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
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="an e-mail address", examples=["platform-oncall@firstplatypus.example"])
    latency_p99_ms: int = Field(default=1500, ge=50, le=29_000)


class Probe(SettingsModel):
    """The scheduled readiness probe (components/probe.py, docs/probe.md)."""

    enabled: bool | None = Field(default=None, description="default: true in prod, false elsewhere")
    interval_minutes: int = Field(default=15, ge=5, le=60, description="how often the probe runs")


#: The IdP section: one of the registry's settings models, chosen by its ``idp`` (the discriminator). Type checkers
#: see the base class (the union is built at run time from the registry); code narrows with isinstance.
if TYPE_CHECKING:
    IdpSection = IdpSettings
else:
    IdpSection = Annotated[Union[tuple(idp.settings for idp in idps.IDPS)], Field(discriminator="idp")]  # noqa: UP007
#: The model's key for the IdP section (the stack file writes ``idp`` and the section under the IdP's name).
IDP_SECTION: Final = "idpSettings"


class StackSettings(SettingsModel):
    """Everything a stack can say. Keys are camelCase in the stack file; the chosen IdP's section is
    :attr:`idp_settings` (its name is :attr:`idp`)."""

    environment: Environment
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
    probe: Probe = Field(default_factory=Probe)
    idp_settings: IdpSection = Field(description="the chosen IdP's section")
    #: The stack's ``aws:region`` (outside this project's namespace; parse_settings passes it in the
    #: validation context). Read it as :attr:`region`.
    _region: str | None = PrivateAttr(default=None)

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
                if "*" in v:
                    raise ValueError(f"entry {i} contains a wildcard; register each redirect URI exactly "
                                     "(an authorization code must only ever go to a URI you control)")
            elif not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}", v):
                raise ValueError(f"entry {i} is not a valid OAuth scope (RFC 6749 3.3: no spaces or quotes)")
        if len(set(values)) != len(values):
            raise ValueError("contains duplicates")
        return values

    @model_validator(mode="before")
    @classmethod
    def _stack_file_shape(cls, data: Any) -> Any:
        """Accept the stack file's shape (``idp`` and the section under the IdP's name) as well as the model's.
        What does not fold is left for the fields to refuse (parse_settings reports it first, one line each)."""
        if isinstance(data, Mapping) and "idp" in data:
            return fold_idp_section(data)[0]
        return data

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> StackSettings:
        self._region = (info.context or {}).get("region")
        section = self.idp_settings
        problems = []
        host = urlsplit(self.audience).hostname if "://" in self.audience else None
        if host and section.owns_host(host.lower().rstrip(".")):
            problems.append(
                "audience: is a URL on the IdP's own domain (e.g. its /userinfo or Management API); tokens for "
                "it would be accepted by the IdP's own APIs. Use an identifier of your API, e.g. "
                "https://api.<your-domain>/fdx")
        custom = self.api.custom_domain
        if custom is not None and self._region is not None:
            match = re.match(CERTIFICATE_ARN_PATTERN, custom.certificate_arn)
            if match is not None and match.group(1) != self._region:
                problems.append(
                    f"api.customDomain.certificateArn: the certificate is in {match.group(1)}, the stack's aws:region "
                    f"is {self._region}; a regional custom domain needs an ACM certificate in the same region: request "
                    f"or import it in {self._region}")
        if self._region is not None:
            problems.extend(section.region_problems(self._region))
        phase = self.client_secret.rotation.phase
        if phase is not RotationPhase.NONE and section.rotation_limit is not None:
            problems.append(
                f"clientSecret.rotation.phase: {phase.value} needs an IdP that holds two client secrets at once; "
                f"{section.idp}: {section.rotation_limit}. Set phase none and follow "
                "docs/rotation.md#client-secret (a one-step rotation with version, timed with Plaid)")
        if self.consistency_key.attribute is not None:
            if self.protocol is not Protocol.OAUTH2:
                problems.append(
                    "consistencyKey.attribute: only allowed with plain OAuth 2.0 (scopes without openid). With "
                    "OIDC Plaid reads the id_token sub, which the IdP does not let you replace, so Plaid would "
                    "see a different key than /customers/current. Remove the attribute, or remove openid from "
                    "scopes")
            problems.extend(section.consistency_attribute_problems(self.consistency_key.attribute))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- derived values ------------------------------------------------------------------------

    @property
    def idp(self) -> str:
        """The chosen IdP's name (``plaid-ready-idp:idp``): the registry's key (components.idps.by_name)."""
        return self.idp_settings.idp

    @property
    def region(self) -> str:
        """The stack's AWS region (``aws:region``, required by :func:`parse_settings`)."""
        if self._region is None:
            raise ValueError("StackSettings has no region: build it with parse_settings (aws:region is required)")
        return self._region

    @property
    def protocol(self) -> Protocol:
        """OIDC when Plaid's client may request openid (Plaid reads the id_token sub), else plain OAuth 2.0
        (Plaid calls /customers/current for the key)."""
        return Protocol.OIDC if "openid" in self.scopes else Protocol.OAUTH2

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def probe_enabled(self) -> bool:
        """Whether the readiness probe is declared: ``probe.enabled``, by default in prod only."""
        return self.probe.enabled if self.probe.enabled is not None else self.is_prod

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


# -- the stack file's shape ------------------------------------------------------------------------


def fold_idp_section(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The stack file's shape -> the model's: ``idp: <name>`` and the ``<name>:`` section become
    ``idpSettings: {idp: <name>, ...section}``. Returns the folded data (as far as it folds: what does not is left
    for the model to refuse) and one line per problem (key path first: a missing or unknown ``idp``, a missing
    section, a section of another IdP); a section that is not a mapping is passed on for the model to refuse."""
    out = dict(data)
    names = idps.names()
    problems: list[str] = []
    chosen = out.pop("idp", None)
    sections = {name: out.pop(name) for name in names if name in out}
    if chosen is None:
        problems.append("idp: required value is missing; expected one of " + ", ".join(names) +
                        "; add it to the stack file")
    elif not isinstance(chosen, str) or chosen not in names:
        problems.append("idp: input should be " + _choices(names))
        out.update(sections)
    else:
        section = sections.pop(chosen, None)
        if section is None:
            problems.append(f"{chosen}: required when idp is {chosen}; add a '{chosen}:' section "
                            "(see docs/settings.md)")
            out[IDP_SECTION] = {"idp": chosen}
        elif isinstance(section, Mapping):
            if "idp" in section:
                problems.append(f"{chosen}.idp: unknown key; the top-level idp chooses the IdP: remove it from the "
                                "section")
            out[IDP_SECTION] = {**{k: v for k, v in section.items() if k != "idp"}, "idp": chosen}
        else:
            out[IDP_SECTION] = section
        out.update(sections)
        problems += [f"{other}: set, but idp is {chosen}; remove the section or change idp" for other in sections]
    return out, problems


def _choices(names: Iterable[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def stack_file_fields() -> dict[str, FieldInfo]:
    """The keys of the project's namespace as a stack file writes them (aliases), each with its field: the model's
    own, ``idp`` (one of the registry's names) and one section per IdP."""
    fields: dict[str, FieldInfo] = {}
    for name, field in StackSettings.model_fields.items():
        alias = field.alias or name
        if alias == IDP_SECTION:
            fields["idp"] = FieldInfo(annotation=str, description="the identity provider: " + ", ".join(idps.names()))
            for idp in idps.IDPS:
                fields[idp.name] = FieldInfo(annotation=idp.settings, default=None)
        else:
            fields[alias] = field
    return fields


def section_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A section's keys as a stack file writes them: an IdP section without its ``idp`` (taken from the top level)."""
    skip = {"idp"} if issubclass(model, IdpSettings) else set()
    return {(f.alias or n): f for n, f in model.model_fields.items() if (f.alias or n) not in skip}
