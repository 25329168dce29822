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
import http.client
import io
import json
import math
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import jwt
from jwt import PyJWKClient, PyJWKSet
from jwt.exceptions import (
    InvalidJTIError,
    InvalidSubjectError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
)

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
#: RFC 7519 NumericDate claims: a JSON number (integer or not), never a string.
_NUMERIC_DATES: Final = ("exp", "nbf", "iat")
#: Auth0 marks a client-credentials (machine-to-machine) token with ``gty`` and ``sub: <client id>@clients``.
AUTH0_CLIENT_CREDENTIALS_GTY: Final = "client-credentials"
AUTH0_CLIENT_SUBJECT_SUFFIX: Final = "@clients"
_USER_AGENT: Final = "plaid-ready-idp customers-current"


class _ClaimTypeError(jwt.InvalidTokenError):
    """A registered claim has the wrong JSON type."""


#: PyJWT's verdicts -> the short, safe category returned as debugMessage (anything else: "invalid token").
_CATEGORIES: Final = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.MissingRequiredClaimError, "missing claim"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (_ClaimTypeError, "invalid claim type"),
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


class _StrictJWT(jwt.PyJWT):
    """PyJWT plus RFC 7519's types for the NumericDate claims: PyJWT validates ``exp``/``nbf``/``iat`` with
    ``int()``, which also accepts ``"9999999999"``, ``true`` or ``1e3``-style strings. Uses PyJWT's documented
    hook for payload decoding; runs after the signature is verified, before the claims are validated."""

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        payload = super()._decode_payload(decoded)
        for name in _NUMERIC_DATES:
            if name in payload:
                value = payload[name]
                if type(value) not in (int, float) or (type(value) is float and not math.isfinite(value)):
                    raise _ClaimTypeError(f"{name} must be a number")
        return payload


_JWT: Final = _StrictJWT()


# --- JWKS -----------------------------------------------------------------------------------------------


class _FetchError(Exception):
    """A JWKS fetch failed; the message is short and safe to log (no response content)."""


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline exceeded")
    return left


class _DeadlineReader(io.RawIOBase):
    """The read side of a connected socket where every read waits at most what is left of one deadline,
    so a peer that drips bytes cannot stretch the total. Passed to ``http.client.HTTPResponse`` as its
    socket (it calls ``makefile``), which does the HTTP parsing (status, headers, chunked, length)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(self)


_tls_context: ssl.SSLContext | None = None


def _default_tls() -> ssl.SSLContext:
    global _tls_context
    if _tls_context is None:  # built on the first fetch, not at import (loading the CA bundle costs a cold start)
        _tls_context = ssl.create_default_context()
    return _tls_context


def download(uri: str, deadline_seconds: float, max_bytes: int, tls: ssl.SSLContext | None = None) -> bytes:
    """GET ``uri`` and return the body of a 200 answer, all within ``deadline_seconds`` and at most
    ``max_bytes``; redirects are not followed. Raises ``OSError`` (``TimeoutError`` at the deadline),
    ``http.client.HTTPException`` or ``_FetchError``."""
    deadline = time.monotonic() + deadline_seconds
    parts = urlsplit(uri)
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    sock = socket.create_connection((host, port), timeout=_remaining(deadline))
    try:
        if https:
            sock.settimeout(_remaining(deadline))  # bounds the whole handshake (Python >= 3.5 semantics)
            sock = (tls or _default_tls()).wrap_socket(sock, server_hostname=host)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
        request = (f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\n"
                   f"User-Agent: {_USER_AGENT}\r\nConnection: close\r\n\r\n").encode("ascii")
        sock.settimeout(_remaining(deadline))
        sock.sendall(request)  # bounded as a whole by the timeout (Python >= 3.5 semantics)
        response = http.client.HTTPResponse(_DeadlineReader(sock, deadline))  # type: ignore[arg-type]
        try:
            response.begin()
            if response.status != 200:
                raise _FetchError(f"HTTP {response.status}")
            if response.length is not None and response.length > max_bytes:
                raise _FetchError(f"body over {max_bytes} bytes")
            body = response.read(max_bytes + 1)
        finally:
            response.close()
        if len(body) > max_bytes:
            raise _FetchError(f"body over {max_bytes} bytes")
        return body
    finally:
        sock.close()


def _reason(exc: BaseException) -> str:
    """A short, safe reason for the log (never response content)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, _FetchError):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted (SSLCertVerificationError)"
    if isinstance(exc, OSError):  # before ValueError: some ssl errors are both
        return f"connection failed ({type(exc).__name__})"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP response ({type(exc).__name__})"
    if isinstance(exc, PyJWKClientError) and "JSON object" in str(exc):
        return "not a JSON object"
    if isinstance(exc, (PyJWKClientError, PyJWKSetError)):
        return "no usable signing key"
    return "not JSON"


class JwksClient(PyJWKClient):
    """PyJWKClient (key-set cache, ``kid`` matching, unknown-``kid`` cooldown, parsing) plus what a Lambda needs:

    - a maximum age (PyJWKClient's ``lifespan``) with **stale-if-error**: a refetch that fails keeps the
      cached keys serving (counted in ``stale``); a successful one replaces the set;
    - a cooldown after *failed* fetches too (PyJWKClient cools down only after successes);
    - one total deadline and a size cap per fetch (PyJWKClient's ``timeout`` applies per socket read);
    - an answer with no usable signing key is a failed fetch, not a cache entry, so it cannot lock a
      cold instance out until the next cold start;
    - counters for metrics (``fetches``, ``errors``, ``stale``) and the last failure's reason.
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

    def fetch_data(self) -> PyJWKSet:
        if self._last_failure is not None and time.monotonic() - self._last_failure < self.cooldown_duration:
            raise PyJWKClientConnectionError("JWKS endpoint failed recently; in cooldown")
        self.fetches += 1
        try:
            body = download(self.uri, self.timeout, JWKS_MAX_BYTES, self.ssl_context)
            jwk_set = PyJWKSet.from_dict(self._as_jwk_set_payload(json.loads(body)))
            self._get_signing_keys_from_jwk_set(jwk_set)  # raises when the set holds no signing key
        except (OSError, http.client.HTTPException, _FetchError, ValueError, RecursionError,
                PyJWKClientError, PyJWKSetError) as exc:
            self.errors += 1
            self._last_failure = time.monotonic()
            self.last_error = _reason(exc)
            raise PyJWKClientConnectionError(f"JWKS fetch failed: {self.last_error}") from None
        self._last_failure = None
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        self._last_successful_fetch = time.monotonic()
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
    if gty == AUTH0_CLIENT_CREDENTIALS_GTY or (isinstance(gty, list) and AUTH0_CLIENT_CREDENTIALS_GTY in gty):
        return True
    sub = claims.get("sub")
    return sub == client_id or sub == client_id + AUTH0_CLIENT_SUBJECT_SUFFIX


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
    client = claims.get(policy.client_claim)
    if client is None:
        raise TokenRejected("missing claim")
    if client != policy.client_id:
        raise TokenRejected("wrong client")
    if _is_client_token(claims, policy.client_id):
        raise TokenRejected("client credentials token")
    return claims
