"""Docs and committed stack files stay in step with the settings model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from components.settings import StackSettings, parse_settings
from readiness.plan import load_stack_config
from tests.harness import ROOT


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        nested = [a for a in (getattr(field.annotation, "__args__", ()) or (field.annotation,))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            out += _keys(nested[0], key + ".")
        else:
            out.append(key)
    return out


#: The settings reference: docs/settings.md, plus the "## Settings" section of an IdP's own page (if it has one).
IDP_PAGES = ("auth0.md", "okta.md", "cognito.md")


def _settings_text() -> str:
    parts = [(ROOT / "docs" / "settings.md").read_text()]
    for name in IDP_PAGES:
        page = ROOT / "docs" / name
        if page.is_file():
            match = re.search(r"^## Settings\b.*?(?=^## |\Z)", page.read_text(), re.MULTILINE | re.DOTALL)
            parts.append(match.group(0) if match else "")
    return "\n".join(parts)


def test_every_setting_is_documented():
    doc = _settings_text()
    documented = set(re.findall(r"^\| `([A-Za-z0-9.]+)` \|", doc, re.MULTILINE))
    assert documented == set(_keys(StackSettings))


STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def test_there_are_stack_files():
    assert STACKS


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_every_committed_stack_file_parses(path: Path):
    stack = path.name[len("Pulumi."):-len(".yaml")]
    cfg = load_stack_config(ROOT, stack)
    settings = parse_settings(cfg.config, cfg.secret_keys)
    assert settings.institution.code
    # Comments and examples in stack files must not carry credentials in plain text.
    raw = yaml.safe_load(path.read_text())["config"]
    assert not any(re.search(r"secret|password|token", k, re.I) and not isinstance(v, dict) for k, v in raw.items())
