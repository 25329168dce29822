"""Stage 1, **Discovery**: the discovery document as Plaid's Validator reads it (docs/check.md)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import plaid_contract as plaid
from readiness.check.http import NetworkError
from readiness.check.model import SCOPES_TEXT, Outcome, Stage, failed, passed, skipped, warned
from readiness.check.options import OIDC_DISCOVERY_SUFFIX
from readiness.check.registry import StageChecks
from readiness.check.run import Run
from readiness.check.tokens import count, shown

STAGE = StageChecks(Stage.DISCOVERY)
NO_DOCUMENT = "no discovery document (see DISCOVERY-FETCH)"


def _document(run: Run) -> Outcome | None:
    return skipped(NO_DOCUMENT) if run.discovery is None else None


def _doc(run: Run) -> dict[str, Any]:
    assert run.discovery is not None
    return run.discovery


@STAGE.check("DISCOVERY-FETCH", "the discovery document answers 200 with a JSON object")
def fetch(run: Run) -> Outcome:
    url = run.opts.discovery_url
    run.oidc = urllib.parse.urlsplit(url).path.endswith(OIDC_DISCOVERY_SUFFIX)
    try:
        resp = run.get(url)
    except NetworkError as exc:
        return failed(f"{exc} (Plaid's Validator reports this as 'Error getting OIDC configuration': check DNS, "
                      "TLS and that no firewall blocks Plaid)")
    doc = resp.json_object()
    if resp.status != 200 or doc is None:
        seen = f"HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}"
        why = resp.not_an_object() if resp.status == 200 else "expected 200"
        return failed(f"{seen}: {why}")
    run.discovery = doc
    seen = f"HTTP 200, {shown(resp.media_type or 'no Content-Type', 60)}, {len(doc)} fields"
    if resp.media_type != "application/json":
        return failed(f"{seen}: the Content-Type must be application/json")
    return passed(seen)


@STAGE.check("DISCOVERY-HTTPS", "every endpoint in the discovery document is https://", needs=[_document])
def https(run: Run) -> Outcome:
    doc = _doc(run)
    urls: dict[str, Any] = {k: v for k, v in doc.items() if k == "issuer" or k.endswith(("_endpoint", "_uri"))}
    aliases = doc.get("mtls_endpoint_aliases")
    if isinstance(aliases, dict):
        urls.update({f"mtls_endpoint_aliases.{k}": v for k, v in aliases.items()})
    bad = sorted(k for k, v in urls.items() if not (isinstance(v, str) and v.startswith("https://")))
    if bad:
        return failed("not https://: " + ", ".join(f"{shown(k, 60)} = {shown(urls[k])}" for k in bad[:10]))
    return passed(f"{len(urls)} URLs, all https://")


@STAGE.check("DISCOVERY-FIELDS",
             "issuer, authorize and token endpoints, response_types_supported with code; OIDC: userinfo, JWKS",
             needs=[_document])
def fields(run: Run) -> Outcome:
    doc, url = _doc(run), run.opts.discovery_url
    required = ["issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"]
    if run.oidc:
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
    kind = "OIDC" if run.oidc else "OAuth 2.0"
    expected = issuer.rstrip("/") + (OIDC_DISCOVERY_SUFFIX if run.oidc else "")
    if run.oidc and url.rstrip("/") != expected:
        return warned(f"{kind} fields present; issuer {shown(issuer)} is not where the document was fetched "
                      "(OIDC Discovery expects <issuer>" + OIDC_DISCOVERY_SUFFIX + ")")
    return passed(f"{kind}: {', '.join(required)} present; response_types_supported includes code")


@STAGE.check("DISCOVERY-SCOPES", f"scopes_supported lists {SCOPES_TEXT}", needs=[_document])
def scopes(run: Run) -> Outcome:
    listed = _doc(run).get("scopes_supported")
    if not isinstance(listed, list):
        return failed(f"scopes_supported is absent; Plaid needs it to list {SCOPES_TEXT}")
    missing = [s for s in plaid.REQUIRED_SCOPES if s not in listed]
    if missing:
        return failed(f"scopes_supported lacks {', '.join(missing)} (lists {count(len(listed), 'scope')})")
    return passed(f"scopes_supported includes {SCOPES_TEXT}")


@STAGE.check("DISCOVERY-AUTH-METHOD",
             f"token_endpoint_auth_methods_supported includes {plaid.TOKEN_ENDPOINT_AUTH_METHOD} or is absent",
             needs=[_document])
def auth_method(run: Run) -> Outcome:
    methods = _doc(run).get("token_endpoint_auth_methods_supported")
    basic = plaid.TOKEN_ENDPOINT_AUTH_METHOD
    if methods is None:
        return passed(f"absent: Plaid uses {basic} by default")
    if isinstance(methods, list) and basic in methods:
        return passed(f"includes {basic}")
    listed = ", ".join(shown(m, 40) for m in methods[:10]) if isinstance(methods, list) else "not a list"
    return failed(f"lists {listed}; Plaid authenticates with {basic}")
