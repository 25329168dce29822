"""The same stack planned from two clones of the project, twice each way, gives byte-identical output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambdas import build
from tests.harness import ROOT


def _clone(dest: Path) -> Path:
    """The working tree's files (tracked and new, not ignored) as a user's clone would hold them."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs a git checkout to copy the tree from ({exc})")
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    # Reuse the Lambda package built for this checkout (same sources -> same cache key), not a new pip run.
    (dest / ".build").symlink_to(build.CACHE_DIR.parent, target_is_directory=True)
    return dest


def _plan(tree: Path, *extra: str) -> subprocess.CompletedProcess:
    # cwd = the clone: its own readiness/, components/ and lambdas/ are the ones imported.
    return subprocess.run([sys.executable, "-m", "readiness.cli", "plan", "--stack", "auth0-example", *extra],
                          cwd=tree, capture_output=True, text=True, timeout=300)


def test_two_clones_give_byte_identical_plans(tmp_path: Path):
    build.build_package("arm64", "3.13")  # the cache both clones read (a no-op once built)
    a, b = _clone(tmp_path / "clone-a"), _clone(tmp_path / "clone-b")
    outputs = {}
    for tree in (a, b):
        for fmt in ("text", "json"):
            r = _plan(tree, *(["--json"] if fmt == "json" else []))
            assert r.returncode in (0, 1), r.stderr
            assert str(tree) not in r.stdout and str(ROOT) not in r.stdout and str(tmp_path) not in r.stdout
            outputs[tree, fmt] = r.stdout
    assert outputs[a, "text"] == outputs[b, "text"]
    assert outputs[a, "json"] == outputs[b, "json"]
    assert "FileArchive(.build/lambda/" in outputs[a, "text"]
    assert '"path": ".build/lambda/' in outputs[a, "json"]
    # And a second run in the same tree changes nothing.
    assert _plan(a).stdout == outputs[a, "text"]
