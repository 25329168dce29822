"""Validation of Plaid's bearer token: PyJWT for the cryptography, pinned configuration for the policy.

Guards, after aws-jwt-verify: algorithms come from configuration only (never from the token); ``none``
and HMAC algorithms are refused; ``kid`` is required; header-supplied keys (``jwk``, ``jku``, ``x5u``,
``x5c``) are refused; unknown ``crit`` is refused; oversized tokens are refused before parsing; keys
with ``use: enc``, of the wrong type or RSA under 2048 bits are not used; the JWK's ``alg`` must match
the token's (PyJWT binds the algorithm to the key); ``exp``, ``nbf``, ``iat`` must be JSON numbers
(RFC 7519 NumericDate), never numeric strings.

Whose token: the client claim (``client_id``, ``azp`` or ``cid``) must be Plaid's client id; a
client-credentials token (no end user: Auth0 ``gty``, or ``sub`` naming the client) is refused; where
configured, ``aud`` and ``token_use`` must match.

JWKS (``JwksClient``, a PyJWKClient): fetched on the first request and cached at module scope for at most
``JWKS_MAX_AGE_SECONDS``; then re-fetched in the request path, keeping the cached keys only if that fetch
fails (stale-if-error); a successful fetch replaces the set, so keys the IdP no longer publishes are
dropped. An unknown ``kid`` triggers at most one refetch per cooldown window; a failed fetch (an outage,
or an answer with no usable signing key) starts the same cooldown. Each fetch has one total deadline
(connect, TLS, request, headers and body) and a size cap.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import (
    InvalidJTIError,
    InvalidSubjectError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
)

from lambdas import http
from lambdas.customers_current._pyjwt_compat import ClaimTypeError, StrictJWT

MAX_TOKEN_BYTES: Final = 8 * 1024
#: One deadline for a whole JWKS fetch: TCP connect, TLS handshake, request, headers and body. DNS resolution
#: is the resolver's (Lambda's answers in milliseconds). A cold start answers 503 well within 3 s.
JWKS_DEADLINE_SECONDS: Final = 2.0
#: The largest JWKS accepted (Auth0, Okta and Cognito publish a few KiB).
JWKS_MAX_BYTES: Final = 256 * 1024
#: A cached key set older than this is re-fetched in the request path (stale-if-error).
JWKS_MAX_AGE_SECONDS: Final = 3600.0
COOLDOWN_SECONDS: Final = 30.0
LEEWAY_SECONDS: Final = 30
MIN_RSA_BITS: Final = 2048
_FORBIDDEN_HEADERS: Final = ("jwk", "jku", "x5u", "x5c")
ASYMMETRIC: Final = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
#: A client-credentials (machine-to-machine) token is marked with ``gty: client-credentials`` and
#: ``sub: <client id>@clients`` (Auth0's access-token claims; docs/lambda.md). Refused whichever IdP issued it.
CLIENT_CREDENTIALS_GTY: Final = "client-credentials"
CLIENT_SUBJECT_SUFFIX: Final = "@clients"
_USER_AGENT: Final = "plaid-ready-idp customers-current"


#: PyJWT's verdicts -> the short, safe category returned as debugMessage (anything else: "invalid token").
_CATEGORIES: Final = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.MissingRequiredClaimError, "missing claim"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (ClaimTypeError, "invalid claim type"),
    (InvalidSubjectError, "invalid claim type"),
    (InvalidJTIError, "invalid claim type"),
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
    #: Plaid's client id, and the claim that must carry it.
    client_id: str
    client_claim: str = "client_id"
    audience: str | None = None
    #: When set, the token's ``token_use`` must equal it (Cognito: ``access``).
    token_use: str | None = None


_JWT: Final = StrictJWT()


# --- JWKS -----------------------------------------------------------------------------------------------


class _NotAKeySet(Exception):
    """A JWKS answer that is JSON but not a key set with a usable signing key; the message is safe to log."""


def signing_keys(jwk_set: PyJWKSet) -> list[PyJWK]:
    """The keys a token may be verified with: ``use`` sig or absent, with a ``kid`` (as PyJWKClient selects them)."""
    return [k for k in jwk_set.keys if k.public_key_use in ("sig", None) and k.key_id]


def _reason(exc: BaseException) -> str:
    """A short, safe reason for the log (never response content)."""
    if isinstance(exc, http.FetchError | _NotAKeySet):
        return str(exc)
    if isinstance(exc, PyJWKSetError):
        return "no usable signing key"
    return "not JSON"


class JwksClient(PyJWKClient):
    """PyJWKClient (key-set cache, ``kid`` matching, unknown-``kid`` cooldown, parsing) plus what a Lambda needs:

    - a maximum age (PyJWKClient's ``lifespan``) with **stale-if-error**: a refetch that fails keeps the
      cached keys serving (counted in ``stale``); a successful one replaces the set;
    - a cooldown after *failed* fetches too (PyJWKClient cools down only after successes);
    - one total deadline and a size cap per fetch (lambdas/http.py; PyJWKClient's ``timeout`` applies per socket
      read);
    - an answer with no usable signing key is a failed fetch, not a cache entry, so it cannot lock a
      cold instance out until the next cold start;
    - counters for metrics (``fetches``, ``errors``, ``stale``) and the last failure's reason.

    Only PyJWKClient's public API is used: ``fetch_data`` is its documented override point, and
    ``get_signing_key`` is PyJWT's own lookup (match the ``kid``, else refetch once unless within the cooldown of
    the last successful fetch) with this client's own clock for that cooldown.
    """

    def __init__(self, uri: str, cooldown_seconds: float | None = None, max_age_seconds: float | None = None,
                 deadline_seconds: float | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(uri, cache_jwk_set=True,
                         lifespan=JWKS_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds,
                         timeout=JWKS_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds,
                         cooldown_duration=COOLDOWN_SECONDS if cooldown_seconds is None else cooldown_seconds,
                         ssl_context=ssl_context)
        self.fetches = 0
        self.errors = 0
        self.stale = 0
        self.last_error: str | None = None
        self._last_failure: float | None = None
        #: When the key set was last fetched successfully: the unknown-``kid`` cooldown runs from here (PyJWKClient's
        #: rule, on this client's clock).
        self._last_fetch: float | None = None
        self._key_lock = threading.RLock()

    def fetch_data(self) -> PyJWKSet:
        if self._last_failure is not None and time.monotonic() - self._last_failure < self.cooldown_duration:
            raise PyJWKClientConnectionError("JWKS endpoint failed recently; in cooldown")
        self.fetches += 1
        try:
            body = http.get(self.uri, deadline_seconds=self.timeout, max_bytes=JWKS_MAX_BYTES, tls=self.ssl_context,
                            user_agent=_USER_AGENT)
            data = json.loads(body)
            if not isinstance(data, dict):
                raise _NotAKeySet("not a JSON object")
            jwk_set = PyJWKSet.from_dict(data)
            if not signing_keys(jwk_set):
                raise _NotAKeySet("no usable signing key")
        except (http.FetchError, _NotAKeySet, ValueError, RecursionError, PyJWKSetError) as exc:
            self.errors += 1
            self._last_failure = time.monotonic()
            self.last_error = _reason(exc)
            raise PyJWKClientConnectionError(f"JWKS fetch failed: {self.last_error}") from None
        self._last_failure = None
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        self._last_fetch = time.monotonic()
        return jwk_set

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        try:
            return super().get_jwk_set(refresh)
        except PyJWKClientConnectionError:
            cached = self.jwk_set_cache.jwk_set_with_timestamp if self.jwk_set_cache is not None else None
            if cached is None:
                raise
            if not refresh and self.jwk_set_cache is not None and self.jwk_set_cache.is_expired():
                self.stale += 1  # past its maximum age and the IdP cannot be reached: stale-if-error
            return cached.get_jwk_set()

    def get_signing_key(self, kid: str) -> PyJWK:
        """The signing key with this ``kid``; an unknown ``kid`` refetches the set once, unless the last successful
        fetch is within the cooldown (a failed one starts its own, in ``fetch_data``): a flood of forged ``kid``
        values costs the IdP one request per cooldown at most."""
        with self._key_lock:
            key = self.match_kid(self.get_signing_keys(), kid)
            if key is None and (self._last_fetch is None
                                or time.monotonic() - self._last_fetch >= self.cooldown_duration):
                key = self.match_kid(self.get_signing_keys(refresh=True), kid)
            if key is None:
                raise PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
            return key


def _signing_key(client: JwksClient, kid: str, algorithms: tuple[str, ...]) -> Any:
    try:
        key = client.get_signing_key(kid)
    except (PyJWKClientConnectionError, PyJWKSetError) as exc:
        raise JwksUnavailable(str(exc)) from None
    except PyJWKClientError:
        raise TokenRejected("unknown signing key") from None
    if key.algorithm_name not in algorithms:
        raise TokenRejected("algorithm not allowed")
    size = getattr(key.key, "key_size", None)
    if key.key_type == "RSA" and (size or 0) < MIN_RSA_BITS:
        raise TokenRejected("weak signing key")
    return key


# --- the token --------------------------------------------------------------------------------------------


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to choose the key (PyJWT re-reads and validates the whole token in
    ``jwt.decode``). Parsed directly: ``jwt.get_unverified_header`` would validate the base64url alphabet
    character by character a second time, which was a third of the warm request's cost."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError, RecursionError):  # RecursionError: deeply nested JSON
        raise TokenRejected("malformed token") from None
    if not isinstance(header, dict):
        raise TokenRejected("malformed token")
    if "crit" in header:  # no extension is understood here (RFC 7515 4.1.11)
        raise TokenRejected("malformed token")
    return header


def _is_client_token(claims: dict[str, Any], client_id: str) -> bool:
    """A client-credentials token: issued to the client itself, for no end user."""
    gty = claims.get("gty")
    if gty == CLIENT_CREDENTIALS_GTY or (isinstance(gty, list) and CLIENT_CREDENTIALS_GTY in gty):
        return True
    sub = claims.get("sub")
    return sub == client_id or sub == client_id + CLIENT_SUBJECT_SUFFIX


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
        claims = _JWT.decode(
            token, key=key, algorithms=list(policy.algorithms), issuer=policy.issuer,
            audience=policy.audience, leeway=LEEWAY_SECONDS,
            options={"require": require, "verify_aud": policy.audience is not None, "strict_aud": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        category = next((c for kind, c in _CATEGORIES if isinstance(exc, kind)), "invalid token")
        raise TokenRejected(category) from None
    if policy.token_use is not None and claims.get("token_use") != policy.token_use:
        raise TokenRejected("not an access token")  # Cognito: an ID token never passes
    issued_to = claims.get(policy.client_claim)
    if issued_to is None:
        raise TokenRejected("missing claim")
    if issued_to != policy.client_id:
        raise TokenRejected("wrong client")
    if _is_client_token(claims, policy.client_id):
        raise TokenRejected("client credentials token")
    return claims
