"""Reading log files in worker processes, so that one file's fault stays that file's.

The parent hands each worker one file at a time and knows which file every worker holds. A worker that
dies (the OOM killer, a crash in a C reader) costs only that file ("worker died while reading: ...") and
is replaced; a file that takes longer than the time ceiling is stopped the same way. Inside the worker,
reading one file may add at most the memory ceiling to its address space (RLIMIT_AS), so a damaged file
that asks for terabytes fails with MemoryError instead of taking the machine down. Workers end with
their parent (PR_SET_PDEATHSIG, and a parent-alive check while idle), and their fds 1 and 2 go to
/dev/null: third-party readers print to them past any Python-level capture.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing as mp
import os
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_IDLE_POLL_S = 1.0  # how often an idle worker checks that its parent is still there
_MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per-file ceilings: address space a worker may add while reading one file, and wall time."""

    memory_mib: float
    seconds: float


@dataclass(frozen=True)
class Failure:
    """What a worker sends when the job itself raised: what happened, and why."""

    what: str
    why: str


@dataclass(frozen=True)
class Job:
    index: int
    path: str
    sha256: str


def start_method() -> str:
    """'fork' (workers inherit everything loaded) unless this process runs other threads (a web server):
    forking those is unsafe, so workers then come from a fork server."""
    return "fork" if threading.active_count() == 1 else "forkserver"


def _parent_alive(parent_pid: int) -> bool:
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent(parent_pid: int) -> None:
    """SIGKILL this worker when the process that started it ends (a forked one: the importer itself)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if not _parent_alive(parent_pid):  # the parent died before the call above
        os._exit(1)


def _silence_output() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _address_space() -> int:
    """Bytes of address space this process holds now (VmSize)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def memory_ceiling(extra_bytes: int):
    """RLIMIT_AS at what the process holds now plus ``extra_bytes`` for the duration of the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = _address_space() + int(extra_bytes)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft != resource.RLIM_INFINITY:
        want = min(want, soft)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _worker_main(conn: Connection, parent_pid: int, setup: Callable[[], Any],
                 work: Callable[[Job, Any], Any], limits: Limits) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _silence_output()
    ctx = setup()
    while True:
        if not conn.poll(_IDLE_POLL_S):
            if not _parent_alive(parent_pid):
                return
            continue
        job = conn.recv()
        if job is None:
            return
        try:
            size = os.stat(job.path).st_size  # pymavlink maps the whole file: that is not the file's fault
        except OSError:
            size = 0
        try:
            with memory_ceiling(int(limits.memory_mib * _MIB) + size):
                result = work(job, ctx)
        except MemoryError:
            result = Failure("needs more memory than the per-file ceiling",
                             f"{limits.memory_mib:g} MiB; raise it with --max-file-memory")
        except Exception as exc:  # noqa: BLE001 - the job's own failure, reported as that job's
            result = Failure("internal error while reading", f"{type(exc).__name__}: {exc}")
        conn.send(result)


class _Worker:
    def __init__(self, mpctx: Any, setup: Callable[[], Any], work: Callable[[Job, Any], Any], limits: Limits) -> None:
        self.conn, child = mpctx.Pipe()
        self.proc = mpctx.Process(target=_worker_main, args=(child, os.getpid(), setup, work, limits), daemon=True)
        gc.freeze()  # a forked worker's collector then leaves the inherited objects (and their pages) alone
        try:
            self.proc.start()
        finally:
            gc.unfreeze()
        child.close()
        self.job: Job | None = None
        self.started = 0.0

    def give(self, job: Job) -> bool:
        """Hand over one file; False when the worker is gone."""
        try:
            self.conn.send(job)
        except OSError:
            return False
        self.job, self.started = job, time.monotonic()
        return True

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _death(proc: Any) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _hand_out(pool: list[_Worker], pending: deque[Job]) -> None:
    """Give each idle worker the next job; one that died while idle (killed from outside) is dropped, and the
    job goes to another."""
    for w in list(pool):
        if w.job is not None or not pending:
            continue
        if w.give(pending[0]):
            pending.popleft()
        else:
            w.stop()
            pool.remove(w)


def _collect(w: _Worker, pending: deque[Job], failed: Callable[[Job, str, str], Any],
             done: Callable[[Job, Any], None], limits: Limits) -> bool:
    """Take a busy worker's result if it has one (and give it the next job); True when the worker died or
    overran its time and must be replaced (its job is then done as failed)."""
    what = None
    try:
        if w.conn.poll():
            result = w.conn.recv()
            job, w.job = w.job, None
            if pending and w.give(pending[0]):  # the next file is read while this one is stored
                pending.popleft()
            done(job, failed(job, result.what, result.why) if isinstance(result, Failure) else result)
            return False
    except (EOFError, OSError):
        what = "worker died while reading"
    if what is None and not w.proc.is_alive():
        what = "worker died while reading"
    elif what is None and time.monotonic() - w.started > limits.seconds:
        what = "stopped reading"
    if what is None:
        return False
    w.stop()
    why = _death(w.proc) if what.startswith("worker died") else f"past the per-file time ceiling of {limits.seconds:g} s"
    done(w.job, failed(w.job, what, why))
    return True


def run_jobs(jobs: Iterable[Job], workers: int, setup: Callable[[], Any], work: Callable[[Job, Any], Any],
             failed: Callable[[Job, str, str], Any], done: Callable[[Job, Any], None], limits: Limits,
             method: str = "fork") -> None:
    """Run ``work(job, setup())`` for every job in ``workers`` processes; ``done(job, result)`` for each,
    in completion order. A worker that dies or overruns ``limits.seconds`` gives ``done(job, failed(job,
    what, why))`` and is replaced; the other jobs go on. ``method`` is the multiprocessing start method."""
    pending = deque(jobs)
    mpctx = mp.get_context(method)  # ``setup`` and ``work`` must pickle unless it is 'fork'
    pool: list[_Worker] = []
    try:
        while pending or any(w.job for w in pool):
            while pending and len(pool) < workers:
                pool.append(_Worker(mpctx, setup, work, limits))
            _hand_out(pool, pending)
            busy = [w for w in pool if w.job is not None]
            if not busy:
                continue
            timeout = max(0.05, min(limits.seconds - (time.monotonic() - w.started) for w in busy))
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=min(timeout, 1.0))
            for w in busy:
                if _collect(w, pending, failed, done, limits):
                    pool.remove(w)
    finally:
        for w in pool:
            with contextlib.suppress(Exception):
                w.conn.send(None)
        for w in pool:
            w.proc.join(2)
            w.stop()
