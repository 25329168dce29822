"""The Plaid readiness checklist: which rules, in which order, and their evaluation.

The rule vocabulary (:class:`Status`, :class:`Finding`, :class:`Resource`, :class:`Context`, :class:`Rule`,
:class:`Result`, ``ok``/``fail``/``closest``) lives in ``components/checklist.py``, so an IdP's package can hold
its own rules without importing ``readiness``; it is re-exported here. The same rules run in the offline plan,
the CrossGuard policy pack (``policy/``) and, where they concern live endpoints, the live check.

Order: the client-secret and state rules (``readiness/rules/secrets.py``), then each registered IdP's rules in
the registry's order (``components/idps``), then the customers API's (``readiness/rules/api.py``), then the
readiness probe's (``readiness/rules/probe.py``). No list of
modules to keep in step: an IdP joins the checklist by joining the registry.

Rules across stacks (FLEET-*: one institution code, custom domain, physical name, Plaid client or consistency-key
namespace per stack) need every stack at once: they live in ``readiness/fleet/rules.py`` and run in
``plaid-ready plan --all`` (docs/fleet.md), not here and not in the policy pack (a stack policy sees one stack).
"""

from __future__ import annotations

from components import idps
from components.checklist import (
    Context,
    Finding,
    Resource,
    Result,
    Rule,
    SecretValue,
    Status,
    closest,
    evaluate,
    fail,
    is_secret,
    is_unknown,
    ok,
)
from readiness.rules import api, probe, secrets

__all__ = ["Context", "Finding", "Resource", "Result", "Rule", "SecretValue", "Status", "all_rules", "closest",
           "evaluate", "fail", "is_secret", "is_unknown", "ok"]


def all_rules() -> list[Rule]:
    """Every rule, in checklist order."""
    return [*secrets.RULES, *(rule for idp in idps.IDPS for rule in idp.rules), *api.RULES, *probe.RULES]
