"""What every settings module shares: the base model, enums, the error type, common field types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

PROJECT: Final = "plaid-ready-idp"


#: CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_DAYS: Final = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                             2192, 2557, 2922, 3288, 3653)


#: How ``plaid-ready new-stack`` marks a value a person must fill (``FILL-IN: <what to put there>``): the settings
#: refuse it with its hint (components/settings/parse.py), so neither ``plan`` nor ``pulumi up`` runs with it.
PLACEHOLDER: Final = "FILL-IN:"


class SettingsError(Exception):
    """The stack settings are invalid. ``problems`` holds one self-contained line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack settings:\n" + "\n".join(f"  - {p}" for p in problems))


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Protocol(StrEnum):
    """How Plaid learns the consistency key: OIDC (id_token ``sub``, recommended) or plain OAuth 2.0
    (Plaid calls ``GET /customers/current``)."""

    OIDC = "oidc"
    OAUTH2 = "oauth2"


class SettingsModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        str_strip_whitespace=True,
    )


@dataclass(frozen=True)
class Renamed:
    """A key of an IdP section that was renamed: parse errors name the new key, its unit and, where the unit
    changed, the old value in the new unit (``accessTokenLifetimeSeconds: 900`` is 15 minutes)."""

    #: The new key, as the stack file writes it.
    new: str
    #: The new key's unit, in words ("minutes").
    unit: str
    #: How many of the old key's units make one of the new key's (60: seconds -> minutes); 1 = same unit.
    factor: int = 1
    #: The old unit's symbol, as the message shows the old value ("s").
    old_unit: str = ""


class IdpSettings(SettingsModel):
    """An IdP's section of the stack settings (``plaid-ready-idp:<idp>:``). Each IdP package's ``settings.py``
    subclasses it with an ``idp: Literal["<idp>"]`` field, the discriminator of the stack settings' union (the
    stack file does not write it: the settings take it from ``plaid-ready-idp:idp``).

    One name and one unit per concept across IdPs: ``accessTokenLifetimeMinutes``, ``idTokenLifetimeMinutes``,
    ``refreshTokenLifetimeDays``, ``refreshTokenLeewaySeconds``."""

    idp: str

    #: Keys this section no longer accepts, and what replaced them (an old key gets a specific error).
    renamed: ClassVar[Mapping[str, Renamed]] = {}
    #: What the IdP's consistency key is, as the message refusing ``consistencyKey.attribute`` says it.
    consistency_key_note: ClassVar[str] = "the id_token sub"
    #: Why the IdP cannot hold two client secrets at once through this project (shown when
    #: ``clientSecret.rotation.phase`` asks for a two-phase rotation, and by the SECRET-ROTATION rule); None: it
    #: can, and the two-phase rotation is declared (docs/rotation.md#client-secret).
    rotation_limit: ClassVar[str | None] = "this IdP holds one client secret per client"

    def owns_host(self, host: str) -> bool:
        """Whether ``host`` (lowercase, no trailing dot) belongs to the IdP itself: an audience there would name
        the IdP's own API."""
        return False

    def region_problems(self, region: str) -> list[str]:
        """What in this section does not fit the stack's ``aws:region`` (one line each, key path first)."""
        return []

    def consistency_attribute_problems(self, attribute: str) -> list[str]:
        """Why ``consistencyKey.attribute`` cannot be ``attribute`` on this IdP (default: not supported at all)."""
        return [f"consistencyKey.attribute: not supported on {self.idp}; the consistency key is the IdP's immutable "
                f"user id ({self.consistency_key_note}). Remove consistencyKey.attribute"]

    def tenant(self) -> str | None:
        """The IdP tenant (user directory) this stack configures, as the fleet rules compare it (readiness/fleet/):
        two stacks with the same tenant share its users and its clients. None: the stack creates its own."""
        return None

    @classmethod
    def new_stack_section(cls, section: dict[str, Any], code: str, environment: str) -> dict[str, Any]:
        """The section ``plaid-ready new-stack`` writes for institution ``code`` in ``environment``, from an
        example's ``section`` (or ``{}``): what only a person knows becomes ``PLACEHOLDER`` and a hint."""
        return dict(section)

    def hostnames(self, region: str) -> list[str]:
        """The DNS names this section claims in ``region`` (the fleet rules refuse two stacks claiming one)."""
        return []


Hostname = Annotated[
    str,
    Field(
        min_length=3,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="a lowercase DNS name",
        examples=["fdx.firstplatypus.example"],
    ),
]


def https_url(value: str, what: str) -> str:
    """Refuse anything but an https:// URL without white space (Plaid requires TLS)."""
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise ValueError(f"{what} must be an https:// URL (Plaid requires TLS)")
    if any(c.isspace() for c in value):
        raise ValueError(f"{what} must not contain white space")
    return value


