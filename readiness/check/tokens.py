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
from lambdas.oidc_checks.keys import rsa_bits, signing_keys
from lambdas.oidc_checks.model import ELLIPSIS, KID_SHOWN, count, shown, shown_kid
from readiness.check.model import CheckStatus

__all__ = ["ELLIPSIS", "KID_SHOWN", "LEEWAY_SECONDS", "b64url_json", "count", "jwt_parts", "rsa_bits", "shown",
           "shown_kid", "signing_keys", "sub_shape", "tampered", "verify"]

#: Clock skew allowed when verifying tokens.
LEEWAY_SECONDS: Final = 60


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
