# The commands the README names. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INDEX_DIR ?= index
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run index serve test lint format bench bench-speed clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

index: install
	$(PY) -m indexer seeds --index-dir $(INDEX_DIR)

run: index
	$(PY) -m service --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

# Speed against the naive pipeline, quality per backend, and search latency by corpus size.
bench-speed: install
	$(PY) -m benchmarks.speed
	$(PY) -m benchmarks.speed_quality
	$(PY) -m benchmarks.scale

bench: bench-speed

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(INDEX_DIR) .pytest_cache .mypy_cache .ruff_cache
