"""PlaidCognitoTenant: a Plaid-ready app client on an Amazon Cognito user pool, and the scope adapter.

Declares, all parented to the component and named after it:

- the **user pool**: an existing one (``cognito.userPoolId``, looked up, never managed: the common case) or
  a new one with deletion protection on, protected in prod. A pool's ``sub`` values are Plaid's
  consistency keys: replacing a pool changes every one of them (its tag and the readiness row say so);
- the **hosted domain** (``cognito.UserPoolDomain``): a prefix domain, or a custom domain with an ACM
  certificate in us-east-1 (unless ``cognito.existingDomain``: then it is referenced, not declared);
- **Plaid's app client** (``cognito.UserPoolClient``): Cognito-generated secret, the code flow only, scopes
  ``openid`` plus the settings' extras (never ``offline_access``, which Cognito refuses), Plaid's callback
  URLs, 15-minute access tokens, 3650-day refresh tokens (Cognito's maximum, absolute, no idle timeout),
  refresh-token rotation (and without ``ALLOW_REFRESH_TOKEN_AUTH``, which rotation forbids), token
  revocation, user-existence errors prevented, the identity providers from the settings;
- the **client credentials**: Cognito's generated secret, a Pulumi secret, into ``PlaidClientSecret``
  (Secrets Manager, customer-managed KMS key). No Pulumi resource can set a custom Cognito secret; from
  ``clientSecret.version`` 2 on, each version is our CSPRNG value added with the dynamic resources of
  ``secrets.py`` (AddUserPoolClientSecret), in two phases (``clientSecret.rotation``, docs/rotation.md);
- the **scope adapter** (``PlaidScopeAdapter``, on by default): Plaid's discovery and authorize endpoints,
  because Cognito answers ``invalid_scope`` to the ``offline_access`` Plaid always sends.

``contract``: issuer ``https://cognito-idp.<region>.amazonaws.com/<poolId>``, its JWKS, the adapter's
discovery and authorize URLs, Cognito's token endpoint, and validation by ``client_id`` +
``token_use=access`` (Cognito access tokens carry no ``aud``), consistency key ``sub``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

from components import options
from components.client_secret import ClientSecretSettings, PlaidClientSecret, csprng_secret
from components.idps.cognito.scope_adapter import AdapterDomainArgs, PlaidScopeAdapter, ScopeAdapterArgs
from components.idps.cognito.secrets import CognitoClientSecret, CognitoRetireSecrets
from components.idps.cognito.settings import CognitoSettings, NewPool
from components.settings import StackSettings
from components.tenant import TenantContract, TokenContract

TYPE: Final = "plaid-ready-idp:cognito:PlaidCognitoTenant"
#: Cognito's longest refresh-token validity (10 years); absolute, no idle timeout.
COGNITO_MAX_REFRESH_DAYS: Final = 3650
#: The only explicit auth flow: ALLOW_REFRESH_TOKEN_AUTH must stay out (refresh-token rotation forbids it;
#: rotated refreshes go through /oauth2/token). Unset would mean Cognito's default set, which includes it.
EXPLICIT_AUTH_FLOWS: Final = ("ALLOW_USER_SRP_AUTH",)
OAUTH_FLOWS: Final = ("code",)
#: On a pool this stack creates, visible in the plan and in the AWS console.
REPLACEMENT_TAG: Final = ("plaid-ready-idp:on-replace",
                          "every user gets a new sub = a new Plaid consistency key: never replace this pool")


@dataclass(frozen=True)
class CognitoTenantArgs:
    """Exactly what PlaidCognitoTenant uses (:meth:`from_settings` builds it from the stack settings)."""

    cognito: CognitoSettings
    #: Physical-name prefix, e.g. ``fpb-prod``.
    name_prefix: str
    redirect_uris: tuple[str, ...]
    secret: ClientSecretSettings
    #: The scope adapter's Lambda and stage follow the customers API's (``api.*``).
    lambda_architecture: str = "arm64"
    stage_name: str = "live"
    log_retention_days: int = 365
    consistency_key_prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    #: Protect the stateful children (prod).
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: StackSettings) -> CognitoTenantArgs:
        c = settings.idp_settings
        if not isinstance(c, CognitoSettings):
            raise ValueError("PlaidCognitoTenant needs settings with a cognito section (idp: cognito)")
        return cls(cognito=c, name_prefix=settings.name_prefix, redirect_uris=tuple(settings.redirect_uris),
                   secret=ClientSecretSettings.from_settings(settings),
                   lambda_architecture=settings.api.lambda_architecture, stage_name=settings.api.stage_name,
                   log_retention_days=settings.api.log_retention_days,
                   consistency_key_prefix=settings.consistency_key.prefix, tags=settings.tags,
                   protect=settings.is_prod)


def issuer_url(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def hosted_domain_url(cognito: CognitoSettings, region: str) -> str:
    """The pool's hosted domain (login pages, /oauth2/authorize, /oauth2/token) as an https URL."""
    if cognito.custom_domain is not None:
        return f"https://{cognito.custom_domain.domain_name}"
    return f"https://{cognito.domain_prefix}.auth.{region}.amazoncognito.com"


class PlaidCognitoTenant(pulumi.ComponentResource):
    """Everything Plaid needs from a Cognito user pool. ``contract`` is what the customers API consumes."""

    contract: TenantContract

    def __init__(self, name: str, args: CognitoTenantArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        a, c = args, args.cognito
        protect, prefix = a.protect, a.name_prefix
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region

        # -- the user pool ---------------------------------------------------------------------------------
        self.pool: aws.cognito.UserPool | None = None
        self.existing_pool = None
        pool_id: pulumi.Input[str]
        if c.user_pool_id is not None:
            # Referenced, never managed: this stack can neither change nor delete the bank's pool. The lookup
            # makes `pulumi preview` fail early when the pool does not exist in this account and region.
            self.existing_pool = aws.cognito.get_user_pool_output(user_pool_id=c.user_pool_id, opts=invoke)
            pool_id = c.user_pool_id
        else:
            np = c.new_pool or NewPool()
            self.pool = aws.cognito.UserPool(
                f"{name}-user-pool", name=f"{prefix}-customers",
                deletion_protection="ACTIVE" if np.deletion_protection else "INACTIVE",
                user_pool_tier=np.tier, mfa_configuration=np.mfa,
                software_token_mfa_configuration={"enabled": True} if np.mfa != "OFF" else None,
                admin_create_user_config={"allow_admin_create_user_only": not np.allow_self_sign_up},
                tags={**a.tags, REPLACEMENT_TAG[0]: REPLACEMENT_TAG[1]},
                opts=options.child(self, stateful=True, protect=protect))
            pool_id = self.pool.id

        # -- the hosted domain ------------------------------------------------------------------------------
        self.domain: aws.cognito.UserPoolDomain | None = None
        if not c.existing_domain:
            self.domain = aws.cognito.UserPoolDomain(
                f"{name}-domain", user_pool_id=pool_id,
                domain=c.custom_domain.domain_name if c.custom_domain is not None else c.domain_prefix,
                certificate_arn=c.custom_domain.certificate_arn if c.custom_domain is not None else None,
                managed_login_version=1, opts=options.child(self))
        hosted = region.apply(lambda r: hosted_domain_url(c, r))
        issuer = pulumi.Output.all(region, pool_id).apply(lambda a: issuer_url(a[0], a[1]))

        # -- Plaid's app client ----------------------------------------------------------------------------
        self.client = aws.cognito.UserPoolClient(
            f"{name}-plaid-client", name=f"plaid-{prefix}", user_pool_id=pool_id,
            generate_secret=True,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=list(OAUTH_FLOWS),
            allowed_oauth_scopes=["openid", *c.extra_scopes],
            callback_urls=list(a.redirect_uris),
            supported_identity_providers=list(c.identity_providers),
            access_token_validity=c.access_token_lifetime_minutes,
            id_token_validity=c.id_token_lifetime_minutes,
            refresh_token_validity=c.refresh_token_lifetime_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            refresh_token_rotation={"feature": "ENABLED",
                                    "retry_grace_period_seconds": c.refresh_token_leeway_seconds},
            explicit_auth_flows=list(EXPLICIT_AUTH_FLOWS),
            enable_token_revocation=True,
            prevent_user_existence_errors="ENABLED",
            opts=options.child(self, stateful=True, protect=protect,
                               depends_on=[self.domain] if self.domain is not None else None))

        # -- the client credentials: Cognito's secret(s), Pulumi secrets, into Secrets Manager ----------------
        current, pending = self._secrets(name, a, pool_id, region)
        self.credentials_secret = PlaidClientSecret(
            f"{name}-plaid-credentials",
            a.secret.args(client_id=self.client.id, supplied_secret=current, pending_secret=pending),
            opts=pulumi.ResourceOptions(parent=self))

        # -- the scope adapter -------------------------------------------------------------------------------
        self.adapter: PlaidScopeAdapter | None = None
        if c.scope_adapter.enabled:
            domain = c.scope_adapter.custom_domain
            self.adapter = PlaidScopeAdapter(f"{name}-scope-adapter", ScopeAdapterArgs(
                name_prefix=prefix, upstream_issuer=issuer, upstream_base_url=hosted,
                architecture=a.lambda_architecture, stage_name=a.stage_name,
                log_retention_days=a.log_retention_days, rate_limit_per_5_min=c.scope_adapter.rate_limit_per_5_min,
                custom_domain=AdapterDomainArgs(domain.domain_name, domain.certificate_arn) if domain else None,
                protect=protect, tags=a.tags), opts=pulumi.ResourceOptions(parent=self))
            discovery, authorize = self.adapter.discovery_url, self.adapter.authorize_url
        else:
            discovery = issuer.apply(lambda i: f"{i}/.well-known/openid-configuration")
            authorize = hosted.apply(lambda h: f"{h}/oauth2/authorize")

        self.contract = TenantContract(
            discovery_url=discovery,
            authorize_endpoint=authorize,
            token_endpoint=hosted.apply(lambda h: f"{h}/oauth2/token"),
            credentials_secret_arn=self.credentials_secret.secret_arn,
            # Cognito access tokens carry no aud: token_use pins access tokens (ID tokens are refused).
            token=TokenContract(issuer=issuer, jwks_uri=issuer.apply(lambda i: f"{i}/.well-known/jwks.json"),
                                client_id=self.client.id, client_claim="client_id",
                                token_use="access",  # noqa: S106 - a claim value, not a password
                                audience=None, consistency_key_claim="sub",
                                consistency_key_prefix=a.consistency_key_prefix),
        )
        outputs = {k: v for k, v in self.contract.outputs().items() if v is not None}
        if self.existing_pool is not None:
            outputs["user_pool_arn"] = self.existing_pool.arn  # awaited: a missing pool fails the preview
        self.register_outputs(outputs)

    def _secrets(self, name: str, a: CognitoTenantArgs, pool_id: pulumi.Input[str],
                 region: pulumi.Output[str]) -> tuple[pulumi.Output[str], pulumi.Output[str] | None]:
        """(AWSCURRENT value, AWSPENDING value or None) for ``clientSecret.version`` V and its rotation phase.

        Version 1 is the secret Cognito generated with the client. Version v >= 2 is our CSPRNG value
        (``<name>-plaid-secret-v<v>``) added to the client by :class:`CognitoClientSecret`. ``none``: V is current.
        ``add-next``: V - 1 is current, V is added and pending. ``retire-previous``: V is current and
        :class:`CognitoRetireSecrets` deletes every other secret of the client (V - 1's resource, when it has one,
        is no longer declared: deleting it deletes that secret too)."""
        version, phase = a.secret.rotation_version, a.secret.rotation_phase
        self.secret_versions: dict[int, CognitoClientSecret] = {}

        def value(v: int) -> pulumi.Output[str]:
            if v == 1:
                return pulumi.Output.secret(self.client.client_secret)
            random_value = csprng_secret(f"{name}-plaid-secret", v, self)
            self.secret_versions[v] = CognitoClientSecret(
                f"{name}-plaid-secret-v{v}-cognito", region=region, user_pool_id=pool_id, client_id=self.client.id,
                version=v, client_secret=random_value.hex, opts=options.child(self))
            return pulumi.Output.secret(random_value.hex)

        self.retire: CognitoRetireSecrets | None = None
        if phase == "add-next":
            return value(version - 1), value(version)
        current = value(version)
        if phase == "retire-previous":
            self.retire = CognitoRetireSecrets(
                f"{name}-plaid-secret-retire", region=region, user_pool_id=pool_id, client_id=self.client.id,
                keep_secret_id=self.secret_versions[version].secret_id,
                opts=options.child(self, depends_on=[self.secret_versions[version]]))
        return current, None


def tenant(settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> TenantContract:
    """The program's entry point for ``idp: cognito`` (the registry's ``Idp.tenant``): declare the tenant (AWS
    resources: the stack's default AWS provider, or one in ``opts.providers``), return its contract."""
    return PlaidCognitoTenant(settings.institution.code, CognitoTenantArgs.from_settings(settings), opts).contract
