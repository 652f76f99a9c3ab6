"""Documents and the loaders that read them from folders, files and JSONL corpora.

A document's ``text`` is the cleaned article body; every passage offset points into it, and
``GET /documents/{id}`` returns exactly this text so citations can be checked.
"""

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.cleaning import clean_article
from indexer.metadata import (
    dateline_published,
    html_published,
    normalize_published,
    split_front_matter,
)

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
# A Markdown heading line is a paragraph of its own, not the start of the sentence below it.
_MARKDOWN_HEADING = re.compile(r"^(#{1,6}[ \t].*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Document:
    """One article: identity, metadata and cleaned text."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    path: str | None = None
    url: str | None = None
    published: str | None = None
    authors: tuple[str, ...] = ()
    content_hash: str = field(default="", compare=False)
    indexed_at: str | None = field(default=None, compare=False)
    """When its content was first indexed as it is (ISO 8601, UTC): the build time of the
    generation that embedded it, kept by later builds while it does not change."""

    def __post_init__(self) -> None:
        if not isinstance(self.authors, tuple):  # read back from JSON as a list
            object.__setattr__(self, "authors", tuple(self.authors))
        if not self.content_hash:
            object.__setattr__(self, "content_hash", _hash_document(self))


def _hash_document(doc: "Document") -> str:
    """Hash everything that ends up in the index, so a metadata change counts as a change."""
    digest = hashlib.sha256()
    for part in (doc.title, doc.text, doc.source or "", doc.url or "", doc.published or ""):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    if doc.authors:  # only then: the hashes of documents without authors stay as they were
        digest.update("\x00".join(doc.authors).encode("utf-8"))
    return digest.hexdigest()


def _is_hidden(path: Path, root: Path) -> bool:
    """Dot files, editor backups and swap files are never articles."""
    parts = path.relative_to(root).parts
    return any(p.startswith(".") for p in parts) or path.name.endswith("~")


def iter_source_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every file under the given folders, and given files as-is.

    ``root`` is the folder the file was found in, so its document id is its relative path.
    """
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if not _is_hidden(file, path):
                    yield file, path
        elif path.is_file():
            yield path, path.parent
        else:
            log.warning("skipping %s: no such file or folder", path)


def load_documents(paths: Iterable[Path]) -> Iterator[Document]:
    """Read every supported file under ``paths``; log and skip what cannot be read."""
    for file, root in iter_source_files(paths):
        suffix = file.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            log.info("skipping %s: unsupported file type %r", file, suffix or "(none)")
            continue
        try:
            raw = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("skipping %s: cannot read it as UTF-8 (%s)", file, exc)
            continue
        doc_id = file.relative_to(root).as_posix()
        if suffix in JSONL_SUFFIXES:
            yield from parse_jsonl(raw, file)
        elif suffix in HTML_SUFFIXES:
            doc = parse_html(raw, doc_id, file)
            if doc is not None:
                yield doc
        else:
            doc = parse_text(raw, doc_id, file)
            if doc is not None:
                yield doc


def parse_text(raw: str, doc_id: str, file: Path | None = None) -> Document | None:
    """Plain text or Markdown: the first non-empty line is the title, the rest the body.

    A leading YAML front-matter block (``---`` lines around ``title:``, ``source:``, ``url:``,
    ``published:``, ``authors:``) gives the metadata, its ``title`` taking the first line's
    place; without a date there, a "Published ..." line under the title gives it."""
    fields, raw = split_front_matter(raw)
    lines = raw.lstrip("\ufeff").split("\n")
    title = str(fields.get("title") or "").strip()
    if title:
        body = "\n".join(lines)
    else:
        for i, line in enumerate(lines):
            if line.strip():
                title = line.strip().lstrip("#").strip()
                body = "\n".join(lines[i + 1 :])
                break
        else:
            log.info("skipping %s: empty", file or doc_id)
            return None
    cleaned = clean_article(_MARKDOWN_HEADING.sub(r"\n\n\1\n\n", body))
    if not cleaned.text:
        cleaned = clean_article(title)
    published = fields.get("published", fields.get("date"))
    return Document(
        doc_id=doc_id,
        title=title,
        text=cleaned.text,
        source=_text_field(fields, "source", "publisher") or cleaned.source,
        path=str(file) if file else None,
        url=_text_field(fields, "url", "link"),
        published=normalize_published(published) or dateline_published(body),
        authors=authors_of(fields.get("authors", fields.get("author"))),
    )


def _text_field(fields: dict[str, object], *names: str) -> str | None:
    """The first of ``names`` that front matter gives as a non-empty string."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_html(raw: str, doc_id: str, file: Path | None = None) -> Document | None:
    """HTML pages: trafilatura finds the article body and the page's title and site name."""
    import trafilatura

    body = trafilatura.extract(raw, include_comments=False, include_tables=False)
    # trafilatura puts each block (a heading, a paragraph, an item) on one line: blocks are
    # paragraphs, so that a heading is never glued to the first sentence after it.
    blocks = [line for line in (body or "").split("\n") if line.strip()]
    if not blocks:
        log.info("skipping %s: no article text found in the HTML", file or doc_id)
        return None
    meta = trafilatura.extract_metadata(raw)
    title = (meta.title if meta and meta.title else "") or blocks[0][:120]
    if blocks[0].strip().casefold() == title.strip().casefold():
        blocks = blocks[1:] or blocks  # the page's heading repeats its title
    cleaned = clean_article("\n\n".join(blocks))
    return Document(
        doc_id=doc_id,
        title=title,
        text=cleaned.text,
        source=cleaned.source or (meta.sitename if meta else None),
        path=str(file) if file else None,
        url=meta.url if meta else None,
        published=html_published(raw) or normalize_published(meta.date if meta else None),
        authors=authors_of(meta.author if meta else None),
    )


def parse_jsonl(raw: str, file: Path) -> Iterator[Document]:
    """One JSON object a line with ``_id``/``id`` and ``text``; bad lines are logged, not fatal."""
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            doc_id = str(record.get("_id", record.get("id", "")))
            text = record.get("text")
            if not doc_id or not isinstance(text, str):
                raise ValueError("needs an '_id' or 'id' and a string 'text'")
        except (ValueError, AttributeError) as exc:
            log.warning("skipping %s line %d: %s", file, lineno, exc)
            continue
        cleaned = clean_article(text)
        if not cleaned.text:
            log.info("skipping %s line %d: empty text", file, lineno)
            continue
        yield Document(
            doc_id=doc_id,
            title=str(record.get("title") or ""),
            text=cleaned.text,
            source=record.get("source") or cleaned.source,
            path=str(file),
            url=record.get("url"),
            published=normalize_published(record.get("published")),
            authors=authors_of(record.get("authors", record.get("author"))),
        )


def authors_of(value: object) -> tuple[str, ...]:
    """Author names from a list, or from one string of names separated by ``;`` (as
    trafilatura gives them) or `` and ``; anything else is no author."""
    if isinstance(value, str):
        value = re.split(r"\s*;\s*|\s+and\s+", value)
    if not isinstance(value, list):
        return ()
    return tuple(
        dict.fromkeys(name.strip() for name in value if isinstance(name, str) and name.strip())
    )
