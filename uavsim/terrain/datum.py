"""Vertical datums of DEMs, said plainly, and the EGM2008 - EGM96 difference when PROJ has the geoid grids.

- Copernicus DEM: heights above the EGM2008 geoid (product handbook).
- SRTM (and the ArduPilot terrain server, which serves SRTM): heights above the EGM96 geoid.
- The embedded synthetic terrain: made to honour spot heights published as SRTM heights, so EGM96 by intent.

uavsim compares them directly with the "AMSL"/MSL altitudes of MAVLink (GLOBAL_POSITION_INT.alt, GPS_RAW_INT.alt)
and DataFlash (GPS.Alt), which GNSS receivers compute from their own built-in geoid model (commonly EGM96). Both
models put mean sea level within about 0.5 m RMS of each other, and within the Copernicus DEM's own error of
about 1-2 m, so no conversion is applied; the difference over a DEM is computed and shown when PROJ's geoid
grids (``us_nga_egm96_15.tif``, ``us_nga_egm08_25.tif``) are installed, and said to be not computed otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np

EGM2008 = "EGM2008"
EGM96 = "EGM96"
UNKNOWN = "unknown (assumed mean sea level, as EGM96)"

# Published magnitude, used only as a statement when the grids are absent (never as a correction).
PUBLISHED_DIFFERENCE = ("EGM2008 - EGM96 geoid heights differ by about 0.5 m RMS worldwide, up to about 10 m at "
                        "the extremes (P. Guth, MICRODEM help, 'Geoid models', US Naval Academy: "
                        "https://www.usna.edu/Users/oceano/pguth/md_help/html/egm96.htm)")

DESCRIPTIONS = {
    EGM2008: "heights above the EGM2008 geoid (Copernicus DEM)",
    EGM96: "heights above the EGM96 geoid (SRTM, ArduPilot terrain server)",
    "synthetic": "heights above the EGM96 geoid by construction (fitted to SRTM spot heights)",
}

COMPARISON = ("MAVLink GLOBAL_POSITION_INT.alt / GPS_RAW_INT.alt and DataFlash GPS.Alt are MSL heights from the "
              "GNSS receiver's geoid model (commonly EGM96); uavsim compares them with DEM heights without "
              "conversion, a difference below the DEM's own error")

_EPSG = {"3855": EGM2008, "5773": EGM96}


def from_crs(crs_wkt: str | None) -> str | None:
    """The vertical datum named by a compound CRS (e.g. EPSG:4326+3855), if any."""
    if not crs_wkt:
        return None
    from pyproj import CRS

    try:
        crs = CRS.from_user_input(crs_wkt)
    except Exception:  # noqa: BLE001 - an unparsable CRS simply names no datum
        return None
    for sub in crs.sub_crs_list or []:
        if sub.is_vertical:
            code = sub.to_epsg()
            return _EPSG.get(str(code), sub.name)
    return None


def infer(tags: dict[str, str], crs_wkt: str | None, path: str) -> str:
    """The vertical datum of a DEM: its tags, else its CRS, else what its file name says it is."""
    tagged = tags.get("VERTICAL_DATUM", "")
    for name in (EGM2008, EGM96):
        if name in tagged.upper().replace(" ", ""):
            return name
    named = from_crs(crs_wkt)
    if named:
        return named
    low = path.lower()
    if "copernicus" in low or "cop30" in low or "cop90" in low:
        return EGM2008
    if low.endswith(".hgt") or "srtm" in low:
        return EGM96
    return UNKNOWN


def geoid_difference(bounds: tuple[float, float, float, float], n: int = 9) -> dict[str, object]:
    """EGM2008 minus EGM96 geoid height over ``bounds`` (W, S, E, N) on an n x n grid, if PROJ can compute it."""
    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup("EPSG:4326+3855", "EPSG:4326+5773", always_xy=True)
    if not group.best_available or not group.transformers:
        return {"computed": False, "note": "PROJ geoid grids us_nga_egm96_15 / us_nga_egm08_25 are not installed; "
                                           "not computed. " + PUBLISHED_DIFFERENCE}
    w, s, e, nn = bounds
    lon, lat = np.meshgrid(np.linspace(w, e, n), np.linspace(s, nn, n))
    # A height H08 above EGM2008 is H96 = H08 + (N08 - N96) above EGM96.
    _, _, h96 = group.transformers[0].transform(lon.ravel(), lat.ravel(), np.zeros(lon.size))
    diff = np.asarray(h96)
    if not np.isfinite(diff).all():
        return {"computed": False, "note": "PROJ returned no value; not computed. " + PUBLISHED_DIFFERENCE}
    return {"computed": True, "min_m": float(diff.min()), "max_m": float(diff.max()), "mean_m": float(diff.mean()),
            "note": "EGM96 height minus EGM2008 height of the same point (= N2008 - N96), from PROJ's NGA grids"}
