"""Log import speed on the shared real logs: pymavlink's full parse (every message) against uavsim's import.

Baseline, per file: pymavlink ``mavlink_connection(path)`` then ``recv_msg()`` until the end (every message
decoded), or pyulog ``ULog(path)`` (every topic) for .ulg. uavsim: ``uavsim.logs.ingest`` of the same files
into a fresh SQLite store (read only the needed messages, segment, detect, classify, write), one process,
no terrain. Both run in this one process, best of ``--repeat`` runs. Messages/s for both counts the
messages in the files (the baseline's count), so the ratio of the two rates equals the ratio of times.

    .venv/bin/python benchmarks/bench_ingest.py [--repeat 3] [--json] [--logs DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymavlink import mavutil  # noqa: E402
from pyulog import ULog  # noqa: E402

from uavsim.logs.ingest import find_logs  # noqa: E402
from uavsim.logs.ingest import ingest as uavsim_ingest  # noqa: E402
from uavsim.store import Store  # noqa: E402

DEFAULT_LOGS = ROOT / ".." / "shared" / "data" / "logs"


def full_parse(path: Path) -> int:
    """Every message of the file, decoded by the reference parser; returns the message count."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        if path.suffix.lower() == ".ulg":
            u = ULog(str(path))
            return sum(len(d.data["timestamp"]) for d in u.data_list) + len(u.logged_messages)
        mlog = mavutil.mavlink_connection(str(path))
        n = 0
        while mlog.recv_msg() is not None:
            n += 1
        return n


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def run(logs: Path, repeat: int) -> dict:
    files = find_logs([logs])
    size = sum(f.stat().st_size for f in files)

    def baseline() -> int:
        return sum(full_parse(f) for f in files)

    def ours() -> int:
        with tempfile.TemporaryDirectory() as d, Store(Path(d) / "bench.db") as store:
            res = uavsim_ingest(files, store, use_terrain=False)
            return sum(len(r.flights) for r in res if r.status == "imported")

    t_ref, n_msgs = best_of(baseline, repeat)
    t_us, n_flights = best_of(ours, repeat)
    mb = size / 1e6
    return {
        "files": len(files), "bytes": size, "messages": n_msgs, "flights": n_flights, "repeat": repeat,
        "pymavlink_full_parse": {"seconds": t_ref, "mb_per_s": mb / t_ref, "messages_per_s": n_msgs / t_ref},
        "uavsim_ingest": {"seconds": t_us, "mb_per_s": mb / t_us, "messages_per_s": n_msgs / t_us},
        "speedup": t_ref / t_us,
        "python": platform.python_version(), "machine": platform.machine(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="folder of logs (default: the shared logs)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    if not args.logs.is_dir():
        sys.exit(f"no logs folder at {args.logs}")
    r = run(args.logs, args.repeat)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print(f"{r['files']} files, {r['bytes'] / 1e6:.1f} MB, {r['messages']:,} messages, {r['flights']} flights "
          f"(best of {r['repeat']})")
    for name in ("pymavlink_full_parse", "uavsim_ingest"):
        x = r[name]
        print(f"  {name:<22} {x['seconds']:6.2f} s  {x['mb_per_s']:6.2f} MB/s  {x['messages_per_s']:>10,.0f} messages/s")
    print(f"  uavsim import is {r['speedup']:.2f}x pymavlink's full parse")


if __name__ == "__main__":
    main()
