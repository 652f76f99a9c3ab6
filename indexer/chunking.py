"""Cut documents into passages of a few sentences that remember where they came from.

Invariant (property-tested): ``document.text[p.start:p.end] == p.text`` for every passage,
and no passage has more than ``max_words`` words, whatever the input. Text without sentence
punctuation (transcripts, scraped lists, one giant line) falls back to word windows, because
its "sentences" are split into pieces of at most ``MAX_SENTENCE_WORDS`` words first.
"""

import math
from dataclasses import dataclass

from indexer.documents import Document
from indexer.sentences import sentence_spans, word_spans

# A "sentence" longer than this is a run-on or unpunctuated text: cut it into word windows so
# it can still be cited and scored as an answer unit of readable size.
MAX_SENTENCE_WORDS = 60


@dataclass(frozen=True, slots=True)
class Sentence:
    """An answer unit: a sentence (or a word window of an over-long one) of a document."""

    start: int
    end: int
    words: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable, citable run of consecutive sentences of one document."""

    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class ChunkedDocument:
    """A document's answer units and the passages built from them (index ranges into them)."""

    document: Document
    sentences: list[Sentence]
    passages: list[Passage]


class Chunker:
    """Greedy sentence packing: close a passage at ``target_words``, never pass ``max_words``."""

    def __init__(self, target_words: int = 120, max_words: int = 200, overlap: int = 1) -> None:
        if not 0 < target_words <= max_words:
            raise ValueError("need 0 < target_words <= max_words")
        self.target_words = target_words
        self.max_words = max_words
        self.overlap = overlap
        self.unit_words = min(MAX_SENTENCE_WORDS, max_words)

    def split(self, doc: Document) -> ChunkedDocument:
        sentences = self.sentences(doc.text)
        passages = [
            Passage(
                doc_id=doc.doc_id,
                start=sentences[first].start,
                end=sentences[last].end,
                text=doc.text[sentences[first].start : sentences[last].end],
                first_sentence=first,
                last_sentence=last,
            )
            for first, last in self._pack(sentences)
        ]
        return ChunkedDocument(document=doc, sentences=sentences, passages=passages)

    def sentences(self, text: str) -> list[Sentence]:
        """Sentence spans, with over-long ones cut into near-equal word windows."""
        units: list[Sentence] = []
        for start, end in sentence_spans(text):
            words = word_spans(text, start, end)
            if not words:
                continue
            pieces = math.ceil(len(words) / self.unit_words)
            size = math.ceil(len(words) / pieces)
            for i in range(0, len(words), size):
                window = words[i : i + size]
                units.append(Sentence(window[0][0], window[-1][1], len(window)))
        return units

    def _pack(self, sentences: list[Sentence]) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        first = 0
        while first < len(sentences):
            words = 0
            last = first
            while last < len(sentences):
                if words and words + sentences[last].words > self.max_words:
                    break
                words += sentences[last].words
                last += 1
                if words >= self.target_words:
                    break
            ranges.append((first, last - 1))
            if last >= len(sentences):
                break
            # Overlap carries context across the cut, but must always move forward.
            first = max(last - self.overlap, first + 1)
        return ranges
