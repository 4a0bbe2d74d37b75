"""The layout is a contract: layers import downwards only, no import cycles, core/ never imports streamlit, pages
hold no SQL, views never write, files stay under the line cap, every package says what it owns."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import grimp
import pytest
from grimp import Layer

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 700

# Top to bottom: a module may import from the layers below it, never from those above. Layers in one Layer(...,
# independent=True) may not import each other either.
LAYERS = (
    Layer("cli", "commands", "__main__", "relay", independent=False),
    "setup",
    "demo",
    "views",
    "health",
    "garmin",
    "importer",
    "coach",
    "rides",
    "routes",
    "athletes",
    Layer("files", "store", independent=True),
    "answers",
    "logs",
    "access",
    "config",
    "errors",
)
SQL_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|VIEW|INDEX)|DROP\s+(TABLE|VIEW|INDEX)|ALTER\s+TABLE)",
                       re.I)
SQL_ANY = re.compile(SQL_WRITE.pattern + r"|^\s*(SELECT\s+.+\s+FROM\s|WITH\s+\w+\s+AS\s*\()", re.I | re.S)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("core", include_external_packages=True)


def _python_files(*parts: str) -> list[Path]:
    files = []
    for part in parts:
        path = ROOT / part
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def test_layers_import_only_downwards(graph):
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers={"core"})
    assert not illegal, [f"{d.importer} -> {d.imported}" for d in illegal]


def test_every_core_module_is_in_a_layer(graph):
    named = set()
    for layer in LAYERS:
        named |= set(layer.module_tails) if isinstance(layer, Layer) else {layer}
    tops = {m.split(".")[1] for m in graph.modules if m.startswith("core.") and m.count(".") >= 1}
    assert tops <= named, sorted(tops - named)


def test_there_are_no_import_cycles_between_modules(graph):
    modules = sorted(m for m in graph.modules if m == "core" or m.startswith("core."))
    edges = {m: [d for d in graph.find_modules_directly_imported_by(m) if d.startswith("core.")] for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == []


def test_core_never_imports_streamlit(graph):
    importers = graph.find_modules_that_directly_import("streamlit") if "streamlit" in graph.modules else set()
    assert not [m for m in importers if m == "core" or m.startswith("core.")]


def test_core_never_imports_the_ui_the_shell_or_the_web_server():
    """core/ is the product without the UI: the shell (st.App, Starlette) and ui.py sit above it."""
    offenders = []
    for path in _python_files("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] in ("shell", "ui", "app", "navigation", "app_pages", "starlette",
                                                     "uvicorn")]
    assert offenders == []


def test_the_shell_never_reaches_into_pages_or_the_database():
    """shell/ wires access and the API; its handlers call core/, never SQL or a page."""
    offenders = []
    for path in _python_files("shell"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.name}: {text[:40]!r}" for text in _strings(tree) if SQL_ANY.match(text)]
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.name}: imports {n}" for n in names
                              if n.split(".")[0] in ("app_pages", "ui", "app", "navigation", "duckdb")]
    assert offenders == []


def _strings(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_pages_hold_no_sql_and_no_database_driver():
    offenders = []
    for path in _python_files("app_pages", "app.py", "navigation.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for text in _strings(tree):
            if SQL_ANY.match(text):
                offenders.append(f"{path.name}: {text[:40]!r}")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] == "duckdb" for n in names):
                    offenders.append(f"{path.name}: imports duckdb")
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "sql"):
                offenders.append(f"{path.name}: calls .{node.attr}()")
    assert offenders == []


def test_views_never_write():
    offenders = []
    for path in _python_files("core/views"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for text in _strings(tree):
            if SQL_WRITE.match(text):
                offenders.append(f"{path.name}: {text[:40]!r}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                writers = {"transaction", "bump_data_version", "audit", "delete_with_children"}
                offenders += [f"{path.name}: imports {a.name}" for a in node.names if a.name in writers]
    assert offenders == []


def test_no_source_file_outgrows_one_reading():
    sources = _python_files("core", "shell", "app_pages", "ui.py", "app.py", "navigation.py")
    long_files = {str(p.relative_to(ROOT)): n for p in sources
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long_files == {}


def test_every_package_says_what_it_owns_and_must_never_do():
    import core
    import shell

    missing = [] if "never" in (shell.__doc__ or "").lower() else ["shell"]
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if not info.ispkg or info.name == "core.commands":
            continue
        doc = (importlib.import_module(info.name).__doc__ or "").lower()
        if "never" not in doc or len(doc) < 80:
            missing.append(info.name)
    assert missing == []
