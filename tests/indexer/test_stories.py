"""Near-duplicate articles are one story: found at index time, kept by incremental builds."""

import json
from pathlib import Path

import numpy as np

from indexer import IndexSettings, IndexSnapshot, IndexStore, build_index
from indexer.stories import signatures, stories
from tests.conftest import FakeEmbedder
from tests.syndication import COPIES, write_corpus


def build(corpus: Path, index_dir: Path, full: bool = False) -> IndexSnapshot:
    embedder = FakeEmbedder()
    build_index([corpus], IndexSettings(index_dir=index_dir), embedder, progress=False, full=full)
    return IndexStore(index_dir).open(embedder.name, embedder.dimension)


def story_of(snapshot: IndexSnapshot) -> dict[str, int]:
    return {doc.doc_id: int(s) for doc, s in zip(snapshot.documents, snapshot.stories, strict=True)}


def test_six_outlets_copies_are_one_story_and_the_same_events_other_article_is_not(
    tmp_path: Path,
) -> None:
    write_corpus(tmp_path / "corpus.jsonl")
    found = story_of(build(tmp_path / "corpus.jsonl", tmp_path / "index"))
    copies = {found[doc_id] for doc_id, *_ in COPIES}
    assert len(copies) == 1
    others = {found[d] for d in ("other/families", "other/budget", "other/final")}
    assert len(others) == 3 and not others & copies


def test_an_incremental_build_finds_the_stories_a_full_build_finds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus)
    build(corpus, tmp_path / "index")
    records = [json.loads(line) for line in corpus.read_text().splitlines()]
    # A seventh outlet runs the story; an unrelated article is rewritten.
    records.append({**records[0], "_id": "outlets/times", "source": "Times", "title": "Ferry"})
    records[-2]["text"] = "United lost the cup final 0-3 on Saturday. Fans left early."
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    incremental = build(corpus, tmp_path / "index")
    full = build(corpus, tmp_path / "fresh", full=True)
    assert story_of(incremental) == story_of(full)
    assert len({story_of(full)[d] for d in ["outlets/times", *(c[0] for c in COPIES)]}) == 1
    kept, fresh = incremental.signatures(), full.signatures()
    assert kept is not None and fresh is not None
    np.testing.assert_array_equal(kept, fresh)


def test_stories_are_transitive_and_a_text_without_copies_is_its_own() -> None:
    base = " ".join(f"word{i}" for i in range(200))
    a, b = base, base.replace("word190", "other")  # a near copy of a
    c = b.replace("word10 ", "again ")  # a near copy of b
    rows = signatures([a, "an unrelated text about something else entirely", b, c])
    assert stories(rows).tolist() == [0, 1, 0, 0]
    assert stories(signatures(["only one"])).tolist() == [0]
