"""Fetch + mosaic of the scenario's area from a loopback mirror of full-size 3600 x 3600 GLO-30 tiles.

    python benchmarks/bench_fetch.py [--scenario DIR | --bbox W,S,E,N] [--tiles DIR] [--json]

The mirror (127.0.0.1, Range support) serves tiles made here in the public layout from a rough fractal surface,
so that they compress like real mountain tiles. The fetch runs in a fresh child process, which reports its wall
times and its peak resident memory (VmHWM: everything, GDAL's buffers included). The reference, in the
same parent process, is the raw transfer of the same bytes over the same loopback (read and discarded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from scipy import ndimage

from uavsim.terrain import mirror
from uavsim.terrain.sources import SOURCES, cells

GLO30 = SOURCES["copernicus-glo30"]


def rough_surface(seed: int):
    """Heights 200-2,000 m with relief at every scale down to the pixel (compresses like real terrain)."""

    def surface(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(seed)
        shape = (lat.shape[0], lon.shape[1])
        z = 1100.0 + 500.0 * np.sin(lat * 3.1) * np.cos(lon * 2.3)
        for cells_, amp in ((36, 300.0), (360, 60.0), (3600, 4.0)):
            noise = rng.standard_normal((cells_, cells_)).astype(np.float32)
            z = z + amp * ndimage.zoom(noise, (shape[0] / cells_, shape[1] / cells_), order=1)[:shape[0], :shape[1]]
        return np.clip(z, 150.0, 2000.0)

    return surface


def make_tiles(root: Path, area: tuple[float, float, float, float]) -> list[Path]:
    out = []
    for i, (lat, lon) in enumerate(cells(area)):
        path = root / GLO30.tile_path(lat, lon)
        if not path.exists():
            mirror.write_tile(root, GLO30, lat, lon, rough_surface(i))
        out.append(path)
    return out


def raw_transfer(url: str, paths: list[Path], root: Path) -> float:
    t0 = time.perf_counter()
    for p in paths:
        with urllib.request.urlopen(url + str(p.relative_to(root))) as resp:
            while resp.read(1 << 20):
                pass
    return time.perf_counter() - t0


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (Linux; reset by exec, unlike ru_maxrss), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, area: list[float]) -> None:
    """Runs in a fresh process: the fetch, then a second fetch from the cache; prints one JSON line."""
    from uavsim.terrain.fetch import fetch

    base_rss = peak_rss_mb()
    t0 = time.perf_counter()
    res = fetch(tuple(area), "copernicus-glo30", url)
    t1 = time.perf_counter()
    fetch(tuple(area), "copernicus-glo30", url)
    t2 = time.perf_counter()
    print(json.dumps({"fetch_s": t1 - t0, "cached_fetch_s": t2 - t1, "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": base_rss,
                      "mosaic_bytes": Path(res.path).stat().st_size, "tiles": [t.status for t in res.tiles],
                      "mosaic_bounds": res.bounds}))


def scenario_area(scenario: str | None) -> tuple[float, float, float, float]:
    from uavsim.scenario import Scenario

    sc = Scenario.load(scenario)
    pts = [(s.lat, s.lon) for s in sc.sites.values()]
    for f in sc.fields.values():
        pts += [f.launch, *f.polygon]
    lat, lon = np.array(pts).T
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--bbox", default=None, help="W,S,E,N instead of the scenario's area (e.g. a larger one).")
    ap.add_argument("--tiles", default=None, help="Folder to keep the generated tiles in (re-used next time).")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    from uavsim.terrain.fetch import DEFAULT_MARGIN_KM, pad

    area = tuple(float(v) for v in args.bbox.split(",")) if args.bbox else scenario_area(args.scenario)
    work = Path(tempfile.mkdtemp(prefix="bench_fetch_"))
    root = Path(args.tiles) if args.tiles else work / "mirror"
    t0 = time.perf_counter()
    tiles = make_tiles(root, pad(area, DEFAULT_MARGIN_KM))
    make_s = time.perf_counter() - t0
    srv = mirror.MirrorServer(root).start()
    try:
        ref_s = raw_transfer(srv.url, tiles, root)
        env = {**os.environ, "UAVSIM_CACHE_DIR": str(work / "cache")}
        out = subprocess.run([sys.executable, __file__, "--child", srv.url, json.dumps(area)], env=env,
                             check=True, capture_output=True, text=True).stdout
    finally:
        srv.stop()
    doc = json.loads(out.strip().splitlines()[-1])
    doc.update(area=area, n_tiles=len(tiles), tile_bytes=sum(p.stat().st_size for p in tiles),
               raw_transfer_s=ref_s, ratio_vs_raw_transfer=doc["fetch_s"] / ref_s, tile_generation_s=make_s)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"area W,S,E,N {', '.join(f'{v:.3f}' for v in area)}: {len(tiles)} tiles of 3600 x 3600, "
          f"{doc['tile_bytes'] / 1e6:.0f} MB on the mirror")
    print(f"fetch + verify + mosaic: {doc['fetch_s']:.2f} s   (raw loopback transfer of the same bytes: "
          f"{ref_s:.2f} s, ratio {doc['ratio_vs_raw_transfer']:.1f}x)")
    print(f"second fetch (all cached: verify + mosaic): {doc['cached_fetch_s']:.2f} s")
    print(f"peak memory of the fetching process: {doc['peak_rss_mb']:.0f} MB "
          f"({doc['rss_after_imports_mb']:.0f} MB after imports); mosaic {doc['mosaic_bytes'] / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
