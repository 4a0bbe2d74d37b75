"""Elevation gain: the one method every figure uses (ride header, sections and climbs, weekly totals, CLI).

Pure functions over arrays; no I/O. Spikes and out-of-range altitudes are the import pipeline's plausibility
step's job (core/files/plausibility.py on the reliability branch); the running median below only removes what
is left at the scale of a few samples, so the method also holds on data that did not pass through that step.

Method
------
1. **Where the altitude comes from** (``detect_altitude_source``), because the sources fail differently:

   * ``barometric`` — a pressure altimeter (most head units since ~2010). Smooth, drifts slowly, resolves 0.2 m
     steps: light smoothing and a small hysteresis keep every real ramp.
   * ``gps`` — altitude from satellite fixes (phones, cheap units, GPS-only watches): noise of several metres
     from fix to fix (vertical error is ~1.5–3× horizontal error). Counting that noise gave 3,621 m on a flat
     30 km ride. Heavy smoothing by distance and a larger hysteresis.
   * ``dem`` — a planned route's elevations, sampled from a terrain model by the route planner: smooth, no
     noise, light smoothing.

   Evidence, in order: the reader's hint (a FIT ``device_info`` message for a local barometer, sensor type 4 in
   Garmin's FIT profile; a GPX ``creator`` naming a barometer or a route planner; see ``hint_from_creator``),
   then the data: the *jitter*, a robust (1.4826·MAD) standard deviation of the altitude around its running
   median over 5 fixes. Barometric recordings measure 0.0–0.3 m on the real files in tests/data (Edge 1000,
   Edge 810, Karoo 2, Wahoo ELEMNT, Urban Biker "with barometer"); GPS altitude ≥ 1 m. ``GPS_JITTER_M`` splits them.
2. **Resample** on a regular axis: every ``step_m`` metres of distance (so stops do not weigh more than riding),
   or every second for a ride without distance.
3. **Smooth**: a running median over ``median_m`` (what is left of spikes), then a Gaussian of ``sigma_m``
   (per source, ``METHODS``).
4. **Hysteresis** (``hysteresis_m`` per source): a rise counts once the smoothed altitude has climbed that far
   above the last low, and then counts in full from that low to the next confirmed top — GoldenCheetah's and
   most head units' way of ignoring sub-threshold wobble.

The result is an ``ElevationProfile`` with cumulative gain and loss along the axis, so the gain of any stretch is
``cum_gain[b] − cum_gain[a]``: the sections of a route add up exactly to its total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SOURCES = ("barometric", "gps", "dem")
GPS_JITTER_M = 0.6          # jitter at or above this is GPS altitude (barometers measure ≤ 0.3 m)
MIN_JITTER_SAMPLES = 30     # fewer fixes than this: too few to judge the noise


@dataclass(frozen=True)
class ElevationMethod:
    median_m: float       # running median (spike remainder), metres of the axis
    sigma_m: float        # Gaussian smoothing, metres of the axis
    hysteresis_m: float   # a rise or fall counts once it exceeds this


METHODS = {
    "barometric": ElevationMethod(median_m=30.0, sigma_m=15.0, hysteresis_m=3.0),
    "dem": ElevationMethod(median_m=30.0, sigma_m=15.0, hysteresis_m=2.0),
    "gps": ElevationMethod(median_m=90.0, sigma_m=100.0, hysteresis_m=8.0),
}
STEP_M = 10.0
# Without distance the axis is time: these stand for the metres above at ~18 km/h (5 m/s).
SECONDS_PER_M = 0.2

# GPX creator → source. Route planners sample a terrain model; these names say "barometer" outright.
_BAROMETRIC_CREATORS = re.compile(r"barometer|barometric|edge ?(5[123]0|8[0123]0|10[034]0|1050|explore)|"
                                  r"elemnt|karoo|fenix|forerunner ?9\d\d|gpsmap ?\d+s\b", re.I)
_DEM_CREATORS = re.compile(r"ridewithgps|ride with gps|komoot|plotaroute|bikemap|brouter|gpx\.studio|"
                           r"graphhopper|mapmyride route|openrouteservice|cycle\.travel|gaiagps|gaia gps|"
                           r"strava route|routeyou|outdooractive", re.I)


def hint_from_creator(creator: str | None, timed: bool) -> str | None:
    """A GPX ``creator`` attribute → 'barometric', 'dem' (a route planner, for untimed files) or None."""
    if not creator:
        return None
    if _BAROMETRIC_CREATORS.search(creator):
        return "barometric"
    if not timed and _DEM_CREATORS.search(creator):
        return "dem"
    return None


def _finite_pairs(axis, ele) -> tuple[np.ndarray, np.ndarray]:
    axis = np.asarray(axis, dtype=np.float64)
    ele = np.asarray(ele, dtype=np.float64)
    ok = np.isfinite(axis) & np.isfinite(ele)
    return axis[ok], ele[ok]


def altitude_jitter_m(ele, dist_m=None) -> float | None:
    """Fix-to-fix altitude noise (m): the robust standard deviation (1.4826·MAD) of the second difference
    divided by √6 (what independent noise of that size gives), on a 10 m distance grid when there is distance
    (so sparse points on real slopes do not count as noise), else sample by sample. None for fewer than
    ``MIN_JITTER_SAMPLES`` values."""
    e = np.asarray(ele, dtype=np.float64)
    if dist_m is not None:
        axis, values = _finite_pairs(dist_m, e)
        if len(axis) >= 2 and axis[-1] - axis[0] > STEP_M * MIN_JITTER_SAMPLES:
            axis = np.maximum.accumulate(axis)
            keep = np.concatenate(([True], np.diff(axis) > 0))
            e = np.interp(_grid(axis[keep], STEP_M), axis[keep], values[keep])
    e = e[np.isfinite(e)]
    if len(e) < MIN_JITTER_SAMPLES:
        return None
    d2 = np.diff(e, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def detect_altitude_source(ele, *, timed: bool, hint: str | None = None, dist_m=None) -> tuple[str, str]:
    """(source, reason): 'barometric', 'gps' or 'dem' (see the module docstring)."""
    if hint in SOURCES:
        return hint, "named by the file"
    jitter = altitude_jitter_m(ele, dist_m)
    if jitter is None:
        return ("barometric" if timed else "dem"), "too few points to judge; assumed smooth"
    if jitter >= GPS_JITTER_M:
        return "gps", f"altitude jitters {jitter:.1f} m from fix to fix (GPS altitude)"
    return ("barometric" if timed else "dem"), f"altitude jitters only {jitter:.2f} m (smooth)"


# --------------------------------------------------------------------------------------------- smoothing


def median_nearest(values: np.ndarray, size: int) -> np.ndarray:
    """Running median over an odd window, edges repeating the end values (scipy.ndimage.median_filter with
    mode="nearest", in numpy so importing this does not import scipy.ndimage)."""
    size = max(1, int(size)) | 1
    if size == 1 or len(values) < 3:
        return np.asarray(values, dtype=np.float64)
    half = size // 2
    return np.median(sliding_window_view(np.pad(values, half, mode="edge"), size), axis=1)


def gaussian_nearest(values: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """scipy.ndimage.gaussian_filter1d(values, sigma, mode="nearest") in numpy (same kernel)."""
    if sigma <= 0 or len(values) < 2:
        return np.asarray(values, dtype=np.float64)
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 / (sigma * sigma) * x * x)
    weights /= weights.sum()
    return np.convolve(np.pad(values, radius, mode="edge"), weights, mode="valid")


# -------------------------------------------------------------------------------------------- hysteresis


def hysteresis_runs(ele: np.ndarray, threshold_m: float) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Counted climbs [(low index, top index)] and descents [(top index, low index)] of a profile: a run counts
    once it has moved ``threshold_m`` from the last extreme, and then counts from that extreme."""
    e = np.asarray(ele, dtype=np.float64)
    n = len(e)
    if n < 2:
        return [], []
    d = np.sign(np.diff(e))
    nonzero = np.flatnonzero(d)
    # indices where the direction changes (turning points), plus both ends: the only points that matter
    turns = nonzero[1:][d[nonzero[1:]] != d[nonzero[:-1]]] if len(nonzero) > 1 else np.array([], dtype=int)
    points = np.unique(np.concatenate(([0], turns, [n - 1]))).tolist()
    climbs: list[tuple[int, int]] = []
    descents: list[tuple[int, int]] = []
    lo = hi = 0
    up: bool | None = None
    for i in points:
        v = e[i]
        if up is None:
            if v > e[hi]:
                hi = i
            if v < e[lo]:
                lo = i
            if e[hi] - e[lo] >= threshold_m:
                up = hi > lo
        elif up:
            if v > e[hi]:
                hi = i
            elif e[hi] - v >= threshold_m:
                climbs.append((lo, hi))
                up, lo = False, i
        else:
            if v < e[lo]:
                lo = i
            elif v - e[lo] >= threshold_m:
                descents.append((hi, lo))
                up, hi = True, i
    if up is True:
        climbs.append((lo, hi))
    elif up is False:
        descents.append((hi, lo))
    return climbs, descents


def _cumulative(e: np.ndarray, runs: list[tuple[int, int]], rising: bool) -> np.ndarray:
    step = np.zeros(len(e))
    for a, b in runs:
        seg = e[a:b + 1]
        env = np.maximum.accumulate(seg) if rising else -np.minimum.accumulate(seg)
        step[a + 1:b + 1] += np.diff(env)
    return np.cumsum(step)


# ---------------------------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class ElevationProfile:
    """A smoothed profile on a regular axis with cumulative gain and loss (metres) along it."""

    axis: np.ndarray        # metres of distance (by_distance) or seconds
    ele_m: np.ndarray
    cum_gain_m: np.ndarray
    cum_loss_m: np.ndarray
    source: str
    by_distance: bool = True

    @property
    def gain_m(self) -> float:
        return float(self.cum_gain_m[-1]) if len(self.cum_gain_m) else 0.0

    @property
    def loss_m(self) -> float:
        return float(self.cum_loss_m[-1]) if len(self.cum_loss_m) else 0.0


def _grid(axis: np.ndarray, step: float) -> np.ndarray:
    start, end = float(axis[0]), float(axis[-1])
    grid = np.arange(start, end, step)
    if len(grid) == 0 or grid[-1] < end:
        grid = np.append(grid, end)
    return grid


def elevation_profile(dist_m, ele_m, *, source: str | None = None, t_s=None, hint: str | None = None,
                      step_m: float = STEP_M, method: ElevationMethod | None = None) -> ElevationProfile | None:
    """The smoothed profile of a track (distance axis; time axis when there is no distance but there are
    timestamps). ``source`` None detects it (with the reader's ``hint``). None without two usable altitudes."""
    ele = np.asarray(ele_m, dtype=np.float64) if ele_m is not None else np.array([])
    n = len(ele)
    dist = np.asarray(dist_m, dtype=np.float64) if dist_m is not None else np.full(n, np.nan)
    if n < 2 or np.isfinite(ele).sum() < 2:
        return None
    if source not in SOURCES:
        source, _ = detect_altitude_source(ele, timed=t_s is not None, hint=hint, dist_m=dist)
    method = method or METHODS[source]
    axis, e = _finite_pairs(dist, ele)
    by_distance = len(axis) >= 2 and float(np.max(axis) - np.min(axis)) > 0
    scale = 1.0
    if not by_distance:
        if t_s is None:
            return None
        axis, e = _finite_pairs(t_s, ele)
        if len(axis) < 2 or float(np.max(axis) - np.min(axis)) <= 0:
            return None
        step_m, scale = 1.0, SECONDS_PER_M  # one sample a second; windows in seconds
    order = np.argsort(axis, kind="stable")
    axis, e = axis[order], e[order]
    axis = np.maximum.accumulate(axis)
    grid = _grid(axis, step_m)
    # np.interp needs increasing x: repeated axis values (a stop) keep their first altitude
    keep = np.concatenate(([True], np.diff(axis) > 0))
    profile = np.interp(grid, axis[keep], e[keep])
    if len(grid) >= 3:
        profile = median_nearest(profile, int(round(method.median_m * scale / step_m)))
        profile = gaussian_nearest(profile, max(method.sigma_m * scale / step_m, 0.5))
    climbs, descents = hysteresis_runs(profile, method.hysteresis_m)
    return ElevationProfile(grid, profile, _cumulative(profile, climbs, True), _cumulative(profile, descents, False),
                            source, by_distance)


def elevation_gain(dist_m, ele_m, *, source: str | None = None, t_s=None, hint: str | None = None
                   ) -> tuple[float | None, float | None, str | None]:
    """(gain, loss, source) of a track by the module's method; (None, None, None) without elevation."""
    profile = elevation_profile(dist_m, ele_m, source=source, t_s=t_s, hint=hint)
    if profile is None:
        return None, None, None
    return profile.gain_m, profile.loss_m, profile.source
