"""Lexical retrieval: BM25 over the passages of one generation.

Dense vectors miss names, numbers and rare words ("Goldberg-Polin", "38,000", "Doha"); BM25
finds them. Each generation stores a bm25s index beside its vectors, in ``lexical/``, with one
BM25 document per passage: its text plus its document's title (``TITLE_REPEATS`` times), so a
query naming the article's subject finds it. It is built from the stored passages by the
store's write path, so every generation has one whatever produced its vectors, and is opened
memory-mapped. (A second index over single sentences was measured and added nothing to the
fusion, see docs/quality.md.) Beside it are every passage's terms, each with the
sentence it comes from: the answer scorer asks which of a hit's sentences hold the question's
terms, and reads it there instead of tokenizing the hit per query.

Tokenization (one function for documents and queries, so both agree): Unicode quotes folded
to ASCII, lower-cased, possessives dropped ("Hamas’" and "Hamas's" are "hamas"), numbers kept
whole without thousands separators ("38,000" is "38000"), hyphenated and apostrophe-joined
words indexed whole and by part ("Goldberg-Polin" gives "goldberg-polin", "goldberg",
"polin"), English stop words dropped, the rest Snowball-stemmed.
"""

import hashlib
import logging
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import bm25s
import numpy as np
import scipy.sparse as sp
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from indexer.vectors import mapped, source_runs

log = logging.getLogger(__name__)

# A passage's title counts like this many extra mentions of its words. Measured on the SQuAD
# sample (python -m benchmarks.quality_fit): 1 beats 0, and more stops helping.
TITLE_REPEATS = 1

# Question words carry no topic: "what did the Normans..." must not reward passages with "did".
STOP_WORDS = frozenset(STOPWORDS_EN) | {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "did",
    "does",
    "do",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "has",
    "have",
    "had",
    "can",
    "could",
    "would",
    "should",
    "from",
    "about",
    "many",
    "much",
    "s",
}

_QUOTES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "′": "'", "`": "'", "“": '"', "”": '"'})
# A word, possibly joined to more words by hyphens, apostrophes, dots or commas ("U.S.",
# "38,000", "Goldberg-Polin", "O'Brien"); a separator must sit between two word characters.
_COMPOUND = re.compile(r"[^\W_]+(?:[-'.,][^\W_]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PARTS = re.compile(r"[-'.]")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[str]:
    """The BM25 terms of ``text``, in order (see the module docstring for the rules)."""
    return [
        term
        for word in _COMPOUND.findall(text.translate(_QUOTES).lower())
        for term in _compound_terms(word)
    ]


@lru_cache(maxsize=65536)
def _compound_terms(word: str) -> tuple[str, ...]:
    # Cached: words repeat (Zipf), and the rules below were most of the time spent tokenizing,
    # at index time and when the answer scorer reads a hit's sentences.
    if word.endswith("'s"):
        word = word[:-2]
    if _NUMBER.fullmatch(word):
        return (_number(word),)
    # "U.S." or "Goldberg-Polin" are words of their own; a comma joins two words only
    # when both are numbers, so "Paris,France" is two words.
    return tuple(term for piece in word.split(",") for term in _word_terms(piece))


def _number(word: str) -> str:
    """``38,000`` and ``38000`` are one term; a decimal point stays (``3.5``)."""
    if "," in word and "." not in word:
        return word.replace(",", "")
    return word


def _word_terms(word: str) -> tuple[str, ...]:
    parts = [p for p in _PARTS.split(word) if p]
    terms = [] if word in STOP_WORDS else [_stem(word) if len(parts) == 1 else word]
    if len(parts) > 1:
        terms.extend(_stem(p) for p in parts if p not in STOP_WORDS and len(p) > 1)
    return tuple(terms)


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query, first occurrence first."""
    return list(dict.fromkeys(tokenize(text)))


TERMS_FILE = "terms.npz"
"""The build-time half of the term store: each passage's key (a hash of its sentences and title,
so the next generation reuses the terms of an unchanged passage instead of tokenizing it again:
tokenizing is most of the cost of building BM25) and the vocabulary its term ids number."""
TERM_IDS_FILE = "term_ids.npy"
"""Every passage's terms back to back, as ids of the BM25 vocabulary (int32); memory-mapped by
the searcher, which reads a hit's terms from it instead of tokenizing the hit's sentences."""
TERM_OFFSETS_FILE = "term_offsets.npy"
"""Passage ``i``'s terms are ``term_ids[term_offsets[i]:term_offsets[i + 1]]``."""
TERM_SENTENCES_FILE = "term_sentences.npy"
"""Per term of ``term_ids``: which sentence of its passage it comes from (0 = the first), or
``TITLE`` for the terms of the passage's title (int16)."""
TITLE = -1
"""``term_sentences``' mark of a title's term."""


class CarriedTermsMissing(LookupError):
    """The previous generation's terms cannot be read, so carried passages need their texts."""


def build_lexical(
    folder: Path,
    passage_sentences: Sequence[Sequence[str]],
    passage_titles: Sequence[str],
    previous: Path | None = None,
    carried: np.ndarray | None = None,
) -> None:
    """Write the BM25 index of one generation's passages, and their terms, into ``folder``.

    A passage is given as the texts of its sentences: each is tokenized on its own, so the
    stored terms say which sentence holds each term (what the answer scorer asks of a hit), and
    the passage's BM25 document is its sentences' terms plus its title's.

    Terms come from the ``previous`` generation's lexical folder where it has them, so an
    incremental build tokenizes only what changed. ``carried``, when given, has one entry per
    passage: the row of that very passage (same sentences and title) in ``previous``, or -1;
    the sentences and titles then list only the -1 passages, in order, and the carried ones take
    their terms by row, unread and unhashed. Other passages are looked up by a hash of their
    sentences and title. Raises ``CarriedTermsMissing`` when ``previous`` cannot serve the
    carried rows.
    """
    known = _TermCache.load(previous)
    if carried is None:
        carried = np.full(len(passage_sentences), -1, dtype=np.int64)
    carried = np.asarray(carried, dtype=np.int64)
    count, kept = len(carried), carried >= 0
    new_rows = np.flatnonzero(~kept)
    if not len(new_rows) == len(passage_sentences) == len(passage_titles):
        raise ValueError("sentences and a title per passage that is not carried are required")
    if int(carried.max(initial=-1)) >= len(known.keys):
        raise CarriedTermsMissing(f"no terms for the carried passages in {previous}")
    vocab = dict(known.vocab)
    keys = np.zeros(count, dtype="S16")
    keys[kept] = known.keys[carried[kept]]
    lengths = np.zeros(count, dtype=np.int64)
    lengths[kept] = known.offsets[carried[kept] + 1] - known.offsets[carried[kept]]
    fresh: list[tuple[np.ndarray, np.ndarray]] = []
    for row, sentences, title in zip(
        new_rows.tolist(), passage_sentences, passage_titles, strict=True
    ):
        key = _passage_key(sentences, title)
        terms = known.terms_of(key)
        if terms is None:
            terms = _passage_terms(sentences, title, vocab)
        keys[row], lengths[row] = key, len(terms[0])
        fresh.append(terms)
    if count:
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        flat = np.empty(int(offsets[-1]), dtype=np.int64)
        where = np.empty(int(offsets[-1]), dtype=np.int16)
        for start, end in source_runs(carried):
            if kept[start]:
                first, last = int(carried[start]), int(carried[end - 1])
                span = slice(offsets[start], offsets[end])
                flat[span], where[span] = known.terms_between(first, last + 1)
        for row, (ids, sentences_of) in zip(new_rows.tolist(), fresh, strict=True):
            flat[offsets[row] : offsets[row + 1]] = ids
            where[offsets[row] : offsets[row + 1]] = sentences_of
    else:  # bm25s cannot save an empty index: one passage holding only ""
        offsets = np.array([0, 1])
        flat = np.array([vocab.setdefault("", len(vocab))], np.int64)
        where = np.array([TITLE], np.int16)
    # Keep only the terms in use, renumbered 0..n-1 as bm25s wants.
    # (A counting pass, not np.unique: no sort of millions of term occurrences.)
    used = np.flatnonzero(np.bincount(flat, minlength=len(vocab)))
    renumber = np.zeros(len(vocab), dtype=np.int64)
    renumber[used] = np.arange(len(used))
    compact = renumber[flat]
    terms_by_id = np.array(list(vocab), dtype=str)[used] if len(vocab) else np.array([], str)
    retriever = bm25s.BM25()
    retriever.scores = _bm25_matrix(compact, offsets, len(used), retriever.k1, retriever.b)
    retriever.vocab_dict = {t: i for i, t in enumerate(terms_by_id.tolist())}
    # As bm25s.BM25.index does: an empty-string term past the matrix, which no query has.
    retriever.vocab_dict.setdefault("", len(retriever.vocab_dict))
    retriever.nonoccurrence_array = None
    retriever.save(str(folder), show_progress=False)
    np.savez(folder / TERMS_FILE, keys=keys, vocab=terms_by_id)
    np.save(folder / TERM_IDS_FILE, compact.astype(np.int32))
    np.save(folder / TERM_OFFSETS_FILE, offsets[: count + 1].astype(np.int64))
    np.save(folder / TERM_SENTENCES_FILE, where)


def _passage_terms(
    sentences: Sequence[str], title: str, vocab: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A passage's term ids (new terms numbered into ``vocab``) and each one's sentence."""
    ids: list[int] = []
    where: list[int] = []
    for number, sentence in enumerate(sentences):
        terms = tokenize(sentence)
        ids.extend(vocab.setdefault(t, len(vocab)) for t in terms)
        where.extend([number] * len(terms))
    terms = tokenize(title) * TITLE_REPEATS
    ids.extend(vocab.setdefault(t, len(vocab)) for t in terms)
    where.extend([TITLE] * len(terms))
    if not ids:  # bm25s needs one token a document; an empty passage gets "", which no query has
        ids, where = [vocab.setdefault("", len(vocab))], [TITLE]
    return np.array(ids, np.int64), np.array(where, np.int16)


def _bm25_matrix(
    terms: np.ndarray, offsets: np.ndarray, vocabulary: int, k1: float, b: float
) -> dict[str, object]:
    """bm25s's passage-by-term score matrix (CSC arrays, Lucene BM25, its default), computed
    with whole-array numpy instead of its per-passage Python loop: the same float32 scores,
    bit for bit (tested), in a tenth of the time, and no list of lists of term ids first.

    ``terms`` holds every passage's term ids back to back, passage ``i`` at
    ``terms[offsets[i]:offsets[i + 1]]``; ids run ``0..vocabulary-1``.
    """
    lengths = np.diff(offsets)
    passages = len(lengths)
    # Term occurrences as a passage-by-term matrix, turned column-major with duplicates summed
    # by scipy's linear-time conversion: the term frequencies, grouped by term, passages in
    # order within a term (bm25s's layout). 15 ms at 1.5 million occurrences, where sorting
    # them (np.unique, then an argsort by term) took 0.25 s.
    occurrences = np.ones(len(terms), dtype=np.int32)
    counts = sp.csr_matrix((occurrences, terms, offsets), shape=(passages, vocabulary)).tocsc()
    counts.sum_duplicates()
    row, frequency = counts.indices.astype(np.int64), counts.data
    document_frequency = np.diff(counts.indptr)
    column = np.repeat(np.arange(vocabulary, dtype=np.int64), document_frequency)
    # The arithmetic and its float32/float64 steps follow bm25s.scoring exactly.
    idf = np.log(1 + (passages - document_frequency + 0.5) / (document_frequency + 0.5))
    idf = idf.astype(np.float32)
    tf = frequency.astype(np.float32).astype(np.float64)
    tfc = tf / (k1 * ((1 - b) + b * lengths[row] / lengths.mean()) + tf)
    data = (idf[column].astype(np.float64) * tfc).astype(np.float32)
    return {
        "data": data,
        "indices": row.astype(np.int32),
        "indptr": counts.indptr.astype(np.int64),
        "num_docs": passages,
    }


def _passage_key(sentences: Sequence[str], title: str) -> bytes:
    return hashlib.blake2b("\x00".join([title, *sentences]).encode(), digest_size=16).digest()


class _TermCache:
    """The terms of a previous generation's passages, by row or by passage key, as term ids
    (numbered by ``vocab``) and the sentence each comes from."""

    def __init__(
        self,
        keys: np.ndarray,
        offsets: np.ndarray,
        ids: np.ndarray,
        sentences: np.ndarray,
        vocab: list[str],
    ) -> None:
        self.keys = keys
        self.offsets = offsets.astype(np.int64)
        self._ids = ids.astype(np.int64)
        self._sentences = sentences
        self.vocab = {term: i for i, term in enumerate(vocab)}

    @classmethod
    def load(cls, folder: Path | None) -> "_TermCache":
        """The cache of ``folder``, or an empty one when there is none or it cannot be read
        (truncated, corrupt: a damaged zip is ``BadZipFile``, which is no ``OSError``): it only
        saves time (a build without it tokenizes everything), never needed for a correct
        index."""
        try:
            if folder is None:
                raise FileNotFoundError
            # Opened here, not by np.load, which leaves its handle open when the zip is bad.
            with (folder / TERMS_FILE).open("rb") as handle, np.load(handle) as stored:
                keys, vocab = stored["keys"], stored["vocab"].tolist()
            offsets = np.load(folder / TERM_OFFSETS_FILE)
            ids = np.load(folder / TERM_IDS_FILE)
            sentences = np.load(folder / TERM_SENTENCES_FILE)
            if not len(offsets) == len(keys) + 1 or not len(ids) == len(sentences) == offsets[-1]:
                raise ValueError("the term files disagree in length")
            return cls(keys, offsets, ids, sentences, vocab)
        except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("the term cache in %s is unreadable, tokenizing again: %s", folder, exc)
            empty = np.array([], np.int64)
            return cls(np.array([], "S16"), np.array([0]), empty, empty.astype(np.int16), [])

    @cached_property
    def _where(self) -> dict[bytes, int]:
        # Built only when a passage is looked up by key: carried passages never are.
        return {bytes(key): i for i, key in enumerate(self.keys)}

    def terms_between(self, first: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """The term ids of rows ``first..end-1``, back to back, and the sentence of each."""
        span = slice(self.offsets[first], self.offsets[end])
        return self._ids[span], self._sentences[span]

    def terms_of(self, key: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        row = self._where.get(key)
        return None if row is None else self.terms_between(row, row + 1)


DENSE_POSTINGS_SHARE = 0.1
"""A query whose terms' postings number at least this share of the passages is scored in arrays
over the whole corpus (see ``LexicalIndex.match``)."""


@dataclass(frozen=True, slots=True)
class LexicalMatches:
    """The passages that share at least one term with a query, sorted by id, with two scores.

    Sparse on purpose: a query's terms occur in a small part of the corpus, so scoring costs
    what their postings hold, not an array the size of the corpus per query.
    """

    passages: np.ndarray
    """Passage ids, sorted and distinct."""
    scores: np.ndarray
    """BM25 of each passage (its text plus its document's title) for the query terms."""
    coverage: np.ndarray
    """The share of the query terms' idf mass each passage (or its title) contains: unlike BM25
    it does not saturate on one repeated rare word, so it rewards passages that match *all* of
    a question's key terms."""
    idf: np.ndarray
    """Per query term, in the query's order: its weight in ``coverage`` (``LexicalIndex.idf``)."""
    term_ids: np.ndarray
    """Per query term: its id in the index's vocabulary, -1 when no passage has it."""

    def best(self, n: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the ``n`` best-scoring passages (unordered), among the ``allowed`` ones
        (a boolean array by passage id) when given."""
        passages, scores = self.passages, self.scores
        if allowed is not None:
            keep = allowed[passages]
            passages, scores = passages[keep], scores[keep]
        if len(passages) <= n:
            return passages
        return passages[np.argpartition(-scores, n - 1)[:n]]

    def at(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores and coverage of ``passage_ids``; 0 for passages without a query term."""
        scores = np.zeros(len(passage_ids), dtype=np.float32)
        coverage = np.zeros(len(passage_ids), dtype=np.float32)
        if len(self.passages):
            where = np.minimum(np.searchsorted(self.passages, passage_ids), len(self.passages) - 1)
            found = self.passages[where] == passage_ids
            scores[found] = self.scores[where[found]]
            coverage[found] = self.coverage[where[found]]
        return scores, coverage


class LexicalIndex:
    """The BM25 index of one generation, opened read-only (memory-mapped)."""

    def __init__(self, folder: Path, passage_count: int) -> None:
        self.passages = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        self.passage_count = passage_count
        # The precomputed BM25 matrix (term-major): term t's passages are
        # ``indices[indptr[t]:indptr[t + 1]]`` and their scores the same slice of ``data``.
        # Read directly: bm25s' own scorer allocates and fills through ``np.add.at``, ten times
        # slower than a slice assignment, which is exact here since a term lists a passage once.
        scores = self.passages.scores
        self._data = np.asarray(scores["data"]).view(np.ndarray)
        self._indices = np.asarray(scores["indices"]).view(np.ndarray)
        self._indptr = np.asarray(scores["indptr"]).view(np.ndarray).tolist()
        self._document_frequency = np.diff(self._indptr)
        self._term_ids = mapped(folder / TERM_IDS_FILE)
        self._term_offsets = mapped(folder / TERM_OFFSETS_FILE)
        self._term_sentences = mapped(folder / TERM_SENTENCES_FILE)
        if len(self._term_offsets) != passage_count + 1:
            raise ValueError(f"{folder}: the term offsets do not fit {passage_count} passages")

    def match(self, terms: Sequence[str]) -> LexicalMatches:
        """The passages sharing a term with the query, with their BM25 scores and coverage.

        Term by term in float32, as a dense scorer adds them: the same scores to the bit, so
        near-ties between passages break the same way whichever way they are computed. Scores
        add up in arrays over the whole corpus when the query's postings are many for its size
        (~130 us at 10,000 passages, where merging their 6,000-12,000 postings by sorting
        took 300-600 us), and over the distinct matching passages otherwise (a rare-word query
        against a million passages).
        """
        ids = self.term_ids(terms)
        weights = self._idf(ids)
        total = float(weights.sum())
        postings = [self._postings(row) for row in ids.tolist()]
        if sum(len(found) for found, _ in postings) >= DENSE_POSTINGS_SHARE * self.passage_count:
            passages, scores, covered = self._add_dense(postings, weights)
        else:
            passages, scores, covered = self._add_sparse(postings, weights)
        return LexicalMatches(
            passages=passages.astype(np.int64, copy=False),
            scores=scores,
            coverage=covered / total if total > 0 else covered,
            idf=weights,
            term_ids=ids,
        )

    def term_ids(self, terms: Sequence[str]) -> np.ndarray:
        """Each term's id in this index's vocabulary, -1 for a term no passage has."""
        vocab = self.passages.vocab_dict
        return np.array([vocab.get(t, -1) if t else -1 for t in terms], dtype=np.int64)

    def sentences_containing(
        self, passage_id: int, term_ids: np.ndarray, sentences: int
    ) -> np.ndarray:
        """Which of the passage's ``sentences`` contain each term: a (terms, sentences) boolean
        array, all true for a term of the passage's title (a sentence about the article's
        subject names it without repeating it).

        Read from the terms stored at build time, ~15 us a passage, where tokenizing a hit's
        sentences took ~100 us (most of the answer scorer's time).
        """
        span = slice(self._term_offsets[passage_id], self._term_offsets[passage_id + 1])
        occurrences, found = np.nonzero(term_ids[:, None] == self._term_ids[span])
        # One column per sentence and a last one for the title, where TITLE (-1) points.
        present = np.zeros((len(term_ids), sentences + 1), dtype=bool)
        present[occurrences, self._term_sentences[span][found]] = True
        return present[:, :-1] | present[:, -1:]

    def _add_dense(
        self, postings: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores = np.zeros(self.passage_count, dtype=np.float32)
        covered = np.zeros(self.passage_count, dtype=np.float32)
        for (stored, values), weight in zip(postings, weights, strict=True):
            found = stored.astype(np.intp)  # once, not once per indexing (stored are int32)
            scores[found] += values
            covered[found] += weight
        passages = np.flatnonzero(covered)  # every term's idf weight is > 0
        return passages, scores[passages], covered[passages]

    def _add_sparse(
        self, postings: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.concatenate([p for p, _ in postings]) if postings else self._indices[:0]
        passages, inverse = np.unique(ids, return_inverse=True)
        scores = np.zeros(len(passages), dtype=np.float32)
        covered = np.zeros(len(passages), dtype=np.float32)
        start = 0
        for (found, values), weight in zip(postings, weights, strict=True):
            rows = inverse[start : start + len(found)]
            scores[rows] += values
            covered[rows] += weight
            start += len(found)
        return passages, scores, covered

    def _postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The passages containing term ``row`` and its BM25 score in each (empty for -1)."""
        if row < 0 or not self.passage_count:
            return self._indices[:0], self._data[:0]
        start, end = self._indptr[row], self._indptr[row + 1]
        return self._indices[start:end], self._data[start:end]

    def idf(self, terms: Sequence[str]) -> np.ndarray:
        """Inverse passage frequency of each term; a term absent from the index gets the
        highest value, so a question about unseen things is never "mostly covered"."""
        return self._idf(self.term_ids(terms))

    def _idf(self, ids: np.ndarray) -> np.ndarray:
        total = max(self.passage_count, 1)
        frequencies = [
            int(self._document_frequency[row]) if row >= 0 else 0 for row in ids.tolist()
        ]
        return np.array([math.log(1 + (total - f + 0.5) / (f + 0.5)) for f in frequencies])
