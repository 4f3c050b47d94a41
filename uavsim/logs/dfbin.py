"""Column extraction from DataFlash logs, one table per message type: {column: array, "_ofs": order key}.

Binary logs: pymavlink's DFReader parses the FMT messages and builds the per-type offset index (its C
indexer); uavsim then decodes only the wanted types, all messages of a type at once, with one numpy
structured view per type instead of one Python object per message. Values are scaled as pymavlink scales
them (format chars c/C/e/E: x 0.01, L: x 1e-7). Text logs go through pymavlink's own message parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from pymavlink import DFReader

Table = dict[str, np.ndarray]

_NP = {"b": "i1", "B": "u1", "h": "<i2", "H": "<u2", "i": "<i4", "I": "<u4", "f": "<f4", "d": "<f8",
       "q": "<i8", "Q": "<u8", "e": "<f2", "s": "S"}
_STRUCT = re.compile(r"(\d*)([a-zA-Z])")
_CHUNK = 65536  # rows decoded per gather


def _dtype(fmt: DFReader.DFFormat) -> np.dtype | None:
    """The numpy record type of one message body, or None when the FMT is inconsistent."""
    parts = _STRUCT.findall(fmt.msg_struct.lstrip("<"))
    names = list(fmt.columns) + [f"_col{i}" for i in range(len(fmt.columns), len(parts))]
    if len(names) != len(parts) or len(set(names)) != len(names):
        return None
    fields = []
    for (count, ch), name in zip(parts, names, strict=True):
        if ch not in _NP:
            return None
        fields.append((name, f"S{count or 1}" if ch == "s" else _NP[ch]))
    dt = np.dtype(fields)
    return dt if dt.itemsize == fmt.len - 3 else None


def _decode_text(v: np.ndarray) -> np.ndarray:
    out = np.empty(len(v), dtype=object)
    for i, b in enumerate(v):
        out[i] = b.split(b"\x00", 1)[0].decode("utf-8", "replace")
    return out


def binary_tables(reader: DFReader.DFReader_binary, names: Iterable[str]) -> tuple[dict[str, Table], int]:
    """Tables of the wanted message types, and how many messages were cut off by the end of the file."""
    data = np.frombuffer(reader.data_map, dtype=np.uint8)
    out: dict[str, Table] = {}
    cut = 0
    for name in names:
        mid = reader.name_to_id.get(name)
        if mid is None or mid not in reader.formats:
            continue
        fmt = reader.formats[mid]
        offs = np.asarray(reader.offsets.get(mid, []) if isinstance(reader.offsets, dict) else reader.offsets[mid],
                          dtype=np.int64)
        dt = _dtype(fmt)
        if dt is None or offs.size == 0:
            continue
        whole = offs + fmt.len <= data.size
        cut += int((~whole).sum())
        offs = offs[whole]
        rec = np.empty(offs.size, dtype=dt)
        cols = np.arange(dt.itemsize)
        for a in range(0, offs.size, _CHUNK):  # bounded index matrices on long logs
            body = data[(offs[a:a + _CHUNK] + 3)[:, None] + cols]
            rec[a:a + _CHUNK] = np.ascontiguousarray(body).view(dt).reshape(-1)
        table: Table = {"_ofs": offs}
        for i, col in enumerate(fmt.columns):
            v = rec[col]
            if v.dtype.kind == "S":
                table[col] = _decode_text(v)
                continue
            v = v.astype(np.float64)
            mult = fmt.msg_mults[i] if i < len(fmt.msg_mults) else None
            if mult is not None and 0.0 < mult < 1.0:
                v = v / (1.0 / mult)  # as pymavlink: dividing by 100 or 1e7 is the more exact
            elif mult is not None:
                v = v * mult
            table[col] = v
        out[name] = table
    return out, cut


def text_tables(reader: DFReader.DFReader_text, names: Iterable[str], on_error) -> dict[str, Table]:
    """Tables through pymavlink's text parser; ``on_error(exc)`` returns False to stop reading."""
    wanted = [n for n in names if n in reader.formats]
    rows: dict[str, list[list[object]]] = {n: [] for n in wanted}
    n = 0
    while True:
        try:
            m = reader.recv_match(type=wanted, strict=True)
        except Exception as exc:  # noqa: BLE001 - pymavlink raises anything on a damaged file
            if on_error(exc):
                continue
            break
        if m is None:
            break
        n += 1
        rows[m.get_type()].append([_value(m, i, c) for i, c in enumerate(m.fmt.columns)] + [n])
    out: dict[str, Table] = {}
    for name, rs in rows.items():
        if not rs:
            continue
        cols = reader.formats[name].columns
        table: Table = {"_ofs": np.array([r[-1] for r in rs], dtype=np.int64)}
        for i, col in enumerate(cols):
            vals = [r[i] for r in rs]
            try:
                table[col] = np.array([np.nan if v is None else float(v) for v in vals])
            except (TypeError, ValueError):
                table[col] = np.array(["" if v is None else str(v) for v in vals], dtype=object)
        out[name] = table
    return out


def _value(m: DFReader.DFMessage, i: int, col: str) -> object:
    try:
        return getattr(m, col)
    except (ValueError, TypeError, AttributeError):
        raw = m._elements[i] if i < len(m._elements) else None  # e.g. a mode logged by name in old text logs
        return raw.strip() if isinstance(raw, str) else raw
