"""Core Exchange ``GET /customers/current`` for API Gateway REST proxy events (payload 1.0).

200 ``{"customerId": <key>}`` for a valid bearer token; FDX error bodies otherwise (codes from
``plaid_contract/__init__.py``). One structured JSON log line per request (Powertools Logger); EMF metrics
(Powertools Metrics) for every outcome but a plain success, and for the JWKS client's fetches, failures and stale
serves. Never logs or returns the token; never answers with a traceback; logs the consistency key only as a
pseudonym (``customer_ref``) and its length.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from typing import Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

import plaid_contract as plaid
from lambdas.customers_current import config as config_mod
from lambdas.customers_current.names import (
    LOG_CUSTOMER_ID_LENGTH,
    LOG_CUSTOMER_REF,
    METRIC_AUTH_FAILURE_PREFIX,
    METRIC_JWKS_ERRORS,
    METRIC_JWKS_FETCHES,
    METRIC_JWKS_STALE,
    METRIC_OUTCOME_PREFIX,
    METRICS_NAMESPACE,
    SERVICE,
)
from lambdas.customers_current.verifier import JwksClient, JwksUnavailable, TokenRejected, verify

RETRY_AFTER_SECONDS: Final = 30
#: The consistency key is logged as sha256(label + key), first 16 hex digits: operators correlate a customer's
#: requests (and compute the pseudonym of a key they hold) without the key being in the logs.
CUSTOMER_REF_LABEL: Final = "plaid-ready-idp:customer-ref:v1:"

#: json_deserializer=str: the messages are plain text; by default Powertools tries json.loads on each one (and catches
#: the error), a few microseconds per line for nothing.
logger = Logger(service=SERVICE, json_deserializer=str)
# The standard library's documented switches: a log record skips the thread, process and multiprocessing names
# (Powertools' JSON line does not show them; a Lambda instance is one process serving one request at a time).
logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


class _State:
    """Module-scope state: configuration and the JWKS client, built once per cold start."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.error: str | None = None
        self.config: config_mod.Config | None = None
        self.jwks: JwksClient | None = None
        self._fetches = self._errors = self._stale = 0
        try:
            self.config = config_mod.load(environ)
            self.jwks = JwksClient(self.config.jwks_uri)
        except (config_mod.ConfigError, ValueError) as exc:
            self.error = str(exc)
            logger.error("invalid configuration: every request will get a 500 until it is fixed",
                         extra={"config_error": self.error})

    def jwks_deltas(self) -> tuple[int, int, int]:
        """JWKS fetches, failed fetches and stale-key serves since the previous call."""
        if self.jwks is None:
            return 0, 0, 0
        j = self.jwks
        deltas = j.fetches - self._fetches, j.errors - self._errors, j.stale - self._stale
        self._fetches, self._errors, self._stale = j.fetches, j.errors, j.stale
        return deltas


_state = _State(os.environ)


def configure(environ: Mapping[str, str]) -> None:
    """Rebuild the module state from ``environ`` (what a cold start does; used by the local server and tests)."""
    global _state
    _state = _State(environ)


def _response(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _error(err: plaid.FdxError, debug: str | None = None,
           headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": err.code, "message": err.message}
    if debug:
        body["debugMessage"] = debug
    return _response(err.status, body, headers)


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    return None


def _bearer(event: Mapping[str, Any]) -> str:
    value = _header(event, "Authorization")
    if value is None or not value.strip():
        raise TokenRejected("missing token")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise TokenRejected("malformed authorization header")
    return token.strip()


def _route(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """None when the request is GET .../customers/current; else the 404/405 response."""
    path = event.get("path") if isinstance(event.get("path"), str) else event.get("resource")
    path = path.rstrip("/") if isinstance(path, str) else ""
    if not path.endswith(plaid.CUSTOMERS_CURRENT_PATH):
        return _error(plaid.NOT_FOUND, "no such resource")
    if event.get("httpMethod") != "GET":
        return _error(plaid.METHOD_NOT_ALLOWED, "method not allowed; use GET", {"Allow": "GET"})
    return None


def customer_ref(key: str) -> str:
    """The consistency key's pseudonym in the logs (docs/lambda.md shows how to compute it for a key)."""
    return hashlib.sha256((CUSTOMER_REF_LABEL + key).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _customer_id(claims: Mapping[str, Any], cfg: config_mod.Config) -> tuple[str | None, str]:
    """(key, "") or (None, why it is unusable: a server-side misconfiguration, never the value)."""
    value = claims.get(cfg.key_claim)
    if value is None:
        return None, "claim missing"
    if not isinstance(value, str):
        return None, "claim is not a string"
    key = cfg.key_prefix + value
    if not plaid.CONSISTENCY_KEY_MIN_LENGTH <= len(key) <= plaid.CUSTOMER_ID_MAX_LENGTH:
        return None, f"outside {plaid.CONSISTENCY_KEY_MIN_LENGTH}..{plaid.CUSTOMER_ID_MAX_LENGTH} characters"
    if not key.isprintable():
        return None, "contains control or invisible characters"
    return key, ""


def _handle(event: Mapping[str, Any]) -> tuple[dict[str, Any], str, str | None, str | None]:
    """Returns (response, outcome, failure category, customer id)."""
    routed = _route(event)
    if routed is not None:
        return routed, "not_found" if routed["statusCode"] == 404 else "method_not_allowed", None, None
    state = _state
    if state.error is not None or state.config is None or state.jwks is None:
        return _error(plaid.INTERNAL_SERVER_ERROR, "service misconfigured"), "misconfigured", "configuration", None
    try:
        claims = verify(_bearer(event), state.jwks, state.config.policy)
    except TokenRejected as exc:
        resp = _error(plaid.CUSTOMER_NOT_AUTHORIZED, exc.category,
                      {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return resp, "unauthorized", exc.category, None
    except JwksUnavailable:
        resp = _error(plaid.SUBSYSTEM_UNAVAILABLE, "identity provider keys unavailable",
                      {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return resp, "unavailable", "jwks unavailable", None
    key, problem = _customer_id(claims, state.config)
    if key is None:
        logger.error("consistency key unusable: server-side misconfiguration (the IdP's claim or the prefix)",
                     extra={"claim": state.config.key_claim, "problem": problem})
        resp = _error(plaid.INTERNAL_SERVER_ERROR, "customer identifier unavailable")
        return resp, "bad_key", "consistency key", None
    return _response(200, {"customerId": key}), "ok", None, key


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower())


def handler(event: Any, context: Any) -> dict[str, Any]:
    event = event if isinstance(event, Mapping) else {}
    try:
        response, outcome, category, key = _handle(event)
    except Exception:  # noqa: BLE001 - never a traceback in the response; the log has it
        logger.exception("unhandled error")
        response, outcome, category, key = _error(plaid.INTERNAL_SERVER_ERROR), "error", "unhandled", None
    request_context = event.get("requestContext")
    log = {
        "outcome": outcome,
        "status": response["statusCode"],
        "plaid_request_id": _header(event, "X-Request-ID"),
        "apigw_request_id": request_context.get("requestId") if isinstance(request_context, Mapping) else None,
    }
    if category:
        log["failure_category"] = category
    if key:
        log[LOG_CUSTOMER_REF] = customer_ref(key)  # a pseudonym: the key itself is never logged
        log[LOG_CUSTOMER_ID_LENGTH] = len(key)
    logger.info("customers/current", extra=log)
    _count(outcome, category)
    return response


def _count(outcome: str, category: str | None) -> None:
    """EMF metrics for what only the handler knows: every outcome but a plain success (by outcome, and for 401s by
    reason) and the JWKS client's fetches, failures and stale serves. A plain success writes no EMF record: API
    Gateway (Count, 4XXError, 5XXError, Latency) and Lambda (Invocations, Errors, Duration) already count requests."""
    fetches, errors, stale = _state.jwks_deltas()
    if outcome == "ok" and not (fetches or errors or stale):
        return
    if outcome != "ok":
        metrics.add_metric(name=METRIC_OUTCOME_PREFIX + outcome, unit=MetricUnit.Count, value=1)
        if outcome == "unauthorized" and category:
            metrics.add_metric(name=METRIC_AUTH_FAILURE_PREFIX + _slug(category), unit=MetricUnit.Count, value=1)
    if fetches:
        metrics.add_metric(name=METRIC_JWKS_FETCHES, unit=MetricUnit.Count, value=fetches)
    if errors:
        metrics.add_metric(name=METRIC_JWKS_ERRORS, unit=MetricUnit.Count, value=errors)
        logger.warning("JWKS fetch failed", extra={"reason": _state.jwks.last_error if _state.jwks else None,
                                                   "serving_cached_keys": outcome != "unavailable"})
    if stale:
        metrics.add_metric(name=METRIC_JWKS_STALE, unit=MetricUnit.Count, value=stale)
    metrics.flush_metrics()
