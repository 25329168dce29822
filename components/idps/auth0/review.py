"""What review needs to know of Auth0: what Plaid sees, what replaces what, what holds state."""

from __future__ import annotations

from typing import Final

from components.idps.idp import PlaidField, Replacement, Review

RESOURCE_SERVER: Final = "auth0:index/resourceServer:ResourceServer"
CLIENT: Final = "auth0:index/client:Client"
CLIENT_CREDENTIALS: Final = "auth0:index/clientCredentials:ClientCredentials"

REVIEW: Final = Review(
    client_types=(CLIENT,),
    redirect_paths={CLIENT: "callbacks"},
    plaid_fields=(
        PlaidField(RESOURCE_SERVER, "tokenLifetime", "Access-token lifetime", " s", "access"),
        PlaidField(RESOURCE_SERVER, "allowOfflineAccess", "Refresh tokens (offline access)", "", "must-stay-true"),
        PlaidField(RESOURCE_SERVER, "signingAlg", "Access-token signing algorithm", "", "alg"),
        PlaidField(CLIENT, "jwtConfiguration.lifetimeInSeconds", "ID-token lifetime", " s", "id"),
        PlaidField(CLIENT, "jwtConfiguration.alg", "ID-token signing algorithm", "", "alg"),
        PlaidField(CLIENT, "grantTypes", "Grant types", "", "grants"),
        PlaidField(CLIENT, "refreshToken.rotationType", "Refresh-token rotation", "", "refresh"),
        PlaidField(CLIENT, "refreshToken.tokenLifetime", "Refresh-token lifetime", " s", "refresh"),
        PlaidField(CLIENT, "refreshToken.infiniteTokenLifetime", "Refresh tokens never expire", "", "refresh"),
        PlaidField(CLIENT, "refreshToken.idleTokenLifetime", "Refresh-token inactivity lifetime", " s", "refresh"),
        PlaidField(CLIENT, "refreshToken.infiniteIdleTokenLifetime", "Refresh tokens without inactivity limit", "",
                   "refresh"),
        PlaidField(CLIENT_CREDENTIALS, "authenticationMethod", "Token-endpoint authentication", "", "auth-method"),
    ),
    replacements=(
        Replacement(RESOURCE_SERVER, "audience", "Auth0 API {name} is {verb}: refresh tokens granted for the old API "
                                                 "stop working, so {relink}; {tell}."),
    ),
    # auth0/terraform-provider-auth0 internal/auth0/: resourceserver/resource.go (identifier),
    # client/resource.go (jwt_configuration.secret_encoded), client/resource_credentials_schema.go (client_id),
    # action/resource_trigger_actions.go (trigger). Tenant and Action: none.
    create_only={
        RESOURCE_SERVER: ("identifier",),
        CLIENT: ("jwtConfiguration.secretEncoded",),
        CLIENT_CREDENTIALS: ("clientId",),
        "auth0:index/triggerActions:TriggerActions": ("trigger",),
        "auth0:index/action:Action": (),
        "auth0:index/tenant:Tenant": (),
    },
    stateful_types=(CLIENT, RESOURCE_SERVER),
)
