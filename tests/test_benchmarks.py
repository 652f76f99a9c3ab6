"""Benchmarks are not run by the suite (they print figures, they assert nothing), but they must
keep importing: a refactor of the library that breaks one should fail here, not in `make bench`."""

import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted(
    p.stem
    for p in (Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py")
    if p.stem != "__init__"
)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_module_imports(name: str) -> None:
    importlib.import_module(f"benchmarks.{name}")
