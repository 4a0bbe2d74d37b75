"""Finding a climb on a track by position — pure geometry, no I/O. Used for the rider's climb efforts
(core.rides.efforts), for telling whether a climb is already known (core.routes.climbs) and for Compare's
shared climbs (core.rides.compare): one matcher, so every figure of an effort means the same thing.

A climb is its *shape*: its line from start to top, a point every ``SHAPE_STEP_M``. A track passes the climb
when it

1. crosses the **start gate** — the line through the climb's first point, perpendicular to the climb's first
   ``GATE_DIRECTION_M`` — going uphill (from behind the gate to in front of it), within ``GATE_HALF_WIDTH_M`` of
   the road; then
2. crosses the **top gate** the same way, the first time after the start gate;
3. covers a distance within ``LENGTH_TOLERANCE`` (+ ``LENGTH_SLACK_M``) of the climb's length in between; and
4. passes within ``CHECKPOINT_TOLERANCE_M`` of ``CHECKPOINTS`` points spread along the climb — so another road
   between the same two points, or the same road ridden down, is not the climb.

The crossing points are interpolated between the two samples on either side of each gate, so an effort's time
is exact to the fraction of a second, whatever the recording interval (Strava's segment matching works the same
way: start and end gates, not nearest samples). A track can pass a climb several times (hill repeats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
SHAPE_STEP_M = 20.0
GATE_HALF_WIDTH_M = 30.0
GATE_DIRECTION_M = 40.0
CHECKPOINTS = 8
CHECKPOINT_TOLERANCE_M = 50.0
LENGTH_TOLERANCE = 0.2
LENGTH_SLACK_M = 60.0
MAX_GATE_STEP_M = 250.0     # a "crossing" between two samples farther apart than this is a gap, not a crossing


@dataclass(frozen=True)
class Track:
    """Positions along a ride or route; ``t_s`` is time (a route's distance stands in for it)."""

    lat: np.ndarray
    lon: np.ndarray
    dist_m: np.ndarray
    t_s: np.ndarray

    @classmethod
    def of(cls, lat, lon, dist_m, t_s=None) -> Track:
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        dist = np.asarray(dist_m, dtype=np.float64)
        t = dist if t_s is None else np.asarray(t_s, dtype=np.float64)
        return cls(lat, lon, dist, t)

    def bbox(self) -> tuple[float, float, float, float] | None:
        """(min_lat, min_lon, max_lat, max_lon) of the positioned points, or None."""
        ok = np.isfinite(self.lat) & np.isfinite(self.lon)
        if not ok.any():
            return None
        return (float(self.lat[ok].min()), float(self.lon[ok].min()), float(self.lat[ok].max()),
                float(self.lon[ok].max()))


@dataclass(frozen=True)
class Passage:
    """One passage of a track up a climb: fractional sample positions and the interpolated time and distance
    at the start and top gates."""

    start_pos: float
    end_pos: float
    start_s: float
    end_s: float
    start_m: float
    end_m: float

    @property
    def time_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def distance_m(self) -> float:
        return self.end_m - self.start_m


def _increasing(dist: np.ndarray) -> np.ndarray:
    ok = np.flatnonzero(np.isfinite(dist))
    if len(ok) == 0:
        return ok
    keep = np.concatenate(([True], np.diff(np.maximum.accumulate(dist[ok])) > 0))
    return ok[keep]


def climb_shape(lat, lon, dist_m, start_m: float, end_m: float, step_m: float = SHAPE_STEP_M) -> np.ndarray:
    """[[lat, lon], …] along a track from ``start_m`` to ``end_m`` every ``step_m`` (both ends included);
    empty when the track has no position there."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    dist = np.asarray(dist_m, dtype=np.float64)
    if not (math.isfinite(start_m) and math.isfinite(end_m)) or end_m <= start_m:
        return np.zeros((0, 2))
    with np.errstate(invalid="ignore"):  # only the stretch (and a sample either side) is interpolated over
        ok = np.isfinite(lat) & np.isfinite(lon) & (dist >= start_m - 500.0) & (dist <= end_m + 500.0)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return np.zeros((0, 2))
    idx = idx[_increasing(dist[idx])]
    at = np.append(np.arange(start_m, end_m, step_m), end_m)
    at = at[(at >= dist[idx][0]) & (at <= dist[idx][-1])]
    if len(at) < 2:
        return np.zeros((0, 2))
    return np.column_stack((np.interp(at, dist[idx], lat[idx]), np.interp(at, dist[idx], lon[idx])))


def local_xy(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection to metres around (lat0, lon0): exact enough over a climb's extent."""
    x = np.radians(np.asarray(lon, dtype=np.float64) - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = np.radians(np.asarray(lat, dtype=np.float64) - lat0) * EARTH_RADIUS_M
    return x, y


def shape_length_m(shape: np.ndarray) -> float:
    if len(shape) < 2:
        return 0.0
    x, y = local_xy(shape[:, 0], shape[:, 1], float(shape[0, 0]), float(shape[0, 1]))
    return float(np.sum(np.hypot(np.diff(x), np.diff(y))))


def _direction(x: np.ndarray, y: np.ndarray, at_end: bool) -> tuple[float, float]:
    """Unit vector of the climb's first (or last) ``GATE_DIRECTION_M``."""
    steps = np.hypot(np.diff(x), np.diff(y))
    along = np.concatenate(([0.0], np.cumsum(steps[::-1] if at_end else steps)))
    k = int(min(len(x) - 1, max(1, np.searchsorted(along, GATE_DIRECTION_M))))
    if at_end:
        dx, dy = x[-1] - x[-1 - k], y[-1] - y[-1 - k]
    else:
        dx, dy = x[k] - x[0], y[k] - y[0]
    norm = math.hypot(dx, dy) or 1.0
    return dx / norm, dy / norm


def _crossings(px: np.ndarray, py: np.ndarray, gx: float, gy: float, ux: float, uy: float,
               edge: str | None) -> list[float]:
    """Fractional positions where the track crosses the gate at (gx, gy) facing (ux, uy), going forward.
    ``edge`` 'start' also accepts a track that begins on or just past the gate, 'end' one that ends on it."""
    ax = (px - gx) * ux + (py - gy) * uy          # along the climb's direction
    lat = -(px - gx) * uy + (py - gy) * ux         # across it
    a0, a1 = ax[:-1], ax[1:]
    hit = (a0 < 0) & (a1 >= 0)
    idx = np.flatnonzero(hit)
    out = []
    for i in idx:
        f = -a0[i] / (a1[i] - a0[i])
        side = lat[i] + f * (lat[i + 1] - lat[i])
        step = math.hypot(px[i + 1] - px[i], py[i + 1] - py[i])
        if abs(side) <= GATE_HALF_WIDTH_M and step <= MAX_GATE_STEP_M:
            out.append(i + float(f))
    if edge == "start" and len(ax) and 0 <= ax[0] < GATE_HALF_WIDTH_M / 2 and abs(lat[0]) <= GATE_HALF_WIDTH_M:
        out.insert(0, 0.0)
    return out


def find_passages(track: Track, shape: np.ndarray, length_m: float | None = None, *,
                  length_tolerance: float = LENGTH_TOLERANCE) -> list[Passage]:
    """Every passage of ``track`` up the climb ``shape`` (see the module docstring), in track order."""
    shape = np.asarray(shape, dtype=np.float64)
    if len(shape) < 2 or len(track.lat) < 2:
        return []
    lat0, lon0 = float(shape[0, 0]), float(shape[0, 1])
    sx, sy = local_xy(shape[:, 0], shape[:, 1], lat0, lon0)
    length = float(length_m) if length_m else float(np.sum(np.hypot(np.diff(sx), np.diff(sy))))
    # Only the stretch of track near the climb matters (a box test in degrees first: no trigonometry on a
    # 250,000-point track per climb); indices keep their place in the whole track.
    margin = GATE_HALF_WIDTH_M + CHECKPOINT_TOLERANCE_M
    dlat = margin / 111_320.0
    dlon = margin / (111_320.0 * max(math.cos(math.radians(lat0)), 0.01))
    with np.errstate(invalid="ignore"):
        near = (track.lat >= shape[:, 0].min() - dlat) & (track.lat <= shape[:, 0].max() + dlat) & \
            (track.lon >= shape[:, 1].min() - dlon) & (track.lon <= shape[:, 1].max() + dlon)
    if near.sum() < 2:
        return []
    keep = np.flatnonzero(near)
    px, py = local_xy(track.lat[keep], track.lon[keep], lat0, lon0)
    ux, uy = _direction(sx, sy, at_end=False)
    vx, vy = _direction(sx, sy, at_end=True)
    starts = _crossings(px, py, sx[0], sy[0], ux, uy, "start" if keep[0] == 0 else None)
    if not starts:
        return []
    ends = _crossings(px, py, sx[-1], sy[-1], vx, vy, None)
    if len(px) and keep[-1] == len(track.lat) - 1:
        last_a = (px[-1] - sx[-1]) * vx + (py[-1] - sy[-1]) * vy
        if -GATE_HALF_WIDTH_M / 2 < last_a < 0 and math.hypot(px[-1] - sx[-1], py[-1] - sy[-1]) <= GATE_HALF_WIDTH_M:
            ends.append(float(len(px) - 1))
    if not ends:
        return []
    checkpoints = np.linspace(0, len(sx) - 1, CHECKPOINTS + 2)[1:-1].round().astype(int)
    cx, cy = sx[checkpoints], sy[checkpoints]
    whole = np.arange(len(track.lat), dtype=np.float64)

    def at(values: np.ndarray, local_pos: float) -> float:
        i = int(math.floor(local_pos))
        f = local_pos - i
        i0 = keep[i]
        if f == 0 or i + 1 >= len(keep):
            return float(values[i0])
        return float(values[i0] + f * (values[keep[i + 1]] - values[i0]))

    passages: list[Passage] = []
    after = -1.0
    for s in starts:
        if s <= after:
            continue
        e = next((e for e in ends if e > s), None)
        if e is None:
            break
        start_m, end_m = at(track.dist_m, s), at(track.dist_m, e)
        covered = end_m - start_m
        if not (math.isfinite(covered)
                and abs(covered - length) <= length_tolerance * length + LENGTH_SLACK_M):
            continue
        lo, hi = int(math.floor(s)), int(math.ceil(e))
        seg_x, seg_y = px[lo:hi + 1], py[lo:hi + 1]
        gap = np.hypot(seg_x[None, :] - cx[:, None], seg_y[None, :] - cy[:, None]).min(axis=1)
        if np.any(gap > CHECKPOINT_TOLERANCE_M):
            continue
        passages.append(Passage(at(whole, s), at(whole, e), at(track.t_s, s), at(track.t_s, e), start_m, end_m))
        after = e
    return passages


class TrackCells:
    """The grid cells (``cell_m`` square) a track visits: a constant-time "does the track come near this point?"
    that discards most bounding-box candidates before any geometry (a climb needs the track near its start and
    near its top)."""

    def __init__(self, track: Track, cell_m: float = 4 * GATE_HALF_WIDTH_M):
        ok = np.isfinite(track.lat) & np.isfinite(track.lon)
        lat0 = float(np.mean(track.lat[ok])) if ok.any() else 0.0
        self.dlat = cell_m / 111_320.0
        self.dlon = cell_m / (111_320.0 * max(math.cos(math.radians(lat0)), 0.01))
        rows = np.floor(track.lat[ok] / self.dlat).astype(np.int64)
        cols = np.floor(track.lon[ok] / self.dlon).astype(np.int64)
        self.cells = set(np.unique(rows * 4_000_000 + cols).tolist())

    def near(self, lat: float, lon: float) -> bool:
        row, col = math.floor(lat / self.dlat), math.floor(lon / self.dlon)
        return any((row + dr) * 4_000_000 + col + dc in self.cells for dr in (-1, 0, 1) for dc in (-1, 0, 1))


def overlap_fraction(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Shared length of two intervals over the shorter one's length (0 when either is empty)."""
    shared = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return max(0.0, shared) / shorter if shorter > 0 else 0.0
