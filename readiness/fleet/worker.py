"""Planning one stack of a fleet, in a worker process that lives for many stacks.

:func:`warm` (the pool's initializer) imports the heavy modules once per worker (Pulumi, the providers' SDKs, the
components); :func:`plan_one` then plans a stack in that interpreter and returns plain data (:class:`StackOutcome`):
a stack that cannot be planned is an outcome with its specific error, never an exception.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.fleet.facts import StackFacts

#: Imported by every worker before its first stack: what every plan needs, whatever its IdP (each registered IdP's
#: component module, with its provider SDK, is added by :func:`warm`).
HEAVY_MODULES = ("pulumi", "pulumi_aws", "pulumi_random", "readiness.engine", "readiness.plan.report",
                 "components.customers_api")


@dataclass
class StackOutcome:
    """What planning one stack gave: verdict ``ready``, ``not-ready`` or ``error`` (then ``errors`` say why)."""

    stack: str
    verdict: str
    idp: str = ""
    environment: str = ""
    institution: str = ""
    failing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    facts: StackFacts | None = None
    #: The stack's ``plan --json`` document and its ``--summary`` text (when details were asked for).
    plan: dict[str, Any] | None = None
    summary_text: str = ""


#: pulumi_aws loads its submodules on first attribute use: the ones the program uses.
LAZY_SUBMODULES = ("pulumi_aws.apigateway", "pulumi_aws.cloudwatch", "pulumi_aws.iam",
                   "pulumi_aws.kms", "pulumi_aws.lambda_", "pulumi_aws.secretsmanager", "pulumi_aws.sns",
                   "pulumi_aws.wafv2")


def warm() -> None:
    """The pool's initializer: import once what every stack's plan needs (a worker plans many stacks)."""
    os.environ.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    from components import idps

    for name in (*HEAVY_MODULES, *LAZY_SUBMODULES, *(idp.component for idp in idps.IDPS)):
        module = importlib.import_module(name)
        getattr(module, "__all__", None)  # the lazy modules load on attribute access


def _close_event_loops() -> None:
    """After a program that raised: close the event loops Pulumi's runtime left open (as ``plan`` does), so the
    next stack in this worker starts clean."""
    import asyncio
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_running() and not obj.is_closed():
            obj.close()
    asyncio.set_event_loop_policy(None)


def _build_problem(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = (lines[0] if lines else type(exc).__name__).rstrip(":")
    return f"cannot build the Lambda package: {first} (details: `python -m lambdas.build`)"


def _identity(outcome: StackOutcome, config: dict[str, str], project: str) -> None:
    """What the table shows even of a stack whose settings are invalid (read as written, not validated)."""
    import json

    outcome.idp = config.get(f"{project}:idp", "")
    outcome.environment = config.get(f"{project}:environment", "")
    try:
        institution = json.loads(config.get(f"{project}:institution", "") or "{}")
    except ValueError:
        institution = {}
    code = institution.get("code") if isinstance(institution, dict) else None
    outcome.institution = code if isinstance(code, str) else ""


def plan_one(program_dir: str, stack: str, details: bool = False) -> StackOutcome:
    """Plan ``stack`` offline (as ``plaid-ready plan --stack`` does) and return its outcome."""
    import pulumi

    from components.settings import SettingsError, parse_settings
    from lambdas.build import BuildError
    from readiness.fleet.facts import facts_of
    from readiness.plan import UsageError, build_report, load_stack_config

    root = Path(program_dir)
    outcome = StackOutcome(stack=stack, verdict="error")
    try:
        cfg = load_stack_config(root, stack)
        _identity(outcome, cfg.config, cfg.project)
        settings = parse_settings(cfg.config, cfg.secret_keys)
        try:
            report = build_report(root, stack)
        except BaseException:
            _close_event_loops()
            raise
    except UsageError as exc:
        outcome.errors = [str(exc)]
        return outcome
    except SettingsError as exc:
        outcome.errors = list(exc.problems)
        return outcome
    except BuildError as exc:
        outcome.errors = [_build_problem(exc)]
        return outcome
    except Exception as exc:  # noqa: BLE001 - one failing stack must not stop the fleet or print a traceback
        if isinstance(exc, pulumi.RunError):
            outcome.errors = [str(exc)]
        else:
            outcome.errors = [f"the program failed: {type(exc).__name__}: {exc} (plan this stack alone with "
                              "--traceback for details; this is a bug, please report it)"]
        return outcome
    outcome.verdict = "not-ready" if report.failed else "ready"
    outcome.failing = [x.rule.id for x in report.failing]
    outcome.facts = facts_of(cfg, settings, report.resources)
    if details:
        outcome.plan = report.to_json()
        outcome.summary_text = report.to_text(summary_only=True)
    return outcome
