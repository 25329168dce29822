"""The tenant contract: what every IdP component hands on, whichever IdP produced it.

The customers API consumes one :class:`TenantContract` and turns it into the Lambda's environment
(:meth:`TenantContract.lambda_environment`) with the names the Lambda reads
(``lambdas/customers_current/env.py``). How the Lambda validates Plaid's bearer token is one structure,
:class:`TokenContract`: the issuer, the JWKS, Plaid's client id and the claim that carries it, the audience
or ``token_use``, the algorithms (checked here against the Lambda's own allow-list, so an algorithm the
Lambda would refuse fails the plan instead of every request) and where the consistency key comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lambdas.customers_current import env
from lambdas.customers_current.env import ACCESS_TOKEN_USE, CLIENT_CLAIMS
from lambdas.customers_current.verifier import ASYMMETRIC

__all__ = ["ALGORITHMS", "CLIENT_CLAIMS", "TenantContract", "TokenContract"]

#: The algorithms the Lambda accepts (its verifier's allow-list): the only ones a contract may name.
ALGORITHMS: frozenset[str] = ASYMMETRIC


@dataclass(frozen=True)
class TokenContract:
    """How the Lambda must validate Plaid's bearer token.

    Every IdP: the issuer, the JWKS, asymmetric algorithms, and **Plaid's client id** in ``client_claim`` (a
    token issued to any other client of the tenant is refused). Where the IdP's access tokens carry the API's
    ``aud``, ``audience`` pins it; where they carry none, ``token_use`` (``access``) pins the kind of token
    instead, which also refuses ID tokens.
    """

    issuer: pulumi.Input[str]
    jwks_uri: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_claim: str = "client_id"
    audience: pulumi.Input[str] | None = None
    token_use: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    consistency_key_claim: str = "sub"
    consistency_key_prefix: str = ""

    def __post_init__(self) -> None:
        if self.audience is None and self.token_use is None:
            raise ValueError("TokenContract needs an audience, or token_use where the IdP's access tokens carry no aud")
        if self.token_use is not None and self.token_use != ACCESS_TOKEN_USE:
            raise ValueError(f"TokenContract.token_use must be {ACCESS_TOKEN_USE!r} (the Lambda accepts no other)")
        if self.client_claim not in CLIENT_CLAIMS:
            raise ValueError(f"TokenContract.client_claim must be one of {', '.join(CLIENT_CLAIMS)}")
        refused = [a for a in self.algorithms if a not in ALGORITHMS]
        if not self.algorithms or refused:
            raise ValueError(f"TokenContract.algorithms: {', '.join(refused) or 'none given'}; the Lambda accepts only "
                             f"{', '.join(sorted(ALGORITHMS))} (lambdas/customers_current/verifier.py), so a token "
                             "signed otherwise would be refused on every request")


@dataclass(frozen=True)
class TenantContract:
    """The IdP's public endpoints, the client secret's ARN, and how tokens are validated (:attr:`token`)."""

    discovery_url: pulumi.Input[str]
    authorize_endpoint: pulumi.Input[str]
    token_endpoint: pulumi.Input[str]
    credentials_secret_arn: pulumi.Input[str]
    token: TokenContract

    @property
    def issuer(self) -> pulumi.Input[str]:
        return self.token.issuer

    @property
    def jwks_uri(self) -> pulumi.Input[str]:
        return self.token.jwks_uri

    @property
    def audience(self) -> pulumi.Input[str] | None:
        return self.token.audience

    @property
    def client_id(self) -> pulumi.Input[str]:
        return self.token.client_id

    def lambda_environment(self) -> dict[str, pulumi.Input[str]]:
        """The /customers/current Lambda's environment variables, exactly as it reads them.

        Holds no secret: the Lambda needs only public values to validate a token.
        """
        t = self.token
        out: dict[str, pulumi.Input[str]] = {
            env.TOKEN_ISSUER: t.issuer,
            env.JWKS_URI: t.jwks_uri,
            env.TOKEN_ALGORITHMS: ",".join(t.algorithms),
            env.TOKEN_CLIENT_ID: t.client_id,
            env.TOKEN_CLIENT_CLAIM: t.client_claim,
            env.CONSISTENCY_KEY_CLAIM: t.consistency_key_claim,
        }
        if t.audience is not None:
            out[env.TOKEN_AUDIENCE] = t.audience
        if t.token_use is not None:
            out[env.TOKEN_USE] = t.token_use
        if t.consistency_key_prefix:
            out[env.CONSISTENCY_KEY_PREFIX] = t.consistency_key_prefix
        return out

    def outputs(self) -> dict[str, pulumi.Input[str] | None]:
        """What to hand to Plaid (and to export): public values only."""
        return {
            "issuer": self.issuer,
            "discovery_url": self.discovery_url,
            "jwks_uri": self.jwks_uri,
            "authorize_endpoint": self.authorize_endpoint,
            "token_endpoint": self.token_endpoint,
            "audience": self.audience,
            "client_id": self.client_id,
            "credentials_secret_arn": self.credentials_secret_arn,
        }
