"""What ``--dem`` means, and opening DEMs once per file (the embedded synthetic terrain, a fetched mosaic,
any file GDAL reads, or a URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from uavsim.terrain.dem import Terrain

SYNTHETIC = "synthetic"  # the --dem value that always picks the embedded synthetic terrain

Area = tuple[float, float, float, float]


@lru_cache(maxsize=4)
def _open_cached(path: str, stamp: tuple[int, int]) -> Terrain:
    return Terrain.open(path)


def _open(path: str) -> Terrain:
    """Open through the cache; a file rewritten in place (a new fetch) is opened afresh."""
    p = Path(path)
    st = p.stat() if p.exists() else None
    return _open_cached(path, (st.st_mtime_ns, st.st_size) if st else (0, 0))


def open_default() -> Terrain:
    """The embedded synthetic terrain of the sandbox (built and cached on first use)."""
    from uavsim.terrain import synthetic

    return _open(str(synthetic.ensure()))


def resolve_dem(spec: str | Path | None = None, area: Area | None = None) -> str:
    """What ``--dem`` means, as the path or URL to open.

    - ``None``: the newest fetched mosaic in the cache that covers ``area`` (any fetched mosaic when no area is
      given), else the embedded synthetic terrain;
    - ``"synthetic"``: the embedded synthetic terrain;
    - an ``http://`` or ``https://`` URL: a GeoTIFF/COG read through GDAL's /vsicurl/;
    - anything else: a DEM file GDAL reads.
    """
    from uavsim.terrain import mosaic, synthetic

    text = None if spec is None else str(spec)
    if text is None:
        found = mosaic.default_for(area)
        return str(found.path) if found else str(synthetic.ensure())
    if text == SYNTHETIC:
        return str(synthetic.ensure())
    if text.startswith(("http://", "https://")):
        return text
    return str(Path(text).resolve())


def open_dem(spec: str | Path | None = None, area: Area | None = None) -> Terrain:
    """Open the DEM that ``spec`` names (see :func:`resolve_dem`). Opened DEMs are cached per file."""
    return _open(resolve_dem(spec, area))
