"""Uploaded logs into the store through the same ingest as ``uavsim ingest`` (dedup, one transaction per file).

A request never names a path: each upload is copied, under a cleaned name, into a fresh private temporary
folder, sniffed by its content (never by its extension), ingested, and the folder is removed.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from uavsim.errors import LogFormatError
from uavsim.logs.formats import sniff
from uavsim.logs.ingest import ingest
from uavsim.store import Store

log = logging.getLogger(__name__)

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class IngestOptions:
    """What ``uavsim serve`` passes to every upload's ingest: terrain, scenario and size limits."""

    dem: str | None = None
    scenario: str | None = None
    use_terrain: bool = True
    max_file_bytes: int = 256 * 1024 * 1024
    max_files: int = 50


def safe_name(name: str | None, index: int) -> str:
    """A file name to show and store: the last path part, unusual characters replaced, never hidden or empty."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE_CHARS.sub("_", base).lstrip(".")[:120]
    return base or f"upload-{index}"


class TooLarge(Exception):
    """An uploaded file is larger than the limit."""


def _copy(src: BinaryIO, dst: Path, limit: int) -> int:
    n = 0
    with open(dst, "wb") as out:
        while chunk := src.read(_COPY_CHUNK):
            n += len(chunk)
            if n > limit:
                raise TooLarge(f"larger than {limit // (1024 * 1024)} MB")
            out.write(chunk)
    return n


def ingest_uploads(store: Store, uploads: list[tuple[str | None, BinaryIO]], opt: IngestOptions) -> list[dict[str, Any]]:
    """One row per upload: {name, status (imported | duplicate | rejected), error, flights [ids], unsafe}."""
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="uavsim-upload-"))
    try:
        accepted: list[tuple[int, Path]] = []
        for i, (name, fh) in enumerate(uploads):
            shown = safe_name(name, i)
            dst = tmp / f"{i:03d}-{shown}"
            rows.append({"name": shown, "status": "rejected", "error": None, "flights": [], "unsafe": 0})
            try:
                _copy(fh, dst, opt.max_file_bytes)
                sniff(dst)  # by content: a renamed picture is refused before it reaches the importer
            except (TooLarge, LogFormatError) as exc:
                rows[-1]["error"] = f"{shown}: {exc.problem if isinstance(exc, LogFormatError) else exc}"
                continue
            accepted.append((i, dst))
        if accepted:
            results = ingest([p for _, p in accepted], store, dem=opt.dem, scenario=opt.scenario,
                             use_terrain=opt.use_terrain)
            for (i, _path), res in zip(accepted, results, strict=True):
                err = (res.error or "").replace(str(tmp) + "/", "upload:") or None
                rows[i].update(status=res.status, error=err, flights=[f.id for f in res.flights],
                               unsafe=sum(f.outcome == "unsafe" for f in res.flights))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
