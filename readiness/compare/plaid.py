"""What a change between two plans does to Plaid: one line per effect, saying what breaks and what to do.

``breaking`` effects break something Plaid holds or does today (its registration, its users' links, its
calls); the comparison exits 4 on any of them so CI can ask for an explicit acknowledgement.
``notice`` effects change what Plaid sees without breaking it (a longer token lifetime, a new range on
the allowlist); they are shown, and the readiness section says whether a rule now fails.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import plaid_contract as plaid
from components import idps
from lambdas.customers_current import env
from readiness.compare.model import ABSENT, Marker, Plan, ResourceChange

BREAKING: Final = "breaking"
NOTICE: Final = "notice"

LAMBDA = "aws:lambda/function:Function"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
IP_SET = "aws:wafv2/ipSet:IpSet"
DOMAIN = "aws:apigateway/domainName:DomainName"
REST_API = "aws:apigateway/restApi:RestApi"
API_RESOURCE = "aws:apigateway/resource:Resource"
STAGE = "aws:apigateway/stage:Stage"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
DYNAMIC = "pulumi-python:dynamic:Resource"
#: Secrets Manager's label of a two-phase rotation's new secret, and the runbook.
PENDING_STAGE = "AWSPENDING"
ROTATION_DOC = "docs/rotation.md#client-secret"
#: One version of Plaid's client secret at an IdP that holds two (``<code>-plaid-secret-v<N>-<idp>``).
_IDP_SECRET: Final = re.compile(r"-plaid-secret-v\d+-[a-z0-9]+$")

#: Plaid's OAuth client, per IdP (the registry's reviews): replaced or deleted = a new client id and secret for Plaid.
CLIENT_TYPES: Final = tuple(t for idp in idps.IDPS for t in idp.review.client_types)
#: Where each IdP's client lists its redirect URIs.
REDIRECT_PATHS: Final = {t: path for idp in idps.IDPS for t, path in idp.review.redirect_paths.items()}
#: What replacing or deleting an IdP's stateful resource does to Plaid, by type (the registry's reviews).
REPLACEMENTS: Final = {r.type: r for idp in idps.IDPS for r in idp.review.replacements}

_RELINK = "every linked Plaid user must re-link"
_TELL = "tell Plaid before merging"


@dataclass(frozen=True)
class Impact:
    severity: str
    kind: str
    message: str


def show(value: Any) -> str:
    """A value in an impact line. Secrets never get here (see _secretish): they are shown as markers."""
    if isinstance(value, Marker):
        return "(none)" if value is ABSENT else value.label
    if value == "" or value is None:
        return "(none)"
    if isinstance(value, tuple | list):
        return ", ".join(show(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _changed(a: Any, b: Any) -> bool:
    if isinstance(a, Marker) or isinstance(b, Marker):
        return a is not b
    return bool(a != b)


#: Stack outputs Plaid is given, with what a change breaks and what to do.
OUTPUTS: Final = (
    ("issuer", "Issuer", "Plaid's registration and every token it holds name the old issuer, so logins and "
                         f"refreshes fail; register the new issuer with Plaid before merging ({_RELINK} if it changes "
                         "the tenant)"),
    ("discovery_url", "OIDC discovery URL",
     f"Plaid reads the IdP's endpoints from it; {_TELL} and give it the new URL"),
    ("jwks_uri", "JWKS URI", f"Plaid verifies ID-token signatures with these keys; {_TELL}"),
    ("authorize_endpoint", "Authorization endpoint", f"Plaid sends users to the registered one; {_TELL}"),
    ("token_endpoint", "Token endpoint", f"Plaid exchanges codes and refresh tokens there; {_TELL}"),
    ("audience", "Access-token audience", "the Lambda then accepts only the new aud, so tokens minted for the old "
                                          f"one are refused; plan the cut-over with Plaid and {_TELL}"),
    ("client_id", "Plaid's client id", "Plaid's registration breaks; give Plaid the new client id and secret "
                                       "before merging"),
    ("customers_current_url", "/customers/current URL", "Plaid keeps calling the URL it was given; give Plaid the "
                                                         "new URL before merging and keep the old one answering "
                                                         "until Plaid switches"),
)

#: Settings Plaid experiences, per resource type: (type, input path, label, unit, kind), from each registered
#: IdP's review (``components/idps/<idp>/review.py``). kind: "access", "id", "refresh" (lifetimes: notices),
#: "scopes"/"grants" (removal breaks, addition is a notice), "alg"/"auth-method" (any change breaks),
#: "must-stay-true" (true -> false breaks).
SETTINGS: Final = tuple((f.type, f.path, f.label, f.unit, f.kind) for idp in idps.IDPS for f in idp.review.plaid_fields)

_GUIDANCE: Final = {
    "access": "Plaid asks for 15-minute access tokens; a longer-lived token stays usable longer after a user "
              "revokes access (see Readiness changes)",
    "id": "Plaid reads the ID token only while linking; no action unless a readiness rule fails",
    "refresh": "Plaid needs refresh tokens that last 13 months without an inactivity timeout; anything shorter "
               "makes linked users re-link (see Readiness changes)",
    "alg": "Plaid and the Lambda verify signatures with the algorithm they were set up for, so tokens signed "
           f"otherwise are refused; {_TELL} and make sure the Lambda accepts the new algorithm",
    "auth-method": f"Plaid authenticates with {plaid.TOKEN_ENDPOINT_AUTH_METHOD} unless told otherwise, so every "
                   f"token request fails; {_TELL}",
    "must-stay-true": "without refresh tokens every linked user must re-link when the access token expires",
    "scopes": f"Plaid requests {' '.join(plaid.REQUIRED_SCOPES)}; a request for a scope the client no longer "
              "allows fails",
    "grants": f"Plaid needs {' and '.join(plaid.REQUIRED_GRANT_TYPES)}; without one, linking or refreshing fails",
}

#: Lambda environment variables that change how Plaid's token is validated (issuer/audience/JWKS are
#: reported through the outputs; the client id is only known after apply).
_VALIDATION_ENV: Final = (env.TOKEN_CLIENT_CLAIM, env.TOKEN_USE, env.TOKEN_ALGORITHMS)


def _customers_env(p: Plan) -> dict[str, Any] | None:
    """The customers Lambda's environment variables (the function that reads the consistency-key claim)."""
    prefix = "environment.variables."
    for r in p.of_type(LAMBDA):
        if f"{prefix}{env.CONSISTENCY_KEY_CLAIM}" in r.inputs:
            return {k[len(prefix):]: v for k, v in r.inputs.items() if k.startswith(prefix)}
    return None


def _consistency_key(base: Plan, head: Plan) -> list[Impact]:
    old, new = _customers_env(base), _customers_env(head)
    if old is None or new is None:
        return []
    out = []
    what = ("every customerId Plaid has stored changes, so Plaid sees every linked user as a new customer; keep "
            "the old {0}, or agree a migration with Plaid before merging")
    for var, label in ((env.CONSISTENCY_KEY_CLAIM, "claim"), (env.CONSISTENCY_KEY_PREFIX, "prefix")):
        a, b = old.get(var, ABSENT), new.get(var, ABSENT)
        if _changed(a, b) and not (show(a) == show(b)):
            out.append(Impact(BREAKING, "consistency-key",
                              f"Consistency-key {label} {show(a)} -> {show(b)}: {what.format(label)}."))
    for var in _VALIDATION_ENV:
        a, b = old.get(var, ABSENT), new.get(var, ABSENT)
        if _changed(a, b) and var == env.TOKEN_ALGORITHMS:
            out.append(Impact(BREAKING, "signing-algorithm",
                              f"The Lambda accepts Plaid's tokens signed with {show(a)} -> {show(b)}: tokens the "
                              "IdP signs with an algorithm no longer listed are refused (401), so Plaid's calls to "
                              "/customers/current fail; keep the IdP's signing algorithm listed."))
        elif _changed(a, b):
            out.append(Impact(NOTICE, "token-validation",
                              f"The Lambda validates Plaid's tokens with {var} {show(a)} -> {show(b)}: test "
                              "/customers/current with a real Plaid token right after deploying."))
    return out


def _outputs(base: Plan, head: Plan, replaced_clients: bool) -> list[Impact]:
    out = []
    issuer_changed = _changed(base.outputs.get("issuer", ABSENT), head.outputs.get("issuer", ABSENT))
    folded = []
    for key, label, consequence in OUTPUTS:
        a, b = base.outputs.get(key, ABSENT), head.outputs.get(key, ABSENT)
        if not _changed(a, b) or a is ABSENT:
            continue  # unchanged, or newly exported
        if issuer_changed and key in ("discovery_url", "jwks_uri", "authorize_endpoint", "token_endpoint"):
            folded.append(label.lower() if not label.startswith(("OIDC", "JWKS")) else label)
            continue
        if key == "client_id" and replaced_clients:
            continue  # said once, by the client replacement
        if b is ABSENT:
            out.append(Impact(BREAKING, key, f"{label} is no longer exported (was {show(a)}): {consequence}."))
        else:
            out.append(Impact(BREAKING, key, f"{label} {show(a)} -> {show(b)}: {consequence}."))
    if folded:
        first = next(i for i, x in enumerate(out) if x.kind == "issuer")
        x = out[first]
        head_text, _, rest = x.message.partition(": ")
        out[first] = Impact(x.severity, x.kind, f"{head_text} (with it the {', '.join(folded)}): {rest}")
    return out


def _replacements(changes: list[ResourceChange], head: Plan) -> tuple[list[Impact], bool]:
    out = []
    replaced_clients = False
    custom_domain = bool(head.of_type(DOMAIN))
    for c in changes:
        if c.action not in ("replace", "delete"):
            continue
        r = c.old
        assert r is not None
        why = _why(c)
        if r.type in CLIENT_TYPES:
            replaced_clients = True
            verb = "deleted" if c.action == "delete" else f"replaced ({why})"
            out.append(Impact(BREAKING, "client-id",
                              f"Plaid's OAuth client {r.name} is {verb}: a new client id and secret, so Plaid's "
                              "registration breaks; give Plaid the new client id and secret before merging."))
        elif r.type in REPLACEMENTS:
            replacement = REPLACEMENTS[r.type]
            out.append(Impact(BREAKING, replacement.kind, replacement.message.format(
                name=r.name, verb=_verb(c), relink=_RELINK, tell=_TELL)))
        elif r.type == REST_API:
            if custom_domain:
                out.append(Impact(NOTICE, "customers-url", f"REST API {r.name} is {_verb(c)}: the custom domain "
                                                           "keeps Plaid's URL, but /customers/current is down "
                                                           "until the new API is mapped; deploy in a quiet hour."))
            else:
                out.append(Impact(BREAKING, "customers-url", f"REST API {r.name} is {_verb(c)}: the execute-api "
                                                             "URL changes, so Plaid's /customers/current URL "
                                                             "breaks; give Plaid the new URL before merging (or "
                                                             "front it with a custom domain)."))
        elif r.type == DOMAIN:
            out.append(Impact(NOTICE, "customers-url", f"Custom domain {r.name} is {_verb(c)}: /customers/current "
                                                       "is unreachable until the new domain serves its certificate; "
                                                       "schedule the deploy with Plaid."))
        elif r.type == RANDOM_BYTES and c.action == "replace" and c.old is not None and c.new is not None:
            a, b = c.old.inputs.get("keepers.version", ABSENT), c.new.inputs.get("keepers.version", ABSENT)
            what = (f"clientSecret.version {show(a)} -> {show(b)}" if _changed(a, b) else why)
            out.append(Impact(BREAKING, "client-secret",
                              f"Plaid's client secret is rotated ({what}): the old secret stops working when this "
                              "deploys; tell Plaid before merging and hand over the new value from Secrets Manager "
                              "at the cut-over."))
    return out, replaced_clients


def _verb(c: ResourceChange) -> str:
    return "deleted" if c.action == "delete" else f"replaced ({_why(c)})"


def _why(c: ResourceChange) -> str:
    if c.renamed and c.old is not None and c.new is not None:
        return f"renamed {c.old.name} -> {c.new.name}"
    return "changed " + ", ".join(c.replace_because) if c.replace_because else "deleted"


def _values(p: Plan, types: Iterable[str], path: str) -> list[Any]:
    out: list[Any] = []
    for r in p.resources.values():
        if r.type in types:
            v = r.inputs.get(path)
            if isinstance(v, tuple):
                out += [x for x in v if x not in out]
    return out


def _redirects(base: Plan, head: Plan) -> list[Impact]:
    out: list[Impact] = []
    old = [u for t, p in REDIRECT_PATHS.items() for u in _values(base, (t,), p)]
    new = [u for t, p in REDIRECT_PATHS.items() for u in _values(head, (t,), p)]
    if not old or not new:
        return out  # no client on one side: the client replacement/deletion says it
    for u in old:
        if u not in new and not isinstance(u, Marker):
            out.append(Impact(BREAKING, "redirect-uri",
                              f"Redirect URI {u} removed: Plaid's authorization requests that use it now fail "
                              "(redirect_uri mismatch); keep it unless Plaid confirmed in writing it no longer "
                              "uses it."))
    for u in new:
        if u not in old and not isinstance(u, Marker):
            out.append(Impact(NOTICE, "redirect-uri",
                              f"Redirect URI {u} added: the IdP will send authorization codes there; make sure it "
                              "is Plaid's."))
    return out


def _customers_prefix(p: Plan) -> str | None:
    """The customers API's name prefix (``fpb-customers-``), from its Lambda (the one with the consistency key)."""
    for r in p.of_type(LAMBDA):
        if f"environment.variables.{env.CONSISTENCY_KEY_CLAIM}" in r.inputs and r.name.endswith("-fn"):
            return r.name[: -len("fn")]
    return None


def customers_path(p: Plan) -> str | None:
    """The ``/customers/current`` path the customers API declares (``/fdx/v6/customers/current``): its API
    Gateway resources' path parts, outermost first (each child's logical name extends its parent's)."""
    prefix = _customers_prefix(p)
    if prefix is None:
        return None
    parts = sorted((r for r in p.of_type(API_RESOURCE) if r.name.startswith(f"{prefix}path-")),
                   key=lambda r: len(r.name))
    if not parts or any(not isinstance(r.inputs.get("pathPart"), str) for r in parts):
        return None
    return "/" + "/".join(str(r.inputs["pathPart"]) for r in parts)


def _stage(p: Plan) -> Any:
    prefix = _customers_prefix(p)
    stages = [r for r in p.of_type(STAGE) if prefix and r.name.startswith(prefix)]
    return stages[0].inputs.get("stageName", ABSENT) if stages else ABSENT


def _customers_endpoint(base: Plan, head: Plan) -> list[Impact]:
    """The URL Plaid calls: its path (``api.basePath``) and, without a custom domain, the stage and the
    execute-api endpoint. With a custom domain on both sides the URL is a known output (see OUTPUTS)."""
    url_a, url_b = base.outputs.get("customers_current_url", ABSENT), head.outputs.get("customers_current_url", ABSENT)
    urls_known = not isinstance(url_a, Marker) and not isinstance(url_b, Marker)
    out = []
    a, b = customers_path(base), customers_path(head)
    if a and b and a != b and not urls_known:
        out.append(Impact(BREAKING, "customers-url",
                          f"The /customers/current path {a} -> {b} (api.basePath): Plaid keeps calling the URL it was "
                          "given, so its calls fail (403 at the WAF, or 404); give Plaid the new URL before merging "
                          "and keep the old path answering until Plaid switches."))
    domain_a, domain_b = bool(base.of_type(DOMAIN)), bool(head.of_type(DOMAIN))
    stage_a, stage_b = _stage(base), _stage(head)
    if not domain_a and not domain_b and _changed(stage_a, stage_b) and stage_a is not ABSENT and stage_b is not ABSENT:
        out.append(Impact(BREAKING, "customers-url",
                          f"API stage {show(stage_a)} -> {show(stage_b)} (api.stageName): without a custom domain the "
                          "stage is part of the execute-api URL Plaid calls, so its calls fail; give Plaid the new "
                          "URL before merging."))
    if not domain_a:
        old = [r.inputs.get("disableExecuteApiEndpoint") for r in base.of_type(REST_API) if r.name.endswith("-api")]
        new = [r.inputs.get("disableExecuteApiEndpoint") for r in head.of_type(REST_API) if r.name.endswith("-api")]
        if old and new and old[0] is not True and new[0] is True:
            out.append(Impact(BREAKING, "customers-url",
                              "The execute-api endpoint is turned off (api.disableExecuteApiEndpoint): Plaid was "
                              "given an execute-api URL (no custom domain before), which stops answering; give "
                              "Plaid the custom domain's URL before merging."))
    return out


def _mtls(base: Plan, head: Plan) -> list[Impact]:
    """Mutual TLS on the custom domain: which client certificates the API accepts from Plaid."""
    def truststore(p: Plan) -> tuple[Any, Any] | None:
        domains = p.of_type(DOMAIN)
        if not domains:
            return None
        d = domains[0].inputs
        uri = d.get("mutualTlsAuthentication.truststoreUri", ABSENT)
        return (uri, d.get("mutualTlsAuthentication.truststoreVersion", ABSENT)) if uri is not ABSENT else None

    a, b = truststore(base), truststore(head)
    if a == b or (a is None and b is None):
        return []
    if b is None:
        return [Impact(NOTICE, "mtls", "Mutual TLS turned off: the API no longer checks Plaid's client certificate "
                                       "(see Readiness changes); Plaid's calls keep working.")]
    if a is None:
        if not base.of_type(DOMAIN):
            return []  # a new custom domain: its URL line says what Plaid must do
        return [Impact(BREAKING, "mtls", f"Mutual TLS turned on (truststore {show(b[0])}): Plaid must present a "
                                         "client certificate this truststore trusts, or its calls fail the TLS "
                                         "handshake; agree it with Plaid before merging.")]
    return [Impact(BREAKING, "mtls", f"mTLS truststore {show(a[0])} version {show(a[1])} -> {show(b[0])} version "
                                     f"{show(b[1])}: Plaid's calls fail the TLS handshake unless the new truststore "
                                     "still holds the CA of Plaid's client certificate; check it, then acknowledge.")]


def _plaid_ranges() -> list[str]:
    return [ipaddress.ip_network(c).compressed
            for c in (*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_IPV6_RANGES, *plaid.PLAID_LEGACY_IPV4)]


def _allowlist(base: Plan, head: Plan) -> list[Impact]:
    old, new = _values(base, (IP_SET,), "addresses"), _values(head, (IP_SET,), "addresses")
    if not old and not new:
        return []
    plaids = _plaid_ranges()
    out = []
    for cidr in old:
        if cidr in new or isinstance(cidr, Marker):
            continue
        if cidr in plaids:
            out.append(Impact(BREAKING, "allowlist",
                              f"Plaid range {cidr} dropped from the WAF allowlist: Plaid's calls from it get 403; "
                              "restore it (Plaid asks data providers never to remove its ranges)."))
        else:
            out.append(Impact(BREAKING, "allowlist",
                              f"Range {cidr} dropped from the WAF allowlist: calls from it get 403; make sure "
                              "Plaid no longer calls from it (it is not in this version's list of Plaid's "
                              "ranges)."))
    for cidr in new:
        if cidr not in old and not isinstance(cidr, Marker):
            who = "Plaid's published range" if cidr in plaids else "not one of Plaid's published ranges"
            out.append(Impact(NOTICE, "allowlist",
                              f"Range {cidr} added to the WAF allowlist ({who}): it can now reach "
                              "/customers/current; make sure that is intended."))
    return out


def _settings(changes: list[ResourceChange]) -> list[Impact]:
    out = []
    for c in changes:
        if c.old is None or c.new is None:
            continue
        for typ, path, label, unit, kind in SETTINGS:
            if c.type != typ:
                continue
            a, b = c.old.inputs.get(path, ABSENT), c.new.inputs.get(path, ABSENT)
            if not _changed(a, b):
                continue
            guidance = _GUIDANCE[kind]
            if kind in ("scopes", "grants"):
                gone = [x for x in (a if isinstance(a, tuple) else ()) if x not in (b if isinstance(b, tuple) else ())]
                added = [x for x in (b if isinstance(b, tuple) else ()) if x not in (a if isinstance(a, tuple) else ())]
                if gone:
                    out.append(Impact(BREAKING, kind, f"{label}: {', '.join(map(show, gone))} removed ({c.name}): "
                                                      f"{guidance}; {_TELL}."))
                if added:
                    out.append(Impact(NOTICE, kind, f"{label}: {', '.join(map(show, added))} added ({c.name}): "
                                                    "Plaid sees them in discovery; no action needed."))
                continue
            severity = NOTICE
            if kind in ("auth-method", "alg") or (kind == "must-stay-true" and a is True):
                severity = BREAKING
            out.append(Impact(severity, kind, f"{label} {show(a)}{unit if not isinstance(a, Marker) else ''} -> "
                                              f"{show(b)}{unit if not isinstance(b, Marker) else ''} ({c.name}): "
                                              f"{guidance}."))
    return out


def _pending(p: Plan) -> bool:
    """Phase 1 of a two-phase rotation is declared: a secret version staged AWSPENDING."""
    return any(PENDING_STAGE in (v if isinstance(v := r.inputs.get("versionStages"), tuple) else ())
               for r in p.of_type(SECRET_VERSION))


def _retiring(p: Plan) -> bool:
    """Phase 2 is declared: the resource that keeps only the new secret at the IdP."""
    return any(r.name.endswith("-plaid-secret-retire") for r in p.of_type(DYNAMIC))


def _rotation(base: Plan, head: Plan) -> list[Impact]:
    """The two phases of a client-secret rotation (clientSecret.rotation.phase): adding is harmless, retiring
    breaks Plaid unless it already uses the new secret."""
    out: list[Impact] = []
    if _pending(head) and not _pending(base):
        out.append(Impact(NOTICE, "client-secret-rotation",
                          "Client-secret rotation, phase 1 (add-next): a new secret is added to the IdP next to the "
                          f"current one and stored staged {PENDING_STAGE}; Plaid's current secret keeps working, so "
                          "nothing changes for Plaid. Before phase 2: prove the new secret with `plaid-ready check "
                          f"--secret-arn ARN --secret-stage {PENDING_STAGE}`, then save it in Plaid's dashboard "
                          f"({ROTATION_DOC})."))
    if _retiring(head) and not _retiring(base):
        message = ("Client-secret rotation, phase 2 (retire-previous): the IdP keeps only the new secret and "
                   "AWSCURRENT moves to it, so the previous secret stops working when this deploys. Plaid must "
                   "already use the new secret: confirm in Plaid's dashboard that it was saved, and that `plaid-ready "
                   f"check --secret-stage {PENDING_STAGE}` passed, before merging ({ROTATION_DOC}).")
        if not _pending(base):
            message += (f" Phase 1 was not deployed before this change (no {PENDING_STAGE} version in the base): "
                        "Plaid cannot have the new secret yet; deploy phase add-next first.")
        out.append(Impact(BREAKING, "client-secret-rotation", message))
    elif not _retiring(head):
        for r in base.of_type(DYNAMIC):
            if _IDP_SECRET.search(r.name) and (r.type, r.name) not in head.resources:
                out.append(Impact(BREAKING, "client-secret-rotation",
                                  f"The IdP's client secret {r.name} is deleted (clientSecret.version went down, or a "
                                  "rotation's phase 1 was rolled back): if Plaid already uses it, its token requests "
                                  "fail when this deploys; make sure Plaid's dashboard holds a secret the app client "
                                  f"keeps ({ROTATION_DOC})."))
    return out


def plaid_impact(base: Plan, head: Plan, changes: list[ResourceChange]) -> list[Impact]:
    """Every effect on Plaid, breaking ones first, each once."""
    replaced, replaced_clients = _replacements(changes, head)
    found = [*_consistency_key(base, head), *replaced, *_outputs(base, head, replaced_clients),
             *_customers_endpoint(base, head), *_mtls(base, head), *_redirects(base, head),
             *_allowlist(base, head), *_settings(changes), *_rotation(base, head)]
    seen: set[str] = set()
    unique = []
    for x in found:
        if x.message not in seen:
            seen.add(x.message)
            unique.append(x)
    return [x for x in unique if x.severity == BREAKING] + [x for x in unique if x.severity == NOTICE]
