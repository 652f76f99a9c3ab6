"""``newsqa ask|search|status`` against a real server, and ``python -m service``'s exits."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main
from tests.conftest import REPO, RunningServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_ask_prints_the_answer_with_its_citation(fake_server, capsys) -> None:
    status, out, _ = run(capsys, "--url", fake_server.base_url, "ask", "What are the phases?")
    assert status == 0
    first, cited = out.splitlines()[:2]
    assert first and cited.startswith("  [") and ".txt " in cited
    assert out.rstrip().splitlines()[-1].startswith("confidence ")


def test_search_and_status_print_passages_and_the_live_index(
    fake_server: RunningServer, capsys
) -> None:
    status, out, _ = run(capsys, "--url", fake_server.base_url, "search", "hostages", "-k", "2")
    assert status == 0 and out.startswith("1. ") and "\n\n2. " in out
    status, out, _ = run(capsys, "--url", fake_server.base_url, "--json", "status")
    assert status == 0 and json.loads(out)["documents"] == 1


def test_errors_are_one_line_and_exit_code_1(fake_server, capsys) -> None:
    url = fake_server.base_url
    status, _, err = run(capsys, "--url", url, "search", "x", "--published-after", "nope")
    assert (
        status == 1 and err.startswith("error: HTTP 422: published_after") and err.count("\n") == 1
    )
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status, _, err = run(capsys, "--url", f"http://127.0.0.1:{port}", "status")
    assert status == 1 and err.startswith("error: cannot reach the service")


@pytest.mark.slow
def test_a_service_that_cannot_bind_its_port_exits_cleanly(tmp_path: Path) -> None:
    """A one-line reason and a small exit code, not onnxruntime's abort at teardown (134)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [
            sys.executable,
            "-m",
            "service",
            "--index-dir",
            str(tmp_path),
            "--port",
            str(port),
        ]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert 0 < done.returncode < 128, done.stderr
    assert "address already in use" in done.stderr
    assert "terminate called" not in done.stderr
