"""Readiness rules for what this IdP's component declares (apply only where Auth0 resources are declared)."""

from __future__ import annotations

from typing import Any

import plaid_contract as plaid
from components.checklist import Context, Finding, Rule, closest, fail, is_secret, is_unknown, ok
from components.idps.auth0.review import CLIENT
from components.idps.auth0.review import CLIENT_CREDENTIALS as CREDENTIALS
from components.idps.auth0.review import RESOURCE_SERVER as API
from components.idps.auth0.settings import AUTH0_MAX_REFRESH_LIFETIME_SECONDS

TENANT = "auth0:index/tenant:Tenant"
ACTION = "auth0:index/action:Action"
TRIGGER_ACTION = "auth0:index/triggerAction:TriggerAction"
TRIGGER_ACTIONS = "auth0:index/triggerActions:TriggerActions"


def _on_auth0(ctx: Context) -> bool:
    return bool(ctx.of_type(API) or ctx.of_type(CLIENT))


def _one(ctx: Context, typ: str) -> Finding | None:
    found = ctx.of_type(typ)
    if len(found) != 1:
        return fail(f"{len(found)} {typ.rsplit(':', 1)[-1]} resources", "declare exactly one (PlaidAuth0Tenant)")
    return None


def _access_token_lifetime(ctx: Context) -> Finding:
    if (bad := _one(ctx, API)) is not None:
        return bad
    api = ctx.of_type(API)[0]
    life, web = api.input("tokenLifetime"), api.input("tokenLifetimeForWeb")
    declared = f"ResourceServer {api.name}: tokenLifetime {life} s, tokenLifetimeForWeb {web} s"
    if life != plaid.ACCESS_TOKEN_LIFETIME_SECONDS:
        minutes = plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60
        return fail(declared, f"Plaid: expire access tokens in 15 minutes ({plaid.ACCESS_TOKEN_LIFETIME_SECONDS} s): "
                    f"set auth0.accessTokenLifetimeMinutes to {minutes} (the default)")
    if web is None:
        return fail(declared, "tokenLifetimeForWeb unset: Auth0 applies its own default (7200 s for browser flows), "
                    f"longer than tokenLifetime; set it to at most {life} s")
    if web > life:
        return fail(declared, f"tokenLifetimeForWeb must not exceed tokenLifetime ({life} s)")
    return ok(declared)


def _jwt_access_tokens(ctx: Context) -> Finding:
    if (bad := _one(ctx, API)) is not None:
        return bad
    api = ctx.of_type(API)[0]
    identifier = api.input("identifier")
    tenants = ctx.of_type(TENANT)
    if not tenants:
        return fail(f"API {identifier!r}; no tenant default audience",
                    "Plaid sends no audience, so Auth0 would issue opaque access tokens: set "
                    "auth0.setDefaultAudience (default) or have Plaid configured to send audience and check it live")
    default = tenants[0].input("defaultAudience")
    if not (is_unknown(default) or default == identifier):
        return fail(f"tenant default audience {default!r} is not the API {identifier!r}",
                    "access tokens for Plaid would carry another audience")
    return ok(f"API {identifier!r} is the tenant default audience: access tokens are JWTs")


def _rs256(ctx: Context) -> Finding:
    algs = [f"API {r.name}: {r.input('signingAlg')}" for r in ctx.of_type(API)]
    algs += [f"client {r.name} id_token: {r.input('jwtConfiguration', 'alg')}" for r in ctx.of_type(CLIENT)]
    bad = [a for a in algs if not a.endswith(": RS256")]
    if bad or not algs:
        return fail("; ".join(algs) or "nothing declared", "sign access and ID tokens with RS256 (published in JWKS)")
    return ok("; ".join(algs))


def _offline_access(ctx: Context) -> Finding:
    if (bad := _one(ctx, API)) is not None:
        return bad
    api = ctx.of_type(API)[0]
    if api.input("allowOfflineAccess") is not True:
        return fail(f"ResourceServer {api.name}: allowOfflineAccess {api.input('allowOfflineAccess')}",
                    "Plaid requests offline_access and needs refresh tokens; add offline_access to scopes")
    return ok(f"ResourceServer {api.name}: allowOfflineAccess true")


def _rotation(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    c = ctx.of_type(CLIENT)[0]
    rot, exp = c.input("refreshToken", "rotationType"), c.input("refreshToken", "expirationType")
    declared = f"client {c.name}: rotationType {rot}, expirationType {exp}"
    if rot != "rotating" or exp != "expiring":
        return fail(declared, "Plaid's lifecycle asks for refresh rotation; Auth0 rotates only expiring tokens")
    return ok(declared)


def _refresh_lifetime(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    c = ctx.of_type(CLIENT)[0]

    def rt(key: str) -> Any:
        return c.input("refreshToken", key)

    absolute_ok = rt("infiniteTokenLifetime") is True or (rt("tokenLifetime") or 0) >= plaid.REFRESH_TOKEN_MIN_SECONDS
    idle = rt("idleTokenLifetime")
    declared = (f"client {c.name}: absolute {'infinite' if rt('infiniteTokenLifetime') else rt('tokenLifetime')}, "
                f"idle {'infinite' if rt('infiniteIdleTokenLifetime') else idle} s")
    if not absolute_ok:
        return fail(declared, f"Plaid recommends 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days here)")
    if rt("infiniteIdleTokenLifetime") is True or (idle or 0) >= plaid.REFRESH_TOKEN_MIN_SECONDS:
        return ok(declared)
    if idle == AUTH0_MAX_REFRESH_LIFETIME_SECONDS:
        absolute = ("The absolute lifetime is infinite: a refresh token used at least once a year never expires; "
                    "only revoking it (or the user's grant) ends it. " if rt("infiniteTokenLifetime") is True else "")
        return closest(declared, f"{absolute}Plaid: 13 months and no inactivity timeout. Auth0 rotates only "
                       "expiring tokens, whose idle lifetime is at most "
                       f"{AUTH0_MAX_REFRESH_LIFETIME_SECONDS} s (365.25 days): a user idle for a year must link again")
    return fail(declared, f"set the idle lifetime to Auth0's maximum, {AUTH0_MAX_REFRESH_LIFETIME_SECONDS} s")


def _redirect_uri(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    c = ctx.of_type(CLIENT)[0]
    callbacks = c.input("callbacks") or []
    if plaid.PLAID_REDIRECT_URI not in callbacks:
        return fail(f"callbacks {callbacks}", f"add Plaid's redirect URI {plaid.PLAID_REDIRECT_URI} to redirectUris")
    if any(not str(u).startswith("https://") for u in callbacks):
        return fail(f"callbacks {callbacks}", "every callback must be https (redirectUris)")
    if any("*" in str(u) for u in callbacks):
        return fail(f"callbacks {callbacks}", "no wildcard callbacks: an authorization code must only go to a URI you "
                    "control")
    return ok(f"callbacks {callbacks}")


def _extra_redirects(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    others = [str(u) for u in ctx.of_type(CLIENT)[0].input("callbacks") or [] if u != plaid.PLAID_REDIRECT_URI]
    if others:
        return fail(f"callbacks besides Plaid's: {', '.join(others)}",
                    "warning: Plaid's client can send authorization codes there; keep in redirectUris only URIs you "
                    "and Plaid confirmed")
    return ok(f"only Plaid's redirect URI {plaid.PLAID_REDIRECT_URI}")


def _user_delegated(ctx: Context) -> Finding:
    if (bad := _one(ctx, API)) is not None:
        return bad
    api = ctx.of_type(API)[0]
    user = api.input("subjectTypeAuthorization", "user", "policy")
    client = api.input("subjectTypeAuthorization", "client", "policy")
    declared = f"ResourceServer {api.name}: subjectTypeAuthorization user {user}, client {client}"
    if client != "deny_all":
        return fail(declared, "deny client-credentials (machine-to-machine) access to the API: client policy "
                    "deny_all, so no client of the tenant but a user's delegate gets a token for it")
    if user != "allow_all":
        return fail(declared, "Plaid's authorization-code tokens are user-delegated: user policy allow_all")
    return ok(declared)


def _post_login(ctx: Context) -> Finding:
    owners = ctx.of_type(TRIGGER_ACTIONS)
    if owners:
        return fail(f"TriggerActions {', '.join(o.name for o in owners)} owns every post-login binding",
                    "bind only our Action with auth0.TriggerAction: TriggerActions unbinds the tenant's other "
                    "Actions (MFA, risk checks)")
    problems, shown = [], []
    bindings = ctx.of_type(TRIGGER_ACTION)
    for action in ctx.of_type(ACTION):
        bound = [b for b in bindings if action.urn in (getattr(b, "dependencies", []) or [])]
        if not bound:
            problems.append(f"Action {action.name} is not bound")
        code = action.input("code")
        if isinstance(code, str) and "event.client.client_id" not in code:
            problems.append(f"Action {action.name} does not check event.client.client_id")
        shown.append(f"Action {action.name} bound by {', '.join(b.name for b in bound) or 'nothing'} "
                     f"(trigger {', '.join(str(b.input('trigger')) for b in bound)}), acting for Plaid's client only")
    if problems:
        return fail("; ".join(problems), "bind the Action with auth0.TriggerAction and act only for Plaid's client")
    return ok("; ".join(shown) + "; the tenant's other post-login Actions stay bound")


def _grants(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    c = ctx.of_type(CLIENT)[0]
    grants = c.input("grantTypes") or []
    declared = (f"client {c.name}: {', '.join(grants)} ({c.input('appType')}, "
                f"oidcConformant {c.input('oidcConformant')})")
    if sorted(grants) != sorted(plaid.REQUIRED_GRANT_TYPES):
        return fail(declared, f"exactly {' and '.join(plaid.REQUIRED_GRANT_TYPES)}; nothing else")
    if c.input("appType") != "regular_web" or c.input("oidcConformant") is not True:
        return fail(declared, "a confidential (regular_web), OIDC-conformant client")
    return ok(declared)


def _client_auth(ctx: Context) -> Finding:
    if (bad := _one(ctx, CREDENTIALS)) is not None:
        return bad
    cc = ctx.of_type(CREDENTIALS)[0]
    method = cc.input("authenticationMethod")
    if method != plaid.TOKEN_ENDPOINT_AUTH_METHOD:
        return fail(f"authenticationMethod {method}", f"Plaid authenticates with {plaid.TOKEN_ENDPOINT_AUTH_METHOD}")
    secret = cc.inputs.get("clientSecret")
    if ctx.secrets_marked and not (is_secret(secret) or is_unknown(secret)):
        return fail(f"authenticationMethod {method}; clientSecret not a Pulumi secret",
                    "set the secret from PlaidClientSecret (CSPRNG, Secrets Manager)")
    return ok(f"authenticationMethod {method}, secret from the CSPRNG value in Secrets Manager")


_SRC_SEC = "plaid.com/core-exchange/docs/security"
_SRC_AUTH = "Plaid Core Exchange authentication doc"
RULES: tuple[Rule, ...] = (
    Rule("AUTH0-AT-LIFETIME", "Access tokens expire in 15 minutes (900 s)", _access_token_lifetime,
         applies=_on_auth0, source=_SRC_SEC),
    Rule("AUTH0-JWT-AT", "Access tokens are JWTs although Plaid sends no audience", _jwt_access_tokens,
         applies=_on_auth0, source=f"{_SRC_AUTH}; Auth0 docs: access tokens"),
    Rule("AUTH0-RS256", "Tokens signed RS256, verifiable from the JWKS", _rs256, applies=_on_auth0,
         source=f"{_SRC_AUTH} (JWKS)"),
    Rule("AUTH0-OFFLINE", "offline_access: refresh tokens are issued", _offline_access, applies=_on_auth0,
         source=_SRC_AUTH),
    Rule("AUTH0-RT-ROTATION", "Refresh tokens rotate", _rotation, applies=_on_auth0, source=_SRC_SEC),
    Rule("AUTH0-RT-LIFETIME", f"Refresh tokens last 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days), no "
         "inactivity timeout", _refresh_lifetime, applies=_on_auth0, source=_SRC_AUTH),
    Rule("AUTH0-REDIRECT", "Plaid's redirect URI is registered, https only", _redirect_uri, applies=_on_auth0,
         source=_SRC_AUTH),
    Rule("AUTH0-REDIRECT-EXTRA", "Only Plaid's redirect URI (others are shown as a warning)", _extra_redirects,
         applies=_on_auth0, mandatory=False, source=_SRC_AUTH),
    Rule("AUTH0-USER-ONLY", "The API accepts only user-delegated access (no client-credentials tokens)",
         _user_delegated, applies=_on_auth0, source="Auth0 docs: API access policies (subject_type_authorization)"),
    Rule("AUTH0-POST-LOGIN", "Our post-login Action is bound alone and acts only for Plaid's client", _post_login,
         applies=lambda c: bool(c.of_type(ACTION) or c.of_type(TRIGGER_ACTION) or c.of_type(TRIGGER_ACTIONS)),
         source="Auth0 provider docs: auth0_trigger_action vs auth0_trigger_actions"),
    Rule("AUTH0-GRANTS", "Confidential client: authorization_code and refresh_token only", _grants,
         applies=_on_auth0, source=_SRC_AUTH),
    Rule("AUTH0-CLIENT-AUTH", "Token endpoint auth client_secret_basic with the generated secret", _client_auth,
         applies=_on_auth0, source=_SRC_AUTH),
)
