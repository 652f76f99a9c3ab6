import json
from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.errors import IndexIncompatible, IndexNotFound
from indexer.store import GenerationContent
from tests.conftest import SEED_ID, SEEDS


def build(index_dir: Path, embedder) -> None:
    build_index([SEEDS], IndexSettings(index_dir=index_dir), embedder, progress=False)


def test_index_round_trip_keeps_documents_passages_and_vectors(
    tmp_path: Path, fake_embedder
) -> None:
    build(tmp_path, fake_embedder)
    snapshot = IndexStore(tmp_path).open(fake_embedder.name, fake_embedder.dimension)
    manifest = snapshot.manifest
    assert manifest.document_count == 1 and manifest.passage_count == len(snapshot.passages) > 3
    assert manifest.documents[SEED_ID] == snapshot.document(SEED_ID).content_hash
    passage = snapshot.passage(2)
    stored = snapshot.passage_vectors[2]
    assert np.allclose(stored, fake_embedder.encode_passages([passage.text])[0], atol=1e-6)
    scores, ids = snapshot.faiss_index.search(stored.reshape(1, -1), 1)
    # The index keeps half-precision codes: its scores are exact to ~1e-3.
    assert ids[0][0] == 2 and scores[0][0] == pytest.approx(1.0, abs=1e-3)
    first, last = passage.first_sentence, passage.last_sentence
    assert snapshot.sentences[first]["start"] == passage.start
    assert snapshot.sentences[last]["end"] == passage.end


def test_new_build_replaces_the_pointer_and_leaves_no_temporary_folder(
    tmp_path: Path, fake_embedder
) -> None:
    build(tmp_path, fake_embedder)
    store = IndexStore(tmp_path)
    first = store.current_generation()
    build_index([SEEDS], IndexSettings(index_dir=tmp_path), fake_embedder, full=True)
    assert store.current_generation() != first
    assert not [p for p in store.generations_dir.iterdir() if p.name.startswith(".tmp-")]


def test_failed_write_keeps_the_previous_generation_live(tmp_path: Path, fake_embedder) -> None:
    build(tmp_path, fake_embedder)
    store = IndexStore(tmp_path)
    before = store.current_generation()
    with pytest.raises(ValueError):
        store.write(
            GenerationContent(
                [], np.zeros((3, 4), np.float32), np.zeros((0, 4), np.float32), "m", {}
            )
        )
    assert store.current_generation() == before
    assert not [p for p in store.generations_dir.iterdir() if p.name.startswith(".tmp-")]
    store.open(fake_embedder.name, fake_embedder.dimension)


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="python -m indexer"):
        IndexStore(tmp_path / "nothing").open("m", 4)


def test_index_from_another_model_is_refused(tmp_path: Path, fake_embedder) -> None:
    build(tmp_path, fake_embedder)
    with pytest.raises(IndexIncompatible, match="fake-bow"):
        IndexStore(tmp_path).open("all-MiniLM-L6-v2", 384)


def test_index_of_another_format_version_is_refused(tmp_path: Path, fake_embedder) -> None:
    build(tmp_path, fake_embedder)
    store = IndexStore(tmp_path)
    path = store.generations_dir / store.current_generation() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 999
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="format version 999"):
        store.open(fake_embedder.name, fake_embedder.dimension)
