"""Stage 2, **Keys**: the JWKS the API and Plaid verify tokens with (docs/check.md). The judging is
lambdas/oidc_checks/keys.py's, shared with the readiness probe Lambda; this module fetches and reports."""

from __future__ import annotations

from lambdas.oidc_checks import keys as checks
from readiness.check.http import NetworkError
from readiness.check.model import Outcome, Stage, outcome, skipped
from readiness.check.registry import StageChecks
from readiness.check.run import Run
from readiness.check.stages.discovery import NO_DOCUMENT


def _gate(run: Run) -> Outcome | None:
    if run.discovery is None:
        return skipped(NO_DOCUMENT)
    uri = run.discovery.get("jwks_uri")
    if not isinstance(uri, str) or not uri:
        return skipped("the discovery document has no jwks_uri")
    return None


STAGE = StageChecks(Stage.KEYS, gate=_gate)


@STAGE.check("JWKS-KEYS", checks.REQUIREMENT)
def jwks_keys(run: Run) -> Outcome:
    assert run.discovery is not None
    uri = run.discovery["jwks_uri"]
    if not uri.startswith("https://"):
        return outcome(checks.not_https())
    try:
        resp = run.get(uri)
    except NetworkError as exc:
        return outcome(checks.unreachable(str(exc)))
    doc = resp.json_object()
    found = checks.answer(resp.status, resp.media_type, doc, resp.not_an_object() if doc is None else "")
    if resp.status == 200 and doc is not None and isinstance(doc.get("keys"), list):
        run.jwks = doc
    return outcome(found)
