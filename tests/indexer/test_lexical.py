"""BM25 tokenization and the per-generation lexical index."""

from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer import lexical as lexical_module
from indexer.lexical import (
    CarriedTermsMissing,
    LexicalIndex,
    build_lexical,
    query_terms,
    tokenize,
)
from indexer.store import GenerationContent
from tests.conftest import SEEDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hersh Goldberg-Polin", ["hersh", "goldberg-polin", "goldberg", "polin"]),
        ("38,000 people", ["38000", "peopl"]),
        ("38000 people", ["38000", "peopl"]),
        ("1,200,000 and 3.5", ["1200000", "3.5"]),
        ("Hamas’ leaders", ["hama", "leader"]),
        ("Hamas's leaders", ["hama", "leader"]),
        ("the deal’s phases", ["deal", "phase"]),
        ("“Doha” talks", ["doha", "talk"]),
        ("What did the U.S. say?", ["u.s", "say"]),
        ("Paris,France", ["pari", "franc"]),
    ],
)
def test_tokenize_handles_names_numbers_quotes_and_possessives(text, expected) -> None:
    assert tokenize(text) == expected


def test_query_and_document_forms_of_a_word_meet() -> None:
    document = set(tokenize("Negotiators met in Doha; 38,000 Palestinians have been killed."))
    for term in query_terms("How many Palestinians were killed by the negotiators in Doha?"):
        assert term in document


def test_query_terms_are_distinct_and_ordered() -> None:
    assert query_terms("Doha talks, Doha deal") == ["doha", "talk", "deal"]


def assert_same_matches(one: LexicalIndex, other: LexicalIndex, terms: list[str]) -> None:
    """Both indexes find the same passages with bit-identical scores for ``terms``."""
    ours, theirs = one.match(terms), other.match(terms)
    assert np.array_equal(ours.passages, theirs.passages)
    assert np.array_equal(ours.scores, theirs.scores)
    assert np.array_equal(ours.coverage, theirs.coverage)


def build_small(folder: Path) -> LexicalIndex:
    passages = [
        "Negotiators met in Doha to discuss the cease-fire.",
        "Hersh Goldberg-Polin was among the hostages.",
        "The weather was mild and sunny all week.",
    ]
    titles = ["Talks", "Hostages", "Weather report"]
    build_lexical(folder, one_sentence_each(passages), titles)
    return LexicalIndex(folder, passage_count=3)


def test_bm25_finds_only_the_passage_naming_the_rare_word(tmp_path: Path) -> None:
    lexical = build_small(tmp_path)
    found = lexical.match(query_terms("Who is Goldberg-Polin?"))
    assert found.passages.tolist() == [1] and found.scores[0] > 0


def test_titles_count_for_passages(tmp_path: Path) -> None:
    lexical = build_small(tmp_path)
    found = lexical.match(["weather", "report"])
    assert found.passages[np.argmax(found.scores)] == 2
    assert lexical.match(query_terms("report")).passages.tolist() == [2]


def test_unknown_terms_score_nothing_and_weigh_most(tmp_path: Path) -> None:
    lexical = build_small(tmp_path)
    assert len(lexical.match(["sourdough"]).passages) == len(lexical.match([]).passages) == 0
    idf = lexical.idf(["sourdough", "doha"])
    assert idf[0] > idf[1] > 0


def test_coverage_is_the_idf_share_of_terms_present(tmp_path: Path) -> None:
    lexical = build_small(tmp_path)
    found = lexical.match(query_terms("cease-fire talks in Doha about sourdough"))
    scores, covered = found.at(np.array([0, 1, 2]))
    assert 0 < covered[0] < 1 and covered[2] == scores[2] == 0 and scores[0] > 0
    assert lexical.match(["doha"]).at(np.array([0]))[1][0] == pytest.approx(1.0)


def test_matches_answer_for_any_passage_and_rank_the_best(tmp_path: Path) -> None:
    lexical = build_small(tmp_path)
    found = lexical.match(["doha", "weather", "hostag"])
    assert found.passages.tolist() == [0, 1, 2]
    best = found.passages[np.argmax(found.scores)]
    assert found.best(1).tolist() == [best] and sorted(found.best(5).tolist()) == [0, 1, 2]
    scores, covered = lexical.match(["doha"]).at(np.array([0, 1, 2, 7]))
    assert scores[0] > 0 and not scores[1:].any() and not covered[1:].any()


def test_every_generation_carries_its_lexical_index(tmp_path: Path, fake_embedder) -> None:
    build_index([SEEDS], IndexSettings(index_dir=tmp_path), fake_embedder, progress=False)
    snapshot = IndexStore(tmp_path).open(fake_embedder.name, fake_embedder.dimension)
    assert (snapshot.path / "lexical").is_dir()
    found = snapshot.lexical.match(query_terms("Goldberg-Polin"))
    assert 0 < len(found.passages) <= len(snapshot.passages) and found.scores.max() > 0
    assert "Goldberg-Polin" in snapshot.passage(int(found.best(1)[0])).text


def test_an_empty_generation_still_opens(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write(
        GenerationContent([], np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), "m", {})
    )
    snapshot = store.open("m", 4)
    assert len(snapshot.lexical.match(["doha"]).passages) == 0


def one_sentence_each(passages: list[str]) -> list[list[str]]:
    return [[text] for text in passages]


def count_tokenizing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the lexical module tokenizes from now on (until ``monkeypatch.undo()``)."""
    import indexer.lexical as lexical

    calls: list[str] = []
    real_tokenize = lexical.tokenize

    def counting(text: str) -> list[str]:
        calls.append(text)
        return real_tokenize(text)

    monkeypatch.setattr(lexical, "tokenize", counting)
    return calls


def test_next_generation_reuses_terms_and_scores_like_a_fresh_build(
    tmp_path: Path, monkeypatch
) -> None:
    before = ["Negotiators met in Doha.", "Hersh Goldberg-Polin was held.", "Sunny all week."]
    after = ["Negotiators met in Doha.", "Hersh Goldberg-Polin was freed.", "", "Rain in Gaza."]
    titles = ["Talks", "Hostages", "Empty", "Weather"]
    build_lexical(tmp_path / "old", one_sentence_each(before), titles[:3])

    calls = count_tokenizing(monkeypatch)
    build_lexical(tmp_path / "new", one_sentence_each(after), titles, previous=tmp_path / "old")
    # Only the changed, the empty and the added passage were tokenized (text and title each).
    assert sorted(calls) == sorted(after[1:] + titles[1:])
    monkeypatch.undo()
    build_lexical(tmp_path / "fresh", one_sentence_each(after), titles)

    reused, fresh = LexicalIndex(tmp_path / "new", 4), LexicalIndex(tmp_path / "fresh", 4)
    for question in ("Doha negotiators", "Goldberg-Polin freed", "rain sunny", "weather talks"):
        terms = query_terms(question)
        ours, theirs = reused.match(terms), fresh.match(terms)
        assert np.array_equal(ours.passages, theirs.passages)
        assert np.allclose(ours.scores, theirs.scores)
        assert np.allclose(ours.coverage, theirs.coverage)
    (sunny,) = tokenize("sunny")
    assert sunny in LexicalIndex(tmp_path / "old", 3).passages.vocab_dict
    assert sunny not in reused.passages.vocab_dict  # gone with its passage


def test_carried_passages_take_their_terms_by_row_without_being_read(
    tmp_path: Path, monkeypatch
) -> None:
    before = ["Negotiators met in Doha.", "Hersh Goldberg-Polin was held.", "Sunny all week."]
    titles = ["Talks", "Hostages", "Weather"]
    build_lexical(tmp_path / "old", one_sentence_each(before), titles)
    after = [before[2], "Rain in Gaza.", before[0]]

    calls = count_tokenizing(monkeypatch)
    # Rows 2 and 0 of the old index, in a new order; only the middle passage is given.
    carried = np.array([2, -1, 0])
    build_lexical(tmp_path / "new", [[after[1]]], ["Gaza"], tmp_path / "old", carried)
    assert sorted(calls) == ["Gaza", "Rain in Gaza."]
    monkeypatch.undo()
    build_lexical(tmp_path / "fresh", one_sentence_each(after), ["Weather", "Gaza", "Talks"])
    carried_index, fresh = LexicalIndex(tmp_path / "new", 3), LexicalIndex(tmp_path / "fresh", 3)
    for question in ("Doha negotiators", "sunny weather", "rain Gaza", "Goldberg-Polin"):
        terms = query_terms(question)
        assert_same_matches(carried_index, fresh, terms)
    # The next generation can carry passages from this one in turn.
    build_lexical(tmp_path / "next", [], [], tmp_path / "new", np.array([1]))
    assert LexicalIndex(tmp_path / "next", 1).match(["gaza"]).passages.tolist() == [0]


def test_carried_passages_need_the_previous_terms(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    with pytest.raises(CarriedTermsMissing):
        build_lexical(tmp_path / "new", [], [], tmp_path / "old", np.array([0]))


def test_terms_remember_their_sentence_and_carry_it_to_the_next_generation(
    tmp_path: Path,
) -> None:
    sentences = ["Negotiators met in Doha.", "Rain fell on Gaza.", "Doha hosted them again."]
    build_lexical(tmp_path / "old", [sentences, ["Sunny."]], ["Talks in Qatar", "Weather"])
    ids = LexicalIndex(tmp_path / "old", 2).term_ids(["doha", "gaza", "qatar", "sourdough"])
    assert ids[-1] == -1  # no passage has it
    expected = [
        [True, False, True],  # "doha": sentences 0 and 2
        [False, True, False],  # "gaza": sentence 1
        [True, True, True],  # "qatar": the title's, so every sentence's
        [False, False, False],
    ]
    old = LexicalIndex(tmp_path / "old", 2).sentences_containing(0, ids, 3)
    assert old.tolist() == expected
    # Carried by row into a generation whose vocabulary numbers the terms differently.
    build_lexical(tmp_path / "new", [["Gaza."]], ["Weather"], tmp_path / "old", np.array([-1, 0]))
    new = LexicalIndex(tmp_path / "new", 2)
    found = new.sentences_containing(1, new.term_ids(["doha", "gaza", "qatar", "sourdough"]), 3)
    assert found.tolist() == expected


def test_an_unreadable_term_cache_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "terms.npz").write_bytes(b"not a numpy archive")
    build_lexical(tmp_path / "new", [["Doha talks."]], ["Talks"], previous=tmp_path / "old")
    assert LexicalIndex(tmp_path / "new", 1).match(["doha"]).passages.tolist() == [0]


def test_score_matrix_is_bm25s_own_bit_for_bit(tmp_path: Path) -> None:
    import bm25s

    passages = [
        "Negotiators met in Doha; Doha hosted the talks.",
        "Hersh Goldberg-Polin was among the hostages.",
        "",
        "The weather was mild and sunny all week in Doha.",
    ]
    titles = ["Talks", "Hostages", "Empty", "Weather report"]
    build_lexical(tmp_path, one_sentence_each(passages), titles)
    ours = LexicalIndex(tmp_path, passage_count=4).passages
    reference = bm25s.BM25()
    reference.index(
        [tokenize(p) + tokenize(t) or [""] for p, t in zip(passages, titles, strict=True)],
        show_progress=False,
    )
    for term, column in reference.vocab_dict.items():
        if term:
            expected = reference.get_scores([column])
            assert np.array_equal(ours.get_scores([ours.vocab_dict[term]]), expected), term
    assert set(ours.vocab_dict) == set(reference.vocab_dict)


@pytest.mark.parametrize(
    "question",
    [
        "what are the deal's phases?",
        "Goldberg-Polin",
        "sourdough focaccia",
        "Israel Hamas Gaza deal",
    ],
)
def test_dense_and_sparse_scoring_agree_to_the_bit(
    seed_snapshot, monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    terms = query_terms(question)
    monkeypatch.setattr(lexical_module, "DENSE_POSTINGS_SHARE", 0.0)
    dense = seed_snapshot.lexical.match(terms)
    monkeypatch.setattr(lexical_module, "DENSE_POSTINGS_SHARE", float("inf"))
    sparse = seed_snapshot.lexical.match(terms)
    for field in ("passages", "scores", "coverage"):
        assert np.array_equal(getattr(dense, field), getattr(sparse, field))
        assert getattr(dense, field).dtype == getattr(sparse, field).dtype
    assert len(dense.passages) or question == "sourdough focaccia"
