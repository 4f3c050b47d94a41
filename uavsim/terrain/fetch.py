"""`uavsim terrain fetch`: download the public DEM tiles over an area, verify them, cache them, mosaic them.

Every tile goes to ``<name>.tif.part`` first and takes its final name only after GDAL has opened and decoded it
with the size, CRS and bounds a genuine tile of that cell has. A tile the server does not have (404) is recorded
as missing and its area stays nodata. The mosaic takes its final name only once it is complete. So an interrupted
or failed fetch leaves nothing that a later command would read; the next fetch resumes the ``.part`` files and
re-uses every verified tile.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rasterio
from rasterio.errors import RasterioIOError

from uavsim import geo
from uavsim.terrain import mosaic
from uavsim.terrain.cache import terrain_dir
from uavsim.terrain.download import FetchError, HttpConfig, TileMissing, download
from uavsim.terrain.sources import Source, cells, check_bbox, source

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "copernicus-glo30"
DEFAULT_MARGIN_KM = 3.0
M_PER_DEG_LAT = 111_320.0

TileProgress = Callable[[str, int, int | None], None]  # (tile name, bytes just received, tile size or None)


@dataclass(frozen=True)
class TileResult:
    name: str
    url: str
    status: str  # downloaded | cached | missing
    sha256: str | None


@dataclass(frozen=True)
class FetchResult:
    path: str
    source: str
    tiles: list[TileResult]
    bounds: list[float]  # the mosaic's extent, W S E N
    area: list[float]  # the area asked for, before the margin
    resolution_m: float
    vertical_datum: str
    synthetic: bool = False
    coverage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def pad(area: tuple[float, float, float, float], margin_km: float) -> tuple[float, float, float, float]:
    """The area grown by ``margin_km`` on every side (clamped to the globe)."""
    w, s, e, n = area
    dlat = margin_km * 1000 / M_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(max(abs(s), abs(n)))), 0.01)
    return max(w - dlon, -180.0), max(s - dlat, -90.0), min(e + dlon, 180.0), min(n + dlat, 90.0)


def verify_tile(path: Path, src: Source, lat: int, lon: int, decode: bool = True) -> str | None:
    """None when ``path`` is a genuine tile of cell (lat, lon), decoded whole when ``decode``; else the problem."""
    width, height, (w, s, e, n) = src.expected_grid(lat, lon)
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None or not ds.crs.is_geographic or "WGS 84" not in ds.crs.to_wkt():
                return f"CRS is {ds.crs}, not WGS84 geographic"
            if (ds.width, ds.height) != (width, height):
                return f"size is {ds.width} x {ds.height}, not {width} x {height}"
            b = ds.bounds
            tol = 0.01 / height
            if max(abs(b.left - w), abs(b.bottom - s), abs(b.right - e), abs(b.top - n)) > tol:
                return f"bounds are {tuple(b)}, not those of cell {lat},{lon}"
            for _, window in ds.block_windows(1) if decode else ():  # a damaged file fails here
                ds.read(1, window=window)
    except RasterioIOError as exc:
        return f"GDAL cannot read it ({exc})"
    return None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _cached_sha(tile: Path) -> str:
    side = tile.with_suffix(".sha256")
    if side.exists():
        return side.read_text().strip()
    digest = sha256_of(tile)
    side.write_text(digest + "\n")
    return digest


def _get_tile(src: Source, base: str, lat: int, lon: int, folder: Path, http: HttpConfig,
              progress: TileProgress | None) -> tuple[TileResult, Path | None]:
    name = src.tile_id(lat, lon)
    url = base.rstrip("/") + "/" + src.tile_path(lat, lon)
    tile = folder / f"{name}.tif"
    # A cached tile was decoded whole before it took its name; its header is checked again.
    if tile.exists() and verify_tile(tile, src, lat, lon, decode=False) is None:
        return TileResult(name, url, "cached", _cached_sha(tile)), tile
    part = tile.with_name(tile.name + ".part")
    on_bytes = None if progress is None else (lambda n, total: progress(name, n, total))
    for attempt in range(2):  # a resumed part that fails verification is fetched once more from scratch
        try:
            download(url, part, http, on_bytes)
        except TileMissing:
            part.unlink(missing_ok=True)
            return TileResult(name, url, "missing", None), None
        problem = verify_tile(part, src, lat, lon)
        if problem is None:
            break
        log.warning("%s: %s (attempt %d)", url, problem, attempt + 1)
        part.unlink(missing_ok=True)
    else:
        raise FetchError(f"{url}: the downloaded file is not a valid {src.title} tile ({problem})")
    digest = sha256_of(part)
    os.replace(part, tile)
    tile.with_suffix(".sha256").write_text(digest + "\n")
    return TileResult(name, url, "downloaded", digest), tile


def _resolution_m(path: Path) -> float:
    with rasterio.open(path) as ds:
        b, t = ds.bounds, ds.transform
    lat0, lon0 = (b.bottom + b.top) / 2, (b.left + b.right) / 2
    dx = float(geo.geodesic_distance(lat0, lon0, lat0, lon0 + abs(t.a)))
    dy = float(geo.geodesic_distance(lat0, lon0, lat0 + abs(t.e), lon0))
    return max(dx, dy)


def _still_in_use(area: tuple[float, float, float, float]) -> str:
    m = mosaic.default_for(area)
    return f"the cached terrain {m.path.name} stays in use" if m else "the embedded synthetic terrain stays in use"


def fetch(bbox: tuple[float, float, float, float], source_id: str = DEFAULT_SOURCE, base_url: str | None = None,
          margin_km: float = DEFAULT_MARGIN_KM, http: HttpConfig | None = None,
          progress: TileProgress | None = None) -> FetchResult:
    """Download, verify and mosaic the tiles over ``bbox`` (W, S, E, N, WGS84 degrees) plus ``margin_km``."""
    src = source(source_id)
    area = check_bbox(bbox)
    padded = pad(area, margin_km)
    folder = terrain_dir() / src.id
    folder.mkdir(parents=True, exist_ok=True)
    base = base_url or src.root_url
    results, present = [], []
    try:
        for lat, lon in cells(padded):
            res, tile = _get_tile(src, base, lat, lon, folder, http or HttpConfig(), progress)
            results.append(res)
            if tile is not None:
                present.append(tile)
    except FetchError as exc:
        raise FetchError(f"{exc}; {_still_in_use(area)}") from None
    if not present:
        raise FetchError(f"{base}: the server has none of the {len(results)} {src.title} tiles of the area "
                         f"(all answered 404); {_still_in_use(area)}")
    tags = {"SOURCE": src.id, "SOURCE_TITLE": src.title, "SOURCE_URL": base, "REFERENCE": src.reference,
            "TILES": ",".join(r.name for r in results if r.status != "missing"),
            "MISSING_TILES": ",".join(r.name for r in results if r.status == "missing"),
            "DATE": mosaic.now_iso(), "VERTICAL_DATUM": f"{src.vertical_datum} (metres above the geoid)",
            "RESOLUTION_M": f"{src.resolution_m:g}", "AREA": ",".join(f"{v:.6f}" for v in area),
            "DESCRIPTION": f"{src.title} mosaic fetched by uavsim ({len(present)} tiles, "
                           f"{len(results) - len(present)} missing); heights in metres above {src.vertical_datum}"}
    out = mosaic.build(present, padded, mosaic.mosaic_dir() / mosaic.mosaic_name(src.id, area), tags)
    with rasterio.open(out) as ds:
        b = ds.bounds
    coverage = {s: sum(r.status == s for r in results) for s in ("downloaded", "cached", "missing")}
    return FetchResult(str(out), src.id, results, [b.left, b.bottom, b.right, b.top], list(area),
                       _resolution_m(out), src.vertical_datum, False, coverage)
