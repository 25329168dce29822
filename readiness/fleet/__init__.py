"""Fleets of institutions: many stacks planned, judged and operated together (docs/fleet.md).

Modules: ``facts`` (what the fleet rules read of one stack), ``rules`` (the FLEET-* rules), ``worker`` (planning one
stack in a long-lived worker process), ``plan`` (``plan --all``: the pool, the report, readiness/fleet/
fleet.schema.json), ``command`` (its command line), ``ops`` (``fleet up|preview`` over Pulumi's Automation API),
``new_stack`` (``new-stack``).
"""
