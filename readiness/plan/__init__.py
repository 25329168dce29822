"""``plaid-ready plan``: the offline plan of a stack with its Plaid-readiness verdict (README, docs/settings.md).

Modules: ``stack`` (the project and stack files, ``--stack``), ``values`` (how a declared value is shown, in text
and in ``--json``), ``report`` (running the program under the mock engine, the report and its ``--json``
document, readiness/plan.schema.json). The command line is readiness/cli.py.
"""

from readiness.plan.report import SCHEMA_VERSION, PlanReport, build_report
from readiness.plan.stack import StackConfig, UsageError, available_stacks, load_stack_config, resolve_stack

__all__ = ["SCHEMA_VERSION", "PlanReport", "StackConfig", "UsageError", "available_stacks", "build_report",
           "load_stack_config", "resolve_stack"]
