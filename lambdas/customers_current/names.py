"""Service, namespace and metric names the Lambda emits (dashboards and alarms reference them).

Pure constants: importing this module has no side effects (the handler module builds its state at import).
"""

from __future__ import annotations

from typing import Final

SERVICE: Final = "customers-current"
METRICS_NAMESPACE: Final = "PlaidReadyIdp"
METRIC_REQUESTS: Final = "Requests"
#: Outcome.ok, Outcome.unauthorized, Outcome.unavailable, Outcome.misconfigured, Outcome.bad_key,
#: Outcome.not_found, Outcome.method_not_allowed, Outcome.error
METRIC_OUTCOME_PREFIX: Final = "Outcome."
#: AuthFailure.token_expired, AuthFailure.wrong_audience, ... (the failure category, slugged)
METRIC_AUTH_FAILURE_PREFIX: Final = "AuthFailure."
METRIC_JWKS_FETCHES: Final = "JwksFetches"
METRIC_JWKS_ERRORS: Final = "JwksErrors"
#: Requests answered with keys past the JWKS maximum age because the refetch failed (stale-if-error).
METRIC_JWKS_STALE: Final = "JwksStale"
#: Log field names for the consistency key's pseudonym and its length (the key itself is never logged).
LOG_CUSTOMER_REF: Final = "customer_ref"
LOG_CUSTOMER_ID_LENGTH: Final = "customer_id_length"
