"""Plaid's Core Exchange contract, as named constants: the single source for every literal.

Nothing else in the project repeats these values; components, the Lambda, the readiness rules and
the tests import them from here. Each constant names where it comes from. Research notes with the
full citations: README "Sources" and the issue notes.

A package of its own, imported by both sides: the IaC (``components/``, ``readiness/``) and the code that
runs in AWS (``lambdas/``). It imports nothing (no Pulumi, no ``components``), so the dependency arrows
point one way and the Lambda package ships it without any IaC code.
"""

from __future__ import annotations

from typing import Final, NamedTuple

# --- OAuth / OIDC ---------------------------------------------------------------------------------

#: Plaid's redirect (callback) URI for the authorization-code flow.
#: Source: Plaid Core Exchange authentication doc (plaid/core-exchange@173894e5, authentication.mdx).
PLAID_REDIRECT_URI: Final = "https://cdn.plaid.com/link/v2/stable/oauth.html"

#: Scopes Plaid always requests ("At a minimum openid and offline_access"). Source: same doc.
REQUIRED_SCOPES: Final[tuple[str, ...]] = ("openid", "offline_access")

#: Plaid's redirect to the authorization endpoint carries exactly these query parameters, in the order of
#: Plaid's example: ``response_type=code``, ``redirect_uri`` (PLAID_REDIRECT_URI), ``scope`` (REQUIRED_SCOPES,
#: space-separated), ``client_id`` and ``state`` (opaque, echoed back). Plaid documents no ``nonce``, ``prompt``,
#: ``audience``, ``resource`` or PKCE parameter for the web flow. Source: Plaid Core Exchange authentication
#: doc, "1. Plaid's authorization_endpoint redirect" (plaid/core-exchange doc-site/pages/authentication.mdx,
#: the table and the example URL agree).
AUTHORIZE_PARAMETERS: Final[tuple[str, ...]] = ("response_type", "redirect_uri", "scope", "client_id", "state")
#: The ``response_type`` Plaid sends (authorization-code flow). Source: same table.
AUTHORIZE_RESPONSE_TYPE: Final = "code"
#: Scopes are joined with one space (``scope=openid%20offline_access`` in Plaid's example). Source: same.
SCOPE_SEPARATOR: Final = " "

#: Plaid authenticates to the token endpoint with HTTP Basic unless discovery says otherwise.
#: Source: same doc, token_endpoint_auth_methods_supported ("If omitted, Plaid will use basic").
TOKEN_ENDPOINT_AUTH_METHOD: Final = "client_secret_basic"

#: Grants Plaid's client needs: the authorization code and refreshes. Source: same doc.
REQUIRED_GRANT_TYPES: Final[tuple[str, ...]] = ("authorization_code", "refresh_token")

#: Access-token lifetime: "Expire access tokens in 15 min". Source: plaid.com/core-exchange/docs/security.
ACCESS_TOKEN_LIFETIME_SECONDS: Final = 900

#: Refresh-token lifetime: Plaid "recommends setting the expiration at 13 months" and no inactivity
#: timeout. Source: authentication doc (refresh section). 13 months is written down as 397 days: the
#: longest run of 13 calendar months (8 months of 31 days, 4 of 30, a leap February), so a token
#: that lives this long outlives any 13-month span.
REFRESH_TOKEN_MIN_DAYS: Final = 397
REFRESH_TOKEN_MIN_SECONDS: Final = REFRESH_TOKEN_MIN_DAYS * 86_400

#: Consistency key (id_token ``sub`` / ``customerId``): "7+ character unique ID".
#: Source: plaid.com/core-exchange/docs/authentication/oauth-server-setup.
CONSISTENCY_KEY_MIN_LENGTH: Final = 7

#: ``customerId`` is an FDX Identifier: string, maxLength 256. Source: corex.yaml 4.6-6.4, Identifier.
CUSTOMER_ID_MAX_LENGTH: Final = 256

#: Client credentials: "openssl rand -hex 32" for the secret and "-hex 16" for the id, each 8-256
#: characters. Source: authentication doc (client credentials).
CLIENT_SECRET_BYTES: Final = 32
CLIENT_ID_BYTES: Final = 16
CLIENT_CREDENTIAL_MIN_LENGTH: Final = 8
CLIENT_CREDENTIAL_MAX_LENGTH: Final = 256

#: JWKS: "Plaid caches JWKS for 24 hours"; "Rotate keys annually". Source: security page.
PLAID_JWKS_CACHE_HOURS: Final = 24

# --- Network ----------------------------------------------------------------------------------------

#: Plaid's Core Exchange egress ranges (changelog 2025-10-15 and security page).
PLAID_IPV4_RANGES: Final[tuple[str, ...]] = ("162.120.88.0/22",)
#: IPv6 in RFC 5952 lowercase compressed form (mixed case causes perpetual WAF IP-set diffs).
PLAID_IPV6_RANGES: Final[tuple[str, ...]] = ("2602:f74b::/40",)
#: Legacy addresses Plaid says not to remove: the 18 of the implementation checklist
#: (plaid.com/core-exchange/docs/implementation-checklist/); the security page lists the first six.
PLAID_LEGACY_IPV4: Final[tuple[str, ...]] = (
    "18.214.218.91/32",
    "3.211.30.208/32",
    "3.214.25.67/32",
    "54.88.74.128/32",
    "54.208.59.10/32",
    "54.88.202.28/32",
    "34.199.37.46/32",
    "35.168.137.48/32",
    "3.215.49.214/32",
    "34.202.178.138/32",
    "52.0.205.192/32",
    "52.3.166.211/32",
    "35.174.147.86/32",
    "52.88.82.239/32",
    "52.41.247.19/32",
    "3.233.249.56/32",
    "35.153.85.253/32",
    "3.219.116.195/32",
)

#: Minimum TLS version Plaid accepts on the data provider's endpoints. Source: security page.
MIN_TLS_VERSION: Final = "TLS_1_2"

# --- Core Exchange API --------------------------------------------------------------------------------

#: Path of the endpoint this toolkit serves, relative to the FDX base path. Source: corex.yaml.
CUSTOMERS_CURRENT_PATH: Final = "/customers/current"
#: Default base path: the 6.x server URL of Plaid's spec (4.6 uses /fdx/v4, 5.x /fdx/v5).
DEFAULT_BASE_PATH: Final = "/fdx/v6"


class FdxError(NamedTuple):
    """An FDX error as the API returns it: HTTP status, numeric FDX code, end-user message."""

    status: int
    code: int
    message: str


#: Errors the customers API answers with. Plaid's examples use numeric codes (corex.yaml 6.4
#: info.description); FDX codes from the FDX 6.4.1 components (responses.404/500/503) and Plaid's
#: security page (602 with HTTP 401 for a token that is no longer valid).
CUSTOMER_NOT_AUTHORIZED: Final = FdxError(401, 602, "Customer not authorized")
SUBSYSTEM_UNAVAILABLE: Final = FdxError(503, 501, "Subsystem unavailable")
INTERNAL_SERVER_ERROR: Final = FdxError(500, 500, "Internal server error")
NOT_FOUND: Final = FdxError(404, 1107, "Data not found for request parameters")
METHOD_NOT_ALLOWED: Final = FdxError(405, 401, "Invalid Input")

#: Alarm threshold Plaid's checklist names for error-rate monitoring (percent).
ERROR_RATE_ALARM_PERCENT: Final = 2
