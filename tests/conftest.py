"""Suite-wide setup: the checkout on sys.path, and the ``e2e`` marker.

``e2e`` marks every test that starts another process (the Node OIDC provider, ``plaid-ready`` in a subprocess, a
git clone, pip or CPython 3.13 for the Lambda packages, actionlint): ``make test-fast`` runs the rest alone
(``pytest -m "not e2e"``). Marked here, from what each test's code references, so test modules need no edits:

- the modules in ``E2E_MODULES`` (every test in them starts one);
- a test whose code (or a module-level helper it calls, or a fixture it uses, one level deep) references
  ``subprocess``, ``Popen``, the loopback OIDC provider module (``oidc``) or a helper named in ``SPAWNERS``.
"""

import inspect
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

E2E_MODULES = frozenset({
    "tests/lambdas/test_oidc_e2e.py", "tests/lambdas/test_cognito_e2e.py", "tests/lambdas/test_okta_e2e.py",
    "tests/lambdas/test_local_server.py", "tests/lambdas/test_packaging.py", "tests/readiness/test_compare.py",
    "tests/readiness/test_cli_compare.py", "tests/readiness/test_plan_stable.py",
})
#: Names that start a process when called or used: the standard library's, the test OIDC provider's module, and the
#: shared helpers that spawn one.
SPAWNERS = frozenset({"subprocess", "Popen", "oidc", "start_providers", "spawn", "run_program_in_clone"})


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_varnames)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _module_spawners(module: types.ModuleType) -> set[str]:
    cached = getattr(module, "__e2e_spawners__", None)
    if cached is None:
        cached = {name for name, obj in vars(module).items()
                  if inspect.isfunction(obj) and obj.__module__ == module.__name__
                  and _names(obj.__code__) & SPAWNERS}
        module.__e2e_spawners__ = cached
    return cached


def _spawns(func: object, spawners: set[str]) -> bool:
    code = getattr(getattr(func, "__wrapped__", func), "__code__", None)
    return code is not None and bool(_names(code) & (SPAWNERS | spawners))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: starts another process (Node, a subprocess, pip, git); "
                                       "`make test-fast` leaves these out")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).resolve()
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        module = getattr(item, "module", None)
        spawners = _module_spawners(module) if module is not None else set()
        fixtures = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}) or {}
        if (rel in E2E_MODULES or _spawns(getattr(item, "function", None), spawners)
                or any(_spawns(d.func, spawners | _module_spawners(sys.modules.get(d.func.__module__, module)))
                       for defs in fixtures.values() for d in defs if sys.modules.get(d.func.__module__))):
            item.add_marker(pytest.mark.e2e)
