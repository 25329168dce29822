"""The tenant contract: what every IdP component (Auth0, Okta, Cognito) hands on.

The customers API consumes one :class:`TenantContract`, whichever IdP produced it, and turns it into
the Lambda's environment (:meth:`TenantContract.lambda_environment`) with the names the Lambda reads
(``lambdas/customers_current/env.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lambdas.customers_current import env
from lambdas.customers_current.env import CLIENT_CLAIMS

__all__ = ["CLIENT_CLAIMS", "TenantContract", "TokenValidation"]


@dataclass(frozen=True)
class TokenValidation:
    """How the Lambda must validate Plaid's bearer token.

    Every IdP: the issuer, the JWKS, asymmetric algorithms, and **Plaid's client id** in
    ``client_claim`` (a token issued to any other client of the tenant is refused). Auth0 and Okta also
    pin ``audience`` (``aud``); Cognito access tokens carry no ``aud``, so Cognito pins
    ``token_use="access"`` instead, which also refuses ID tokens.
    """

    client_id: pulumi.Input[str]
    client_claim: str = "client_id"
    algorithms: tuple[str, ...] = ("RS256",)
    audience: pulumi.Input[str] | None = None
    token_use: str | None = None
    consistency_key_claim: str = "sub"
    consistency_key_prefix: str = ""

    def __post_init__(self) -> None:
        if self.audience is None and self.token_use is None:
            raise ValueError("TokenValidation needs an audience, or token_use where the IdP's access tokens "
                             "carry no aud (Cognito)")
        if self.client_claim not in CLIENT_CLAIMS:
            raise ValueError(f"TokenValidation.client_claim must be one of {', '.join(CLIENT_CLAIMS)}")
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
            env.TOKEN_CLIENT_ID: v.client_id,
            env.TOKEN_CLIENT_CLAIM: v.client_claim,
            env.CONSISTENCY_KEY_CLAIM: v.consistency_key_claim,
        }
        if v.audience is not None:
            out[env.TOKEN_AUDIENCE] = v.audience
        if v.token_use is not None:
            out[env.TOKEN_USE] = v.token_use
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
