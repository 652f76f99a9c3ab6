"""An article's metadata read from where news carries it: front matter, datelines, the HTML
``<meta>`` tags and JSON-LD that publishers write for search engines.

Publication dates are stored as ISO 8601 (``2024-03-12``, or ``2024-03-12T08:30:00+01:00``
when the time is known), whatever form the source gave them in ("March 12, 2024", an RSS
``Tue, 12 Mar 2024 08:30:00 +0100``): filters and recency compare them, and a date they cannot
read makes an article undated. Free-form dates are read by ``dateparser`` (absolute dates only:
a stored "yesterday" has no meaning, so a date must name its year).
"""

import json
import logging
import re
from datetime import date, datetime
from itertools import islice
from typing import Any

import yaml
from lxml import html as lxml_html

log = logging.getLogger(__name__)

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"\b\d{4}\b")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# "Published March 12, 2024", "Updated: 12 Mar 2024 08:30 GMT", "Posted on 2024-03-12".
_DATELINE = re.compile(
    r"^(?:published|posted|updated|last updated)(?:\s+on)?\s*:?\s*(?P<when>.{6,60})$", re.I
)
DATELINE_LINES = 3
"""How many lines under the title a dateline may be found in."""
# Where publishers put the publication moment in a page's head, most precise first.
_META_NAMES = ("article:published_time", "og:published_time", "datepublished", "pubdate")


def normalize_published(value: object) -> str | None:
    """``value`` as an ISO 8601 date or datetime, or None when it is no readable date."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _ISO_DAY.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    if not _YEAR.search(text):
        return None
    import dateparser  # ~0.3 s to import: only for dates that are not ISO already

    moment = dateparser.parse(text, settings={"PREFER_DATES_FROM": "past"})
    if moment is None:
        return None
    if ":" not in text and moment.time() == datetime.min.time():
        return moment.date().isoformat()  # a day, not midnight
    return moment.isoformat()


def split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """A leading ``---``-fenced YAML block's fields, and the text after it (the whole text
    and no fields when there is none, or when it is not a mapping of YAML)."""
    text = raw.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, raw
    try:
        fields = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        log.info("front matter is not YAML, read as text: %s", exc)
        return {}, raw
    if not isinstance(fields, dict):
        return {}, raw
    return {str(key).lower(): value for key, value in fields.items()}, text[match.end() :]


def dateline_published(body: str) -> str | None:
    """The date of a "Published ..." line among the first lines of an article body."""
    lines = (line.strip() for line in body.splitlines() if line.strip())
    for line in islice(lines, DATELINE_LINES):
        match = _DATELINE.match(line)
        if match and (found := normalize_published(match.group("when"))):
            return found
    return None


def html_published(raw: str) -> str | None:
    """The publication moment a page's ``<meta>`` tags or JSON-LD give, with its time when
    they have one (trafilatura gives the day only)."""
    try:
        root = lxml_html.document_fromstring(raw)
    except (ValueError, lxml_html.etree.ParserError):
        return None
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name in _META_NAMES and (found := normalize_published(meta.get("content"))):
            return found
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            try:
                data = json.loads(script.text)
            except ValueError:
                continue
            if found := normalize_published(_first_key(data, "datePublished")):
                return found
    return None


def _first_key(data: object, key: str) -> object:
    """The first value of ``key`` in nested JSON-LD (objects, lists, ``@graph``)."""
    if isinstance(data, dict):
        if key in data:
            return data[key]
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            if (found := _first_key(item, key)) is not None:
                return found
    return None
