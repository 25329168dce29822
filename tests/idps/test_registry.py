"""The registry (components/idps): one package per IdP, and nothing outside it that names an IdP in code."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from components import idps
from components.checklist import Rule
from readiness.checklist import all_rules
from readiness.rules import api, probe, secrets
from tests.harness import ROOT

#: Where code must not name an IdP (outside each IdP's own package).
SCANNED = ("plaid_contract", "components", "readiness", "policy", "lambdas/customers_current", "__main__.py")
#: The files outside an IdP's package allowed to name IdPs in code: the registry (it imports each package).
ALLOWED = {"components/idps/__init__.py"}
IDP_NAME = re.compile(r"auth0|okta|cognito", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def names_in_code(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal (docstrings aside) and identifier that names an IdP. Comments are
    not code (the parser drops them)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        texts: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            texts = [node.value]
        elif isinstance(node, ast.Name):
            texts = [node.id]
        elif isinstance(node, ast.Attribute):
            texts = [node.attr]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            texts = [node.name]
        elif isinstance(node, ast.alias):
            texts = [node.name, node.asname or ""]
        elif isinstance(node, ast.ImportFrom):
            texts = [node.module or ""]
        elif isinstance(node, ast.arg):
            texts = [node.arg]
        elif isinstance(node, ast.keyword):
            texts = [node.arg or ""]
        found += [(getattr(node, "lineno", 0), t) for t in texts if IDP_NAME.search(t)]
    return found


def _scanned_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _in_an_idp_package(rel: str) -> bool:
    return any(rel.startswith(f"components/idps/{idp.name}/") for idp in idps.IDPS)


def test_idps_are_named_in_code_only_in_their_packages_and_the_registry():
    offenders = {}
    for path in _scanned_files():
        rel = path.relative_to(ROOT).as_posix()
        if _in_an_idp_package(rel) or rel in ALLOWED:
            continue
        hits = names_in_code(path.read_text())
        if hits:
            offenders[rel] = hits[:3]
    assert offenders == {}
    assert len(ALLOWED) <= 3


@pytest.mark.parametrize(("source", "expected"), [
    ('"""Auth0, Okta and Cognito in a docstring."""\n# okta in a comment\nx = 1\n', []),
    ('TYPE = "okta:app/oAuth:OAuth"\n', [(1, "okta:app/oAuth:OAuth")]),
    ("def on_cognito(): pass\n", [(1, "on_cognito")]),
    ("from components.idps.auth0 import IDP\n", [(1, "components.idps.auth0")]),
    ('f(message=f"on {x} not Auth0")\n', [(1, " not Auth0")]),
    ("settings.okta\n", [(1, "okta")]),
])
def test_the_scan_finds_names_in_code_not_in_docstrings_or_comments(source, expected):
    assert names_in_code(source) == expected


# -- the registry and its packages --------------------------------------------------------------------


def test_each_idp_is_one_package_with_every_part():
    assert len({idp.name for idp in idps.IDPS}) == len(idps.IDPS) == 3
    for idp in idps.IDPS:
        package = ROOT / "components" / "idps" / idp.name
        for part in ("__init__", "settings", "component", "rules", "review", "mocks"):
            assert (package / f"{part}.py").is_file(), (idp.name, part)
        assert idp.component == f"components.idps.{idp.name}.component"
        assert idp.settings.__module__ == f"components.idps.{idp.name}.settings"
        assert (ROOT / idp.docs).is_file()
        assert importlib.import_module(idp.component).tenant is not None


def test_by_name_and_names():
    assert idps.names() == tuple(idp.name for idp in idps.IDPS)
    assert idps.by_name("okta") is idps.IDPS[1]
    with pytest.raises(ValueError, match="no IdP named 'keycloak'; known: auth0, okta, cognito"):
        idps.by_name("keycloak")


def test_each_idps_rules_are_its_own_and_the_checklist_order_comes_from_the_registry():
    for idp in idps.IDPS:
        assert idp.rules and all(isinstance(r, Rule) for r in idp.rules)
        assert all(r.id.startswith(f"{idp.name.upper()}-") for r in idp.rules)
    expected = [*secrets.RULES, *(r for idp in idps.IDPS for r in idp.rules), *api.RULES, *probe.RULES]
    assert all_rules() == expected
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids))


def test_each_review_names_plaids_client_and_its_state():
    for idp in idps.IDPS:
        review = idp.review
        assert review.client_types and set(review.redirect_paths) == set(review.client_types)
        assert set(review.client_types) <= set(review.stateful_types) <= set(secrets.STATEFUL_TYPES)
        assert {f.kind for f in review.plaid_fields} <= {"access", "id", "refresh", "alg", "auth-method",
                                                         "must-stay-true", "scopes", "grants"}


def test_the_comparison_and_the_engine_read_the_registry():
    from readiness import engine
    from readiness.compare import plaid as compare_plaid
    from readiness.compare import replace as compare_replace

    for idp in idps.IDPS:
        review = idp.review
        assert set(review.client_types) <= set(compare_plaid.CLIENT_TYPES)
        assert {(f.type, f.path) for f in review.plaid_fields} <= {(t, p) for t, p, *_ in compare_plaid.SETTINGS}
        assert all(compare_replace.CREATE_ONLY[t] == fields for t, fields in review.create_only.items())
        for typ in idp.mocks.outputs:
            assert set(idp.mocks.outputs[typ]("x", {"generateSecret": True})) <= set(
                engine.computed_outputs(typ, "x", {"generateSecret": True}))


def test_settings_and_rules_import_no_provider_sdk():
    """Settings-only users (the CLI's settings errors, the checklist, the comparison) need none of the Pulumi provider
    SDKs: an IdP's component module, which imports its SDK, loads only when a program declares the tenant."""
    code = ("import sys, json\n"
            "from components.settings import SettingsError, parse_settings\n"
            "from readiness.checklist import all_rules\n"
            "import readiness.compare.plaid, readiness.compare.replace\n"
            "try:\n    parse_settings({'aws:region': 'us-east-1', 'plaid-ready-idp:idp': 'okta'})\n"
            "except SettingsError:\n    pass\n"
            "all_rules()\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pulumi_auth0', 'pulumi_okta', 'pulumi_aws', 'pulumi_random') or m.endswith('.component'))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout) == []
