"""Finding the records of a damaged log: DataFlash messages and .tlog MAVLink frames, with the damage counted.

Both scanners walk the file as pymavlink's indexers do (a record where a header and a known length say
so, else one byte on), and add what a tolerant reader needs: a DataFlash message counts only when the
next header (or the end of the file) follows it, a MAVLink frame only when its CRC holds, and every byte
between records is counted. Each scanner runs twice, once to count and once to fill arrays of exactly that
size, so no allocation is larger than what the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uavsim._jit import njit

DF_HEAD = (0xA3, 0x95)
DF_FMT_TYPE = 0x80
DF_FMT_LEN = 89  # FMT: header(3) Type(B) Length(B) Name(4s) Format(16s) Columns(64s)
TLOG_STAMP = 8  # each .tlog record starts with an 8-byte receive time
MAVLINK_IDS = 1 << 16  # message ids past this are not in the dialect


@dataclass
class Scan:
    """Records found: file offset and type of each (in file order), plus what lay between them."""

    offsets: np.ndarray
    types: np.ndarray
    skipped_bytes: int
    bad_records: int  # runs of skipped bytes (each a place where the reader lost and found the framing)
    cut_records: int  # a record cut off by the end of the file
    bad_crc: int = 0
    unknown: int = 0

    def by_type(self) -> dict[int, np.ndarray]:
        order = np.argsort(self.types, kind="stable")
        types, offsets = self.types[order], self.offsets[order]
        cuts = np.flatnonzero(np.diff(types)) + 1
        return {int(t[0]): o for t, o in zip(np.split(types, cuts), np.split(offsets, cuts), strict=True) if t.size}


@njit
def _df_scan(data: np.ndarray, fill: bool, out_ofs: np.ndarray, out_type: np.ndarray) -> tuple[int, int, int, int]:
    lengths = np.zeros(256, dtype=np.int64)
    lengths[DF_FMT_TYPE] = DF_FMT_LEN
    n, i, count, skipped, runs, cut, in_gap = data.size, 0, 0, 0, 0, 0, False
    while i + 3 <= n:
        if data[i] == 0xA3 and data[i + 1] == 0x95:
            t = data[i + 2]
            length = lengths[t]
            if length >= 3 and i + length > n:
                cut += 1
                break
            nxt = i + length
            # A message counts when it follows one (the framing holds) or the next header follows it.
            chained = (not in_gap and count > 0) or nxt >= n or \
                (data[nxt] == 0xA3 and (nxt + 1 >= n or data[nxt + 1] == 0x95))
            if length >= 3 and chained:
                if t == DF_FMT_TYPE and data[i + 4] >= 3:
                    lengths[data[i + 3]] = data[i + 4]
                if fill:
                    out_ofs[count] = i
                    out_type[count] = t
                count += 1
                i = nxt
                in_gap = False
                continue
        skipped += 1
        if not in_gap:
            runs += 1
            in_gap = True
        i += 1
    skipped += n - i if i < n and cut == 0 else 0
    return count, skipped, runs, cut


def scan_dataflash(data: np.ndarray) -> Scan:
    """DataFlash binary messages (FMT lengths learnt as they come), as pymavlink's indexer finds them."""
    count, skipped, runs, cut = _df_scan(data, False, np.zeros(0, np.int64), np.zeros(0, np.uint8))
    ofs, types = np.empty(count, np.int64), np.empty(count, np.uint8)
    _df_scan(data, True, ofs, types)
    return Scan(ofs, types, int(skipped), int(runs), int(cut))


@njit
def _x25_ok(data: np.ndarray, start: int, n: int, extra: int, crc_at: int) -> bool:
    crc = 0xFFFF
    for k in range(n + 1):
        b = data[start + k] if k < n else extra
        tmp = (b ^ (crc & 0xFF)) & 0xFF
        tmp = (tmp ^ (tmp << 4)) & 0xFF
        crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xFFFF
    return crc == (data[crc_at] | (data[crc_at + 1] << 8))


@njit
def _tlog_scan(data: np.ndarray, extra: np.ndarray, fill: bool, out_ofs: np.ndarray,
               out_type: np.ndarray) -> tuple[int, int, int, int, int, int]:
    n, i, count, skipped, runs, cut, bad_crc, unknown, in_gap = data.size, 0, 0, 0, 0, 0, 0, 0, False
    while i + TLOG_STAMP + 8 <= n:
        m = data[i + TLOG_STAMP]
        if m == 0xFE or m == 0xFD:
            v2 = m == 0xFD
            plen = np.int64(data[i + TLOG_STAMP + 1])
            hdr = 10 if v2 else 6
            if i + TLOG_STAMP + hdr > n:
                cut += 1
                break
            if v2:
                mid = np.int64(data[i + 15]) | (np.int64(data[i + 16]) << 8) | (np.int64(data[i + 17]) << 16)
                sig = 13 if (data[i + 10] & 1) else 0
            else:
                mid, sig = np.int64(data[i + 13]), 0
            end = i + TLOG_STAMP + hdr + plen + 2 + sig
            if end > n:
                cut += 1
                break
            known = mid < MAVLINK_IDS and extra[mid] >= 0
            crc_at = i + TLOG_STAMP + hdr + plen
            if known and _x25_ok(data, i + TLOG_STAMP + 1, hdr - 1 + plen, extra[mid], crc_at):
                if fill:
                    out_ofs[count] = i
                    out_type[count] = mid
                count += 1
                i = end
                in_gap = False
                continue
            # A frame of a type this dialect lacks, or with a bad CRC, is passed over whole when the next
            # record starts right after it (the framing holds), as pymavlink does; else one byte on.
            follows = end == n or (end + TLOG_STAMP < n and (data[end + TLOG_STAMP] == 0xFE or data[end + TLOG_STAMP] == 0xFD))
            if follows:
                if known:
                    bad_crc += 1
                else:
                    unknown += 1
                i = end
                in_gap = False
                continue
        skipped += 1
        if not in_gap:
            runs += 1
            in_gap = True
        i += 1
    skipped += n - i if i < n and cut == 0 else 0
    return count, skipped, runs, cut, bad_crc, unknown


def crc_extras(mavlink_map: dict[int, type]) -> np.ndarray:
    """CRC_EXTRA of each message id of a pymavlink dialect (-1: not in the dialect)."""
    extra = np.full(MAVLINK_IDS, -1, dtype=np.int64)
    for mid, cls in mavlink_map.items():
        if 0 <= mid < MAVLINK_IDS:
            extra[mid] = cls.crc_extra
    return extra


def scan_tlog(data: np.ndarray, extra: np.ndarray) -> Scan:
    """(8-byte time, MAVLink v1/v2 frame) records whose CRC holds; offsets point at the time stamp."""
    head = _tlog_scan(data, extra, False, np.zeros(0, np.int64), np.zeros(0, np.int64))
    ofs, types = np.empty(head[0], np.int64), np.empty(head[0], np.int64)
    count, skipped, runs, cut, bad_crc, unknown = _tlog_scan(data, extra, True, ofs, types)
    return Scan(ofs, types, int(skipped), int(runs), int(cut), int(bad_crc), int(unknown))
