"""ArduPilot terrain files (AP_Terrain ``.DAT``), so that an aircraft with no ground link still knows the terrain.

Format (ArduPilot libraries/AP_Terrain: AP_Terrain.h, TerrainUtil.cpp, TerrainIO.cpp, tools/create_terrain.py):
- one file per 1° cell, named by its south-west corner: ``N21E103.DAT``;
- the file is a sequence of 2048-byte blocks. Block (gx, gy) sits at byte ``(east_blocks * gx + gy) * 2048``;
- a block is packed little-endian: bitmap u64, lat i32 and lon i32 (1e-7 degrees, its south-west grid point),
  crc u16, version u16 (= 1), spacing u16 (m), heights i16[28][32] (metres AMSL; [x][y], x north, y east),
  grid_idx_x u16, grid_idx_y u16, lon_degrees i16, lat_degrees i8 - 1821 bytes - then zeros to 2048;
- the crc is CRC-16/CCITT (XModem: poly 0x1021, init 0) of those 1821 bytes with the crc field set to 0;
- bit ``8 * (x // 4) + (y // 4)`` of the bitmap says the 4 x 4 sub-grid holds data;
- block (gx, gy) starts ``gx * 24 * spacing`` m north and ``gy * 28 * spacing`` m east of the cell's corner, so
  neighbouring blocks overlap by 4 grid points; offsets use ArduPilot's flat-earth location arithmetic in single
  precision, which is emulated here, as ArduPilot's own generator does.

A 4 x 4 sub-grid with any unknown height is left out of the bitmap: the autopilot then treats it as missing (and
asks its ground station), never as flat ground.
"""

from __future__ import annotations

import binascii
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uavsim.errors import TerrainError

MAVLINK_GRID = 4
MUL_X, MUL_Y = 7, 8
SIZE_X, SIZE_Y = MAVLINK_GRID * MUL_X, MAVLINK_GRID * MUL_Y  # 28 north, 32 east
SPACING_X, SPACING_Y = (MUL_X - 1) * MAVLINK_GRID, (MUL_Y - 1) * MAVLINK_GRID  # 24, 28 grid steps
FORMAT_VERSION = 1
IO_BLOCK_SIZE = 2048
HEADER = struct.Struct("<QiiHHH")
TRAILER = struct.Struct("<HHhb")
DATA_SIZE = HEADER.size + SIZE_X * SIZE_Y * 2 + TRAILER.size  # 1821
CRC_OFFSET = 16
FULL_BITMAP = (1 << (MUL_X * MUL_Y)) - 1
LATLON_TOLERANCE_E7 = 2  # ArduPilot accepts a block whose corner is within 2e-7 degrees of the expected one

_F32 = np.float32
LOCATION_SCALING_FACTOR = float(_F32(0.011131884502145034))  # metres per 1e-7 degree of latitude
LOCATION_SCALING_FACTOR_INV = float(_F32(89.83204953368922))


def longitude_scale(lat_deg):
    """cos(latitude) in single precision, as ArduPilot computes it (never below 0.01)."""
    scale = np.cos(np.asarray(np.radians(lat_deg), dtype=_F32)).astype(_F32)
    return np.maximum(scale.astype(np.float64), 0.01)


def distance_ne(lat1, lon1, lat2, lon2):
    """North and east metres from point 1 to point 2 (1e-7 degree integers), ArduPilot's flat-earth rule."""
    mid = (np.asarray(lat1, np.float64) + lat2) * 0.5 * 1.0e-7
    dlat = np.asarray(lat2, np.float64) - lat1
    dlon = np.asarray(lon2, np.float64) - lon1
    return dlat * LOCATION_SCALING_FACTOR, dlon * longitude_scale(mid) * LOCATION_SCALING_FACTOR


def add_offset(lat_e7, lon_e7, north_m, east_m):
    """A point ``north_m``, ``east_m`` from (lat_e7, lon_e7), as integers (ArduPilot Location::offset)."""
    dlat = np.trunc(np.asarray(north_m, np.float64) * LOCATION_SCALING_FACTOR_INV)
    dlon = np.trunc(np.asarray(east_m, np.float64) * LOCATION_SCALING_FACTOR_INV
                    / longitude_scale((np.asarray(lat_e7, np.float64) + dlat * 0.5) * 1.0e-7))
    return (np.asarray(lat_e7 + dlat).astype(np.int64), np.asarray(lon_e7 + dlon).astype(np.int64))


def east_blocks(lat_deg: int, lon_deg: int, spacing: int) -> int:
    """Blocks per row of the file: the cell's width plus two blocks, in block steps."""
    lat_e7, lon_e7 = lat_deg * 10**7, lon_deg * 10**7
    lat2, lon2 = add_offset(lat_e7, lon_e7 + 10**7, 0.0, 2.0 * spacing * SIZE_Y)
    _, east = distance_ne(lat_e7, lon_e7, lat2, lon2)
    return int(float(east) / (spacing * SPACING_Y))


def dat_name(lat_deg: int, lon_deg: int) -> str:
    return f"{'S' if lat_deg < 0 else 'N'}{abs(lat_deg):02d}{'W' if lon_deg < 0 else 'E'}{abs(lon_deg):03d}.DAT"


def block_origin(lat_deg: int, lon_deg: int, gx: int, gy: int, spacing: int) -> tuple[int, int]:
    lat, lon = add_offset(lat_deg * 10**7, lon_deg * 10**7, gx * SPACING_X * float(spacing),
                          gy * SPACING_Y * float(spacing))
    return int(lat), int(lon)


def block_points(lat_e7: int, lon_e7: int, spacing: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of a block's 28 x 32 grid points, [x north][y east]."""
    gx, gy = np.meshgrid(np.arange(SIZE_X), np.arange(SIZE_Y), indexing="ij")
    lat, lon = add_offset(np.full(gx.shape, lat_e7, np.int64), np.full(gx.shape, lon_e7, np.int64),
                          gx * float(spacing), gy * float(spacing))
    return lat * 1.0e-7, lon * 1.0e-7


def bitmap_of(known: np.ndarray) -> int:
    """The bitmap of the 4 x 4 sub-grids whose 16 heights are all known."""
    full = known.reshape(MUL_X, MAVLINK_GRID, MUL_Y, MAVLINK_GRID).all(axis=(1, 3))
    return sum(1 << (MUL_Y * x + y) for x, y in zip(*np.nonzero(full), strict=True))


@dataclass(frozen=True)
class Block:
    lat_e7: int
    lon_e7: int
    spacing: int
    heights: np.ndarray  # int16 [28][32]
    bitmap: int
    grid_idx_x: int
    grid_idx_y: int
    lat_degrees: int
    lon_degrees: int
    version: int = FORMAT_VERSION

    def pack(self) -> bytes:
        """The 2048 bytes on disk, with the crc filled in."""
        body = bytearray(HEADER.pack(self.bitmap, self.lat_e7, self.lon_e7, 0, self.version, self.spacing))
        body += np.ascontiguousarray(self.heights, dtype="<i2").tobytes()
        body += TRAILER.pack(self.grid_idx_x, self.grid_idx_y, self.lon_degrees, self.lat_degrees)
        struct.pack_into("<H", body, CRC_OFFSET, block_crc(bytes(body)))
        return bytes(body) + bytes(IO_BLOCK_SIZE - DATA_SIZE)


def block_crc(data: bytes) -> int:
    """CRC-16/XModem of a block's 1821 data bytes, taken with the crc field zero."""
    body = bytearray(data[:DATA_SIZE])
    body[CRC_OFFSET:CRC_OFFSET + 2] = b"\0\0"
    return binascii.crc_hqx(bytes(body), 0)


def unpack(buf: bytes) -> tuple[Block, bool] | None:
    """(block, whether its stored crc matches its data) of 2048 bytes, or None for an empty (all-zero) slot."""
    if len(buf) < DATA_SIZE or not any(buf[:DATA_SIZE]):
        return None
    bitmap, lat, lon, crc, version, spacing = HEADER.unpack_from(buf, 0)
    heights = np.frombuffer(buf, dtype="<i2", count=SIZE_X * SIZE_Y, offset=HEADER.size).reshape(SIZE_X, SIZE_Y)
    gx, gy, lon_deg, lat_deg = TRAILER.unpack_from(buf, HEADER.size + SIZE_X * SIZE_Y * 2)
    return Block(lat, lon, spacing, heights.copy(), bitmap, gx, gy, lat_deg, lon_deg, version), crc == block_crc(buf)


def read_file(path: str | Path) -> list[tuple[int, Block, bool]]:
    """Every non-empty block of a .DAT file as (slot index, block, crc valid)."""
    data = Path(path).read_bytes()
    out = []
    for i in range(len(data) // IO_BLOCK_SIZE):
        got = unpack(data[i * IO_BLOCK_SIZE:(i + 1) * IO_BLOCK_SIZE])
        if got is not None:
            out.append((i, *got))
    return out


def grid_info(lat: float, lon: float, spacing: int) -> tuple[int, int, int, int, int, int, float, float]:
    """ArduPilot's calculate_grid_info: (lat_deg, lon_deg, gx, gy, idx_x, idx_y, frac_x, frac_y) of a point."""
    lat_e7, lon_e7 = int(round(lat * 1e7)), int(round(lon * 1e7))
    lat_deg, lon_deg = math.floor(lat_e7 / 1e7), math.floor(lon_e7 / 1e7)
    north, east = distance_ne(lat_deg * 10**7, lon_deg * 10**7, lat_e7, lon_e7)
    ix, iy = int(float(north) / spacing), int(float(east) / spacing)
    return (lat_deg, lon_deg, ix // SPACING_X, iy // SPACING_Y, ix % SPACING_X, iy % SPACING_Y,
            (float(north) - ix * spacing) / spacing, (float(east) - iy * spacing) / spacing)


def height_amsl(folder: str | Path, lat: float, lon: float, spacing: int = 100) -> float:
    """The terrain height an autopilot would read from these files at (lat, lon); NaN where it has none."""
    lat_deg, lon_deg, gx, gy, ix, iy, fx, fy = grid_info(lat, lon, spacing)
    path = Path(folder) / dat_name(lat_deg, lon_deg)
    if not path.exists():
        return math.nan
    with open(path, "rb") as fh:
        fh.seek((east_blocks(lat_deg, lon_deg, spacing) * gx + gy) * IO_BLOCK_SIZE)
        got = unpack(fh.read(IO_BLOCK_SIZE))
    if got is None:
        return math.nan
    block, crc_ok = got
    expect = block_origin(lat_deg, lon_deg, gx, gy, spacing)
    if (not crc_ok or block.spacing != spacing or block.version != FORMAT_VERSION
            or abs(block.lat_e7 - expect[0]) > LATLON_TOLERANCE_E7
            or abs(block.lon_e7 - expect[1]) > LATLON_TOLERANCE_E7):
        return math.nan
    if not all(block.bitmap >> (MUL_Y * (x // 4) + (y // 4)) & 1 for x in (ix, ix + 1) for y in (iy, iy + 1)):
        return math.nan
    h = block.heights.astype(np.float64)
    a = (1 - fx) * h[ix, iy] + fx * h[ix + 1, iy]
    b = (1 - fx) * h[ix, iy + 1] + fx * h[ix + 1, iy + 1]
    return float((1 - fy) * a + fy * b)


def write_atomic(path: Path, blocks: dict[int, bytes]) -> None:
    """Write the blocks at their slots (empty slots stay zero) to a temporary file, then rename it."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        for slot in sorted(blocks):
            fh.seek(slot * IO_BLOCK_SIZE)
            fh.write(blocks[slot])
    os.replace(tmp, path)


@dataclass(frozen=True)
class ExportResult:
    out_dir: str
    files: list[str]
    blocks: int
    partial_blocks: int  # blocks with some 4 x 4 sub-grids left out (unknown terrain)
    spacing_m: int
    bounds: list[float]
    vertical_datum: str


def _index_range(lat_deg: int, lon_deg: int, area, spacing: int, stride: int) -> tuple[range, range]:
    """The block rows and columns of a cell that the area (W, S, E, N) touches."""
    w, s, e, n = area
    s_c, n_c = max(s, lat_deg), min(n, lat_deg + 1 - 1e-9)
    w_c, e_c = max(w, lon_deg), min(e, lon_deg + 1 - 1e-9)
    ref = (lat_deg * 10**7, lon_deg * 10**7)
    norths, easts = [], []
    for la in (s_c, n_c):
        for lo in (w_c, e_c):
            dn, de = distance_ne(*ref, round(la * 1e7), round(lo * 1e7))
            norths.append(int(float(dn) / spacing) // SPACING_X)
            easts.append(int(float(de) / spacing) // SPACING_Y)
    return range(min(norths), max(norths) + 1), range(min(easts), min(max(easts), stride - 1) + 1)


def export(terrain, area: tuple[float, float, float, float], out_dir: str | Path, spacing: int = 100
           ) -> ExportResult:
    """Write the terrain over ``area`` (W, S, E, N degrees) as AP_Terrain files in ``out_dir``.

    ``terrain`` is a :class:`uavsim.terrain.Terrain`; heights are its bilinear elevations, rounded to metres.
    The synthetic terrain is refused: an aircraft must never fly on invented terrain.
    """
    if terrain.synthetic:
        raise TerrainError(terrain.path, "is the SYNTHETIC terrain; an aircraft must not carry invented terrain. "
                                         "Fetch real terrain first (uavsim terrain fetch) or pass --dem FILE")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w, s, e, n = area
    files, n_blocks, n_partial = [], 0, 0
    for lat_deg in range(math.floor(s), math.ceil(n)):
        for lon_deg in range(math.floor(w), math.ceil(e)):
            stride = east_blocks(lat_deg, lon_deg, spacing)
            rows, cols = _index_range(lat_deg, lon_deg, area, spacing, stride)
            slots: dict[int, bytes] = {}
            for gx in rows:
                for gy in cols:
                    lat_e7, lon_e7 = block_origin(lat_deg, lon_deg, gx, gy, spacing)
                    lat, lon = block_points(lat_e7, lon_e7, spacing)
                    z = terrain.elevation(lat.ravel(), lon.ravel()).reshape(SIZE_X, SIZE_Y)
                    known = np.isfinite(z)
                    bitmap = bitmap_of(known)
                    if bitmap == 0:
                        continue
                    heights = np.clip(np.rint(np.where(known, z, 0.0)), -32768, 32767).astype(np.int16)
                    block = Block(lat_e7, lon_e7, spacing, heights, bitmap, gx, gy, lat_deg, lon_deg)
                    slots[stride * gx + gy] = block.pack()
                    n_partial += bitmap != FULL_BITMAP
            if slots:
                path = out / dat_name(lat_deg, lon_deg)
                write_atomic(path, slots)
                files.append(str(path))
                n_blocks += len(slots)
    if not files:
        raise TerrainError(terrain.path, f"has no known terrain in the area W,S,E,N = {w},{s},{e},{n}")
    return ExportResult(str(out), files, n_blocks, n_partial, spacing, [w, s, e, n], terrain.vertical_datum)
