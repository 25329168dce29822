"""All readiness rules, in checklist order. Each module owns the rules for what its component declares."""

from readiness.checklist import Rule
from readiness.rules import api, auth0, secrets

RULES: tuple[Rule, ...] = (*secrets.RULES, *auth0.RULES, *api.RULES)
