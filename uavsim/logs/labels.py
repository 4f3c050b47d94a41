"""Agreement of uavsim's reading of real logs with an investigator's labels (``labels/flights.json``).

The labels file is a list, one object per log file, with ``file`` (relative to the logs folder), ``clock``
(``boot_s``, ``est_s``, ``ulog_s`` or ``unix_s``: what its times mean) and ``segments``: one per armed
segment with ``t0``/``t1``, ``airborne``, ``takeoff_t``/``landing_t`` and ``label`` (a severity or
``not_a_flight``). This module imports each file with :func:`uavsim.logs.ingest.analyse`, puts uavsim's
times on the labels' clock, matches segments by overlap and counts:

- per segment: airborne windows found (take-off and landing within ``tolerance_s``), ground runs counted as
  flights, labels equal;
- per file: the worst verdict equal, the coarse verdict (no flight / safe / unsafe) equal, false and missed
  accident files, and the number of real flights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.errors import InputError
from uavsim.logs.formats import read_log
from uavsim.logs.ingest import analyse
from uavsim.logs.raw import RawBuilder
from uavsim.records import SEVERITY_RANK, Flight
from uavsim.safety.rules import Rules, default_rules

NOT_A_FLIGHT = "not_a_flight"


@dataclass
class SegmentResult:
    file: str
    t0: float
    label: str
    mine: str
    airborne: bool
    mine_airborne: bool | None  # None: no matching segment
    takeoff_err_s: float | None = None
    landing_err_s: float | None = None
    window_ok: bool = True


@dataclass
class Agreement:
    segments: list[SegmentResult] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The figures the tests assert and the README quotes."""
        air = [s for s in self.segments if s.airborne]
        n_files = len(self.files) or 1
        real = sum(s.airborne for s in self.segments)
        mine = sum(f["mine_flights"] for f in self.files)
        return {
            "segments": len(self.segments),
            "airborne_windows": len(air),
            "airborne_windows_found": sum(s.mine_airborne is True and s.window_ok for s in air),
            "ground_runs_counted_as_flights": sum(not s.airborne and bool(s.mine_airborne) for s in self.segments),
            "segment_labels_equal": sum(s.label == s.mine for s in self.segments) / (len(self.segments) or 1),
            "files": len(self.files),
            "file_worst_equal": sum(f["worst"] == f["mine_worst"] for f in self.files) / n_files,
            "file_coarse_equal": sum(f["coarse"] == f["mine_coarse"] for f in self.files) / n_files,
            "real_flights": real, "mine_flights": mine,
            "flight_count_error": abs(mine - real) / real if real else 0.0,
            "false_accident_files": sum(f["mine_worst"] == "accident" != f["worst"] for f in self.files),
            "missed_accident_files": sum(f["worst"] == "accident" != f["mine_worst"] for f in self.files),
        }


def _label_clock(path: Path, clock: str, raw_fmt: str) -> Any:
    """A function mapping uavsim's log time to the labels' clock."""
    if clock != "unix_s" or raw_fmt != "tlog":
        return lambda t: t
    from pymavlink import mavutil  # tlog record stamps against the vehicle's boot clock

    conn = mavutil.mavlink_connection(str(path))
    boot, unix = [], []
    try:
        while (m := conn.recv_match(type="GLOBAL_POSITION_INT")) is not None:
            boot.append(m.time_boot_ms * 1e-3)
            unix.append(m._timestamp)
    finally:
        conn.close()
    if not boot:
        return lambda t: t
    clock = RawBuilder(str(path), "tlog")  # the importer's monotonic clock: a reboot continues the axis
    b = np.array([clock.clock(x) for x in boot])
    u = np.asarray(unix)
    offset = u - b  # receive time minus boot time of each sample (radio latency and GCS clock included)

    def to_unix(t: float) -> float:
        i = int(np.clip(np.searchsorted(b, t), 0, b.size - 1))
        return float(t + np.median(offset[max(0, i - 5):i + 6]))

    return to_unix


def _worst(labels: list[str]) -> str:
    real = [x for x in labels if x != NOT_A_FLIGHT]
    return max(real, key=SEVERITY_RANK.__getitem__) if real else NOT_A_FLIGHT


def _coarse(worst: str, rules: Rules) -> str:
    return "no_flight" if worst == NOT_A_FLIGHT else ("unsafe" if rules.is_unsafe(worst) else "safe")


def measure(labels_path: str | Path, logs_dir: str | Path, rules: Rules | None = None,
            tolerance_s: float = 2.0) -> Agreement:
    """Import every labelled file and compare (see the module docstring)."""
    rules = rules or default_rules()
    try:
        entries = json.loads(Path(labels_path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{labels_path}: cannot read the labels ({exc})") from exc
    out = Agreement()
    for entry in entries:
        path = Path(logs_dir) / entry["file"]
        raw = read_log(path)
        records, _ = analyse(raw, entry.get("sha256", "0" * 64), rules=rules)
        to_label = _label_clock(path, entry["clock"], raw.fmt)
        mine = [(to_label(r.log_t0_s), to_label(r.log_t1_s), r) for r in records]
        seg_results = [_compare(entry["file"], s, mine, to_label, tolerance_s) for s in entry["segments"]]
        out.segments += seg_results
        worst = _worst([s["label"] for s in entry["segments"]])
        mine_worst = _worst([NOT_A_FLIGHT if r.kind != "flight" else r.severity for r in records])
        out.files.append({"file": entry["file"], "worst": worst, "mine_worst": mine_worst,
                          "coarse": _coarse(worst, rules), "mine_coarse": _coarse(mine_worst, rules),
                          "mine_flights": sum(r.kind == "flight" for r in records)})
    return out


def _compare(file: str, s: dict[str, Any], mine: list[tuple[float, float, Flight]], to_label: Any,
             tol: float) -> SegmentResult:
    overlap = [(min(b, s["t1"]) - max(a, s["t0"]), r) for a, b, r in mine]
    best = max(overlap, key=lambda x: x[0], default=(0.0, None))
    r = best[1] if best[0] > 0 or (best[1] is not None and s["t1"] - s["t0"] < 1.0) else None
    res = SegmentResult(file, s["t0"], s["label"], NOT_A_FLIGHT, bool(s["airborne"]), None)
    if r is None:
        return res
    res.mine = NOT_A_FLIGHT if r.kind != "flight" else r.severity
    res.mine_airborne = r.kind == "flight"
    if res.airborne and res.mine_airborne:
        take = None if r.takeoff_s is None else to_label(r.log_t0_s + r.takeoff_s)
        land = None if r.landing_s is None else to_label(r.log_t0_s + r.landing_s)
        res.takeoff_err_s = None if take is None else take - s["takeoff_t"]
        res.landing_err_s = None if land is None or s["landing_t"] is None else land - s["landing_t"]
        res.window_ok = (take is not None and abs(take - s["takeoff_t"]) <= tol
                         and ((land is None) == (s["landing_t"] is None))
                         and (land is None or abs(land - s["landing_t"]) <= tol))
    return res
