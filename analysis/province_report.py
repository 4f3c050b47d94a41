"""The province's safety report, reproducibly, from one flight store.

Writes into OUT:
- report-vi.html / report-vi.pdf / report-en.html / report-en.pdf (uavsim.report.build_report);
- stats.json: the overall figures and every breakdown (uavsim.safety.stats.summarize, the same numbers as
  `uavsim stats --json --by ...`);
- unsafe_flights.json: every unsafe flight with its events and evidence;
- manifest.json: what produced it (store sha256, flight counts, parameters, uavsim version, git commit, output
  sha256), so that anyone can check that a published report came from a given store.

Run from the repository root:

    .venv/bin/python analysis/province_report.py --db uavsim.db --out province-report
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import uavsim
from uavsim.errors import UavSimError
from uavsim.records import _jsonable
from uavsim.report import build_report
from uavsim.safety import stats

STRATA = tuple(stats.STRATA)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def write_json(path: Path, doc: object) -> None:
    path.write_text(json.dumps(_jsonable(doc), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")


def run(db: Path, out: Path, confidence: float, target: float, cluster: str, seed: int, n_boot: int,
        dem: str | None, scenario: str | None, langs: list[str], generated: str | None,
        source: str | None = None) -> dict:
    flights = stats.load_flights(db, source=source)  # a clear StoreError for a missing or empty store
    result = build_report(db, out, langs, ("html", "pdf"), confidence=confidence, target=target,
                          cluster=cluster, n_boot=n_boot, seed=seed, dem=dem, scenario=scenario,
                          generated=generated, source=source)
    overall = stats.summarize(flights, confidence=confidence, target=target, cluster=cluster, n_boot=n_boot,
                              seed=seed).to_dict()
    overall["by"] = {by: [g.to_dict() for g in stats.group_stats(flights, by, confidence, target)] for by in STRATA}
    write_json(out / "stats.json", overall)
    write_json(out / "unsafe_flights.json", [f.to_dict() for f in flights if f.outcome == "unsafe"])
    outputs = [Path(p) for p in result["files"]] + [out / "stats.json", out / "unsafe_flights.json"]
    manifest = {
        "store": {"path": str(db), "sha256": sha256(db), "flights": len(flights),
                  "by_source": {g["group"]: g["flights"] for g in overall["by"]["source"]}},
        "parameters": {"confidence": confidence, "target": target, "cluster": cluster, "seed": seed,
                       "n_boot": n_boot, "dem": dem or "embedded default",
                       "scenario": scenario or "missions/dienbien", "langs": langs,
                       "source": source or "all"},
        "headline": {k: result[k] for k in ("safety_rate", "lower_bound", "meets_target", "unsafe")},
        "uavsim": uavsim.__version__, "git_commit": git_commit(), "python": sys.version.split()[0],
        "terrain": {"path": result["terrain"], "synthetic": result["terrain_synthetic"]},
        "timings_s": result["timings"],
        "outputs": {p.name: sha256(p) for p in outputs},
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description="Produce the province's safety report from a flight store.")
    ap.add_argument("--db", type=Path, default=Path("uavsim.db"), help="flight store (default: uavsim.db)")
    ap.add_argument("--out", type=Path, default=Path("province-report"), help="output folder")
    ap.add_argument("--confidence", type=float, default=stats.DEFAULT_CONFIDENCE)
    ap.add_argument("--target", type=float, default=stats.DEFAULT_TARGET)
    ap.add_argument("--cluster", choices=stats.CLUSTERS, default="day")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument("--n-boot", type=int, default=stats.DEFAULT_BOOTSTRAP, help="bootstrap resamples")
    ap.add_argument("--dem", default=None, help="DEM for the map (default: embedded synthetic terrain)")
    ap.add_argument("--scenario", default=None, help="scenario folder for the map's places and zones")
    ap.add_argument("--source", choices=("sim", "log"), default=None,
                    help="only simulated or only flown flights (default: all; the province's rate: log)")
    ap.add_argument("--lang", default="vi,en", help="vi, en or vi,en")
    ap.add_argument("--generated", default=None, help="date printed on the report (default: now, UTC)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        m = run(args.db, args.out, args.confidence, args.target, args.cluster, args.seed, args.n_boot, args.dem,
                args.scenario, args.lang.split(","), args.generated, args.source)
    except UavSimError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    h = m["headline"]
    print(f"{m['store']['flights']} flights, {h['unsafe']} unsafe: safe rate {100 * h['safety_rate']:.2f} %, "
          f"lower bound {100 * h['lower_bound']:.2f} % ({'meets' if h['meets_target'] else 'does not meet'} "
          f"the {100 * args.target:.0f} % target)")
    print(f"report written to {args.out.resolve()}/ (manifest.json lists every output with its sha256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
