"""Stage 1, **Discovery**: the discovery document as Plaid's Validator reads it (docs/check.md). The judging is
lambdas/oidc_checks/discovery.py's, shared with the readiness probe Lambda; this module fetches and reports."""

from __future__ import annotations

from typing import Any

import plaid_contract as plaid
from lambdas.oidc_checks import discovery as checks
from readiness.check.http import NetworkError
from readiness.check.model import SCOPES_TEXT, Outcome, Stage, outcome, skipped
from readiness.check.registry import StageChecks
from readiness.check.run import Run

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
    run.oidc = checks.is_oidc(url)
    try:
        resp = run.get(url)
    except NetworkError as exc:
        return outcome(checks.unreachable(str(exc)))
    doc = resp.json_object()
    found = checks.answer(resp.status, resp.media_type, doc, resp.not_an_object() if doc is None else "")
    if resp.status == 200 and doc is not None:
        run.discovery = doc
    return outcome(found)


@STAGE.check("DISCOVERY-HTTPS", "every endpoint in the discovery document is https://", needs=[_document])
def https(run: Run) -> Outcome:
    return outcome(checks.https(_doc(run)))


@STAGE.check("DISCOVERY-FIELDS",
             "issuer, authorize and token endpoints, response_types_supported with code; OIDC: userinfo, JWKS",
             needs=[_document])
def fields(run: Run) -> Outcome:
    return outcome(checks.fields(_doc(run), run.opts.discovery_url))


@STAGE.check("DISCOVERY-SCOPES", f"scopes_supported lists {SCOPES_TEXT}", needs=[_document])
def scopes(run: Run) -> Outcome:
    return outcome(checks.scopes(_doc(run)))


@STAGE.check("DISCOVERY-AUTH-METHOD",
             f"token_endpoint_auth_methods_supported includes {plaid.TOKEN_ENDPOINT_AUTH_METHOD} or is absent",
             needs=[_document])
def auth_method(run: Run) -> Outcome:
    return outcome(checks.auth_method(_doc(run)))
