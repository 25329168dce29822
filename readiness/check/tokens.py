"""Tokens and keys for ``plaid-ready check``: JWT parts, verification against the JWKS, the tampered token,
the shape of ``sub``, and how server-supplied values are shown. Nothing here raises on hostile input: a
value that is not what it should be is a reason, not an exception."""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final

import jwt

import plaid_contract as plaid
from lambdas.customers_current.verifier import ASYMMETRIC
from readiness.check.model import CheckStatus

#: Clock skew allowed when verifying tokens.
LEEWAY_SECONDS: Final = 60
#: Key ids longer than this are shown cut, with an explicit ellipsis.
KID_SHOWN: Final = 100
ELLIPSIS: Final = "..."


def shown(value: Any, limit: int = 120) -> str:  # noqa: ANN401 - any JSON value
    """A server-supplied JSON value as short text: a string cut at ``limit`` with an explicit ellipsis, a
    number as written, anything else by its kind (never ``str()`` of a structure, which could be nested
    thousands of levels deep)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:max(limit - len(ELLIPSIS), 1)] + ELLIPSIS
    if value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
        return text if len(text) <= limit else text[:limit - len(ELLIPSIS)] + ELLIPSIS
    return "(a JSON array)" if isinstance(value, list) else "(a JSON object)"


def count(n: int, noun: str) -> str:
    """``1 key``, ``2 keys``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def b64url_json(part: str) -> Any:  # noqa: ANN401 - any JSON
    """One JWS part decoded; ValueError (or RecursionError) when it is not base64url JSON."""
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a compact JWS, unverified; None when the token is not one (opaque)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = b64url_json(parts[0]), b64url_json(parts[1])
    except (ValueError, RecursionError):
        return None
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def tampered(token: str) -> str:
    """The token with its payload changed and the signature kept (or, when opaque, one character changed)."""
    parts = token.split(".")
    decoded = jwt_parts(token)
    if decoded is not None:
        claims = dict(decoded[1])
        sub = claims.get("sub")
        claims["sub"] = f"{sub if isinstance(sub, str) else ''}-tampered"
        parts[1] = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return ".".join(parts)
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle:middle + 1] != "A" else "B") + token[middle + 1:]


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().-]+")


def sub_shape(sub: str) -> tuple[CheckStatus, str]:
    n, digits = len(sub), sum(c.isdigit() for c in sub)
    if n < plaid.CONSISTENCY_KEY_MIN_LENGTH:
        return CheckStatus.FAIL, f"sub has {n} characters; Plaid needs >= {plaid.CONSISTENCY_KEY_MIN_LENGTH}"
    if _EMAIL.fullmatch(sub):
        return CheckStatus.FAIL, f"sub looks like an email address ({n} characters): PII that can change"
    if _PHONE.fullmatch(sub) and 7 <= digits <= 15:
        if sub.startswith("+") or not sub.isdigit():
            return CheckStatus.FAIL, f"sub looks like a phone number ({n} characters): PII that can change"
        return CheckStatus.WARN, f"sub is {n} digits only: make sure it is not a phone number"
    return CheckStatus.PASS, f"sub has {n} characters, not an email address or phone number"


def signing_keys(jwks: dict[str, Any]) -> list[dict[str, Any]]:
    keys = jwks.get("keys")
    keys = [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []

    def verifies(key: dict[str, Any]) -> bool:
        ops = key.get("key_ops")
        return "key_ops" not in key or (isinstance(ops, list) and "verify" in ops)

    return [k for k in keys if k.get("use", "sig") == "sig" and verifies(k)]


def rsa_bits(key: dict[str, Any]) -> int:
    n = key.get("n")
    if not isinstance(n, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except ValueError:
        return 0
    return int.from_bytes(raw, "big").bit_length()


def shown_kid(kid: Any) -> str:  # noqa: ANN401 - any JSON value
    """A key id in full up to KID_SHOWN characters, else cut with an explicit ellipsis."""
    return shown(kid, KID_SHOWN) if kid not in (None, "") else "(none)"


def verify(token: str, jwks: dict[str, Any] | None, **kwargs: Any) -> tuple[dict[str, Any] | None, str]:  # noqa: ANN401
    """(claims, note) when the token verifies against the JWKS; (None, why not) otherwise. ``kwargs`` go to
    ``jwt.decode`` (issuer, audience, options)."""
    parts = jwt_parts(token)
    if parts is None:
        return None, "not a JWT"
    header = parts[0]
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ASYMMETRIC:
        return None, f"alg {shown(alg, 20)} is not an asymmetric algorithm published in a JWKS"
    if jwks is None:
        return None, "the JWKS is unavailable (see JWKS-KEYS)"
    keys = signing_keys(jwks)
    candidates = [k for k in keys if kid is not None and k.get("kid") == kid]
    note = f"{alg}, kid matches the JWKS"
    if not candidates:
        candidates = [k for k in keys if "kid" not in k]
        note = f"{alg}, verified with a JWKS key without kid"
    if not candidates:
        return None, f"{alg}: no JWKS key has the token's kid"
    why = "signature does not verify"
    for key in candidates:
        try:
            pyjwk = jwt.PyJWK(key, algorithm=alg)
            claims = jwt.decode(token, pyjwk.key, algorithms=[alg], leeway=LEEWAY_SECONDS, **kwargs)
        except jwt.InvalidIssuerError:
            return None, "iss is not the discovery issuer"
        except jwt.InvalidAudienceError:
            return None, "aud does not name the client"
        except jwt.ExpiredSignatureError:
            return None, "expired"
        except jwt.MissingRequiredClaimError as exc:
            return None, f"no {exc.claim} claim"
        except (jwt.PyJWKError, jwt.InvalidKeyError, jwt.InvalidTokenError, ValueError, TypeError,
                RecursionError) as exc:
            why = f"does not verify ({type(exc).__name__})"
            continue
        return claims, note
    return None, why
