"""What the fleet rules need to know of one stack: its identity and the names it claims, read from its settings and
from what its program declares (the offline plan's resources). Plain data, so a worker process can send it back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.settings.stack import StackSettings
    from readiness.engine import DeclaredResource
    from readiness.plan.stack import StackConfig

#: Physical names that must be unique within one AWS account and region, by the input that holds them.
API_TYPE = "aws:apigateway/restApi:RestApi"
FUNCTION_TYPE = "aws:lambda/function:Function"
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
ALIAS_TYPE = "aws:kms/alias:Alias"
DOMAIN_TYPE = "aws:apigateway/domainName:DomainName"
#: Where the account id is read from when ``aws:allowedAccountIds`` is not set.
UNKNOWN_ACCOUNT = ""


@dataclass(frozen=True)
class StackFacts:
    """One stack as the fleet rules see it."""

    stack: str
    idp: str
    environment: str
    institution_code: str
    institution_name: str
    #: The AWS account: ``aws:allowedAccountIds`` (first), else the account of the first clientSecret administrator
    #: role, else "" (unknown: the rules then treat it as possibly any account, i.e. the same as the other's).
    account: str
    region: str
    #: The IdP tenant (components/settings/base.py ``IdpSettings.tenant``); None when the stack creates its own.
    tenant: str | None
    #: Plain OAuth 2.0 (``openid`` not in scopes): Plaid reads the consistency key from /customers/current, which
    #: applies ``consistencyKey.prefix``; with OIDC Plaid reads the id_token ``sub``, which no prefix changes.
    oauth2: bool
    consistency_prefix: str
    hostnames: tuple[str, ...] = ()
    api_names: tuple[str, ...] = ()
    function_names: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()
    kms_aliases: tuple[str, ...] = ()
    #: Plaid's OAuth client(s) on the tenant, by the name the IdP shows (auth0 Client name, Okta app label, ...).
    client_names: tuple[str, ...] = field(default=())

    @property
    def place(self) -> tuple[str, str]:
        return self.account, self.region


def _account(config: dict[str, str], settings: StackSettings) -> str:
    raw = config.get("aws:allowedAccountIds", "")
    try:
        allowed = json.loads(raw) if raw else []
    except ValueError:
        allowed = []
    if isinstance(allowed, list) and allowed:
        return str(allowed[0])
    for arn in settings.client_secret.administrators:
        return arn.split(":")[4]
    return UNKNOWN_ACCOUNT


def _names(resources: list[DeclaredResource], typ: str, key: str) -> tuple[str, ...]:
    out: list[str] = []
    for r in resources:
        if r.type == typ:
            value = r.input(key)
            if isinstance(value, str) and value and value not in out:
                out.append(value)
    return tuple(out)


def facts_of(cfg: StackConfig, settings: StackSettings, resources: list[DeclaredResource]) -> StackFacts:
    """The facts of a planned stack."""
    from components import idps

    idp = idps.by_name(settings.idp)
    region = settings.region
    hostnames = [*settings.idp_settings.hostnames(region), *_names(resources, DOMAIN_TYPE, "domainName")]
    clients: list[str] = []
    for r in resources:
        if r.type in idp.review.client_types:
            name: Any = r.input("name") or r.input("label")
            if isinstance(name, str) and name and name not in clients:
                clients.append(name)
    return StackFacts(
        stack=cfg.stack, idp=settings.idp, environment=settings.environment.value,
        institution_code=settings.institution.code, institution_name=settings.institution.name,
        account=_account(cfg.config, settings), region=region, tenant=settings.idp_settings.tenant(),
        oauth2="openid" not in settings.scopes, consistency_prefix=settings.consistency_key.prefix,
        hostnames=tuple(dict.fromkeys(h.lower().rstrip(".") for h in hostnames)),
        api_names=_names(resources, API_TYPE, "name"), function_names=_names(resources, FUNCTION_TYPE, "name"),
        secret_names=_names(resources, SECRET_TYPE, "name"), kms_aliases=_names(resources, ALIAS_TYPE, "name"),
        client_names=tuple(clients),
    )
