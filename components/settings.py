"""The typed, validated stack settings: everything a `stacks/Pulumi.<stack>.yaml` can say.

Settings live in the project's config namespace (``plaid-ready-idp:<key>``), so ``pulumi config set``
and ``pulumi config set --path`` work as usual. :func:`load_settings` reads them through the Pulumi
runtime; :func:`parse_settings` is the pure function behind it, used by the offline plan and tests.

Every problem is reported as one line that names the key path, what was expected and what to do.
Values are never echoed: a stack file may hold values the engineer would rather not see in CI logs,
and a ``secure:`` value must never leave its ciphertext.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import plaid

PROJECT: Final = "plaid-ready-idp"

#: Config keys outside our namespace that carry credentials. If a stack file sets one, it must be
#: a ``secure:`` value. (The IdP providers read these; we only check how they are stored.)
_CREDENTIAL_KEY = re.compile(r"(secret|password|token|privatekey|apikey)$", re.IGNORECASE)

#: CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_DAYS: Final = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                             2192, 2557, 2922, 3288, 3653)


class SettingsError(Exception):
    """The stack settings are invalid. ``problems`` holds one self-contained line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack settings:\n" + "\n".join(f"  - {p}" for p in problems))


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Idp(StrEnum):
    AUTH0 = "auth0"
    OKTA = "okta"
    COGNITO = "cognito"


class Protocol(StrEnum):
    """How Plaid learns the consistency key: OIDC (id_token ``sub``, recommended) or plain OAuth 2.0
    (Plaid calls ``GET /customers/current``)."""

    OIDC = "oidc"
    OAUTH2 = "oauth2"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        str_strip_whitespace=True,
    )


Hostname = Annotated[
    str,
    Field(
        min_length=3,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="a lowercase DNS name",
    ),
]


def _https_url(value: str, what: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise ValueError(f"{what} must be an https:// URL (Plaid requires TLS)")
    if any(c.isspace() for c in value):
        raise ValueError(f"{what} must not contain white space")
    return value


class Institution(_Model):
    name: str = Field(min_length=2, max_length=100, description="display name, e.g. 'First Platypus Bank'")
    code: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,11}$",
        description="2-12 lowercase letters/digits, starting with a letter; used in resource names",
    )


class ConsistencyKey(_Model):
    """Where Plaid's consistency key comes from. Default: the IdP's immutable ``sub``."""

    attribute: str | None = Field(
        default=None,
        description="a user attribute to use instead of sub (Auth0: app_metadata.<name>); plain OAuth 2.0 only",
    )
    prefix: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_.:-]*$")


class ClientSecret(_Model):
    """The Plaid client's secret. Bump ``version`` to rotate: that, and only that, mints a new value."""

    version: int = Field(default=1, ge=1, le=10_000)


class Allowlist(_Model):
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


class Mtls(_Model):
    truststore_uri: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.pem$",
                                description="s3://bucket/key.pem")
    truststore_version: str = Field(min_length=1, max_length=1024,
                                    description="the S3 object version of the truststore")


class CustomDomain(_Model):
    domain_name: Hostname
    certificate_arn: str = Field(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
    mtls: Mtls | None = None


class Api(_Model):
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


class Alarms(_Model):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    latency_p99_ms: int = Field(default=1500, ge=50, le=29_000)


class Auth0Settings(_Model):
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
        return None if v is None else _https_url(v, "claimNamespace")


class OktaSettings(_Model):
    org_url: str = Field(description="https://<org>.okta.com")

    @field_validator("org_url")
    @classmethod
    def _org(cls, v: str) -> str:
        return _https_url(v, "orgUrl")


class CognitoSettings(_Model):
    domain_prefix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class StackSettings(_Model):
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
                _https_url(v, f"entry {i}")
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


# --- parsing -------------------------------------------------------------------------------------

_TOP_LEVEL = {f.alias or n for n, f in StackSettings.model_fields.items()}


def _hint(err_type: str) -> str:
    return {
        "missing": "add it to the stack file",
        "extra_forbidden": "remove it or fix its spelling (see docs/settings.md)",
        "string_type": "give a string",
        "int_parsing": "give a whole number",
        "int_type": "give a whole number",
        "bool_parsing": "give true or false",
        "bool_type": "give true or false",
        "list_type": "give a list",
        "model_type": "give a mapping of keys",
        "model_attributes_type": "give a mapping of keys",
        "enum": "",
        "literal_error": "",
        "string_pattern_mismatch": "",
    }.get(err_type, "")


def _describe(err: Mapping[str, Any]) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t == "extra_forbidden":
        return "unknown key"
    if t == "missing":
        return "required value is missing"
    if t == "string_pattern_mismatch":
        return "has the wrong format"
    if t == "value_error":
        return str(ctx.get("error", err["msg"]))
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] if msg else t


def _format_errors(exc: ValidationError, prefix: str, skip: set[str]) -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        if err["loc"] and str(err["loc"][0]) in skip:
            continue
        path = ".".join(str(p) for p in err["loc"])
        desc = _describe(err)
        field_desc = _field_description(err["loc"])
        hint = _hint(err["type"])
        parts = [f"{prefix}{path}: {desc}"]
        if field_desc and err["type"] in ("string_pattern_mismatch", "missing", "string_too_short",
                                          "string_too_long"):
            parts.append(f"expected {field_desc}")
        if hint:
            parts.append(hint)
        lines.append("; ".join(parts))
    return lines


def _field_description(loc: tuple[Any, ...]) -> str | None:
    model: Any = StackSettings
    desc = None
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return desc
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        field = fields.get(str(part))
        if field is None:
            return None
        desc = field.description
        model = _inner_model(field.annotation)
    return desc


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def _decode(value: Any) -> Any:
    """Config values arrive as strings; structured ones as JSON text (as the Pulumi CLI passes them)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_settings(config: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> StackSettings:
    """Validate a stack's whole config (fully qualified keys such as ``plaid-ready-idp:idp``).

    Raises :class:`SettingsError` listing every problem; never includes a value.
    """
    secret = set(secret_keys)
    problems: list[str] = []
    raw: dict[str, Any] = {}
    refused: set[str] = set()  # keys already reported: don't report them again as missing
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if not name:
            problems.append(f"{key}: config keys must be namespaced (e.g. {PROJECT}:{key})")
            continue
        if namespace != PROJECT:
            if _CREDENTIAL_KEY.search(name.replace("-", "").replace("_", "")) and key not in secret:
                problems.append(
                    f"{key}: holds a credential but is stored in plain text; remove it from the stack file "
                    f"and set it with `pulumi config set --secret {key}` (or the provider's environment "
                    f"variable)")
            continue
        if key in secret:
            problems.append(
                f"{key}: is a secure value, but no {PROJECT} setting is secret (client secrets are "
                f"generated and kept in Secrets Manager); set it in plain text with "
                f"`pulumi config set {name} <value>`")
            refused.add(name)
            continue
        if name not in _TOP_LEVEL:
            problems.append(f"{key}: unknown key; valid keys are: {', '.join(sorted(_TOP_LEVEL))}")
            continue
        raw[name] = _decode(config[key])
    try:
        settings = StackSettings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_format_errors(exc, f"{PROJECT}:", skip=refused))
        settings = None
    if problems:
        # Cross-field errors joined with newlines come back as one value_error: split them back out.
        raise SettingsError(_split_model_errors(problems))
    assert settings is not None
    return settings


def _split_model_errors(problems: list[str]) -> list[str]:
    out: list[str] = []
    for p in problems:
        head = f"{PROJECT}:: "
        if p.startswith(head):  # model-level error has an empty location
            out.extend(f"{PROJECT}:{part.strip()}" for part in p[len(head):].split("\n") if part.strip())
        else:
            out.append(p)
    return out


def load_settings() -> StackSettings:
    """Read and validate the current stack's settings through the Pulumi runtime's config."""
    from pulumi.runtime import config as rc

    keys = set(rc.CONFIG.get()) | set(rc.get_config_env())
    secret = set(rc._SECRET_KEYS.get()) | set(rc.get_config_secret_keys_env())
    values = {k: rc.get_config(k) for k in keys}
    return parse_settings(values, secret)
