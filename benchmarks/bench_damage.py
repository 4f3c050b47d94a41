"""Robustness of log import on damaged copies of real logs (issue 10).

For every log in a folder (default ../shared/data/logs) it writes six damaged copies: truncated, 50 bit
flips, a zeroed 4 KiB block, a duplicated block, a garbage tail, and a FMT byte flip (for a .bin a byte of
a FMT message's name/format; for other formats a byte among the first KiB, where their definitions are).
The clean copies and the damaged ones are imported by ``uavsim ingest --workers 2 --json``, each into a
fresh store, and it reports: imported / rejected / internal errors, the peak memory of the whole process
tree (RSS of the command and its workers summed, sampled every 20 ms), the wall time, and the flights kept
against the clean copies. Targets: no internal error, peak under 1.5 GB, every file with a result.

    .venv/bin/python benchmarks/bench_damage.py [--logs DIR] [--seed 1] [--no-terrain] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from uavsim.logs.ingest import find_logs  # noqa: E402

DEFAULT_LOGS = ROOT / ".." / "shared" / "data" / "logs"
TARGET_PEAK_MB = 1500.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _fmt_flip(data: bytearray, rng: np.random.Generator, name: str) -> None:
    if name.lower().endswith(".bin"):
        heads = [i for i in range(len(data) - 89) if data[i] == 0xA3 and data[i + 1] == 0x95 and data[i + 2] == 0x80]
        if heads:
            at = heads[int(rng.integers(len(heads)))]
            data[at + 5 + int(rng.integers(4 + 16))] ^= 1 << int(rng.integers(8))  # its name or format string
            return
    data[int(rng.integers(min(1024, len(data))))] ^= 1 << int(rng.integers(8))


def _damage(data: bytes, kind: str, rng: np.random.Generator, name: str) -> bytes:
    b = bytearray(data)
    n = len(b)
    if kind == "truncated":
        return bytes(b[: int(n * rng.uniform(0.3, 0.9))])
    if kind == "bitflips50":
        for pos in rng.integers(0, n, 50):
            b[int(pos)] ^= 1 << int(rng.integers(8))
    elif kind == "zero4k":
        at = int(rng.integers(0, max(1, n - 4096)))
        b[at:at + 4096] = bytes(min(4096, n - at))
    elif kind == "dupblock":
        size = int(rng.integers(4096, 65536))
        at = int(rng.integers(0, max(1, n - size)))
        b[at + size:at + size] = b[at:at + size]
    elif kind == "garbage_tail":
        b += rng.integers(0, 256, 65536, dtype=np.uint8).tobytes()
    elif kind == "fmt_flip":
        _fmt_flip(b, rng, name)
    return bytes(b)


KINDS = ("truncated", "bitflips50", "zero4k", "dupblock", "garbage_tail", "fmt_flip")


def make_copies(logs: Path, out: Path, seed: int) -> tuple[Path, Path, dict[str, tuple[str, str]]]:
    """Clean and damaged copies; returns the two folders and damaged name -> (source name, kind)."""
    rng = np.random.default_rng(seed)
    clean, damaged = out / "clean", out / "damaged"
    clean.mkdir()
    damaged.mkdir()
    origin: dict[str, tuple[str, str]] = {}
    for i, src in enumerate(find_logs([logs])):
        data = src.read_bytes()
        name = f"{i:02d}_{src.name}"
        (clean / name).write_bytes(data)
        for kind in KINDS:
            dst = damaged / f"{i:02d}_{kind}_{src.name}"
            dst.write_bytes(_damage(data, kind, rng, src.name))
            origin[dst.name] = (name, kind)
    return clean, damaged, origin


def _tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(d))
            rss[int(d)] = int(fields[21]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run_ingest(folder: Path, db: Path, terrain: bool) -> dict:
    cmd = [sys.executable, "-c", "from uavsim.cli.main import main; main()", "ingest", str(folder), "--workers", "2",
           "--json", "--db", str(db)] + ([] if terrain else ["--no-terrain"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.02)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        proc.wait()
        th.join()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    doc = json.loads(stdout) if stdout.strip() else {"files": []}
    return {"files": doc["files"], "exit": proc.returncode, "peak_mb": peak[0] / 1e6, "wall_s": wall,
            "stderr_bytes": len(stderr), "stderr_tail": stderr[-500:]}


def summarise(clean: dict, damaged: dict, origin: dict[str, tuple[str, str]], n_damaged: int) -> dict:
    clean_flights = {Path(f["path"]).name: len(f["flights"]) for f in clean["files"]}
    status = Counter(f["status"] for f in damaged["files"])
    internal = [f for f in damaged["files"] if f["error"] and ("internal error" in f["error"] or "worker died" in f["error"])]
    kept: dict[str, list[int]] = {k: [0, 0] for k in KINDS}
    for f in damaged["files"]:
        src, kind = origin[Path(f["path"]).name]
        kept[kind][0] += len(f["flights"])
        kept[kind][1] += clean_flights.get(src, 0)
    reasons = Counter(f["error"].split(": ", 1)[-1].split(" (")[0][:60] for f in damaged["files"] if f["error"])
    return {
        "files": n_damaged, "results": len(damaged["files"]), "imported": status["imported"],
        "duplicate": status["duplicate"], "rejected": status["rejected"], "internal_errors": len(internal),
        "internal_error_files": [f["error"] for f in internal][:10], "reject_reasons": dict(reasons.most_common(8)),
        "peak_mb": round(damaged["peak_mb"], 1), "wall_s": round(damaged["wall_s"], 2),
        "clean_peak_mb": round(clean["peak_mb"], 1), "clean_wall_s": round(clean["wall_s"], 2),
        "stderr_bytes": damaged["stderr_bytes"],
        "flights_clean": sum(clean_flights.values()),
        "flights_kept": {k: {"damaged": v[0], "clean": v[1]} for k, v in kept.items()},
        "targets": {"no_internal_error": not internal, "peak_under_1_5_gb": damaged["peak_mb"] < TARGET_PEAK_MB,
                    "every_file_has_a_result": len(damaged["files"]) == n_damaged},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-terrain", action="store_true", help="Pass --no-terrain to ingest.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.logs.is_dir():
        sys.exit(f"Error: {args.logs}: no such folder of logs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clean_dir, damaged_dir, origin = make_copies(args.logs, tmp, args.seed)
        clean = run_ingest(clean_dir, tmp / "clean.db", not args.no_terrain)
        damaged = run_ingest(damaged_dir, tmp / "damaged.db", not args.no_terrain)
        res = summarise(clean, damaged, origin, len(origin))
    res["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "seed": args.seed,
                      "logs": str(args.logs), "terrain": not args.no_terrain}
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"{res['files']} damaged copies of {res['files'] // len(KINDS)} logs ({', '.join(KINDS)}), --workers 2")
    print(f"  results {res['results']}/{res['files']}: {res['imported']} imported, {res['duplicate']} duplicate, "
          f"{res['rejected']} rejected, {res['internal_errors']} internal errors")
    print(f"  peak memory of the process tree {res['peak_mb']:.0f} MB (clean copies: {res['clean_peak_mb']:.0f} MB); "
          f"time {res['wall_s']:.1f} s (clean copies: {res['clean_wall_s']:.1f} s); stderr {res['stderr_bytes']} bytes")
    print("  flights kept against the clean copies:")
    for kind, v in res["flights_kept"].items():
        print(f"    {kind:<13} {v['damaged']:>4} / {v['clean']:<4}")
    for why, n in res["reject_reasons"].items():
        print(f"  rejected {n:>3}: {why}")
    for e in res["internal_error_files"]:
        print(f"  INTERNAL: {e}")
    print("  targets: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in res["targets"].items()))


if __name__ == "__main__":
    main()
