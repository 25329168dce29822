"""Plaid readiness: one checklist, reused by the offline plan, the policy pack and the live check."""
