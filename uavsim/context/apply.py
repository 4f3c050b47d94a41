"""A flight in its context: manifest values over inference, conformance against the plan, and the deviation
events fed to the one classification. Also the later correction of stored flights by a manifest (``annotate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.context.conformance import deviation_events, measure, planned
from uavsim.context.infer import Inference, entry, infer
from uavsim.context.manifest import Manifest, ManifestRow, read_manifest
from uavsim.context.model import ContextModel
from uavsim.records import Event, Flight, Telemetry
from uavsim.safety.classify import classify
from uavsim.safety.rules import Rules, default_rules

CONFORMANCE_EVENTS = ("ROUTE_DEVIATION", "ALTITUDE_DEVIATION")
FIELDS = ("site", "mission_type", "aircraft_id")


def row_of(flight: Flight, manifest: Manifest | ManifestRow | None) -> ManifestRow | None:
    if isinstance(manifest, Manifest):
        return manifest.row_for(flight.source_ref.split(":", 1)[0], str(flight.extra.get("file", "")))
    return manifest


def apply_context(flight: Flight, track: Telemetry | None, model: ContextModel | None,
                  manifest: Manifest | ManifestRow | None, rules: Rules | None = None) -> list[Event]:
    """Fill ``flight``'s context, pilot and conformance (the manifest's row wins over inference), add the
    conformance events and re-derive the verdict with the shared classification. Returns the added events."""
    rules = rules or (model.rules if model is not None else default_rules())
    tel = track if track is not None else flight.telemetry
    row = row_of(flight, manifest)
    identity = _identity(flight, model)
    inf = _inference(flight, tel, identity, model, row)
    ctx: dict[str, Any] = {}
    for name in FIELDS:
        ctx[name] = _manifest_entry(row, name, getattr(inf, name)) if row and getattr(row, name) else getattr(inf, name)
    ctx["aircraft_id"]["log_identity"] = identity
    ctx["pilot"] = _manifest_entry(row, "pilot", None) if row and row.pilot else \
        entry("unknown", None, "pilot from the manifest", "no manifest row names the pilot")
    flight.site = ctx["site"]["value"]
    flight.mission_type = ctx["mission_type"]["value"] or "unknown"
    flight.aircraft_id = ctx["aircraft_id"]["value"] or identity
    flight.pilot = ctx["pilot"]["value"]
    m = _measure(tel, inf, model, row, flight.aircraft_id, rules)
    flight.conformance = m.to_dict() if m is not None else None
    permit = _permit(flight, tel, model, row)
    if permit is not None:
        ctx["permit"] = entry("manifest" if row and row.permit else "inferred", permit["id"],
                              "the manifest's permit, else the permit whose area holds the take-off for the class",
                              f"permit {permit['id']}")
    added = deviation_events(m, tel, rules, permit) if m is not None and tel is not None else []
    if row is not None:
        ctx["manifest"] = {"path": Path(row_path(manifest)).name, "line": row.line, "permit": row.permit,
                           "plan": Path(row.plan).name if row.plan else None, "date": row.date, "notes": row.notes}
    flight.context = ctx
    kept = [e for e in flight.events if e.kind not in CONFORMANCE_EVENTS]
    verdict = classify(kept + added, rules=rules)
    flight.events, flight.severity, flight.outcome = verdict.events, verdict.severity, verdict.outcome
    return added


def _identity(flight: Flight, model: ContextModel | None) -> str | None:
    """The log's own name for the aircraft: the importer's aircraft id, or any identity field the log gives
    (``extra["identity"]``), the first the fleet mapping knows winning."""
    first = flight.context.get("aircraft_id", {}).get("log_identity", flight.aircraft_id)
    more = flight.extra.get("identity")
    names = [first] + ([v for v in more.values() if isinstance(v, str)] if isinstance(more, dict) else [])
    known = model.identities if model is not None else {}
    return next((n for n in names if n in known), first)


def _permit(flight: Flight, tel: Telemetry | None, model: ContextModel | None, row: ManifestRow | None
            ) -> dict[str, Any] | None:
    if model is None:
        return None
    if row is not None and row.permit:
        return model.permits.get(row.permit)
    if tel is None:
        return None
    ok = np.flatnonzero(np.isfinite(tel.lat) & np.isfinite(tel.lon))
    cls = model.aircraft_class(flight.aircraft_id)
    return model.permit_at(float(tel.lat[ok[0]]), float(tel.lon[ok[0]]), cls.id if cls else None) if ok.size else None


def row_path(manifest: Any) -> str:
    return manifest.path if isinstance(manifest, Manifest) else "manifest"


def _manifest_entry(row: ManifestRow, name: str, inferred: dict[str, Any] | None) -> dict[str, Any]:
    e = entry("manifest", getattr(row, name), "the operator's manifest overrides inference", f"manifest line {row.line}")
    if inferred is not None and inferred.get("value") not in (None, getattr(row, name)):
        e["inferred"] = {"value": inferred["value"], "evidence": inferred.get("evidence")}
    return e


def _inference(flight: Flight, tel: Telemetry | None, identity: str | None, model: ContextModel | None,
               row: ManifestRow | None) -> Inference:
    if model is None or tel is None or len(tel) == 0:
        why = "no scenario given" if model is None else "no track"
        none = entry("unknown", None, "inference needs a scenario and a track", why)
        return Inference(dict(none), dict(none, value="unknown"), dict(none, value=identity))
    from datetime import date

    day = date.fromisoformat(row.date) if row and row.date else None
    return infer(tel, identity, flight.start_utc, model, day, row.aircraft_id if row else None)


def _measure(tel: Telemetry | None, inf: Inference, model: ContextModel | None, row: ManifestRow | None,
             aircraft_id: str | None, rules: Rules) -> Any:
    if tel is None or len(tel) == 0:
        return None
    if row is not None and row.plan:
        cls = model.aircraft_class(aircraft_id) if model is not None else None
        paths = planned("file", model.scenario if model else None, model.terrain if model else None, path=row.plan,
                        aircraft_id=cls.id if cls else None)
        return measure(tel, paths[0], rules) if paths else None
    return inf.measure


# -- manifests: read for an import or a correction, and corrections of stored flights ----------------------------
def load_manifest(path: str | Path, scenario: Any = None, logs: Iterable[tuple[str, str | None]] | None = None
                  ) -> Manifest:
    """Read and check a manifest against a scenario (sites, permits) and the given logs; plans are read too."""
    from uavsim.scenario import Scenario

    sc = scenario if isinstance(scenario, Scenario) or scenario is None else Scenario.load(scenario)
    model = ContextModel.load(sc) if sc is not None else None
    return read_manifest(path, sites=list(sc.sites) if sc is not None else None,
                         permits=list(model.permits) if model is not None else None, logs=logs,
                         check_plan=lambda p: planned("file", sc, None, path=p))


@dataclass
class AnnotateResult:
    manifest: str
    sha256: str
    new_manifest: bool
    flights: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "sha256": self.sha256, "new_manifest": self.new_manifest,
                "flights": self.flights, "changed": self.changed}


def annotate(store: Any, manifest: Manifest, model: ContextModel | None, who: str,
             skip_files: Iterable[str] = ()) -> AnnotateResult:
    """Correct the stored flights of each manifest row from their stored tracks (no log is read again); every
    changed field is kept in the store with who and when. The same manifest twice changes nothing. Files in
    ``skip_files`` (sha256) were just imported with this manifest: nothing to correct."""
    new = store.add_manifest(manifest.sha256, manifest.path, manifest.to_rows(), who)
    res = AnnotateResult(manifest.path, manifest.sha256, new)
    if not new:
        return res
    skip = set(skip_files)
    files = [f for f in store.files() if f["status"] == "imported" and f["sha256"] not in skip]
    for row in manifest.rows:
        for f in files:
            if not row.matches(f["sha256"], Path(f["path"]).name):
                continue
            for flight in store.flights(file_sha256=f["sha256"], with_telemetry=True, reviewed=False):
                res.flights += 1
                before = _snapshot(flight)
                apply_context(flight, flight.telemetry, model, row)
                changes = [(k, before[k], v) for k, v in _snapshot(flight).items() if before[k] != v]
                if changes:
                    store.correct_context(flight, changes, who, manifest.sha256, f"manifest {Path(manifest.path).name}"
                                                                                f" line {row.line}")
                    res.changed.append({"flight": flight.id, "fields": [c[0] for c in changes]})
    return res


def _snapshot(f: Flight) -> dict[str, Any]:
    import json

    conf = {k: round(v, 1) if isinstance(v, float) else v for k, v in (f.conformance or {}).items()}
    return {"site": f.site, "mission_type": f.mission_type, "aircraft_id": f.aircraft_id, "pilot": f.pilot,
            "conformance": json.loads(json.dumps(conf)) if f.conformance else None, "severity": f.severity,
            "outcome": f.outcome,
            "context_how": {k: v.get("how") for k, v in f.context.items() if isinstance(v, dict) and "how" in v}}


def manifest_for_logs(path: str | Path, log_paths: Iterable[str | Path], scenario: Any = None) -> Manifest:
    """The manifest of an import, checked whole against the scenario and the log files given (by name and sha256)
    before anything is imported."""
    from uavsim.logs.files import find_logs, sha256_of

    logs = [(str(p), sha256_of(p)) for p in find_logs(log_paths) if p.is_file()]
    return load_manifest(path, scenario, logs)


def manifest_for_store(path: str | Path, store: Any, scenario: Any = None) -> Manifest:
    """The manifest of a correction, checked whole against the scenario and the files already in the store."""
    logs = [(Path(f["path"]).name, f["sha256"]) for f in store.files() if f["status"] == "imported"]
    return load_manifest(path, scenario, logs)


def record_manifest(store: Any, manifest: Manifest, scenario: Any, who: str | None,
                    just_imported: Iterable[str] = (), dem: str | None = None) -> AnnotateResult:
    """Store the sheet and correct the flights of files already in the store (the files just imported got the
    manifest on the way in); plans are made over ``dem`` (as ``--dem`` names it; default: the default DEM)."""
    from uavsim.terrain import open_dem

    model = ContextModel.load(scenario, open_dem(dem) if dem else None) if scenario is not None else None
    return annotate(store, manifest, model, who or _login(), skip_files=just_imported)


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container, a service)
        return "unknown"
