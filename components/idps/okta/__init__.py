"""Okta: a Plaid-ready custom authorization server and app on an existing org (docs/okta.md).

``settings`` (the ``okta:`` section), ``component`` (PlaidOktaTenant), ``rules``, ``review``, ``mocks``.
``component`` is imported only when a program declares the tenant (it imports pulumi_okta).
"""

from __future__ import annotations

from typing import Final

from components.idps.idp import Idp
from components.idps.okta import mocks, review, rules
from components.idps.okta.settings import OktaSettings

IDP: Final = Idp(
    name="okta",
    title="Okta",
    settings=OktaSettings,
    component="components.idps.okta.component",
    rules=rules.RULES,
    review=review.REVIEW,
    mocks=mocks.MOCKS,
    docs="docs/okta.md",
)
