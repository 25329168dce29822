"""The shape of the code (docs/architecture.md): arrows point one way, no import circle, no source module over 500
lines. The import graph is read with the standard library's ``ast`` (nothing is imported), tests excluded."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT

#: The project's source packages, lowest layer first, and ``__main__.py`` (the Pulumi program).
PACKAGES = ("plaid_contract", "lambdas", "components", "readiness", "policy", "tools", "benchmarks")
MAIN = "__main__"

#: What each top-level package may import of ours (docs/architecture.md, "Layers"). ``tools`` (make mutation) and
#: ``benchmarks`` sit on top and may import any layer but each other.
ALLOWED: dict[str, set[str]] = {
    "plaid_contract": set(),
    "lambdas": {"plaid_contract"},
    "components": {"lambdas", "plaid_contract"},
    "readiness": {"components", "lambdas", "plaid_contract"},
    "policy": {"readiness", "components", "lambdas", "plaid_contract"},
    MAIN: {"components", "lambdas", "plaid_contract"},
    "tools": {"policy", "readiness", "components", "lambdas", "plaid_contract"},
    "benchmarks": {"policy", "readiness", "components", "lambdas", "plaid_contract"},
}

MAX_LINES = 500


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    #: Inside ``if TYPE_CHECKING:``: a dependency for the layers, not an import at run time.
    typing_only: bool
    line: int


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the source packages (``pkg/__init__.py`` is ``pkg``)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "node_modules" in path.parts or "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    if (root / "__main__.py").is_file():
        found[MAIN] = root / "__main__.py"
    return found


def _typing_only_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                lines |= {n.lineno for n in ast.walk(child) if hasattr(n, "lineno")}
    return lines


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name lives in (``a.b.c`` -> ``a.b`` when ``c`` is a name in ``a.b``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path) -> list[Edge]:
    """Every import of a project module by a project module, at any depth (function-level imports included)."""
    known = modules(root)
    edges: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        typing_only = _typing_only_lines(tree)
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in targets:
                owner = _owner(target, known)
                if owner is not None and owner != name:
                    edges.append(Edge(name, owner, node.lineno in typing_only, node.lineno))
    return edges


def cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_violations(edges: list[Edge]) -> list[str]:
    out = []
    for e in edges:
        src, dst = e.source.split(".")[0], e.target.split(".")[0]
        if src != dst and dst not in ALLOWED[src]:
            out.append(f"{e.source} (line {e.line}) imports {e.target}")
    return sorted(out)


def long_modules(root: Path) -> list[str]:
    return [f"{path.relative_to(root)}: {n} lines" for path in modules(root).values()
            if (n := len(path.read_text().splitlines())) > MAX_LINES]


# -- the project --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_graph(ROOT)


def test_the_graph_sees_the_project(edges):
    """The reader finds the arrows that are there (so the checks below cannot pass on an empty graph)."""
    pairs = {(e.source, e.target) for e in edges}
    assert ("readiness.cli", "readiness.exit_codes") in pairs
    assert ("components.idps", "components.idps.auth0") in pairs  # from components.idps import auth0
    assert ("lambdas.customers_current.handler", "plaid_contract") in pairs
    assert ("lambdas.build.__main__", "lambdas.build.cli") in pairs
    assert ("readiness.plan.report", "readiness.engine") in pairs  # a function-level import
    assert ("components.idps.idp", "components.settings.stack") in {(e.source, e.target) for e in edges
                                                                    if e.typing_only}
    assert len(modules(ROOT)) > 90


def test_no_import_circle(edges):
    """No circle among run-time imports (function-level ones included). ``if TYPE_CHECKING:`` imports are left out:
    the registry's Idp names StackSettings in annotations, and StackSettings is built from the registry."""
    assert cycles([e for e in edges if not e.typing_only]) == []


def test_layers_hold(edges):
    """plaid_contract imports nothing of ours; lambdas only lambdas and plaid_contract; components nothing of
    readiness, policy or tools; readiness nothing of policy or tools (annotations included)."""
    assert layer_violations(edges) == []


def test_no_source_module_over_500_lines():
    assert long_modules(ROOT) == []


# -- where an IdP is named ---------------------------------------------------------------------------------------

#: At most this many files outside an IdP's own package name it in code (#19: the registry, the settings choice).
MAX_FILES_NAMING_AN_IDP = 3
#: Runtime code that belongs to one IdP beside its package: Cognito's scope adapter Lambda.
IDP_RUNTIME: dict[str, tuple[str, ...]] = {"cognito": ("lambdas/scope_adapter",)}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                lines |= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def names_in_code(path: Path, word: str) -> bool:
    """Whether ``word`` (any case) appears in a name or a string of ``path``'s code: comments and docstrings
    are not code (tokenize gives comments their own tokens; docstrings are found with ast)."""
    text = path.read_text()
    docstrings = _docstring_lines(ast.parse(text))
    kinds = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    pattern = re.compile(re.escape(word), re.IGNORECASE)
    return any(tok.type in kinds and tok.start[0] not in docstrings and pattern.search(tok.string)
               for tok in tokenize.generate_tokens(io.StringIO(text).readline))


def files_naming(root: Path, idp: str) -> list[str]:
    """The source files outside ``components/idps/<idp>/`` (and the IdP's own runtime Lambda) that name ``idp``."""
    own = [root / "components" / "idps" / idp, *(root / p for p in IDP_RUNTIME.get(idp, ()))]
    return sorted(str(path.relative_to(root)) for path in modules(root).values()
                  if not any(o == path or o in path.parents for o in own) and names_in_code(path, idp))


def _idps(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "components" / "idps").iterdir() if (p / "__init__.py").is_file())


def test_each_idp_is_named_in_code_by_at_most_three_files_outside_its_package():
    found = {idp: files_naming(ROOT, idp) for idp in _idps(ROOT)}
    assert set(found) == {"auth0", "cognito", "okta"}
    for idp, files in found.items():
        assert "components/idps/__init__.py" in files, f"the registry should name {idp}"  # the scan sees code
        assert len(files) <= MAX_FILES_NAMING_AN_IDP, (
            f"{idp} is named in code by {len(files)} files outside components/idps/{idp}/: {files}; move what is "
            f"{idp}-specific into its package (docs/architecture.md, 'How to add an IdP')")


# -- type: ignore ------------------------------------------------------------------------------------------------

_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[a-z0-9_,\s-]+\])?(?P<rest>.*)$")


def unexplained_ignores(root: Path) -> list[str]:
    """``# type: ignore`` comments in the source without an error code or without a reason after it (mypy runs in
    ``make test``; an ignore must say what it silences and why, e.g. ``# type: ignore[arg-type]  # why``)."""
    out = []
    for path in modules(root).values():
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.COMMENT and (m := _IGNORE.search(tok.string)):
                reason = m["rest"].strip().lstrip("#-:(").strip()
                if not m["codes"] or not reason:
                    out.append(f"{path.relative_to(root)}:{tok.start[0]}: {tok.string.strip()}")
    return sorted(out)


def test_every_type_ignore_names_its_code_and_reason():
    assert unexplained_ignores(ROOT) == []


# -- the checks themselves, on planted trees ------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_planted_circle_is_found(tmp_path):
    root = _tree(tmp_path, {
        "readiness/__init__.py": "",
        "readiness/checklist.py": "from readiness.rules import RULES\n",
        "readiness/rules/__init__.py": "def f():\n    from .. import checklist\n",  # relative, inside a function
        "readiness/other.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import readiness.plain\n",
        "readiness/plain.py": "import readiness.other\n",
    })
    edges = import_graph(root)
    assert cycles([e for e in edges if not e.typing_only]) == [["readiness.checklist", "readiness.rules"]]
    assert ["readiness.other", "readiness.plain"] in cycles(edges)


def test_planted_layer_violations_are_found(tmp_path):
    root = _tree(tmp_path, {
        "plaid_contract/__init__.py": "import lambdas\n",
        "lambdas/__init__.py": "",
        "lambdas/handler.py": "from components.tenant import TenantContract\n",
        "components/__init__.py": "",
        "components/tenant.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from readiness import cli\n",
        "readiness/__init__.py": "",
        "readiness/cli.py": "import policy.policies as p\nfrom plaid_contract import X\n",
        "policy/__init__.py": "",
        "policy/policies.py": "",
    })
    assert layer_violations(import_graph(root)) == [
        "components.tenant (line 3) imports readiness.cli",
        "lambdas.handler (line 1) imports components.tenant",
        "plaid_contract (line 1) imports lambdas",
        "readiness.cli (line 1) imports policy.policies",
    ]


def test_a_long_module_is_found(tmp_path):
    root = _tree(tmp_path, {"components/__init__.py": "", "components/big.py": "x = 1\n" * (MAX_LINES + 1),
                            "components/ok.py": "x = 1\n" * MAX_LINES})
    assert long_modules(root) == [f"components/big.py: {MAX_LINES + 1} lines"]


def test_naming_an_idp_counts_code_not_comments_or_docstrings(tmp_path):
    root = _tree(tmp_path, {
        "components/__init__.py": "",
        "components/idps/__init__.py": "from components.idps import acme\n",
        "components/idps/acme/__init__.py": "NAME = 'acme'\n",
        "components/settings.py": '"""Acme is documented here."""\n# acme in a comment\nx = 1\n',
        "readiness/__init__.py": "",
        "readiness/a.py": "def f():\n    return f'{1} ACME tenant'\n",
        "readiness/b.py": "from components.idps.acme import NAME as acme_name\n",
        "readiness/c.py": 'class C:\n    """acme"""\n    y = "acme-example"\n',
        "readiness/d.py": 'def g():\n    """About Acme."""\n    return 1  # acme\n',
    })
    assert files_naming(root, "acme") == ["components/idps/__init__.py", "readiness/a.py", "readiness/b.py",
                                          "readiness/c.py"]


def test_a_planted_unexplained_ignore_is_found(tmp_path):
    root = _tree(tmp_path, {
        "components/__init__.py": "",
        "components/a.py": "x = f()  # type: ignore\ny = g()  # type: ignore[arg-type]\n"
                           "z = h()  # type: ignore[arg-type]  # the SDK's stub is wrong about h\n"
                           "s = '# type: ignore'\n",
    })
    assert unexplained_ignores(root) == ["components/a.py:1: # type: ignore",
                                         "components/a.py:2: # type: ignore[arg-type]"]
