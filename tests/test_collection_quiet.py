"""Collecting the suite logs nothing: the customers handler, which reads its configuration when it is imported (a
cold start), is imported under a complete configuration (tests/lambdas/conftest.py), so no "invalid configuration"
ERROR line precedes the test run."""

from __future__ import annotations

import subprocess
import sys

from tests.harness import ROOT


def test_collecting_the_suite_logs_no_error():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert '"level":"ERROR"' not in out.stdout + out.stderr
