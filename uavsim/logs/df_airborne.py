"""DataFlash messages that show whether the aircraft is flying: barometer, motor outputs, throttle, IMU.

They fill the ``baro``, ``motors``, ``throttle`` and ``imu`` streams of :mod:`uavsim.logs.raw`; the
decision itself is in :mod:`uavsim.logs.segment`. Handlers take (builder, table, log times, format) like
those of :mod:`uavsim.logs.dataflash`, which calls them after its own.
"""

from __future__ import annotations

import numpy as np
from pymavlink import DFReader

from uavsim.logs.dfbin import Table
from uavsim.logs.raw import RawBuilder

TYPES = ("BARO", "RCOU", "IMU")  # read besides dataflash.TYPES (CTUN is read there already)
N_MOTORS = 8
PWM_MIN_US, PWM_MAX_US = 1000.0, 2000.0  # ArduPilot's default MOT_PWM_MIN/MAX range (0 = from RC3)
PWM_VALID_US = (800.0, 2200.0)  # outside this an output is unused (0) or not a motor


def _col(tb: Table, *names: str) -> np.ndarray | None:
    for n in names:
        v = tb.get(n)
        if v is not None and v.dtype != object:
            return np.asarray(v, dtype=np.float64)
    return None


def _first_instance(tb: Table) -> np.ndarray:
    inst = _col(tb, "I", "Instance")
    return np.ones(len(tb["_ofs"]), bool) if inst is None else inst == 0


def baro(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    """BARO.Alt: altitude over the level the barometer was calibrated at (boot / arming)."""
    alt = _col(tb, "Alt")
    if alt is None or b.sources.get("baro", "").startswith("BARO"):
        return
    keep = _first_instance(tb)
    b.sources["baro"] = "BARO.Alt"
    b.add_block("baro", t[keep], alt[keep])


def ctun(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    """CTUN.BarAlt/BAlt (baro height, used when no BARO message exists) and CTUN.ThO/ThrOut (throttle)."""
    bar = _col(tb, "BAlt", "BarAlt")
    if bar is not None and "BARO" not in b.sources.get("baro", ""):
        b.sources["baro"] = "CTUN.BarAlt"
        b.add_block("baro", t, bar)
    thr = _col(tb, "ThO", "ThrOut")
    if thr is not None and len(thr):
        # ArduCopter 3.0-3.3 log the output on a 0..1000 scale, 3.4+ as a 0..1 fraction.
        scale = 1e-3 if np.nanmax(thr, initial=0.0) > 1.5 else 1.0
        b.sources["throttle"] = "CTUN.ThO" if "ThO" in tb else "CTUN.ThrOut"
        b.add_block("throttle", t, np.clip(thr * scale, 0.0, 1.0))


def rcou(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    """RCOU C1..C8 (or Chan1..Chan8): motor PWM, normalised over the default ESC range."""
    pwm = []
    for i in range(1, N_MOTORS + 1):
        v = _col(tb, f"C{i}", f"Chan{i}", f"Ch{i}")
        pwm.append(None if v is None else np.where((v >= PWM_VALID_US[0]) & (v <= PWM_VALID_US[1]), v, np.nan))
    if all(p is None for p in pwm):
        return
    outs = [None if p is None else np.clip((p - PWM_MIN_US) / (PWM_MAX_US - PWM_MIN_US), 0.0, 1.0) for p in pwm]
    b.sources["motors"] = "RCOU"
    b.add_block("motors", t, *outs, *pwm)


def imu(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    """IMU AccX/AccY/AccZ of the first IMU (m/s²)."""
    acc = [_col(tb, c) for c in ("AccX", "AccY", "AccZ")]
    if any(a is None for a in acc):
        return
    keep = _first_instance(tb)
    b.sources["imu"] = "IMU"
    b.add_block("imu", t[keep], *(a[keep] for a in acc))  # type: ignore[index]


HANDLERS = {"BARO": baro, "CTUN": ctun, "RCOU": rcou, "IMU": imu}
