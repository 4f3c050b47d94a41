"""Public DEM sources that `uavsim terrain fetch` knows: their server layout, tile geometry and datum.

Copernicus DEM COGs (https://copernicus-dem-30m.s3.amazonaws.com/readme.html): one tile per 1° x 1° cell,
named by the cell's south-west corner, ``Copernicus_DSM_COG_10_N21_00_E103_00_DEM/<same>.tif`` (``COG_30`` for
GLO-90). Each tile drops the row and column it shared with its east and south neighbours, so a GLO-30 tile is
3600 rows and its pixel centres sit on whole seconds: the raster's outer edge lies half a pixel west and north of
the cell. Longitude spacing widens with latitude (3600 columns below 50°, 2400 in 50–60°, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from uavsim.errors import InputError

COPERNICUS_VERTICAL_DATUM = "EGM2008"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    root_url: str
    arcsec: int  # nominal pixel size (latitude spacing) in arc seconds
    code: str  # the resolution code in the tile names: 10 (1 arcsec) or 30 (3 arcsec)
    resolution_m: float  # nominal ground resolution
    vertical_datum: str
    reference: str

    @property
    def rows(self) -> int:
        return 3600 // self.arcsec

    def tile_id(self, lat: int, lon: int) -> str:
        """Tile name of the 1° cell whose south-west corner is (lat, lon)."""
        ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
        return f"Copernicus_DSM_COG_{self.code}_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"

    def tile_path(self, lat: int, lon: int) -> str:
        """Path of the tile under the server root, in the public layout."""
        name = self.tile_id(lat, lon)
        return f"{name}/{name}.tif"

    def columns(self, lat: int) -> int:
        """Tile width: longitude spacing widens towards the poles (readme table)."""
        edge = min(abs(lat), abs(lat + 1))
        for limit, factor in ((50, 1), (60, 1.5), (70, 2), (80, 3), (85, 5)):
            if edge < limit:
                return int(round(self.rows / factor))
        return self.rows // 10

    def expected_grid(self, lat: int, lon: int) -> tuple[int, int, tuple[float, float, float, float]]:
        """(width, height, (west, south, east, north)) that a genuine tile of this cell has."""
        width, height = self.columns(lat), self.rows
        dx, dy = 1.0 / width, 1.0 / height
        return width, height, (lon - dx / 2, lat + dy / 2, lon + 1 - dx / 2, lat + 1 + dy / 2)


SOURCES: dict[str, Source] = {
    "copernicus-glo30": Source(
        "copernicus-glo30", "Copernicus DEM GLO-30", "https://copernicus-dem-30m.s3.amazonaws.com/", 1, "10",
        30.0, COPERNICUS_VERTICAL_DATUM,
        "Copernicus DEM product handbook; https://copernicus-dem-30m.s3.amazonaws.com/readme.html"),
    "copernicus-glo90": Source(
        "copernicus-glo90", "Copernicus DEM GLO-90", "https://copernicus-dem-90m.s3.amazonaws.com/", 3, "30",
        90.0, COPERNICUS_VERTICAL_DATUM,
        "Copernicus DEM product handbook; https://copernicus-dem-90m.s3.amazonaws.com/readme.html"),
}


def source(source_id: str) -> Source:
    try:
        return SOURCES[source_id]
    except KeyError:
        raise InputError(f"unknown terrain source '{source_id}' (known: {', '.join(SOURCES)})") from None


def check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A (west, south, east, north) box in WGS84 degrees, or an error naming what is wrong."""
    w, s, e, n = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise InputError(f"bounding box {bbox!r} has a non-finite value")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"bounding box W,S,E,N = {w},{s},{e},{n} is not a valid WGS84 box (need W < E, S < N)")
    return w, s, e, n


def cells(bbox: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """The 1° cells (south-west corner lat, lon) that a box touches, south to north, west to east."""
    w, s, e, n = check_bbox(bbox)
    lats = range(math.floor(s), max(math.ceil(n), math.floor(s) + 1))
    lons = range(math.floor(w), max(math.ceil(e), math.floor(w) + 1))
    return [(la, lo) for la in lats for lo in lons if -90 <= la < 90 and -180 <= lo < 180]
