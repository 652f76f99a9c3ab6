"""The floors of the house (``../shared/STYLE.md``, docs/architecture.md): imports go
benchmarks -> service -> indexer, inside service the adapters (api, mcp, tools) -> engine, and
no module imports another that imports it back, even through others."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "service", "benchmarks")
ADAPTERS = ("fastapi", "starlette", "uvicorn", "mcp", "service.api", "service.mcp", "service.tools")


def module_name(file: Path) -> str:
    parts = list(file.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(file: Path) -> set[str]:
    """Every module ``file`` imports, at any depth (inside functions and ``if TYPE_CHECKING:``
    too: a circle of types is a circle); for ``from a import b`` that is ``a.b`` when it is a
    module, else ``a``."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(file.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        pending.extend(ast.iter_child_nodes(node))
    return found


MODULES = {module_name(f): f for package in PACKAGES for f in (REPO / package).rglob("*.py")}
GRAPH = {name: {m for m in imports_of(file) if m in MODULES} for name, file in MODULES.items()}


def _starts(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_import_graph_has_no_circles() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not circles


@pytest.mark.parametrize(
    ("floor", "never"),
    [
        (("indexer",), ("service", "benchmarks")),
        (("service",), ("benchmarks",)),
        (("service.engine",), ADAPTERS),
    ],
)
def test_lower_floors_never_import_upper_ones(floor, never) -> None:
    offending = {
        (name, target)
        for name, file in MODULES.items()
        if _starts(name, floor)
        for target in imports_of(file)
        if _starts(target, never)
    }
    assert not offending


def test_nothing_imports_a_main_module() -> None:
    assert not {(n, t) for n, targets in GRAPH.items() for t in targets if t.endswith("__main__")}


def test_the_checks_see_real_imports() -> None:
    """Guards the guard: the graph must hold edges known to exist."""
    assert "service.engine.usecases" in GRAPH["service.api.routes.search"]  # from a import b
    assert "indexer.snapshot" in GRAPH["indexer.store"]  # from a.b import c
    assert "indexer.embedding.torch" in GRAPH["indexer.embedding"]  # inside a function


def test_the_indexer_package_exports_every_name_it_lists() -> None:
    """Its names are imported on first use (indexer/__init__.py): each must resolve."""
    import indexer

    assert set(indexer.__all__) == set(indexer._HOMES)
    for name in indexer.__all__:
        assert getattr(indexer, name).__name__ == name
