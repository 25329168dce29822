"""The one place the Lambda reaches into PyJWT beyond its public API, pinned to the PyJWT it was written against.

``PyJWT._decode_payload`` (PyJWT 2.15.1, ``jwt/api_jwt.py``): the hook PyJWT's ``decode_complete`` calls after the
signature is verified and before the registered claims are validated; its docstring says it "is intended to be
overridden by subclasses". It is needed because PyJWT validates ``exp``/``nbf``/``iat`` with ``int()``, which also
accepts ``"9999999999"``, ``true`` or other non-numbers: RFC 7519 makes them JSON numbers (NumericDate), and a
token carrying a string there must be refused, not read. Doing it before ``decode`` would read an unverified
payload; after it, the claims would already have been judged. The alternative with public API only (verify with
``PyJWS``, then re-implement PyJWT's claim checks) would hand-write what the library does.

tests/lambdas/test_pyjwt_compat.py fails when the installed PyJWT is not :data:`PYJWT_VERSION` (re-read the hook in
the new version, then update it) or when ``decode_complete`` no longer calls the hook.
"""

from __future__ import annotations

import math
from typing import Any, Final

import jwt

#: The PyJWT this module was checked against (lambdas/customers_current/requirements.txt, pyproject.toml).
PYJWT_VERSION: Final = "2.15.1"
#: RFC 7519 NumericDate claims: a JSON number (integer or not), never a string.
NUMERIC_DATES: Final = ("exp", "nbf", "iat")


class ClaimTypeError(jwt.InvalidTokenError):
    """A registered claim has the wrong JSON type."""


class StrictJWT(jwt.PyJWT):
    """PyJWT plus RFC 7519's types for the NumericDate claims, checked in PyJWT's payload-decoding hook: after the
    signature is verified, before the claims are validated."""

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        payload = super()._decode_payload(decoded)
        for name in NUMERIC_DATES:
            if name in payload:
                value = payload[name]
                if type(value) not in (int, float) or (type(value) is float and not math.isfinite(value)):
                    raise ClaimTypeError(f"{name} must be a number")
        return payload
