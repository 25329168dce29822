"""PlaidAuth0Tenant: a Plaid-ready OIDC setup on an existing Auth0 tenant.

Declares, all parented to the component and named after it, with the Auth0 provider it receives in
``opts.providers`` (:func:`tenant` builds that provider from the settings):

- the API (``auth0.ResourceServer``): identifier = the audience, RS256, 15-minute access tokens, offline
  access so refresh tokens are issued, user-delegated access only (``subject_type_authorization``: users
  allowed, client-credentials flows denied, so no machine-to-machine client gets a token for it);
- Plaid's client (``auth0.Client``): regular web app, exactly the code and refresh grants, Plaid's
  callbacks, OIDC conformant, RS256 ID tokens, rotating refresh tokens with the longest lifetime Auth0
  accepts;
- the client secret: CSPRNG, in Secrets Manager (``PlaidClientSecret``) and set on the client with
  ``client_secret_basic`` (``auth0.ClientCredentials``): one value in both places;
- the tenant's default audience (``auth0.Tenant``), so Plaid, which sends no ``audience``, gets JWT
  access tokens instead of opaque ones (switch: ``auth0.setDefaultAudience``);
- where the consistency key comes from a user attribute: a post-login Action, acting for Plaid's client
  only, bound with ``auth0.TriggerAction`` (one binding: the tenant's other post-login Actions, e.g. MFA
  or risk checks, stay bound; ``auth0.TriggerActions`` would own and replace them all).

The provider (Management API credentials from ``AUTH0_CLIENT_ID`` / ``AUTH0_CLIENT_SECRET`` or the secure
``auth0:clientId`` / ``auth0:clientSecret``) is a root resource since the tenant component receives it; it was
the component's child before, and its alias to that parent lets ``pulumi up`` move it in state (no replacement).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pulumi
import pulumi_auth0 as auth0

import plaid_contract as plaid
from components import options
from components.client_secret import ClientSecretSettings, PlaidClientSecret
from components.idps.auth0.settings import AUTH0_MAX_REFRESH_LIFETIME_SECONDS, Auth0Settings
from components.settings import StackSettings
from components.tenant import TenantContract, TokenContract

__all__ = ["AUTH0_MAX_REFRESH_LIFETIME_SECONDS", "TYPE", "Auth0TenantArgs", "PlaidAuth0Tenant", "action_code",
           "tenant"]

TYPE: Final = "plaid-ready-idp:auth0:PlaidAuth0Tenant"

#: Auth0 custom claims must be namespaced; the claim name under the namespace.
CONSISTENCY_KEY_CLAIM_NAME: Final = "consistency_key"

ACTION_SOURCE: Final = Path(__file__).with_name("consistency_key.js")


@dataclass(frozen=True)
class Auth0TenantArgs:
    """Exactly what PlaidAuth0Tenant uses (:meth:`from_settings` builds it from the stack settings)."""

    #: The tenant's domain: the issuer's and the endpoints' host.
    domain: str
    institution_name: str
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    audience: str
    redirect_uris: tuple[str, ...]
    #: Whether Plaid's client may request offline_access (refresh tokens).
    offline_access: bool
    access_token_lifetime_seconds: int
    id_token_lifetime_seconds: int
    refresh_token_leeway_seconds: int
    set_default_audience: bool
    action_runtime: str
    #: The client secret's settings (its client id is Auth0's, known inside the component).
    secret: ClientSecretSettings
    #: A user attribute (``app_metadata.<name>``) to take the consistency key from; None: the ``sub``.
    consistency_key_attribute: str | None = None
    #: The access-token claim that carries an attribute-sourced key (with the attribute).
    consistency_key_claim: str = "sub"
    consistency_key_prefix: str = ""
    #: Protect the stateful children (prod).
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: StackSettings) -> Auth0TenantArgs:
        a0 = settings.idp_settings
        if not isinstance(a0, Auth0Settings):
            raise ValueError("PlaidAuth0Tenant needs settings with an auth0 section (idp: auth0)")
        attribute = settings.consistency_key.attribute
        return cls(
            domain=a0.domain, institution_name=settings.institution.name, name_prefix=settings.name_prefix,
            audience=settings.audience, redirect_uris=tuple(settings.redirect_uris),
            offline_access="offline_access" in settings.scopes,
            access_token_lifetime_seconds=a0.access_token_lifetime_minutes * 60,
            id_token_lifetime_seconds=a0.id_token_lifetime_minutes * 60,
            refresh_token_leeway_seconds=a0.refresh_token_leeway_seconds,
            set_default_audience=a0.set_default_audience, action_runtime=a0.action_runtime,
            secret=ClientSecretSettings.from_settings(settings),
            consistency_key_attribute=attribute,
            consistency_key_claim=consistency_key_claim(settings) if attribute is not None else "sub",
            consistency_key_prefix=settings.consistency_key.prefix, protect=settings.is_prod)


def consistency_key_claim(settings: StackSettings) -> str:
    """The access-token claim that carries the consistency key when it comes from a user attribute."""
    a0 = settings.idp_settings
    assert isinstance(a0, Auth0Settings)
    namespace = a0.claim_namespace or settings.audience
    return f"{namespace.rstrip('/')}/{CONSISTENCY_KEY_CLAIM_NAME}"


#: The one place in the Action's source where its configuration (a JSON object) goes.
ACTION_CONFIG_PLACEHOLDER: Final = "__CONFIG__"


def action_code(*, claim: str, attribute: str, client_id: str) -> str:
    """The post-login Action's source, with its configuration inserted as ONE JSON object.

    One insertion of JSON (ASCII only, so even U+2028 cannot end a line): a value can only ever be data,
    never code, whatever the claim namespace or attribute holds.
    """
    template = ACTION_SOURCE.read_text()
    head, found, tail = template.partition(ACTION_CONFIG_PLACEHOLDER)
    if not found or ACTION_CONFIG_PLACEHOLDER in tail:
        raise ValueError(f"{ACTION_SOURCE.name} must hold {ACTION_CONFIG_PLACEHOLDER} exactly once")
    config = {"clientId": client_id, "claim": claim, "attribute": attribute.split("."),
              "minLength": plaid.CONSISTENCY_KEY_MIN_LENGTH}
    return head + json.dumps(config, ensure_ascii=True, sort_keys=True) + tail


class PlaidAuth0Tenant(pulumi.ComponentResource):
    """Everything Plaid needs from an Auth0 tenant. ``contract`` is what the customers API consumes.

    Its Auth0 resources use the provider in ``opts.providers`` (inherited by every child)."""

    contract: TenantContract

    def __init__(self, name: str, args: Auth0TenantArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        a = args

        def child(stateful: bool = False) -> pulumi.ResourceOptions:
            return options.child(self, stateful=stateful, protect=a.protect)

        self.api = auth0.ResourceServer(
            f"{name}-api",
            name=f"{a.institution_name} Core Exchange API",
            identifier=a.audience,
            signing_alg="RS256",
            token_dialect="rfc9068_profile",  # noqa: S106 - a token format, not a password
            token_lifetime=a.access_token_lifetime_seconds,
            token_lifetime_for_web=a.access_token_lifetime_seconds,
            allow_offline_access=a.offline_access,
            skip_consent_for_verifiable_first_party_clients=True,
            # User-delegated access only: a client-credentials (machine-to-machine) token for this API is
            # refused by Auth0 itself; the Lambda also pins Plaid's client id.
            subject_type_authorization=auth0.ResourceServerSubjectTypeAuthorizationArgs(
                user=auth0.ResourceServerSubjectTypeAuthorizationUserArgs(policy="allow_all"),
                client=auth0.ResourceServerSubjectTypeAuthorizationClientArgs(policy="deny_all"),
            ),
            opts=child(stateful=True),
        )

        self.client = auth0.Client(
            f"{name}-plaid-client",
            name=f"Plaid ({a.institution_name})",
            description="Plaid Core Exchange: authorization-code client with rotating refresh tokens",
            app_type="regular_web",
            is_first_party=True,
            oidc_conformant=True,
            grant_types=list(plaid.REQUIRED_GRANT_TYPES),
            callbacks=list(a.redirect_uris),
            jwt_configuration=auth0.ClientJwtConfigurationArgs(
                alg="RS256", lifetime_in_seconds=a.id_token_lifetime_seconds),
            refresh_token=auth0.ClientRefreshTokenArgs(
                rotation_type="rotating",
                expiration_type="expiring",
                # Every sub-field is set: the provider keeps server values for omitted ones (perma-diffs).
                infinite_token_lifetime=True,
                token_lifetime=AUTH0_MAX_REFRESH_LIFETIME_SECONDS,
                infinite_idle_token_lifetime=False,
                idle_token_lifetime=AUTH0_MAX_REFRESH_LIFETIME_SECONDS,
                leeway=a.refresh_token_leeway_seconds,
            ),
            opts=child(stateful=True),
        )

        self.credentials_secret = PlaidClientSecret(
            f"{name}-plaid-credentials", a.secret.args(client_id=self.client.client_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_credentials = auth0.ClientCredentials(
            f"{name}-plaid-client-credentials",
            client_id=self.client.client_id,
            authentication_method=plaid.TOKEN_ENDPOINT_AUTH_METHOD,
            client_secret=self.credentials_secret.value,
            opts=child(),
        )

        self.tenant = None
        if a.set_default_audience:
            # Tenant-wide: every authorize request without an audience now gets a JWT for this API.
            self.tenant = auth0.Tenant(f"{name}-tenant", default_audience=self.api.identifier, opts=child())

        self.action = self.trigger = None
        attribute = a.consistency_key_attribute
        if attribute is not None:
            claim = a.consistency_key_claim
            self.action = auth0.Action(
                f"{name}-consistency-key",
                name=f"plaid-consistency-key-{a.name_prefix}",
                runtime=a.action_runtime,
                deploy=True,
                code=self.client.client_id.apply(
                    lambda cid: action_code(claim=claim, attribute=attribute, client_id=cid)),
                supported_triggers=auth0.ActionSupportedTriggersArgs(id="post-login", version="v3"),
                opts=child(),
            )
            # One binding (appended to the flow), not TriggerActions, which owns every post-login binding and
            # would unbind the tenant's other Actions.
            self.trigger = auth0.TriggerAction(
                f"{name}-post-login",
                trigger="post-login",
                action_id=self.action.id,
                display_name=self.action.name,
                opts=child(),
            )

        base = f"https://{a.domain}"
        self.contract = TenantContract(
            discovery_url=f"{base}/.well-known/openid-configuration",
            authorize_endpoint=f"{base}/authorize",
            token_endpoint=f"{base}/oauth/token",
            credentials_secret_arn=self.credentials_secret.secret_arn,
            # token_dialect rfc9068_profile: the client is in `client_id` (Auth0's own profile uses `azp`).
            token=TokenContract(issuer=f"{base}/", jwks_uri=f"{base}/.well-known/jwks.json",
                                client_id=self.client.client_id, client_claim="client_id",
                                audience=self.api.identifier, algorithms=("RS256",),
                                consistency_key_claim=a.consistency_key_claim,
                                consistency_key_prefix=a.consistency_key_prefix),
        )
        self.register_outputs({k: v for k, v in self.contract.outputs().items() if v is not None})


def provider(settings: StackSettings, name: str) -> auth0.Provider:
    """The explicit Auth0 provider for the tenant in the settings (credentials: the environment or the secure
    ``auth0:`` config), aliased to its old parent, the tenant component that used to declare it."""
    a0 = settings.idp_settings
    assert isinstance(a0, Auth0Settings)
    creds = pulumi.Config("auth0")
    return auth0.Provider(
        f"{name}-auth0",
        domain=a0.domain,
        client_id=creds.get("clientId"),
        client_secret=creds.get_secret("clientSecret"),
        opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=pulumi.create_urn(name, TYPE))]),
    )


def tenant(settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> TenantContract:
    """The program's entry point for ``idp: auth0`` (the registry's ``Idp.tenant``): the provider from the
    settings, then the tenant with it in ``opts.providers``; returns the contract."""
    args = Auth0TenantArgs.from_settings(settings)
    name = settings.institution.code
    with_provider = pulumi.ResourceOptions(providers=[provider(settings, name)])
    return PlaidAuth0Tenant(name, args, pulumi.ResourceOptions.merge(opts, with_provider)).contract
