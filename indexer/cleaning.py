"""Scraped pages end in site furniture ("Source link", "Scroll to Top") that is not article text.

Cleaning removes it before chunking, so it can never become a passage or an answer, and turns
an attribution line ("This article was originally published on NBCNews.com") into the
document's publisher instead of a passage.
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
        if key in _BOILERPLATE_LINES:
            continue
        match = _ORIGINALLY_PUBLISHED.match(stripped)
        if match:
            source = source or match.group("source")
            continue
        kept.append(line.rstrip())
    text = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
    return CleanText(text=text, source=source)
