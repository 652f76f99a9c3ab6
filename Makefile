# The commands the README names. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INDEX_DIR ?= index
# The folder(s) of articles to index and watch: make run SEEDS=~/articles
SEEDS ?= seeds
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run index serve test lint format bench bench-quality bench-news bench-speed bench-incremental bench-memory image image-test clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

index: install
	$(PY) -m indexer $(SEEDS) --index-dir $(INDEX_DIR)

# --watch builds the index first when there is none, then reindexes $(SEEDS) on every change.
run: install
	$(PY) -m service --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT) --watch $(SEEDS)

bench-incremental: install
	$(PY) -m benchmarks.incremental --articles 5000 --stand-in-base

# Resident memory of the service across full in-process reindexes (on data/news-2023).
bench-memory: install
	$(PY) -m benchmarks.memory

# The web page's end-to-end tests drive Debian's chromium (Playwright's own browser download
# cannot work offline). Without root it only says how; those tests then skip with the reason.
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "no /usr/bin/chromium: run 'sudo apt-get install chromium' for the browser tests"; fi; }

test: install browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

# Speed against the naive pipeline, quality per backend, search latency by corpus size, and
# the cost of filters (on data/news-2023, which the script says how to build when missing).
bench-speed: install
	$(PY) -m benchmarks.speed
	$(PY) -m benchmarks.speed_quality
	$(PY) -m benchmarks.scale
	$(PY) -m benchmarks.filters
	$(PY) -m benchmarks.filters --copies 3

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Answer quality through the HTTP API on the shared SQuAD 2.0 sample (docs/quality.md).
QUALITY_DATA ?= ../shared/data/squad2-dev-sample
bench-quality: install
	$(PY) -m benchmarks.evaluate $(QUALITY_DATA)/corpus.jsonl $(QUALITY_DATA)/queries.jsonl \
		$(QUALITY_DATA)/qrels/test.tsv --modes dense,lexical,hybrid \
		--off-topic benchmarks/offtopic_questions.txt

# Answer quality on real news (docs/quality.md, "Quality on real news"): data/news-2023 and data/news-2024,
# built by ../shared/tools/news_devset.py (the script says how when they are missing).
bench-news: install
	$(PY) -m benchmarks.news --modes dense,lexical,hybrid

# Every figure the docs report: quality, speed, then incremental reindexing.
bench: bench-quality bench-news bench-speed bench-incremental bench-memory

# The container image (Dockerfile), built and run with podman. No registry image can be pulled
# on the machines this project is built on, so the base is made from Debian's packages
# (debootstrap) and imported once; elsewhere: make image BASE_IMAGE=python:3.11-slim.
IMAGE ?= localhost/newsqa:latest
BASE_IMAGE ?= localhost/newsqa-base:bookworm
ROOTFS ?= /var/tmp/newsqa-rootfs
PODMAN ?= podman
# This machine's sandbox: podman's default limits exceed what it grants, and crun cannot run
# on its hybrid cgroups; runc can.
PODMAN_FLAGS ?= --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096
# torch's CPU wheel from this machine's disk and its TLS proxy's certificates, during the build
# only; empty where pip reaches download.pytorch.org itself.
IMAGE_BUILD_FLAGS ?= $(if $(wildcard /opt/wheels),--volume /opt/wheels:/opt/wheels:ro \
	--build-arg PIP_FIND_LINKS=/opt/wheels --build-arg TORCH_INDEX_URL= \
	--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/ca-bundle.crt:ro \
	--build-arg PIP_CERT=/etc/ssl/ca-bundle.crt)

image:
	@command -v $(PODMAN) >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq podman buildah debootstrap runc; }
	@case "$(BASE_IMAGE)" in localhost/newsqa-base:*) $(PODMAN) image exists $(BASE_IMAGE) || { \
		test -x $(ROOTFS)/usr/bin/python3 || debootstrap --variant=minbase \
			--include=python3,python3-venv,ca-certificates bookworm $(ROOTFS) http://deb.debian.org/debian; \
		tar -C $(ROOTFS) -c . | $(PODMAN) import - $(BASE_IMAGE); } ;; esac
	$(PODMAN) build --format docker $(PODMAN_FLAGS) $(IMAGE_BUILD_FLAGS) --build-arg BASE=$(BASE_IMAGE) -t $(IMAGE) .

# Runs the image, waits for /ready, asks the phases question and checks its citation.
image-test: install
	NEWSQA_IMAGE=$(IMAGE) NEWSQA_PODMAN=$(PODMAN) NEWSQA_PODMAN_FLAGS="$(PODMAN_FLAGS)" \
		$(PY) -m pytest -q -s tests/image

clean:
	rm -rf $(VENV) $(INDEX_DIR) .pytest_cache .mypy_cache .ruff_cache
