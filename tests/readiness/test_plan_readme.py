"""The README's Quick start shows what `make plan` prints today (its first lines, word for word)."""

from __future__ import annotations

import re

from readiness.plan import build_report
from tests.harness import ROOT


def test_quick_start_excerpt_matches_the_plan():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```text\n(.*?)\n```", section, re.DOTALL)
    assert match, "the Quick start has a ```text excerpt of the plan"
    excerpt = match.group(1).splitlines()
    assert excerpt[-1] == "..." and len(excerpt) > 4
    plan = build_report(ROOT, "auth0-example").to_text().splitlines()
    assert excerpt[:-1] == plan[:len(excerpt) - 1]
