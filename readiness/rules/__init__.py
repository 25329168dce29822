"""All readiness rules, in checklist order. Each module owns the rules for what its component declares.

The order is fixed here; an IdP's rules module joins the checklist by existing (``readiness/rules/<idp>.py``
with a ``RULES`` tuple), so adding an IdP touches no shared list.
"""

from __future__ import annotations

import importlib
import importlib.util

from readiness.checklist import Rule

#: Checklist order: client credentials and state, then each IdP, then the customers API.
ORDER = ("secrets", "auth0", "okta", "cognito", "api")


def _rules() -> tuple[Rule, ...]:
    out: list[Rule] = []
    for name in ORDER:
        module = f"{__name__}.{name}"
        if importlib.util.find_spec(module) is not None:
            out.extend(importlib.import_module(module).RULES)
    return tuple(out)


RULES: tuple[Rule, ...] = _rules()
