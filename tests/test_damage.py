"""Ingest under damage and hostile input (issue 10): bounded work per file, one file's fault stays that
file's, damage read past and counted in every format, and the third-party readers kept quiet."""

from __future__ import annotations

import importlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from uavsim.logs.batch import ingest, parse_file
from uavsim.logs.dfbin import BinaryLog
from uavsim.logs.workers import Job, Limits, run_jobs
from uavsim.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
LOGS = ROOT.parent / "shared" / "data" / "logs"
TLOG = DATA / "vehicle_gcs_camera.tlog"
TEXT = DATA / "ac30_gps_noweek.log"
BIN = LOGS / "erlerobot-logs" / "pxf_copter_09-10-2014_25.BIN"
NEW_BIN = LOGS / "beastayyg-ardupilot-log-diagnosis" / "log_0036_mechanical_failure.bin"
ULG = LOGS / "px4-pyulog" / "sample_log_small.ulg"
FLIGHT_TLOG = LOGS / "dronekit-dronekit-python" / "flight.tlog"
PY = sys.executable
ingest_mod = importlib.import_module("uavsim.logs.batch")  # the module (the package exports the function)


def _need(*paths: Path) -> None:
    for p in paths:
        if not p.exists():
            pytest.skip(f"{p} not present (shared logs: ../shared/data/logs)")


def _cli(*args: str, limit_kb: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line in a subprocess (optionally under ``ulimit -v``), output captured at the fd level."""
    code = "from uavsim.cli.main import main; main()"
    cmd = [PY, "-c", code, *args]
    if limit_kb:
        cmd = ["bash", "-c", f"ulimit -v {limit_kb} && exec \"$0\" \"$@\"", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _bin_flip_timeus(src: Path, dst: Path) -> None:
    """Flip high bits of TimeUS in a few messages (first, middle, last of ATT and GPS): one damaged time
    stamp must not make a flight last 4.5e9 s."""
    data = bytearray(src.read_bytes())
    log = BinaryLog(str(src))
    for name in ("ATT", "GPS"):
        fmt = log.formats[log.name_to_id[name]]
        ofs = log.offsets[fmt.type]
        for i in (0, len(ofs) // 2, len(ofs) - 1):
            if fmt.columns[0] == "TimeUS":  # uint64 microseconds
                data[int(ofs[i]) + 3 + 4] ^= 0x01  # +4295 s
                data[int(ofs[i]) + 3 + 7] ^= 0x40  # +2^62 us
            else:  # old logs: uint32 TimeMS (GPS: its boot-clock field T), always after the first fields
                k = 3 + struct.calcsize("<" + fmt.msg_struct.lstrip("<")[:fmt.columns.index("T" if name == "GPS" else "TimeMS")])
                data[int(ofs[i]) + k + 3] ^= 0x80  # +2^31 ms
    log.close()
    dst.write_bytes(bytes(data))


@pytest.mark.parametrize("src", [BIN, NEW_BIN], ids=["TimeMS", "TimeUS"])
def test_bit_flipped_timeus_is_bounded_under_a_4_gb_ulimit(tmp_path, src):
    _need(src)
    bad = tmp_path / "flipped.BIN"
    _bin_flip_timeus(src, bad)
    clean = parse_file(str(src))
    res = _cli("ingest", str(bad), str(src), "--db", str(tmp_path / "s.db"), "--no-terrain", "--json",
               "--workers", "2", limit_kb=4_000_000)
    assert res.returncode == 0, res.stderr[-2000:]
    files = json.loads(res.stdout)["files"]
    assert [f["status"] for f in files] == ["imported", "imported"]
    flipped = files[0]
    assert flipped["corruption"]["clock_glitches"] >= 6
    durations = [f["duration_s"] for f in flipped["flights"]]
    assert len(durations) == len(clean.flights)
    for got, want in zip(durations, [f.duration_s for f in clean.flights], strict=True):
        assert abs(got - want) < 5.0  # the real span, not 4.5e9 s
    assert all(f["events"][0]["kind"] == "LOG_CORRUPT" for f in flipped["flights"])


def test_a_garbage_tail_costs_the_tail_for_every_format(tmp_path):
    _need(BIN, ULG, FLIGHT_TLOG)
    rng = np.random.default_rng(7)
    for src in (FLIGHT_TLOG, BIN, ULG, TEXT):
        clean = parse_file(str(src))
        bad = tmp_path / f"tail{src.suffix}"
        bad.write_bytes(src.read_bytes() + rng.integers(0, 256, 256, dtype=np.uint8).tobytes())
        res = parse_file(str(bad))
        assert res.status == "imported", (src.name, res.error)
        assert len(res.flights) == len(clean.flights), src.name
        assert [round(f.duration_s) for f in res.flights] == [round(f.duration_s) for f in clean.flights]
    # the case: flight.tlog (5 flights) with 256 random bytes appended was rejected
    assert len(parse_file(str(FLIGHT_TLOG)).flights) == 5


def test_one_bad_fmt_byte_costs_that_message_type_not_the_file(tmp_path):
    _need(BIN)
    data = bytearray(BIN.read_bytes())
    log = BinaryLog(str(BIN))
    fmt_ofs = log.offsets[0x80]
    # The FMT entry of a type uavsim does not need: its format string gets a char pymavlink rejects.
    victim = next(int(o) for o in fmt_ofs if struct.unpack("<4s", bytes(data[o + 5:o + 9]))[0].rstrip(b"\0") == b"PM")
    data[victim + 9] = ord("!")
    log.close()
    bad = tmp_path / "fmt.BIN"
    bad.write_bytes(bytes(data))
    res, clean = parse_file(str(bad)), parse_file(str(BIN))
    assert res.status == "imported", res.error
    assert res.corruption["bad_fmt"] == 1 and res.corruption["bad_fmt_messages"] > 0
    assert [f.duration_s for f in res.flights] == [f.duration_s for f in clean.flights]


def test_zeroed_block_is_counted_and_read_past(tmp_path):
    _need(BIN)
    data = bytearray(BIN.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = bytes(4096)
    bad = tmp_path / "zero.BIN"
    bad.write_bytes(bytes(data))
    res = parse_file(str(bad))
    assert res.status == "imported"
    assert 4096 <= res.corruption["skipped_bytes"] < 4096 + 600  # the block and the messages it cut
    assert res.corruption["bad_records"] == 1
    assert all(f.events[0].kind == "LOG_CORRUPT" and "skipped_bytes" in f.events[0].detail for f in res.flights)


def test_a_64_mb_zeroed_tail_is_quiet_and_fast(tmp_path):
    """pymavlink's legacy indexer wrote a 'bad header' line per byte to fd 2 (2 GB for this file)."""
    _need(BIN)
    bad = tmp_path / "zerotail.BIN"
    with open(bad, "wb") as fh:
        fh.write(BIN.read_bytes())
        fh.truncate(BIN.stat().st_size + (64 << 20))
    t = time.perf_counter()
    res = _cli("ingest", str(bad), "--db", str(tmp_path / "s.db"), "--no-terrain", "--json")
    assert time.perf_counter() - t < 60
    assert res.returncode == 0
    assert res.stderr == ""
    doc = json.loads(res.stdout)["files"][0]
    assert doc["corruption"]["skipped_bytes"] == 64 << 20


def test_a_tlog_whose_first_records_are_not_frames_is_read(tmp_path):
    _need(FLIGHT_TLOG)
    bad = tmp_path / "gcs.tlog"
    junk = b"QGroundControl telemetry session\r\n" * 300
    bad.write_bytes(junk + FLIGHT_TLOG.read_bytes())
    res = parse_file(str(bad))
    assert res.status == "imported", res.error
    assert len(res.flights) == 5
    assert res.corruption["unindexed_bytes"] == len(junk)


def test_fifo_and_devices_are_skipped_with_a_reason(tmp_path):
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    with Store(tmp_path / "s.db") as store:
        t = time.perf_counter()
        res = ingest([fifo, "/dev/zero", TEXT], store)
        assert time.perf_counter() - t < 30
    assert [r.status for r in res] == ["rejected", "rejected", "imported"]
    assert res[0].error == f"{fifo}: not a regular file (a FIFO), skipped"
    assert res[1].error == "/dev/zero: not a regular file (a character device), skipped"


def _kill_on(victim: str):
    real = ingest_mod.parse_file

    def parse(path, sha256=None, ctx=None):
        if Path(path).name == victim:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer does
        return real(path, sha256, ctx)
    return parse


def test_a_dead_worker_costs_only_its_file(tmp_path, monkeypatch):
    files = []
    for i in range(6):
        p = tmp_path / f"f{i}.tlog"
        p.write_bytes(TLOG.read_bytes() + bytes(i))  # six different files
        files.append(p)
    monkeypatch.setattr(ingest_mod, "parse_file", _kill_on("f2.tlog"))
    monkeypatch.setattr(ingest_mod, "start_method", lambda: "fork")  # forked workers see the patch
    with Store(tmp_path / "s.db") as store:
        res = ingest(files, store, workers=2)
        assert store.file_status(res[2].sha256) == "rejected"
    assert [r.status for r in res] == ["imported", "imported", "rejected", "imported", "imported", "imported"]
    assert res[2].error == f"worker died while reading: {files[2]} (killed by SIGKILL)"


def test_memory_and_time_ceilings_reject_one_file_with_a_reason(tmp_path, monkeypatch):
    real = ingest_mod.parse_file

    def greedy(path, sha256=None, ctx=None):
        name = Path(path).name
        if name == "big.log":
            np.ones(1 << 31)  # 16 GiB
        if name == "slow.log":
            time.sleep(30)
        return real(path, sha256, ctx)

    for name in ("big.log", "slow.log", "ok.log"):
        (tmp_path / name).write_bytes(TEXT.read_bytes() + name.encode())
    monkeypatch.setattr(ingest_mod, "parse_file", greedy)
    monkeypatch.setattr(ingest_mod, "start_method", lambda: "fork")  # forked workers see the patch
    t = time.perf_counter()
    with Store(tmp_path / "s.db") as store:
        res = ingest([tmp_path / n for n in ("big.log", "slow.log", "ok.log")], store, workers=2,
                     memory_mib=512, seconds=3)
    assert time.perf_counter() - t < 25
    assert [r.status for r in res] == ["rejected", "rejected", "imported"]
    assert "needs more memory than the per-file ceiling" in res[0].error
    assert res[1].error == f"stopped reading: {tmp_path / 'slow.log'} (past the per-file time ceiling of 3 s)"


_ORPHAN = """
import os, sys, time
from uavsim.logs.workers import Job, Limits, run_jobs
def work(job, ctx):
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(600)
run_jobs([Job(0, "x", "")], 1, lambda: None, work, lambda j, w, y: None, lambda j, r: None, Limits(512, 900))
"""


def test_workers_end_with_their_parent(tmp_path):
    pid_file = tmp_path / "worker.pid"
    parent = subprocess.Popen([PY, "-c", _ORPHAN, str(pid_file)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    worker = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    for _ in range(50):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{worker}/stat") as fh:  # a zombie (reaped by init soon) has ended too
            if fh.read().split()[2] == "Z":
                break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its parent")


def test_every_job_gets_a_result_in_the_supervisor():
    done: dict[int, object] = {}

    def work(job, ctx):
        if job.index % 3 == 1:
            os._exit(3)
        return job.index * 10

    run_jobs([Job(i, f"p{i}", "") for i in range(9)], 2, lambda: None, work,
             lambda j, what, why: f"{what} ({why})", lambda j, r: done.__setitem__(j.index, r), Limits(512, 60))
    assert done == {i: (i * 10 if i % 3 != 1 else "worker died while reading (exit code 3)") for i in range(9)}


def test_raw_builder_bounds_the_time_span_for_every_reader():
    """Rows a reader timed itself (ULog) with one damaged stamp, and a clock that jumped by days."""
    from uavsim.logs.raw import RawBuilder

    b = RawBuilder("x.ulg", "ulog")
    t = np.arange(0.0, 300.0, 0.2)
    for ti in t:
        b.add("alt", float(ti), 1.0)
    b.add("alt", 4.6e9, 1.0)  # a lone last row far away: dropped
    for ti in t:
        b.add("gps", float(ti), 21.0, 103.0, 500.0, 5.0, 3, 10, 0.8, float("nan"))
    b.add("vibe", 7e9, 1.0, 0.0)  # a stream of one row far from everything: dropped
    rows = b._rows["gps"].rows
    rows[700] = (1e7, *rows[700][1:])  # one damaged stamp inside the stream: dropped
    for ti in t:
        b.add("att", float(ti) + 5e6, 0.0, 0.0, 0.0, 0.0)  # a stretch five million seconds on: gap closed
    b.clock(0.0)
    b.clock(5e6 + 300)
    log = b.finish()
    assert log.corruption["clock_glitches"] == 2
    assert log.corruption["clock_stray_rows"] == 1
    assert log.corruption["clock_gaps_closed"] == 1
    assert log.t_end - log.t_start < 700  # 300 s + 1 s + 300 s, not 5e6 s or 4.6e9 s
    assert len(log.stream("gps")["t"]) == t.size - 1 and len(log.stream("alt")["t"]) == t.size
    assert len(log.stream("vibe")["t"]) == 0
    assert log.stream("att")["t"][0] == pytest.approx(t[-1] + 1.0)


@pytest.mark.parametrize("path", [TEXT, LOGS / "ardupilot-ardupilot" / "mechanical_fail.log",
                                  LOGS / "ardupilot-ardupilot" / "underpowered.log"])
def test_text_log_tables_equal_pymavlinks_text_reader(path):
    """uavsim reads text DataFlash logs from their lines; pymavlink's text reader is the slow twin."""
    _need(path)
    import contextlib
    import io

    from uavsim.logs.dataflash import TYPES, _Text
    from uavsim.logs.dfbin import text_tables, text_tables_fast

    with contextlib.redirect_stdout(io.StringIO()):
        slow = text_tables(_Text(str(path)), TYPES, lambda exc: True)
    fast, _fmts, short = text_tables_fast(path.read_bytes(), TYPES)
    assert short == 0 and sorted(fast) == sorted(slow)
    for name, table in slow.items():
        assert set(fast[name]) == set(table)
        assert len(fast[name]["_ofs"]) == len(table["_ofs"]), name
        assert (np.diff(fast[name]["_ofs"]) > 0).all()  # file order
        for col, want in table.items():
            if col == "_ofs":
                continue
            got = fast[name][col]
            assert got.dtype == want.dtype, f"{name}.{col}"
            if want.dtype == object:
                assert list(got) == list(want), f"{name}.{col}"
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{name}.{col}")


def test_ingest_from_a_threaded_process_uses_a_fork_server(tmp_path):
    """A web server runs threads: its imports start workers from a fork server, not by forking itself."""
    import threading

    from uavsim.logs.workers import start_method

    stop = threading.Event()
    th = threading.Thread(target=stop.wait, daemon=True)
    th.start()
    try:
        assert start_method() == "forkserver"
        other = tmp_path / "copy.tlog"
        other.write_bytes(TLOG.read_bytes() + b"\x00")
        with Store(tmp_path / "s.db") as store:
            res = ingest([TLOG, other, TEXT], store, workers=2)
    finally:
        stop.set()
        th.join()
    assert [r.status for r in res] == ["imported", "imported", "imported"]
    assert [len(r.flights) for r in res] == [2, 2, 1]


def test_a_worker_killed_between_files_is_replaced_and_no_file_is_lost():
    done: dict[int, object] = {}
    pids: list[int] = []

    def work(job, ctx):
        pids.append(os.getpid())
        return (job.index, os.getpid())

    def record(job, res):
        done[job.index] = res
        if job.index == 0:  # the worker has sent its result (and may hold the next file): kill it
            os.kill(res[1], signal.SIGKILL)
            time.sleep(0.2)

    run_jobs([Job(i, f"p{i}", "") for i in range(4)], 1, lambda: None, work, lambda j, w, y: (w, y), record,
             Limits(512, 60))
    assert sorted(done) == [0, 1, 2, 3]
    assert done[0][0] == 0 and done[2][0] == 2 and done[3][0] == 3
    assert done[2][1] != done[0][1]  # a new worker
    assert done[1][0] == 1 or done[1] == ("worker died while reading", "killed by SIGKILL")
