"""Scraped pages carry site furniture ("Source link", "Scroll to Top") that is not article text.

Cleaning removes it before chunking, so it can never become a passage or an answer, and turns
an attribution line ("This article was originally published on NBCNews.com") into the
document's publisher instead of a passage. Two kinds of furniture: lines that are nothing but
a label ("Share", "Advertisement"), and prompts that lead elsewhere ("More: <another
story's headline>", "Read more: ...", "Sign up for our newsletter ..."), the commonest in the
news dev set's pages (1% of the sentences of the top passages, most of them "More:" links).
"""

import re
from dataclasses import dataclass

# Lines that are navigation, sharing or author-box furniture when they stand alone on a line.
_BOILERPLATE_LINES = frozenset(
    {
        "source link",
        "about the author",
        "scroll to top",
        "back to top",
        "share this article",
        "share this",
        "share",
        "advertisement",
        "related posts",
        "related articles",
        "read more",
        "click here",
        "leave a reply",
        "leave a comment",
        "sign up for our newsletter",
        "subscribe",
        "print",
        "email",
        "facebook",
        "twitter",
        "whatsapp",
        "linkedin",
        "skip to content",
        "cancel reply",
        "post navigation",
    }
)

# A prompt: a label and a colon ("More:", "Read more:", "Follow every game:"), or a call to
# sign up or subscribe, on a short line of its own.
_PROMPT = re.compile(
    r"^\s*(?:(?:more|read more|related|related stories|see also|also read|watch|listen|"
    r"follow every game|recommended|trending)\s*:|(?:sign up|subscribe)\b)",
    re.IGNORECASE,
)
_PROMPT_MAX_CHARS = 300
_ORIGINALLY_PUBLISHED = re.compile(
    r"^\s*(?:this (?:article|story|post) (?:was|is) )?originally (?:published|appeared) "
    r"(?:on|in|at|by)\s+(?P<source>.+?)\s*\.?\s*$",
    re.IGNORECASE,
)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class CleanText:
    """Article text without furniture, and the publisher named by an attribution line, if any."""

    text: str
    source: str | None


def clean_article(raw: str) -> CleanText:
    """Drop furniture lines, lift the attribution line into ``source``, tidy whitespace."""
    source = None
    kept: list[str] = []
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        key = stripped.lower().rstrip(":.!").strip()
        if key in _BOILERPLATE_LINES or _is_prompt(stripped):
            continue
        match = _ORIGINALLY_PUBLISHED.match(stripped)
        if match:
            source = source or match.group("source")
            continue
        kept.append(line.rstrip())
    text = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
    return CleanText(text=text, source=source)


def _is_prompt(line: str) -> bool:
    return len(line) <= _PROMPT_MAX_CHARS and _PROMPT.match(line) is not None
