"""The offline plan: run the real ``__main__.py`` under Pulumi's mock engine and judge Plaid readiness.

``plaid-ready plan --stack NAME [--json|--summary]``: the report (summary, tree, outputs, readiness table) and its
``--json`` document (readiness/plan.schema.json).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.settings import parse_settings
from readiness.checklist import Context, Result, Status, all_rules, evaluate
from readiness.plan.stack import StackConfig, load_stack_config
from readiness.plan.values import WIDTH, json_value, rendered

#: Version of the ``plan --json`` document (readiness/plan.schema.json). Bump on an incompatible change.
SCHEMA_VERSION = 1

HEADER = (
    "This offline plan of stack '{stack}' (project {project}, region {region}) shows what the program "
    "declares, run under Pulumi's mock engine with the stack's config; it is NOT a diff against live state: "
    "every resource is shown as a create; values only the cloud knows are shown as (known after apply), the "
    "account id inside a document as (account), secrets as [secret]. Provider-side validation does not run. "
    "secure: config values cannot be decrypted offline{secure_note}."
)


_LABEL = {Status.PASS: "PASS", Status.CLOSEST: "CLOSEST", Status.FAIL: "FAIL"}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass
class PlanReport:
    stack: StackConfig
    resources: list[Any]
    outputs: dict[str, Any]
    results: list[Result]
    #: The project root: paths (the Lambda archive) are shown relative to it.
    root: Path | None = None

    @property
    def failed(self) -> list[Result]:
        """Failing mandatory rules: these make the stack not ready."""
        return [r for r in self.results if r.failed]

    @property
    def failing(self) -> list[Result]:
        """Every failing rule, mandatory or advisory."""
        return [r for r in self.results if r.finding.status is Status.FAIL]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for x in self.results if x.finding.status is s) for s in Status}

    def header(self) -> str:
        note = (f"; placeholders stand in for: {', '.join(sorted(self.stack.secret_keys))}"
                if self.stack.secret_keys else "")
        return HEADER.format(stack=self.stack.stack, project=self.stack.project, region=self.stack.region,
                             secure_note=note)

    def verdict(self) -> str:
        if self.failed:
            return (f"Verdict: NOT READY for Plaid: {_plural(len(self.failed), 'mandatory rule')} "
                    f"{'fails' if len(self.failed) == 1 else 'fail'} ({', '.join(x.rule.id for x in self.failed)}).")
        return ("Verdict: ready for Plaid as declared (every mandatory rule passes; closest-possible rows are "
                "IdP limits: see their reasons).")

    def to_json(self) -> dict[str, Any]:
        root = self.root
        counts = self.counts()
        return {
            "schemaVersion": SCHEMA_VERSION,
            "kind": "offline-plan",
            "note": self.header(),
            "project": self.stack.project,
            "stack": self.stack.stack,
            "region": self.stack.region,
            "ready": not self.failed,
            "summary": {
                "verdict": "not-ready" if self.failed else "ready",
                "resources": sum(1 for r in self.resources if r.custom),
                "components": sum(1 for r in self.resources if not r.custom),
                "rules": {"total": len(self.results), **counts},
                "failing": [x.rule.id for x in self.failing],
            },
            "resources": [
                {"type": r.type, "name": r.name, "parent": r.parent_name, "custom": r.custom,
                 "protect": r.protect, "inputs": json_value(r.inputs, root)}
                for r in self.resources
            ],
            "outputs": json_value(self.outputs, root),
            "readiness": [
                {"id": x.rule.id, "requirement": x.rule.requirement, "mandatory": x.rule.mandatory,
                 "status": x.finding.status.value, "declared": x.finding.declared, "reason": x.finding.reason,
                 "source": x.rule.source}
                for x in self.results
            ],
        }

    def _summary(self) -> list[str]:
        c = self.counts()
        lines = [f"Offline plan of stack '{self.stack.stack}' (project {self.stack.project}, "
                 f"region {self.stack.region})",
                 self.verdict(),
                 f"Counts: {_plural(sum(1 for r in self.resources if r.custom), 'resource')}, "
                 f"{_plural(sum(1 for r in self.resources if not r.custom), 'component')}; "
                 f"{_plural(len(self.results), 'readiness rule')}: {c['pass']} pass, "
                 f"{c['closest']} closest-possible, {c['fail']} fail"]
        if not self.failing:
            lines.append("Failing rules: none")
            return lines
        lines.append("Failing rules:")
        for x in self.failing:
            lines.extend(self._row(x))
        return lines

    @staticmethod
    def _row(x: Result) -> list[str]:
        tag = _LABEL[x.finding.status] + ("" if x.rule.mandatory else " (advisory)")
        lines = [f"  {tag:<18} {x.rule.id:<24} {x.rule.requirement}",
                 f"  {'':<18} {'':<24} declared: {x.finding.declared}"]
        if x.finding.reason:
            lines.append(f"  {'':<18} {'':<24} reason:   {x.finding.reason}")
        return lines

    def _table(self) -> list[str]:
        c = self.counts()
        lines = [f"Plaid readiness ({_plural(len(self.results), 'rule')}: {c['pass']} pass, "
                 f"{c['closest']} closest-possible, {c['fail']} fail)"]
        for x in self.results:
            lines.extend(self._row(x))
        return lines

    def to_text(self, summary_only: bool = False) -> str:
        """Summary first (verdict, counts, failing rules), then the tree and outputs, then the readiness
        table. ``summary_only``: the summary and the readiness table."""
        if summary_only:
            return "\n".join([*self._summary()[:3], "", *self._table()])
        lines = [*self._summary(), ""]
        lines += [textwrap.fill(self.header(), width=WIDTH, break_on_hyphens=False), ""]
        by_parent: dict[str, list[Any]] = {}
        urns = {r.urn for r in self.resources}
        for r in self.resources:
            parent = r.parent_urn if r.parent_urn in urns else ""
            by_parent.setdefault(parent, []).append(r)
        for children in by_parent.values():
            children.sort(key=lambda r: (r.custom, r.type, r.name))
        lines.append(f"Resources ({_plural(sum(1 for r in self.resources if r.custom), 'resource')}, "
                     f"{_plural(sum(1 for r in self.resources if not r.custom), 'component')}):")

        def walk(parent: str, depth: int) -> None:
            for r in by_parent.get(parent, []):
                pad = "    " * depth
                flag = "  [protected]" if r.protect else ""
                lines.append(f"{pad}+ {r.type}  {r.name}{flag}")
                for key in sorted(r.inputs):
                    lines.extend(rendered(key, r.inputs[key], f"{pad}      ", self.root))
                walk(r.urn, depth + 1)

        walk("", 1)
        lines += ["", "Outputs:"]
        for key in sorted(self.outputs):
            lines.extend(rendered(key, self.outputs[key], "    ", self.root, width=120))
        lines += ["", *self._table(), "", self.verdict()]
        return "\n".join(lines)


def build_report(program_dir: Path, stack: str) -> PlanReport:
    """Validate settings, run the program offline, evaluate the checklist. Raises UsageError/SettingsError."""
    from readiness.engine import run_program

    cfg = load_stack_config(program_dir, stack)
    settings = parse_settings(cfg.config, cfg.secret_keys)
    run = run_program(program_dir, cfg.project, stack, cfg.config, cfg.secret_keys, compute=False)
    # The engine registers resources as their inputs resolve, in an order that varies from run to run:
    # sort them (by URN: parent chain, type, name) so the plan, --json and every rule see one order.
    resources = sorted(run.resources, key=lambda r: r.urn)
    ctx = Context(resources=resources, environment=settings.environment.value)
    return PlanReport(cfg, resources, run.outputs, evaluate(all_rules(), ctx), root=program_dir)

