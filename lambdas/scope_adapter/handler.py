"""The scope adapter: Cognito's discovery and authorize endpoints, as Plaid needs them.

Cognito answers ``invalid_scope`` to ``offline_access``, which Plaid always requests, and its discovery
document does not list it. This Lambda, behind API Gateway (REST proxy events, payload 1.0), serves:

- ``GET /.well-known/openid-configuration``: Cognito's metadata (fetched from the issuer's discovery URL
  with a total deadline, cached for the life of the execution environment) with ``authorization_endpoint``
  pointing here and ``scopes_supported`` including ``openid`` and ``offline_access``; everything else
  (issuer, token, userinfo, JWKS, revocation, methods) stays Cognito's: Plaid talks to Cognito directly
  for tokens;
- ``GET /oauth2/authorize``: a 302 to Cognito's hosted authorize endpoint with ``offline_access`` removed
  from ``scope`` and every other parameter passed through unchanged. The target is always the configured
  hosted domain: no parameter can change where the browser goes.

Anything else is a plain JSON 404 (unknown path) or 405 (another method). A missing or invalid
configuration is a 500 that names no value and carries no traceback.

The query string: where the event carries the raw query string (``rawQueryString``: HTTP API payload 2.0,
the loopback server), the adapter edits only the ``scope`` values in it, so order and percent-encoding
of everything else are preserved byte for byte. API Gateway REST proxy events carry no raw query string:
API Gateway hands the parameters over already decoded (``multiValueQueryStringParameters``), so the adapter
re-encodes them (RFC 3986) in the order API Gateway lists them; the values Cognito decodes are the same. In a
decoded ``scope`` a space, ``+``, ``%20`` or ``%2B`` separates scopes (API Gateway's handling of ``+`` is not
documented); when ``offline_access`` is removed the remaining scopes are joined with spaces.

``offline_access`` is removed as a whole token, case-sensitively (RFC 6749 3.3): ``offline_access_extra`` and
``OFFLINE_ACCESS`` pass. Any failure to fetch or read Cognito's discovery document (an error status, a body
that is not JSON or nested too deeply, a timeout) is a 503 and starts the failure cooldown.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, unquote, unquote_plus

from aws_lambda_powertools import Logger

import plaid_contract as plaid
from lambdas import http
from lambdas.scope_adapter import config as config_mod
from lambdas.scope_adapter import names

#: The whole discovery fetch (connect, TLS, request, headers, body) ends within this many seconds.
FETCH_DEADLINE_SECONDS: Final = 2.5
USER_AGENT: Final = "plaid-ready-idp scope-adapter"
MAX_DISCOVERY_BYTES: Final = 64 * 1024
#: After a failed fetch, answer 503 at once for this long instead of waiting on Cognito again.
FAILURE_COOLDOWN_SECONDS: Final = 5.0
DISCOVERY_MAX_AGE_SECONDS: Final = 300
RETRY_AFTER_SECONDS: Final = 5
_SCOPE_SEPARATOR: Final = re.compile(r"(\+|%20)", re.IGNORECASE)
#: Separators a decoded REST ``scope`` value may still carry: API Gateway's handling of ``+`` in REST query
#: strings is not documented (public reports differ), so a space, a literal ``+`` and a still-encoded
#: ``%20`` or ``%2B`` all separate scopes.
_DECODED_SCOPE_SEPARATOR: Final = re.compile(r" |\+|%20|%2B", re.IGNORECASE)

logger = Logger(service=names.SERVICE)


class UpstreamError(Exception):
    """Cognito's discovery document could not be fetched or is not what the configuration expects."""


class _State:
    """Module-scope state: configuration and the discovery document, built once per cold start."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.error: str | None = None
        self.config: config_mod.Config | None = None
        self.discovery_body: str | None = None
        self.failed_at: float | None = None
        self.lock = threading.Lock()
        try:
            self.config = config_mod.load(environ)
        except config_mod.ConfigError as exc:
            self.error = str(exc)
            logger.error("invalid configuration: every request will get a 500 until it is fixed",
                         extra={"config_error": self.error})


_state = _State(os.environ)


def configure(environ: Mapping[str, str]) -> None:
    """Rebuild the module state from ``environ`` (what a cold start does; used by tests and local servers)."""
    global _state
    _state = _State(environ)


# -- responses ---------------------------------------------------------------------------------------


def _json(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None,
          cache: str = "no-store") -> dict[str, Any]:
    return {"statusCode": status,
            "headers": {"Content-Type": "application/json", "Cache-Control": cache, **(headers or {})},
            "body": json.dumps(body, separators=(",", ":")), "isBase64Encoded": False}


def _error(status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return _json(status, {"error": error, "error_description": description}, headers)


# -- discovery ---------------------------------------------------------------------------------------


def fetch_json(url: str, deadline_seconds: float = FETCH_DEADLINE_SECONDS,
               max_bytes: int = MAX_DISCOVERY_BYTES) -> Any:  # noqa: ANN401 - any JSON
    """GET ``url`` and parse JSON, all of it (connect, TLS, request, headers, body) within ``deadline_seconds``
    and at most ``max_bytes`` (lambdas/http.py: no redirect, verified TLS). Raises UpstreamError."""
    try:
        body = http.get(url, deadline_seconds=deadline_seconds, max_bytes=max_bytes, user_agent=USER_AGENT)
    except http.FetchError as exc:
        raise UpstreamError(str(exc)) from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deeply
        raise UpstreamError(f"not JSON ({type(exc).__name__})") from None


def adapted_metadata(upstream: Any, cfg: config_mod.Config) -> dict[str, Any]:
    """Cognito's metadata with the adapter's authorize endpoint and Plaid's scopes; the rest unchanged."""
    if not isinstance(upstream, dict):
        raise UpstreamError("not a JSON object")
    if upstream.get("issuer") != cfg.upstream_issuer:
        raise UpstreamError("issuer differs from UPSTREAM_ISSUER")
    doc = dict(upstream)
    doc["authorization_endpoint"] = cfg.public_authorize_url
    scopes = upstream.get("scopes_supported")
    scopes = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
    doc["scopes_supported"] = scopes + [s for s in plaid.REQUIRED_SCOPES if s not in scopes]
    return doc


def _discovery(state: _State, cfg: config_mod.Config) -> dict[str, Any]:
    with state.lock:  # one fetch at a time per environment; Lambda runs one request at a time anyway
        if state.discovery_body is None:
            if state.failed_at is not None and time.monotonic() - state.failed_at < FAILURE_COOLDOWN_SECONDS:
                raise UpstreamError("cooling down after a failed fetch")
            try:
                upstream = fetch_json(cfg.upstream_discovery_url, FETCH_DEADLINE_SECONDS, MAX_DISCOVERY_BYTES)
                state.discovery_body = json.dumps(adapted_metadata(upstream, cfg), separators=(",", ":"))
            except Exception as exc:  # every failed fetch starts the cooldown, whatever went wrong
                state.failed_at = time.monotonic()
                if isinstance(exc, UpstreamError):
                    raise
                raise UpstreamError(f"unreadable document ({type(exc).__name__})") from None
            state.failed_at = None
        body = state.discovery_body
    return {"statusCode": 200, "isBase64Encoded": False, "body": body,
            "headers": {"Content-Type": "application/json",
                        "Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE_SECONDS}"}}


# -- authorize -----------------------------------------------------------------------------------------


def _strip_raw_scope(raw: str) -> str:
    """Remove offline_access tokens from one raw (still percent-encoded) scope value; keep the rest as is."""
    parts = _SCOPE_SEPARATOR.split(raw)
    tokens, separators = parts[0::2], parts[1::2]
    kept = [t for t in tokens if unquote(t) != names.STRIPPED_SCOPE]
    if len(kept) == len(tokens):
        return raw
    return (separators[0] if separators else "%20").join(kept)


def rewrite_raw_query(raw: str) -> str:
    """The raw query string with offline_access removed from every ``scope``; every other byte unchanged."""
    out = []
    for piece in raw.split("&"):
        name, eq, value = piece.partition("=")
        if eq and unquote_plus(name) == "scope":
            piece = f"{name}={_strip_raw_scope(value)}"
        out.append(piece)
    return "&".join(out)


def _strip_decoded_scope(value: str) -> str:
    """Remove offline_access tokens from one decoded scope value (separated by a space, ``+``, ``%20`` or
    ``%2B``); the rest is joined with spaces. Unchanged when there is nothing to remove."""
    tokens = _DECODED_SCOPE_SEPARATOR.split(value)
    kept = [t for t in tokens if t != names.STRIPPED_SCOPE]
    if len(kept) == len(tokens):
        return value
    return " ".join(t for t in kept if t)


def rebuild_query(params: Mapping[str, Any]) -> str:
    """A query string from API Gateway's decoded multi-value parameters, RFC 3986 encoded, offline_access
    removed from ``scope``."""
    out = []
    for name, values in params.items():
        if not isinstance(name, str):
            continue
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str):
                continue
            if name == "scope":
                value = _strip_decoded_scope(value)
            out.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return "&".join(out)


def _query_ok(raw: str) -> bool:
    """Only printable ASCII (no space, no control characters, no '#'): nothing that could split a header or
    end the URL early."""
    return all(0x21 <= ord(c) <= 0x7E and c != "#" for c in raw)


def _authorize(event: Mapping[str, Any], cfg: config_mod.Config) -> tuple[dict[str, Any], str]:
    raw = event.get("rawQueryString")
    if isinstance(raw, str):
        if not _query_ok(raw):
            return _error(400, "invalid_request", "the query string has characters a URL cannot carry"), "bad_query"
        query = rewrite_raw_query(raw)
    else:
        params = event.get("multiValueQueryStringParameters")
        if not isinstance(params, Mapping):
            single = event.get("queryStringParameters")
            params = single if isinstance(single, Mapping) else {}
        query = rebuild_query(params)
    location = cfg.upstream_authorize_url + (f"?{query}" if query else "")
    return {"statusCode": 302, "isBase64Encoded": False, "body": "",
            "headers": {"Location": location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
            }, "redirect"


# -- routing -----------------------------------------------------------------------------------------


def _handle(event: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    path = event.get("path")
    path = path.rstrip("/") if isinstance(path, str) else ""
    if path not in (names.DISCOVERY_PATH, names.AUTHORIZE_PATH):
        return _error(404, "not_found", "no such resource"), "not_found"
    if event.get("httpMethod") != "GET":
        return _error(405, "method_not_allowed", "use GET", {"Allow": "GET"}), "method_not_allowed"
    state = _state
    if state.error is not None or state.config is None:
        return _error(500, "server_error", "service misconfigured"), "misconfigured"
    if path == names.AUTHORIZE_PATH:
        return _authorize(event, state.config)
    try:
        return _discovery(state, state.config), "discovery"
    except UpstreamError as exc:
        logger.warning("Cognito discovery unavailable", extra={"reason": str(exc)})
        return _error(503, "temporarily_unavailable", "identity provider metadata unavailable",
                      {"Retry-After": str(RETRY_AFTER_SECONDS)}), "upstream_unavailable"


def handler(event: Any, context: Any) -> dict[str, Any]:
    event = event if isinstance(event, Mapping) else {}
    try:
        response, outcome = _handle(event)
    except Exception:  # noqa: BLE001 - never a traceback in the response; the log has it
        logger.exception("unhandled error")
        response, outcome = _error(500, "server_error", "internal error"), "error"
    request_context = event.get("requestContext")
    logger.info("scope-adapter", extra={
        "outcome": outcome, "status": response["statusCode"],
        "path": event.get("path") if isinstance(event.get("path"), str) else None,
        "apigw_request_id": request_context.get("requestId") if isinstance(request_context, Mapping) else None,
    })
    return response
