"""The probe's checks, in order: discovery and JWKS (lambdas/oidc_checks/, the judging of ``plaid-ready check``),
the signing-key set against the previous run's (kept by a :class:`StateStore`), the customers API from outside
Plaid's ranges, and the TLS certificates of the custom domains. Each check is one :class:`Result`; nothing here
raises on what a server sends, and a check that cannot run for an earlier failure is a skip."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from lambdas import http
from lambdas.oidc_checks import discovery, keys, rotation
from lambdas.oidc_checks.model import Finding, Status, failed, passed, shown, skipped, warned
from lambdas.readiness_probe import names
from lambdas.readiness_probe.config import Config, Domain

#: Each request and each TLS handshake ends within this many seconds (five at most per run: under 30 s).
DEADLINE_SECONDS: Final = 5.0
MAX_BODY_BYTES: Final = 256 * 1024
USER_AGENT: Final = "plaid-ready-idp readiness-probe"
NO_DOCUMENT: Final = "no discovery document (see DISCOVERY-FETCH)"


class StateStore(Protocol):
    """Where the probe keeps the signing-key ids it saw (the handler's: an SSM parameter). Both raise
    :class:`StateError` with a short reason safe to log."""

    def read(self) -> str | None: ...

    def write(self, text: str) -> None: ...


class StateError(Exception):
    pass


@dataclass(frozen=True)
class Result:
    check_id: str
    finding: Finding

    @property
    def failed(self) -> bool:
        return self.finding.status is Status.FAIL


@dataclass(frozen=True)
class _Json:
    answer: http.Answer
    doc: dict[str, Any] | None
    why_not: str


def _get_json(url: str, tls: ssl.SSLContext | None) -> _Json:
    answer = http.fetch(url, deadline_seconds=DEADLINE_SECONDS, max_bytes=MAX_BODY_BYTES, tls=tls,
                        user_agent=USER_AGENT)
    try:
        value = json.loads(answer.body.decode("utf-8"))
    except UnicodeDecodeError:
        return _Json(answer, None, "the body is not UTF-8 text")
    except RecursionError:
        return _Json(answer, None, "the body's JSON is nested too deeply to read")
    except ValueError:
        return _Json(answer, None, "the body is not JSON")
    if not isinstance(value, dict):
        return _Json(answer, None, "the body is JSON but not an object")
    return _Json(answer, value, "")


def _discovery(cfg: Config, tls: ssl.SSLContext | None) -> tuple[list[Result], dict[str, Any] | None]:
    try:
        got = _get_json(cfg.discovery_url, tls)
    except http.FetchError as exc:
        fetch = discovery.unreachable(str(exc))
        doc = None
    else:
        fetch = discovery.answer(got.answer.status, got.answer.media_type, got.doc, got.why_not)
        doc = got.doc if got.answer.status == 200 else None
    results = [Result("DISCOVERY-FETCH", fetch)]
    judges: list[tuple[str, Callable[[dict[str, Any]], Finding]]] = [
        ("DISCOVERY-HTTPS", discovery.https), ("DISCOVERY-FIELDS", lambda d: discovery.fields(d, cfg.discovery_url)),
        ("DISCOVERY-SCOPES", discovery.scopes), ("DISCOVERY-AUTH-METHOD", discovery.auth_method)]
    for check_id, judge in judges:
        results.append(Result(check_id, skipped(NO_DOCUMENT) if doc is None else judge(doc)))
    return results, doc


def _jwks(doc: dict[str, Any] | None, tls: ssl.SSLContext | None) -> tuple[Result, list[str] | None]:
    """JWKS-KEYS, and the signing kids when the JWKS was read (None otherwise)."""
    if doc is None:
        return Result(names.JWKS_KEYS, skipped(NO_DOCUMENT)), None
    uri = doc.get("jwks_uri")
    if not isinstance(uri, str) or not uri:
        return Result(names.JWKS_KEYS, skipped("the discovery document has no jwks_uri")), None
    if not uri.startswith("https://"):
        return Result(names.JWKS_KEYS, keys.not_https()), None
    try:
        got = _get_json(uri, tls)
    except http.FetchError as exc:
        return Result(names.JWKS_KEYS, keys.unreachable(str(exc))), None
    finding = keys.answer(got.answer.status, got.answer.media_type, got.doc, got.why_not)
    read = got.answer.status == 200 and got.doc is not None and isinstance(got.doc.get("keys"), list)
    return Result(names.JWKS_KEYS, finding), (keys.signing_kids(got.doc) if read and got.doc is not None else None)


def _rotation(kids: list[str] | None, store: StateStore, now: int) -> Result:
    if kids is None:
        return Result(names.JWKS_ROTATION, skipped("no JWKS read (see JWKS-KEYS); the stored key ids are kept"))
    try:
        previous = rotation.loads(store.read())
    except StateError as exc:
        return Result(names.JWKS_ROTATION, failed(f"the stored key ids could not be read ({exc})"))
    finding, kept = rotation.compare(previous, kids, now)
    try:
        store.write(rotation.dumps(kept))
    except StateError as exc:
        return Result(names.JWKS_ROTATION, failed(f"{finding.detail}; the key ids could not be stored ({exc})"))
    return Result(names.JWKS_ROTATION, finding)


#: How lambdas/http.py describes a TLS handshake the server ended (no client certificate offered, under mTLS).
_HANDSHAKE_REFUSED: Final = ("connection failed (SSLError)", "connection failed (ConnectionResetError)",
                             "connection failed (SSLEOFError)", "connection failed (SSLZeroReturnError)")


def _api(url: str, tls: ssl.SSLContext | None, mtls: bool) -> Result:
    """The customers API from this function's address, which is not Plaid's: the WAF must refuse it (403). Under
    mutual TLS the probe has no client certificate: a refused handshake proves as much (nothing got in)."""
    try:
        answer = http.fetch(url, deadline_seconds=DEADLINE_SECONDS, max_bytes=MAX_BODY_BYTES, tls=tls,
                            user_agent=USER_AGENT)
    except http.FetchError as exc:
        if mtls and str(exc) in _HANDSHAKE_REFUSED:
            return Result(names.API_ALLOWLIST, passed(
                f"the TLS handshake was refused without a client certificate ({exc}): mutual TLS keeps a non-Plaid "
                "address out (the WAF allowlist behind it is not observable from here)"))
        return Result(names.API_ALLOWLIST, failed(f"no answer ({exc}): Plaid may not reach the API either"))
    if answer.status == 403:
        return Result(names.API_ALLOWLIST, passed("HTTP 403 to a request from outside Plaid's ranges: the WAF "
                                                  "allowlist is active"))
    if answer.status in (200, 401):
        return Result(names.API_ALLOWLIST, failed(
            f"HTTP {answer.status} to a request from outside Plaid's ranges: the API answered it, so the WAF "
            "allowlist is not active (web ACL association, default action; docs/probe.md)"))
    return Result(names.API_ALLOWLIST, failed(f"HTTP {answer.status}; expected 403 from the WAF allowlist"))


def _tls(check_id: str, domain: Domain, tls: ssl.SSLContext | None, now: float) -> Result:
    try:
        cert = http.peer_certificate(domain.host, domain.port, deadline_seconds=DEADLINE_SECONDS, tls=tls)
        not_after = ssl.cert_time_to_seconds(cert["notAfter"])
    except http.FetchError as exc:
        return Result(check_id, failed(f"{domain}: {exc}"))
    except (KeyError, ValueError, TypeError):
        return Result(check_id, failed(f"{domain}: the certificate has no readable expiry date"))
    days = (not_after - now) / 86_400
    seen = f"{domain}: the certificate expires {shown(cert['notAfter'], 40)} (in {days:.0f} days)"
    if days < names.TLS_FAIL_DAYS:
        return Result(check_id, failed(f"{seen}; renew it now (fail under {names.TLS_FAIL_DAYS} days)"))
    if days < names.TLS_WARN_DAYS:
        return Result(check_id, warned(f"{seen}; renew it soon (warn under {names.TLS_WARN_DAYS} days)"))
    return Result(check_id, passed(seen))


def run(cfg: Config, *, store: StateStore, now: float, tls: ssl.SSLContext | None = None) -> list[Result]:
    """Every configured check once, in names.CHECKS order. ``tls`` (default: the system's trust store) verifies
    every TLS connection; ``now`` is Unix time."""
    results, doc = _discovery(cfg, tls)
    jwks, kids = _jwks(doc, tls)
    results += [jwks, _rotation(kids, store, int(now))]
    if cfg.customers_url is not None:
        results.append(_api(cfg.customers_url, tls, cfg.api_mtls))
    if cfg.idp_domain is not None:
        results.append(_tls(names.TLS_IDP_DOMAIN, cfg.idp_domain, tls, now))
    if cfg.api_domain is not None:
        results.append(_tls(names.TLS_API_DOMAIN, cfg.api_domain, tls, now))
    return results
