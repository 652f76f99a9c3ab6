"""RSS and Atom feeds imported as pushed articles: ``python -m indexer --feed URL_OR_FILE``.

``feedparser`` reads any flavour of feed (RSS 0.9x-2.0, RSS 1.0, Atom); each entry becomes a
document in the index's managed folder (``pushed.py``), so that it is indexed, kept and
replaced like an article pushed over HTTP: its id is the entry's id (or link), its text the
entry's content or summary, or, with ``fetch_pages``, the article page the entry links to
(read as any HTML source, ``documents.parse_html``), which feeds that carry only a teaser need.
The feed's title is the source; dates become ISO 8601 in UTC. Feeds are fetched with ``httpx``
(timeouts, redirects, one clear error) and only then handed to feedparser, which would
otherwise fetch them itself with no timeout.
"""

import calendar
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
from lxml import html as lxml_html

from indexer.documents import parse_html
from indexer.errors import FeedUnavailable
from indexer.pushed import PushedArticles

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 20.0
USER_AGENT = "newsqa-feed-importer/0.1"
# Elements that end a paragraph (or a line) of an entry's HTML.
_BLOCKS = ("p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "br")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class FeedImport:
    """What one import of one feed did."""

    feed: str
    entries: int
    stored: list[str]
    """Ids of the entries written (new or changed); unchanged ones are not rewritten."""
    skipped: int
    """Entries without an id or any text."""


def import_feed(location: str, articles: PushedArticles, fetch_pages: bool = False) -> FeedImport:
    """Store every entry of the feed at ``location`` (a URL or a file) as a pushed article."""
    with httpx.Client(
        timeout=FETCH_TIMEOUT_SECONDS,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    ) as http:
        parsed = feedparser.parse(_read(location, http))
        if not parsed.version and not parsed.entries:  # no flavour of feed recognised
            problem = parsed.get("bozo_exception") or "no RSS or Atom found"
            raise FeedUnavailable(f"{location} is not a feed: {problem}")
        source = parsed.feed.get("title") or None
        records, skipped = [], 0
        for entry in parsed.entries:
            record = _record(entry, source, http if fetch_pages else None)
            if record is None:
                skipped += 1
            else:
                records.append(record)
    stored = articles.put(records, only_changed=True)
    return FeedImport(location, len(parsed.entries), stored, skipped)


def _read(location: str, http: httpx.Client) -> bytes:
    if not location.startswith(("http://", "https://")):
        try:
            return Path(location).read_bytes()
        except OSError as exc:
            raise FeedUnavailable(f"cannot read the feed file {location}: {exc}") from exc
    try:
        response = http.get(location)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise FeedUnavailable(f"cannot fetch the feed {location}: {exc}") from exc
    return response.content


def _record(entry: Any, source: str | None, http: httpx.Client | None) -> dict[str, Any] | None:
    """The entry as a JSONL corpus record, or None when it has no id or no text."""
    link = entry.get("link")
    doc_id = entry.get("id") or link
    text = _entry_text(entry)
    if http is not None and link:
        text = _page_text(link, http) or text
    if not doc_id or not text.strip():
        return None
    record: dict[str, Any] = {"_id": doc_id, "title": entry.get("title", ""), "text": text}
    if source:
        record["source"] = source
    if link:
        record["url"] = link
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    if when:
        record["published"] = datetime.fromtimestamp(calendar.timegm(when), UTC).isoformat()
    if authors := [a["name"] for a in entry.get("authors", []) if a.get("name")]:
        record["authors"] = authors
    return record


def _entry_text(entry: Any) -> str:
    """The entry's full content if it has one, else its summary, as plain text."""
    contents = entry.get("content") or []
    markup = contents[0].get("value", "") if contents else entry.get("summary", "")
    return fragment_text(markup)


def fragment_text(markup: str) -> str:
    """Plain text of an HTML fragment: a paragraph per block, its whitespace collapsed (the
    feed's own line breaks and indentation are markup, not text)."""
    if "<" in markup:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
        for element in root.iter(*_BLOCKS):
            element.tail = "\n\n" + (element.tail or "")
        markup = str(root.text_content())
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(markup))
    return "\n\n".join(part for part in paragraphs if part)


def _page_text(url: str, http: httpx.Client) -> str | None:
    """The article text of the page at ``url``; None (the entry's own text is used) when it
    cannot be fetched or holds no article."""
    try:
        response = http.get(url)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("cannot fetch %s, using the feed's text: %s", url, exc)
        return None
    doc = parse_html(response.text, url)
    return doc.text if doc is not None else None


def follow_feeds(
    locations: Sequence[str],
    index_dir: Path,
    fetch_pages: bool,
    every: float | None,
    build: Callable[[], None],
) -> None:
    """Import the feeds, then build; with ``every``, again and again, until interrupted. In
    a loop a feed that fails is reported and tried again next round; run once, it is fatal."""
    articles = PushedArticles(index_dir)
    while True:
        began = time.monotonic()
        for location in locations:
            try:
                done = import_feed(location, articles, fetch_pages)
            except FeedUnavailable as exc:
                if every is None:
                    raise
                print(f"error: {exc}", file=sys.stderr, flush=True)
                continue
            print(
                f"{location}: {done.entries} entries, {len(done.stored)} new or changed, "
                f"{done.skipped} without an id or text",
                flush=True,
            )
        build()
        if every is None:
            return
        time.sleep(max(0.0, every - (time.monotonic() - began)))
