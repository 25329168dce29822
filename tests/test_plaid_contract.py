"""Plaid's contract constants: well-formed, pure, and the single source of their literals."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

import plaid_contract as plaid
from tests.harness import ROOT, SHARED


def test_ip_ranges_are_valid_and_canonical():
    nets = [ipaddress.ip_network(c) for c in (*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4,
                                              *plaid.PLAID_IPV6_RANGES)]
    assert all(n.compressed in (*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4, *plaid.PLAID_IPV6_RANGES)
               for n in nets)
    assert len(set(plaid.PLAID_LEGACY_IPV4)) == 18
    assert all(ipaddress.ip_network(c).prefixlen == 32 for c in plaid.PLAID_LEGACY_IPV4)
    assert plaid.PLAID_IPV6_RANGES == ("2602:f74b::/40",)
    assert plaid.PLAID_IPV4_RANGES == ("162.120.88.0/22",)


def test_lifetimes_and_lengths():
    assert plaid.ACCESS_TOKEN_LIFETIME_SECONDS == 15 * 60
    assert plaid.REFRESH_TOKEN_MIN_SECONDS == 397 * 86_400 > 13 * 30 * 86_400
    assert plaid.CONSISTENCY_KEY_MIN_LENGTH == 7
    assert 2 * plaid.CLIENT_SECRET_BYTES == 64 <= plaid.CLIENT_CREDENTIAL_MAX_LENGTH
    assert plaid.CUSTOMER_NOT_AUTHORIZED == (401, 602, "Customer not authorized")


def test_plaid_module_imports_no_pulumi():
    code = "import sys; import plaid_contract; print(any(m.startswith('pulumi') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


LITERALS = ["cdn.plaid.com/link", "162.120.88.0", "2602:f74b", "18.214.218.91", "3.219.116.195"]


@pytest.mark.parametrize("literal", LITERALS)
def test_no_other_code_repeats_plaid_literals(literal):
    hits = subprocess.run(["git", "grep", "-l", "-i", "-F", literal, "--", "*.py", "*.js", "*.mjs"],
                          cwd=ROOT, capture_output=True, text=True).stdout.split()
    offenders = [h for h in hits if h != "plaid_contract/__init__.py" and not h.startswith(("tests/", "benchmarks/"))]
    assert offenders == []


def test_ranges_match_the_research_notes_when_available():
    notes = SHARED / "reference" / "plaid-core-exchange.md"
    if not notes.is_file():
        pytest.skip("../shared is absent (a user's clone has none); CI checks this")
    text = notes.read_text()
    for cidr in plaid.PLAID_LEGACY_IPV4:
        assert cidr.removesuffix("/32") in text
    assert plaid.PLAID_REDIRECT_URI in text


def test_runtime_code_imports_nothing_from_the_iac_tree():
    """lambdas/ (code that runs in AWS) never imports pulumi, components or readiness: arrows point one way."""
    import ast

    offenders = []
    for path in sorted((ROOT / "lambdas").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] in ("pulumi", "pulumi_aws", "components", "readiness", "policy")]
    assert offenders == []
