import string

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chunking import Chunker
from indexer.documents import Document, load_documents
from tests.conftest import SEEDS

MESSY_PIECES = [
    "The U.S. said on Oct. 7 that it would act.",
    "“We’ve had a breakthrough,” the official said.",
    "Mr. Smith (R-Texas) met Dr. Jones at 3 p.m.",
    "",
    "\n\n",
    "\n",
    "  ",
    "lower case transcript with no punctuation at all just words and more words",
    "Ünïcödé façade naïve café — ok?",
    "Wait... what?! Yes.",
    "word " * 250,
    "x" * 300,
    "1,200 people; 38,000 killed.",
    "\t",
]


def messy_text() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(MESSY_PIECES),
        st.text(alphabet=string.ascii_letters + " .,!?“”’\n\t-é", max_size=400),
    )
    return st.lists(piece, max_size=30).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(text=messy_text(), target=st.integers(10, 120), extra=st.integers(0, 100))
def test_passages_are_exact_slices_within_the_word_limit(
    text: str, target: int, extra: int
) -> None:
    chunker = Chunker(target_words=target, max_words=target + extra, overlap=1)
    chunked = chunker.split(Document(doc_id="d", title="t", text=text))
    for passage in chunked.passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text.strip() == passage.text and passage.text
        assert len(passage.text.split()) <= target + extra
    for sentence in chunked.sentences:
        assert text[sentence.start : sentence.end].strip() == text[sentence.start : sentence.end]
    covered = {i for p in chunked.passages for i in range(p.first_sentence, p.last_sentence + 1)}
    assert covered == set(range(len(chunked.sentences)))
    assert sum(s.words for s in chunked.sentences) == len(text.split())


def test_text_without_punctuation_falls_back_to_word_windows() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    chunked = Chunker(target_words=100, max_words=150).split(Document("d", "t", text))
    assert len(chunked.passages) >= 7
    assert all(p.words <= 150 for p in chunked.passages)


def test_abbreviations_do_not_end_sentences() -> None:
    text = "U.S. officials met on Oct. 7 in Washington. Talks continue."
    chunked = Chunker().split(Document("d", "t", text))
    sentences = [text[s.start : s.end] for s in chunked.sentences]
    assert sentences == ["U.S. officials met on Oct. 7 in Washington.", "Talks continue."]


def test_seed_passages_overlap_by_one_sentence_and_cover_both_phases() -> None:
    (doc,) = list(load_documents([SEEDS]))
    chunked = Chunker().split(doc)
    for before, after in zip(chunked.passages, chunked.passages[1:], strict=False):
        assert after.first_sentence == before.last_sentence
    texts = [p.text for p in chunked.passages]
    assert any("first phase of the deal" in t for t in texts)
    assert any("second phase of the deal" in t for t in texts)
