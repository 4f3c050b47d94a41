"""The store under load (issue 10): concurrent creation, concurrent imports of the same flights, read-only
stores, one-line errors, and kill -9 at random moments during an import."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from uavsim.errors import StoreError
from uavsim.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TLOG = DATA / "vehicle_gcs_camera.tlog"
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _create(path: str, barrier, out) -> None:
    barrier.wait()
    try:
        with Store(path) as s:
            out.put(("ok", s.schema_version, s.count()))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(("error", repr(exc), 0))


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path):
    ctx = mp.get_context("fork")
    for run in range(3):
        db = str(tmp_path / f"new{run}.db")
        barrier, out = ctx.Barrier(6), ctx.Queue()
        procs = [ctx.Process(target=_create, args=(db, barrier, out)) for _ in range(6)]
        for p in procs:
            p.start()
        got = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join()
        assert got == [("ok", SCHEMA_VERSION, 0)] * 6
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert con.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


_INGEST_ON_GO = """
import os, sys, time
from uavsim.logs.batch import ingest
from uavsim.store import Store
db, path, go = sys.argv[1:4]
while not os.path.exists(go):  # both processes loaded: start together
    time.sleep(0.002)
with Store(db) as store:
    ingest([path], store)
"""


def test_concurrent_ingests_of_the_same_flights_never_double_count(tmp_path):
    """Two records of the same two flights (different bytes), imported by two processes at once."""
    other = tmp_path / "copy.tlog"
    other.write_bytes(TLOG.read_bytes() + b"\x00" * 5)
    for run in range(5):
        db, go = tmp_path / f"s{run}.db", tmp_path / f"go{run}"
        procs = [subprocess.Popen([PY, "-c", _INGEST_ON_GO, str(db), str(p), str(go)], env=ENV,
                                  stderr=subprocess.PIPE) for p in (TLOG, other)]
        time.sleep(1.0)
        go.touch()
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()[-2000:]
        with Store(db) as s:
            flights = s.flights()
        assert len(flights) == 4
        assert sum("same_flight_as" not in f.extra for f in flights) == 2, run  # each flight counted once


def _as_nobody(*args: str) -> subprocess.CompletedProcess:
    cmd = [PY, "-c", "from uavsim.cli.main import main; main()", *args]
    if os.geteuid() == 0:  # root may write anything: run the user's command as an ordinary user
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run as an unprivileged user")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**ENV, "HOME": "/tmp"}, cwd="/")


@pytest.fixture
def readonly_store():
    # Not under pytest's tmp_path: its root is kept private (0700) by every pytest session on the machine.
    top = Path(tempfile.mkdtemp(prefix="uavsim-ro-"))
    os.chmod(top, 0o755)
    folder = top / "ro"
    folder.mkdir()
    db = folder / "s.db"
    with Store(db) as s:
        from uavsim.logs.ingest import ingest

        ingest([TLOG], s)
    with sqlite3.connect(db) as con:  # leave no -wal/-shm behind, as a copied store
        con.execute("PRAGMA journal_mode = DELETE")
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    probe = _as_nobody("--help")
    if probe.returncode != 0:
        pytest.skip(f"cannot run uavsim as an unprivileged user here: {probe.stderr[-300:]}")
    yield db
    os.chmod(folder, 0o755)
    os.chmod(db, 0o644)
    shutil.rmtree(top)


def test_a_read_only_store_can_be_read(readonly_store):
    res = _as_nobody("flights", "--db", str(readonly_store), "--json")
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)["flights"]) == 2
    stats = _as_nobody("stats", "--db", str(readonly_store))
    assert "not a uavsim store" not in stats.stderr + stats.stdout
    assert stats.returncode == 0, stats.stderr


def test_ingest_into_a_store_that_cannot_be_written_is_one_line_before_any_parse(readonly_store):
    res = _as_nobody("ingest", str(TLOG), str(DATA / "ac30_gps_noweek.log"), "--db", str(readonly_store),
                     "--no-terrain")
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr == f"Error: {readonly_store}: cannot write to this store (the file is read-only)\n"


def test_report_into_a_read_only_folder_is_one_line(readonly_store):
    res = _as_nobody("report", "--db", str(readonly_store), "--out", str(readonly_store.parent / "rep"),
                     "--format", "html")
    assert res.returncode == 1
    assert res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "rep" in res.stderr


def test_store_errors_name_the_cause(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StoreError, match="not a uavsim store"):
        Store(bad)
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="cannot write to this store .no folder"):
        Store(tmp_path / "missing" / "s.db")


def test_a_newline_in_a_file_name_is_shown_escaped(tmp_path):
    odd = tmp_path / "day1\nflight.tlog"
    shutil.copy(TLOG, odd)
    res = subprocess.run([PY, "-c", "from uavsim.cli.main import main; main()", "ingest", str(odd), "--db",
                          str(tmp_path / "s.db"), "--no-terrain"], capture_output=True, text=True, env=ENV, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if not line.startswith("DEM ")]  # main names the DEM first
    assert len(lines) == 2
    assert lines[0] == f"imported   {tmp_path}/day1\\nflight.tlog (2 flights, 1 unsafe)"


def _dump(db: Path) -> dict:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(q).fetchall() for t, q in (
            ("files", "SELECT sha256, path, status, error, n_flights, corruption FROM files ORDER BY sha256"),
            ("flights", "SELECT * FROM flights ORDER BY id"),
            ("events", "SELECT * FROM events ORDER BY flight_id, seq"),
            ("telemetry", "SELECT * FROM telemetry ORDER BY flight_id"))}
    finally:
        con.close()


def test_kill_9_at_random_moments_then_rerun_gives_the_same_store(tmp_path):
    """12 kills of `uavsim ingest --workers 2` at random moments, each followed by nothing but a re-run."""
    folder = tmp_path / "logs"
    folder.mkdir()
    big = ROOT.parent / "shared" / "data" / "logs" / "dronekit-dronekit-python" / "flight.tlog"
    sources = [TLOG, DATA / "two_vehicles.tlog", DATA / "ac30_gps_noweek.log"] + ([big] if big.exists() else [])
    for i in range(5):  # an import phase long enough for kills to land inside it
        for src in sources:
            (folder / f"{i}_{src.name}").write_bytes(src.read_bytes() + bytes(i))
    args = [PY, "-c", "from uavsim.cli.main import main; main()", "ingest", str(folder), "--no-terrain",
            "--workers", "2", "--db"]
    ref = tmp_path / "ref.db"
    t0 = time.perf_counter()
    assert subprocess.run([*args, str(ref)], env=ENV, capture_output=True, timeout=300).returncode == 0
    whole = time.perf_counter() - t0  # kill times are drawn over the run's length, whatever the machine's load
    n_files = len(_dump(ref)["files"])
    db = tmp_path / "killed.db"
    rng = np.random.default_rng(20260701)
    stored = []
    for _ in range(12):
        p = subprocess.Popen([*args, str(db)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        time.sleep(float(rng.uniform(0.35, 0.95)) * whole)
        os.killpg(p.pid, signal.SIGKILL)  # the command and its workers, as a power cut
        p.wait()
        if db.exists():
            with sqlite3.connect(db) as con:
                assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                stored.append(con.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        if db.exists() and stored[-1] == n_files:  # all in: start again, so that later kills land mid-import
            for extra in ("", "-wal", "-shm"):
                Path(f"{db}{extra}").unlink(missing_ok=True)
    assert any(0 < n < n_files for n in stored), stored  # some kills landed in the middle of the import
    assert subprocess.run([*args, str(db)], env=ENV, capture_output=True, timeout=300).returncode == 0
    assert _dump(db) == _dump(ref)


def test_migration_steps_apply_once_by_name(tmp_path, monkeypatch):
    """Steps are recorded by name, so that steps two branches add side by side merge by appending."""
    import uavsim.store as store_mod

    db = tmp_path / "s.db"
    with Store(db) as s:
        assert s.schema_version == SCHEMA_VERSION
    calls = []
    extra = ("test-extra-table", lambda con: (calls.append(1), con.execute("CREATE TABLE extra (x INTEGER)")))
    monkeypatch.setattr(store_mod, "_MIGRATIONS", store_mod._MIGRATIONS + (extra,))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):
        with Store(db) as s:
            assert s.schema_version == SCHEMA_VERSION + 1
    assert calls == [1]
    with sqlite3.connect(db) as con:
        names = [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
    assert names[-1] == "test-extra-table" and len(names) == SCHEMA_VERSION + 1
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer uavsim .schema steps test-extra-table unknown here"):
        Store(db)
