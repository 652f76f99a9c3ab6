"""The parts of a multi-part answer: "what are the deal's phases?" is answered by two
sentences, the first phase and the second, often paragraphs apart.

A question asks for several things when it names a plural the answer lists ("phases", "steps",
"conditions"...), or asks "what/who are/were ..." or what people discussed. Then every hit
whose best sentence scores close to the answer's own (``PART_SHARE`` of it) is a part, from the
answer's article or another one, provided it is not a near-copy of a part already taken (same-story
rivals retell the same fact) and, when the question names its plural, the sentence names it
too ("second phase" for "phases"). Parts stop before ``MAX_PARTS_CHARS`` so that the whole
answer stays readable. The answer sentence is the first part; the others follow in document
order (articles in rank order), so the phases read first, second.

No model decides this: question cues, the scores the searcher already gave, and word overlap.
"""

import re
from dataclasses import dataclass

from indexer.lexical import query_terms
from service.engine.signals import Hit

# A plural the answer lists: its singular (stem) must occur in each part.
LIST_NOUNS = re.compile(
    r"\b(phases|stages|steps|conditions|terms|demands|parts|points|measures|provisions|"
    r"reasons|issues|changes|options|goals|priorities|components|elements|proposals|"
    r"requirements|rules|sanctions|charges)\b",
    re.IGNORECASE,
)
# Questions that ask for a count or an amount, whatever plural they name.
COUNT_QUESTIONS = re.compile(r"^\s*how (many|much)\b", re.IGNORECASE)
# Questions that ask for a list without naming it.
LIST_QUESTIONS = re.compile(
    r"^\s*(what|which|who)\s+(are|were)\b|\bdiscuss(ed)?\b|\bwho (else )?(was|were) released\b",
    re.IGNORECASE,
)
PART_SHARE = 0.85
"""A part's sentence scores at least this share of the answer sentence's score."""
MAX_PARTS = 4
MAX_PARTS_CHARS = 600
COPY_OVERLAP = 0.6
"""Two sentences sharing this share of their terms tell the same thing (Jaccard)."""


@dataclass(frozen=True, slots=True)
class Part:
    hit: Hit
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.hit.passage.document.text[self.start : self.end]


def asks_for_several(question: str) -> tuple[bool, str | None]:
    """Whether the question asks for several things, and the singular of the plural it names
    (if it names one)."""
    if COUNT_QUESTIONS.search(question):
        return False, None
    noun = LIST_NOUNS.search(question)
    if noun:
        word = noun.group(1).lower()
        return True, word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return bool(LIST_QUESTIONS.search(question)), None


def answer_parts(question: str, hits: list[Hit], answer: Hit) -> list[Part]:
    """The parts of the answer whose sentence is ``answer``'s highlight: that one first."""
    first = Part(answer, *answer.highlight)
    several, singular = asks_for_several(question)
    if not several:
        return [first]
    taken = [first]
    seen = [set(query_terms(first.text))]
    length = len(first.text)
    floor = PART_SHARE * answer.highlight_score
    for hit in hits:
        if hit is answer or hit.highlight_score < floor:
            continue
        part = Part(hit, *hit.highlight)
        text = part.text
        if singular and singular not in text.lower():
            continue
        terms = set(query_terms(text))
        if any(_overlap(terms, other) >= COPY_OVERLAP for other in seen):
            continue
        if length + len(text) > MAX_PARTS_CHARS or len(taken) == MAX_PARTS:
            break
        taken.append(part)
        seen.append(terms)
        length += len(text)
    rank = {hit.passage.document.doc_id: i for i, hit in reversed(list(enumerate(hits)))}
    rest = sorted(taken[1:], key=lambda p: (rank[p.hit.passage.document.doc_id], p.start))
    return [first, *rest]


def _overlap(one: set[str], other: set[str]) -> float:
    return len(one & other) / max(1, len(one | other))
