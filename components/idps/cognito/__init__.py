"""Amazon Cognito: a Plaid-ready app client on a user pool, and the scope adapter (docs/cognito.md).

``settings`` (the ``cognito:`` section), ``component`` (PlaidCognitoTenant), ``scope_adapter`` (PlaidScopeAdapter;
its runtime is ``lambdas/scope_adapter/``), ``rules``, ``review``, ``mocks``.
"""

from __future__ import annotations

from typing import Final

from components.idps.cognito import mocks, review, rules
from components.idps.cognito.settings import CognitoSettings
from components.idps.idp import Idp

IDP: Final = Idp(
    name="cognito",
    title="Cognito",
    settings=CognitoSettings,
    component="components.idps.cognito.component",
    rules=rules.RULES,
    review=review.REVIEW,
    mocks=mocks.MOCKS,
    docs="docs/cognito.md",
)
