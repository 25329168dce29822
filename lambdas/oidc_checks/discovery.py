"""DISCOVERY-*: the discovery document as Plaid's Validator reads it (docs/check.md). Each function judges a
document already fetched; the caller fetches (the command line's client or the Lambdas' lambdas/http.py)."""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

import plaid_contract as plaid
from lambdas.oidc_checks.model import Finding, count, failed, passed, shown, warned

OIDC_DISCOVERY_SUFFIX: Final = "/.well-known/openid-configuration"
SCOPES_TEXT: Final = " and ".join(plaid.REQUIRED_SCOPES)


def is_oidc(url: str) -> bool:
    """Whether the document at ``url`` is OIDC's (its path ends in the OIDC suffix) rather than OAuth 2.0's."""
    return urllib.parse.urlsplit(url).path.endswith(OIDC_DISCOVERY_SUFFIX)


def unreachable(reason: str) -> Finding:
    """DISCOVERY-FETCH when no complete answer came (``reason`` is the HTTP client's, safe to show)."""
    return failed(f"{reason} (Plaid's Validator reports this as 'Error getting OIDC configuration': check DNS, "
                  "TLS and that no firewall blocks Plaid)")


def answer(status: int, media_type: str, doc: dict[str, Any] | None, why_not_object: str) -> Finding:
    """DISCOVERY-FETCH from the answer: 200, a JSON object, Content-Type application/json. ``doc`` is the body as
    a JSON object (None when it is not one, ``why_not_object`` saying why)."""
    if status != 200 or doc is None:
        seen = f"HTTP {status}, {shown(media_type or 'no Content-Type', 60)}"
        why = why_not_object if status == 200 else "expected 200"
        return failed(f"{seen}: {why}")
    seen = f"HTTP 200, {shown(media_type or 'no Content-Type', 60)}, {len(doc)} fields"
    if media_type != "application/json":
        return failed(f"{seen}: the Content-Type must be application/json")
    return passed(seen)


def https(doc: dict[str, Any]) -> Finding:
    """DISCOVERY-HTTPS: every endpoint in the document is https://."""
    urls: dict[str, Any] = {k: v for k, v in doc.items() if k == "issuer" or k.endswith(("_endpoint", "_uri"))}
    aliases = doc.get("mtls_endpoint_aliases")
    if isinstance(aliases, dict):
        urls.update({f"mtls_endpoint_aliases.{k}": v for k, v in aliases.items()})
    bad = sorted(k for k, v in urls.items() if not (isinstance(v, str) and v.startswith("https://")))
    if bad:
        return failed("not https://: " + ", ".join(f"{shown(k, 60)} = {shown(urls[k])}" for k in bad[:10]))
    return passed(f"{len(urls)} URLs, all https://")


def fields(doc: dict[str, Any], url: str) -> Finding:
    """DISCOVERY-FIELDS: issuer, authorize and token endpoints, response_types_supported with code; OIDC:
    userinfo and JWKS too, and the issuer where the document was fetched (``url``)."""
    oidc = is_oidc(url)
    required = ["issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"]
    if oidc:
        required += ["userinfo_endpoint", "jwks_uri"]
    missing = [k for k in required if not doc.get(k)]
    problems = [f"missing {k}" for k in missing]
    types = doc.get("response_types_supported")
    if "response_types_supported" not in missing and (not isinstance(types, list) or "code" not in types):
        problems.append("response_types_supported does not include code")
    issuer = doc.get("issuer")
    if "issuer" not in missing and not isinstance(issuer, str):
        problems.append("issuer is not a string")
    if problems:
        return failed("; ".join(problems))
    assert isinstance(issuer, str)
    kind = "OIDC" if oidc else "OAuth 2.0"
    expected = issuer.rstrip("/") + (OIDC_DISCOVERY_SUFFIX if oidc else "")
    if oidc and url.rstrip("/") != expected:
        return warned(f"{kind} fields present; issuer {shown(issuer)} is not where the document was fetched "
                      "(OIDC Discovery expects <issuer>" + OIDC_DISCOVERY_SUFFIX + ")")
    return passed(f"{kind}: {', '.join(required)} present; response_types_supported includes code")


def scopes(doc: dict[str, Any]) -> Finding:
    """DISCOVERY-SCOPES: scopes_supported lists openid and offline_access."""
    listed = doc.get("scopes_supported")
    if not isinstance(listed, list):
        return failed(f"scopes_supported is absent; Plaid needs it to list {SCOPES_TEXT}")
    missing = [s for s in plaid.REQUIRED_SCOPES if s not in listed]
    if missing:
        return failed(f"scopes_supported lacks {', '.join(missing)} (lists {count(len(listed), 'scope')})")
    return passed(f"scopes_supported includes {SCOPES_TEXT}")


def auth_method(doc: dict[str, Any]) -> Finding:
    """DISCOVERY-AUTH-METHOD: token_endpoint_auth_methods_supported includes client_secret_basic or is absent."""
    methods = doc.get("token_endpoint_auth_methods_supported")
    basic = plaid.TOKEN_ENDPOINT_AUTH_METHOD
    if methods is None:
        return passed(f"absent: Plaid uses {basic} by default")
    if isinstance(methods, list) and basic in methods:
        return passed(f"includes {basic}")
    listed = ", ".join(shown(m, 40) for m in methods[:10]) if isinstance(methods, list) else "not a list"
    return failed(f"lists {listed}; Plaid authenticates with {basic}")
