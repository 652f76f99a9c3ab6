"""Hybrid retrieval: fusion of dense and BM25 signals, modes, and de-duplication."""

import asyncio
from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.store import GenerationContent
from service.engine.encoding import QueryEncoder
from service.engine.query import SearchQuery
from service.engine.search import DEFAULT_WEIGHTS, Searcher
from service.engine.signals import FusionWeights
from tests.conftest import SEED_ID, SEEDS
from tests.service.test_encoding import GatedOneAtATime


def test_modes_keep_only_their_family_of_signals() -> None:
    weights = FusionWeights(0.1, 0.2, 0.3, 0.4)
    assert weights.only("hybrid") == weights
    assert weights.only("dense") == FusionWeights(0.1, 0.2, 0.0, 0.0)
    assert weights.only("lexical") == FusionWeights(0.0, 0.0, 0.3, 0.4)


def test_signals_are_on_comparable_scales(seed_snapshot, fake_embedder) -> None:
    signals = Searcher(seed_snapshot, fake_embedder).signals(
        SearchQuery("Goldberg-Polin hostage", 5)
    )
    assert signals is not None
    for name in ("lexical_passage", "coverage"):
        values = getattr(signals, name)
        assert values.min() >= 0 and values.max() == pytest.approx(1.0, abs=1e-6), name
    assert np.all(signals.dense_sentence <= 1.0 + 1e-5)
    fused = signals.fused(DEFAULT_WEIGHTS)
    assert fused.shape == signals.passage_ids.shape


def test_lexical_signals_find_a_rare_name_that_dense_search_ranks_lower(
    seed_snapshot, fake_embedder
) -> None:
    query = "what happened to Goldberg-Polin?"
    hybrid = Searcher(seed_snapshot, fake_embedder, "hybrid").search(SearchQuery(query, 3))
    lexical = Searcher(seed_snapshot, fake_embedder, "lexical").search(SearchQuery(query, 3))
    assert "Goldberg-Polin" in hybrid[0].passage.text
    assert "Goldberg-Polin" in lexical[0].passage.text


def test_results_are_ranked_distinct_and_highlight_inside_their_passage(
    seed_snapshot, fake_embedder
) -> None:
    hits = Searcher(seed_snapshot, fake_embedder).search(
        SearchQuery("phase of the deal hostages", 10)
    )
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.passage.passage_id for h in hits}) == len(hits)
    shown = [(h.passage.document.doc_id, h.highlight) for h in hits]
    assert len(set(shown)) == len(shown)
    for hit in hits:
        assert hit.passage.start <= hit.highlight[0] < hit.highlight[1] <= hit.passage.end


def test_lexical_mode_finds_nothing_for_unknown_words(seed_snapshot, fake_embedder) -> None:
    searcher = Searcher(seed_snapshot, fake_embedder, "lexical")
    assert searcher.search(SearchQuery("sourdough focaccia", 5)) == []
    assert Searcher(seed_snapshot, fake_embedder, "hybrid").search(
        SearchQuery("sourdough focaccia", 5)
    )


def test_an_empty_index_returns_nothing(tmp_path: Path, fake_embedder) -> None:
    store = IndexStore(tmp_path)
    dimension = fake_embedder.dimension
    empty = np.zeros((0, dimension), np.float32)
    store.write(GenerationContent([], empty, empty, fake_embedder.name, {}))
    snapshot = store.open(fake_embedder.name, dimension)
    assert Searcher(snapshot, fake_embedder).search(SearchQuery("anything", 5)) == []


def test_the_same_story_from_two_outlets_is_shown_once(tmp_path: Path, fake_embedder) -> None:
    story = (SEEDS / SEED_ID).read_text(encoding="utf-8")
    sources = tmp_path / "articles"
    sources.mkdir()
    (sources / "outlet-a.txt").write_text(story, encoding="utf-8")
    (sources / "outlet-b.txt").write_text(story, encoding="utf-8")
    index_dir = tmp_path / "index"
    build_index([sources], IndexSettings(index_dir=index_dir), fake_embedder, progress=False)
    snapshot = IndexStore(index_dir).open(fake_embedder.name, fake_embedder.dimension)
    hits = Searcher(snapshot, fake_embedder).search(SearchQuery("the first phase of the deal", 10))
    texts = [h.passage.text for h in hits]
    assert len(texts) == len(set(texts))


def test_the_services_encoder_gives_the_same_results_as_the_bare_model(
    seed_snapshot, fake_embedder
) -> None:
    """Through a ``QueryEncoder`` the vector is computed while the lexical half runs, on a thread
    or on an event loop: neither may change a single score."""
    encoder = QueryEncoder(fake_embedder, cache_size=0)
    query = "the first phase of the deal"
    try:
        overlapped = Searcher(seed_snapshot, encoder).search(SearchQuery(query, 5))
        on_loop = asyncio.run(Searcher(seed_snapshot, encoder).search_async(SearchQuery(query, 5)))
    finally:
        encoder.close()
    expected = Searcher(seed_snapshot, fake_embedder).search(SearchQuery(query, 5))
    assert overlapped == on_loop == expected
    assert expected


def test_a_search_on_the_event_loop_lets_it_serve_others_while_the_model_runs(
    seed_snapshot,
) -> None:
    model = GatedOneAtATime()
    encoder = QueryEncoder(model, cache_size=0)
    searcher = Searcher(seed_snapshot, encoder)

    async def meanwhile() -> list:
        search = asyncio.create_task(
            searcher.search_async(SearchQuery("the first phase of the deal", 3))
        )
        await asyncio.sleep(0.05)  # the loop runs other work: the search awaits the model
        assert not search.done()
        model.gate.set()
        return await asyncio.wait_for(search, timeout=10)

    try:
        hits = asyncio.run(meanwhile())
    finally:
        encoder.close()
    assert hits and "phase" in hits[0].passage.text
