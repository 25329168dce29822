"""Validation of Plaid's bearer token: PyJWT for the cryptography, pinned configuration for the policy.

Guards, after aws-jwt-verify: algorithms come from configuration only (never from the token); ``none``
and HMAC algorithms are refused; ``kid`` is required; header-supplied keys (``jwk``, ``jku``, ``x5u``,
``x5c``) are refused; unknown ``crit`` is refused (PyJWT); oversized tokens are refused before parsing;
keys with ``use: enc``, of the wrong type or RSA under 2048 bits are not used; the JWK's ``alg`` must
match the token's (PyJWT binds the algorithm to the key).

JWKS: fetched once per cold start and cached at module scope (``PyJWKClient``, no time-based expiry);
an unknown ``kid`` triggers at most one refetch per cooldown window, successful or not; each fetch times
out after 2 s; cached keys keep serving while the JWKS endpoint is down.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

MAX_TOKEN_BYTES: Final = 8 * 1024
JWKS_TIMEOUT_SECONDS: Final = 2.0
COOLDOWN_SECONDS: Final = 30.0
LEEWAY_SECONDS: Final = 30
MIN_RSA_BITS: Final = 2048
#: "Once per cold start": the key set never expires by age; unknown kids refresh it.
_NEVER: Final = 10 * 365 * 86_400.0
_FORBIDDEN_HEADERS: Final = ("jwk", "jku", "x5u", "x5c")
ASYMMETRIC: Final = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


#: PyJWT's verdicts -> the short, safe category returned as debugMessage (anything else: "invalid token").
_CATEGORIES: Final = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.MissingRequiredClaimError, "missing claim"),
    (jwt.InvalidSignatureError, "invalid signature"),
)


class TokenRejected(Exception):
    """The token is not acceptable. ``category`` is short and safe to log and to return."""

    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


class JwksUnavailable(Exception):
    """The signing key is not cached and the JWKS endpoint cannot be reached."""


@dataclass(frozen=True)
class Policy:
    issuer: str
    algorithms: tuple[str, ...]
    audience: str | None = None
    client_id: str | None = None


class JwksClient(PyJWKClient):
    """PyJWKClient plus what Lambda needs: a cooldown after *failed* fetches too (PyJWKClient cools down
    only after successes), and fetch counters for metrics."""

    def __init__(self, uri: str, cooldown_seconds: float | None = None) -> None:
        super().__init__(uri, cache_jwk_set=True, lifespan=_NEVER, timeout=JWKS_TIMEOUT_SECONDS,
                         cooldown_duration=COOLDOWN_SECONDS if cooldown_seconds is None else cooldown_seconds)
        self.fetches = 0
        self.errors = 0
        self._last_failure: float | None = None

    def fetch_data(self) -> Any:
        if self._last_failure is not None and time.monotonic() - self._last_failure < self.cooldown_duration:
            raise PyJWKClientConnectionError("JWKS endpoint failed recently; in cooldown")
        self.fetches += 1
        try:
            data = super().fetch_data()
        except (PyJWKClientError, PyJWKSetError, ValueError):
            self.errors += 1
            self._last_failure = time.monotonic()
            raise
        self._last_failure = None
        return data


def _signing_key(client: JwksClient, kid: str, algorithms: tuple[str, ...]) -> Any:
    try:
        key = client.get_signing_key(kid)
    except PyJWKClientConnectionError as exc:
        raise JwksUnavailable(str(exc)) from None
    except (PyJWKSetError, ValueError) as exc:  # an answer with no usable key, or not JSON: an outage too
        raise JwksUnavailable(str(exc)) from None
    except PyJWKClientError as exc:
        if client.jwk_set_cache is None or client.jwk_set_cache.get() is None:
            raise JwksUnavailable(str(exc)) from None
        raise TokenRejected("unknown signing key") from None
    if key.algorithm_name not in algorithms:
        raise TokenRejected("algorithm not allowed")
    size = getattr(key.key, "key_size", None)
    if key.key_type == "RSA" and (size or 0) < MIN_RSA_BITS:
        raise TokenRejected("weak signing key")
    return key


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to choose the key (PyJWT re-reads and validates the whole token in
    ``jwt.decode``). Parsed directly: ``jwt.get_unverified_header`` would validate the base64url alphabet
    character by character a second time, which was a third of the warm request's cost."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        raise TokenRejected("malformed token") from None
    if not isinstance(header, dict):
        raise TokenRejected("malformed token")
    if "crit" in header:  # no extension is understood here (RFC 7515 4.1.11)
        raise TokenRejected("malformed token")
    return header


def verify(token: str, client: JwksClient, policy: Policy) -> dict[str, Any]:
    """Return the token's claims, or raise TokenRejected / JwksUnavailable."""
    if len(token.encode("utf-8", "ignore")) > MAX_TOKEN_BYTES:
        raise TokenRejected("token too large")
    if token.count(".") != 2:
        raise TokenRejected("malformed token")
    header = _header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise TokenRejected("algorithm not allowed")
    if any(h in header for h in _FORBIDDEN_HEADERS):
        raise TokenRejected("header-supplied key")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise TokenRejected("missing key id")
    key = _signing_key(client, kid, policy.algorithms)
    require = ["exp", "iat", "iss"] + (["aud"] if policy.audience is not None else [])
    try:
        claims = jwt.decode(
            token, key=key, algorithms=list(policy.algorithms), issuer=policy.issuer,
            audience=policy.audience, leeway=LEEWAY_SECONDS,
            options={"require": require, "verify_aud": policy.audience is not None, "strict_aud": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        category = next((c for kind, c in _CATEGORIES if isinstance(exc, kind)), "invalid token")
        raise TokenRejected(category) from None
    if policy.client_id is not None:
        # Cognito access tokens: no aud; client_id and token_use instead. An ID token must not pass.
        if claims.get("token_use") != "access":
            raise TokenRejected("not an access token")
        if claims.get("client_id") != policy.client_id:
            raise TokenRejected("wrong client")
    return claims
