"""Readiness rules for what components/customers_api.py/waf.py declares."""

from readiness.checklist import Rule

RULES: tuple[Rule, ...] = ()
