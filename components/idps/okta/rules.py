"""Readiness rules for what this IdP's component declares (apply only where Okta resources are declared)."""

from __future__ import annotations

import re
from typing import Any

import plaid_contract as plaid
from components.checklist import Context, Finding, Resource, Rule, closest, fail, is_secret, is_unknown, ok
from components.idps.okta.review import APP, RULE, SERVER
from components.idps.okta.settings import MAX_REFRESH_WINDOW_MINUTES
from lambdas.customers_current import env

POLICY = "okta:auth/serverPolicy:ServerPolicy"
RANDOM_ID = "random:index/randomId:RandomId"
FUNCTION = "aws:lambda/function:Function"

#: Okta's policy-rule grant for the code flow (refreshes follow the original grant; there is no
#: ``refresh_token`` value in a rule).
RULE_GRANTS = [plaid.REQUIRED_GRANT_TYPES[0]]
#: An app username template that makes the access token's ``sub`` the Okta user id instead of the login.
USER_ID_TEMPLATE = "${source.id}"
_MINUTES_13_MONTHS = plaid.REFRESH_TOKEN_MIN_SECONDS // 60


def _on_okta(ctx: Context) -> bool:
    return any(ctx.of_type(t) for t in (APP, SERVER, POLICY, RULE))


def _on_okta_api(ctx: Context) -> bool:
    return _on_okta(ctx) and bool(ctx.of_type(FUNCTION))


def _one(ctx: Context, typ: str) -> Resource | Finding:
    """The one resource of its type, or the failing finding that says how many there are."""
    found = ctx.of_type(typ)
    if len(found) != 1:
        return fail(f"{len(found)} {typ.rsplit(':', 1)[-1]} resources", "declare exactly one (PlaidOktaTenant)")
    return found[0]


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _lambda_env(ctx: Context) -> dict[str, Any]:
    fn = ctx.of_type(FUNCTION)[0]
    variables = fn.input("environment", "variables")
    return variables if isinstance(variables, dict) else {}


def _access_token_lifetime(ctx: Context) -> Finding:
    rule = _one(ctx, RULE)
    if isinstance(rule, Finding):
        return rule
    minutes = rule.input("accessTokenLifetimeMinutes")
    declared = f"policy rule {rule.name}: accessTokenLifetimeMinutes {minutes}"
    if minutes != plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60:
        return fail(declared, f"Plaid: expire access tokens in 15 minutes ({plaid.ACCESS_TOKEN_LIFETIME_SECONDS} s; "
                    f"Okta's default is 60): set okta.accessTokenLifetimeMinutes to "
                    f"{plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60} (the default)")
    return ok(declared)


def _offline_access(ctx: Context) -> Finding:
    rule = _one(ctx, RULE)
    if isinstance(rule, Finding):
        return rule
    scopes = rule.input("scopeWhitelists") or []
    declared = f"policy rule {rule.name}: scopes {', '.join(map(str, scopes)) or 'none'}"
    if "*" in scopes:
        return fail(declared, "no wildcard: allow exactly the scopes Plaid requests (scopes: openid offline_access)")
    if "offline_access" not in scopes:
        return fail(declared, "Plaid requests offline_access and needs refresh tokens; add offline_access to scopes")
    return ok(declared)


def _refresh_lifetime(ctx: Context) -> Finding:
    rule = _one(ctx, RULE)
    if isinstance(rule, Finding):
        return rule
    lifetime = rule.input("refreshTokenLifetimeMinutes")
    window = rule.input("refreshTokenWindowMinutes")
    unlimited = lifetime in (None, 0)
    declared = (f"policy rule {rule.name}: refresh lifetime {'unlimited' if unlimited else f'{lifetime} min'}, "
                f"window {window} min")
    if not unlimited and lifetime < _MINUTES_13_MONTHS:
        return fail(declared, f"Plaid recommends 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days here): leave the "
                    "refresh lifetime unlimited (0)")
    if window == MAX_REFRESH_WINDOW_MINUTES:
        return closest(declared, "Plaid: 13 months and no inactivity timeout. Okta always applies a refresh window "
                       f"(inactivity timeout); its maximum, {MAX_REFRESH_WINDOW_MINUTES} min (5 years), is set: a "
                       "user idle for 5 years must link again")
    return fail(declared, f"set the refresh window to Okta's maximum, {MAX_REFRESH_WINDOW_MINUTES} min "
                "(the default is 7 days)")


def _rotation(ctx: Context) -> Finding:
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    rot, leeway = app.input("refreshTokenRotation"), app.input("refreshTokenLeeway")
    declared = f"app {app.name}: refreshTokenRotation {rot}, refreshTokenLeeway {leeway} s"
    if rot != "ROTATE":
        return fail(declared, "Plaid's lifecycle asks for refresh rotation; the provider's default is STATIC")
    if not isinstance(leeway, int) or not 0 <= leeway <= 60:
        return fail(declared, "set refreshTokenLeeway explicitly (okta.refreshTokenLeewaySeconds, 0-60 s; Okta's API "
                    "default is 30, the provider's 0)")
    return ok(declared)


def _redirect_uri(ctx: Context) -> Finding:
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    uris = app.input("redirectUris") or []
    wildcard = app.input("wildcardRedirect")
    declared = f"redirectUris {uris}, wildcardRedirect {wildcard}"
    if plaid.PLAID_REDIRECT_URI not in uris:
        return fail(declared, f"add Plaid's redirect URI {plaid.PLAID_REDIRECT_URI} to redirectUris")
    if any(not str(u).startswith("https://") for u in uris):
        return fail(declared, "every redirect URI must be https (redirectUris)")
    if wildcard not in (None, "DISABLED"):
        return fail(declared, "no wildcard redirect matching: register exact URIs")
    return ok(declared)


def _grants(ctx: Context) -> Finding:
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    grants = app.input("grantTypes") or []
    responses = app.input("responseTypes") or []
    rule_grants = [g for r in ctx.of_type(RULE) for g in (r.input("grantTypeWhitelists") or [])]
    declared = (f"app {app.name}: {', '.join(grants)} ({app.input('type')}, response {', '.join(responses)}); "
                f"policy rule: {', '.join(rule_grants) or 'none'}")
    if sorted(grants) != sorted(plaid.REQUIRED_GRANT_TYPES):
        return fail(declared, f"exactly {' and '.join(plaid.REQUIRED_GRANT_TYPES)}; nothing else")
    if app.input("type") != "web" or responses != ["code"]:
        return fail(declared, "a confidential web app with response type code only")
    if sorted(rule_grants) != RULE_GRANTS:
        return fail(declared, "the policy rule must admit authorization_code only (refreshes follow it)")
    return ok(declared)


def _client_auth(ctx: Context) -> Finding:
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    method = app.input("tokenEndpointAuthMethod")
    secret = app.inputs.get("clientBasicSecret")
    if method != plaid.TOKEN_ENDPOINT_AUTH_METHOD:
        return fail(f"tokenEndpointAuthMethod {method}", f"Plaid authenticates with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}")
    if secret is None:
        return fail(f"tokenEndpointAuthMethod {method}; no clientBasicSecret (Okta would generate one)",
                    "set the secret from PlaidClientSecret (CSPRNG, Secrets Manager)")
    if ctx.secrets_marked and not (is_secret(secret) or is_unknown(secret)):
        return fail(f"tokenEndpointAuthMethod {method}; clientBasicSecret not a Pulumi secret",
                    "set the secret from PlaidClientSecret (CSPRNG, Secrets Manager)")
    if app.input("omitSecret") is True:
        return fail(f"tokenEndpointAuthMethod {method}; omitSecret true",
                    "with omitSecret the provider blanks the secret on update: a rotation would never reach Okta")
    return ok(f"tokenEndpointAuthMethod {method}, secret from the CSPRNG value in Secrets Manager")


def _client_id(ctx: Context) -> Finding:
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    cid = app.input("clientId")
    randoms = [r for r in ctx.of_type(RANDOM_ID) if (r.input("byteLength") or 0) >= plaid.CLIENT_ID_BYTES]
    shown = cid if _known(cid) else "(from the CSPRNG, known after apply)" if is_unknown(cid) else "not set"
    declared = f"app {app.name}: clientId {shown}; protected {app.protect}"
    if cid is None or not randoms:
        return fail(declared, f"set clientId from random.RandomId(byte_length={plaid.CLIENT_ID_BYTES}) (hex)")
    if _known(cid) and not re.fullmatch(f"[0-9a-f]{{{2 * plaid.CLIENT_ID_BYTES},}}", str(cid)):
        return fail(declared, f"the client id must be the CSPRNG's hex ({2 * plaid.CLIENT_ID_BYTES}+ characters)")
    if not app.protect:
        return fail(declared, "Okta takes a client id only at create: a change replaces the app and breaks every "
                    "link, so the app is protected in every environment")
    return ok(declared)


def _policy_client(ctx: Context) -> Finding:
    policies = ctx.of_type(POLICY)
    if not policies:
        return fail("no authorization server policy", "declare the access policy for Plaid's client")
    app = _one(ctx, APP)
    if isinstance(app, Finding):
        return app
    cid = app.input("clientId")
    problems, shown = [], []
    for p in policies:
        wl = p.input("clientWhitelists")
        entries = wl if isinstance(wl, list) else []
        shown.append(f"{p.name}: {['(Plaid client id)' if is_unknown(e) else e for e in entries]}")
        if "ALL_CLIENTS" in entries or len(entries) != 1:
            problems.append(p.name)
        elif _known(entries[0]) and _known(cid) and entries[0] != cid:
            problems.append(p.name)
    declared = "; ".join(shown)
    if problems:
        return fail(declared, "the policy must apply to Plaid's client only (its client id), never ALL_CLIENTS")
    return ok(declared)


def _consistency_key(ctx: Context) -> Finding:
    variables = _lambda_env(ctx)
    claim = variables.get(env.CONSISTENCY_KEY_CLAIM, "sub")
    app = _one(ctx, APP)
    template = None if isinstance(app, Finding) else app.input("userNameTemplate")
    declared = f"Lambda reads {claim!r} as the consistency key"
    if claim == "uid":
        return ok(f"{declared}: the Okta user id, the id_token sub Plaid stores")
    if claim == "sub" and template == USER_ID_TEMPLATE:
        return ok(f"{declared}; app username template {template}: sub is the Okta user id")
    return fail(declared, "an Okta access token's sub is the app username, usually the email (PII) and not the "
                "id_token sub Plaid stores: read uid (CONSISTENCY_KEY_CLAIM=uid)")


def _token_client(ctx: Context) -> Finding:
    variables = _lambda_env(ctx)
    claim, client = variables.get(env.TOKEN_CLIENT_CLAIM), variables.get(env.TOKEN_CLIENT_ID)
    app = _one(ctx, APP)
    cid = None if isinstance(app, Finding) else app.input("clientId")
    shown = "(Plaid client id)" if is_unknown(client) else client
    declared = f"Lambda: {env.TOKEN_CLIENT_CLAIM} {claim}, {env.TOKEN_CLIENT_ID} {shown}"
    if claim != "cid" or client in (None, ""):
        return fail(declared, "Okta names the client in cid: the Lambda must accept only tokens whose cid is "
                    "Plaid's client id")
    if _known(client) and _known(cid) and client != cid:
        return fail(declared, "TOKEN_CLIENT_ID is not Plaid's app's client id")
    return ok(declared)


def _audience(ctx: Context) -> Finding:
    server = _one(ctx, SERVER)
    if isinstance(server, Finding):
        return server
    audiences = server.input("audiences") or []
    declared = f"authorization server {server.name}: audiences {audiences}"
    if len(audiences) != 1:
        return fail(declared, "exactly one audience (Okta supports one): the stack's audience")
    if ctx.of_type(FUNCTION):
        pinned = _lambda_env(ctx).get(env.TOKEN_AUDIENCE)
        declared += f"; Lambda {env.TOKEN_AUDIENCE} {pinned}"
        if pinned != audiences[0]:
            return fail(declared, "the Lambda must pin aud to the authorization server's audience")
    return ok(declared)


def _existing_server(ctx: Context) -> Finding:
    ids = sorted({str(p.input("authServerId")) for p in ctx.of_type(POLICY) if _known(p.input("authServerId"))})
    return fail(f"existing authorization server {', '.join(ids) or '(unknown)'}: not declared by this stack",
                "its audience, issuer mode and key rotation cannot be checked offline: check in Okta that its "
                "audience is the stack's audience and that API Access Management is on (docs/okta.md)")


def _key_rotation(ctx: Context) -> Finding:
    server = _one(ctx, SERVER)
    if isinstance(server, Finding):
        return server
    mode = server.input("credentialsRotationMode")
    declared = f"authorization server {server.name}: credentialsRotationMode {mode}"
    if mode == "AUTO":
        return ok(f"{declared} (Okta rotates about four times a year and publishes the next key ahead)")
    if mode == "MANUAL":
        return ok(f"{declared} (rotate at least yearly with the runbook in docs/okta.md)")
    return fail(declared, "AUTO (Okta rotates) or MANUAL (the runbook); Plaid asks for yearly rotation")


def _has_server(ctx: Context) -> bool:
    return _on_okta(ctx) and bool(ctx.of_type(SERVER))


def _attaches_to_existing(ctx: Context) -> bool:
    return _on_okta(ctx) and not ctx.of_type(SERVER) and bool(ctx.of_type(POLICY))


_SRC_SEC = "plaid.com/core-exchange/docs/security"
_SRC_AUTH = "Plaid Core Exchange authentication doc"
RULES: tuple[Rule, ...] = (
    Rule("OKTA-AT-LIFETIME", "Access tokens expire in 15 minutes", _access_token_lifetime, applies=_on_okta,
         source=_SRC_SEC),
    Rule("OKTA-OFFLINE", "offline_access allowed by the policy rule (no wildcard): refresh tokens are issued",
         _offline_access, applies=_on_okta, source=_SRC_AUTH),
    Rule("OKTA-RT-ROTATION", "Refresh tokens rotate", _rotation, applies=_on_okta, source=_SRC_SEC),
    Rule("OKTA-RT-LIFETIME", f"Refresh tokens last 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days), no "
         "inactivity timeout", _refresh_lifetime, applies=_on_okta, source=_SRC_AUTH),
    Rule("OKTA-REDIRECT", "Plaid's redirect URI is registered, https only, no wildcard", _redirect_uri,
         applies=_on_okta, source=_SRC_AUTH),
    Rule("OKTA-GRANTS", "Confidential web app: authorization_code and refresh_token only", _grants,
         applies=_on_okta, source=_SRC_AUTH),
    Rule("OKTA-CLIENT-AUTH", "Token endpoint auth client_secret_basic with the generated secret", _client_auth,
         applies=_on_okta, source=_SRC_AUTH),
    Rule("OKTA-CLIENT-ID", f"Client id from a CSPRNG ({plaid.CLIENT_ID_BYTES} bytes hex), app protected",
         _client_id, applies=_on_okta, source="Plaid: `openssl rand -hex 16`"),
    Rule("OKTA-POLICY-CLIENT", "The access policy covers Plaid's client only", _policy_client, applies=_on_okta,
         source="plaid-ready-idp: least privilege"),
    Rule("OKTA-AUDIENCE", "Access tokens carry the API's audience, pinned by the Lambda", _audience,
         applies=_has_server, source=_SRC_AUTH),
    Rule("OKTA-KEY-ROTATION", "Signing keys rotate (Okta AUTO, or MANUAL with the runbook)", _key_rotation,
         applies=_has_server, source=f"{_SRC_SEC} (rotate keys annually)"),
    Rule("OKTA-EXISTING-SERVER", "An existing authorization server is checked live", _existing_server,
         applies=_attaches_to_existing, mandatory=False, source="plaid-ready-idp"),
    Rule("OKTA-CONSISTENCY-KEY", "Consistency key: the Okta user id (uid), not the access token's sub (email)",
         _consistency_key, applies=_on_okta_api, source="plaid.com/core-exchange/docs/authentication"),
    Rule("OKTA-TOKEN-CLIENT", "The API accepts only tokens issued to Plaid's client (cid)", _token_client,
         applies=_on_okta_api, source=_SRC_SEC),
)
