"""The registry of identity providers: one line per IdP in :data:`IDPS`.

Each IdP is one package, ``components/idps/<idp>/``, holding everything IdP-specific (see
:mod:`components.idps.idp`); its ``__init__.py`` defines one :class:`~components.idps.idp.Idp`, ``IDP``. The
program (``__main__.py``), the settings (their union of IdP sections), the checklist (its order), the comparison
(Plaid-visible and create-only fields) and the mock engine read this registry; none of them names an IdP.

Adding an IdP: a new package, a line here, a stack, docs and tests (docs/architecture.md, "How to add an IdP").
"""

from __future__ import annotations

from typing import Final

from components.idps import auth0, cognito, okta
from components.idps.idp import Idp

#: Every IdP, in checklist order (their rules follow the client-secret rules and precede the customers API's).
IDPS: Final[tuple[Idp, ...]] = (
    auth0.IDP,
    okta.IDP,
    cognito.IDP,
)


def names() -> tuple[str, ...]:
    """The IdPs' names, as ``plaid-ready-idp:idp`` takes them."""
    return tuple(idp.name for idp in IDPS)


def by_name(name: str) -> Idp:
    """The IdP called ``name``; ValueError naming the known ones otherwise."""
    for idp in IDPS:
        if idp.name == name:
            return idp
    raise ValueError(f"no IdP named {name!r}; known: {', '.join(names())}")


__all__ = ["IDPS", "Idp", "by_name", "names"]
