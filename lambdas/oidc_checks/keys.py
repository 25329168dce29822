"""JWKS-KEYS: the JWKS the API and Plaid verify tokens with (docs/check.md). Judges a JWKS already fetched."""

from __future__ import annotations

import base64
from typing import Any, Final

from lambdas.oidc_checks.model import Finding, count, failed, passed, shown, shown_kid, warned

#: The smallest RSA key accepted: the customers Lambda's own floor (lambdas/customers_current/verifier.py, equal
#: by test; not imported, so this package ships without the customers Lambda).
MIN_RSA_BITS: Final = 2048
REQUIREMENT: Final = (f"the JWKS answers with a signing key; every signing key has a kid; RSA >= {MIN_RSA_BITS} "
                      "bits")


def signing_keys(jwks: dict[str, Any]) -> list[dict[str, Any]]:
    """The keys that verify signatures: ``use`` absent or ``sig``, ``key_ops`` absent or with ``verify``."""
    keys = jwks.get("keys")
    keys = [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []

    def verifies(key: dict[str, Any]) -> bool:
        ops = key.get("key_ops")
        return "key_ops" not in key or (isinstance(ops, list) and "verify" in ops)

    return [k for k in keys if k.get("use", "sig") == "sig" and verifies(k)]


def signing_kids(jwks: dict[str, Any]) -> list[str]:
    """The string kids of the signing keys, in JWKS order, each once."""
    kids: list[str] = []
    for key in signing_keys(jwks):
        kid = key.get("kid")
        if isinstance(kid, str) and kid and kid not in kids:
            kids.append(kid)
    return kids


def rsa_bits(key: dict[str, Any]) -> int:
    n = key.get("n")
    if not isinstance(n, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except ValueError:
        return 0
    return int.from_bytes(raw, "big").bit_length()


def unreachable(reason: str) -> Finding:
    return failed(f"jwks_uri: {reason}")


def not_https() -> Finding:
    return failed("jwks_uri is not https:// (not fetched; see DISCOVERY-HTTPS)")


def answer(status: int, media_type: str, doc: dict[str, Any] | None, why_not_object: str) -> Finding:
    """JWKS-KEYS from the answer: ``doc`` is the body as a JSON object (None when it is not one, ``why_not_object``
    saying why). A JWKS with two signing keys names them both: during a rotation one signs and the other is the
    next (or the previous) key; the JWKS does not say which (docs/rotation.md)."""
    if status != 200 or doc is None or not isinstance(doc.get("keys"), list):
        why = why_not_object if status == 200 and doc is None else 'expected 200 with {"keys": [...]}'
        return failed(f"jwks_uri: HTTP {status}, {shown(media_type or 'no Content-Type', 60)}: {why}")
    keys = [k for k in doc["keys"] if isinstance(k, dict)]
    signing = signing_keys(doc)
    problems: list[str] = []
    if any("d" in k or k.get("kty") == "oct" for k in keys):
        problems.append("the JWKS publishes private or symmetric key material")
    if not signing:
        problems.append("no signing key (use sig)")
    no_kid = [k for k in signing if not k.get("kid")]
    if no_kid:
        problems.append(f"{len(no_kid)} of {len(signing)} signing keys have no kid")
    odd_kid = [k for k in signing if k.get("kid") and not isinstance(k.get("kid"), str)]
    if odd_kid:
        problems.append(f"{len(odd_kid)} of {len(signing)} signing keys have a kid that is not a string")
    weak = [k for k in signing if k.get("kty") == "RSA" and rsa_bits(k) < MIN_RSA_BITS]
    if weak:
        problems.append(f"{len(weak)} RSA keys under {MIN_RSA_BITS} bits")
    described = "; ".join(
        f"{shown(k.get('kty'), 10)}{' ' + str(rsa_bits(k)) + ' bits' if k.get('kty') == 'RSA' else ''} "
        f"kid {shown_kid(k.get('kid'))}" for k in signing[:5])
    seen = f"{count(len(keys), 'key')}, {len(signing)} for signing" + (f": {described}" if described else "")
    if problems:
        return failed(f"{seen}; " + "; ".join(problems))
    kids = [k["kid"] for k in signing]
    if len(set(kids)) != len(kids):
        return warned(f"{seen}; two signing keys share a kid")
    if len(kids) == 2:
        seen += ("; two signing keys: during a rotation one signs and the other is the next (or previous) key, "
                 "a token's kid tells which signs (docs/rotation.md)")
    return passed(seen)
