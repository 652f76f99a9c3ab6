"""The container image as a user runs it (``make image-test``, after ``make image``): it starts,
becomes ready, answers the phases question with a citation that checks out, runs as a non-root
user, and has no torch. Skipped unless ``NEWSQA_IMAGE`` names the image to run."""

import os
import shlex
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port

IMAGE = os.environ.get("NEWSQA_IMAGE", "")
PODMAN = os.environ.get("NEWSQA_PODMAN", "podman")
FLAGS = shlex.split(os.environ.get("NEWSQA_PODMAN_FLAGS", ""))

pytestmark = pytest.mark.skipif(not IMAGE, reason="make image-test runs these (NEWSQA_IMAGE)")


def podman(*args: str) -> str:
    return subprocess.run([PODMAN, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[str, str, float]]:
    """(base URL, container id, seconds from `podman run` to /ready 200)."""
    port = free_port()
    began = time.monotonic()
    container = podman("run", *FLAGS, "-d", "-p", f"127.0.0.1:{port}:8000", IMAGE).strip()
    base_url = f"http://127.0.0.1:{port}"
    try:
        while time.monotonic() - began < 180:
            try:
                if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("not ready in 180 s:\n" + podman("logs", container))
        yield base_url, container, time.monotonic() - began
    finally:
        subprocess.run([PODMAN, "rm", "-f", container], capture_output=True)


def test_the_image_answers_the_phases_question_with_a_citation_that_checks_out(running) -> None:
    base_url, _, ready_after = running
    answer = httpx.get(f"{base_url}/ask", params={"q": "what are the deal's phases?"}).json()
    cited = answer["answer"]["citation"]
    document = httpx.get(f"{base_url}/documents/{cited['doc_id']}").json()
    assert document["text"][cited["start"] : cited["end"]] == answer["answer"]["text"]
    assert len(answer["answer"]["parts"]) == 2 and "phase" in answer["answer"]["text"]
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE))
    print(f"\nimage {IMAGE}: {size / 1e6:.0f} MB; ready {ready_after:.1f} s after podman run")


def test_it_runs_as_a_non_root_user_without_torch(running) -> None:
    _, container, _ = running
    assert podman("exec", container, "id", "-u").strip() == "10001"
    probe = "import importlib.util as u; print(u.find_spec('torch') is None)"
    assert podman("exec", container, "python", "-c", probe).strip() == "True"
    health = podman("healthcheck", "run", container)
    assert "unhealthy" not in health
