"""Ride metrics: pure functions over numpy arrays (no I/O). Formulas follow Coggan/Allen and GoldenCheetah (GC);
docs/COACHING.md ("Power") has the sources. Every claim below is checked in tests/test_power_metrics.py against
numbers computed by a re-implementation of GC's C++ loops and by ``sweat`` 0.25.0 on the real rides in tests/data.

Power samples (:func:`power_series`) — GoldenCheetah's sample list
--------------------------------------------------------------------
* Samples are grouped by whole second (several in one second: their mean; a 1 Hz file keeps its values);
  a missing or absurd reading (> 2,500 W) is 0 W, as GC's FIT reader stores it.
* A gap of 2–24 s between samples (smart recording) is filled by linear interpolation, as GC's FIT import does.
* A gap of 25 s or more is a pause. With the default ``gap_method="pauses"`` (GC's behaviour unless its manual
  Fix Gaps tool is run, and the timer time head units report) the paused time is not a sample: it counts neither
  in NP, average power, zones nor TSS duration. With ``gap_method="fix_gaps"`` GC's Fix Gaps tool is applied
  (defaults: a pause of up to 90 missing seconds is interpolated, a longer one or one at an unchanged GPS
  position is filled with 0 W samples).
* NP (GC's IsoPower): a 30-sample rolling mean whose window starts full of zeros, raised to the 4th power and
  averaged over every sample (so the first 29 samples count, with the zero padding); IF = NP / FTP;
  TSS = samples/3600 · IF² · 100. Average power, kJ and the zones count exactly the same samples.
  Difference from GC: no NP for fewer than 30 samples (GC would report a value made mostly of padding).
* Zones (GC's default power zones from a threshold: 0/55/75/90/105/120/150 %): a sample is in zone i when
  int(pct_i · FTP / 100) ≤ W < int(pct_i+1 · FTP / 100).
* The *timeline* — every second from the first sample to the last, pauses as 0 W (at most one hour per pause) —
  is what mean-maximal power and W′ balance use, as GC zero-fills gaps for both: a pause cannot be part of an
  effort, and W′ recovers during it.

W′ balance: Skiba's differential model (Skiba et al. 2015, with Froncioni and Clarke; GC WPrime.cpp) and the
integral model (Skiba et al. 2012, τ = 546·e^(−0.01·DCP) + 316 from the ride, truncated to whole seconds as GC).
The minimum is the true minimum (GC shows 0 when it is below −30 kJ).

Load without power: TRIMP(100) (GC's TRIMPPoints.cpp: Banister's TRIMP with Green et al.'s coefficient,
normalised so that one hour at LTHR scores 100); stored with load_method 'hr' and shown as "TRIMP".

Other streams (heart rate, speed, cadence: moving time, averages, decoupling) use :func:`resample_1hz`: sorted
samples, duplicates dropped, a gap longer than ``MAX_GAP_S`` (10 s) is a pause, shorter ones hold the last value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.files.elevation import elevation_gain
from core.rides.intervals import find_intervals

MAX_GAP_S = 10.0
MOVING_SPEED_MS = 0.5  # 1.8 km/h: below this the bike stands still
NP_WINDOW_S = 30
POWER_CURVE_S = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# Power zones: lower bounds in % of the threshold for Z1..Z7 (Coggan's levels; GC Zones.cpp defaults).
POWER_ZONE_PCT = (0, 55, 75, 90, 105, 120, 150)
GAP_METHODS = ("pauses", "fix_gaps")
SMART_RECORDING_GAP_S = 25   # GC FitRideFile.cpp: gaps of 2–24 s are interpolated at import
FIX_GAPS_STOP_S = 90         # GC FixGaps.cpp default "stop": missing seconds interpolated up to this
MAX_PAUSE_S = 3600           # a longer pause counts as one hour of 0 W on the timeline
DEFAULT_REST_HR = 60
TRIMP_K_MALE = 1.92          # Green et al. coefficient (1.67 for women)
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


@dataclass
class PowerSeries:
    """A ride's power as GoldenCheetah's sample list (see the module docstring).

    ``watts``: the samples NP, average power, kJ, zones and TSS count (one a second, pauses left out).
    ``timeline``: every second from the first sample to the last, pauses as 0 W (mean-maximal power, W′ balance).
    """

    watts: np.ndarray
    timeline: np.ndarray
    filled_s: int = 0       # seconds added by the smart-recording fill (2–24 s gaps)
    pauses: int = 0         # gaps of 25 s or more
    paused_s: float = 0.0   # their missing seconds
    zero_filled_s: int = 0  # seconds Fix Gaps filled with 0 W (gap_method "fix_gaps")
    gap_method: str = "pauses"


def _per_second(t_s: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Whole seconds with samples, and per column the mean of that second's finite values (NaN if none)."""
    t = np.asarray(t_s, dtype=np.float64)
    keep = np.isfinite(t)
    seconds = np.floor(t[keep] + 1e-6)
    unique, inverse = np.unique(seconds, return_inverse=True)
    out = []
    for values in columns:
        v = np.asarray(values, dtype=np.float64)[keep]
        ok = np.isfinite(v)
        sums = np.bincount(inverse, weights=np.where(ok, v, 0.0), minlength=len(unique))
        counts = np.bincount(inverse, weights=ok.astype(np.float64), minlength=len(unique))
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan))
    return unique, out


def timeline_seconds(t_s) -> np.ndarray:
    """Each sample's second on ``power_series``' timeline (whole seconds from the first sample, a pause over an
    hour counted as one hour, as there); -1 for a sample without a time. W′ balance at a sample is
    ``balance[timeline_seconds(t_s)]``."""
    t = np.asarray(t_s, dtype=np.float64)
    out = np.full(len(t), -1, dtype=np.int64)
    keep = np.isfinite(t)
    if not keep.any():
        return out
    unique, inverse = np.unique(np.floor(t[keep] + 1e-6), return_inverse=True)
    placed = np.concatenate(([0.0], np.cumsum(np.minimum(np.diff(unique), MAX_PAUSE_S + 1.0))))
    out[keep] = placed[inverse].astype(np.int64)
    return out


def power_series(t_s, power, lat=None, lon=None, gap_method: str = "pauses") -> PowerSeries | None:
    """GoldenCheetah's sample list for a ride's power (module docstring); None without a non-zero reading."""
    if gap_method not in GAP_METHODS:
        raise ValueError(f"unknown gap method {gap_method!r}")
    if power is None or t_s is None or len(t_s) == 0:
        return None
    n = len(t_s)
    lat = np.full(n, np.nan) if lat is None else lat
    lon = np.full(n, np.nan) if lon is None else lon
    seconds, (watts, la, lo) = _per_second(t_s, [power, lat, lon])
    if len(seconds) == 0:
        return None
    low, high, _ = LIMITS["power"]
    watts = np.where(np.isfinite(watts) & (watts >= low) & (watts <= high), watts, 0.0)  # GC: missing = 0 W
    if not (watts > 0).any():
        return None
    raw_step = np.diff(seconds)
    # A pause over an hour counts as one hour (W′ is back to full long before; a clock jump of days must not
    # become days of seconds): compress such gaps before laying the seconds out.
    step = np.minimum(raw_step, MAX_PAUSE_S + 1.0)
    seconds = np.concatenate(([0.0], np.cumsum(step)))
    # Smart recording: every second inside a 2–24 s gap is a linear interpolation of its two neighbours.
    dense = np.arange(0.0, seconds[-1] + 1.0)
    values = np.interp(dense, seconds, watts)
    gap_of = np.searchsorted(seconds, dense, side="right") - 1   # the sample at or before each second
    is_sample = np.zeros(len(dense), dtype=bool)
    is_sample[seconds.astype(np.int64)] = True
    in_short_gap = ~is_sample & (np.concatenate((step, [1.0]))[gap_of] < SMART_RECORDING_GAP_S)
    keep = is_sample | in_short_gap
    long_gaps = np.flatnonzero(step >= SMART_RECORDING_GAP_S)
    series = PowerSeries(np.zeros(0), np.zeros(0), filled_s=int(in_short_gap.sum()), pauses=len(long_gaps),
                         paused_s=float((raw_step[long_gaps] - 1).sum()), gap_method=gap_method)
    if gap_method == "fix_gaps":
        for i in long_gaps:  # GC FixGaps.cpp: gap = missing seconds; interpolate ≤ 90 s unless stationary
            missing = int(step[i] - 1)
            start = int(seconds[i]) + 1
            stationary = (np.isfinite(la[i]) and np.isfinite(lo[i]) and la[i] == la[i + 1] and lo[i] == lo[i + 1]
                          and (la[i] != 0 or lo[i] != 0))
            if not stationary and missing <= FIX_GAPS_STOP_S:
                # GC's slope reaches the next sample's value one second early (its last insert equals it).
                delta = (watts[i + 1] - watts[i]) / missing
                values[start:start + missing] = watts[i] + delta * np.arange(1, missing + 1)
            else:
                values[start:start + missing] = 0.0
                series.zero_filled_s += missing
            keep[start:start + missing] = True
    series.watts = values[keep]
    series.timeline = np.where(keep, values, 0.0)
    return series


def normalized_power(watts: np.ndarray | None) -> float | None:
    """GC's IsoPower: a 30-sample rolling mean started from a window of zeros, every sample counted:
    NP = mean(rolling^4)^(1/4). None without power or under 30 samples."""
    if watts is None or len(watts) < NP_WINDOW_S or not has_data(watts):
        return None
    p = np.nan_to_num(np.asarray(watts, dtype=np.float64), nan=0.0)
    csum = np.concatenate((np.zeros(NP_WINDOW_S), np.cumsum(p)))
    rolling = (csum[NP_WINDOW_S:] - csum[:-NP_WINDOW_S]) / NP_WINDOW_S
    return float(np.mean(rolling ** 4) ** 0.25)


def intensity_factor(np_w: float | None, ftp_w: float | None) -> float | None:
    """IF = NP / FTP."""
    if not np_w or not ftp_w:
        return None
    return np_w / ftp_w


def training_stress_score(duration_s: float, np_w: float | None, ftp_w: float | None) -> float | None:
    """TSS = s · NP · IF / (FTP · 3600) · 100, with s the seconds of power samples (pauses excluded)."""
    if_ = intensity_factor(np_w, ftp_w)
    if if_ is None:
        return None
    return duration_s * np_w * if_ / (ftp_w * 3600.0) * 100.0


def work_kj(watts: np.ndarray | None) -> float | None:
    """Mechanical work, kJ: Σ W · 1 s over the samples."""
    if watts is None or not len(watts):
        return None
    return float(np.nansum(watts) / 1000.0)


def trimp_points(avg_hr: float | None, minutes: float, rest_hr: float, max_hr: float | None,
                 k: float = TRIMP_K_MALE) -> float | None:
    """Banister's TRIMP with Green et al.'s coefficient (GC TRIMPPoints.cpp):
    minutes · x · 0.64 · e^(k·x), x = (avg HR − rest HR)/(max HR − rest HR); 0 below rest HR."""
    if avg_hr is None or not max_hr or max_hr <= rest_hr or minutes <= 0:
        return None
    if avg_hr < rest_hr:
        return 0.0
    x = (avg_hr - rest_hr) / (max_hr - rest_hr)
    return minutes * x * 0.64 * math.exp(k * x)


def trimp100(avg_hr: float | None, minutes: float, lthr: float | None, max_hr: float | None,
             rest_hr: float | None = None, k: float = TRIMP_K_MALE) -> float | None:
    """TRIMP(100) (GC TRIMPPoints.cpp): TRIMP scaled so that one hour at LTHR scores 100, the TSS scale.
    Without LTHR it is taken as 90 % of max HR; without max HR, max HR as LTHR / 0.9. Rest HR defaults to
    60 bpm (the profile has none)."""
    rest = float(rest_hr or DEFAULT_REST_HR)
    lthr = lthr or (0.9 * max_hr if max_hr else None)
    max_hr = max_hr or (lthr / 0.9 if lthr else None)
    if not lthr or not max_hr or not (rest < lthr < max_hr):
        return None
    trimp = trimp_points(avg_hr, minutes, rest, max_hr, k)
    hour_at_lthr = trimp_points(lthr, 60.0, rest, max_hr, k)
    if trimp is None or not hour_at_lthr:
        return None
    return 100.0 * trimp / hour_at_lthr


def power_zone_bounds(ftp_w: float) -> list[int]:
    """Lower bounds (W) of the 7 power zones: int(pct · FTP / 100), as GC's Zones.cpp."""
    return [int(pct * ftp_w / 100.0) for pct in POWER_ZONE_PCT]


def power_zones(watts: np.ndarray | None, ftp_w: float | None) -> list[float]:
    """Seconds in the 7 power zones over the same samples NP counts (zeros and filled seconds included):
    lo ≤ W < next lo, the last zone open (GC Zones.cpp)."""
    zones = [0.0] * len(POWER_ZONE_PCT)
    if not ftp_w or watts is None or not len(watts):
        return zones
    index = np.searchsorted(np.asarray(power_zone_bounds(ftp_w)), np.nan_to_num(watts, nan=0.0), side="right") - 1
    return [float(c) for c in np.bincount(np.clip(index, 0, None), minlength=len(zones))]


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


def hr_zones(hr_1hz: np.ndarray | None, lthr: float | None, max_hr: float | None) -> list[float]:
    """Seconds in 5 HR zones. From LTHR (Coggan): Z1 ≤ 68 %, Z2 ≤ 83 %, Z3 ≤ 94 %, Z4 ≤ 105 %, Z5 above.
    Without LTHR, from max HR: Z1 ≤ 60 %, Z2 ≤ 70 %, Z3 ≤ 80 %, Z4 ≤ 90 %, Z5 above."""
    if lthr:
        return zone_seconds(hr_1hz, HR_ZONE_BOUNDS_LTHR, lthr)
    return zone_seconds(hr_1hz, HR_ZONE_BOUNDS_MAX, max_hr)


def best_efforts(timeline: np.ndarray | None, durations) -> dict[int, tuple[float, int]]:
    """Mean-maximal power: for each duration d (s) not longer than the timeline, the highest mean over d
    consecutive seconds and where it starts: {d: (watts, start_s)}. Pauses are 0 W on the timeline."""
    if timeline is None or not len(timeline):
        return {}
    p = np.nan_to_num(np.asarray(timeline, dtype=np.float64), nan=0.0)
    csum = np.concatenate(([0.0], np.cumsum(p)))
    out = {}
    for d in sorted({int(d) for d in durations if 1 <= int(d) <= len(p)}):
        sums = csum[d:] - csum[:-d]
        start = int(np.argmax(sums))
        out[d] = (float(sums[start] / d), start)
    return out


def power_curve(timeline: np.ndarray | None, durations: tuple[int, ...] = POWER_CURVE_S) -> dict[str, float]:
    """The ride's best mean power for the standard durations up to its length and for the whole ride.
    Keys are seconds as strings (JSON)."""
    if not has_data(timeline):
        return {}
    best = best_efforts(timeline, (*durations, len(timeline)))
    return {str(d): watts for d, (watts, _) in best.items()}


def w_prime_balance(timeline: np.ndarray, cp_w: float, w_prime_j: float) -> np.ndarray:
    """Skiba's differential W′ balance (Skiba et al. 2015; GC WPrime.cpp), one value a second (J):
    below CP W′ recovers by (CP − P)·(W′ − W′bal)/W′, at or above CP it is spent by P − CP."""
    if cp_w <= 0 or w_prime_j <= 0:
        raise ValueError("CP and W′ must be positive")
    p = np.nan_to_num(np.asarray(timeline, dtype=np.float64), nan=0.0).tolist()
    out = np.empty(len(p))
    balance = float(w_prime_j)
    for i, watts in enumerate(p):  # a recurrence with a branch per second: a plain loop is the clear form
        if watts < cp_w:
            balance += (cp_w - watts) * (w_prime_j - balance) / w_prime_j
        else:
            balance += cp_w - watts
        out[i] = balance
    return out


def w_prime_balance_integral(timeline: np.ndarray, cp_w: float, w_prime_j: float) -> tuple[np.ndarray, int]:
    """Skiba's integral W′ balance (Skiba et al. 2012; GC WPrime.cpp): W′ − Σ_u (P_u − CP)⁺·e^(−(t−u)/τ), with
    τ = int(546·e^(−0.01·DCP) + 316) and DCP = CP − the ride's mean power below CP. Returns (stream, τ)."""
    p = np.nan_to_num(np.asarray(timeline, dtype=np.float64), nan=0.0)
    below = p[:-1][p[:-1] < cp_w] if len(p) > 1 else p[p < cp_w]
    dcp = cp_w - (float(np.maximum(below, 0).mean()) if len(below) else 0.0)
    tau = int(546.0 * math.exp(-0.01 * dcp) + 316.0)
    from scipy.signal import lfilter  # here: scipy.signal costs ~1 s to import, and only W′ balance uses it

    spent = lfilter([1.0], [1.0, -math.exp(-1.0 / tau)], np.maximum(p - cp_w, 0.0))
    return w_prime_j - spent, tau


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
    work_kj: float | None = None
    power_samples_s: float = 0.0   # the samples NP, zones and TSS count (pauses excluded by default)
    gap_method: str = "pauses"
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
                "flags": self.flags, "recorded_time_s": self.recorded_time_s, "work_kj": self.work_kj,
                "power_samples_s": self.power_samples_s, "gap_method": self.gap_method, "intervals": self.intervals}


def _mean(values: np.ndarray | None, mask: np.ndarray | None = None) -> float | None:
    if values is None:
        return None
    v = values if mask is None else values[mask]
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None


def _max(values: np.ndarray | None) -> float | None:
    return float(np.nanmax(values)) if has_data(values) else None


def ride_metrics(t_s: np.ndarray, *, power=None, hr=None, cadence=None, speed=None, dist_m=None, ele=None,
                 lat=None, lon=None, ftp_w: float | None = None, lthr: float | None = None,
                 max_hr: float | None = None, rest_hr: float | None = None, gap_method: str = "pauses",
                 altitude_source: str | None = None, altitude_hint: str | None = None) -> RideMetrics:
    """Every summary figure of a ride from its raw streams (any sampling; see the module docstring).

    Power figures (NP, average, max, kJ, zones, TSS, power curve) come from :func:`power_series`. Heart rate is
    averaged over recorded seconds with a reading; cadence over seconds with cadence > 0 (coasting excluded, as
    Garmin does). VI = NP / average power. EF = NP / average HR. Load: TSS from power when the ride has power and
    the athlete an FTP (load_method 'power'), else TRIMP(100) from heart rate (load_method 'hr')."""
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
    result = RideMetrics(flags=flags, gap_method=gap_method)
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
    series = power_series(t, raw["power"], lat, lon, gap_method) if raw["power"] is not None else None
    if series is not None:
        watts = series.watts
        result.power_samples_s = float(len(watts))
        result.avg_power_w = float(watts.mean())
        result.max_power_w = float(watts.max())
        result.work_kj = work_kj(watts)
        result.normalized_power_w = normalized_power(watts)
        result.zones_power_s = power_zones(watts, ftp_w)
        result.power_curve = power_curve(series.timeline)
        if series.pauses and gap_method == "fix_gaps":
            flags.append(f"{series.pauses} pause(s) filled as GoldenCheetah's Fix Gaps does "
                         f"({series.zero_filled_s} s at 0 W)")
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
        result.tss = training_stress_score(result.power_samples_s, np_w, ftp_w)
        result.load_method = "power"
    elif h is not None:
        minutes = (result.moving_time_s or n) / 60.0  # GC: time moving, else the duration
        result.tss = trimp100(result.avg_hr, minutes, lthr, max_hr, rest_hr)
        if result.tss is not None:
            result.load_method = "hr"
    if np_w is None and series is not None and len(series.watts) < NP_WINDOW_S:
        flags.append("ride shorter than 30 s: no normalized power")
    return result
