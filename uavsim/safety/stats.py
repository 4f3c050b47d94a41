"""Safety statistics: the safe rate against the target, with honest confidence bounds.

- The headline bound is the **one-sided exact (Clopper–Pearson) lower bound** on the safe rate: the true rate
  is at least this value with the chosen confidence. It is conservative and never exceeds the observed rate.
- **Wilson** two-sided intervals are reported per stratum (mission type, site, aircraft, month, source); they
  behave well for small groups and rates near 1.
- Flights by one aircraft on one day share a crew, weather and battery set, so they are not independent.
  A **cluster bootstrap** over days (or aircraft-days) resamples whole clusters with a seeded
  ``numpy.random.Generator`` and gives an interval that widens when failures bunch together. Days and
  months are local (UTC+7 by default): a flying day starting at 06:00 local begins on the previous UTC date.
- Rates per 1,000 flights and per 1,000 flight hours, and how many flights at the current rate would show
  the target.

Everything here is a pure function of the flights and the parameters; nothing reads global state.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import beta, norm

from uavsim.errors import InputError, StoreError
from uavsim.records import SEVERITIES, SEVERITY_RANK, Flight

log = logging.getLogger(__name__)

DEFAULT_CONFIDENCE = 0.95
DEFAULT_TARGET = 0.99  # MISSION.md: more than 99 % of flights safe
DEFAULT_BOOTSTRAP = 2000
SECONDS_PER_HOUR = 3600.0
UNKNOWN = "unknown"
CLUSTERS = ("day", "aircraft-day")
LOCAL_UTC_OFFSET_H = 7.0  # Indochina Time (Vietnam), no daylight saving: days and months are local


# -- bounds on a binomial proportion -----------------------------------------------------------------------
def _check(successes: float, n: float, confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if n < 0 or successes < 0 or successes > n:
        raise InputError(f"need 0 <= successes <= n, got successes={successes}, n={n}")


def clopper_pearson_lower(successes: float, n: float, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """One-sided exact lower bound on a proportion: P(X >= successes | p) = 1 - confidence.

    ``successes`` may be fractional (used when projecting future flights at the current rate); for n = 0
    nothing is known and the bound is 0.
    """
    _check(successes, n, confidence)
    if n == 0 or successes == 0:
        return 0.0
    return float(beta.ppf(1.0 - confidence, successes, n - successes + 1.0))


def clopper_pearson_upper(successes: float, n: float, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """One-sided exact upper bound on a proportion (1 when every trial succeeded or n = 0)."""
    _check(successes, n, confidence)
    if n == 0 or successes >= n:
        return 1.0
    return float(beta.ppf(confidence, successes + 1.0, n - successes))


def wilson_interval(successes: float, n: float, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Two-sided Wilson score interval; (0, 1) when n = 0."""
    _check(successes, n, confidence)
    if n == 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def max_unsafe_for_target(n: int, target: float = DEFAULT_TARGET, confidence: float = DEFAULT_CONFIDENCE) -> int:
    """Most unsafe flights out of ``n`` that still show a safe rate above ``target``; -1 if none can."""
    if n <= 0:
        return -1
    lo, hi = -1, n  # invariant: lo passes (or is -1), hi fails; the bound falls as failures rise
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if clopper_pearson_lower(n - mid, n, confidence) > target:
            lo = mid
        else:
            hi = mid
    return lo


def min_flights_for_target(unsafe_rate: float, target: float = DEFAULT_TARGET,
                           confidence: float = DEFAULT_CONFIDENCE, limit: int = 10**9) -> int | None:
    """Fewest flights that show ``target`` when a fraction ``unsafe_rate`` of them is unsafe.

    The failures are taken as ``unsafe_rate * n`` (fractional), so the answer is smooth in the rate. ``None``
    when the rate is too high to ever show the target (or needs more than ``limit`` flights).
    """
    if not 0.0 <= unsafe_rate <= 1.0:
        raise InputError(f"unsafe rate must lie in [0, 1], got {unsafe_rate}")
    if unsafe_rate >= 1.0 - target:
        return None

    def passes(n: int) -> bool:
        return clopper_pearson_lower(n * (1.0 - unsafe_rate), n, confidence) > target

    hi = 1
    while not passes(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = hi // 2  # fails (or is 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi


def flights_needed(n: int, unsafe: int, target: float = DEFAULT_TARGET,
                   confidence: float = DEFAULT_CONFIDENCE) -> int | None:
    """More flights needed, at the current unsafe rate, before the lower bound exceeds ``target``.

    0 when the target is already shown; ``None`` when the current rate cannot show it. With no flights yet the
    rate is taken as zero failures (the best case: 299 flights at 95 % for 99 %).
    """
    if n > 0 and clopper_pearson_lower(n - unsafe, n, confidence) > target:
        return 0
    total = min_flights_for_target(unsafe / n if n else 0.0, target, confidence)
    return None if total is None else max(total - n, 1)


# -- clustered interval ----------------------------------------------------------------------------------
def cluster_bootstrap(safe: np.ndarray, clusters: Sequence[Any], confidence: float = DEFAULT_CONFIDENCE,
                      n_boot: int = DEFAULT_BOOTSTRAP, rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Percentile bootstrap of the safe rate, resampling whole clusters with replacement.

    Returns the two-sided interval at ``confidence`` and the one-sided lower bound (the 1 - confidence
    quantile). The ratio estimator sum(safe) / sum(flights) is used, so big clusters weigh more.
    """
    safe = np.asarray(safe, dtype=bool)
    if len(clusters) != safe.size:
        raise InputError(f"{len(clusters)} cluster labels for {safe.size} flights")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    rng = rng if rng is not None else np.random.default_rng(0)
    if safe.size == 0:
        return {"clusters": 0, "n_boot": n_boot, "lower_bound": 0.0, "interval": [0.0, 1.0]}
    _, inverse = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    n_c = np.bincount(inverse).astype(np.float64)
    s_c = np.bincount(inverse, weights=safe.astype(np.float64))
    k = n_c.size
    # Counting draws per cluster (multinomial) is the same resampling as drawing indices, in O(B·k) memory.
    draws = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(np.float64)
    rates = (draws @ s_c) / (draws @ n_c)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(rates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return {
        "clusters": int(k), "n_boot": int(n_boot), "lower_bound": float(np.quantile(rates, alpha)),
        "interval": [float(lo), float(hi)],
    }


def local_date(start_utc: str | None, utc_offset_h: float = LOCAL_UTC_OFFSET_H) -> str | None:
    """The local calendar date (YYYY-MM-DD) of an ISO 8601 UTC time; None when there is no time.

    Flying days are local: at UTC+7 a day's first sorties (06:00) fall on the previous UTC date.
    """
    if not start_utc:
        return None
    try:
        t = datetime.fromisoformat(start_utc)
    except ValueError:
        return start_utc[:10]  # not ISO 8601: the date as written is the best we have
    return (t + timedelta(hours=utc_offset_h)).strftime("%Y-%m-%d")


def cluster_labels(flights: Sequence[Flight], cluster: str = "day",
                   utc_offset_h: float = LOCAL_UTC_OFFSET_H) -> list[str]:
    """Cluster of each flight: its local day, or aircraft and local day. An undated flight is its own cluster."""
    if cluster not in CLUSTERS:
        raise InputError(f"cluster must be one of {CLUSTERS}, got {cluster!r}")
    out = []
    for f in flights:
        day = local_date(f.start_utc, utc_offset_h)
        if day is None:
            out.append(f"undated:{f.id}")
        elif cluster == "day":
            out.append(day)
        else:
            out.append(f"{f.aircraft_id or UNKNOWN}|{day}")
    return out


# -- strata ----------------------------------------------------------------------------------------------
def _month(f: Flight, utc_offset_h: float) -> str:
    day = local_date(f.start_utc, utc_offset_h)
    return day[:7] if day else UNKNOWN


STRATA: dict[str, Callable[[Flight, float], str]] = {
    "mission_type": lambda f, _: f.mission_type or UNKNOWN,
    "site": lambda f, _: f.site or UNKNOWN,
    "aircraft": lambda f, _: f.aircraft_id or UNKNOWN,
    "month": _month,  # local month
    "source": lambda f, _: f.source,
    "pilot": lambda f, _: f.pilot or UNKNOWN,  # issue 14
}


def stratum_of(flight: Flight, by: str, utc_offset_h: float = LOCAL_UTC_OFFSET_H) -> str:
    try:
        fn = STRATA[by]
    except KeyError as exc:
        raise InputError(f"--by must be one of {', '.join(STRATA)}, got {by!r}") from exc
    return fn(flight, utc_offset_h)


@dataclass
class RateStats:
    """The safety figures of one set of flights (the whole store, or one stratum)."""

    flights: int
    unsafe: int
    safety_rate: float | None
    lower_bound: float
    confidence: float
    target: float
    meets_target: bool
    wilson: tuple[float, float]
    flight_hours: float
    unsafe_per_1000_flights: float | None
    unsafe_per_1000_hours: float | None
    severity_counts: dict[str, int]
    flights_needed: int | None
    unsafe_allowed: int = -1  # most unsafe flights out of ``flights`` that would still show the target
    group: str | None = None
    clustered: dict[str, Any] | None = None
    # Flights whose position, terrain or area check could not run (issue 11): counted with their verdict in
    # the figures above, and apart here with the bound they would give if every one of them were unsafe.
    unverified: int = 0
    lower_bound_unverified_unsafe: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.group is not None:
            d["group"] = self.group
        d.update({
            "flights": self.flights, "unsafe": self.unsafe, "safety_rate": self.safety_rate,
            "lower_bound": self.lower_bound, "confidence": self.confidence, "target": self.target,
            "meets_target": self.meets_target, "wilson_interval": list(self.wilson),
            "flight_hours": self.flight_hours, "unsafe_per_1000_flights": self.unsafe_per_1000_flights,
            "unsafe_per_1000_flight_hours": self.unsafe_per_1000_hours,
            "severity_counts": dict(self.severity_counts), "flights_needed": self.flights_needed,
            "unsafe_allowed": self.unsafe_allowed, "unverified": self.unverified,
            "lower_bound_unverified_unsafe": self.lower_bound_unverified_unsafe,
        })
        if self.clustered is not None:
            d["clustered"] = dict(self.clustered)
        return d


def rate_stats(flights: Iterable[Flight], confidence: float = DEFAULT_CONFIDENCE, target: float = DEFAULT_TARGET,
               group: str | None = None) -> RateStats:
    """Safe rate, exact lower bound, Wilson interval and normalised rates of ``flights``."""
    flights = list(flights)
    if not 0.0 < target < 1.0:
        raise InputError(f"target must lie strictly between 0 and 1, got {target}")
    n = len(flights)
    unsafe = sum(f.outcome == "unsafe" for f in flights)
    hours = sum(max(f.duration_s or 0.0, 0.0) for f in flights) / SECONDS_PER_HOUR
    lower = clopper_pearson_lower(n - unsafe, n, confidence)
    unverified = sum(f.unverified for f in flights)
    unverified_safe = sum(f.unverified and f.outcome == "safe" for f in flights)
    counts = {s: 0 for s in SEVERITIES}
    for f in flights:
        counts[f.severity] += 1
    return RateStats(
        flights=n, unsafe=unsafe, safety_rate=(n - unsafe) / n if n else None, lower_bound=lower,
        confidence=confidence, target=target, meets_target=bool(n and lower > target),
        wilson=wilson_interval(n - unsafe, n, confidence), flight_hours=hours,
        unsafe_per_1000_flights=1000.0 * unsafe / n if n else None,
        unsafe_per_1000_hours=1000.0 * unsafe / hours if hours > 0 else None,
        severity_counts=counts, flights_needed=flights_needed(n, unsafe, target, confidence),
        unsafe_allowed=max_unsafe_for_target(n, target, confidence), group=group, unverified=unverified,
        lower_bound_unverified_unsafe=clopper_pearson_lower(n - unsafe - unverified_safe, n, confidence),
    )


@dataclass
class SafetySummary:
    """Overall figures, the clustered interval and one :class:`RateStats` per group of ``by``."""

    overall: RateStats
    by_name: str | None
    by: list[RateStats] = field(default_factory=list)
    cluster: str = "day"
    out_of_area: int = 0  # flights outside the terrain/scenario area: left out of the headline
    ground_runs: int = 0  # armed segments that never flew: never in a rate

    def to_dict(self) -> dict[str, Any]:
        """The ``uavsim stats --json`` document (DESIGN.md keys first, extras after)."""
        d = self.overall.to_dict()
        d["by_field"] = self.by_name
        d["cluster"] = self.cluster
        d["out_of_area"] = self.out_of_area
        d["ground_runs_excluded"] = self.ground_runs
        d["by"] = [g.to_dict() for g in self.by]
        return d


def group_stats(flights: Sequence[Flight], by: str, confidence: float = DEFAULT_CONFIDENCE,
                target: float = DEFAULT_TARGET, utc_offset_h: float = LOCAL_UTC_OFFSET_H) -> list[RateStats]:
    """One :class:`RateStats` per group of stratum ``by``: months in time order ("unknown" last), other
    strata by number of flights (most first), then name."""
    members: dict[str, list[Flight]] = {}
    for f in flights:
        members.setdefault(stratum_of(f, by, utc_offset_h), []).append(f)
    groups = [rate_stats(fs, confidence, target, group=g) for g, fs in members.items()]
    if by == "month":
        groups.sort(key=lambda g: (g.group == UNKNOWN, g.group or ""))
    else:
        groups.sort(key=lambda g: (-g.flights, g.group or ""))
    return groups


def summarize(flights: Sequence[Flight], by: str | None = None, confidence: float = DEFAULT_CONFIDENCE,
              target: float = DEFAULT_TARGET, cluster: str = "day", n_boot: int = DEFAULT_BOOTSTRAP,
              seed: int = 0, utc_offset_h: float = LOCAL_UTC_OFFSET_H) -> SafetySummary:
    """All statistics of a set of flights, with the groups of ``by`` (see :func:`group_stats`).

    Days (clusters) and months (strata) are local, ``utc_offset_h`` hours ahead of UTC. Ground runs never
    count, and flights outside the terrain/scenario area ("area" among their checks not run) are left out
    of the headline; both numbers are reported.
    """
    everything = list(flights)
    flights = headline_flights(everything)
    overall = rate_stats(flights, confidence, target)
    labels = cluster_labels(flights, cluster, utc_offset_h)
    overall.clustered = cluster_bootstrap(
        np.array([f.outcome == "safe" for f in flights], dtype=bool), labels, confidence, n_boot,
        np.random.default_rng(seed),
    )
    overall.clustered["cluster"] = cluster
    overall.clustered["utc_offset_h"] = utc_offset_h
    groups = group_stats(flights, by, confidence, target, utc_offset_h) if by is not None else []
    ground = sum(f.kind != "flight" for f in everything)
    return SafetySummary(overall, by, groups, cluster, out_of_area=len(everything) - len(flights) - ground,
                         ground_runs=ground)


def headline_flights(flights: Iterable[Flight]) -> list[Flight]:
    """The flights a scenario's headline counts: real flights (no ground runs) inside its area."""
    return [f for f in flights if f.kind == "flight" and "area" not in f.checks_not_run]


def cumulative_series(safe: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative safe rate and its one-sided exact lower bound after each flight (vectorised)."""
    safe = np.asarray(safe, dtype=bool)
    n = np.arange(1, safe.size + 1, dtype=np.float64)
    k = np.cumsum(safe, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        lower = beta.ppf(1.0 - confidence, k, n - k + 1.0)
    lower = np.where(k > 0, lower, 0.0)
    return k / n, lower


END_KINDS = ("LOG_TRUNCATED_IN_AIR", "END_NOT_RECORDED")  # how a record's end was judged


def _merge_repeats(flights: list[Flight]) -> list[Flight]:
    """Count a flight recorded twice once, with the events of both records. How it ended is decided by the
    more complete record: a copy that stops early cannot turn a landed flight into LOG_TRUNCATED_IN_AIR
    (its end events are kept, marked as superseded). The verdict is the worst of the remaining events.

    Only when the first record is in the same selection, so that a --source filter never drops both."""
    from uavsim.safety.rules import default_rules

    by_id = {f.id: f for f in flights}
    kept = []
    for f in flights:
        first = by_id.get(f.extra.get("same_flight_as"))
        if first is None:
            kept.append(f)
            continue
        complete = _more_complete(first, f)
        ends = [e for e in first.events + f.events if e.kind in END_KINDS]
        superseded = [e for e in ends if complete.landing_s is not None and e not in complete.events]
        counted = [e for e in first.events + f.events if e not in superseded]
        first.events = first.events + f.events
        first.extra.setdefault("also_recorded_as", []).append(f.id)
        first.extra["end_decided_by"] = complete.id
        if superseded:
            first.extra["superseded_events"] = [f"{e.kind} ({e.detail[:60]})" for e in superseded]
        # A reviewed verdict stands as given; otherwise the records' events decide.
        given = [r.severity for r in (first, f) if "review" in r.extra or not r.events]
        worst = max(["none", *given, *(e.severity for e in counted)], key=SEVERITY_RANK.__getitem__)
        first.severity = worst
        first.outcome = "unsafe" if default_rules().is_unsafe(worst) else "safe"
    return kept


def _more_complete(a: Flight, b: Flight) -> Flight:
    """The record that saw the landing, else the one that ends later (then the longer one)."""
    def key(f: Flight) -> tuple[bool, float, float]:
        start = datetime.fromisoformat(f.start_utc.replace("Z", "+00:00")).timestamp() if f.start_utc else 0.0
        return f.landing_s is not None, start + (f.duration_s or 0.0), f.duration_s or 0.0
    return max((a, b), key=key)


def load_flights(db: str | Path, source: str | None = None, with_telemetry: bool = False,
                 include_repeats: bool = False) -> list[Flight]:
    """Every flight (or every flight of ``source``, sim or log) of an existing store.

    A flight recorded twice (the ground station's .tlog and the aircraft's own log) is counted once: the
    record the importer marked ``extra["same_flight_as"]`` is left out unless ``include_repeats``.
    A missing or empty store is a :class:`StoreError`; a missing file is never created.
    """
    from uavsim.store import Store  # the store pulls in sqlite; statistics alone do not need it

    path = Path(db)
    with Store.existing(path) as store:
        flights = store.flights(source=source, with_telemetry=with_telemetry)
    if not include_repeats:
        flights = _merge_repeats(flights)
    if not flights:
        what = f"no {source} flights" if source else "no flights"
        raise StoreError(f"{path}: the store holds {what} (fill it with `uavsim simulate` or `uavsim ingest`)")
    log.info("%s: %d flights", path, len(flights))
    return flights
