"""The probe's configuration, from environment variables (names in names.py), validated once at cold start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from lambdas.http import is_loopback
from lambdas.readiness_probe import names

#: An SSM parameter name: a path of letters, digits and ``_.-/`` (AWS: at most 1011 characters; ``aws``/``ssm``
#: prefixes are reserved).
_PARAMETER: Final = re.compile(r"/[A-Za-z0-9_.\-/]{1,1010}")
#: A DNS host name (letters, digits, hyphens, dots) with an optional port.
_HOST: Final = re.compile(r"(?=.{1,253}(:|$))[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::(\d{1,5}))?")


class ConfigError(Exception):
    """Every problem of the environment, each naming the variable and what it must be (values are not secret)."""


@dataclass(frozen=True)
class Domain:
    host: str
    port: int = 443

    def __str__(self) -> str:
        return self.host if self.port == 443 else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Config:
    discovery_url: str
    state_parameter: str
    customers_url: str | None = None
    idp_domain: Domain | None = None
    api_domain: Domain | None = None
    api_mtls: bool = False


def _url(value: str, name: str, what: str, problems: list[str]) -> str | None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        host = None
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))):
        problems.append(f"{name} must be an https:// URL ({what})")
        return None
    if parts.username is not None or parts.password is not None or parts.fragment:
        problems.append(f"{name} must have no user info or fragment")
        return None
    return value


def _domain(value: str, name: str, problems: list[str]) -> Domain | None:
    match = _HOST.fullmatch(value)
    port = int(match.group(2)) if match and match.group(2) else 443
    if match is None or not 1 <= port <= 65535:
        problems.append(f"{name} must be a host name with an optional port (e.g. auth.bank.example), not a URL")
        return None
    return Domain(match.group(0).split(":", 1)[0].lower(), port)


def load(environ: Mapping[str, str]) -> Config:
    """Validate the environment. Raises ConfigError naming every problem."""
    problems: list[str] = []

    def get(name: str) -> str:
        return (environ.get(name) or "").strip()

    discovery = get(names.DISCOVERY_URL)
    if not discovery:
        problems.append(f"{names.DISCOVERY_URL} is required (the IdP's discovery document URL, as given to Plaid)")
    else:
        _url(discovery, names.DISCOVERY_URL, "the IdP's discovery document URL", problems)
    parameter = get(names.STATE_PARAMETER)
    if not parameter:
        problems.append(f"{names.STATE_PARAMETER} is required (the SSM parameter the probe keeps key ids in)")
    elif not _PARAMETER.fullmatch(parameter) or parameter.lower().startswith(("/aws", "/ssm")):
        problems.append(f"{names.STATE_PARAMETER} must be an SSM parameter name starting with / (letters, digits, "
                        "_ . - /; not under /aws or /ssm)")
    customers = get(names.CUSTOMERS_URL) or None
    if customers is not None:
        _url(customers, names.CUSTOMERS_URL, "the customers API's /customers/current URL", problems)
    idp = get(names.IDP_DOMAIN)
    api = get(names.API_DOMAIN)
    idp_domain = _domain(idp, names.IDP_DOMAIN, problems) if idp else None
    api_domain = _domain(api, names.API_DOMAIN, problems) if api else None
    mtls = get(names.API_MTLS).lower()
    if mtls not in ("", "true", "false"):
        problems.append(f"{names.API_MTLS} must be true or false (whether the API's custom domain requires client "
                        "certificates)")
    if problems:
        raise ConfigError("; ".join(problems))
    return Config(discovery_url=discovery, state_parameter=parameter, customers_url=customers,
                  idp_domain=idp_domain, api_domain=api_domain, api_mtls=mtls == "true")
