"""Environment variable names, paths and the service name of the scope adapter. Pure constants: the
component that deploys the adapter (components/scope_adapter.py) and the readiness rules import them."""

from __future__ import annotations

from typing import Final

#: Cognito's issuer, ``https://cognito-idp.<region>.amazonaws.com/<poolId>``; its discovery document lives
#: under it.
UPSTREAM_ISSUER: Final = "UPSTREAM_ISSUER"
#: The pool's hosted domain, ``https://<prefix>.auth.<region>.amazoncognito.com`` or the custom domain: the
#: only place the adapter ever redirects to.
UPSTREAM_BASE_URL: Final = "UPSTREAM_BASE_URL"
#: The adapter's own https URL (its custom domain, or the execute-api stage URL).
PUBLIC_BASE_URL: Final = "PUBLIC_BASE_URL"
ALL: Final[tuple[str, ...]] = (UPSTREAM_ISSUER, UPSTREAM_BASE_URL, PUBLIC_BASE_URL)

SERVICE: Final = "scope-adapter"
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
AUTHORIZE_PATH: Final = "/oauth2/authorize"
#: The scope Cognito refuses with invalid_scope and Plaid always sends: stripped at authorize, advertised in
#: discovery. Cognito issues refresh tokens for the code grant without it. Case-sensitive (RFC 6749 3.3).
STRIPPED_SCOPE: Final = "offline_access"
