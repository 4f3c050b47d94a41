"""Energy model calibration: each aircraft class against its published figures, the forward-flight shape
against Stolaroff et al. 2018, and measured power in the shared flight logs.

Run from the repository root (prints Markdown tables; the README's "Energy model" section is this output):

    PYTHONPATH=. .venv/bin/python analysis/energy_calibration.py [--logs ../shared/data/logs]

1. **Classes.** Each published figure (MISSION.md, aircraft.toml ``hover_points`` and ``range_points``) against
   the calibrated model, with the error. A class whose forward-flight figures are not published rests on
   assumptions (profile share, tip speed, drag area): flagged.
2. **Shape.** Stolaroff 2018 measured a 1.3 kg quadcopter at 135-150 at 1.4-4.9 m/s rising to 216 at
   11.6 m/s. Read as energy per metre those numbers would need 2.5 kW at 11.6 m/s, about 15 times what a
   1.3 kg quad hovers on, so they are taken as power in watts (the shape: about flat to 5 m/s, then +50 % at
   11.6 m/s). The reference quad (4 x 10-inch rotors, tip speed 80 m/s) is fitted for its drag area with the
   profile share the classes' rule (1 - η / η_drive) gives the nearest class (survey-quad), and the best
   (profile share, drag area) pair is shown beside it.
3. **Logs.** Where a log carries current, voltage and GPS speed, measured power relative to the same flight's
   hover power is compared with the model's ratio for the reference quad, by speed band. Masses are not in the
   logs, so ratios (not watts) are compared.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from uavsim.aircraft import (
    AircraftClass,
    hover_endurance_s,
    load_catalogue,
    power_w,
    still_air_range_m,
)

STOLAROFF = ((1.4, 135.0), (4.9, 150.0), (11.6, 216.0))  # (m/s, W): the published shape, 1.3 kg quadcopter
REF_MASS_KG = 1.3
SPEED_BANDS = ((0.0, 1.0), (1.0, 3.0), (3.0, 5.0), (5.0, 7.0), (7.0, 10.0), (10.0, 14.0))
MIN_SAMPLES = 15
DEFAULT_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "logs"


def reference_quad(profile_frac: float, drag_area_m2: float) -> AircraftClass:
    ac = AircraftClass(id="stolaroff-ref", name="1.3 kg reference quadcopter", kind="multirotor", empty_kg=1.0,
                       battery_kg=0.3, max_takeoff_kg=REF_MASS_KG, payload_kg=0.0, battery_wh=80.0, usable_frac=1.0,
                       cruise_mps=10.0, max_speed_mps=20.0, climb_mps=3.0, descent_mps=3.0, wind_limit_mps=10.0,
                       tank_l=0.0, swath_m=0.0, spray_speed_mps=0.0, radio_range_m=1.0,
                       rotor_area_m2=4 * math.pi * 0.127 ** 2, drag_area_m2=drag_area_m2, efficiency=0.6,
                       profile_frac=profile_frac, tip_speed_mps=80.0)
    return ac


def shape_error(ac: AircraftClass) -> tuple[float, list[float]]:
    """RMS relative error of the model's power shape (scaled to the published mean) and the scaled powers."""
    model = np.array([power_w(ac, REF_MASS_KG, v) for v, _ in STOLAROFF])
    obs = np.array([p for _, p in STOLAROFF])
    k = np.exp(np.mean(np.log(obs / model)))
    rel = model * k / obs - 1.0
    return float(np.sqrt(np.mean(rel ** 2))), list(model * k)


def fit_reference(profile_frac: float | None) -> tuple[AircraftClass, float]:
    """Drag area (and profile share if None, within 0-0.6) that fit the Stolaroff shape best (grid search)."""
    fracs = [profile_frac] if profile_frac is not None else list(np.linspace(0.0, 0.6, 31))
    best = None
    for f in fracs:
        for cda in np.linspace(0.005, 0.15, 146):
            ac = reference_quad(float(f), float(cda))
            err = shape_error(ac)[0]
            if best is None or err < best[1]:
                best = (ac, err)
    return best  # type: ignore[return-value]


def class_rows() -> list[str]:
    rows = ["| class | published figure | model | error | rests on assumptions |", "|---|---|---|---|---|"]
    for ac in load_catalogue().values():
        assumed = []
        if ac.kind == "multirotor" and not ac.range_points:
            assumed.append(f"forward flight (profile share {ac.profile_frac:.2f}, tip speed {ac.tip_speed_mps:.0f} "
                           f"m/s, drag area {ac.drag_area_m2:.2f} m²)")
        if not ac.hover_points and ac.kind == "multirotor":
            assumed.append("hover power")
        if ac.kind == "vtol":
            assumed.append("hover-mode power (figure of merit, rotor area)")
        flag = "; ".join(assumed) or "no"
        for mass, minutes in ac.hover_points:
            model = hover_endurance_s(ac, mass) / 60.0
            rows.append(f"| {ac.id} | hover {minutes:.1f} min at {mass:.1f} kg | {model:.1f} min | "
                        f"{model / minutes - 1:+.1%} | {flag} |")
        for mass, km, v in ac.range_points:
            model = still_air_range_m(replace(ac, cruise_mps=v), mass) / 1000.0
            rows.append(f"| {ac.id} | range {km:.0f} km at {mass:.1f} kg, {v:.1f} m/s | {model:.1f} km | "
                        f"{model / km - 1:+.1%} | {flag} |")
        if not ac.hover_points and not ac.range_points:
            rows.append(f"| {ac.id} | none | - | - | {flag} |")
    return rows


def shape_rows(profile_frac: float, eta: float) -> tuple[list[str], AircraftClass]:
    fixed, err_fixed = fit_reference(profile_frac)
    free, err_free = fit_reference(None)
    rows = ["| model | profile share | drag area m² | " + " | ".join(f"{v} m/s" for v, _ in STOLAROFF)
            + " | RMS error |", "|---|---|---|" + "---|" * len(STOLAROFF) + "---|",
            "| Stolaroff 2018 (published) | | | " + " | ".join(f"{p:.0f}" for _, p in STOLAROFF) + " | |"]
    for label, ac, err in ((f"the classes' rule for a small quad (1 - η/η_drive, η {eta:.2f})", fixed,
                            err_fixed), ("best fit (share 0-0.6)", free, err_free)):
        _, scaled = shape_error(ac)
        rows.append(f"| {label} | {ac.profile_frac:.2f} | {ac.drag_area_m2:.3f} | "
                    + " | ".join(f"{p:.0f}" for p in scaled) + f" | {err:.1%} |")
    return rows, fixed


def _log_power_speed(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(power W, GPS speed m/s) of the airborne, level samples of a DataFlash log, or None."""
    from pymavlink import mavutil

    try:
        m = mavutil.mavlink_connection(str(path))
    except Exception:  # noqa: BLE001 - a log pymavlink cannot open is simply not compared
        return None
    curr, gps = [], []
    t_last = math.nan
    while True:
        msg = m.recv_match(type=["CURR", "BAT", "GPS"])
        if msg is None:
            break
        d = msg.to_dict()
        t = d["TimeUS"] / 1e6 if "TimeUS" in d else d["TimeMS"] / 1e3 if "TimeMS" in d else t_last
        t_last = t  # ArduCopter 3.1-3.3 CURR rows carry no time: they take the last GPS row's
        if msg.get_type() in ("CURR", "BAT") and d.get("Volt") is not None and d.get("Curr") is not None:
            curr.append((t, float(d["Volt"]), float(d["Curr"])))
        elif msg.get_type() == "GPS" and d.get("Status", 0) >= 3:
            gps.append((t, float(d["Spd"]), float(d.get("RelAlt", d.get("Alt", math.nan)))))
    if len(curr) < 50 or len(gps) < 50:
        return None
    c, g = np.array(curr), np.array(gps)
    # old text logs write centivolts/centiamps; a pack voltage above 100 must be in those units
    scale_v = 0.01 if np.nanmedian(c[:, 1]) > 100 else 1.0
    scale_a = 0.01 if np.nanmedian(c[:, 2]) > 300 else 1.0
    power = np.interp(g[:, 0], c[:, 0], c[:, 1] * scale_v * c[:, 2] * scale_a)
    alt = g[:, 2] - np.nanmin(g[:, 2])
    climb = np.gradient(g[:, 2], g[:, 0]) if np.all(np.diff(g[:, 0]) > 0) else np.zeros(len(g))
    ok = (power > 20) & (alt > 3.0) & (np.abs(climb) < 0.5)
    return (power[ok], g[ok, 1]) if ok.sum() >= 50 else None


def log_rows(logs: Path, ref: AircraftClass) -> list[str]:
    rows = ["| log | hover W | " + " | ".join(f"{a:g}-{b:g} m/s" for a, b in SPEED_BANDS[1:])
            + " | RMS error of the ratio |", "|---|---|" + "---|" * (len(SPEED_BANDS) - 1) + "---|"]
    hover_ref = power_w(ref, REF_MASS_KG, 0.0)
    errs_all = []
    for path in sorted(p for p in logs.rglob("*") if p.suffix.lower() in (".bin", ".log")):
        got = _log_power_speed(path)
        if got is None:
            continue
        power, speed = got
        still = speed < SPEED_BANDS[0][1]
        if still.sum() < MIN_SAMPLES:
            continue
        hover = float(np.median(power[still]))
        cells, errs = [], []
        for a, b in SPEED_BANDS[1:]:
            sel = (speed >= a) & (speed < b)
            if sel.sum() < MIN_SAMPLES:
                cells.append("-")
                continue
            measured = float(np.median(power[sel])) / hover
            model = power_w(ref, REF_MASS_KG, float(np.median(speed[sel]))) / hover_ref
            errs.append(model / measured - 1.0)
            cells.append(f"{measured:.2f} / {model:.2f}")
        if errs:
            errs_all += errs
            rows.append(f"| {path.parent.name}/{path.name} | {hover:.0f} | " + " | ".join(cells)
                        + f" | {math.sqrt(np.mean(np.square(errs))):.1%} |")
    if errs_all:
        rows.append("| **all logs** | | " + " | " * (len(SPEED_BANDS) - 2)
                    + f" | **{math.sqrt(np.mean(np.square(errs_all))):.1%}** ({len(errs_all)} bands) |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="Folder of DataFlash logs to compare.")
    args = ap.parse_args(argv)
    small = load_catalogue()["survey-quad"]  # the class nearest Stolaroff's 1.3 kg quadcopter
    print("### Classes against their published figures\n")
    print("\n".join(class_rows()))
    shape, ref = shape_rows(small.profile_frac, small.efficiency)
    print("\n### Forward-flight shape against Stolaroff 2018 (power, W, scaled to the published mean)\n")
    print("\n".join(shape))
    print("\n### Measured power in the shared logs (measured / model, ratio to the flight's own hover power)\n")
    if args.logs.is_dir():
        print("\n".join(log_rows(args.logs, ref)))
    else:
        print(f"(no logs at {args.logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
