"""Ride metrics: pure functions over numpy arrays (no I/O). Formulas follow Coggan/Allen and GoldenCheetah.

Time base
---------
Every metric works on a 1 Hz series built by :func:`resample_1hz` from the recorded ``t_s``:

* samples are sorted by time and duplicate timestamps dropped (the first one is kept);
* a gap longer than ``MAX_GAP_S`` (10 s) between two samples is a pause (auto-pause, a stop, a recording
  dropout): the paused time is not part of the 1 Hz series, so it counts neither as riding time nor as zeros;
* shorter gaps are filled by holding the last recorded value ("smart recording" devices store a sample only
  when something changes); faster-than-1 Hz data is reduced to the value in force at each whole second.

This matches what head units report: the Wahoo ELEMNT test file says NP 157 W, TSS 190 over its 13,471 s of
timer time, and :func:`ride_metrics` gives the same figures from its samples (tests/test_metrics_real.py).

Absurd values (power > 2,500 W, heart rate outside 25–230 bpm, cadence > 250 rpm, speed > 35 m/s) are
removed before any figure is computed and reported in ``flags``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.files.elevation import elevation_gain
from core.rides.intervals import find_intervals

MAX_GAP_S = 10.0
MOVING_SPEED_MS = 0.5  # 1.8 km/h: below this the bike stands still
NP_WINDOW_S = 30
POWER_CURVE_S = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# Coggan power zones: upper bounds as fractions of FTP for Z1..Z6 (Z7 is everything above 150 %).
POWER_ZONE_BOUNDS = (0.55, 0.75, 0.90, 1.05, 1.20, 1.50)
# Coggan HR zones from LTHR: upper bounds for Z1..Z4 (Z5 is above 105 %).
HR_ZONE_BOUNDS_LTHR = (0.68, 0.83, 0.94, 1.05)
# Fallback when only max HR is known: 60/70/80/90 % of max HR.
HR_ZONE_BOUNDS_MAX = (0.60, 0.70, 0.80, 0.90)
LIMITS = {"power": (0.0, 2500.0, "W"), "hr": (25.0, 230.0, "bpm"), "cadence": (0.0, 250.0, "rpm"),
          "speed": (0.0, 35.0, "m/s")}
DECOUPLING_MIN_S = 20 * 60


def clean_absurd(name: str, values: np.ndarray | None) -> tuple[np.ndarray | None, str | None]:
    """Replace values outside the plausible range of ``name`` by NaN; returns (clean copy, flag or None)."""
    if values is None or name not in LIMITS:
        return values, None
    low, high, unit = LIMITS[name]
    values = np.asarray(values, dtype=np.float64)
    bad = np.isfinite(values) & ((values < low) | (values > high))
    count = int(bad.sum())
    if not count:
        return values, None
    values = values.copy()
    peak = float(np.nanmax(values[bad]))
    values[bad] = np.nan
    return values, f"{count} {name} value(s) outside {low:g}–{high:g} {unit} ignored (worst {peak:g} {unit})"


def resample_1hz(t_s: np.ndarray, columns: dict[str, np.ndarray | None],
                 max_gap_s: float = MAX_GAP_S) -> tuple[np.ndarray, dict[str, np.ndarray | None]]:
    """A 1 Hz series over the recorded time (see the module docstring). Returns (t, columns) where ``t`` holds
    the whole seconds kept (pauses left out) and each column the value in force at that second (NaN stays
    NaN; absent columns stay None)."""
    t = np.asarray(t_s, dtype=np.float64)
    finite = np.isfinite(t)
    if finite.sum() == 0:
        return np.zeros(0), {k: (None if v is None else np.zeros(0)) for k, v in columns.items()}
    order = np.argsort(t[finite], kind="stable")
    index = np.flatnonzero(finite)[order]
    t_sorted = t[index]
    t_unique, first = np.unique(t_sorted, return_index=True)
    index = index[first]
    breaks = np.flatnonzero(np.diff(t_unique) > max_gap_s)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(t_unique) - 1]))
    pieces = [np.arange(np.ceil(t_unique[s]), np.floor(t_unique[e]) + 1.0) for s, e in zip(starts, ends, strict=True)]
    grid = np.concatenate(pieces) if pieces else np.zeros(0)
    if len(grid) == 0:  # a single sample
        grid = np.array([t_unique[0]])
    pos = np.searchsorted(t_unique, grid, side="right") - 1
    pos = np.clip(pos, 0, len(t_unique) - 1)
    out = {}
    for name, values in columns.items():
        if values is None:
            out[name] = None
        else:
            out[name] = np.asarray(values, dtype=np.float64)[index][pos]
    return grid, out


def has_data(values: np.ndarray | None) -> bool:
    return values is not None and bool(np.isfinite(values).any())


def moving_mask(speed: np.ndarray | None, power: np.ndarray | None, cadence: np.ndarray | None,
                n: int) -> np.ndarray:
    """Moving seconds on a 1 Hz series: speed ≥ 0.5 m/s when speed is recorded; otherwise (indoor trainers)
    power > 0 or cadence > 0; with none of these every recorded second counts as moving."""
    if has_data(speed):
        return np.nan_to_num(speed, nan=0.0) >= MOVING_SPEED_MS
    mask = np.zeros(n, dtype=bool)
    found = False
    for values in (power, cadence):
        if has_data(values):
            mask |= np.nan_to_num(values, nan=0.0) > 0
            found = True
    return mask if found else np.ones(n, dtype=bool)


def normalized_power(power_1hz: np.ndarray) -> float | None:
    """NP = (mean(rolling_30s_mean(P)^4))^(1/4) over the 1 Hz series (missing power counts as 0 W, as a
    dropped pedal reading does on a head unit). None for rides shorter than 30 s or without power."""
    if not has_data(power_1hz) or len(power_1hz) < NP_WINDOW_S:
        return None
    p = np.nan_to_num(power_1hz, nan=0.0)
    csum = np.concatenate(([0.0], np.cumsum(p)))
    rolling = (csum[NP_WINDOW_S:] - csum[:-NP_WINDOW_S]) / NP_WINDOW_S
    return float(np.mean(rolling ** 4) ** 0.25)


def intensity_factor(np_w: float | None, ftp_w: float | None) -> float | None:
    """IF = NP / FTP."""
    if not np_w or not ftp_w:
        return None
    return np_w / ftp_w


def training_stress_score(duration_s: float, np_w: float | None, ftp_w: float | None) -> float | None:
    """TSS = s · NP · IF / (FTP · 3600) · 100, with s the recorded seconds (pauses excluded)."""
    if_ = intensity_factor(np_w, ftp_w)
    if if_ is None:
        return None
    return duration_s * np_w * if_ / (ftp_w * 3600.0) * 100.0


def hr_training_stress(hr_1hz: np.ndarray, moving: np.ndarray, lthr: float | None,
                       max_hr: float | None) -> float | None:
    """HR-based load for rides without power ("hrTSS"): IF_hr = mean moving HR / LTHR and
    hrTSS = hours_moving · IF_hr² · 100 — the TSS formula with heart rate standing in for power, so one hour
    at LTHR scores 100 as one hour at FTP does. Without LTHR, LTHR is estimated as 0.9 · max HR."""
    threshold = lthr or (0.9 * max_hr if max_hr else None)
    if not threshold or not has_data(hr_1hz):
        return None
    hr = hr_1hz[moving & np.isfinite(hr_1hz)]
    if len(hr) == 0:
        return None
    if_hr = float(np.mean(hr)) / threshold
    return len(hr) / 3600.0 * if_hr ** 2 * 100.0


def zone_seconds(values: np.ndarray | None, bounds: tuple[float, ...], reference: float | None) -> list[float]:
    """Seconds of a 1 Hz series in each zone: zone i holds reference·bounds[i-1] < v ≤ reference·bounds[i];
    the last zone is everything above the last bound. Missing values count in no zone."""
    zones = [0.0] * (len(bounds) + 1)
    if not reference or not has_data(values):
        return zones
    v = values[np.isfinite(values)]
    edges = np.asarray(bounds) * reference
    index = np.searchsorted(edges, v, side="left")  # v ≤ edge → that zone
    counts = np.bincount(index, minlength=len(zones))
    return [float(c) for c in counts]


def power_zones(power_1hz: np.ndarray | None, ftp_w: float | None) -> list[float]:
    """Seconds in Coggan's 7 power zones: Z1 ≤ 55 % FTP, Z2 ≤ 75 %, Z3 ≤ 90 %, Z4 ≤ 105 %, Z5 ≤ 120 %,
    Z6 ≤ 150 %, Z7 above."""
    return zone_seconds(power_1hz, POWER_ZONE_BOUNDS, ftp_w)


def hr_zones(hr_1hz: np.ndarray | None, lthr: float | None, max_hr: float | None) -> list[float]:
    """Seconds in 5 HR zones. From LTHR (Coggan): Z1 ≤ 68 %, Z2 ≤ 83 %, Z3 ≤ 94 %, Z4 ≤ 105 %, Z5 above.
    Without LTHR, from max HR: Z1 ≤ 60 %, Z2 ≤ 70 %, Z3 ≤ 80 %, Z4 ≤ 90 %, Z5 above."""
    if lthr:
        return zone_seconds(hr_1hz, HR_ZONE_BOUNDS_LTHR, lthr)
    return zone_seconds(hr_1hz, HR_ZONE_BOUNDS_MAX, max_hr)


def power_curve(power_1hz: np.ndarray | None, durations: tuple[int, ...] = POWER_CURVE_S) -> dict[str, float]:
    """Mean-maximal power: for each duration d (seconds) the highest mean over any d consecutive seconds of
    the 1 Hz series (missing power as 0 W), for the standard durations up to the ride's length plus the
    ride's whole length. Keys are seconds as strings (JSON)."""
    if not has_data(power_1hz):
        return {}
    p = np.nan_to_num(power_1hz, nan=0.0)
    n = len(p)
    csum = np.concatenate(([0.0], np.cumsum(p)))
    curve = {}
    for d in sorted({d for d in durations if d <= n} | {n}):
        curve[str(d)] = float(np.max(csum[d:] - csum[:-d]) / d)
    return curve


def aerobic_decoupling(power_1hz: np.ndarray | None, hr_1hz: np.ndarray | None,
                       moving: np.ndarray) -> float | None:
    """Pw:HR decoupling in % = (EF₁ − EF₂) / EF₁ · 100, where EFᵢ = mean power / mean HR over the first and
    second half of the moving seconds. Positive = HR drifted up against power. None under 20 min or without
    both streams."""
    if not has_data(power_1hz) or not has_data(hr_1hz):
        return None
    keep = moving & np.isfinite(hr_1hz) & (hr_1hz > 0)
    p = np.nan_to_num(power_1hz, nan=0.0)[keep]
    hr = hr_1hz[keep]
    if len(p) < DECOUPLING_MIN_S:
        return None
    half = len(p) // 2
    ef1 = p[:half].mean() / hr[:half].mean()
    ef2 = p[half:].mean() / hr[half:].mean()
    if ef1 <= 0:
        return None
    return float((ef1 - ef2) / ef1 * 100.0)


@dataclass
class RideMetrics:
    """Summary figures of one ride; ``metrics_json()`` is what rides.metrics stores."""

    elapsed_time_s: float | None = None
    recorded_time_s: float = 0.0
    moving_time_s: float = 0.0
    distance_m: float | None = None
    elevation_gain_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    avg_power_w: float | None = None
    max_power_w: float | None = None
    normalized_power_w: float | None = None
    avg_cadence: float | None = None
    intensity_factor: float | None = None
    tss: float | None = None
    load_method: str | None = None
    zones_power_s: list[float] = field(default_factory=lambda: [0.0] * 7)
    zones_hr_s: list[float] = field(default_factory=lambda: [0.0] * 5)
    power_curve: dict[str, float] = field(default_factory=dict)
    vi: float | None = None
    ef: float | None = None
    decoupling_pct: float | None = None
    altitude_source: str | None = None   # barometric | gps | dem: how elevation_gain_m was computed
    intervals: list[dict] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def metrics_json(self) -> dict:
        return {"zones_power_s": self.zones_power_s, "zones_hr_s": self.zones_hr_s,
                "power_curve": self.power_curve, "vi": self.vi, "ef": self.ef,
                "decoupling_pct": self.decoupling_pct, "hr_load": self.load_method == "hr",
                "flags": self.flags, "recorded_time_s": self.recorded_time_s, "intervals": self.intervals}


def _mean(values: np.ndarray | None, mask: np.ndarray | None = None) -> float | None:
    if values is None:
        return None
    v = values if mask is None else values[mask]
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None


def _max(values: np.ndarray | None) -> float | None:
    return float(np.nanmax(values)) if has_data(values) else None


def ride_metrics(t_s: np.ndarray, *, power=None, hr=None, cadence=None, speed=None, dist_m=None, ele=None,
                 ftp_w: float | None = None, lthr: float | None = None, max_hr: float | None = None,
                 altitude_source: str | None = None, altitude_hint: str | None = None) -> RideMetrics:
    """Every summary figure of a ride from its raw streams (any sampling; see the module docstring).

    Averages: power over every recorded second (zeros count, missing = 0 W: the head-unit convention);
    heart rate over recorded seconds with a reading; cadence over seconds with cadence > 0 (coasting
    excluded, as Garmin does). VI = NP / average power. EF = NP / average HR. Load: TSS from power when the
    ride has power and the athlete an FTP (load_method 'power'), else hrTSS (load_method 'hr')."""
    flags: list[str] = []
    if hr is not None:  # 0 bpm is a strap that lost contact, not a reading
        hr = np.where(np.asarray(hr, dtype=np.float64) == 0, np.nan, np.asarray(hr, dtype=np.float64))
    if power is not None and has_data(np.asarray(power, dtype=np.float64)) and not np.nanmax(power) > 0:
        power = None  # a stream of zeros only: the unit logs 0 W without a power meter
        flags.append("power recorded as 0 W throughout: treated as a ride without power")
    raw = {"power": power, "hr": hr, "cadence": cadence, "speed": speed}
    for name in list(raw):
        cleaned, flag = clean_absurd(name, raw[name])
        raw[name] = cleaned if has_data(cleaned) else None
        if flag:
            flags.append(flag)
    t = np.asarray(t_s, dtype=np.float64)
    result = RideMetrics(flags=flags)
    if len(t) == 0 or not np.isfinite(t).any():
        return result
    # Each sample stands for the second that follows it: 1 Hz samples at 0..n-1 span n seconds.
    result.elapsed_time_s = float(np.nanmax(t) - np.nanmin(t)) + (1.0 if np.isfinite(t).sum() > 1 else 0.0)
    if dist_m is not None and has_data(np.asarray(dist_m, dtype=np.float64)):
        d = np.asarray(dist_m, dtype=np.float64)
        result.distance_m = float(np.nanmax(d) - np.nanmin(d))
    # Elevation by the one method of core.files.elevation (the same figure as the ride's sections and climbs)
    result.elevation_gain_m, _, result.altitude_source = elevation_gain(
        dist_m, ele, source=altitude_source, t_s=t, hint=altitude_hint)
    if raw["speed"] is None and dist_m is not None and has_data(np.asarray(dist_m, dtype=np.float64)):
        # Speed from distance when the device did not record it (many GPX files).
        d = np.asarray(dist_m, dtype=np.float64)
        dt = np.diff(t, prepend=np.nan)
        derived = np.diff(d, prepend=np.nan) / np.where(dt > 0, dt, np.nan)
        raw["speed"] = clean_absurd("speed", derived)[0]
    grid, s = resample_1hz(t, raw)
    n = len(grid)
    result.recorded_time_s = float(n)
    p, h, c, v = s["power"], s["hr"], s["cadence"], s["speed"]
    moving = moving_mask(v, p, c, n)
    result.moving_time_s = float(moving.sum())
    if has_data(p):
        result.avg_power_w = float(np.nan_to_num(p, nan=0.0).mean())
        result.max_power_w = _max(p)
        result.normalized_power_w = normalized_power(p)
        result.zones_power_s = power_zones(p, ftp_w)
        result.power_curve = power_curve(p)
    result.avg_hr = _mean(h)
    result.max_hr = _max(h)
    if c is not None:
        result.avg_cadence = _mean(np.where(c > 0, c, np.nan))
    result.zones_hr_s = hr_zones(h, lthr, max_hr)
    np_w = result.normalized_power_w
    if np_w and result.avg_power_w:
        result.vi = np_w / result.avg_power_w
    if np_w and result.avg_hr:
        result.ef = np_w / result.avg_hr
    result.decoupling_pct = aerobic_decoupling(p, h, moving)
    result.intervals = find_intervals(grid, power=p, hr=h, cadence=c, speed=v, ftp_w=ftp_w, lthr=lthr,
                                      max_hr=max_hr)
    if np_w and ftp_w:
        result.intensity_factor = intensity_factor(np_w, ftp_w)
        result.tss = training_stress_score(n, np_w, ftp_w)
        result.load_method = "power"
    elif h is not None:
        result.tss = hr_training_stress(h, moving, lthr, max_hr)
        if result.tss is not None:
            result.load_method = "hr"
            threshold = lthr or 0.9 * max_hr
            moving_hr = _mean(h, moving)
            result.intensity_factor = moving_hr / threshold if moving_hr else None
    if np_w is None and has_data(p) and n < NP_WINDOW_S:
        flags.append("ride shorter than 30 s: no normalized power")
    return result
