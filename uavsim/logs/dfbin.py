"""Column extraction from DataFlash logs, one table per message type: {column: array, "_ofs": order key}.

Binary logs: pymavlink's DFReader parses the FMT messages and builds the per-type offset index (its C
indexer); uavsim then decodes only the wanted types, all messages of a type at once, with one numpy
structured view per type instead of one Python object per message. Values are scaled as pymavlink scales
them (format chars c/C/e/E: x 0.01, L: x 1e-7). Text logs go through pymavlink's own message parser.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import re
import struct
from collections.abc import Iterable

import numpy as np
from pymavlink import DFReader

from uavsim.logs import framing

Table = dict[str, np.ndarray]

_NP = {"b": "i1", "B": "u1", "h": "<i2", "H": "<u2", "i": "<i4", "I": "<u4", "f": "<f4", "d": "<f8",
       "q": "<i8", "Q": "<u8", "e": "<f2", "s": "S"}
_STRUCT = re.compile(r"(\d*)([a-zA-Z])")
_CHUNK = 65536  # rows decoded per gather
_NAME = re.compile(r"[A-Za-z0-9_]{1,4}")  # a message name as ArduPilot writes them


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


def binary_tables(reader: BinaryLog, names: Iterable[str]) -> tuple[dict[str, Table], int]:
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


class BinaryLog:
    """A DataFlash .bin as the decoder needs it: the mapped bytes, the formats, and each type's offsets.

    Found by :func:`uavsim.logs.framing.scan_dataflash` instead of pymavlink's indexer, so that damage is
    counted (bytes skipped, places the framing was lost, a cut-off last message) and a FMT entry that
    pymavlink cannot take ("Unsupported format char") costs that message type, not the file.
    """

    def __init__(self, path: str, names: Iterable[str] | None = None) -> None:
        self.filehandle = open(path, "rb")  # noqa: SIM115 - closed by close()
        size = os.fstat(self.filehandle.fileno()).st_size
        self.data_map = mmap.mmap(self.filehandle.fileno(), size, access=mmap.ACCESS_READ) if size else b""
        data = np.frombuffer(self.data_map, dtype=np.uint8)
        scan = framing.scan_dataflash(data)
        self.offsets = scan.by_type()
        self.formats: dict[int, DFReader.DFFormat] = {}  # of the wanted types (``names``; None: all)
        self.name_to_id: dict[str, int] = {}
        self._wanted = None if names is None else set(names)
        self._valid: set[int] = set()  # types whose FMT entry holds
        self.damage = {"skipped_bytes": scan.skipped_bytes, "bad_records": scan.bad_records,
                       "cut_messages": scan.cut_records, "bad_fmt": 0, "bad_fmt_messages": 0}
        for ofs in self.offsets.get(framing.DF_FMT_TYPE, np.zeros(0, np.int64)).tolist():
            self._format(bytes(data[ofs + 3:ofs + framing.DF_FMT_LEN]))
        self.damage["bad_fmt_messages"] = int(sum(len(v) for k, v in self.offsets.items() if k not in self._valid))

    def _format(self, body: bytes) -> None:
        ftype, flen, name, fmt, cols = struct.unpack("<BB4s16s64s", body)
        old = self.formats.pop(ftype, None)  # a type defined again takes its latest definition
        if old is not None and self.name_to_id.get(old.name) == ftype:
            del self.name_to_id[old.name]
        try:
            text = [x.split(b"\x00", 1)[0].decode("ascii") for x in (name, fmt, cols)]
            # pymavlink refuses a format char it does not know ("Unsupported format char"); a name as
            # ArduPilot writes them. (A length that disagrees with the format is a firmware bug pymavlink
            # accepts; _dtype leaves such types out.)
            if not _NAME.fullmatch(text[0]) or any(c not in DFReader.FORMAT_TO_STRUCT for c in text[1]):
                raise ValueError(f"FMT {text[0]!r} {text[1]!r}")
            if self._wanted is None or text[0] in self._wanted:
                self.formats[ftype] = DFReader.DFFormat(ftype, text[0], flen, text[1], text[2], oldfmt=old)
                self.name_to_id[text[0]] = ftype
        except Exception:  # noqa: BLE001 - a damaged FMT entry costs its own type only
            self.damage["bad_fmt"] += 1
            self._valid.discard(ftype)
            return
        self._valid.add(ftype)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if isinstance(self.data_map, mmap.mmap):
                self.data_map.close()
        self.filehandle.close()


_FMT_LINE = re.compile(rb"^FMT,[ \t]*(\d+),[ \t]*(\d+),[ \t]*(\w+),[ \t]*([^,\s]*),[ \t]*([^\r\n]*)", re.MULTILINE)
_FMT_OF_FMT = ("FMT", 89, "BBnNZ", "Type,Length,Name,Format,Columns")


def _text_formats(data: bytes) -> dict[str, DFReader.DFFormat]:
    """The FMT lines of a text log (a later definition of a name replaces the earlier one)."""
    out = {"FMT": DFReader.DFFormat(0x80, *_FMT_OF_FMT)}
    for m in _FMT_LINE.finditer(data):
        ftype, flen, name, fmt, cols = m.groups()
        try:
            cols = cols.decode("ascii").replace(" ", "").rstrip(",")
            with contextlib.redirect_stdout(io.StringIO()):
                out[name.decode("ascii")] = DFReader.DFFormat(int(ftype), name.decode("ascii"), int(flen),
                                                              fmt.decode("ascii"), cols)
        except Exception:  # noqa: BLE001 - a damaged FMT line costs its own type only
            continue
    return out


def _text_column(values: tuple[bytes, ...]) -> np.ndarray:
    """Numbers as float64 where every value is one (as pymavlink's value, then float), else the text."""
    try:
        return np.array(values, dtype=np.bytes_).astype(np.float64)  # numpy skips the blanks around numbers
    except ValueError:
        pass
    text = [v.strip().decode("utf-8", "replace").split("\x00", 1)[0] for v in values]
    try:
        return np.array([float(v) for v in text])
    except ValueError:
        return np.array(text, dtype=object)


def text_tables_fast(data: bytes, names: Iterable[str]) -> tuple[dict[str, Table], dict[str, DFReader.DFFormat], int]:
    """Tables of the wanted types straight from a text log's lines, as pymavlink's text reader gives them
    (its slow twin, :func:`text_tables`, is the reference in the tests): reading starts at the first FMT
    line, values are split on ', ' (',' in logs that never write ', '), a line with fewer values than its
    format is skipped and counted. ``_ofs`` is the line's byte offset (file order)."""
    start = data.find(b"FMT, ")
    delim = b", " if start >= 0 else b","
    start = max(start if start >= 0 else data.find(b"FMT,"), 0)
    formats = _text_formats(data)
    wanted = {n.encode(): formats[n] for n in names if n in formats and n != "FMT"}
    found: dict[bytes, tuple[list[int], list[list[bytes]]]] = {n: ([], []) for n in wanted}
    short, pos = 0, start
    for line in data[start:].split(b"\n"):  # one pass over the lines, each kept by its message name
        here, pos = pos, pos + len(line) + 1
        cut = line.find(b",")
        key = line[:cut].strip() if cut > 0 else b""
        fmt = wanted.get(key)
        if fmt is None:
            continue
        parts = line.rstrip().split(delim)
        width = len(fmt.format)
        if len(parts) < width + 1:
            short += 1
            continue
        ofs, rows = found[key]
        ofs.append(here)
        rows.append(parts[1:width + 1])
    tables: dict[str, Table] = {}
    for key, (ofs, rows) in found.items():
        if not rows:
            continue
        fmt = wanted[key]
        table: Table = {"_ofs": np.array(ofs, dtype=np.int64)}
        for col, values in zip(fmt.columns[:len(fmt.format)], zip(*rows, strict=True), strict=False):
            table[col] = _text_column(values)
        tables[key.decode()] = table
    return tables, formats, short
