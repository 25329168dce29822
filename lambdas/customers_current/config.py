"""The Lambda's configuration, from environment variables (names in env.py), validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from lambdas.customers_current import env
from lambdas.customers_current.verifier import ASYMMETRIC, Policy
from lambdas.http import is_loopback


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    policy: Policy
    jwks_uri: str
    key_claim: str
    key_prefix: str


def load(environ: Mapping[str, str]) -> Config:
    """Validate the environment. Raises ConfigError naming every problem (values are not secret)."""
    problems: list[str] = []

    def get(name: str) -> str:
        return (environ.get(name) or "").strip()

    issuer, jwks_uri = get(env.TOKEN_ISSUER), get(env.JWKS_URI)
    audience, token_use = get(env.TOKEN_AUDIENCE) or None, get(env.TOKEN_USE) or None
    client_id, client_claim = get(env.TOKEN_CLIENT_ID), get(env.TOKEN_CLIENT_CLAIM) or "client_id"
    if not issuer:
        problems.append(f"{env.TOKEN_ISSUER} is required (the exact iss of the IdP's tokens)")
    parsed = urlparse(jwks_uri)
    if not jwks_uri:
        problems.append(f"{env.JWKS_URI} is required")
    elif not parsed.hostname or not (
            parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.hostname))):
        problems.append(f"{env.JWKS_URI} must be an https:// URL")
    if not client_id:
        problems.append(f"{env.TOKEN_CLIENT_ID} is required (Plaid's client id: tokens of any other client are "
                        "refused)")
    if client_claim not in env.CLIENT_CLAIMS:
        problems.append(f"{env.TOKEN_CLIENT_CLAIM} must be one of {', '.join(env.CLIENT_CLAIMS)} (the claim naming "
                        "the token's client in your IdP's access tokens; docs/lambda.md lists each IdP's)")
    if audience is None and token_use is None:
        problems.append(f"set {env.TOKEN_AUDIENCE} (the aud your IdP's access tokens carry) or "
                        f"{env.TOKEN_USE}={env.ACCESS_TOKEN_USE} (for an IdP whose access tokens carry no aud), "
                        "or both")
    if token_use is not None and token_use != env.ACCESS_TOKEN_USE:
        problems.append(f"{env.TOKEN_USE} must be {env.ACCESS_TOKEN_USE} when set (any other value would admit "
                        "ID tokens)")
    algorithms = tuple(a.strip() for a in (get(env.TOKEN_ALGORITHMS) or "RS256").split(",") if a.strip())
    bad = [a for a in algorithms if a not in ASYMMETRIC]
    if bad or not algorithms:
        allowed = ", ".join(sorted(ASYMMETRIC))
        problems.append(f"{env.TOKEN_ALGORITHMS} must list asymmetric algorithms only ({allowed})")
    claim = get(env.CONSISTENCY_KEY_CLAIM) or "sub"
    prefix = environ.get(env.CONSISTENCY_KEY_PREFIX) or ""
    if len(prefix) > 32:
        problems.append(f"{env.CONSISTENCY_KEY_PREFIX} must be at most 32 characters")
    elif not prefix.isprintable():
        problems.append(f"{env.CONSISTENCY_KEY_PREFIX} must not contain control or invisible characters")
    if problems:
        raise ConfigError("; ".join(problems))
    policy = Policy(issuer=issuer, algorithms=algorithms, client_id=client_id, client_claim=client_claim,
                    audience=audience, token_use=token_use)
    return Config(policy=policy, jwks_uri=jwks_uri, key_claim=claim, key_prefix=prefix)
