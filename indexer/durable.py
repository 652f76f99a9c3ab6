"""Writes that survive a crash or a power cut: fsync the data, rename it into place, fsync the
folder that holds it (without the last step the rename itself may be lost)."""

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one step, through a dot file beside it (which builds and
    listings skip); the caller fsyncs the folder, once for many files."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_tree(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            fsync_tree(entry)
            continue
        with entry.open("rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
