"""The checks of ``plaid-ready check``: stable ids, stages, statuses and results (docs/check.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import plaid_contract as plaid
from lambdas.customers_current.verifier import MIN_RSA_BITS

#: Tolerance on the access-token lifetime and clock skew when verifying tokens.
LIFETIME_TOLERANCE_SECONDS: Final = 60


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Stage(StrEnum):
    DISCOVERY = "Discovery"
    KEYS = "Keys"
    LOGIN = "Login and tokens"
    API = "API"


@dataclass(frozen=True)
class CheckSpec:
    id: str
    stage: Stage
    requirement: str


SCOPES_TEXT: Final = " and ".join(plaid.REQUIRED_SCOPES)
_LIFE = plaid.ACCESS_TOKEN_LIFETIME_SECONDS
_DENIED = plaid.CUSTOMER_NOT_AUTHORIZED

#: Every check, in the order they run. The ids are stable: documented in docs/check.md, never renamed.
CHECKS: Final[tuple[CheckSpec, ...]] = (
    CheckSpec("DISCOVERY-FETCH", Stage.DISCOVERY, "the discovery document answers 200 with a JSON object"),
    CheckSpec("DISCOVERY-HTTPS", Stage.DISCOVERY, "every endpoint in the discovery document is https://"),
    CheckSpec("DISCOVERY-FIELDS", Stage.DISCOVERY,
              "issuer, authorize and token endpoints, response_types_supported with code; OIDC: userinfo, JWKS"),
    CheckSpec("DISCOVERY-SCOPES", Stage.DISCOVERY, f"scopes_supported lists {SCOPES_TEXT}"),
    CheckSpec("DISCOVERY-AUTH-METHOD", Stage.DISCOVERY,
              f"token_endpoint_auth_methods_supported includes {plaid.TOKEN_ENDPOINT_AUTH_METHOD} or is absent"),
    CheckSpec("JWKS-KEYS", Stage.KEYS,
              f"the JWKS answers with a signing key; every signing key has a kid; RSA >= {MIN_RSA_BITS} bits"),
    CheckSpec("TOKEN-CLIENT-AUTH", Stage.LOGIN,
              f"the login returns a code; the token endpoint takes it with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}"),
    CheckSpec("TOKEN-JWT", Stage.LOGIN, "the access token is a JWT (not opaque) that verifies against the JWKS"),
    CheckSpec("TOKEN-AT-LIFETIME", Stage.LOGIN,
              f"the access token lives {_LIFE} s (+/- {LIFETIME_TOLERANCE_SECONDS} s)"),
    CheckSpec("TOKEN-REFRESH-ISSUED", Stage.LOGIN, "the code exchange returns a refresh token"),
    CheckSpec("TOKEN-SUB", Stage.LOGIN,
              f"the id_token verifies and carries the login's nonce; its sub has >= {plaid.CONSISTENCY_KEY_MIN_LENGTH} "
              "characters and is no email address or phone number"),
    CheckSpec("USERINFO-SUB", Stage.LOGIN, "userinfo answers the access token with the id_token's sub"),
    CheckSpec("TOKEN-REFRESH-ROTATES", Stage.LOGIN,
              "a refresh returns a new refresh token and the old one is then refused"),
    CheckSpec("API-CUSTOMERS-CURRENT", Stage.API,
              f"GET {plaid.CUSTOMERS_CURRENT_PATH}: 200, Plaid's Customer schema, customerId = id_token sub"),
    CheckSpec("API-REJECTS-NO-TOKEN", Stage.API, f"no token: {_DENIED.status} with FDX code {_DENIED.code}"),
    CheckSpec("API-REJECTS-BAD-TOKEN", Stage.API,
              f"a tampered token: {_DENIED.status} with FDX code {_DENIED.code}"),
)
CHECK_IDS: Final[tuple[str, ...]] = tuple(c.id for c in CHECKS)
SPECS: Final = {c.id: c for c in CHECKS}


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    status: CheckStatus
    detail: str
    #: A skip because an input was not given (no --customers-url, no login requested): the run is partial.
    for_lack_of_input: bool = False

    @property
    def id(self) -> str:
        return self.spec.id
