"""Readiness rules for what this IdP's component declares (apply only where a Cognito app client is declared)."""

from __future__ import annotations

from typing import Any, Final

import plaid_contract as plaid
from components.checklist import (
    Context,
    Finding,
    Resource,
    Rule,
    closest,
    fail,
    in_component,
    is_secret,
    is_unknown,
    ok,
)
from components.idps.cognito.review import CLIENT, POOL
from lambdas import build
from lambdas.customers_current import env as customers_env
from lambdas.scope_adapter import names as adapter

FUNCTION: Final = "aws:lambda/function:Function"
API_RESOURCE: Final = "aws:apigateway/resource:Resource"
SECRET_VERSION: Final = "aws:secretsmanager/secretVersion:SecretVersion"
ADAPTER_TYPE: Final = "plaid-ready-idp:cognito:PlaidScopeAdapter"
#: Cognito's token_validity_units, in seconds; defaults when a unit is unset (pulumi-aws UserPoolClient docs).
UNIT_SECONDS: Final = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}
DEFAULT_UNITS: Final = {"accessToken": "hours", "idToken": "hours", "refreshToken": "days"}
REFRESH_AUTH_FLOW: Final = "ALLOW_REFRESH_TOKEN_AUTH"


def in_scope_adapter(resource: Resource) -> bool:
    """Whether a resource belongs to the scope adapter (its own Lambda, API and WAF, which face browsers)."""
    return in_component(resource, ADAPTER_TYPE)


def _on_cognito(ctx: Context) -> bool:
    return bool(ctx.of_type(CLIENT))


def _client(ctx: Context) -> Resource | Finding:
    """The one resource of its type, or the failing finding that says how many there are."""
    found = ctx.of_type(CLIENT)
    if len(found) != 1:
        return fail(f"{len(found)} UserPoolClient resources", "declare exactly one (PlaidCognitoTenant)")
    return found[0]


def _seconds(c: Resource, value_key: str, unit_key: str) -> tuple[Any, str, int | None]:
    value = c.input(value_key)
    unit = c.input("tokenValidityUnits", unit_key) or DEFAULT_UNITS[unit_key]
    if not isinstance(value, int) or unit not in UNIT_SECONDS:
        return value, unit, None
    return value, unit, value * UNIT_SECONDS[unit]


def _access_token(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    value, unit, seconds = _seconds(c, "accessTokenValidity", "accessToken")
    declared = f"client {c.name}: accessTokenValidity {value} {unit}"
    if seconds != plaid.ACCESS_TOKEN_LIFETIME_SECONDS:
        return fail(declared, "Plaid: expire access tokens in 15 minutes (accessTokenValidity 15, unit minutes): set "
                    f"cognito.accessTokenLifetimeMinutes to {plaid.ACCESS_TOKEN_LIFETIME_SECONDS // 60} (the default)")
    return ok(declared)


def _refresh_token(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    value, unit, seconds = _seconds(c, "refreshTokenValidity", "refreshToken")
    declared = f"client {c.name}: refreshTokenValidity {value} {unit} (absolute; Cognito has no idle timeout)"
    if seconds is None or seconds < plaid.REFRESH_TOKEN_MIN_SECONDS:
        days = plaid.REFRESH_TOKEN_MIN_DAYS
        return fail(declared, f"Plaid recommends 13 months ({days} days here): set cognito.refreshTokenLifetimeDays "
                    f"to at least {days} (Cognito allows up to 3650 days, the default)")
    return ok(declared)


def _rotation(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    feature = c.input("refreshTokenRotation", "feature")
    flows = c.input("explicitAuthFlows")
    declared = f"client {c.name}: refreshTokenRotation {feature}, explicitAuthFlows {flows}"
    if feature != "ENABLED":
        return fail(declared, "Plaid's lifecycle asks for refresh-token rotation: refreshTokenRotation ENABLED")
    if not flows or REFRESH_AUTH_FLOW in flows:
        return fail(declared, f"rotation forbids {REFRESH_AUTH_FLOW}; list the explicit auth flows without it "
                    "(unset means Cognito's default set, which includes it)")
    return ok(declared)


def _code_flow(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    flows, scopes = c.input("allowedOauthFlows") or [], c.input("allowedOauthScopes") or []
    declared = (f"client {c.name}: flows {flows}, allowedOauthFlowsUserPoolClient "
                f"{c.input('allowedOauthFlowsUserPoolClient')}, scopes {scopes}")
    if list(flows) != ["code"] or c.input("allowedOauthFlowsUserPoolClient") is not True:
        return fail(declared, "the authorization-code flow only (no implicit, no client_credentials)")
    if "openid" not in scopes or "offline_access" in scopes:
        return fail(declared, "scopes openid (plus cognito.extraScopes); never offline_access, which Cognito refuses")
    return ok(declared)


def _redirect(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    callbacks = c.input("callbackUrls") or []
    if plaid.PLAID_REDIRECT_URI not in callbacks:
        return fail(f"callbackUrls {callbacks}", f"add Plaid's redirect URI {plaid.PLAID_REDIRECT_URI} to redirectUris")
    if any(not str(u).startswith("https://") for u in callbacks):
        return fail(f"callbackUrls {callbacks}", "every callback must be https (redirectUris)")
    return ok(f"callbackUrls {callbacks}")


def _secret(ctx: Context) -> Finding:
    c = _client(ctx)
    if isinstance(c, Finding):
        return c
    if c.input("generateSecret") is not True:
        return fail(f"client {c.name}: generateSecret {c.input('generateSecret')}",
                    "Plaid authenticates with a client secret: generateSecret true")
    versions = ctx.of_type(SECRET_VERSION)
    if not versions:
        return fail(f"client {c.name}: generated secret not stored", "store it with PlaidClientSecret")
    plain = [v.name for v in versions if ctx.secrets_marked and not (
        is_secret(v.inputs.get("secretString")) or is_unknown(v.inputs.get("secretString")))]
    if plain:
        return fail(f"secret version {', '.join(plain)}: secretString not a Pulumi secret",
                    "the Cognito-generated secret must flow as a Pulumi secret")
    ours = sorted(r.name for r in ctx.of_type("random:index/randomBytes:RandomBytes")
                  if "-plaid-secret-v" in r.name and (r.input("length") or 0) >= plaid.CLIENT_SECRET_BYTES)
    if ours:
        return ok(f"client {c.name}: secret {ours[-1]}, {plaid.CLIENT_SECRET_BYTES} CSPRNG bytes hex of ours, added "
                  "with AddUserPoolClientSecret (clientSecret.version 2 or more) and stored in Secrets Manager "
                  f"({', '.join(v.name for v in versions)}) as a Pulumi secret")
    return closest(f"client {c.name}: secret generated by Cognito, stored in Secrets Manager "
                   f"({', '.join(v.name for v in versions)}) as a Pulumi secret",
                   f"Plaid suggests {plaid.CLIENT_SECRET_BYTES} CSPRNG bytes you generate; Cognito generates the "
                   "secret itself and no Pulumi resource sets a custom one (that needs the AddUserPoolClientSecret "
                   "API call): from clientSecret.version 2 the rotation adds one of ours that way "
                   "(docs/rotation.md#client-secret)")


def _shown(value: Any) -> str:
    return "(known after apply)" if is_unknown(value) else str(value)


def _https_or_unknown(value: Any) -> bool:
    return is_unknown(value) or (isinstance(value, str) and value.startswith("https://"))


def _adapter(ctx: Context) -> Finding:
    fns = [f for f in ctx.of_type(FUNCTION) if f.input("handler") == build.SCOPE_ADAPTER.handler]
    if len(fns) != 1:
        return fail(f"{len(fns)} scope adapter functions",
                    "Cognito answers invalid_scope to the offline_access Plaid always sends: declare the scope "
                    "adapter (cognito.scopeAdapter.enabled, the default) and give Plaid its discovery URL")
    fn = fns[0]
    variables = fn.input("environment", "variables") or {}
    missing = [k for k in adapter.ALL if k not in variables]
    not_https = [k for k in adapter.ALL if k in variables and not _https_or_unknown(variables[k])]
    routes = {r.input("pathPart") for r in ctx.of_type(API_RESOURCE) if in_scope_adapter(r)}
    no_route = [p for p in (adapter.DISCOVERY_PATH, adapter.AUTHORIZE_PATH) if p.rsplit("/", 1)[-1] not in routes]
    declared = f"scope adapter {fn.name}: {', '.join(f'{k}={_shown(variables.get(k))}' for k in adapter.ALL)}"
    if missing or not_https or no_route:
        problems = ([f"{', '.join(missing)} not set"] if missing else []) + (
            [f"{', '.join(not_https)} not https"] if not_https else []) + (
            [f"no route for {', '.join(no_route)}"] if no_route else [])
        return fail(f"{declared}; {'; '.join(problems)}",
                    "the adapter needs Cognito's issuer, its hosted domain and its own https URL, and both routes")
    advertised = " ".join(plaid.REQUIRED_SCOPES)
    return ok(f"{declared}; its discovery advertises {advertised}, its authorize strips {adapter.STRIPPED_SCOPE}")


def _token_use(ctx: Context) -> Finding:
    fns = [f for f in ctx.of_type(FUNCTION) if f.input("handler") == build.HANDLER]
    if len(fns) != 1:
        return fail(f"{len(fns)} /customers/current functions", "declare the customers API (PlaidCustomersApi)")
    variables = fns[0].input("environment", "variables") or {}
    use, claim = variables.get(customers_env.TOKEN_USE), variables.get(customers_env.TOKEN_CLIENT_CLAIM)
    declared = (f"{fns[0].name}: {customers_env.TOKEN_USE}={use}, {customers_env.TOKEN_CLIENT_CLAIM}={claim}, "
                f"{customers_env.TOKEN_AUDIENCE} {'set' if customers_env.TOKEN_AUDIENCE in variables else 'unset'}")
    if use != "access" or claim != "client_id":
        return fail(declared, "Cognito access tokens carry no aud: pin token_use=access (refuses ID tokens) and "
                    "Plaid's client in client_id")
    return ok(declared)


def _pool(ctx: Context) -> Finding:
    pools = ctx.of_type(POOL)
    if not pools:
        c = _client(ctx)
        if isinstance(c, Finding):
            return c
        return ok(f"existing pool {c.input('userPoolId')}: referenced, never managed; this stack cannot delete or "
                  "replace it")
    p = pools[0]
    declared = (f"pool {p.name}: deletionProtection {p.input('deletionProtection')}, "
                f"{'protected' if p.protect else 'not protected'}; replacing it gives every user a new sub "
                "(Plaid's consistency key)")
    if ctx.environment == "prod" and (p.input("deletionProtection") != "ACTIVE" or not p.protect):
        return fail(declared, "prod: deletionProtection ACTIVE (cognito.newPool.deletionProtection: true) and Pulumi "
                    "protect, so the pool is never deleted or replaced (Plaid would see every linked user as new)")
    return ok(declared)


_SRC_SEC = "plaid.com/core-exchange/docs/security"
_SRC_AUTH = "Plaid Core Exchange authentication doc"
RULES: tuple[Rule, ...] = (
    Rule("COGNITO-AT-LIFETIME", "Access tokens expire in 15 minutes", _access_token, applies=_on_cognito,
         source=_SRC_SEC),
    Rule("COGNITO-RT-LIFETIME", f"Refresh tokens last 13 months ({plaid.REFRESH_TOKEN_MIN_DAYS} days), no "
         "inactivity timeout", _refresh_token, applies=_on_cognito, source=_SRC_AUTH),
    Rule("COGNITO-RT-ROTATION", "Refresh tokens rotate", _rotation, applies=_on_cognito, source=_SRC_SEC),
    Rule("COGNITO-CODE-FLOW", "Authorization-code flow only, scope openid (never offline_access)",
         _code_flow, applies=_on_cognito, source=_SRC_AUTH),
    Rule("COGNITO-REDIRECT", "Plaid's redirect URI is registered, https only", _redirect, applies=_on_cognito,
         source=_SRC_AUTH),
    Rule("COGNITO-SECRET", "Confidential client: secret generated and stored in Secrets Manager", _secret,
         applies=_on_cognito,
         source="Plaid: `openssl rand -hex 32`; Cognito generates its own"),
    Rule("COGNITO-ADAPTER", "Plaid's offline_access is accepted: the scope adapter's discovery advertises it and "
         "its authorize strips it", _adapter, applies=_on_cognito,
         source=f"{_SRC_AUTH} (openid offline_access); Cognito answers invalid_scope"),
    Rule("COGNITO-TOKEN-USE", "/customers/current accepts access tokens of Plaid's client only (token_use, "
         "client_id)", _token_use, applies=_on_cognito, source=f"{_SRC_AUTH} (bearer token)"),
    Rule("COGNITO-POOL", "The user pool is never deleted or replaced (every sub would change); prod protects it",
         _pool, applies=_on_cognito, source="plaid-ready-idp house rule; Plaid consistency key"),
)
