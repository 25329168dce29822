"""Shared test helpers: run Pulumi code under the recording mock engine and query what it declared.

    declared = declare(lambda: PlaidClientSecret("x", args))        # preview=False, computed outputs
    key = declared.one("aws:kms/key:Key", "x-key")
    assert key.input("enableKeyRotation") is True                  # camelCase engine names

Inside the callable, ``pulumi.export(name, value)`` makes an output available as
``declared.outputs[name]`` (a ``SecretValue`` when the value is a Pulumi secret).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.settings import PROJECT, StackSettings, parse_settings
from readiness.checklist import Context, Result, all_rules, evaluate
from readiness.engine import DeclaredResource, SecretValue, run_program

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

#: A complete, valid Auth0 dev stack's settings (stack-file shape, camelCase keys).
BASE_SETTINGS: dict[str, Any] = {
    "environment": "dev",
    "idp": "auth0",
    "institution": {"name": "First Platypus Bank", "code": "fpb"},
    "audience": "https://api.firstplatypus.example/fdx",
    # The role that runs `pulumi up` administers Plaid's client secret (key and secret policies; SECRET-POLICY).
    "clientSecret": {"administrators": ["arn:aws:iam::111122223333:role/plaid-ready-deployer"]},
    "auth0": {"domain": "first-platypus-dev.us.auth0.com"},
}


#: The region every test stack runs in unless it says otherwise (``aws:region`` is required).
REGION = "us-east-1"


def config_of(settings: dict[str, Any], extra: dict[str, str] | None = None, *,
              region: str | None = REGION) -> dict[str, str]:
    """Settings (stack-file shape) -> fully qualified Pulumi config strings, as the CLI passes them.

    Carries ``aws:region`` (``region``; None leaves it out); ``extra`` may override it."""
    cfg = {} if region is None else {"aws:region": region}
    cfg.update({f"{PROJECT}:{k}": (json.dumps(v) if isinstance(v, dict | list) else str(v))
                for k, v in settings.items()})
    cfg.update(extra or {})
    return cfg


def settings_with(**changes: Any) -> dict[str, Any]:
    """BASE_SETTINGS with top-level keys replaced (None removes a key)."""
    s = copy.deepcopy(BASE_SETTINGS)
    for k, v in changes.items():
        if v is None:
            s.pop(k, None)
        else:
            s[k] = v
    return s


def make_settings(**changes: Any) -> StackSettings:
    return parse_settings(config_of(settings_with(**changes)))


@dataclass
class Declared:
    resources: list[DeclaredResource]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == typ]

    def custom(self) -> list[DeclaredResource]:
        return [r for r in self.resources if r.custom]

    def one(self, typ: str, name: str | None = None) -> DeclaredResource:
        found = [r for r in self.resources if r.type == typ and (name is None or r.name == name)]
        if len(found) != 1:
            names = sorted(r.name for r in self.resources if r.type == typ)
            raise AssertionError(f"expected exactly one {typ}{f' named {name!r}' if name else ''}; got {names}")
        return found[0]

    def by_urn(self, urn: str) -> DeclaredResource:
        return next(r for r in self.resources if r.urn == urn)

    def parent_of(self, r: DeclaredResource) -> DeclaredResource:
        return self.by_urn(r.parent_urn)

    def readiness(self, environment: str = "dev") -> list[Result]:
        return evaluate(all_rules(), Context(self.resources, environment))

    def finding(self, rule_id: str, environment: str = "dev") -> Result:
        found = [r for r in self.readiness(environment) if r.rule.id == rule_id]
        assert found, f"rule {rule_id} did not apply"
        return found[0]


def declare(fn: Callable[[], None], *, settings: dict[str, Any] | None = None, stack: str = "test",
            compute: bool = True) -> Declared:
    """Run ``fn`` as a Pulumi program under recording mocks (preview=False unless compute=False)."""
    cfg = config_of(settings or BASE_SETTINGS)
    run = run_program(ROOT, PROJECT, stack, cfg, [], compute=compute, entry=fn)
    return Declared(run.resources, run.outputs)


def is_secret(value: Any) -> bool:
    return isinstance(value, SecretValue)


def run_stack_program(stack_settings: dict[str, Any], *, compute: bool = False,
                      extra: dict[str, str] | None = None) -> Declared:
    """Run the real __main__.py with these settings."""
    cfg = config_of(stack_settings, extra)
    run = run_program(ROOT, PROJECT, "test", cfg, [], compute=compute)
    return Declared(run.resources, run.outputs)
