"""Sentence boundaries as exact character spans, offline.

syntok ships its rules in code (no data download, unlike NLTK's punkt), keeps "U.S." and
"Oct. 7" inside their sentences, and reports every token's offset, so spans map back to the
source text exactly.
"""

import re

from syntok import segmenter

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the blank-line separated paragraphs, whitespace trimmed, empty ones dropped."""
    spans = []
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``; a sentence never crosses a paragraph break."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in paragraph_spans(text):
        paragraph = text[p_start:p_end]
        for para in segmenter.analyze(paragraph):
            for sentence in para:
                tokens = [t for t in sentence if t.value]
                if not tokens:
                    continue
                start = tokens[0].offset
                end = tokens[-1].offset + len(tokens[-1].value)
                spans.append((p_start + start, p_start + end))
    return _absorb_gaps(text, spans)


def _absorb_gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Attach stray non-space characters between sentences (closing quotes) to the left one,
    and re-join a "sentence" that starts inside a word ("?a?A"): a cut needs whitespace."""
    fixed: list[tuple[int, int]] = []
    for i, (start, end) in enumerate(spans):
        limit = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        gap = text[end:limit]
        stripped = gap.rstrip()
        if stripped and "\n" not in stripped:
            end += len(stripped)
        if fixed and not text[start - 1].isspace():
            start = fixed.pop()[0]
        fixed.append((start, end))
    return fixed


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the whitespace-separated words of ``text[start:end]``, as offsets into ``text``."""
    return [
        (m.start(), m.end()) for m in _WORD.finditer(text, start, len(text) if end is None else end)
    ]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
