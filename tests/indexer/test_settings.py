"""The indexer command: bad settings are reported by their environment variable, in one line,
not a traceback; a good run prints its summary."""

import os
import subprocess
import sys

import pytest

from indexer import IndexStore
from indexer.errors import BadSettings
from indexer.settings import IndexSettings, load_settings
from tests.conftest import REPO, SEEDS


def test_every_invalid_setting_is_named_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSQA_PASSAGE_VECTORS", "bogus")
    with pytest.raises(BadSettings) as raised:
        load_settings(IndexSettings, batch_size=0)
    message = str(raised.value)
    assert "NEWSQA_PASSAGE_VECTORS: Input should be 'pooled' or 'encoded'" in message
    assert "NEWSQA_BATCH_SIZE" in message and "\n" not in message


def test_valid_settings_load_with_their_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_PASSAGE_VECTORS", "encoded")
    settings = load_settings(IndexSettings, batch_size=4)
    assert settings.passage_vectors == "encoded" and settings.batch_size == 4


def test_the_indexer_command_exits_with_one_line_on_a_bad_setting(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "--index-dir", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "NEWSQA_PASSAGE_VECTORS": "bogus"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: invalid settings: NEWSQA_PASSAGE_VECTORS: Input should be 'pooled' or 'encoded'"
    ]


def test_the_indexer_command_prints_its_summary_and_leaves_a_live_index(tmp_path) -> None:
    # The command ends without the interpreter's teardown: what it printed must still be out.
    result = subprocess.run(
        [sys.executable, "-m", "indexer", str(SEEDS), "--index-dir", str(tmp_path), "-q"],
        cwd=REPO,
        env={**os.environ, "NEWSQA_ONNX_CACHE_DIR": str(REPO / ".cache/onnx")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("full rebuild: 1 added") and result.stdout.endswith("\n")
    assert IndexStore(tmp_path).read_manifest().passage_count > 0
