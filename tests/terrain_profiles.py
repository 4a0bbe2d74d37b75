"""Synthetic rides and routes for the terrain tests: true profiles with known gain, plus altitude noise as GPS
receivers and barometers produce it (written for this project)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scipy.signal import lfilter

from core.files.streams import ActivityStreams

EARTH_RADIUS_M = 6_371_000.0


def gps_altitude_noise(n: int, seed: int = 1, white_m: float = 4.0, wander_m: float = 5.0,
                       wander_s: float = 60.0) -> np.ndarray:
    """Fix-to-fix GPS altitude error: white noise plus a slow wander (AR(1), ``wander_s`` correlation time)."""
    rng = np.random.default_rng(seed)
    a = np.exp(-1.0 / wander_s)
    wander = lfilter([np.sqrt(1 - a * a)], [1, -a], rng.normal(0, wander_m, n))
    return rng.normal(0, white_m, n) + wander


def barometric_noise(n: int, seed: int = 1) -> np.ndarray:
    """A barometer: slow drift of a metre or two, quantised to 0.2 m as FIT stores altitude."""
    rng = np.random.default_rng(seed)
    drift = lfilter([0.002], [1, -0.998], rng.normal(0, 1.0, n))
    return drift


def track_positions(dist_m: np.ndarray, lat0: float = 45.0, lon0: float = 6.0, heading_deg: float = 30.0,
                    wiggle_m: float = 0.0):
    """lat/lon of a straight-ish road (gentle curve) for cumulative distances."""
    heading = np.radians(heading_deg) + 0.3 * np.sin(dist_m / 3000.0)
    step = np.diff(dist_m, prepend=dist_m[0])
    x = np.cumsum(step * np.sin(heading))
    y = np.cumsum(step * np.cos(heading))
    lat = lat0 + np.degrees(y / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(x / (EARTH_RADIUS_M * np.cos(np.radians(lat0))))
    return lat, lon


def ride_over(profile_dist_m: np.ndarray, profile_ele_m: np.ndarray, *, noise: str = "gps", seed: int = 1,
              speed_flat_ms: float = 8.0, started_at: datetime | None = None, power_w: float | None = 200.0,
              lat0: float = 45.0, lon0: float = 6.0) -> ActivityStreams:
    """A 1 Hz ride along a true profile: slower uphill, faster downhill; altitude with ``noise`` ('gps',
    'barometric' or 'none')."""
    grade = np.gradient(profile_ele_m, profile_dist_m)
    total = float(profile_dist_m[-1])
    dist = [0.0]
    while dist[-1] < total:
        g = float(np.interp(dist[-1], profile_dist_m, grade))
        dist.append(dist[-1] + float(np.clip(speed_flat_ms * (1 - 8 * g), 2.5, 16.0)))
    dist = np.minimum(np.array(dist), total)
    n = len(dist)
    true_ele = np.interp(dist, profile_dist_m, profile_ele_m)
    extra = {"gps": gps_altitude_noise, "barometric": barometric_noise}.get(noise)
    ele = true_ele + (extra(n, seed) if extra else 0.0)
    if noise == "barometric":
        ele = np.round(ele * 5) / 5
    lat, lon = track_positions(dist, lat0, lon0)
    power = None if power_w is None else np.full(n, power_w)
    return ActivityStreams(lat=lat, lon=lon, ele=ele, dist_m=dist, t_s=np.arange(n, dtype=np.float64),
                           power=power, started_at=started_at or datetime(2025, 5, 1, 8, tzinfo=UTC),
                           name="Synthetic ride", source_format="gpx")


def flat_profile(length_m: float = 30_000.0, ele_m: float = 120.0):
    dist = np.arange(0.0, length_m + 1, 10.0)
    return dist, np.full(len(dist), ele_m)


def two_climbs_profile():
    """Flat, 5 km at 7 % (350 m), descent, flat, 4.3 km at 8 % (344 m), descent: true gain 694 m."""
    knots_d = [0, 3000, 8000, 12000, 14000, 18300, 22600, 25000]
    knots_e = [200, 200, 550, 250, 250, 594, 250, 250]
    dist = np.arange(0.0, knots_d[-1] + 1, 10.0)
    return dist, np.interp(dist, knots_d, knots_e)
