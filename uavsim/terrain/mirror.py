"""A local tile mirror: serve a folder over HTTP with Range support, and write tiles in the public layout.

For a field laptop without internet (serve a copied cache folder to other machines with ``--base-url``), and
for the tests and benchmarks, which must never reach the internet: they build tiles from a known surface and
serve them on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import rasterio
from rasterio.transform import from_bounds

from uavsim.terrain.sources import Source


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: tests and benchmarks
        pass

    def _file(self) -> Path | None:
        rel = unquote(urlparse(self.path).path).lstrip("/")
        path = (self.server.root / rel).resolve()
        if self.server.root not in path.parents or not path.is_file():
            return None
        return path

    def _range(self, size: int) -> tuple[int, int] | None:
        spec = self.headers.get("Range", "")
        if not spec.startswith("bytes="):
            return None
        first, _, last = spec[6:].partition("-")
        start = int(first) if first else max(size - int(last), 0)
        end = int(last) if first and last else size - 1
        return start, min(end, size - 1)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        path = self._file()
        self.server.requests.append((self.command, self.path, self.headers.get("Range")))
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        size = path.stat().st_size
        rng = self._range(size)
        if rng is not None and rng[0] >= size:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return
        start, end = rng if rng is not None else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if rng is not None else HTTPStatus.OK)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if rng is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            self._send_bytes(path, start, end - start + 1)

    def _send_bytes(self, path: Path, start: int, length: int) -> None:
        budget = self.server.die_after_bytes
        with open(path, "rb") as fh:
            fh.seek(start)
            while length > 0:
                chunk = fh.read(min(length, 1 << 16))
                if budget is not None:
                    chunk = chunk[:budget - self.server.sent]
                self.wfile.write(chunk)
                self.server.sent += len(chunk)
                length -= len(chunk)
                if budget is not None and self.server.sent >= budget:
                    self.server.die()
                    return


class MirrorServer(ThreadingHTTPServer):
    """``root`` served on ``host:port`` (port 0: any free one). ``die_after_bytes`` simulates a crash."""

    daemon_threads = True

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0,
                 die_after_bytes: int | None = None) -> None:
        super().__init__((host, port), _Handler)
        self.root = Path(root).resolve()
        self.die_after_bytes = die_after_bytes
        self.sent = 0
        self.requests: list[tuple[str, str, str | None]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> MirrorServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def die(self) -> None:
        """Stop listening and drop the connection at once, as a crashed server would."""
        threading.Thread(target=self.shutdown, daemon=True).start()
        self.socket.close()
        raise ConnectionAbortedError("mirror died on purpose")

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address) -> None:  # a purposeful death is not worth a traceback
        pass


def write_tile(root: str | Path, src: Source, lat: int, lon: int,
               surface: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Path:
    """A tile of cell (lat, lon) in the source's public layout under ``root``, heights ``surface(lat, lon)``."""
    width, height, (w, s, e, n) = src.expected_grid(lat, lon)
    rows = n - (np.arange(height) + 0.5) * (n - s) / height
    cols = w + (np.arange(width) + 0.5) * (e - w) / width
    z = surface(rows[:, None], cols[None, :]).astype(np.float32)
    path = Path(root) / src.tile_path(lat, lon)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_bounds(w, s, e, n, width, height), tiled=True,
                       blockxsize=1024, blockysize=1024, compress="deflate", predictor=3) as ds:
        ds.write(z, 1)
    return path
