"""What every settings module shares: the base model, enums, the error type, common field types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

PROJECT: Final = "plaid-ready-idp"


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


class SettingsModel(BaseModel):
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
        examples=["fdx.firstplatypus.example"],
    ),
]


#: AWS region names, e.g. ``us-east-1``, ``eu-west-1``, ``us-gov-west-1``, ``ap-southeast-3``.
AWS_REGION_PATTERN: Final = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"


def https_url(value: str, what: str) -> str:
    """Refuse anything but an https:// URL without white space (Plaid requires TLS)."""
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise ValueError(f"{what} must be an https:// URL (Plaid requires TLS)")
    if any(c.isspace() for c in value):
        raise ValueError(f"{what} must not contain white space")
    return value


