"""The scope adapter's configuration, from environment variables (names in names.py), validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from lambdas.http import is_loopback
from lambdas.scope_adapter import names


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    upstream_issuer: str
    upstream_base_url: str
    public_base_url: str

    @property
    def upstream_discovery_url(self) -> str:
        return self.upstream_issuer + names.DISCOVERY_PATH

    @property
    def upstream_authorize_url(self) -> str:
        return self.upstream_base_url + names.AUTHORIZE_PATH

    @property
    def public_authorize_url(self) -> str:
        return self.public_base_url + names.AUTHORIZE_PATH


def _url(environ: Mapping[str, str], name: str, what: str, *, path_allowed: bool, problems: list[str]) -> str:
    value = (environ.get(name) or "").strip().rstrip("/")
    if not value:
        problems.append(f"{name} is required ({what})")
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        problems.append(f"{name} must be an https:// URL ({what})")
        return ""
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))):
        problems.append(f"{name} must be an https:// URL ({what})")
    elif parts.username is not None or parts.query or parts.fragment or "?" in value or "#" in value:
        problems.append(f"{name} must have no user info, query or fragment")
    elif parts.path and not path_allowed:
        problems.append(f"{name} must be a bare origin such as https://host, without a path")
    elif any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        problems.append(f"{name} must not contain white space or non-ASCII characters")
    return value


def load(environ: Mapping[str, str]) -> Config:
    """Validate the environment. Raises ConfigError naming every problem (the values are not secret)."""
    problems: list[str] = []
    issuer = _url(environ, names.UPSTREAM_ISSUER, "the Cognito issuer, https://cognito-idp.<region>.amazonaws.com/"
                  "<poolId>", path_allowed=True, problems=problems)
    upstream = _url(environ, names.UPSTREAM_BASE_URL, "the pool's hosted domain, e.g. "
                    "https://<prefix>.auth.<region>.amazoncognito.com", path_allowed=False, problems=problems)
    public = _url(environ, names.PUBLIC_BASE_URL, "the adapter's own URL", path_allowed=True, problems=problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return Config(upstream_issuer=issuer, upstream_base_url=upstream, public_base_url=public)
