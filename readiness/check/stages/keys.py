"""Stage 2, **Keys**: the JWKS the API and Plaid verify tokens with (docs/check.md)."""

from __future__ import annotations

from lambdas.customers_current.verifier import MIN_RSA_BITS
from readiness.check.http import NetworkError
from readiness.check.model import Outcome, Stage, failed, passed, skipped, warned
from readiness.check.registry import StageChecks
from readiness.check.run import Run
from readiness.check.stages.discovery import NO_DOCUMENT
from readiness.check.tokens import count, rsa_bits, shown, shown_kid, signing_keys


def _gate(run: Run) -> Outcome | None:
    if run.discovery is None:
        return skipped(NO_DOCUMENT)
    uri = run.discovery.get("jwks_uri")
    if not isinstance(uri, str) or not uri:
        return skipped("the discovery document has no jwks_uri")
    return None


STAGE = StageChecks(Stage.KEYS, gate=_gate)


@STAGE.check("JWKS-KEYS",
             f"the JWKS answers with a signing key; every signing key has a kid; RSA >= {MIN_RSA_BITS} bits")
def jwks_keys(run: Run) -> Outcome:
    assert run.discovery is not None
    uri = run.discovery["jwks_uri"]
    if not uri.startswith("https://"):
        return failed("jwks_uri is not https:// (not fetched; see DISCOVERY-HTTPS)")
    try:
        resp = run.get(uri)
    except NetworkError as exc:
        return failed(f"jwks_uri: {exc}")
    doc = resp.json_object()
    if resp.status != 200 or doc is None or not isinstance(doc.get("keys"), list):
        why = resp.not_an_object() if resp.status == 200 and doc is None else 'expected 200 with {"keys": [...]}'
        return failed(f"jwks_uri: HTTP {resp.status}, {shown(resp.media_type or 'no Content-Type', 60)}: {why}")
    run.jwks = doc
    keys = [k for k in doc["keys"] if isinstance(k, dict)]
    signing = signing_keys(doc)
    problems: list[str] = []
    if any("d" in k or k.get("kty") == "oct" for k in keys):
        problems.append("the JWKS publishes private or symmetric key material")
    if not signing:
        problems.append("no signing key (use sig)")
    no_kid = [k for k in signing if not k.get("kid")]
    if no_kid:
        problems.append(f"{len(no_kid)} of {len(signing)} signing keys have no kid")
    odd_kid = [k for k in signing if k.get("kid") and not isinstance(k.get("kid"), str)]
    if odd_kid:
        problems.append(f"{len(odd_kid)} of {len(signing)} signing keys have a kid that is not a string")
    weak = [k for k in signing if k.get("kty") == "RSA" and rsa_bits(k) < MIN_RSA_BITS]
    if weak:
        problems.append(f"{len(weak)} RSA keys under {MIN_RSA_BITS} bits")
    described = "; ".join(
        f"{shown(k.get('kty'), 10)}{' ' + str(rsa_bits(k)) + ' bits' if k.get('kty') == 'RSA' else ''} "
        f"kid {shown_kid(k.get('kid'))}" for k in signing[:5])
    seen = f"{count(len(keys), 'key')}, {len(signing)} for signing" + (f": {described}" if described else "")
    if problems:
        return failed(f"{seen}; " + "; ".join(problems))
    kids = [k["kid"] for k in signing]
    if len(set(kids)) != len(kids):
        return warned(f"{seen}; two signing keys share a kid")
    return passed(seen)
