"""Readiness rules for what components/auth0.py declares (apply only where Auth0 resources are declared)."""

from __future__ import annotations

import plaid_contract as plaid
from readiness.checklist import Context, Finding, Rule, closest, fail, ok
from readiness.engine import is_unknown

API = "auth0:index/resourceServer:ResourceServer"
CLIENT = "auth0:index/client:Client"
CREDENTIALS = "auth0:index/clientCredentials:ClientCredentials"
TENANT = "auth0:index/tenant:Tenant"


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
        return fail(declared, f"Plaid: expire access tokens in 15 minutes ({plaid.ACCESS_TOKEN_LIFETIME_SECONDS} s)")
    if web is None or web > life:
        return fail(declared, "tokenLifetimeForWeb must not exceed tokenLifetime")
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

    def rt(key: str) -> object:
        return c.input("refreshToken", key)

    absolute_ok = rt("infiniteTokenLifetime") is True or (rt("tokenLifetime") or 0) >= plaid.REFRESH_TOKEN_MIN_SECONDS
    idle = rt("idleTokenLifetime")
    declared = (f"client {c.name}: absolute {'infinite' if rt('infiniteTokenLifetime') else rt('tokenLifetime')}, "
                f"idle {'infinite' if rt('infiniteIdleTokenLifetime') else idle} s")
    if not absolute_ok:
        return fail(declared, f"Plaid recommends 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days here)")
    if rt("infiniteIdleTokenLifetime") is True or (idle or 0) >= plaid.REFRESH_TOKEN_MIN_SECONDS:
        return ok(declared)
    from components.auth0 import AUTH0_MAX_REFRESH_LIFETIME_SECONDS

    if idle == AUTH0_MAX_REFRESH_LIFETIME_SECONDS:
        return closest(declared, "Plaid: 13 months and no inactivity timeout. Auth0 rotates only expiring tokens, "
                       f"whose idle lifetime is at most {AUTH0_MAX_REFRESH_LIFETIME_SECONDS} s (365.25 days): a "
                       "user idle for a year must link again")
    return fail(declared, f"set the idle lifetime to Auth0's maximum, {AUTH0_MAX_REFRESH_LIFETIME_SECONDS} s")


def _redirect_uri(ctx: Context) -> Finding:
    if (bad := _one(ctx, CLIENT)) is not None:
        return bad
    c = ctx.of_type(CLIENT)[0]
    callbacks = c.input("callbacks") or []
    if plaid.PLAID_REDIRECT_URI not in callbacks:
        return fail(f"callbacks {callbacks}", f"add Plaid's redirect URI {plaid.PLAID_REDIRECT_URI}")
    if any(not str(u).startswith("https://") for u in callbacks):
        return fail(f"callbacks {callbacks}", "every callback must be https")
    return ok(f"callbacks {callbacks}")


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
    from readiness.engine import SecretValue

    if ctx.secrets_marked and not (isinstance(secret, SecretValue) or is_unknown(secret)):
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
    Rule("AUTH0-GRANTS", "Confidential client: authorization_code and refresh_token only", _grants,
         applies=_on_auth0, source=_SRC_AUTH),
    Rule("AUTH0-CLIENT-AUTH", "Token endpoint auth client_secret_basic with the generated secret", _client_auth,
         applies=_on_auth0, source=_SRC_AUTH),
)
