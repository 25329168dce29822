"""Readiness rules for what components/auth0.py declares."""

from readiness.checklist import Rule

RULES: tuple[Rule, ...] = ()
