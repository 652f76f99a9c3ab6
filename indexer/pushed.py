"""Articles pushed over HTTP (``POST /documents``) or imported from a feed, kept as files.

They live in ``<index_dir>/pushed/``, one JSONL file of one record per document, so that they
are sources like any folder: every build reads them (``build_index`` adds the folder to the
paths it is given), a restart or a ``--full`` rebuild keeps them, and deleting a document is
deleting its file. A file's name is a hash of the document's id (ids are free text: slashes,
spaces, any length); each write goes to a dot file first (builds skip dot files), is fsynced
and renamed into place, so a build never reads half an article and a crash loses none that was
acknowledged.
"""

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from indexer.durable import fsync_dir, write_atomically

PUSHED_DIR = "pushed"


def pushed_dir(index_dir: Path) -> Path:
    return Path(index_dir) / PUSHED_DIR


class PushedArticles:
    """The managed folder of one index: put, replace and remove documents by id."""

    def __init__(self, index_dir: Path) -> None:
        self.folder = pushed_dir(index_dir)
        self._lock = threading.Lock()

    def file_of(self, doc_id: str) -> Path:
        digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]
        return self.folder / f"{digest}.jsonl"

    def holds(self, doc_id: str) -> bool:
        return self.file_of(doc_id).is_file()

    def put(self, records: Iterable[dict[str, Any]], only_changed: bool = False) -> list[str]:
        """Write (or replace) each record (``{"_id", "title", "text", ...}``, as a JSONL
        corpus line reads); returns their ids, in order. ``only_changed``: a record whose file
        holds it already is not written again, nor returned (a feed read every few minutes)."""
        ids = []
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            for record in records:
                doc_id = str(record["_id"])
                data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
                file = self.file_of(doc_id)
                if only_changed and file.is_file() and file.read_bytes() == data:
                    continue
                write_atomically(file, data)
                ids.append(doc_id)
            fsync_dir(self.folder)
        return ids

    def delete(self, doc_id: str) -> bool:
        """Remove a pushed document; False when there is none with this id."""
        with self._lock:
            try:
                self.file_of(doc_id).unlink()
            except FileNotFoundError:
                return False
            fsync_dir(self.folder)
        return True
