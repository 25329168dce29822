"""The development/CI install is hash-pinned: requirements.lock (written by `make lock` with a pinned uv) holds
every pyproject.toml pin, the dev extra and the build backend, each with sha256 hashes; `make install` uses
it with --require-hashes and installs the project itself with --no-deps."""

from __future__ import annotations

import re
import tomllib

from tests.harness import ROOT

LOCK = ROOT / "requirements.lock"
TOOLS_LOCK = ROOT / "requirements-tools.lock"
ENTRY = re.compile(r"^([A-Za-z0-9_.-]+(?:\[[^\]]*\])?)==([^ \\;]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def _entries(path) -> dict[str, tuple[str, int]]:
    """{normalised name: (version, number of hashes)} of a hash-pinned requirements file."""
    out: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        m = ENTRY.match(line)
        if m:
            current = _normal(m.group(1))
            out[current] = (m.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, n = out[current]
            out[current] = (version, n + 1)
    return out


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["dev"],
            *project["build-system"]["requires"]]
    pins = {}
    for r in reqs:
        name, _, version = r.partition("==")
        assert version, f"pyproject.toml: {r} is not pinned with =="
        pins[_normal(name)] = version
    return pins


def test_every_pyproject_pin_is_in_the_lock_at_the_same_version():
    locked = _entries(LOCK)
    for name, version in _pins().items():
        assert name in locked, f"{name} is missing from requirements.lock: run make lock"
        assert locked[name][0] == version, f"{name}: pyproject.toml {version}, lock {locked[name][0]}: run make lock"


def test_every_locked_package_carries_hashes():
    locked = _entries(LOCK)
    assert len(locked) > 50
    assert all(n >= 1 for _, n in locked.values()), [k for k, (_, n) in locked.items() if n == 0]
    assert not re.search(r"^\s*(-e|--editable|git\+|https?://)", LOCK.read_text(), re.MULTILINE)


def test_the_lock_tool_is_pinned_with_hashes():
    assert {k: v[0] for k, v in _entries(TOOLS_LOCK).items()} == {"uv": _entries(TOOLS_LOCK)["uv"][0]}
    assert _entries(TOOLS_LOCK)["uv"][1] >= 2


def test_make_install_requires_hashes_then_installs_the_project_without_dependencies():
    make = (ROOT / "Makefile").read_text()
    assert "$(VENV)/.installed: pyproject.toml $(LOCK)" in make
    assert "pip install --disable-pip-version-check --progress-bar on --require-hashes -r $(LOCK)" in make
    assert "pip install --disable-pip-version-check --quiet --no-deps --no-build-isolation -e ." in make
    assert "'.[dev]'" not in make  # nothing resolved outside the lock
    tools = make[make.index("\nlock-tools:"):make.index("\nlock:")]
    assert "--require-hashes -r $(TOOLS_LOCK)" in tools  # uv itself comes hash-checked
    lock = make[make.index("\nlock:"):]
    assert lock.startswith("\nlock: lock-tools") and "uv pip compile pyproject.toml" in lock
    lambdas = make[make.index("\nlock-lambdas:"):]
    assert lambdas.startswith("\nlock-lambdas: install lock-tools") and "pip install --quiet" not in lambdas
    assert "--generate-hashes" in lock and "--extra dev" in lock
