"""The flight record shared by the simulator, the log importer, the classifier, the store and the report.

"A flight is a flight": simulated and flown flights have one schema (DESIGN.md, "The flight record").
All quantities are SI; altitudes say their datum in their name (``_msl`` above mean sea level,
``rel`` above the home/launch point, ``agl`` above the terrain).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from uavsim.errors import InputError

SOURCES = ("sim", "log")
MISSION_TYPES = (
    "spray", "seed", "fertilise", "survey", "monitor", "cargo", "medical", "ferry", "test", "unknown",
)
SEVERITIES = ("none", "observation", "incident", "serious_incident", "accident")
OUTCOMES = ("safe", "unsafe")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
# A record is a flight (airborne) or a ground run (armed, never airborne: bench, run-up, handling). Ground runs
# never count in a safety rate; they are kept with their events (issue 11).
RECORD_KINDS = ("flight", "ground_run")
# Checks without which a verdict cannot be trusted: a flight missing one is "unverified", never silently safe.
VERIFYING_CHECKS = ("position", "terrain", "area")

EVENT_KINDS = (
    "CRASH", "FAILSAFE_BATTERY", "FAILSAFE_RADIO", "FAILSAFE_GCS", "FAILSAFE_EKF", "FAILSAFE_GPS",
    "FAILSAFE_FENCE", "GPS_DEGRADED", "EKF_VARIANCE", "VIBRATION", "GEOFENCE_BREACH", "ZONE_VIOLATION",
    "TERRAIN_CLEARANCE", "TERRAIN_UNKNOWN", "ALTITUDE_LIMIT", "LOG_TRUNCATED_IN_AIR", "LOG_CORRUPT",
    "MOTOR_FAILURE", "LINK_LOSS", "PAYLOAD_DROP", "EMERGENCY_LANDING", "MISSION_ABORTED", "BATTERY_LOW",
    "ATTITUDE_ERROR", "ACCEL_CLIPPING", "SENSOR_ERROR", "BIRD_STRIKE", "WEATHER",
    "FAILSAFE_OTHER", "SYSTEM_ERROR",
    "END_NOT_RECORDED",  # issue 11: the log stops while armed with nothing showing the aircraft airborne
    # issue 11, corroborated detectors (uavsim.logs.detectors)
    "HARD_LANDING", "LOSS_OF_CONTROL", "MOTOR_SATURATION", "MOTOR_IMBALANCE", "BATTERY_TELEMETRY_INVALID",
    # issue 14: flown against its plan (uavsim.context.conformance)
    "ROUTE_DEVIATION", "ALTITUDE_DEVIATION",
)
# issue 14: how a context field (site, mission type, aircraft, pilot) was found
CONTEXT_HOW = ("manifest", "inferred", "simulated", "unknown")


def worse(a: str, b: str) -> str:
    """The worse of two severities."""
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


@dataclass(frozen=True)
class Event:
    """One occurrence during a flight, with the evidence that proves it.

    ``level`` is the detector's grade (``fail`` or ``warn``); ``severity`` is assigned from the rules table
    by :func:`uavsim.safety.rules.Rules.make_event`, never chosen by a detector.
    """

    kind: str
    severity: str
    t_s: float
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None  # metres above mean sea level
    value: float | None = None
    threshold: float | None = None
    detail: str = ""
    evidence: str = ""
    level: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__ if k in d})


# A flight's identity fields besides aircraft_id (DESIGN.md keys are kept; these are added).
IDENTITY_FIELDS = ("vehicle_type", "frame", "firmware", "hardware", "aircraft_id", "aircraft_id_source")

TELEMETRY_FIELDS = ("t_s", "lat", "lon", "alt_msl_m", "rel_alt_m", "ground_speed_mps", "battery_pct", "mode")


@dataclass
class Telemetry:
    """Time series of one flight. ``t_s`` counts seconds from the flight's start; NaN marks a missing value.

    ``mode`` holds small integers indexing ``mode_names`` so that the arrays stay numeric and compress well.
    """

    t_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_msl_m: np.ndarray
    rel_alt_m: np.ndarray
    ground_speed_mps: np.ndarray
    battery_pct: np.ndarray
    mode: np.ndarray
    mode_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.t_s)
        for name in TELEMETRY_FIELDS:
            arr = np.asarray(getattr(self, name), dtype=np.int16 if name == "mode" else np.float64).copy()
            if arr.shape != (n,):
                raise InputError(f"telemetry field {name} has shape {arr.shape}, expected ({n},)")
            setattr(self, name, arr)

    def __len__(self) -> int:
        return len(self.t_s)

    @classmethod
    def empty(cls) -> Telemetry:
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, z, np.zeros(0, np.int16), [])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in TELEMETRY_FIELDS}


@dataclass
class Flight:
    """One flight, simulated or flown, with its measures and its verdict."""

    id: str
    source: str
    source_ref: str
    mission_type: str = "unknown"
    site: str | None = None
    aircraft_id: str | None = None
    start_utc: str | None = None  # ISO 8601, "Z" suffix; None when the log has no absolute time
    duration_s: float = 0.0
    distance_m: float = 0.0
    max_agl_m: float | None = None
    min_terrain_clearance_m: float | None = None
    energy_used_wh: float | None = None
    battery_end_pct: float | None = None
    outcome: str = "unsafe"  # unsafe until classified: an unclassified flight never passes as safe
    severity: str = "none"
    events: list[Event] = field(default_factory=list)
    telemetry: Telemetry | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Identity of a log flight (uavsim.logs.identity); the store keeps them in extra["identity"].
    vehicle_type: str | None = None
    frame: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    aircraft_id_source: str | None = None
    # Flight or ground run, take-off and landing (seconds from start_utc / the record's t=0) with how they were
    # decided, the record's window in the log's own clock, and the checks that could not run (issue 11).
    kind: str = "flight"
    takeoff_s: float | None = None
    landing_s: float | None = None  # None when never airborne or when the record ends in the air
    airborne_evidence: dict[str, str] = field(default_factory=dict)
    log_t0_s: float | None = None
    log_t1_s: float | None = None
    log_clock: str | None = None  # boot | gps_time_of_week | estimated_att_10hz | sim
    checks_not_run: list[str] = field(default_factory=list)

    @property
    def unverified(self) -> bool:
        """A flight whose position, terrain or area check could not run: its verdict is not a proof of safety."""
        return self.kind == "flight" and any(c in VERIFYING_CHECKS for c in self.checks_not_run)
    # issue 14: who flew it, how each context field was found, and how it flew against its plan
    pilot: str | None = None
    context: dict[str, Any] = field(default_factory=dict)  # {field: {"how": CONTEXT_HOW, "rule", "evidence"}}
    conformance: dict[str, Any] | None = None  # None: no plan matched

    def __post_init__(self) -> None:
        for k, v in (self.extra.get("identity") or {}).items():
            if k in IDENTITY_FIELDS and getattr(self, k) is None:
                setattr(self, k, v)
        if self.kind not in RECORD_KINDS:
            raise ValueError(f"flight {self.id}: kind {self.kind!r} not in {RECORD_KINDS}")
        if self.source not in SOURCES:
            raise InputError(f"flight {self.id}: source {self.source!r} not in {SOURCES}")
        if self.mission_type not in MISSION_TYPES:
            raise InputError(f"flight {self.id}: mission_type {self.mission_type!r} not in {MISSION_TYPES}")
        if self.severity not in SEVERITIES:
            raise InputError(f"flight {self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.outcome not in OUTCOMES:
            raise InputError(f"flight {self.id}: outcome {self.outcome!r} not in {OUTCOMES}")

    def to_dict(self, telemetry: bool = False) -> dict[str, Any]:
        """The JSON form used by the command line (DESIGN.md keys)."""
        d: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "source_ref": self.source_ref,
            "mission_type": self.mission_type,
            "site": self.site,
            "aircraft_id": self.aircraft_id,
            "start_utc": self.start_utc,
            "duration_s": _jsonable(self.duration_s),
            "distance_m": _jsonable(self.distance_m),
            "max_agl_m": _jsonable(self.max_agl_m),
            "min_terrain_clearance_m": _jsonable(self.min_terrain_clearance_m),
            "energy_used_wh": _jsonable(self.energy_used_wh),
            "battery_end_pct": _jsonable(self.battery_end_pct),
            "outcome": self.outcome,
            "severity": self.severity,
            "events": [e.to_dict() for e in self.events],
            "extra": {k: _jsonable(v) for k, v in self.extra.items()},
            "pilot": self.pilot,
            "context": _jsonable(self.context),
            "conformance": _jsonable(self.conformance),
        }
        d.update({k: getattr(self, k) for k in IDENTITY_FIELDS if k != "aircraft_id"})
        d.update(kind=self.kind, takeoff_s=_jsonable(self.takeoff_s), landing_s=_jsonable(self.landing_s),
                 airborne_evidence=dict(self.airborne_evidence), log_t0_s=_jsonable(self.log_t0_s),
                 log_t1_s=_jsonable(self.log_t1_s), log_clock=self.log_clock,
                 checks_not_run=list(self.checks_not_run), unverified=self.unverified)
        if telemetry and self.telemetry is not None:
            d["telemetry"] = {k: [_jsonable(x) for x in v.tolist()] for k, v in self.telemetry.to_arrays().items()}
            d["telemetry"]["mode_names"] = list(self.telemetry.mode_names)
        return d


def _jsonable(v: Any) -> Any:
    """Plain JSON value: numpy scalars become Python ones and NaN/inf become None (JSON has no NaN)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v
