"""Incremental builds: only added or changed text is embedded, and the result is the index a
full build would make."""

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, IndexStore, build_index, vectors
from indexer.embedding import TokenSums
from indexer.lexical import TERMS_FILE, query_terms
from indexer.store import TMP_PREFIX
from tests.conftest import SEED_ID, SEEDS, FakeEmbedder
from tests.indexer.test_lexical import assert_same_matches


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        self.seen.extend(texts)
        return super().encode_token_sums(texts, progress)


ARTICLE_B = "Harbour news\n\nThe ferry to the island was cancelled. Storms are expected all week.\n"
ARTICLE_C = "Market news\n\nApple prices rose sharply in October. Farmers blamed the late frost.\n"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    shutil.copytree(SEEDS, folder)
    (folder / "b.txt").write_text(ARTICLE_B, encoding="utf-8")
    return folder


def settings_for(tmp_path: Path, **extra: object) -> IndexSettings:
    return IndexSettings(index_dir=tmp_path / "index", **extra)  # type: ignore[arg-type]


def open_live(index_dir: Path, embedder: FakeEmbedder):
    return IndexStore(index_dir).open(embedder.name, embedder.dimension)


FILES_OUTSIDE_LEXICAL = (
    "documents.jsonl",
    "passages.npy",
    "sentences.npy",
    "passage_vectors.npy",
    "sentence_vectors.npy",
    "passages.faiss",
)


def _timeless(file: Path) -> bytes:
    """A generation's file as written, with the documents' indexing times blanked out."""
    return re.sub(rb'"indexed_at": "[^"]*"', b'"indexed_at": ""', file.read_bytes())


def file_digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_unchanged_documents_are_not_embedded_again(tmp_path: Path, sources: Path) -> None:
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    assert (first.added, first.full) == (2, True)
    embedder.seen.clear()
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    report = build_index([sources], settings, embedder, progress=False)
    assert (report.added, report.changed, report.deleted, report.unchanged) == (1, 0, 0, 2)
    assert not report.full and report.written
    assert embedder.seen and all(text in ARTICLE_C for text in embedder.seen)
    assert report.embedded == len(embedder.seen)


def test_changed_and_deleted_documents_match_a_full_build(tmp_path: Path, sources: Path) -> None:
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    build_index([sources], settings, embedder, progress=False)
    (sources / "b.txt").write_text(ARTICLE_B.replace("ferry", "hovercraft"), encoding="utf-8")
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    # Sorted first: deleting it moves every kept document's rows.
    (sources / "0-early.txt").write_text(ARTICLE_C.replace("Apple", "Pear"), encoding="utf-8")
    build_index([sources], settings, embedder, progress=False)
    (sources / "c.txt").unlink()
    (sources / "0-early.txt").unlink()
    embedder.seen.clear()
    report = build_index([sources], settings, embedder, progress=False)
    assert (report.added, report.changed, report.deleted, report.unchanged) == (0, 0, 2, 2)
    assert embedder.seen == []

    incremental = open_live(settings.index_dir, embedder)
    full_settings = IndexSettings(index_dir=tmp_path / "full")
    build_index([sources], full_settings, FakeEmbedder(), progress=False)
    full = open_live(full_settings.index_dir, embedder)
    assert [d.doc_id for d in incremental.documents] == ["000_8cbc50e82d9fbfeb.txt", "b.txt"]
    assert incremental.documents == full.documents
    assert "hovercraft" in incremental.document("b.txt").text
    assert np.array_equal(incremental.passages, full.passages)
    assert np.array_equal(incremental.sentences, full.sentences)
    assert np.array_equal(incremental.passage_vectors, full.passage_vectors)
    assert np.array_equal(incremental.sentence_vectors, full.sentence_vectors)
    assert incremental.manifest.documents == full.manifest.documents
    # Byte for byte, as written: nothing carried over differs from a fresh write, but when
    # each document was indexed (the kept one earlier than the full build's time).
    for name in FILES_OUTSIDE_LEXICAL:
        assert _timeless(incremental.path / name) == _timeless(full.path / name), name
    seed = incremental.document("000_8cbc50e82d9fbfeb.txt").indexed_at
    assert seed < full.document("000_8cbc50e82d9fbfeb.txt").indexed_at  # indexed in build 1
    assert seed < incremental.document("b.txt").indexed_at  # changed in build 2
    for question in ("hovercraft to the island", "deal phases hostages", "apple prices"):
        terms = query_terms(question)
        assert_same_matches(incremental.lexical, full.lexical, terms)


@pytest.mark.parametrize("passage_vectors", ["pooled", "encoded"])
def test_an_edited_sentence_re_embeds_only_the_text_around_it(
    tmp_path: Path, sources: Path, passage_vectors: str
) -> None:
    settings = settings_for(tmp_path, passage_vectors=passage_vectors)
    embedder = CountingEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    seed = sources / SEED_ID
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("first phase of the deal", "opening phase of the deal"))
    embedder.seen.clear()
    report = build_index([sources], settings, embedder, progress=False)
    assert report.changed == 1 and report.embedded == len(embedder.seen)
    assert any("opening phase of the deal" in seen for seen in embedder.seen)
    live = open_live(settings.index_dir, embedder)
    edited = [
        live.passage(i)
        for i in range(len(live.passages))
        if "opening phase of the deal" in live.passage(i).text
    ]
    if passage_vectors == "pooled":
        # Every sentence of the passages holding the edit, each once: their pooled vectors
        # need all members' token sums.
        members = {s for p in edited for s in range(p.first_sentence, p.last_sentence + 1)}
        rows = live.sentences[sorted(members)]
        texts = [edited[0].document.text[r["start"] : r["end"]] for r in rows]
        assert sorted(embedder.seen) == sorted(texts)
    else:  # the edited sentence and the passages holding it
        assert len(embedder.seen) == 1 + len(edited)
    assert len(embedder.seen) < first.manifest.passage_count + first.manifest.sentence_count
    full = settings.model_copy(update={"index_dir": tmp_path / "full"})
    build_index([sources], full, FakeEmbedder(), progress=False)
    rebuilt = open_live(full.index_dir, embedder)
    assert np.allclose(live.sentence_vectors, rebuilt.sentence_vectors, atol=1e-6)
    assert np.allclose(live.passage_vectors, rebuilt.passage_vectors, atol=1e-6)


def test_a_syndicated_copy_costs_no_embedding(tmp_path: Path, sources: Path) -> None:
    alone, embedder = settings_for(tmp_path), CountingEmbedder()
    once = build_index([sources], alone, embedder, progress=False)
    shutil.copy(sources / SEED_ID, sources / "copy-of-the-seed.txt")
    embedder.seen.clear()
    twice = build_index(
        [sources], IndexSettings(index_dir=tmp_path / "both"), embedder, progress=False
    )
    assert twice.embedded == len(embedder.seen) == once.embedded
    assert twice.manifest.passage_count > once.manifest.passage_count


def test_nothing_changed_writes_no_generation(tmp_path: Path, sources: Path) -> None:
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    embedder.seen.clear()
    again = build_index([sources], settings, embedder, progress=False)
    assert not again.written and again.unchanged == 2 and embedder.seen == []
    assert again.manifest.generation == first.manifest.generation
    assert IndexStore(settings.index_dir).current_generation() == first.manifest.generation
    assert "nothing to do" in again.summary()


def test_full_flag_and_a_new_chunking_recipe_embed_everything(
    tmp_path: Path, sources: Path
) -> None:
    embedder = CountingEmbedder()
    build_index([sources], settings_for(tmp_path), embedder, progress=False)
    forced = build_index([sources], settings_for(tmp_path), embedder, progress=False, full=True)
    assert forced.full and forced.added == 2
    embedder.seen.clear()
    recut = build_index([sources], settings_for(tmp_path, target_words=60), embedder)
    assert recut.full and recut.written and embedder.seen
    assert open_live(tmp_path / "index", embedder).manifest.chunking["target_words"] == 60


def test_switching_how_passage_vectors_are_made_re_embeds_everything(
    tmp_path: Path, sources: Path
) -> None:
    embedder = CountingEmbedder()
    pooled = build_index([sources], settings_for(tmp_path), embedder, progress=False)
    assert pooled.manifest.passage_vectors == "pooled"
    assert pooled.embedded == pooled.manifest.sentence_count  # the model read no passage
    embedder.seen.clear()
    settings = settings_for(tmp_path, passage_vectors="encoded")
    encoded = build_index([sources], settings, embedder, progress=False)
    assert encoded.full and encoded.manifest.passage_vectors == "encoded"
    counts = encoded.manifest.sentence_count + encoded.manifest.passage_count
    assert encoded.embedded == len(embedder.seen) == counts


def test_index_from_another_model_is_rebuilt_not_mixed(tmp_path: Path, sources: Path) -> None:
    settings = settings_for(tmp_path)
    build_index([sources], settings, FakeEmbedder(), progress=False)

    class OtherModel(CountingEmbedder):
        name = "other-model"

    other = OtherModel()
    report = build_index([sources], settings, other, progress=False)
    assert report.full and report.added == 2
    assert open_live(settings.index_dir, other).manifest.model_name == "other-model"


def test_crashed_builds_are_removed_and_retired_generations_expire(
    tmp_path: Path, sources: Path
) -> None:
    settings, embedder = settings_for(tmp_path, generation_grace_seconds=3600), FakeEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    store = IndexStore(settings.index_dir)
    crashed = store.generations_dir / f"{TMP_PREFIX}20200101T000000-abcdef"
    crashed.mkdir()
    (crashed / "passages.npy").write_bytes(b"half a file")
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    second = build_index([sources], settings, embedder, progress=False)
    assert not crashed.exists()
    # Within the grace period the replaced generation stays for services still reading it.
    names = {p.name for p in store.generations_dir.iterdir()}
    assert names == {first.manifest.generation, second.manifest.generation}

    (sources / "c.txt").unlink()
    expiring = settings_for(tmp_path, generation_grace_seconds=0)
    third = build_index([sources], expiring, embedder, progress=False)
    assert [p.name for p in store.generations_dir.iterdir()] == [third.manifest.generation]
    assert open_live(settings.index_dir, embedder).generation == third.manifest.generation


def test_document_removed_from_the_live_index_is_not_served(tmp_path: Path, sources: Path) -> None:
    settings, embedder = settings_for(tmp_path), FakeEmbedder()
    build_index([sources], settings, embedder, progress=False)
    (sources / SEED_ID).unlink()
    build_index([sources], settings, embedder, progress=False)
    live = open_live(settings.index_dir, embedder)
    assert live.document(SEED_ID) is None
    assert {live.passage(i).document.doc_id for i in range(len(live.passages))} == {"b.txt"}


def test_a_build_leaves_the_previous_generation_untouched_and_needs_nothing_of_it(
    tmp_path: Path, sources: Path
) -> None:
    settings, embedder = settings_for(tmp_path), FakeEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    store = IndexStore(settings.index_dir)
    old_folder = store.generations_dir / first.manifest.generation
    before = file_digests(old_folder)
    (sources / "b.txt").write_text(ARTICLE_B.replace("ferry", "hovercraft"), encoding="utf-8")
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    second = build_index([sources], settings, embedder, progress=False)
    assert second.unchanged == 1 and not second.full
    # Services still reading the retired generation see exactly what it was.
    assert file_digests(old_folder) == before
    old = store.open(embedder.name, embedder.dimension, first.manifest.generation)
    assert "ferry" in old.document("b.txt").text and old.document("c.txt") is None
    new_folder = store.generations_dir / second.manifest.generation
    written = file_digests(new_folder)
    # Retiring (deleting) the old generation takes nothing from the live one.
    shutil.rmtree(old_folder)
    assert file_digests(new_folder) == written
    live = open_live(settings.index_dir, embedder)
    assert {d.doc_id for d in live.documents} == {SEED_ID, "b.txt", "c.txt"}
    hovercraft = embedder.encode_query("hovercraft island ferry")
    _, ids = live.faiss_index.search(hovercraft.reshape(1, -1), 1)
    assert live.passage(int(ids[0][0])).document.doc_id == "b.txt"


def test_kept_documents_follow_their_files_when_the_folder_moves(
    tmp_path: Path, sources: Path
) -> None:
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    build_index([sources], settings, embedder, progress=False)
    moved = sources.rename(tmp_path / "moved")
    (moved / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    embedder.seen.clear()
    report = build_index([moved], settings, embedder, progress=False)
    assert (report.added, report.unchanged) == (1, 2)
    live = open_live(settings.index_dir, embedder)
    assert all(doc.path and doc.path.startswith(str(moved)) for doc in live.documents)


@pytest.mark.parametrize("damage", ["garbage", "truncated zip"])
@pytest.mark.parametrize("full", [False, True])
def test_an_unreadable_term_cache_costs_time_not_correctness(
    tmp_path: Path, sources: Path, damage: str, full: bool
) -> None:
    """Garbage is a ValueError to numpy; a truncated archive is a BadZipFile, which once
    stopped every later build, even ``--full``."""
    settings, embedder = settings_for(tmp_path), FakeEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    store = IndexStore(settings.index_dir)
    cache = store.generations_dir / first.manifest.generation / "lexical" / TERMS_FILE
    stored = cache.read_bytes()
    cache.write_bytes(b"not a numpy archive" if damage == "garbage" else stored[: len(stored) // 2])
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    build_index([sources], settings, embedder, progress=False, full=full)
    full_settings = IndexSettings(index_dir=tmp_path / "full")
    build_index([sources], full_settings, embedder, progress=False)
    live, full = (
        open_live(settings.index_dir, embedder),
        open_live(full_settings.index_dir, embedder),
    )
    for question in ("apple prices frost", "ferry island storms", "deal phases"):
        terms = query_terms(question)
        assert_same_matches(live.lexical, full.lexical, terms)


def test_a_live_snapshot_is_built_on_only_while_it_is_still_the_live_generation(
    tmp_path: Path, sources: Path, opened_generations: list[str]
) -> None:
    settings, embedder = settings_for(tmp_path), FakeEmbedder()
    build_index([sources], settings, embedder, progress=False)
    stale = open_live(settings.index_dir, embedder)
    (sources / "b.txt").write_text(ARTICLE_B.replace("ferry", "hovercraft"), encoding="utf-8")
    build_index([sources], settings, embedder, progress=False)
    current = open_live(settings.index_dir, embedder)
    (sources / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    opened_generations.clear()
    report = build_index([sources], settings, embedder, progress=False, live=stale)
    # A generation that is no longer live is not built on: the live one is opened instead,
    # and the edit made after the stale one survives.
    assert opened_generations == [current.generation] and report.unchanged == 2
    assert "hovercraft" in open_live(settings.index_dir, embedder).document("b.txt").text
    (sources / "c.txt").unlink()
    newest = open_live(settings.index_dir, embedder)
    opened_generations.clear()
    report = build_index([sources], settings, embedder, progress=False, live=newest)
    assert opened_generations == [] and report.deleted == 1 and report.unchanged == 2


def many_articles(folder: Path, count: int) -> None:
    for i in range(count):
        (folder / f"brief-{i:02d}.txt").write_text(
            f"Brief {i}\n\nCouncil {i} voted on budget line {i}. The mayor of town {i} agreed.\n",
            encoding="utf-8",
        )


def test_an_hnsw_graph_is_extended_not_rebuilt_and_never_returns_a_gone_passage(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "HNSW_FROM", 1)  # every generation gets a graph
    many_articles(sources, 40)
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    first = build_index([sources], settings, embedder, progress=False)
    assert first.manifest.faiss_index.startswith("IndexHNSWFlat")
    (sources / "brief-03.txt").write_text("Brief 3\n\nThe vote was postponed.\n", "utf-8")
    (sources / "b.txt").unlink()
    second = build_index([sources], settings, embedder, progress=False)
    live = open_live(settings.index_dir, embedder)
    rows = np.load(live.path / vectors.ROWS_FILE)
    # The old graph plus the new passage; the edited and deleted ones stay as dead labels.
    assert live.faiss_index.ntotal == first.manifest.passage_count + 1 == len(rows)
    assert (rows < 0).sum() == 2 and sorted(rows[rows >= 0]) == list(range(len(live.passages)))
    for row in range(len(live.passages)):  # every passage is found by its own vector
        assert row in live.nearest_passages(np.asarray(live.passage_vectors[row]), 3)
    found = {int(r) for r in live.nearest_passages(np.asarray(live.passage_vectors[0]), 500)}
    assert found <= set(range(len(live.passages)))
    assert second.manifest.faiss_index == first.manifest.faiss_index


def test_a_graph_with_too_many_gone_passages_is_rebuilt(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "HNSW_FROM", 1)
    many_articles(sources, 10)
    settings, embedder = settings_for(tmp_path), CountingEmbedder()
    build_index([sources], settings, embedder, progress=False)
    for i in range(4):  # 4 of ~18 passages gone: past the 10% limit
        (sources / f"brief-{i:02d}.txt").unlink()
    build_index([sources], settings, embedder, progress=False)
    live = open_live(settings.index_dir, embedder)
    assert not (live.path / vectors.ROWS_FILE).exists()
    assert live.faiss_index.ntotal == len(live.passages)
