"""Plain HTTP(S) downloads (stdlib) with a timeout, retries with back-off, and resume by Range request.

A download writes only to its ``.part`` file; the caller verifies that file and renames it, so an interrupted
transfer never leaves anything a later command would read. A second attempt resumes the ``.part`` file where it
stopped (``Range: bytes=N-``), or starts again when the server ignores the range.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from uavsim.errors import TerrainError, UavSimError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
MISSING_STATUS = (404, 410)  # the server has no such tile: sea, or not published
RETRY_STATUS = (408, 429, 500, 502, 503, 504)

Progress = Callable[[int, int | None], None]  # (bytes just received, total bytes of the file or None)


class FetchError(UavSimError, ConnectionError):
    """A server cannot be reached or keeps failing; nothing half-downloaded is used."""


class TileMissing(Exception):
    """The server answered 404/410: it has no file at that address (not an error for tiled sources)."""


@dataclass(frozen=True)
class HttpConfig:
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 1.0
    user_agent: str = "uavsim-terrain-fetch"


def _open(url: str, offset: int, cfg: HttpConfig):
    headers = {"User-Agent": cfg.user_agent}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=cfg.timeout_s)


def _start_of(resp, offset: int) -> int:
    """Where the body starts in the file: ``offset`` for a matching 206, 0 when the server sent it whole."""
    if resp.status != 206:
        return 0
    content_range = resp.headers.get("Content-Range", "")
    try:
        start = int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return 0
    return start if start == offset else 0


def _total_of(resp, start: int) -> int | None:
    length = resp.headers.get("Content-Length")
    return start + int(length) if length is not None and length.isdigit() else None


def _once(url: str, part: Path, cfg: HttpConfig, progress: Progress | None) -> None:
    offset = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, offset, cfg)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the part file already holds the whole file
            return
        raise
    with resp:
        start = _start_of(resp, offset)
        total = _total_of(resp, start)
        if progress is not None:
            progress(start, total)
        received = start
        with open(part, "r+b" if start else "wb") as fh:
            fh.seek(start)
            fh.truncate()
            while chunk := resp.read(CHUNK):
                fh.write(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(len(chunk), total)
    if total is not None and received != total:
        raise ConnectionError(f"connection closed after {received} of {total} bytes")


def download(url: str, part: Path, cfg: HttpConfig | None = None, progress: Progress | None = None) -> None:
    """Fetch ``url`` into ``part`` (resuming it); raise TileMissing on 404/410 and FetchError when it fails."""
    cfg = cfg or HttpConfig()
    part.parent.mkdir(parents=True, exist_ok=True)
    problem = ""
    for attempt in range(cfg.retries + 1):
        if attempt:
            time.sleep(cfg.backoff_s * 2 ** (attempt - 1))
        try:
            _once(url, part, cfg, progress)
            return
        except urllib.error.HTTPError as exc:
            if exc.code in MISSING_STATUS:
                raise TileMissing(url) from None
            if exc.code not in RETRY_STATUS:
                raise FetchError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = str(reason) if not isinstance(reason, socket.timeout) else f"no answer within {cfg.timeout_s:g} s"
        except OSError as exc:  # not the network: the cache folder (disk full, no permission)
            raise TerrainError(part, f"cannot write the download ({exc.strerror or exc})") from None
        log.info("attempt %d of %d for %s failed: %s", attempt + 1, cfg.retries + 1, url, problem)
    raise FetchError(f"cannot reach {url} ({problem}, {cfg.retries + 1} attempts)")
