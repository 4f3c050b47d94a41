"""Which files an import reads, and their identity (sha256): apart from the batch, so that the manifest reader
can name the same files without importing the importer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

LOG_SUFFIXES = (".tlog", ".bin", ".log", ".ulg")
_READ_CHUNK = 1 << 20


def find_logs(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus log files (by extension, any case) found recursively in folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            # not only regular files: a FIFO or device named like a log gets its reason, not silence
            out += sorted(q for q in p.rglob("*") if not q.is_dir() and q.suffix.lower() in LOG_SUFFIXES)
        else:
            out.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()
