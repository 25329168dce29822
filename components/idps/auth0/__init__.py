"""Auth0: a Plaid-ready API and client on an existing tenant (docs/auth0.md).

``settings`` (the ``auth0:`` section), ``component`` (PlaidAuth0Tenant and its post-login Action,
``consistency_key.js``), ``rules``, ``review``, ``mocks``. ``component`` is imported only when a program declares
the tenant (it imports pulumi_auth0).
"""

from __future__ import annotations

from typing import Final

from components.idps.auth0 import mocks, review, rules
from components.idps.auth0.settings import Auth0Settings
from components.idps.idp import Idp

IDP: Final = Idp(
    name="auth0",
    title="Auth0",
    settings=Auth0Settings,
    component="components.idps.auth0.component",
    rules=rules.RULES,
    review=review.REVIEW,
    mocks=mocks.MOCKS,
    docs="docs/auth0.md",
)
