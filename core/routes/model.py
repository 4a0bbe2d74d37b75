"""The riding model behind route time estimates and gear hints: the steady-state power balance (speed for a
power on a grade), Tobler's hiking function for stretches nobody rides, and every tuning parameter
(``SectionParams``) of sectioning and of the model. Pure: no I/O.

Power balance (Martin et al. 1998, "Validation of a mathematical model for road cycling power", J Appl Biomech
14:276–291, without the kinetic-energy and bearing terms): η·P = m·g·v·(sin θ + Crr·cos θ) + ½·ρ·CdA·v³, with
ρ falling with altitude (scale height 8,500 m). CdA, Crr and bike mass are athlete settings (Settings page).

Walking: Tobler (1993), "Three presentations on geographical analysis and modeling", NCGIA technical report
93-1: v = 6·exp(−3.5·|S + 0.05|) km/h on slope S = dh/dx; pushing a bike up (or down) a 25 % track is a walk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

G = 9.80665  # m/s²


@dataclass(frozen=True)
class SectionParams:
    """Every tuning parameter of sectioning and of the time/gear model, with its unit."""

    # --- profile (smoothing per altitude source: core.files.elevation.METHODS) ---
    resample_step_m: float = 10.0        # elevation resampled on this distance grid
    grade_window_m: float = 100.0        # grade of a sample = rise over this distance centred on it
    label_grade_pct: float = 2.0         # a sample is up/down beyond ± this grade
    # --- sections ---
    min_climb_length_m: float = 500.0
    min_climb_grade_pct: float = 3.0
    min_descent_length_m: float = 500.0
    min_descent_grade_pct: float = 3.0
    max_dip_length_m: float = 250.0      # an interruption shorter than this …
    max_dip_height_ratio: float = 0.25   # … whose height change is ≤ this × its neighbours' does not split them
    max_grade_window_m: float = 100.0    # "max grade" is the steepest stretch of at least this length
    min_flat_length_m: float = 200.0     # a shorter flat at a summit, valley or route end joins its neighbours
    min_category_grade_pct: float = 3.0  # Strava: no category below a 3 % average
    wall_grade_pct: float = 10.0         # a stretch this steep over wall_window_m inside a flat or descent …
    wall_window_m: float = 50.0          # … is split out as a climb of its own (a "wall")
    wall_edge_grade_pct: float = 4.0     # the wall reaches as far as its grade stays above this
    unrideable_grade_pct: float = 20.0   # sustained over unrideable_window_m: nobody rides it (walk / hike)
    unrideable_window_m: float = 200.0
    # --- power-balance model (steady state; P·η = m·g·v·(sin θ + Crr·cos θ) + ½·ρ·CdA·v³) ---
    cda_m2: float = 0.32                 # hoods position, road bike (athlete setting)
    crr: float = 0.005                   # good road tyres on asphalt (athlete setting)
    drivetrain_efficiency: float = 0.97
    sea_level_air_density: float = 1.225  # kg/m³, falls with altitude (scale height 8,500 m)
    bike_kg: float = 9.0                 # bike and kit (athlete setting)
    default_ftp_w: float = 200.0         # used when the athlete has no FTP
    default_weight_kg: float = 75.0      # used when the athlete has no weight
    climb_power_frac: float = 0.85       # sustainable climbing power as a share of FTP
    flat_power_frac: float = 0.70        # endurance pace on flats
    descent_power_frac: float = 0.30     # soft pedalling downhill
    max_descent_speed_kmh: float = 60.0  # braking for bends caps descending speed
    min_speed_kmh: float = 4.0           # below this the rider walks: no slower
    # --- gear hint ---
    gear_cadence_rpm: float = 70.0
    wheel_circumference_m: float = 2.105  # 700×25C
    small_chainring: int = 34            # compact crankset
    largest_common_cog: int = 34

    def describe(self) -> str:
        return (f"CdA {self.cda_m2} m², Crr {self.crr}, drivetrain {self.drivetrain_efficiency:.0%}, bike "
                f"{self.bike_kg:g} kg, climbs at {self.climb_power_frac:.0%} of FTP, flats at "
                f"{self.flat_power_frac:.0%}, descents at {self.descent_power_frac:.0%} capped at "
                f"{self.max_descent_speed_kmh:g} km/h; gears for {self.gear_cadence_rpm:g} rpm on a "
                f"{self.wheel_circumference_m} m wheel")


DEFAULT_PARAMS = SectionParams()


def air_density(ele_m, params: SectionParams = DEFAULT_PARAMS):
    ele = np.nan_to_num(np.asarray(ele_m, dtype=np.float64), nan=0.0)
    return params.sea_level_air_density * np.exp(-np.clip(ele, -500, 9000) / 8500.0)


def speed_for_power(power_w, grade_pct, *, mass_kg: float, params: SectionParams = DEFAULT_PARAMS,
                    rho=None) -> np.ndarray:
    """Steady speed (m/s) at which ``power_w`` balances gravity, rolling and air resistance on ``grade_pct``.

    Solves η·P = m·g·v·(sin θ + Crr·cos θ) + ½·ρ·CdA·v³ for the largest root (vectorised; at most 60 m/s);
    the result is clipped to [min_speed_kmh, max_descent_speed_kmh].

    Newton's method from an upper bound of the root: f is increasing and convex there, so the iterates fall
    monotonically onto the root, to the last bits in ~6–10 steps (the former 60-step bisection gave the same
    speeds, to ~1e-15, and took 0.55 s of a 2,000 km ride's 0.8 s sectioning)."""
    power = np.asarray(power_w, dtype=np.float64) * params.drivetrain_efficiency
    theta = np.arctan(np.asarray(grade_pct, dtype=np.float64) / 100.0)
    power, theta = np.broadcast_arrays(power, theta)
    rho = air_density(0.0, params) if rho is None else np.asarray(rho, dtype=np.float64)
    a = 0.5 * rho * params.cda_m2 * np.ones_like(theta)
    b = mass_kg * G * (np.sin(theta) + params.crr * np.cos(theta))
    # f(v) = a v³ + b v − P is increasing and convex beyond v0 = sqrt(max(0, −b / 3a)), where f(v0) ≤ 0 for
    # P ≥ 0, so the largest root is ≥ v0. It is ≤ u: a·v³ = P − b·v ≤ 2·max(P, −b·v) at the root.
    positive = np.maximum(power, 0.0)
    v = np.maximum(np.cbrt(2.0 * positive / a), np.sqrt(2.0 * np.maximum(-b, 0.0) / a))
    v = np.maximum(v, np.sqrt(np.maximum(0.0, -b / (3 * a))))
    for _ in range(60):
        slope = 3.0 * a * v * v + b
        step = np.divide(a * v**3 + b * v - power, slope, out=np.zeros_like(v), where=slope > 0)
        v = v - step
        if not np.any(np.abs(step) > 1e-13 * np.maximum(v, 1e-9)):
            break
    v = np.minimum(v, 60.0)
    return np.clip(v, params.min_speed_kmh / 3.6, params.max_descent_speed_kmh / 3.6)


def gear_hint(grade_pct: float, power_w: float, *, mass_kg: float,
              params: SectionParams = DEFAULT_PARAMS) -> tuple[str, dict]:
    """The lowest gear ratio needed to hold ``gear_cadence_rpm`` at ``power_w`` on ``grade_pct``.

    Returns (text, assumptions). Ratio = speed / (cadence/60 × wheel circumference); expressed on a compact
    crankset as the cog that gives that ratio or lower."""
    v = float(speed_for_power(power_w, grade_pct, mass_kg=mass_kg, params=params))
    ratio = v / (params.gear_cadence_rpm / 60.0 * params.wheel_circumference_m)
    cog = math.ceil(params.small_chainring / ratio) if ratio > 0 else 99
    assumptions = {"grade_pct": round(grade_pct, 1), "power_w": round(power_w), "speed_kmh": round(v * 3.6, 1),
                   "cadence_rpm": params.gear_cadence_rpm, "wheel_circumference_m": params.wheel_circumference_m,
                   "system_mass_kg": round(mass_kg, 1), "ratio": round(ratio, 2)}
    if cog <= 23:
        text = f"gear ratio {ratio:.2f} is enough (e.g. {params.small_chainring}×{max(cog, 11)})"
    elif cog <= params.largest_common_cog:
        text = f"needs ratio {ratio:.2f} or lower: {params.small_chainring}×{cog} or easier"
    else:
        text = (f"needs ratio {ratio:.2f}: easier than {params.small_chainring}×{params.largest_common_cog}; "
                f"expect to grind below {params.gear_cadence_rpm:g} rpm or fit a bigger cassette")
    return f"{text} (holds {params.gear_cadence_rpm:g} rpm at {power_w:.0f} W on {grade_pct:.0f} %)", assumptions


def _rider(ftp_w: float | None, weight_kg: float | None, params: SectionParams) -> tuple[float, float]:
    ftp = float(ftp_w) if ftp_w else params.default_ftp_w
    weight = float(weight_kg) if weight_kg else params.default_weight_kg
    return ftp, weight + params.bike_kg


def estimate_time_s(dist_m, ele_m, kind: str, *, ftp_w: float | None = None, weight_kg: float | None = None,
                    params: SectionParams = DEFAULT_PARAMS) -> float:
    """Seconds to ride a stretch (arrays of distance and smoothed elevation) at the power for its kind."""
    dist = np.asarray(dist_m, dtype=np.float64)
    if len(dist) < 2:
        return 0.0
    ele = np.asarray(ele_m, dtype=np.float64)
    ftp, mass = _rider(ftp_w, weight_kg, params)
    frac = {"climb": params.climb_power_frac, "descent": params.descent_power_frac}.get(kind, params.flat_power_frac)
    ds = np.diff(dist)
    if np.isfinite(ele).all():
        grade = np.divide(np.diff(ele), ds, out=np.zeros_like(ds), where=ds > 0) * 100.0
        rho = air_density(0.5 * (ele[1:] + ele[:-1]), params)
    else:
        grade = np.zeros_like(ds)
        rho = None
    v = speed_for_power(ftp * frac, grade, mass_kg=mass, params=params, rho=rho)
    return float(np.sum(ds / v))




def tobler_speed_ms(grade_pct) -> np.ndarray:
    """Walking speed (m/s) on a slope by Tobler's hiking function: 6·exp(−3.5·|S + 0.05|) km/h."""
    slope = np.asarray(grade_pct, dtype=np.float64) / 100.0
    return 6.0 * np.exp(-3.5 * np.abs(slope + 0.05)) / 3.6
