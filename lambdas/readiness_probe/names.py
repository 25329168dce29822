"""Environment variable names, check ids, the service and metric names of the readiness probe. Pure constants: the
component that deploys the probe (components/probe.py) and the readiness rules import them."""

from __future__ import annotations

from typing import Final

#: The IdP's discovery document URL (what Plaid is given). Required.
DISCOVERY_URL: Final = "PROBE_DISCOVERY_URL"
#: The SSM parameter (a name starting with ``/``) where the probe keeps the signing-key ids it saw. Required.
STATE_PARAMETER: Final = "PROBE_STATE_PARAMETER"
#: The customers API's ``/customers/current`` URL: probed from outside the allowlist (the WAF must answer 403).
CUSTOMERS_URL: Final = "PROBE_CUSTOMERS_URL"
#: Custom domains (``host`` or ``host:port``) whose TLS certificate's expiry is checked; each optional.
IDP_DOMAIN: Final = "PROBE_IDP_DOMAIN"
API_DOMAIN: Final = "PROBE_API_DOMAIN"
#: ``true`` when the API's custom domain requires client certificates (mutual TLS): the probe has none, so a
#: refused TLS handshake also shows that nothing outside Plaid reaches the API.
API_MTLS: Final = "PROBE_API_MTLS"
ALL: Final[tuple[str, ...]] = (DISCOVERY_URL, STATE_PARAMETER, CUSTOMERS_URL, IDP_DOMAIN, API_DOMAIN, API_MTLS)

SERVICE: Final = "readiness-probe"
METRICS_NAMESPACE: Final = "PlaidReadyIdp"
#: One metric per check id: ``CheckFailed.<ID>``, 1 when the check failed, 0 otherwise (pass, warn, skip).
METRIC_FAILED_PREFIX: Final = "CheckFailed."
#: The number of failed checks of one run: the alarm's metric.
METRIC_CHECKS_FAILED: Final = "ChecksFailed"

DISCOVERY_CHECKS: Final[tuple[str, ...]] = ("DISCOVERY-FETCH", "DISCOVERY-HTTPS", "DISCOVERY-FIELDS",
                                            "DISCOVERY-SCOPES", "DISCOVERY-AUTH-METHOD")
JWKS_KEYS: Final = "JWKS-KEYS"
JWKS_ROTATION: Final = "JWKS-ROTATION"
API_ALLOWLIST: Final = "API-ALLOWLIST"
TLS_IDP_DOMAIN: Final = "TLS-IDP-DOMAIN"
TLS_API_DOMAIN: Final = "TLS-API-DOMAIN"
#: Every check the probe can run, in order (the TLS and API checks run only when their variable is set).
CHECKS: Final[tuple[str, ...]] = (*DISCOVERY_CHECKS, JWKS_KEYS, JWKS_ROTATION, API_ALLOWLIST, TLS_IDP_DOMAIN,
                                  TLS_API_DOMAIN)

#: TLS certificate expiry: fail under this many days, warn under WARN.
TLS_FAIL_DAYS: Final = 21
TLS_WARN_DAYS: Final = 45
