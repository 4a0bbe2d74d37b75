"""Ride comparison: streams aligned by elapsed time or distance, smoothing, deltas, a table of differences and
the climbs two rides share (matched by position along the road, never by name).

Pure functions work on numpy arrays; ``load_ride``/``compare_rides`` read storage. Nothing here draws.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from core.errors import NotFoundError, ValidationError
from core.rides.efforts import mean_between
from core.routes.climb_match import LENGTH_TOLERANCE, Track, climb_shape, find_passages, overlap_fraction

CHANNELS = ("power", "hr", "speed", "cadence", "ele")
CHANNEL_LABELS = {"power": "Power (W)", "hr": "Heart rate (bpm)", "speed": "Speed (km/h)",
                  "cadence": "Cadence (rpm)", "ele": "Elevation (m)", "t_s": "Elapsed time (s)"}
AXES = ("time", "distance")
DEFAULT_STEP = {"time": 1.0, "distance": 10.0}     # seconds / metres between aligned points
MAX_GAP = {"time": 30.0, "distance": 200.0}        # a hole wider than this in a ride is left empty (NaN)
BEST_EFFORTS_S = (5, 60, 300, 1200)


# --------------------------------------------------------------------------------------------------------------
# Alignment (pure)
# --------------------------------------------------------------------------------------------------------------

@dataclass
class Aligned:
    """Streams of several rides on one shared axis. ``series[i][channel]`` has the length of ``x``; NaN where
    ride i has no value (after its end, or in a gap). With ``axis == 'distance'`` each series also holds
    ``t_s`` (the ride's elapsed time at that distance), so ``time_gap()`` says who is ahead."""

    axis: str
    x: np.ndarray
    series: list[dict[str, np.ndarray]]

    def delta(self, channel: str, i: int = 0, j: int = 1) -> np.ndarray:
        """Ride i − ride j on the shared axis."""
        return self.series[i][channel] - self.series[j][channel]


def _as_float(values, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.asarray(values, dtype=np.float64)


def _resample(xp: np.ndarray, fp: np.ndarray, x: np.ndarray, max_gap: float) -> np.ndarray:
    """Linear interpolation of (xp, fp) at x over finite points; NaN outside xp's range and inside holes
    (neighbouring finite points farther apart than max_gap)."""
    ok = np.isfinite(xp) & np.isfinite(fp)
    if ok.sum() < 2:
        return np.full(len(x), np.nan)
    xs, fs = xp[ok], fp[ok]
    out = np.interp(x, xs, fs)
    right = np.searchsorted(xs, x, side="left")
    right = np.clip(right, 1, len(xs) - 1)
    hole = (xs[right] - xs[right - 1]) > max_gap
    exact = np.isclose(xs[np.clip(np.searchsorted(xs, x), 0, len(xs) - 1)], x)
    out[(hole & ~exact) | (x < xs[0]) | (x > xs[-1])] = np.nan
    return out


def _strictly_increasing(axis: np.ndarray) -> np.ndarray:
    """Indices of the samples where the axis moves forward (the first sample of every standstill)."""
    finite = np.isfinite(axis)
    idx = np.flatnonzero(finite)
    if len(idx) == 0:
        return idx
    values = axis[idx]
    running = np.maximum.accumulate(values)
    keep = np.concatenate(([True], values[1:] > running[:-1]))
    return idx[keep]


def align_streams(rides: list[dict], by: str = "time", step: float | None = None,
                  channels: tuple[str, ...] = CHANNELS) -> Aligned:
    """Put several rides on one axis. Each ride is a mapping with ``t_s``, ``dist_m`` and any of ``channels``
    (arrays of one length; NaN = missing).

    ``by='time'``: x is seconds since each ride's start. ``by='distance'``: x is metres from each ride's
    start, so two rides of the same road line up point for point whatever their speed or stops."""
    if by not in AXES:
        raise ValidationError(f"Rides are aligned by 'time' or 'distance', not '{by}'")
    if len(rides) < 2:
        raise ValidationError("Pick at least two rides to compare")
    step = float(step or DEFAULT_STEP[by])
    if not math.isfinite(step) or step <= 0:
        raise ValidationError("The alignment step must be a positive number")
    key = "t_s" if by == "time" else "dist_m"
    prepared = []
    end = 0.0
    for ride in rides:
        n = len(ride["t_s"])
        axis = _as_float(ride.get(key), n)
        keep = _strictly_increasing(axis)
        if len(keep) < 2:
            what = "timestamps" if by == "time" else "distance"
            raise ValidationError(f"{ride.get('name') or 'A ride'} has no {what} to align on")
        prepared.append((ride, axis[keep], keep, n))
        end = max(end, float(axis[keep][-1]))
    if end / step > 5_000_000:
        raise ValidationError("These rides are too long to align at that step; choose a larger step")
    x = np.arange(0.0, end + step / 2, step)
    wanted = list(channels) + (["t_s"] if by == "distance" else []) + (["dist_m"] if by == "time" else [])
    series = []
    for ride, xp, keep, n in prepared:
        out = {}
        for channel in wanted:
            values = _as_float(ride.get(channel), n)[keep]
            out[channel] = _resample(xp - xp[0] if by == "time" else xp, values, x, MAX_GAP[by])
        series.append(out)
    return Aligned(by, x, series)


def smooth(values: np.ndarray, window_points: int) -> np.ndarray:
    """Centred moving average over ``window_points`` points, ignoring NaN (holes stay holes)."""
    values = np.asarray(values, dtype=np.float64)
    if window_points <= 1 or len(values) == 0:
        return values
    smoothed = pd.Series(values).rolling(int(window_points), center=True, min_periods=1).mean().to_numpy(copy=True)
    smoothed[~np.isfinite(values)] = np.nan
    return smoothed


def smooth_aligned(aligned: Aligned, window: float) -> Aligned:
    """A copy of ``aligned`` with every channel smoothed over ``window`` seconds (time) or metres (distance)."""
    if window <= 0 or len(aligned.x) < 2:
        return aligned
    points = max(1, int(round(window / (aligned.x[1] - aligned.x[0]))))
    series = [{k: (v if k in ("t_s", "dist_m") else smooth(v, points)) for k, v in s.items()}
              for s in aligned.series]
    return Aligned(aligned.axis, aligned.x, series)


# --------------------------------------------------------------------------------------------------------------
# Positions and shared climbs (pure)
# --------------------------------------------------------------------------------------------------------------

def position_at(lat, lon, dist_m, at_m: float) -> tuple[float, float]:
    """Latitude/longitude at a distance along a track."""
    dist = np.asarray(dist_m, dtype=np.float64)
    ok = np.isfinite(dist) & np.isfinite(lat) & np.isfinite(lon)
    keep = np.flatnonzero(ok)[_strictly_increasing(dist[ok])]
    return (float(np.interp(at_m, dist[keep], np.asarray(lat, dtype=np.float64)[keep])),
            float(np.interp(at_m, dist[keep], np.asarray(lon, dtype=np.float64)[keep])))


@dataclass(frozen=True)
class ClimbMatch:
    """A climb of ride A (start_m..end_m along A) found on ride B: the nearest sample indices on each ride and
    the exact (interpolated) times at which each ride crossed the climb's start and top gates."""

    climb_index: int
    start_m: float
    end_m: float
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_start_s: float = math.nan
    a_end_s: float = math.nan
    b_start_s: float = math.nan
    b_end_s: float = math.nan


def _track(ride: dict) -> Track:
    return Track.of(ride["lat"], ride["lon"], ride["dist_m"], ride.get("t_s"))


def match_shared_climbs(a: dict, climbs: list[tuple[float, float]], b: dict,
                        length_tolerance: float = LENGTH_TOLERANCE) -> list[ClimbMatch]:
    """Find each of A's climbs (``(start_m, end_m)`` along A's distance) on ride B by position, with the one
    matcher of core.routes.climb_match (start and top gates crossed uphill, checkpoints along the road, length
    within ``length_tolerance``). ``a`` and ``b`` hold ``lat``, ``lon``, ``dist_m`` (and ``t_s``) arrays. The
    first passage of each ride is used."""
    matches = []
    ta, tb = _track(a), _track(b)
    if ta.bbox() is None or tb.bbox() is None:
        return []
    for number, (start_m, end_m) in enumerate(climbs):
        shape = climb_shape(ta.lat, ta.lon, ta.dist_m, start_m, end_m)
        if len(shape) < 2:
            continue
        on_a = find_passages(ta, shape, end_m - start_m, length_tolerance=length_tolerance)
        on_b = find_passages(tb, shape, end_m - start_m, length_tolerance=length_tolerance)
        if not (on_a and on_b):
            continue
        pa, pb = on_a[0], on_b[0]
        matches.append(ClimbMatch(number, float(start_m), float(end_m), int(round(pa.start_pos)),
                                  int(round(pa.end_pos)), int(round(pb.start_pos)), int(round(pb.end_pos)),
                                  pa.start_s, pa.end_s, pb.start_s, pb.end_s))
    return matches


def effort_on(ride: dict, start: int, end: int, weight_kg: float | None = None, *, start_s: float | None = None,
              end_s: float | None = None) -> dict:
    """Time, distance, gain, average power, W/kg, HR and speed of a ride between two sample indices, or exactly
    between two instants (``start_s``/``end_s``: the gate crossings of core.routes.climb_match) when given."""
    n = len(ride["t_s"])
    t = np.asarray(ride["t_s"], dtype=np.float64)
    dist = np.asarray(ride["dist_m"], dtype=np.float64)
    ele = _as_float(ride.get("ele"), n)
    if start_s is None or end_s is None or not (math.isfinite(start_s) and math.isfinite(end_s)):
        start_s, end_s = float(t[start]), float(t[end])
    keep = _strictly_increasing(t)
    distance = float(np.interp(end_s, t[keep], dist[keep]) - np.interp(start_s, t[keep], dist[keep]))
    ok = keep[np.isfinite(ele[keep])]
    gain = (float(np.interp(end_s, t[ok], ele[ok]) - np.interp(start_s, t[ok], ele[ok]))
            if len(ok) >= 2 else None)
    time_s = end_s - start_s
    avg_power = mean_between(t, _as_float(ride.get("power"), n), start_s, end_s)
    return {
        "time_s": time_s,
        "distance_m": distance,
        "elevation_gain_m": gain,
        "avg_power_w": avg_power,
        "w_per_kg": avg_power / weight_kg if avg_power is not None and weight_kg else None,
        "avg_hr": mean_between(t, _as_float(ride.get("hr"), n), start_s, end_s),
        "avg_speed_kmh": distance / time_s * 3.6 if time_s > 0 else None,
    }


# --------------------------------------------------------------------------------------------------------------
# Differences (pure over summaries)
# --------------------------------------------------------------------------------------------------------------

DIFFERENCE_ROWS = (  # key, label, unit
    ("moving_time_s", "Duration (moving)", "s"),
    ("distance_m", "Distance", "m"),
    ("normalized_power_w", "NP", "W"),
    ("intensity_factor", "IF", ""),
    ("tss", "TSS", ""),
    ("avg_hr", "Avg HR", "bpm"),
    ("ef", "EF", ""),
    ("decoupling_pct", "Decoupling", "%"),
    ("best_5s_w", "Best 5 s", "W"),
    ("best_1min_w", "Best 1 min", "W"),
    ("best_5min_w", "Best 5 min", "W"),
    ("best_20min_w", "Best 20 min", "W"),
)
_BEST_KEYS = {5: "best_5s_w", 60: "best_1min_w", 300: "best_5min_w", 1200: "best_20min_w"}


def best_power(power: np.ndarray, t_s: np.ndarray, duration_s: int) -> float | None:
    """Highest mean power over ``duration_s`` seconds (1 Hz resampled; missing power counts as 0 W)."""
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(power, dtype=np.float64)
    ok = np.isfinite(t)
    if ok.sum() < 2 or not np.isfinite(p).any():
        return None
    keep = _strictly_increasing(t)
    grid = np.arange(t[keep][0], t[keep][-1] + 0.5, 1.0)
    p1 = np.nan_to_num(_resample(t[keep], p[keep], grid, MAX_GAP["time"]), nan=0.0)
    if len(p1) < duration_s:
        return None
    csum = np.concatenate(([0.0], np.cumsum(p1)))
    return float(np.max(csum[duration_s:] - csum[:-duration_s]) / duration_s)


def differences_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per figure (DIFFERENCE_ROWS), one column per ride (its label) and ``A − B`` (first two)."""
    labels = [s["label"] for s in summaries]
    rows = []
    for key, label, unit in DIFFERENCE_ROWS:
        values = [s.get(key) for s in summaries]
        row = {"figure": label, "unit": unit}
        for name, value in zip(labels, values, strict=True):
            row[name] = None if value is None else float(value)
        a, b = values[0], values[1] if len(values) > 1 else None
        row["A − B"] = float(a) - float(b) if a is not None and b is not None else None
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------------------

@dataclass
class RideData:
    id: int
    name: str
    started_at: datetime | None
    summary: dict
    samples: dict[str, np.ndarray]
    route_id: int | None = None
    climbs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def label(self) -> str:
        day = f" {self.started_at:%Y-%m-%d}" if self.started_at else ""
        return f"#{self.id} {self.name}{day}"

    @property
    def has_position(self) -> bool:
        return bool(np.isfinite(self.samples["lat"]).any()) if len(self.samples["lat"]) else False


_SUMMARY_COLUMNS = ("id", "name", "started_at", "moving_time_s", "elapsed_time_s", "distance_m",
                    "elevation_gain_m", "normalized_power_w", "intensity_factor", "tss", "avg_hr",
                    "avg_power_w", "route_id", "metrics", "duplicate_of")


def load_ride(cur, athlete_id: int, ride_id: int) -> RideData:
    """A ride's summary, samples (as float arrays, ordered by time) and climbs. A linked duplicate resolves to
    the ride it duplicates (which holds the samples)."""
    try:
        ride_id = int(ride_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"Ride {ride_id!r} was not found") from None
    row = cur.execute(
        "SELECT id, name, started_at, moving_time_s, elapsed_time_s, distance_m, elevation_gain_m, "
        "normalized_power_w, intensity_factor, tss, avg_hr, avg_power_w, route_id, metrics, duplicate_of "
        "FROM rides WHERE id = ? AND athlete_id = ?", [ride_id, athlete_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Ride {ride_id} was not found")
    summary = dict(zip(_SUMMARY_COLUMNS, row, strict=True))
    if summary["duplicate_of"] is not None:
        return load_ride(cur, athlete_id, summary["duplicate_of"])
    try:
        metrics = json.loads(summary.pop("metrics") or "{}")
    except ValueError:
        metrics = {}
    frame = cur.execute(
        "SELECT t_s, CAST(lat AS DOUBLE) AS lat, CAST(lon AS DOUBLE) AS lon, ele, dist_m, speed, hr, cadence, "
        "power FROM ride_samples WHERE ride_id = ? ORDER BY t_s", [ride_id]).df()
    samples = {c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in frame.columns}
    if len(frame) > 1 and not np.isfinite(samples["speed"]).any():
        samples["speed"] = speed_from_distance(samples["t_s"], samples["dist_m"])
    curve = metrics.get("power_curve") if isinstance(metrics.get("power_curve"), dict) else {}
    for seconds, key in _BEST_KEYS.items():
        value = curve.get(str(seconds))
        if value is None and len(frame):
            value = best_power(samples["power"], samples["t_s"], seconds)
        summary[key] = value
    summary["ef"] = metrics.get("ef")
    summary["decoupling_pct"] = metrics.get("decoupling_pct")
    climbs = []
    if summary["route_id"] is not None:
        climbs = [(float(s), float(e)) for s, e in cur.execute(
            "SELECT start_m, end_m FROM sections WHERE route_id = ? AND kind = 'climb' ORDER BY seq",
            [summary["route_id"]]).fetchall()]
    if not climbs and len(frame):
        climbs = detect_climbs(samples["dist_m"], samples["ele"])
    name = summary["name"] or "Ride"
    return RideData(summary["id"], name, summary["started_at"], summary, samples, summary["route_id"], climbs)


def speed_from_distance(t_s: np.ndarray, dist_m: np.ndarray, window_s: int = 5) -> np.ndarray:
    """Speed (m/s) from cumulative distance over time, for files that record no speed (most GPX): the
    distance covered over a centred ``window_s``-sample window divided by the time it took."""
    t = pd.Series(np.asarray(t_s, dtype=np.float64))
    d = pd.Series(np.asarray(dist_m, dtype=np.float64)).interpolate(limit_area="inside")
    half = max(1, window_s // 2)
    dt = t.shift(-half) - t.shift(half)
    speed = (d.shift(-half) - d.shift(half)) / dt.where(dt > 0)
    speed = speed.fillna(d.diff() / t.diff().where(t.diff() > 0)).bfill(limit=1)
    return speed.clip(lower=0).to_numpy(dtype=np.float64, na_value=np.nan)


def detect_climbs(dist_m: np.ndarray, ele: np.ndarray) -> list[tuple[float, float]]:
    """Climbs of a track without stored sections, by the routes module's section splitter (none if it is
    not available or the track has no elevation)."""
    try:
        from core.routes.sections import split_into_sections
    except ImportError:
        return []
    dist = np.asarray(dist_m, dtype=np.float64)
    ele = np.asarray(ele, dtype=np.float64)
    ok = np.isfinite(dist) & np.isfinite(ele)
    if ok.sum() < 10:
        return []
    keep = np.flatnonzero(ok)[_strictly_increasing(dist[ok])]
    try:
        sections = split_into_sections(dist[keep], ele[keep])
    except Exception:  # noqa: BLE001 — climbs are an extra; a comparison never fails for want of them
        return []
    return [(float(s.start_m), float(s.end_m)) for s in sections if getattr(s, "kind", None) == "climb"]


def athlete_weight(cur, athlete_id: int) -> float | None:
    row = cur.execute("SELECT weight_kg FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    return float(row[0]) if row and row[0] else None


@dataclass
class Comparison:
    rides: list[RideData]
    aligned: Aligned
    differences: pd.DataFrame
    climbs: pd.DataFrame
    weight_kg: float | None


def shared_climbs(a: RideData, b: RideData, weight_kg: float | None = None,
                  known: list | None = None) -> pd.DataFrame:
    """Per climb both rides ride up: A's and B's time, average power, W/kg, HR and speed, each timed between
    its own exact crossings of the climb's start and top gates (core.routes.climb_match). The climbs looked for:
    the rider's known climbs near A (``known``, core.routes.climbs), then A's climbs, then B's. Empty when the
    rides share no climb."""
    if not (a.has_position and b.has_position):
        return pd.DataFrame()
    shapes = [(c.shape, c.length_m) for c in known or []]
    for ride in (a, b):
        track = _track(ride.samples)
        for start_m, end_m in ride.climbs:
            shape = climb_shape(track.lat, track.lon, track.dist_m, start_m, end_m)
            if len(shape) >= 2:
                shapes.append((shape, end_m - start_m))
    ta, tb = _track(a.samples), _track(b.samples)
    rows, seen = [], []
    for shape, length in shapes:
        on_a, on_b = find_passages(ta, shape, length), find_passages(tb, shape, length)
        if not (on_a and on_b):
            continue
        pa, pb = on_a[0], on_b[0]
        if any(overlap_fraction((pa.start_m, pa.end_m), other) > 0.5 for other in seen):
            continue
        seen.append((pa.start_m, pa.end_m))
        ea = effort_on(a.samples, 0, 0, weight_kg, start_s=pa.start_s, end_s=pa.end_s)
        eb = effort_on(b.samples, 0, 0, weight_kg, start_s=pb.start_s, end_s=pb.end_s)
        rows.append({
            "start_km_a": pa.start_m / 1000, "length_m": ea["distance_m"], "gain_m": ea["elevation_gain_m"],
            **{f"{k}_a": v for k, v in ea.items() if k not in ("distance_m", "elevation_gain_m")},
            **{f"{k}_b": v for k, v in eb.items() if k not in ("distance_m", "elevation_gain_m")},
        })
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("start_km_a").reset_index(drop=True)
        frame.insert(0, "climb", range(1, len(frame) + 1))
        frame["time_delta_s"] = frame["time_s_a"] - frame["time_s_b"]
    return frame


def compare_rides(cur, athlete_id: int, ride_ids: list[int], by: str = "time", smoothing: float = 0.0,
                  step: float | None = None) -> Comparison:
    """Load two or more rides and compare them: aligned (and smoothed) streams, differences, shared climbs
    of the first two."""
    ids = []
    for ride_id in ride_ids:
        if ride_id not in ids:
            ids.append(ride_id)
    if len(ids) < 2:
        raise ValidationError("Pick two different rides to compare")
    rides = [load_ride(cur, athlete_id, ride_id) for ride_id in ids]
    for ride in rides:
        if len(ride.samples["t_s"]) < 2:
            raise ValidationError(f"Ride {ride.label} has no recorded samples (a summary only), so it cannot be "
                                  "compared point by point")
    streams = []
    for ride in rides:
        data = dict(ride.samples)
        data["speed"] = data["speed"] * 3.6  # km/h on the charts
        data["name"] = ride.label
        streams.append(data)
    aligned = smooth_aligned(align_streams(streams, by, step), smoothing)
    summaries = [{**r.summary, "label": r.label} for r in rides]
    weight = athlete_weight(cur, athlete_id)
    from core.routes.climbs import candidates

    known = candidates(cur, athlete_id, _track(rides[0].samples).bbox()) if rides[0].has_position else []
    return Comparison(rides, aligned, differences_table(summaries), shared_climbs(rides[0], rides[1], weight, known),
                      weight)


def compare_report(cur, athlete_id: int, a: int, b: int) -> dict:
    """``python -m core compare A B --json``: both rides, the differences and the shared climbs."""
    comparison = compare_rides(cur, athlete_id, [a, b], by="distance")
    rides = [{"id": r.id, "name": r.name, "started_at": r.started_at, "label": r.label} for r in comparison.rides]
    labels = [r["label"] for r in rides]
    differences = []
    for row in comparison.differences.to_dict("records"):
        differences.append({"figure": row["figure"], "unit": row["unit"], "a": _clean(row[labels[0]]),
                            "b": _clean(row[labels[1]]), "a_minus_b": _clean(row["A − B"])})
    climbs = [{k: _clean(v) for k, v in row.items()} for row in comparison.climbs.to_dict("records")]
    return {"a": rides[0], "b": rides[1], "differences": differences, "shared_climbs": climbs}


def _clean(value):
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else round(float(value), 3)
    if isinstance(value, np.integer):
        return int(value)
    return value


def ride_labels(cur, athlete_id: int, ride_ids: list[int]) -> dict[int, str]:
    """Labels ("#id name yyyy-mm-dd") of the athlete's rides among ``ride_ids`` (unknown ids left out)."""
    ids = [int(i) for i in ride_ids]
    if not ids:
        return {}
    rows = cur.execute("SELECT id, name, started_at FROM rides WHERE athlete_id = ? AND id IN (SELECT unnest(?))",
                       [athlete_id, ids]).fetchall()
    return {row[0]: RideData(row[0], row[1] or "Ride", row[2], {}, {}).label for row in rows}


def parse_ride_ids(values) -> list[int]:
    """Ride ids from URL query values ("12", "12,14", ["12"]): the valid positive integers, in order, once."""
    ids: list[int] = []
    for value in values if isinstance(values, (list, tuple)) else [values]:
        for part in str(value or "").split(","):
            part = part.strip()
            # ASCII digits only: str.isdigit() accepts "²" (int() then raises) and int() refuses > 4300 digits.
            if part.isascii() and part.isdigit() and len(part) <= 18 and 0 < int(part) and int(part) not in ids:
                ids.append(int(part))
    return ids
