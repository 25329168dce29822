"""Names of the environment variables the /customers/current Lambda reads.

The customers API infrastructure (components/customers_api.py, through the tenant contract) sets
exactly these; the handler reads exactly these. Pure constants: no Pulumi import.
"""

from __future__ import annotations

from typing import Final

TOKEN_ISSUER: Final = "TOKEN_ISSUER"
JWKS_URI: Final = "JWKS_URI"
TOKEN_AUDIENCE: Final = "TOKEN_AUDIENCE"
TOKEN_CLIENT_ID: Final = "TOKEN_CLIENT_ID"
TOKEN_ALGORITHMS: Final = "TOKEN_ALGORITHMS"
CONSISTENCY_KEY_CLAIM: Final = "CONSISTENCY_KEY_CLAIM"
CONSISTENCY_KEY_PREFIX: Final = "CONSISTENCY_KEY_PREFIX"

ALL: Final[tuple[str, ...]] = (
    TOKEN_ISSUER,
    JWKS_URI,
    TOKEN_AUDIENCE,
    TOKEN_CLIENT_ID,
    TOKEN_ALGORITHMS,
    CONSISTENCY_KEY_CLAIM,
    CONSISTENCY_KEY_PREFIX,
)
