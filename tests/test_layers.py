"""The one-way import rule: service may import indexer, indexer never imports service."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for file in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(file.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((file.name, node.module))
    return found


def test_indexer_never_imports_service() -> None:
    offending = {
        (f, m)
        for f, m in imported_modules("indexer")
        if m.split(".")[0] in {"service", "benchmarks"}
    }
    assert not offending


def test_service_never_imports_benchmarks_or_main_modules() -> None:
    offending = {
        (f, m)
        for f, m in imported_modules("service")
        if m.split(".")[0] == "benchmarks" or m.endswith("__main__")
    }
    assert not offending


def test_the_indexer_package_exports_every_name_it_lists() -> None:
    """Its names are imported on first use (indexer/__init__.py): each must resolve."""
    import indexer

    assert set(indexer.__all__) == set(indexer._HOMES)
    for name in indexer.__all__:
        assert getattr(indexer, name).__name__ == name
