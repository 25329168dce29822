"""PlaidOktaTenant: a Plaid-ready OIDC setup on an existing Okta org (API Access Management required).

Declares, all parented to the component and named after it, with the Okta provider it receives in
``opts.providers`` (:func:`tenant` builds that provider for the org in the settings: credentials from the
environment, e.g. ``OKTA_API_CLIENT_ID`` + ``OKTA_API_PRIVATE_KEY`` + ``OKTA_API_SCOPES``, or the stack's secure
``okta:*`` config; never from the stack file in plain text; a root resource, aliased to the component it used to
be a child of, so ``pulumi up`` moves it in state):

- a custom authorization server (``okta.auth.Server``) whose single audience is the stack's audience,
  issuer on the org URL or the custom domain, signing keys rotated by Okta (``AUTO``) unless the settings
  say ``MANUAL``; or, with ``okta.authorizationServerId``, an existing server to attach to;
- an access policy for Plaid's client only (``okta.auth.ServerPolicy``) and its rule
  (``okta.auth.ServerPolicyRule``): the code grant only, the stack's scopes (``openid offline_access``),
  the configured groups, 15-minute access tokens, unlimited refresh lifetime and the longest refresh
  window Okta accepts;
- Plaid's app (``okta.app.OAuth``): web, the code and refresh grants, Plaid's redirect URIs,
  ``client_secret_basic``, the client id from our CSPRNG (``random.RandomId``), the client secret the same
  CSPRNG value ``PlaidClientSecret`` keeps in Secrets Manager, rotating refresh tokens;
- the app's group assignments, so the configured users can sign in.

The contract tells the Lambda to read the consistency key from the access token's ``uid`` (the Okta user
id, the same value as the id_token ``sub`` Plaid stores), never its ``sub`` (the app username, usually the
user's email), and to accept only tokens whose ``cid`` is Plaid's client id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_okta as okta
import pulumi_random as random

import plaid_contract as plaid
from components import options
from components.client_secret import ClientSecretSettings, PlaidClientSecret
from components.idps.okta.settings import EVERYONE, MAX_REFRESH_WINDOW_MINUTES, OktaSettings
from components.settings import StackSettings
from components.tenant import TenantContract, TokenContract

TYPE: Final = "plaid-ready-idp:okta:PlaidOktaTenant"

#: ``refresh_token_lifetime_minutes`` 0 = unlimited (the provider sends 0 when unset; Okta reads it as
#: "Unlimited"). Set explicitly so the plan shows it.
UNLIMITED: Final = 0

#: The only grant Plaid's rule admits: refreshes are governed by the original grant (Okta has no
#: ``refresh_token`` value for a policy rule).
RULE_GRANT: Final = plaid.REQUIRED_GRANT_TYPES[0]

#: Okta's access tokens name the client in ``cid`` and carry the Okta user id in ``uid``.
CLIENT_CLAIM: Final = "cid"
CONSISTENCY_KEY_CLAIM: Final = "uid"


@dataclass(frozen=True)
class OktaTenantArgs:
    """Exactly what PlaidOktaTenant uses (:meth:`from_settings` builds it from the stack settings)."""

    okta: OktaSettings
    institution_name: str
    institution_code: str
    environment_name: str
    audience: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    secret: ClientSecretSettings
    consistency_key_prefix: str = ""
    #: Protect the stateful children (prod); the app and its client id are protected everywhere.
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: StackSettings) -> OktaTenantArgs:
        o = settings.idp_settings
        if not isinstance(o, OktaSettings):
            raise ValueError("PlaidOktaTenant needs settings with an okta section (idp: okta)")
        return cls(okta=o, institution_name=settings.institution.name, institution_code=settings.institution.code,
                   environment_name=settings.environment.value, audience=settings.audience,
                   scopes=tuple(settings.scopes), redirect_uris=tuple(settings.redirect_uris),
                   secret=ClientSecretSettings.from_settings(settings),
                   consistency_key_prefix=settings.consistency_key.prefix, protect=settings.is_prod)


def issuer(okta_settings: OktaSettings, server_id: str) -> str:
    """A custom authorization server's issuer: ``<org URL or custom domain>/oauth2/<server id>``."""
    return f"{okta_settings.issuer_base}/oauth2/{server_id}"


def _scopes(raw: str | None) -> list[str] | None:
    """``okta:scopes`` as the Pulumi CLI stores it: a JSON list or a comma/space separated string."""
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw.replace(",", " ").split()
    return [str(s) for s in parsed] if isinstance(parsed, list) else [str(parsed)]


class PlaidOktaTenant(pulumi.ComponentResource):
    """Everything Plaid needs from an Okta org. ``contract`` is what the customers API consumes."""

    contract: TenantContract

    def __init__(self, name: str, args: OktaTenantArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        a, o = args, args.okta
        protect = a.protect

        def child(stateful: bool = False, always_protect: bool = False) -> pulumi.ResourceOptions:
            return options.child(self, stateful=stateful or always_protect, protect=protect or always_protect)

        # The authorization server: ours, or an existing one the settings name.
        self.server: okta.auth.Server | None = None
        server_id: pulumi.Input[str]
        if o.authorization_server_id is None:
            self.server = okta.auth.Server(
                f"{name}-auth-server",
                name=f"{a.institution_name} Core Exchange ({a.environment_name})",
                description="Plaid Core Exchange: access tokens for the customers API",
                audiences=[a.audience],
                issuer_mode="CUSTOM_URL" if o.custom_domain else "ORG_URL",
                credentials_rotation_mode=o.key_rotation.value,
                opts=child(stateful=True),
            )
            server_id = self.server.id
        else:
            server_id = o.authorization_server_id

        # Plaid's client id: 16 CSPRNG bytes, hex. Okta takes a client id only at create (ForceNew), so the id
        # and the app are protected in every environment: a change would replace the app and break every link.
        self.client_id = random.RandomId(
            f"{name}-plaid-client-id",
            byte_length=plaid.CLIENT_ID_BYTES,
            opts=options.child(self, stateful=True, protect=True),
        )
        self.credentials_secret = PlaidClientSecret(
            f"{name}-plaid-credentials", a.secret.args(client_id=self.client_id.hex),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.app = okta.app.OAuth(
            f"{name}-plaid-app",
            label=f"Plaid ({a.institution_name})",
            type="web",
            grant_types=list(plaid.REQUIRED_GRANT_TYPES),
            response_types=["code"],
            redirect_uris=list(a.redirect_uris),
            wildcard_redirect="DISABLED",
            token_endpoint_auth_method=plaid.TOKEN_ENDPOINT_AUTH_METHOD,
            client_id=self.client_id.hex,
            client_basic_secret=self.credentials_secret.value,
            # Keep the secret managed: with omit_secret the provider blanks it on update, so a rotation
            # (clientSecret.version) would never reach Okta.
            omit_secret=False,
            # Plaid may send PKCE; it must not be required (Plaid's web flow documents none).
            pkce_required=False,
            # The provider's defaults are STATIC and 0 s; Okta's API default leeway is 30 s.
            refresh_token_rotation="ROTATE",  # noqa: S106 - a rotation mode, not a password
            refresh_token_leeway=o.refresh_token_leeway_seconds,
            consent_method="TRUSTED",
            issuer_mode="CUSTOM_URL" if o.custom_domain else "ORG_URL",
            # Not a launchable app: keep it off the end users' dashboard.
            hide_ios=True,
            hide_web=True,
            opts=child(always_protect=True),
        )

        # Plaid's client only: never ALL_CLIENTS.
        self.policy = okta.auth.ServerPolicy(
            f"{name}-plaid-policy",
            auth_server_id=server_id,
            name=f"Plaid ({a.institution_code})",
            description="Plaid Core Exchange: Plaid's client only",
            priority=1,
            client_whitelists=[self.app.client_id],
            opts=child(),
        )
        self.rule = okta.auth.ServerPolicyRule(
            f"{name}-plaid-rule",
            auth_server_id=server_id,
            policy_id=self.policy.id,
            name="Plaid authorization code",
            priority=1,
            grant_type_whitelists=[RULE_GRANT],
            scope_whitelists=list(a.scopes),
            group_whitelists=list(o.groups),
            access_token_lifetime_minutes=o.access_token_lifetime_minutes,
            refresh_token_lifetime_minutes=UNLIMITED,
            refresh_token_window_minutes=MAX_REFRESH_WINDOW_MINUTES,
            opts=child(),
        )

        # Who may sign in: the app is assigned to the configured groups (EVERYONE: the org's Everyone group).
        self.assignments: list[okta.app.GroupAssignment] = []
        for group in o.groups:
            if group == EVERYONE:
                # The parent's provider (opts.providers) answers the lookup.
                group_id: pulumi.Input[str] = okta.group.get_everyone_group_output(
                    opts=pulumi.InvokeOutputOptions(parent=self)).id
                suffix = "everyone"
            else:
                group_id, suffix = group, group
            self.assignments.append(okta.app.GroupAssignment(
                f"{name}-plaid-app-{suffix}", app_id=self.app.id, group_id=group_id, opts=child()))

        iss = pulumi.Output.from_input(server_id).apply(lambda i: issuer(o, i))
        self.contract = TenantContract(
            discovery_url=iss.apply(lambda i: f"{i}/.well-known/openid-configuration"),
            authorize_endpoint=iss.apply(lambda i: f"{i}/v1/authorize"),
            token_endpoint=iss.apply(lambda i: f"{i}/v1/token"),
            credentials_secret_arn=self.credentials_secret.secret_arn,
            # Okta: the client is in `cid`; the user id in `uid` (the access token's `sub` is the app username,
            # usually the email).
            token=TokenContract(issuer=iss, jwks_uri=iss.apply(lambda i: f"{i}/v1/keys"),
                                client_id=self.app.client_id, client_claim=CLIENT_CLAIM, audience=a.audience,
                                algorithms=("RS256",), consistency_key_claim=CONSISTENCY_KEY_CLAIM,
                                consistency_key_prefix=a.consistency_key_prefix),
        )
        self.register_outputs({k: v for k, v in self.contract.outputs().items() if v is not None})


def provider(settings: StackSettings, name: str) -> okta.Provider:
    """The explicit Okta provider for the org in the settings. Credentials: the stack's secure ``okta:*`` config
    when set, else the provider's environment variables (OKTA_API_CLIENT_ID, OKTA_API_PRIVATE_KEY,
    OKTA_API_PRIVATE_KEY_ID, OKTA_API_SCOPES, OKTA_API_TOKEN). Aliased to its old parent, the tenant component."""
    o = settings.idp_settings
    assert isinstance(o, OktaSettings)
    creds = pulumi.Config("okta")
    return okta.Provider(
        f"{name}-okta",
        org_name=o.org_name,
        base_url=o.base_url,
        client_id=creds.get("clientId"),
        private_key=creds.get_secret("privateKey"),
        private_key_id=creds.get("privateKeyId"),
        scopes=_scopes(creds.get("scopes")),
        api_token=creds.get_secret("apiToken"),
        opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=pulumi.create_urn(name, TYPE))]),
    )


def tenant(settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> TenantContract:
    """The program's entry point for ``idp: okta`` (the registry's ``Idp.tenant``): the provider from the
    settings, then the tenant with it in ``opts.providers``; returns the contract."""
    args = OktaTenantArgs.from_settings(settings)
    name = settings.institution.code
    with_provider = pulumi.ResourceOptions(providers=[provider(settings, name)])
    return PlaidOktaTenant(name, args, pulumi.ResourceOptions.merge(opts, with_provider)).contract

