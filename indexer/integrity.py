"""Every file of a generation checked when it is opened, against the size and SHA-256 its
build recorded in the manifest.

A generation is written whole, fsynced and renamed into place before it goes live, and never
written again; a file that differs from its record was damaged afterwards (a truncated copy, a
disk fault, a stray write). Such a generation is refused (``IndexCorrupt``), never half-served:
a running service keeps the generation it has, and one starting says why in ``/ready``.
Hashing reads every byte once (about 1 s per GB here), each time a generation is opened: at
start and at each swap, off the request path.
"""

import hashlib
from pathlib import Path

from pydantic import BaseModel

from indexer.errors import IndexCorrupt

MANIFEST_FILE = "manifest.json"


class FileRecord(BaseModel):
    size: int
    sha256: str


def record_files(folder: Path) -> dict[str, FileRecord]:
    """The size and checksum of every file under ``folder`` but the manifest, by relative path."""
    return {
        file.relative_to(folder).as_posix(): FileRecord(
            size=file.stat().st_size, sha256=_sha256(file)
        )
        for file in sorted(folder.rglob("*"))
        if file.is_file() and file.name != MANIFEST_FILE
    }


def verify_files(folder: Path, recorded: dict[str, FileRecord]) -> None:
    """Raise ``IndexCorrupt`` naming the first file of ``folder`` that is missing or differs
    from ``recorded`` (sizes first: a truncation is found without reading anything)."""
    for name, expected in recorded.items():
        file = folder / name
        try:
            size = file.stat().st_size
        except OSError as exc:
            raise IndexCorrupt(f"generation {folder.name}: {name} is missing ({exc})") from exc
        if size != expected.size:
            raise IndexCorrupt(
                f"generation {folder.name}: {name} has {size} bytes, its build wrote "
                f"{expected.size}"
            )
    for name, expected in recorded.items():
        if _sha256(folder / name) != expected.sha256:
            raise IndexCorrupt(
                f"generation {folder.name}: {name} does not match the checksum its build "
                "recorded (damaged on disk)"
            )


def _sha256(file: Path) -> str:
    with file.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
