"""The editable install (make install) puts the project root on sys.path with a .pth file: pyproject.toml's package
discovery names the root as the package directory, so setuptools does not fall back to its meta path finder (whose
install warns that folders in the working directory named like the packages may take precedence over them)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.harness import ROOT


def test_the_editable_wheel_is_a_pth_to_the_project_root(tmp_path):
    code = f"import setuptools.build_meta as b; print(b.build_editable({str(tmp_path)!r}))"
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    log = out.stdout + out.stderr
    assert "meta path finder" not in log and "careful with folders" not in log
    wheel = tmp_path / out.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as z:
        pth = [n for n in z.namelist() if n.endswith(".pth")]
        assert len(pth) == 1 and not [n for n in z.namelist() if n.endswith("_finder.py")]
        assert z.read(pth[0]).decode().strip() == str(ROOT.resolve())
