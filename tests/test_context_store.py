"""Store migration from version 1 (issue 14): a store written before keeps its flights and gains pilot/context columns."""

from __future__ import annotations

import sqlite3

from uavsim.records import Flight
from uavsim.store import _MIGRATIONS, SCHEMA_VERSION, Store


def test_a_version_1_store_migrates_and_keeps_its_flights(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(_MIGRATIONS[0])
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute("INSERT INTO runs VALUES ('r', '', 1, '2026-01-01T00:00:00Z', '{}')")
    conn.execute("INSERT INTO flights (id, source, source_ref, mission_type, outcome, severity, run_id, extra) "
                 "VALUES ('f1', 'sim', 'r:0', 'spray', 'safe', 'none', 'r', '{}')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.schema_version == SCHEMA_VERSION == len(_MIGRATIONS)  # every step since, applied
        (f,) = store.flights()
        assert (f.id, f.mission_type, f.pilot, f.context, f.conformance) == ("f1", "spray", None, {}, None)
        g = Flight(id="f2", source="sim", source_ref="r:1", pilot="Lò Thị Mai",
                   context={"pilot": {"how": "manifest", "value": "Lò Thị Mai"}},
                   conformance={"plan": "route:x", "cross_track_p95_m": 1.5})
        store.add_run("r2", [g])
        back = {x.id: x for x in store.flights()}["f2"]
        assert back.pilot == "Lò Thị Mai"
        assert back.context == g.context and back.conformance == g.conformance
