"""What review needs to know of Okta: what Plaid sees, what replaces what, what holds state."""

from __future__ import annotations

from typing import Final

from components.idps.idp import PlaidField, Replacement, Review

APP: Final = "okta:app/oAuth:OAuth"
SERVER: Final = "okta:auth/server:Server"
RULE: Final = "okta:auth/serverPolicyRule:ServerPolicyRule"

REVIEW: Final = Review(
    client_types=(APP,),
    redirect_paths={APP: "redirectUris"},
    plaid_fields=(
        PlaidField(APP, "grantTypes", "Grant types", "", "grants"),
        PlaidField(APP, "tokenEndpointAuthMethod", "Token-endpoint authentication", "", "auth-method"),
        PlaidField(APP, "refreshTokenRotation", "Refresh-token rotation", "", "refresh"),
        PlaidField(RULE, "accessTokenLifetimeMinutes", "Access-token lifetime", " min", "access"),
        PlaidField(RULE, "refreshTokenLifetimeMinutes", "Refresh-token lifetime", " min", "refresh"),
        PlaidField(RULE, "refreshTokenWindowMinutes", "Refresh-token inactivity window", " min", "refresh"),
        PlaidField(RULE, "scopeWhitelists", "Scopes", "", "scopes"),
        PlaidField(RULE, "grantTypeWhitelists", "Grant types", "", "grants"),
    ),
    replacements=(
        Replacement(SERVER, "issuer", "Okta authorization server {name} is {verb}: a new issuer and signing keys, so "
                                      "Plaid's registration and every token break; register the new issuer with Plaid "
                                      "before merging."),
    ),
    # okta/terraform-provider-okta okta/services/idaas/: resource_okta_app_oauth.go (type, client_id; omit_secret
    # true -> false), resource_okta_app_group_assignments.go (app_id). Authorization server, policy and rule: none.
    create_only={
        APP: ("type", "clientId"),
        "okta:app/groupAssignments:GroupAssignments": ("appId",),
        SERVER: (),
        "okta:auth/serverPolicy:ServerPolicy": (),
        RULE: (),
    },
    stateful_types=(APP, SERVER),
)
