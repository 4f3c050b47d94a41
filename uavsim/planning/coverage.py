"""Coverage of a field (spray, seed, fertilise, survey, monitor): headland, lanes, sorties.

Geometry is UTM metres. The headland pass runs on the ring ``swath/2`` inside the boundary (and around each
hole); lanes are parallel lines ``swath`` or less apart, clipped to the same inset region, so that every point
deeper than one swath lies within half a swath of a lane and every shallower point within half a swath of
the headland. Lanes therefore never leave the field (tolerance ``LANE_TOLERANCE_M``: numerical only).
Application uses section control: each piece of path sprays only ground not yet covered, so the litres are
the rate times the area actually covered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.ops import unary_union

from uavsim.errors import PlanningError

LANE_TOLERANCE_M = 0.05
ANGLE_STEP_DEG = 5.0
M2_PER_HA = 10_000.0


@dataclass
class Piece:
    """A straight stretch of the work path (UTM), spraying or not, with what it applies."""

    x0: float
    y0: float
    x1: float
    y1: float
    spraying: bool
    new_m2: float  # ground first covered by this piece

    @property
    def length(self) -> float:
        return math.hypot(self.x1 - self.x0, self.y1 - self.y0)


@dataclass
class Coverage:
    field: Polygon
    swath_m: float
    angle_deg: float  # lane direction, degrees clockwise from grid north
    headland: list[LineString]
    lanes: list[LineString]  # in flying order, each in its flying direction
    covered: Polygon
    pieces: list[Piece]

    @property
    def coverage_fraction(self) -> float:
        return float(self.covered.intersection(self.field).area / self.field.area) if self.field.area else 0.0

    @property
    def covered_m2(self) -> float:
        return float(sum(p.new_m2 for p in self.pieces))


def _lines(geom) -> list[LineString]:
    if geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    if isinstance(geom, MultiLineString):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString) and g.length > 0]


def _rings(region) -> list[LineString]:
    out = []
    for poly in getattr(region, "geoms", [region]):
        if poly.is_empty or not isinstance(poly, Polygon):
            continue
        out.append(LineString(poly.exterior.coords))
        out.extend(LineString(r.coords) for r in poly.interiors)
    return out


def _lane_lines(region, swath: float, angle_deg: float, back: bool = True) -> list[list[LineString]]:
    """Lanes (per line, segments west->east in the rotated frame) at ``angle_deg``, clipped to ``region``.
    ``back=False`` leaves them in the rotated frame (enough to count them)."""
    if region.is_empty:
        return []
    c = region.centroid
    rot = affinity.rotate(region, angle_deg - 90.0, origin=c)  # lane direction -> +x
    x0, y0, x1, y1 = rot.bounds
    height = y1 - y0
    n = 1 if height <= swath else int(math.ceil((height - swath) / swath - 1e-9)) + 1
    ys = [0.5 * (y0 + y1)] if n == 1 else list(np.linspace(y0 + swath / 2, y1 - swath / 2, n))
    out = []
    for y in ys:
        segs = sorted(_lines(rot.intersection(LineString([(x0 - 1, y), (x1 + 1, y)]))), key=lambda s: s.bounds[0])
        segs = [affinity.rotate(s, 90.0 - angle_deg, origin=c) if back else s for s in segs if s.length > 1e-6]
        if segs:
            out.append(segs)
    return out


def best_angle(region, swath: float) -> float:
    """Lane direction (deg from north) with the fewest lane segments (turns), then the fewest lanes."""
    hull = region.convex_hull
    cands = set(np.arange(0.0, 180.0, ANGLE_STEP_DEG).round(6))
    if isinstance(hull, Polygon):
        xy = np.asarray(hull.exterior.coords)
        d = np.diff(xy, axis=0)
        cands |= {round(math.degrees(math.atan2(dx, dy)) % 180.0, 6) for dx, dy in d if math.hypot(dx, dy) > swath}
    best = None
    for a in sorted(cands):
        lanes = _lane_lines(region, swath, a, back=False)
        key = (sum(len(seg) for seg in lanes), len(lanes))
        if best is None or key < best[0]:
            best = (key, a)
    return float(best[1]) if best else 0.0


def _oriented(seg: LineString, forward: bool) -> LineString:
    return seg if forward else LineString(list(seg.coords)[::-1])


def _start_headland(headland: list[LineString], start: tuple[float, float] | None) -> list[LineString]:
    """Start the outer ring at its point nearest the launch."""
    if start is None or not headland:
        return headland
    coords = np.asarray(headland[0].coords)[:-1]
    k = int(np.argmin(np.hypot(coords[:, 0] - start[0], coords[:, 1] - start[1])))
    return [LineString(np.vstack([coords[k:], coords[:k], coords[k:k + 1]])), *headland[1:]]


def _ordered_lanes(per_line: list[list[LineString]], headland: list[LineString], start: tuple[float, float] | None
                   ) -> list[LineString]:
    """Lanes in flying order (boustrophedon), beginning at the end nearer the headland's end."""
    if start is not None and per_line:
        first, last = per_line[0][0].coords[0], per_line[-1][0].coords[0]
        end = headland[0].coords[-1] if headland else start
        if math.dist(end, last) < math.dist(end, first):
            per_line = per_line[::-1]
    lanes: list[LineString] = []
    for k, segs in enumerate(per_line):
        fwd = k % 2 == 0
        lanes.extend(_oriented(s, fwd) for s in (segs if fwd else segs[::-1]))
    return lanes


def _cut(line: LineString, spraying: bool, new_m2: float, piece_m: float) -> list[Piece]:
    """A line cut into pieces of at most ``piece_m``, the new ground it covers spread by length."""
    coords = np.asarray(line.coords)
    mine: list[Piece] = []
    for (ax, ay), (bx, by) in zip(coords[:-1], coords[1:], strict=True):
        seg_len = math.hypot(bx - ax, by - ay)
        if seg_len < 1e-6:
            continue
        k = max(int(math.ceil(seg_len / piece_m)), 1)
        fs = np.linspace(0.0, 1.0, k + 1)
        mine.extend(Piece(ax + f0 * (bx - ax), ay + f0 * (by - ay), ax + f1 * (bx - ax), ay + f1 * (by - ay),
                          spraying, 0.0) for f0, f1 in zip(fs[:-1], fs[1:], strict=True))
    total = sum(p.length for p in mine)
    for p in mine:
        p.new_m2 = new_m2 * p.length / total if total > 0 else 0.0
    return mine


def plan_coverage(field: Polygon, swath_m: float, angle_deg: float | None = None, start: tuple[float, float] | None = None,
                  piece_m: float = 25.0) -> Coverage:
    """Headland and lanes for a field polygon (UTM, holes allowed), in flying order, cut into pieces."""
    if not swath_m > 0:
        raise PlanningError(f"coverage swath must be positive, got {swath_m}")
    field = field.buffer(0) if not field.is_valid else field
    region = field.buffer(-swath_m / 2.0, join_style="mitre")
    if region.is_empty:  # narrower than one swath: one pass along the middle
        region = field.buffer(-min(swath_m / 2.0, field.minimum_clearance / 2 if field.minimum_clearance else 0))
    angle = best_angle(region, swath_m) if angle_deg is None else float(angle_deg) % 180.0
    headland = _start_headland([r for r in _rings(region) if r.length > 0], start)
    lanes = _ordered_lanes(_lane_lines(region, swath_m, angle), headland, start)
    # flying order: headland rings, then lanes; transit (not spraying) between them. Section control: each
    # line sprays only ground not yet covered, spread evenly along its pieces.
    path: list[tuple[LineString, bool, bool]] = []
    prev = None
    for line, ring in [(h, True) for h in headland] + [(ln, False) for ln in lanes]:
        if prev is not None:
            path.append((LineString([prev, line.coords[0]]), False, False))
        path.append((line, True, ring))
        prev = line.coords[-1]
    pieces: list[Piece] = []
    covered = Polygon()
    for line, spraying, ring in path:
        new_m2 = 0.0
        if spraying:
            fp = line.buffer(swath_m / 2.0, quad_segs=4) if ring else line.buffer(swath_m / 2.0, cap_style="flat")
            fp = fp.intersection(field)
            new_m2 = float(fp.difference(covered).area) if not covered.is_empty else float(fp.area)
            covered = unary_union([covered, fp]) if not covered.is_empty else fp
        pieces.extend(_cut(line, spraying, new_m2, piece_m))
    return Coverage(field, swath_m, angle, headland, lanes, covered, pieces)
