"""Which reader a file needs, from what is in it (extensions lie), and reading it into a RawLog.

The format is recognised by scanning the first SNIFF_BYTES for records, as pymavlink's and pyulog's
readers find them: a ULog header, DataFlash messages (A3 95 framing with FMT entries), DataFlash text
lines, or (time stamp, MAVLink frame) records whose CRC holds. A ground station's .tlog whose first bytes
are something else is still a .tlog.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymavlink.dialects.v10 import ardupilotmega as mav

from uavsim.errors import LogFormatError
from uavsim.logs import framing
from uavsim.logs.raw import RawLog

SNIFF_BYTES = 1 << 20  # records are looked for in the first MiB
QUICK_SNIFF_BYTES = 16384  # ... and first in the first 16 KiB, which settles nearly every file
MIN_RECORDS = 3  # this many records of one kind make the format (a single frame is found in noise)
ULOG_MAGIC = b"ULog\x01\x12\x35"
_CRC_EXTRA = framing.crc_extras(mav.mavlink_map)


def sniff(path: str | Path) -> str:
    """The log format from the file's content: ulog, dataflash-bin, dataflash-text or tlog."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise LogFormatError(path, "empty file")
    if head.startswith(ULOG_MAGIC):  # pyulog reads the header at the start only
        return "ulog"
    if b"FMT, " in head or b"FMT," in head[:200]:
        return "dataflash-text"
    for size in (QUICK_SNIFF_BYTES, SNIFF_BYTES):  # most logs say what they are in their first records
        data = np.frombuffer(head[:size], dtype=np.uint8)
        df = framing.scan_dataflash(data)
        n_df = int(df.offsets.size) if (df.types == framing.DF_FMT_TYPE).any() else 0
        n_tlog = int(framing.scan_tlog(data, _CRC_EXTRA).offsets.size)
        if max(n_df, n_tlog) >= MIN_RECORDS or (size >= len(head) and max(n_df, n_tlog) > 0):
            return "dataflash-bin" if n_df >= n_tlog else "tlog"
        if size >= len(head):
            break
    raise LogFormatError(path, "not a recognised flight log (no MAVLink .tlog frames, DataFlash .bin/.log "
                               "messages or PX4 .ulg header in its first MiB)")


def read_log(path: str | Path) -> RawLog:
    """Read any supported log into a RawLog; raises LogFormatError when nothing usable is in it."""
    kind = sniff(path)
    p = str(path)
    try:
        if kind == "ulog":
            from uavsim.logs.ulog import read_ulog
            raw = read_ulog(p)
        elif kind == "tlog":
            from uavsim.logs.tlog import read_tlog
            raw = read_tlog(p)
        else:
            from uavsim.logs.dataflash import read_dataflash
            raw = read_dataflash(p, text=kind == "dataflash-text")
    except (LogFormatError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on damaged input
        raise LogFormatError(path, f"cannot parse {kind} log ({type(exc).__name__}: {exc})") from exc
    if raw.messages_read == 0:
        raise LogFormatError(path, f"no readable flight data in this {kind} log")
    return raw


def warm_readers() -> None:
    """Import every reader and load the framing kernels now (workers forked after this start warm)."""
    import uavsim.logs.dataflash
    import uavsim.logs.tlog
    import uavsim.logs.ulog  # noqa: F401

    empty = np.zeros(0, dtype=np.uint8)
    framing.scan_dataflash(empty)
    framing.scan_tlog(empty, _CRC_EXTRA)
