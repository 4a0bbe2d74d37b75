"""Intervals in every ride: the work bouts found in the 1 Hz streams — pure functions, no I/O.

Method: a Schmitt trigger (threshold with hysteresis) on power smoothed over ``SMOOTH_S`` seconds, relative to
the athlete's FTP, the way change detection on a noisy signal is usually made robust:

1. a bout *starts* where smoothed power reaches ``on_frac`` × FTP (default 88 %, Coggan's sweet-spot floor) and
   *lasts* while it stays above ``off_frac`` × FTP (default 75 %, the top of Coggan's endurance zone); a drop
   below that for no more than ``GAP_S`` seconds (a gear change, a bend) does not end it;
2. its edges are trimmed to the first and last second of raw power at or above the off threshold (smoothing
   widens a bout by half its window at each end);
3. a bout counts when it lasts ``MIN_WORK_S`` or more, or ``MIN_SPRINT_S`` at ≥ ``SPRINT_FRAC`` × FTP;
4. each bout reports its duration, average, normalised (≥ 30 s) and maximum power, % FTP and Coggan zone,
   heart rate, cadence (pedalling seconds) and speed.

This follows GoldenCheetah's idea of finding efforts against the athlete's threshold (its interval discovery
marks sustained efforts above CP) with the thresholds of Coggan & Allen's power zones (Training and Racing with
a Power Meter, 2010). Without FTP it is estimated as 95 % of the ride's best 20 minutes (Allen & Coggan's field
test) when the ride lasts that long. Without power, the same trigger runs on heart rate against LTHR (on 92 %,
off 85 %, bouts of ≥ 60 s: heart rate lags power by tens of seconds, so short bouts vanish), else on speed
against the ride's median moving speed (on 115 %, off 105 %) — rough, and labelled with their basis.
"""

from __future__ import annotations

import numpy as np

SMOOTH_S = 10
GAP_S = 10
MIN_WORK_S = 30
MIN_SPRINT_S = 8
SPRINT_FRAC = 1.5
POWER_ON, POWER_OFF = 0.88, 0.75
HR_ON, HR_OFF, HR_MIN_S = 0.92, 0.85, 60
SPEED_ON, SPEED_OFF, SPEED_MIN_S = 1.15, 1.05, 60
# Coggan power zones by % FTP: (upper bound, name)
ZONES = ((0.55, "Z1 recovery"), (0.75, "Z2 endurance"), (0.90, "Z3 tempo"), (1.05, "Z4 threshold"),
         (1.20, "Z5 VO2max"), (1.50, "Z6 anaerobic"), (float("inf"), "Z7 neuromuscular"))


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    v = np.nan_to_num(values, nan=0.0)
    if len(v) < window:
        return v
    csum = np.concatenate(([0.0], np.cumsum(v)))
    half = window // 2
    lo = np.clip(np.arange(len(v)) - half, 0, len(v))
    hi = np.clip(np.arange(len(v)) + window - half, 0, len(v))
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)


def bouts(signal: np.ndarray, on: float, off: float, *, raw: np.ndarray | None = None, gap_s: int = GAP_S,
          smooth_s: int = SMOOTH_S) -> list[tuple[int, int]]:
    """(first, last) indices of the stretches where the smoothed signal rises to ``on`` and stays above ``off``
    (gaps up to ``gap_s`` bridged), edges trimmed to where ``raw`` (default: the signal) is at or above ``off``."""
    x = np.asarray(signal, dtype=np.float64)
    if len(x) == 0:
        return []
    raw = x if raw is None else np.asarray(raw, dtype=np.float64)
    smooth = _centred_mean(x, smooth_s)
    above = smooth >= off
    edges = np.flatnonzero(np.diff(np.concatenate(([0], above.astype(np.int8), [0]))))
    runs = [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] - 1 <= gap_s:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    strong_raw = np.nan_to_num(raw, nan=-np.inf) >= off
    reach = smooth_s // 2 + 1
    out = []
    for first, last in merged:
        if not np.any(smooth[first:last + 1] >= on):
            continue
        strong = np.flatnonzero(strong_raw[first:last + 1])
        if not len(strong):
            continue
        first, last = first + int(strong[0]), first + int(strong[-1])
        # the smoothed signal reaches the threshold a few seconds late and leaves it early: recover those
        for _ in range(reach):
            if first > 0 and strong_raw[first - 1]:
                first -= 1
            if last + 1 < len(x) and strong_raw[last + 1]:
                last += 1
        out.append((first, last))
    return out


def _normalized(power: np.ndarray) -> float | None:
    if len(power) < 30:
        return None
    p = np.nan_to_num(power, nan=0.0)
    csum = np.concatenate(([0.0], np.cumsum(p)))
    rolling = (csum[30:] - csum[:-30]) / 30
    return float(np.mean(rolling ** 4) ** 0.25)


def _mean(values: np.ndarray | None) -> float | None:
    if values is None:
        return None
    v = values[np.isfinite(values)]
    return float(v.mean()) if len(v) else None


def zone_name(fraction_of_ftp: float) -> str:
    for bound, name in ZONES:
        if fraction_of_ftp <= bound:
            return name
    return ZONES[-1][1]


def estimated_ftp(power_1hz: np.ndarray | None) -> float | None:
    """95 % of the best 20-minute mean power (Allen & Coggan's field test), or None under 20 minutes."""
    if power_1hz is None or len(power_1hz) < 1200 or not np.isfinite(power_1hz).any():
        return None
    p = np.nan_to_num(power_1hz, nan=0.0)
    csum = np.concatenate(([0.0], np.cumsum(p)))
    best = float(np.max(csum[1200:] - csum[:-1200]) / 1200)
    return 0.95 * best if best > 0 else None


def find_intervals(t: np.ndarray, *, power=None, hr=None, cadence=None, speed=None, ftp_w: float | None = None,
                   lthr: float | None = None, max_hr: float | None = None, on_frac: float = POWER_ON,
                   off_frac: float = POWER_OFF) -> list[dict]:
    """Work bouts of a ride from its 1 Hz series (``t`` whole seconds, pauses left out; see the module
    docstring). Each: start_s, end_s, duration_s, avg/np/max power, pct_ftp, zone, avg/max HR, avg cadence,
    avg speed (km/h) and ``basis`` ('power', 'hr' or 'speed')."""
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    if n < MIN_SPRINT_S:
        return []

    def arr(values):
        return None if values is None else np.asarray(values, dtype=np.float64)

    power, hr, cadence, speed = arr(power), arr(hr), arr(cadence), arr(speed)
    has = {k: v is not None and np.isfinite(v).any() and np.nanmax(v) > 0
           for k, v in (("power", power), ("hr", hr), ("speed", speed))}
    basis, reference, found, estimated = None, None, [], False
    if has["power"]:
        reference = ftp_w or estimated_ftp(power)
        estimated = not ftp_w
        if reference:
            basis = "power"
            found = bouts(power, on_frac * reference, off_frac * reference)
    if basis is None and has["hr"] and (lthr or max_hr):
        basis, reference = "hr", lthr or 0.9 * max_hr
        found = bouts(hr, HR_ON * reference, HR_OFF * reference, smooth_s=SMOOTH_S)
    if basis is None and has["speed"]:
        moving = speed[np.nan_to_num(speed) >= 0.5]
        if len(moving):
            basis, reference = "speed", float(np.median(moving))
            found = bouts(speed, SPEED_ON * reference, SPEED_OFF * reference)
    out = []
    for first, last in found:
        sl = slice(first, last + 1)
        duration = last - first + 1
        p = None if power is None else power[sl]
        avg_p = _mean(p) if has["power"] else None
        minimum = {"power": MIN_WORK_S, "hr": HR_MIN_S, "speed": SPEED_MIN_S}[basis]
        sprint = basis == "power" and avg_p is not None and avg_p >= SPRINT_FRAC * reference
        if duration < minimum and not (sprint and duration >= MIN_SPRINT_S):
            continue
        cad = None if cadence is None else cadence[sl]
        item = {
            "start_s": float(t[first]), "end_s": float(t[last] + 1), "duration_s": float(duration),
            "avg_power_w": avg_p, "np_w": _normalized(p) if avg_p is not None else None,
            "max_power_w": float(np.nanmax(p)) if avg_p is not None else None,
            "avg_hr": _mean(None if hr is None else hr[sl]),
            "max_hr": float(np.nanmax(hr[sl])) if hr is not None and np.isfinite(hr[sl]).any() else None,
            "avg_cadence": _mean(None if cad is None else np.where(cad > 0, cad, np.nan)),
            "avg_speed_kmh": None if speed is None or _mean(speed[sl]) is None else _mean(speed[sl]) * 3.6,
            "basis": basis,
        }
        if basis == "power":
            item["pct_ftp"] = avg_p / reference * 100.0
            item["zone"] = zone_name(avg_p / reference)
            item["ftp_estimated"] = estimated
        out.append({k: (round(v, 1) if isinstance(v, float) else v) for k, v in item.items()})
    return out
