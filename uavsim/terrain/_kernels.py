"""Numba kernels for terrain queries. Plain arrays in, plain arrays out; no validation here (the API does it).

Coordinates are *pixel-centre* coordinates of the DEM: ``x`` is the column and ``y`` the row, so the centre of
pixel (row r, col c) is (x=c, y=r). A point within half a pixel of the outer centres is clamped to the edge;
anything further out, or any NaN corner of the bilinear cell, gives NaN: unknown, never clear.

The DEM is stored in square tiles (``TILE`` × ``TILE`` float32, overlapping by one row and column so that a
bilinear cell never straddles two tiles). A path then touches about one page per ~1 km instead of one page per
row, which keeps the TLB and caches warm: the row-major layout is what makes a naive loop memory-bound. The
kernels index the tiles as one flat array (``flat, ntc``): a sample costs one address computation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from uavsim._jit import njit, njit_parallel, njit_serial

STRIDE = 32  # tile step: a power of two, so that tile and offset are a shift and a mask
SHIFT = 5
MASK = STRIDE - 1
TILE = STRIDE + 1  # stored tile side (float32: 4.3 KiB, about one page); tiles overlap by one sample


def make_tiles(grid: np.ndarray) -> np.ndarray:
    """Row-major (rows, cols) grid -> (tile_rows, tile_cols, TILE, TILE) float32 tiles, NaN-padded."""
    nr, nc = grid.shape
    ntr = max(1, -(-(nr - 1) // STRIDE))
    ntc = max(1, -(-(nc - 1) // STRIDE))
    padded = np.full((ntr * STRIDE + 1, ntc * STRIDE + 1), np.nan, dtype=np.float32)
    padded[:nr, :nc] = grid
    tiles = np.empty((ntr, ntc, TILE, TILE), dtype=np.float32)
    for i in range(ntr):
        for j in range(ntc):
            block = padded[i * STRIDE:i * STRIDE + TILE, j * STRIDE:j * STRIDE + TILE]
            tiles[i, j, :block.shape[0], :block.shape[1]] = block
            tiles[i, j, block.shape[0]:, :] = np.nan
            tiles[i, j, :, block.shape[1]:] = np.nan
    return tiles


@njit(inline="always")
def bilinear(flat, ntc, nr, nc, x, y):
    """Bilinear elevation at pixel-centre coordinates (x, y); NaN outside or next to nodata."""
    if not (x >= -0.5 and x <= nc - 0.5 and y >= -0.5 and y <= nr - 0.5):
        return np.nan
    x = min(max(x, 0.0), nc - 1.0)
    y = min(max(y, 0.0), nr - 1.0)
    c0 = min(int(x), nc - 2)
    r0 = min(int(y), nr - 2)
    fx = x - c0
    fy = y - r0
    base = (((r0 >> SHIFT) * ntc + (c0 >> SHIFT)) * TILE + (r0 & MASK)) * TILE + (c0 & MASK)
    z00 = np.float64(flat[base])
    z01 = np.float64(flat[base + 1])
    z10 = np.float64(flat[base + TILE])
    z11 = np.float64(flat[base + TILE + 1])
    return (z00 * (1.0 - fx) + z01 * fx) * (1.0 - fy) + (z10 * (1.0 - fx) + z11 * fx) * fy


def _bilinear_points(tiles, nr, nc, x, y, out):
    """Elevation at many points; writes into ``out`` (same length as x)."""
    flat = tiles.reshape(tiles.size)
    ntc = tiles.shape[1]
    for i in prange(x.shape[0]):
        out[i] = bilinear(flat, ntc, nr, nc, x[i], y[i])


@njit
def _segment_count(length_m, step_m):
    # At least one sample per segment so that zero-length segments still check their vertex.
    return max(int(math.ceil(length_m / step_m)), 1)


@njit
def count_samples(seg_len, offsets, step_m, counts):
    """Samples per path: ceil(len/step) per segment, plus the path's last vertex."""
    for p in range(offsets.shape[0] - 1):
        n = 1
        for k in range(offsets[p], offsets[p + 1] - 1):
            n += _segment_count(seg_len[k], step_m)
        counts[p] = n


def _path_points(vx, vy, valt, seg_len, offsets, step_m, sample_offsets, px, py, palt, pd):
    """Fill sample coordinates along every path (pixel x, y; altitude; distance from the path start)."""
    for p in prange(offsets.shape[0] - 1):
        j = sample_offsets[p]
        d0 = 0.0
        last = offsets[p + 1] - 1
        for k in range(offsets[p], last):
            n = _segment_count(seg_len[k], step_m)
            inv_n = 1.0 / n
            for s in range(n):
                t = s * inv_n
                px[j] = vx[k] + (vx[k + 1] - vx[k]) * t
                py[j] = vy[k] + (vy[k + 1] - vy[k]) * t
                palt[j] = valt[k] + (valt[k + 1] - valt[k]) * t
                pd[j] = d0 + seg_len[k] * t
                j += 1
            d0 += seg_len[k]
        px[j] = vx[last]
        py[j] = vy[last]
        palt[j] = valt[last]
        pd[j] = d0


def _path_clearance(tiles, nr, nc, vx, vy, valt, seg_len, offsets, step_m, threshold,
                   min_clear, first_idx, first_d, n_unknown, n_samples):
    """Fused sampling and clearance (altitude minus terrain) along many polylines at once.

    Per path: the minimum clearance over known samples (NaN if none is known), the index and distance of the
    first sample whose clearance is below ``threshold`` (-1 / NaN if none), the count of unknown samples and
    the count of all samples. Sample order and positions are those of :func:`path_points`.
    """
    flat = tiles.reshape(tiles.size)
    ntc = tiles.shape[1]
    for p in prange(offsets.shape[0] - 1):
        mc = np.inf
        fi = -1
        fd = np.nan
        unk = 0
        j = 0
        d0 = 0.0
        last = offsets[p + 1] - 1
        for k in range(offsets[p], last + 1):
            n = _segment_count(seg_len[k], step_m) if k < last else 1
            inv_n = 1.0 / n
            for s in range(n):
                if k < last:
                    # From the segment start, not accumulated, so positions equal path_points' exactly.
                    t = s * inv_n
                    x = vx[k] + (vx[k + 1] - vx[k]) * t
                    y = vy[k] + (vy[k + 1] - vy[k]) * t
                    a = valt[k] + (valt[k + 1] - valt[k]) * t
                    d = d0 + seg_len[k] * t
                else:  # the path's final vertex
                    x = vx[k]
                    y = vy[k]
                    a = valt[k]
                    d = d0
                c = a - bilinear(flat, ntc, nr, nc, x, y)
                if c != c:
                    unk += 1
                else:
                    if c < mc:
                        mc = c
                    if fi < 0 and c < threshold:
                        fi = j
                        fd = d
                j += 1
            if k < last:
                d0 += seg_len[k]
        min_clear[p] = mc if mc != np.inf else np.nan
        first_idx[p] = fi
        first_d[p] = fd
        n_unknown[p] = unk
        n_samples[p] = j


def _line_of_sight(tiles, nr, nc, ax, ay, az, bx, by, bz, step_px, margin, out):
    """Line of sight between pairs of 3-D points (pixel x, y; altitude MSL).

    ``out[i]`` is 1 when the straight line clears the terrain by ``margin`` everywhere strictly between the
    ends, 0 when terrain blocks it, and -1 when no sample blocks it but some terrain is unknown.
    """
    flat = tiles.reshape(tiles.size)
    ntc = tiles.shape[1]
    for i in prange(ax.shape[0]):
        dx = bx[i] - ax[i]
        dy = by[i] - ay[i]
        n = max(int(math.ceil(max(abs(dx), abs(dy)) / step_px)), 1)
        res = 1
        for s in range(1, n):
            t = s / n
            z = bilinear(flat, ntc, nr, nc, ax[i] + dx * t, ay[i] + dy * t)
            if z != z:
                res = -1
            elif az[i] + (bz[i] - az[i]) * t < z + margin:
                res = 0
                break
        out[i] = res


# Each kernel twice: threaded for big batches, serial for small ones (waking numba's thread team costs
# milliseconds on a loaded machine, more than a few hundred samples take). ``prange`` is ``range`` when serial.
bilinear_points = njit_parallel(_bilinear_points)
bilinear_points_serial = njit_serial(_bilinear_points)
path_points = njit_parallel(_path_points)
path_points_serial = njit_serial(_path_points)
path_clearance = njit_parallel(_path_clearance)
path_clearance_serial = njit_serial(_path_clearance)
line_of_sight = njit_parallel(_line_of_sight)
line_of_sight_serial = njit_serial(_line_of_sight)

SERIAL_BELOW = 4096  # work items (points, samples or pairs) under which the serial kernel is faster
