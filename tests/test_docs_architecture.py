"""docs/architecture.md names only paths that exist (with ``<idp>`` standing for every registered IdP)."""

from __future__ import annotations

import re

from components import idps
from tests.harness import ROOT

DOC = ROOT / "docs" / "architecture.md"


def named_paths(text: str) -> list[str]:
    """The inline code spans outside fenced blocks that are paths: no space, at least one slash."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return sorted({span for span in re.findall(r"`([^`\n]+)`", prose) if "/" in span and " " not in span
                   and not span.startswith(("http://", "https://"))})


def missing(root, text: str) -> list[str]:
    out = []
    for path in named_paths(text):
        variants = [path.replace("<idp>", idp.name) for idp in idps.IDPS] if "<idp>" in path else [path]
        out += [v for v in variants if not (root / v).exists()]
    return out


def test_every_path_named_in_the_architecture_doc_exists():
    text = DOC.read_text()
    assert len(named_paths(text)) > 30  # the doc names the files it describes
    assert missing(ROOT, text) == []


def test_a_planted_missing_path_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    text = "See `docs/` and `docs/nope.md`, `docs/<idp>.md`, `a b/c` and\n```\nfenced/not/checked\n```\n"
    assert missing(tmp_path, text) == [f"docs/{idp.name}.md" for idp in idps.IDPS] + ["docs/nope.md"]
