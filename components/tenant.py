"""The tenant contract: what every IdP component (Auth0, Okta, Cognito) hands on.

The customers API consumes one :class:`TenantContract`, whichever IdP produced it, and turns it into
the Lambda's environment (:meth:`TenantContract.lambda_environment`) with the names the Lambda reads
(``lambdas/customers_current/env.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lambdas.customers_current import env


@dataclass(frozen=True)
class TokenValidation:
    """How the Lambda must validate Plaid's bearer token.

    Exactly one of ``audience`` (checked against ``aud``; Auth0, Okta) and ``client_id`` (checked
    against the ``client_id`` claim plus ``token_use == access``; Cognito, whose access tokens carry
    no ``aud``) is set.
    """

    algorithms: tuple[str, ...] = ("RS256",)
    audience: pulumi.Input[str] | None = None
    client_id: pulumi.Input[str] | None = None
    consistency_key_claim: str = "sub"
    consistency_key_prefix: str = ""

    def __post_init__(self) -> None:
        if (self.audience is None) == (self.client_id is None):
            raise ValueError("TokenValidation needs exactly one of audience or client_id")
        if not self.algorithms or any(a.upper().startswith(("HS", "NONE")) for a in self.algorithms):
            raise ValueError("TokenValidation.algorithms must be asymmetric (RS*, PS*, ES*)")


@dataclass(frozen=True)
class TenantContract:
    """The IdP's public endpoints, Plaid's client, and how tokens are validated."""

    issuer: pulumi.Input[str]
    discovery_url: pulumi.Input[str]
    jwks_uri: pulumi.Input[str]
    authorize_endpoint: pulumi.Input[str]
    token_endpoint: pulumi.Input[str]
    audience: pulumi.Input[str] | None
    client_id: pulumi.Input[str]
    credentials_secret_arn: pulumi.Input[str]
    validation: TokenValidation

    def lambda_environment(self) -> dict[str, pulumi.Input[str]]:
        """The /customers/current Lambda's environment variables, exactly as it reads them.

        Holds no secret: the Lambda needs only public values to validate a token.
        """
        v = self.validation
        out: dict[str, pulumi.Input[str]] = {
            env.TOKEN_ISSUER: self.issuer,
            env.JWKS_URI: self.jwks_uri,
            env.TOKEN_ALGORITHMS: ",".join(v.algorithms),
            env.CONSISTENCY_KEY_CLAIM: v.consistency_key_claim,
        }
        if v.audience is not None:
            out[env.TOKEN_AUDIENCE] = v.audience
        if v.client_id is not None:
            out[env.TOKEN_CLIENT_ID] = v.client_id
        if v.consistency_key_prefix:
            out[env.CONSISTENCY_KEY_PREFIX] = v.consistency_key_prefix
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
