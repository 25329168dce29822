"""Names of the environment variables the /customers/current Lambda reads.

The customers API infrastructure (components/customers_api.py, through the tenant contract) sets
exactly these; the handler reads exactly these. Pure constants: no Pulumi import.
"""

from __future__ import annotations

from typing import Final

TOKEN_ISSUER: Final = "TOKEN_ISSUER"
JWKS_URI: Final = "JWKS_URI"
#: The ``aud`` an access token must carry (Auth0, Okta). Unset for Cognito, whose access tokens have no ``aud``.
TOKEN_AUDIENCE: Final = "TOKEN_AUDIENCE"
#: Plaid's client id. Required: a token issued to any other client of the tenant is refused.
TOKEN_CLIENT_ID: Final = "TOKEN_CLIENT_ID"
#: The claim that names the client a token was issued to: ``client_id`` (Auth0's RFC 9068 profile,
#: Cognito), ``azp`` (Auth0's default profile) or ``cid`` (Okta). Default ``client_id``.
TOKEN_CLIENT_CLAIM: Final = "TOKEN_CLIENT_CLAIM"
#: When set, the token's ``token_use`` claim must equal it (Cognito: ``access``, so an ID token is refused).
TOKEN_USE: Final = "TOKEN_USE"
TOKEN_ALGORITHMS: Final = "TOKEN_ALGORITHMS"

CONSISTENCY_KEY_CLAIM: Final = "CONSISTENCY_KEY_CLAIM"
CONSISTENCY_KEY_PREFIX: Final = "CONSISTENCY_KEY_PREFIX"

ALL: Final[tuple[str, ...]] = (
    TOKEN_ISSUER,
    JWKS_URI,
    TOKEN_AUDIENCE,
    TOKEN_CLIENT_ID,
    TOKEN_CLIENT_CLAIM,
    TOKEN_USE,
    TOKEN_ALGORITHMS,
    CONSISTENCY_KEY_CLAIM,
    CONSISTENCY_KEY_PREFIX,
)

#: The values TOKEN_CLIENT_CLAIM accepts (the single source: the tenant contract validates against it too).
CLIENT_CLAIMS: Final[tuple[str, ...]] = ("client_id", "azp", "cid")
#: The only value TOKEN_USE accepts: a Cognito access token's ``token_use`` (an ID token says ``id``).
ACCESS_TOKEN_USE: Final = "access"
