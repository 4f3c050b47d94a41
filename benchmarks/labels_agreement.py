"""How far uavsim's reading of the 22 shared real logs agrees with the investigator's labels.

    PYTHONPATH=. python benchmarks/labels_agreement.py [--segments]

Prints the per-segment figures (airborne windows found with take-off and landing within 2 s, ground runs
counted as flights, labels equal) and the per-file figures the held-out judging uses (worst verdict equal,
coarse no flight/safe/unsafe verdict equal, real-flight count, false and missed accident files).
"""

from __future__ import annotations

import sys
from pathlib import Path

from uavsim.logs.labels import measure

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> int:
    if not (DATA / "labels" / "flights.json").exists():
        print(f"no labels at {DATA / 'labels'}: nothing to measure")
        return 1
    agreement = measure(DATA / "labels" / "flights.json", DATA / "logs")
    f = agreement.figures()
    print(f"segments {f['segments']}: airborne windows found {f['airborne_windows_found']}/{f['airborne_windows']} "
          f"(take-off and landing within 2 s), ground runs counted as flights {f['ground_runs_counted_as_flights']}, "
          f"labels equal {100 * f['segment_labels_equal']:.0f} %")
    print(f"files {f['files']}: worst verdict equal {100 * f['file_worst_equal']:.0f} %, coarse verdict equal "
          f"{100 * f['file_coarse_equal']:.0f} %, real flights {f['mine_flights']} vs {f['real_flights']} labelled "
          f"({100 * f['flight_count_error']:.0f} % off), false accident files {f['false_accident_files']}, "
          f"missed accident files {f['missed_accident_files']}")
    if "--segments" in sys.argv:
        for s in agreement.segments:
            mark = "ok " if s.label == s.mine and s.window_ok else "DIFF"
            print(f"  {mark} {s.file[-45:]:45s} t0={s.t0:<14} label {s.label:<14} mine {s.mine:<14} "
                  f"take-off {s.takeoff_err_s if s.takeoff_err_s is None else round(s.takeoff_err_s, 1)} "
                  f"landing {s.landing_err_s if s.landing_err_s is None else round(s.landing_err_s, 1)}")
        for x in agreement.files:
            if x["worst"] != x["mine_worst"]:
                print(f"  file {x['file'][-45:]:45s} worst {x['worst']:<14} mine {x['mine_worst']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
