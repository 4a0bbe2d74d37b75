"""Plausibility of imported data: ActivityStreams in, repaired ActivityStreams and warnings out (pure: no I/O).

Every ride and route goes through ``check_streams`` before it is stored (core/importer.py for rides, Garmin sync
through the importer, core/routes/store.py for routes), and a Garmin summary without a file through
``check_summary``; the elevation-gain method (smoothing, hysteresis) runs afterwards on what this returns. Issue 16
measured what one bad value does when nothing checks it: a GPS point at (0,0) made a ride 11,631 km long, one
elevation of 1e308 a gain of 1e308 m, a year-9999 time a ride in 1816, corrupted FIT files 21,000–42,000 km at
> 40,000 km/h — and every such figure poisons weekly totals and fitness.

Methods (the standard ones: GoldenCheetah's "fix GPS errors" / "fix spikes" tools, and the plausibility bounds
every head unit applies):

* **Times** outside 1990-01-01 … now + 1 day are dropped, with their samples; so are a few samples (at most 30,
  or 1 % of the ride) more than 15 minutes away in time from the rest whose distance runs backwards across that
  gap, or a day away (a corrupted timestamp; a real pause keeps its distance). The ride then starts at its first
  kept sample.
* **Positions** at exactly (0, 0) (a receiver without a fix) are dropped. Then the track is cut wherever two
  neighbours are further apart than 120 km/h allows (routes have no times: more than ``route_jump_m`` and 25
  median steps); short pieces between such cuts (up to 10 points or 0.5 % of the track) are GPS errors and their
  positions are dropped, long pieces are kept (a train ride between two parts of a tour).
* **Distance** (the device's cumulative distance, or the one computed from positions): a step backwards or faster
  than 120 km/h is replaced by the step along the cleaned track, else by speed × time, else by nothing. A route's
  distance is recomputed from its cleaned positions.
* **Elevation** outside −500 … 9,000 m is dropped; a jump steeper than 60 % of the horizontal step plus 30 m
  (or 10 m/s without distance) cuts the profile like a GPS jump, and short pieces are dropped. Dropped values are
  interpolated along the distance from their neighbours.
* **Power** above 3,000 W, or above 2,500 W for more than 5 s in a row, **heart rate** above 250 or below 25 bpm,
  **cadence** above 250 rpm, **speed** above 120 km/h and **temperature** outside −60 … 70 °C are dropped (NaN);
  runs of up to 3 dropped samples are interpolated from their neighbours (GoldenCheetah's spike fix), longer
  runs stay missing. Heart rate 0 (a strap without contact) becomes missing without a warning.

What cannot be repaired is refused with the rider's sentence (InvalidFileError): a ride with no plausible time,
fewer than two plausible samples, or a route with fewer than two plausible positions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from core.errors import InvalidFileError
from core.files.streams import ActivityStreams

EARTH_RADIUS_M = 6_371_008.8
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Bounds:
    max_speed_ms: float = 120 / 3.6
    step_slack_m: float = 50.0            # GPS noise allowed on top of the speed bound
    route_jump_m: float = 25_000.0        # untimed neighbours further apart than this (and 25 median steps)
    short_piece_points: int = 10          # pieces between jumps this short (or 0.5 % of the track) are errors
    short_piece_fraction: float = 0.005
    max_time_gap_s: float = 900.0         # a few samples this far from the rest in time are a corrupted clock
    stray_samples: int = 30               # … when they are at most this many (or 1 % of the ride)
    stray_fraction: float = 0.01
    min_elevation_m: float = -500.0       # the Dead Sea shore is at −430 m
    max_elevation_m: float = 9_000.0      # Everest is 8,849 m
    max_grade: float = 0.6
    elevation_slack_m: float = 30.0
    max_vertical_speed_ms: float = 10.0
    max_power_w: float = 3_000.0
    sustained_power_w: float = 2_500.0
    sustained_power_s: float = 5.0
    max_hr: float = 250.0
    min_hr: float = 25.0
    max_cadence: float = 250.0
    min_temp_c: float = -60.0
    max_temp_c: float = 70.0
    interpolate_run: int = 3


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class DataWarning:
    """One repair or removal, as stored with the ride (rides.data_warnings) and shown on the Ride page."""

    code: str      # time_range | time_outlier | position_no_fix | gps_jump | distance_jump | elevation_range |
                   # elevation_spike | power | heart_rate | cadence | speed | temperature | summary
    points: int
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _short_pieces(jump: np.ndarray, count: int, bounds: Bounds) -> np.ndarray:
    """For ``count`` points cut at ``jump`` (between point i and i+1): True where a point lies in a short piece.
    The longest piece is always kept, and nothing is marked when the short pieces hold most of the points (a
    track that is wrong throughout is no spike), so a track is never emptied by this rule alone."""
    if count == 0:
        return np.zeros(0, dtype=bool)
    piece = np.concatenate(([0], np.cumsum(jump)))
    sizes = np.bincount(piece)
    short = sizes <= max(bounds.short_piece_points, bounds.short_piece_fraction * count)
    short[np.argmax(sizes)] = False
    if sizes[short].sum() * 2 > count:  # most of the track is "wrong": that is no spike, leave it to the caller
        return np.zeros(count, dtype=bool)
    return short[piece]


def _interpolate(values: np.ndarray, fill: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
    """``values`` with the positions in ``fill`` interpolated linearly (along ``x``, else the index) between the
    nearest finite values; positions with no finite value on one side stay NaN."""
    out = values.copy()
    known = np.isfinite(values) & ~fill
    if known.sum() < 2 or not fill.any():
        return out
    axis = np.arange(len(values), dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(axis)) or np.any(np.diff(axis) < 0):
        axis = np.arange(len(values), dtype=np.float64)
    inside = fill & (axis >= axis[known][0]) & (axis <= axis[known][-1])
    out[inside] = np.interp(axis[inside], axis[known], values[known])
    return out


def _short_runs(mask: np.ndarray, longest: int) -> np.ndarray:
    """The part of ``mask`` made of runs of at most ``longest`` consecutive True values."""
    if not mask.any():
        return mask
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros_like(mask)
    for start, end in zip(starts, ends, strict=True):
        if end - start <= longest:
            out[start:end] = True
    return out


def _length(metres: float) -> str:
    return _fmt(metres, "m") if abs(metres) < 10_000 else _fmt(metres / 1000, "km")


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value) or abs(value) >= 1e7:
        return f"{value:.3g} {unit}"
    return f"{value:,.0f} {unit}"


class _Check:
    """One pass over a copy of the streams; collects warnings."""

    def __init__(self, streams: ActivityStreams, kind: str, filename: str, now: datetime, bounds: Bounds):
        self.s = replace(streams, warnings=list(streams.warnings), laps=[dict(lap) for lap in streams.laps])
        for name in ("lat", "lon", "ele", "dist_m", "t_s", "speed", "hr", "cadence", "power", "temp"):
            value = getattr(self.s, name)
            if value is not None:
                setattr(self.s, name, np.array(value, dtype=np.float64))  # a copy: the input stays as it was
        self.kind, self.filename, self.now, self.b = kind, filename, now, bounds
        self.timed = kind == "ride" and self.s.t_s is not None
        self.warnings: list[DataWarning] = []
        self.distance_from_positions = False

    def warn(self, code: str, points: int, message: str) -> None:
        self.warnings.append(DataWarning(code, int(points), message))

    def refuse(self, reason: str) -> InvalidFileError:
        return InvalidFileError(f"{self.filename}: {reason}")

    # ------------------------------------------------------------------------------------------------ times
    def keep_rows(self, keep: np.ndarray) -> None:
        for name in ("lat", "lon", "ele", "dist_m", "t_s", "speed", "hr", "cadence", "power", "temp"):
            value = getattr(self.s, name)
            if value is not None:
                setattr(self.s, name, value[keep])

    def times(self) -> None:
        s = self.s
        if not self.timed or s.started_at is None:
            return
        start = s.started_at.astimezone(UTC)
        t = s.t_s
        absolute = start.timestamp() + t
        latest = (self.now + timedelta(days=1)).timestamp()
        outside = np.isfinite(t) & ((absolute < EARLIEST.timestamp()) | (absolute > latest))
        if outside.all() or (~np.isfinite(t) | outside).all():
            when = start.year if np.isfinite(absolute[0]) else "an unreadable year"
            raise self.refuse(f"its times lie outside 1990 to tomorrow (they start in {when}: a device clock "
                              "error?), so it cannot be a ride; import it as a route to keep the track")
        if outside.any():
            worst = absolute[outside][np.argmax(np.abs(absolute[outside] - np.nanmedian(absolute[~outside])))]
            self.warn("time_range", outside.sum(), f"{int(outside.sum()):,} sample(s) timed outside 1990 to "
                      f"tomorrow (e.g. {_year(worst)}) were dropped")
            self.keep_rows(~outside)
        self.stray_times()
        t = self.s.t_s
        if np.isfinite(t).sum() < 2:
            raise self.refuse("fewer than two samples have a plausible time: nothing to store as a ride")
        first = float(np.nanmin(t))
        if first != 0.0:
            self.s.started_at = start + timedelta(seconds=first)
            self.s.t_s = t - first
            for lap in self.s.laps:
                if isinstance(lap.get("start_s"), int | float):
                    lap["start_s"] -= first

    def stray_times(self) -> None:
        """Drop a few samples (a corrupted timestamp) lying more than ``max_time_gap_s`` away in time from the
        rest, when they are more than a day from the ride's main part or their distance does not fit where their
        time puts them (it runs backwards against the main part). A real pause keeps its distance: it stays."""
        s, b = self.s, self.b
        t = s.t_s
        finite = np.flatnonzero(np.isfinite(t))
        order = finite[np.argsort(t[finite], kind="stable")]
        far = np.diff(t[order]) > b.max_time_gap_s
        if not far.any():
            return
        piece = np.concatenate(([0], np.cumsum(far)))
        sizes = np.bincount(piece)
        main = int(np.argmax(sizes))
        small = max(b.stray_samples, b.stray_fraction * len(order))
        times = t[order]
        d = s.dist_m[order] if s.dist_m is not None else np.full(len(order), np.nan)
        main_d = d[piece == main]
        main_t = times[piece == main]
        away = np.zeros(len(t), dtype=bool)
        for k in np.flatnonzero(sizes <= small):
            if k == main:
                continue
            mine = piece == k
            if k > main:
                gap = times[mine][0] - main_t[-1]
                backwards = np.nanmin(d[mine], initial=np.inf) < _edge(main_d, last=True) - 100
            else:
                gap = main_t[0] - times[mine][-1]
                backwards = np.nanmax(d[mine], initial=-np.inf) > _edge(main_d, last=False) + 100
            if gap > 86_400 or backwards:
                away[order[mine]] = True
        if away.any():
            self.warn("time_outlier", away.sum(), f"{int(away.sum()):,} sample(s) timed more than "
                      f"{b.max_time_gap_s / 60:.0f} minutes away from the rest of the ride, where their distance "
                      "does not fit (a corrupted clock), were dropped")
            self.keep_rows(~away)

    # --------------------------------------------------------------------------------------------- positions
    def positions(self) -> None:
        s, b = self.s, self.b
        lat, lon = s.lat, s.lon
        # Readers compute the distance from the positions when the device gives none (every GPX): such a
        # distance is recomputed from the cleaned positions, and its jumps are the GPS jumps already reported.
        d = s.dist_m
        along = _cumulative_track(lat, lon)
        self.distance_from_positions = (
            d is not None and np.isfinite(d).any() and np.isfinite(along).all()
            and bool(np.all(np.abs(np.nan_to_num(d - d[np.isfinite(d)][0], nan=0.0) - along)
                            <= 0.01 + 1e-5 * along)))
        bad = ~(np.isfinite(lat) & np.isfinite(lon)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
        lat[bad] = lon[bad] = np.nan
        no_fix = (lat == 0) & (lon == 0)
        if no_fix.any():
            lat[no_fix] = lon[no_fix] = np.nan
            self.warn("position_no_fix", no_fix.sum(), f"{int(no_fix.sum()):,} GPS point(s) at 0°N 0°E (a "
                      "receiver without a fix) were left out of the map and the distance")
        idx = np.flatnonzero(np.isfinite(lat))
        if len(idx) < 2:
            return
        step = haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
        if self.timed:
            dt = np.diff(s.t_s[idx])
            allowed = np.where(np.isfinite(dt) & (dt >= 0), b.max_speed_ms * np.maximum(dt, 1.0) + b.step_slack_m,
                               b.route_jump_m)
        else:
            moving = step[step > 0]
            typical = float(np.median(moving)) if len(moving) else 0.0
            allowed = np.full(len(step), max(b.route_jump_m, 25 * typical))
        jump = step > allowed
        if not jump.any() or len(idx) < 10 and not self.timed:
            return
        wrong = _short_pieces(jump, len(idx), b)
        if wrong.any():
            worst = float(step[jump].max())
            lat[idx[wrong]] = lon[idx[wrong]] = np.nan
            rule = "faster than 120 km/h" if self.timed else f"over {b.route_jump_m / 1000:.0f} km"
            self.warn("gps_jump", wrong.sum(), f"{int(wrong.sum()):,} GPS point(s) jumped away from the track "
                      f"({rule}, up to {_length(worst)}) and were left out of the map and the distance")

    # ---------------------------------------------------------------------------------------------- distance
    def distance(self) -> None:
        s, b = self.s, self.b
        along = _cumulative_track(s.lat, s.lon)
        if not self.timed or self.distance_from_positions:
            if np.isfinite(s.lat).sum() >= 2:
                s.dist_m = np.where(np.isfinite(s.dist_m), along, np.nan) if s.dist_m is not None else along
            return
        d = s.dist_m
        if d is None or not np.isfinite(d).any():
            return
        t = s.t_s
        known = np.flatnonzero(np.isfinite(d) & np.isfinite(t))
        if len(known) < 2:
            return
        inc = np.diff(d[known])
        dt = np.diff(t[known])
        # Times going backwards (tracks concatenated out of order) say nothing about speed: judged like a route.
        allowed = np.where(dt >= 0, b.max_speed_ms * np.maximum(dt, 1.0) + b.step_slack_m, b.route_jump_m)
        bad = (inc < -1.0) | (inc > allowed)
        if not bad.any():
            return
        if bad.sum() * 2 > len(inc):
            raise self.refuse("its distance grows faster than 120 km/h for most of the ride (a car or train trip, "
                              "or wrong times), so it cannot be a ride; import it as a route to keep the track")
        estimate = np.diff(along[known]) if np.isfinite(s.lat).sum() >= 2 else np.full(len(inc), np.nan)
        if s.speed is not None:
            by_speed = np.nan_to_num(s.speed[known[1:]], nan=0.0) * np.maximum(dt, 0.0)
            estimate = np.where(np.isfinite(estimate) & (estimate > 0), estimate, by_speed)
        estimate = np.where(np.isfinite(estimate) & (estimate >= 0) & (estimate <= allowed), estimate, 0.0)
        worst = float(np.abs(inc[bad]).max())
        fixed = np.where(bad, estimate, np.maximum(inc, 0.0))
        repaired = d.copy()
        repaired[known] = d[known[0]] + np.concatenate(([0.0], np.cumsum(fixed)))
        s.dist_m = repaired
        self.warn("distance_jump", bad.sum(), f"the recorded distance jumped {int(bad.sum()):,} time(s) (by up to "
                  f"{_length(worst)}, faster than 120 km/h or backwards); those steps were measured "
                  "along the GPS track or from the speed instead")

    # --------------------------------------------------------------------------------------------- elevation
    def elevation(self) -> None:
        s, b = self.s, self.b
        ele = s.ele
        if ele is None:
            return
        outside = ~np.isnan(ele) & ~((ele >= b.min_elevation_m) & (ele <= b.max_elevation_m))
        dropped = outside.copy()
        if outside.any():
            worst = ele[outside][np.argmax(np.abs(ele[outside]))]
            ele[outside] = np.nan
            self.warn("elevation_range", outside.sum(), f"{int(outside.sum()):,} elevation value(s) outside −500 to "
                      f"9,000 m (worst {_fmt(float(worst), 'm')}) were replaced by the values around them")
        idx = np.flatnonzero(np.isfinite(ele))
        if len(idx) >= 3:
            rise = np.abs(np.diff(ele[idx]))
            dd = np.diff(s.dist_m[idx]) if s.dist_m is not None else np.full(len(rise), np.nan)
            dt = np.diff(s.t_s[idx]) if self.timed else np.full(len(rise), np.nan)
            allowed = np.where(np.isfinite(dd), b.elevation_slack_m + b.max_grade * np.abs(dd),
                               np.where(np.isfinite(dt), b.elevation_slack_m + b.max_vertical_speed_ms * np.abs(dt),
                                        np.inf))
            jump = rise > allowed
            if jump.any():
                wrong = _short_pieces(jump, len(idx), b)
                if wrong.any():
                    worst = float(rise[jump].max())
                    ele[idx[wrong]] = np.nan
                    dropped[idx[wrong]] = True
                    self.warn("elevation_spike", wrong.sum(), f"{int(wrong.sum()):,} elevation spike(s) (jumps of "
                              f"up to {_fmt(worst, 'm')}) were replaced by the values around them")
        s.ele = _interpolate(ele, dropped, s.dist_m)

    # ----------------------------------------------------------------------------------------------- sensors
    def sensors(self) -> None:
        s, b = self.s, self.b
        if s.hr is not None:
            s.hr[s.hr == 0] = np.nan  # a strap without contact, not a reading
        rules = [
            ("power", "power", lambda v: (v < 0) | (v > b.max_power_w) | self._sustained(v), "W",
             f"power value(s) above {b.max_power_w:,.0f} W, or above {b.sustained_power_w:,.0f} W for more than "
             f"{b.sustained_power_s:g} s, or below 0 W"),
            ("hr", "heart_rate", lambda v: (v > b.max_hr) | (v < b.min_hr), "bpm",
             f"heart-rate value(s) above {b.max_hr:g} or below {b.min_hr:g} bpm"),
            ("cadence", "cadence", lambda v: (v < 0) | (v > b.max_cadence), "rpm",
             f"cadence value(s) above {b.max_cadence:g} rpm"),
            ("speed", "speed", lambda v: (v < 0) | (v > b.max_speed_ms), "km/h", "speed value(s) above 120 km/h"),
            ("temp", "temperature", lambda v: (v < b.min_temp_c) | (v > b.max_temp_c), "°C",
             f"temperature value(s) outside {b.min_temp_c:g} to {b.max_temp_c:g} °C"),
        ]
        for name, code, rule, unit, what in rules:
            values = getattr(s, name)
            if values is None:
                continue
            with np.errstate(invalid="ignore"):
                bad = np.isfinite(values) & rule(values) | np.isinf(values)
            if not bad.any():
                continue
            worst = float(values[bad][np.argmax(np.abs(values[bad]))]) * (3.6 if name == "speed" else 1.0)
            values[bad] = np.nan
            filled = _short_runs(bad, b.interpolate_run)
            values = _interpolate(values, filled, s.t_s if self.timed else None)
            setattr(s, name, values if np.isfinite(values).any() else None)
            note = f"; {int(filled.sum()):,} short spike(s) interpolated" if filled.any() else ""
            self.warn(code, bad.sum(), f"{int(bad.sum()):,} {what} (worst {_fmt(worst, unit)}) were dropped{note}")

    def _sustained(self, power: np.ndarray) -> np.ndarray:
        high = np.isfinite(power) & (power > self.b.sustained_power_w)
        if not high.any():
            return high
        t = self.s.t_s if self.timed else np.arange(len(power), dtype=np.float64)
        edges = np.diff(np.concatenate(([0], high.astype(np.int8), [0])))
        out = np.zeros_like(high)
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            if np.nan_to_num(t[end - 1] - t[start], nan=0.0) + 1.0 > self.b.sustained_power_s:
                out[start:end] = True
        return out

    def finish(self) -> ActivityStreams:
        s = self.s
        if self.kind == "route" and np.isfinite(s.lat).sum() < 2:
            raise self.refuse("fewer than two of its points have a plausible position: no route to store")
        if self.kind == "ride" and s.is_timed and np.isfinite(s.dist_m).any():
            span = float(np.nanmax(s.t_s) - np.nanmin(s.t_s)) + 1.0
            distance = float(np.nanmax(s.dist_m) - np.nanmin(s.dist_m))
            if distance / span > self.b.max_speed_ms:
                raise self.refuse(f"its distance ({_length(distance)} in {span / 60:,.0f} min) is faster "
                                  "than 120 km/h on average even after repairs: the file is damaged")
        return s


def _edge(values: np.ndarray, *, last: bool) -> float:
    """The median of the (last or first) five finite values: one spike at a piece's edge does not move it."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan")
    return float(np.median(finite[-5:] if last else finite[:5]))


def _year(epoch_s: float) -> str:
    try:
        return str((datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(epoch_s))).year)
    except (OverflowError, ValueError):
        return "an impossible year"


def _hold(values: np.ndarray) -> np.ndarray:
    """NaN replaced by the last finite value before it (cumulative distance between known samples)."""
    finite = np.isfinite(values)
    if finite.all() or not finite.any():
        return values
    index = np.where(finite, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    out = values[index]
    out[: np.argmax(finite)] = np.nan
    return out


def _cumulative_track(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance along the positioned points (a point without a position keeps the distance reached so far)."""
    out = np.zeros(len(lat))
    idx = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(idx) < 2:
        return np.full(len(lat), np.nan)
    steps = haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    out[idx] = np.concatenate(([0.0], np.cumsum(steps)))
    marker = np.full(len(lat), np.nan)
    marker[idx] = out[idx]
    held = _hold(marker)
    return np.where(np.isfinite(held), held, 0.0)


def check_streams(streams: ActivityStreams, *, kind: str, filename: str, now: datetime | None = None,
                  bounds: Bounds = DEFAULT_BOUNDS) -> tuple[ActivityStreams, list[DataWarning]]:
    """Repair what a standard method repairs, drop what it cannot (see the module docstring); returns a new
    ActivityStreams and the warnings, the input untouched. ``kind``: 'ride' (judged by time) or 'route' (judged
    by distance; times are ignored). Raises InvalidFileError with the rider's sentence when too little is left."""
    if kind not in ("ride", "route"):
        raise ValueError(f"kind must be 'ride' or 'route', not {kind!r}")
    check = _Check(streams, kind, filename, now or datetime.now(UTC), bounds)
    check.times()
    check.positions()
    check.distance()
    check.elevation()
    check.sensors()
    return check.finish(), check.warnings


SUMMARY_BOUNDS = {"avg_power_w": (0.0, 2_500.0), "max_power_w": (0.0, 3_000.0), "normalized_power_w": (0.0, 2_500.0),
                  "avg_hr": (25.0, 250.0), "max_hr": (25.0, 250.0), "avg_cadence": (0.0, 250.0),
                  "elapsed_time_s": (0.0, 30 * 86_400.0), "moving_time_s": (0.0, 30 * 86_400.0),
                  "distance_m": (0.0, 10_000_000.0), "elevation_gain_m": (0.0, 100_000.0)}


def check_summary(summary: dict, *, label: str, now: datetime | None = None,
                  bounds: Bounds = DEFAULT_BOUNDS) -> tuple[dict, list[DataWarning]]:
    """A ride known only by its summary (Garmin without a file): figures outside their bounds, a distance faster
    than 120 km/h over the ride's time and a gain steeper than 60 % of it become unknown (None) with a warning;
    a start outside 1990 … tomorrow is refused."""
    now = now or datetime.now(UTC)
    out = dict(summary)
    warnings: list[DataWarning] = []
    started = out.get("started_at")
    if isinstance(started, datetime) and not EARLIEST <= started.astimezone(UTC) <= now + timedelta(days=1):
        raise InvalidFileError(f"{label}: it is dated {started:%Y-%m-%d}, outside 1990 to tomorrow (a device clock "
                               "error?); it was not stored")
    dropped = []
    for key, (low, high) in SUMMARY_BOUNDS.items():
        value = out.get(key)
        if isinstance(value, int | float) and not (math.isfinite(value) and low <= value <= high):
            dropped.append(f"{key.replace('_', ' ')} {_fmt(float(value), '')}".strip())
            out[key] = None
    span = out.get("moving_time_s") or out.get("elapsed_time_s")
    if out.get("distance_m") and span and out["distance_m"] / span > bounds.max_speed_ms:
        dropped.append(f"distance {_length(out['distance_m'])} in {span / 3600:.1f} h")
        out["distance_m"] = None
    if out.get("elevation_gain_m") and out.get("distance_m") and \
            out["elevation_gain_m"] > bounds.max_grade * out["distance_m"] + 500:
        dropped.append(f"elevation gain {_fmt(out['elevation_gain_m'], 'm')}")
        out["elevation_gain_m"] = None
    if dropped:
        warnings.append(DataWarning("summary", len(dropped), "implausible figures were left out: "
                                    + "; ".join(dropped)))
    return out, warnings
