"""Did the aircraft leave the ground, and when: decided from physics, per armed segment.

A multirotor flies when its motors make lift (thrust well above the armed idle), its propellers are loaded
(the IMU shakes: a bench board without props is still to ~0.02 m/s²) and it rises (the barometer over the
level before take-off), or it hovers with balanced motors (on the ground the attitude controller's
integrator winds up against the ground's reaction and the motors split). GPS ground speed with a 3-D fix
counts as well. The inertial height (CTUN.Alt) and the autopilot's land detector (NOT_LANDED, isFlying,
landed_state) are recorded as support; they never decide alone, because ArduCopter 3.x reports both on an
armed bench board.

Streams: ``baro`` (or ``alt`` where no barometer is logged: tlog relative_alt, ULog local position, POS),
``throttle`` (or the mean of ``motors``), ``imu``, ``motors``, ``gps``. Every threshold is in rules.toml
(the ``airborne_*`` block).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from uavsim.logs.raw import RawLog
from uavsim.safety.rules import Rules

GRID_HZ = 5.0  # decision grid; every stream is sampled onto it
PRE_ARM_S = 5.0  # the ground level is the barometer in the last seconds before arming
N_MOTORS_BALANCE = 4  # outputs 1-4 are motors on every ArduCopter/PX4 quad, hexa and octo frame


@dataclass
class Decision:
    airborne: bool = False
    takeoff_t: float | None = None
    landing_t: float | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass
class _Signals:
    t: np.ndarray
    rise: np.ndarray  # height over the ground level, m (NaN unknown)
    thrust: np.ndarray | None  # 0..1
    idle: float
    hover: float
    loaded: np.ndarray  # 1 props loaded, 0 bench-still, NaN unknown
    balanced: np.ndarray  # 1 balanced motors, 0 split (ground reaction), NaN unknown
    fast: np.ndarray  # 1 GPS speed above the in-air threshold with a 3-D fix, 0 slower, NaN unknown
    sources: dict[str, str]


def _at(t: np.ndarray, v: np.ndarray, grid: np.ndarray, max_age_s: float = 2.0) -> np.ndarray:
    """Latest finite sample at or before each grid time, forgotten after ``max_age_s``."""
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    out = np.full(grid.shape, np.nan)
    if t.size == 0:
        return out
    i = np.searchsorted(t, grid, side="right") - 1
    good = (i >= 0) & (grid - t[np.clip(i, 0, None)] <= max_age_s)
    out[good] = v[i[good]]
    return out


def _rolling_median(v: np.ndarray, n: int) -> np.ndarray:
    if v.size < n or n < 2:
        return v
    if not np.isfinite(v).any():
        return v
    pad = np.pad(v, (n // 2, n - 1 - n // 2), mode="edge")
    if np.isfinite(pad).all():
        return np.median(sliding_window_view(pad, n), axis=1)
    with warnings.catch_warnings():  # windows without any sample stay NaN (unknown), which is the intent
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(sliding_window_view(pad, n), axis=1)


def _window_std(t: np.ndarray, v: np.ndarray, grid: np.ndarray, half_s: float = 0.5) -> np.ndarray:
    """Standard deviation of the samples within ±half_s of each grid time (NaN with fewer than 3)."""
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    c1, c2 = np.concatenate([[0.0], np.cumsum(v)]), np.concatenate([[0.0], np.cumsum(v * v)])
    lo, hi = np.searchsorted(t, grid - half_s), np.searchsorted(t, grid + half_s, side="right")
    n = (hi - lo).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c1[hi] - c1[lo]) / n
        var = (c2[hi] - c2[lo]) / n - mean * mean
    return np.where(n >= 3, np.sqrt(np.clip(var, 0.0, None)), np.nan)


def _height(raw: RawLog, t0: float, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Smoothed height on the grid, and the pre-arming level, from the barometer (else the logged height)."""
    for name, col in (("baro", "alt_m"), ("alt", "rel_alt_m")):
        s = raw.stream(name)
        if np.isfinite(s[col]).sum() >= 2:
            h = _rolling_median(_at(s["t"], s[col], grid), int(GRID_HZ))  # 1 s median: baro spikes go
            pre = s[col][(s["t"] >= t0 - PRE_ARM_S) & (s["t"] <= t0 + 0.5) & np.isfinite(s[col])]
            level = np.array([np.median(pre)]) if pre.size else h[np.isfinite(h)][:1]
            return h, level, name
    return np.full(grid.shape, np.nan), np.zeros(0), ""


def _thrust(raw: RawLog, grid: np.ndarray) -> tuple[np.ndarray | None, str]:
    th = raw.stream("throttle")
    if np.isfinite(th["frac"]).sum() >= 2:
        return _at(th["t"], th["frac"], grid), "throttle"
    m = raw.stream("motors")
    outs = [m[f"out_{i}"] for i in range(1, N_MOTORS_BALANCE + 1) if np.isfinite(m[f"out_{i}"]).any()]
    if outs:
        return _at(m["t"], np.nanmean(np.vstack(outs), axis=0), grid), "motors"
    return None, ""


def _signals(raw: RawLog, t0: float, t1: float, rules: Rules) -> _Signals:
    grid = np.arange(t0, t1 + 1e-9, 1.0 / GRID_HZ)  # never past t1: after a reboot the data are the new boot's
    th = rules.threshold
    height, pre_level, hsrc = _height(raw, t0, grid)
    thrust, tsrc = _thrust(raw, grid)
    idle = _idle(thrust, grid)
    powered = thrust > idle + th("airborne_idle_margin") if thrust is not None else np.ones(grid.shape, bool)
    rise = _rise(grid, height, pre_level, ~powered if thrust is not None else None, rules)
    hover = _hover(raw, thrust, rise, powered, rules)
    if thrust is not None:  # second pass: below lift, a still height is a ground level too (after a crash)
        rise = _rise(grid, height, pre_level, thrust < idle + th("airborne_lift_fraction") * (hover - idle), rules)
    g = raw.stream("gps")
    fast = _at(g["t"], np.where((g["fix"] >= 3) & np.isfinite(g["gspd_mps"]),
                                (g["gspd_mps"] > th("in_air_ground_speed_mps")).astype(float), np.nan), grid)
    imu = raw.stream("imu")
    loaded = np.full(grid.shape, np.nan)
    if len(imu["t"]):
        spread = np.sqrt(sum(_window_std(imu["t"], imu[c], grid) ** 2 for c in ("ax", "ay", "az")))
        loaded = np.where(np.isfinite(spread), (spread >= th("airborne_props_loaded_accel_std_mps2")).astype(float),
                          np.nan)
    balanced = _balance(raw, grid, rules) if raw.vehicle != "plane" else np.full(grid.shape, np.nan)
    return _Signals(grid, rise, thrust, idle, hover, loaded, balanced, fast,
                    {"height": hsrc, "thrust": tsrc, "imu": "imu" if len(imu["t"]) else "",
                     "motors": "motors" if np.isfinite(balanced).any() else ""})


def _rise(grid: np.ndarray, height: np.ndarray, pre_level: np.ndarray, no_lift: np.ndarray | None,
          rules: Rules) -> np.ndarray:
    """Height over the ground level. The ground level is the height before arming, and wherever the motors
    make no lift and the height holds still for airborne_sustain_s (nothing hovers without lift), so that a
    barometer drifting over a long segment, or a crash site lower than the launch, does not look like flight."""
    th = rules.threshold
    ground_t = [grid[0]] if pre_level.size else []
    ground_h = list(pre_level[:1])
    if no_lift is not None and grid.size > 1:
        hold = max(1, int(th("airborne_sustain_s") * GRID_HZ))
        rate = _rolling_median(np.abs(np.gradient(height, grid)), hold)
        ok = _sustained(no_lift & (rate < th("airborne_ground_rate_max_mps")), hold) & np.isfinite(height)
        ground_t += list(grid[ok])
        ground_h += list(height[ok])
    return height - np.interp(grid, ground_t, ground_h) if ground_t else np.full(grid.shape, np.nan)


def _idle(thrust: np.ndarray | None, grid: np.ndarray) -> float:
    """The armed idle, measured: the thrust in the first 2 s after arming, or the segment's lowest 5 %."""
    if thrust is None or not np.isfinite(thrust).any():
        return 0.0
    first = thrust[(grid <= grid[0] + 2.0) & np.isfinite(thrust)]
    low = float(np.nanpercentile(thrust, 5))
    return min(float(np.median(first)), low) if first.size else low


def _balance(raw: RawLog, grid: np.ndarray, rules: Rules) -> np.ndarray:
    """1 where motors 1-4 agree within airborne_motor_split_max of their range (1 s median), 0 where split."""
    m = raw.stream("motors")
    cols = [m[f"out_{i}"] for i in range(1, N_MOTORS_BALANCE + 1)]
    if len(m["t"]) == 0 or not all(np.isfinite(c).any() for c in cols):
        return np.full(grid.shape, np.nan)
    split = np.nanmax(np.vstack(cols), axis=0) - np.nanmin(np.vstack(cols), axis=0)
    s = _rolling_median(_at(m["t"], split, grid), int(GRID_HZ))
    return np.where(np.isfinite(s), (s <= rules.threshold("airborne_motor_split_max")).astype(float), np.nan)


def _hover(raw: RawLog, thrust: np.ndarray | None, rise: np.ndarray, powered: np.ndarray, rules: Rules) -> float:
    """Hover thrust: measured where clearly flying (3 s or more above in_air_rel_alt_m), else the
    autopilot's learned/configured MOT_THST_HOVER / MPC_THR_HOVER, else the ArduCopter default."""
    if thrust is not None:
        high = powered & (rise > rules.threshold("in_air_rel_alt_m")) & np.isfinite(thrust)
        if high.sum() >= 3 * GRID_HZ:
            return float(np.median(thrust[high]))
    for name in ("MOT_THST_HOVER", "MPC_THR_HOVER"):
        v = raw.params.get(name) if hasattr(raw, "params") else None
        if v is not None and 0.05 < v < 0.95:
            return float(v)
    return rules.threshold("airborne_hover_thrust_default")


def _sustained(mask: np.ndarray, n: int) -> np.ndarray:
    """True on runs of ``mask`` at least ``n`` samples long."""
    out = np.zeros(mask.shape, bool)
    for a, b in _runs(mask):
        if b - a >= n:
            out[a:b] = True
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _bridge(mask: np.ndarray, n: int) -> np.ndarray:
    """Close gaps shorter than ``n`` samples (a throttle dip shorter than the land detector's time)."""
    out = mask.copy()
    for a, b in _runs(~mask):
        if 0 < a and b < mask.size and b - a < n:
            out[a:b] = True
    return out


def _run_loaded(s: _Signals, capable: np.ndarray, rules: Rules) -> np.ndarray:
    """Per sample: False inside a powered run whose IMU stayed bench-still (no props) most of the time."""
    out = np.ones(s.t.shape, bool)
    for a, b in _runs(capable):
        known = s.loaded[a:b][np.isfinite(s.loaded[a:b])]
        if known.size and known.mean() < rules.threshold("airborne_props_loaded_share"):
            out[a:b] = False
    return out


def _core(s: _Signals, rules: Rules) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Samples where the physics says "flying", each kind of proof apart (for the evidence)."""
    th = rules.threshold
    n_hold = max(1, int(round(th("airborne_sustain_s") * GRID_HZ)))
    if s.thrust is not None:
        lift = s.thrust >= s.idle + th("airborne_lift_fraction") * (s.hover - s.idle)
        hover = s.thrust >= s.idle + th("airborne_hover_fraction") * (s.hover - s.idle)
    else:
        lift = hover = np.ones(s.t.shape, bool)
    not_bench = _run_loaded(s, _capable(s, rules), rules)
    not_ground = s.balanced != 0.0
    proofs = {
        "climb": _sustained((s.rise > th("in_air_rel_alt_m")) & lift & not_bench, n_hold),
        "hop": _sustained((s.rise > th("airborne_hop_rise_m")) & lift & not_bench & not_ground, n_hold),
        "speed": _sustained((s.fast == 1.0) & lift & not_bench, n_hold),
        "hover": _sustained(hover & not_bench & np.isfinite(s.loaded) & (s.balanced == 1.0) & (s.thrust is not None),
                            int(th("airborne_hover_min_s") * GRID_HZ)),
    }
    return np.logical_or.reduce(list(proofs.values())), proofs


def _capable(s: _Signals, rules: Rules) -> np.ndarray:
    """Samples where the aircraft can be in the air: motors above idle, or (motors or not) more than
    in_air_rel_alt_m over the ground level, as when falling; with no thrust logged, off the ground or moving."""
    th = rules.threshold
    high = s.rise > th("in_air_rel_alt_m")
    if s.thrust is not None:
        return _bridge((s.thrust > s.idle + th("airborne_idle_margin")) | high, int(th("airborne_sustain_s") * GRID_HZ))
    return (s.rise > th("airborne_ground_tolerance_m")) | (s.fast == 1.0)


def decide(raw: RawLog, t0: float, t1: float, end: str, rules: Rules) -> Decision:
    """Airborne windows of the armed segment [t0, t1] (``end``: how it ended: disarm, log_end, reboot...)."""
    s = _signals(raw, t0, t1, rules)
    if s.t.size == 0:
        return Decision(evidence={"decided_by": "undecided: empty segment"})
    core, proofs = _core(s, rules)
    risen = proofs["climb"] | proofs["hop"] | proofs["speed"]
    capable = _capable(s, rules)
    lift = (s.thrust >= s.idle + rules.threshold("airborne_lift_fraction") * (s.hover - s.idle)
            if s.thrust is not None else capable) | (s.rise > rules.threshold("in_air_rel_alt_m"))
    windows = [w for a, b in _runs(capable | core) if core[a:b].any()
               for w in [_window(s, a, b, core, risen, lift, rules.threshold("airborne_ground_tolerance_m"),
                                 int(rules.threshold("airborne_hover_min_s") * GRID_HZ))]]
    ev = _evidence(raw, s, proofs, windows, rules)
    if not windows:
        return Decision(evidence=ev)
    tol = rules.threshold("airborne_ground_tolerance_m")
    after = s.rise[s.t > windows[-1][1]]
    # The end of the log with the aircraft not back on the ground level: the landing is not recorded.
    unrecorded = end in ("log_end", "reboot") and (
        windows[-1][1] >= s.t[-1] - 1.0 / GRID_HZ or (after.size > 0 and not (after <= tol).any()))
    if unrecorded:  # the evidence must not claim a touch-down the log does not show
        last = s.rise[np.isfinite(s.rise)]
        height = f", {last[-1]:.1f} m over the ground level" if last.size else ""
        ev["landing"] = f"not recorded: the log ends at t={s.t[-1]:.1f} with the aircraft in the air{height}"
    return Decision(True, windows[0][0], None if unrecorded else windows[-1][1], windows, ev)


def _window(s: _Signals, a: int, b: int, core: np.ndarray, risen: np.ndarray, lift: np.ndarray,
            tol: float, hover_min: int) -> tuple[float, float]:
    """Lift-off and touch-down of the run [a, b): the last sample on the ground level before the first rise
    (or before the hover, when nothing rose), and the first sample after the last rise from which the height
    stays on the ground level (else the last sample with lift)."""
    proof = risen[a:b] if risen[a:b].any() else core[a:b]
    first, last = a + int(np.argmax(proof)), b - 1 - int(np.argmax(proof[::-1]))
    up = a + int(np.argmax(lift[a:b])) if lift[a:b].any() else a
    down = b - 1 - int(np.argmax(lift[a:b][::-1])) if lift[a:b].any() else b - 1
    low_before = np.flatnonzero(s.rise[up:first + 1] <= 0.0)  # the last moment at the ground level
    i0 = up + int(low_before[-1]) if low_before.size else up
    i1 = _touch_down(s, last, down, tol)
    end_core = b - 1 - int(np.argmax(core[a:b][::-1]))
    if end_core - i1 >= hover_min:  # a hover near the ground goes on well after the last rise: still flying
        i1 = _touch_down(s, end_core, down, tol)
    if 0 < down - i1 < hover_min:
        # Down to the ground level while the motors still lift and stay balanced: the last metre in ground
        # effect, then the touch-down, after which the land detector (1 s) or the pilot cuts the thrust. Motors
        # that split there are on the ground (a tip-over, a skid): the flight ended where they split.
        split = np.flatnonzero(s.balanced[i1:down + 1] == 0.0)
        i1 = i1 + int(split[0]) if split.size else down
    return float(s.t[min(i0, first)]), float(s.t[max(i1, i0)])


def _touch_down(s: _Signals, last: int, down: int, tol: float) -> int:
    """The first sample after ``last`` from which the height stays on the ground level (else ``down``)."""
    tail = np.nan_to_num(s.rise[last:down + 1], nan=0.0)
    stays = np.flatnonzero(np.maximum.accumulate(tail[::-1])[::-1] <= tol)
    return last + int(stays[0]) if stays.size else max(down, last)


def _evidence(raw: RawLog, s: _Signals, proofs: dict[str, np.ndarray], windows: list[tuple[float, float]],
              rules: Rules) -> dict[str, str]:
    used = ", ".join(f"{k}={v}" for k, v in s.sources.items() if v) or "none"
    rise = s.rise[np.isfinite(s.rise)]
    facts = [f"max rise {rise.max():.1f} m over the ground level ({s.sources['height']})" if rise.size else
             "no height logged"]
    if s.thrust is not None:
        facts.append(f"thrust idle {s.idle:.2f}, hover {s.hover:.2f}, max {np.nanmax(s.thrust):.2f} ({s.sources['thrust']})")
    if np.isfinite(s.loaded).any():
        facts.append(f"props loaded {100 * np.nanmean(s.loaded):.0f} % of the time (IMU spread)")
    if np.isfinite(s.balanced).any():
        facts.append(f"motors balanced {100 * np.nanmean(s.balanced):.0f} % of the time")
    det = [f"{e} at t={t:.1f}" for t, landed, e in raw.landed if s.t[0] <= t <= s.t[-1]]
    ev = {"streams": used, "facts": "; ".join(facts),
          "support": ("land detector: " + "; ".join(det[:6])) if det else "land detector: silent"}
    if not windows:
        nothing = not s.sources["height"] and s.thrust is None and not np.isfinite(s.fast).any()
        ev["decided_by"] = ("undecided: no height, thrust or GPS speed logged" if nothing else
                            "ground run: never lift, rise and loaded props together")
        return ev
    kinds = [k for k, m in proofs.items() if m.any()]
    ev["decided_by"] = "airborne by " + ", ".join(kinds)
    ev["takeoff"] = f"lift-off at t={windows[0][0]:.1f}: thrust at lift level, last sample on the ground level"
    ev["landing"] = f"touch-down at t={windows[-1][1]:.1f}: back on the ground level or thrust below lift"
    return ev


@dataclass(frozen=True)
class EndState:
    """What the last samples of a segment say: height over the ground level, thrust, and the verdict."""

    rise_m: float | None
    thrust: float | None
    lift: bool | None  # thrust at lift level (None: no thrust logged)
    airborne: bool | None  # True in the air, False on the ground, None undecidable
    why: str


def end_state(raw: RawLog, t0: float, t1: float, rules: Rules, window_s: float = 3.0) -> EndState:
    """The aircraft's state over the last ``window_s`` before ``t1``: airborne when the last height is above
    truncated_in_air_rel_alt_m, or the motors make lift and the height is off the ground level."""
    s = _signals(raw, t0, t1, rules)
    last = s.t >= s.t[-1] - window_s if s.t.size else np.zeros(0, bool)
    rises = s.rise[last][np.isfinite(s.rise[last])]
    rise = float(rises[-1]) if rises.size else None
    thr = None
    lift = None
    if s.thrust is not None and np.isfinite(s.thrust[last]).any():
        thr = float(s.thrust[last][np.isfinite(s.thrust[last])][-1])
        lift = thr >= s.idle + rules.threshold("airborne_lift_fraction") * (s.hover - s.idle)
    high = rules.threshold("truncated_in_air_rel_alt_m")
    tol = rules.threshold("airborne_ground_tolerance_m")
    if rise is not None and rise > high:
        return EndState(rise, thr, lift, True, f"{rise:.1f} m over the ground level (> {high:g} m)")
    if lift and rise is not None and rise > tol:
        return EndState(rise, thr, lift, True, f"motors at lift (thrust {thr:.2f}) {rise:.1f} m off the ground level")
    if rise is not None and rise <= tol:
        return EndState(rise, thr, lift, False, f"{rise:.1f} m over the ground level: on the ground")
    if rise is not None:
        return EndState(rise, thr, lift, None, f"{rise:.1f} m over the ground level with the motors below lift")
    return EndState(rise, thr, lift, None, "no height in the last samples"
                    + ("" if thr is None else f", thrust {thr:.2f}"))
