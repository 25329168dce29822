"""What review needs to know of Cognito: what Plaid sees, what replaces what, what holds state."""

from __future__ import annotations

from typing import Final

from components.idps.idp import PlaidField, Replacement, Review

POOL: Final = "aws:cognito/userPool:UserPool"
CLIENT: Final = "aws:cognito/userPoolClient:UserPoolClient"

REVIEW: Final = Review(
    client_types=(CLIENT,),
    redirect_paths={CLIENT: "callbackUrls"},
    plaid_fields=(
        PlaidField(CLIENT, "accessTokenValidity", "Access-token validity", "", "access"),
        PlaidField(CLIENT, "tokenValidityUnits.accessToken", "Access-token validity unit", "", "access"),
        PlaidField(CLIENT, "idTokenValidity", "ID-token validity", "", "id"),
        PlaidField(CLIENT, "refreshTokenValidity", "Refresh-token validity", "", "refresh"),
        PlaidField(CLIENT, "allowedOauthScopes", "Scopes", "", "scopes"),
        PlaidField(CLIENT, "allowedOauthFlows", "OAuth flows", "", "grants"),
    ),
    replacements=(
        Replacement(POOL, "subject", "Cognito user pool {name} is {verb}: every user gets a new sub, so every "
                                     "customerId changes and {relink}; do not merge unless that is intended."),
    ),
    # hashicorp/terraform-provider-aws internal/service/cognitoidp/: user_pool_client.go (user_pool_id,
    # generate_secret: read for this table); user_pool.go and user_pool_domain.go per the registry docs.
    create_only={
        POOL: ("aliasAttributes", "usernameAttributes", "schemas"),
        CLIENT: ("userPoolId", "generateSecret"),
        "aws:cognito/userPoolDomain:UserPoolDomain": ("domain", "userPoolId"),
    },
    stateful_types=(POOL, CLIENT),
    generates_client_secret=True,
)
