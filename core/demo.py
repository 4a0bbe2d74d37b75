"""Deterministic demo data: an athlete, a season of 1 Hz rides from a physiological model, and a demo route.

The model, per ride:
- Terrain: a smooth hilly landscape (Gaussian hills) around a home town; outdoor rides follow one of a few fixed
  loops through it, so the same climbs recur from ride to ride (as they do for a real rider).
- Power: the workout's target profile (warm-up, blocks, recoveries) as a fraction of FTP, pushed up on climbs,
  with coasting on steep descents and pedalling noise.
- Speed: the steady-state power balance P = v·(m·g·(sin θ + Crr·cos θ)) + ½·ρ·CdA·v³ solved per second, then
  smoothed for inertia; position follows from integrating speed along the loop.
- Heart rate: a first-order lag (τ ≈ 35 s) towards a steady state set by relative power, with cardiac drift.
- Cadence: follows terrain (lower on climbs), zero when coasting.
Everything derives from ``numpy.random.default_rng(seed)``: the same arguments give the same database.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from core.files.streams import ActivityStreams
from core.store.db import audit, bump_data_version, transaction

log = logging.getLogger(__name__)

DEMO_ROUTE_GPX = Path(__file__).resolve().parent.parent / "data" / "demo" / "demo_route.gpx"
HOME_LAT, HOME_LON = 41.9794, 2.8214  # Girona: a town riders know for its climbs
EARTH_RADIUS_M = 6_371_000.0
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180

# (dlat_km, dlon_km, height_m, sigma_km): hills of the demo landscape.
HILLS = [(6.0, -9.0, 520, 3.0), (-7.0, 5.0, 380, 2.5), (10.0, 8.0, 650, 4.0), (-3.0, -14.0, 300, 2.0),
         (14.0, -3.0, 440, 3.5), (-12.0, -6.0, 260, 3.0)]

# The demo coach: rules in plain language and an active 12-week plan that started three weeks before the season's
# end, so the dashboard's plan progress, upcoming workouts and the Plans page have something real to show.
DEMO_RULES = [("Rest day", "Rest on Mondays"), ("Weekend long ride", "Long ride on Saturday"),
              ("Time budget", "Max 9 hours a week")]

DEMO_ATHLETE = dict(name="Demo Rider", email="demo@example.com", fitness_level="advanced", ftp_w=250.0,
                    max_hr=188, lthr=168, weight_kg=72.0)


def smooth(x: np.ndarray, gain: float, pole: float, start: float = 0.0) -> np.ndarray:
    """The first-order filter y[i] = gain·x[i] + pole·y[i−1] with y[0] = gain·x[0] + start (scipy's
    ``lfilter([gain], [1, -pole], x, zi=[start])``), in numpy: scipy.signal takes seconds to import, which a
    first start would pay before its first page. Closed form per block: y[j] = poleʲ·(s + gain·Σₖ≤ⱼ x[k]·pole⁻ᵏ), with
    blocks short enough (128) that pole⁻ᵏ stays far from overflow for every pole used here (≥ 0.5)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    block = 128
    powers = pole ** np.arange(block, dtype=np.float64)
    state = float(start)
    for begin in range(0, len(x), block):
        chunk = x[begin:begin + block]
        p = powers[:len(chunk)]
        out[begin:begin + len(chunk)] = p * (state + gain * np.cumsum(chunk / p))
        state = pole * out[begin + len(chunk) - 1]
    return out


def terrain_elevation(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Elevation (m) of the demo landscape at the given positions."""
    y_km = (lat - HOME_LAT) * M_PER_DEG_LAT / 1000
    x_km = (lon - HOME_LON) * M_PER_DEG_LAT * math.cos(math.radians(HOME_LAT)) / 1000
    ele = np.full_like(lat, 75.0)
    for dy, dx, height, sigma in HILLS:
        ele += height * np.exp(-((y_km - dy) ** 2 + (x_km - dx) ** 2) / (2 * sigma**2))
    return ele


@dataclass(frozen=True)
class Loop:
    name: str
    lat: np.ndarray
    lon: np.ndarray
    ele: np.ndarray
    dist_m: np.ndarray
    heading_rad: np.ndarray    # direction of travel (0 = north, π/2 = east), for the wind
    bend_cap_ms: np.ndarray    # the speed a rider takes the road's bends at (brakes before them on a descent)

    @property
    def length_m(self) -> float:
        return float(self.dist_m[-1])


def _haversine_steps(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lat1, lat2 = np.radians(lat[:-1]), np.radians(lat[1:])
    dlat, dlon = lat2 - lat1, np.radians(np.diff(lon))
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def make_loop(name: str, radius_km: float, phase: float, wobble: float, heading: float) -> Loop:
    """A closed loop from home, sampled every ~10 m: a wobbly circle through the hills."""
    theta = np.linspace(0, 2 * np.pi, 20_000)
    r_km = radius_km * (1 + wobble * np.sin(3 * theta + phase) + 0.05 * np.sin(11 * theta + 2 * phase))
    # Circle that passes through home at theta=0 (centre offset along `heading`).
    cy = radius_km * math.sin(heading)
    cx = radius_km * math.cos(heading)
    y_km = cy - r_km * np.sin(theta + heading)
    x_km = cx - r_km * np.cos(theta + heading)
    y_km -= y_km[0]
    x_km -= x_km[0]
    lat = HOME_LAT + y_km * 1000 / M_PER_DEG_LAT
    lon = HOME_LON + x_km * 1000 / (M_PER_DEG_LAT * math.cos(math.radians(HOME_LAT)))
    dist = np.concatenate([[0.0], np.cumsum(_haversine_steps(lat, lon))])
    # Resample to 10 m spacing.
    grid = np.arange(0, dist[-1], 10.0)
    lat, lon = np.interp(grid, dist, lat), np.interp(grid, dist, lon)
    heading = np.arctan2(np.gradient(lon) * math.cos(math.radians(HOME_LAT)), np.gradient(lat))
    # Bends: a smooth random field along the road (fixed per loop), from hairpins (~38 km/h) to open sweeping
    # roads (~78 km/h); the loops' own geometry is too gentle to have any.
    bends = np.random.default_rng(sum(map(ord, name))).normal(0, 1, len(grid))
    window = np.exp(-0.5 * (np.arange(-60, 61) / 20.0) ** 2)  # ~200 m
    bends = np.convolve(bends, window / np.sqrt((window**2).sum()), mode="same")
    bend_cap = np.clip(58 + 12 * bends, 38, 78) / 3.6
    return Loop(name, lat, lon, terrain_elevation(lat, lon), grid, heading, bend_cap)


LOOPS = [
    make_loop("River flats", 4.5, 0.3, 0.10, 2.6),
    make_loop("Hills loop", 6.5, 1.1, 0.15, 0.9),
    make_loop("Coast road", 9.0, 2.0, 0.12, -2.2),
    make_loop("Big mountain day", 13.0, 0.7, 0.18, 0.3),
]

# Workout recipes: list of (minutes, fraction of FTP) blocks; the total is stretched to the ride's duration.
WORKOUTS: dict[str, list[tuple[float, float]]] = {
    "recovery": [(45, 0.50)],
    "commute": [(25, 0.55)],
    "endurance": [(10, 0.55), (80, 0.68), (10, 0.55)],
    "long": [(15, 0.55), (200, 0.66), (15, 0.55)],
    "tempo": [(15, 0.58), (20, 0.83), (5, 0.55), (20, 0.85), (15, 0.55)],
    "sweet_spot": [(15, 0.58), (12, 0.90), (4, 0.55), (12, 0.91), (4, 0.55), (12, 0.92), (10, 0.55)],
    "threshold": [(15, 0.58), (15, 0.98), (5, 0.55), (15, 1.00), (15, 0.55)],
    "vo2max": [(15, 0.58)] + [(4, 1.15), (4, 0.50)] * 5 + [(10, 0.55)],
}
# Every eighth week the hard session is a test on the trainer: two 10 s sprints, 5 min and 20 min all-out, paced
# on the rider's true power-duration curve (Morton's model). The demo rider is fitter than the profile says (CP
# 5 % above the FTP of the day), so the Power page has a maximal-effort model and an FTP proposal to show.
TEST_CP_OVER_FTP = 1.05
TEST_W_PRIME_PER_W = 72.0      # W′ = 72 J per watt of CP (18 kJ at 250 W)
TEST_PMAX_OVER_CP = 3.8
TEST_EFFORTS_S = {"sprint": 10, "short": 300, "long": 1200}


def test_power_fraction(seconds: float) -> float:
    """The all-out power for ``seconds`` as a fraction of the FTP of the day (Morton's 3-parameter model)."""
    cp = TEST_CP_OVER_FTP
    w_prime = TEST_W_PRIME_PER_W * cp
    return cp + w_prime / (seconds + w_prime / (TEST_PMAX_OVER_CP * cp - cp))


WORKOUTS["test"] = [(15, 0.58), (TEST_EFFORTS_S["sprint"] / 60, test_power_fraction(TEST_EFFORTS_S["sprint"])),
                    (3, 0.50), (TEST_EFFORTS_S["sprint"] / 60, test_power_fraction(TEST_EFFORTS_S["sprint"])),
                    (5, 0.50), (TEST_EFFORTS_S["short"] / 60, test_power_fraction(TEST_EFFORTS_S["short"])),
                    (12, 0.50), (TEST_EFFORTS_S["long"] / 60, test_power_fraction(TEST_EFFORTS_S["long"])),
                    (15, 0.50)]
# Outdoor rides have what a real rider's have: town-sign sprints (6–12 s) and hard minutes on a climb or in a
# group (40–60 s), each followed by soft-pedalling and paced at 86–97 % of the rider's all-out power for its length (never beyond the curve the
# tests ride). workout -> (fewest, most sprints, fewest, most hard minutes).
EFFORTS = {"endurance": (1, 3, 0, 1), "long": (2, 5, 1, 3), "tempo": (0, 2, 0, 0), "commute": (0, 1, 0, 0)}
SPEED_PARAMS_MAX_DESCENT_KMH = 85.0  # the demo's descents are capped by its bends, not by one fixed speed

TITLES = {"commute": "Commute", "recovery": "Recovery spin", "endurance": "Endurance ride", "long": "Long ride", "tempo": "Tempo 2×20",
          "sweet_spot": "Sweet spot 3×12", "threshold": "Threshold 2×15", "vo2max": "VO2max 5×4",
          "test": "Test: sprints, 5 and 20 min all-out"}


def _week_pattern(rng: np.random.Generator, week_index: int, rides_per_week: int | None) -> list[tuple[int, str]]:
    """(weekday, workout) pairs for one week: a recovery week every 4th week, 3–6 rides otherwise. Beyond the
    training rides (``rides_per_week`` up to 14), the extra rides are easy morning commutes."""
    recovery_week = week_index % 4 == 3
    base = [(1, "vo2max" if week_index % 2 else "threshold"), (3, "sweet_spot" if week_index % 3 else "tempo"),
            (5, "long"), (6, "endurance"), (2, "endurance"), (4, "recovery")]
    if recovery_week:
        base = [(1, "endurance"), (3, "recovery"), (5, "endurance"), (6, "endurance")]
    elif week_index % 8 == 4:  # fresh after a recovery week: the power test
        base[0] = (1, "test")
    count = rides_per_week or int(rng.integers(3, 7))
    chosen = base[: min(count, len(base))]
    commute_days = [d for d in range(5) for _ in range(2)]  # two a working day at most
    extra = min(count - len(chosen), len(commute_days))
    if extra > 0:
        chosen += [(int(d), "commute") for d in rng.choice(commute_days, size=extra, replace=False)]
    return chosen


def _solve_speed(power_w: np.ndarray, grade: np.ndarray, mass_kg: float) -> np.ndarray:
    """Steady-state speed (m/s): the routes' power-balance model (core.routes.sections.speed_for_power), capped at a
    sane 25 m/s and at least walking pace."""
    from dataclasses import replace

    from core.routes.sections import DEFAULT_PARAMS, speed_for_power

    params = replace(DEFAULT_PARAMS, max_descent_speed_kmh=SPEED_PARAMS_MAX_DESCENT_KMH)
    return np.clip(speed_for_power(power_w, grade * 100.0, mass_kg=mass_kg, params=params), 0.5, 25.0)


def _efforts(rng: np.random.Generator, workout: str, n: int, ftp_w: float) -> np.ndarray:
    """Watts of the ride's sprints and hard minutes (NaN elsewhere): a sprint peaks in its first seconds and
    fades, a hard minute is held."""
    watts = np.full(n, np.nan)
    fewest_sprints, most_sprints, fewest_minutes, most_minutes = EFFORTS.get(workout, (0, 0, 0, 0))
    if n < 1800:
        return watts
    for count, (shortest, longest), (low, high), fade in (
            (int(rng.integers(fewest_sprints, most_sprints + 1)), (6, 12), (0.86, 0.96), 0.16),
            (int(rng.integers(fewest_minutes, most_minutes + 1)), (40, 60), (0.90, 0.97), 0.10)):
        for _ in range(count):
            seconds = int(rng.integers(shortest, longest + 1))
            start = int(rng.integers(900, n - seconds - 300))
            level = test_power_fraction(seconds) * ftp_w * rng.uniform(low, high)
            watts[start:start + seconds] = level * np.linspace(1 + fade / 2, 1 - fade / 2, seconds)
            easy = int(rng.integers(30, 61))  # then soft-pedalling to recover
            watts[start + seconds:start + seconds + easy] = 0.4 * ftp_w
    return watts


def simulate_ride(rng: np.random.Generator, workout: str, duration_s: int, ftp_w: float, lthr: int,
                  max_hr: int, weight_kg: float, loop: Loop | None, started_at: datetime,
                  temp_c: float) -> ActivityStreams:
    """One ride of 1 Hz streams. ``loop`` None is an indoor trainer ride (no position, flat)."""
    n = duration_s
    t = np.arange(n, dtype=np.float64)
    blocks = WORKOUTS[workout]
    total = sum(m for m, _ in blocks)
    edges = np.cumsum([0] + [m / total * n for m, _ in blocks])
    target = np.interp(t, np.repeat(edges, 2)[1:-1], np.repeat([f for _, f in blocks], 2)) * ftp_w
    form = rng.normal(1.0, 0.03)  # day-to-day form
    target *= form
    noise = smooth(rng.normal(0, 0.09 * ftp_w, n), 0.25, 0.75)  # pedalling variability, correlated
    mass = weight_kg + 9.0
    efforts = _efforts(rng, workout, n, ftp_w * form) if loop is not None else np.full(n, np.nan)
    wind_ms, wind_from = rng.uniform(0.0, 6.0), rng.uniform(0.0, 2 * math.pi)  # the day's wind

    if loop is None:
        grade = np.zeros(n)
        power = np.clip(target + noise, 0, None)
        speed = _solve_speed(np.maximum(power, 30), grade, mass)
        dist = np.cumsum(speed)
        lat = lon = np.full(n, np.nan)
        ele = np.full(n, np.nan)
    else:
        loop_grade = np.gradient(loop.ele, loop.dist_m)
        loop_grade = np.convolve(loop_grade, np.ones(9) / 9, mode="same")
        dist = np.cumsum(np.full(n, 8.0))
        coast_draw = rng.random(n)
        # fixed point: position -> grade -> power/speed -> position, until positions settle (~25 rounds for a
        # long ride; stopping at 4 left late-ride positions on climbs the speeds were computed for descents of,
        # which put 60 km/h efforts up 6 % climbs in the demo's climb records)
        for _ in range(60):
            previous = dist
            along = np.mod(dist, loop.length_m)
            grade = np.interp(along, loop.dist_m, loop_grade)
            # Easy riding rises on climbs; a paced interval does not go past its target (nor anything past
            # 95 % FTP), so no outdoor ride beats the rider's power-duration curve.
            climbing = target * (1 + np.clip(grade, -0.08, 0.12) * 2.5)
            power = np.minimum(climbing, np.maximum(target, 0.95 * ftp_w)) + noise
            coasting = (grade < -0.035) & (coast_draw < 0.85)
            power = np.where(coasting, 0.0, np.clip(power, 0, None))
            power = np.where(np.isnan(efforts), power, efforts + 0.3 * noise)
            speed = _solve_speed(np.maximum(power, 40), grade, mass)
            # a headwind slows, a tailwind helps (about 3 % per m/s); bends cap the speed on descents
            headwind = wind_ms * np.cos(np.interp(along, loop.dist_m, loop.heading_rad) - wind_from)
            speed = np.minimum(speed * np.clip(1 - 0.03 * headwind, 0.8, 1.2),
                               np.interp(along, loop.dist_m, loop.bend_cap_ms))
            speed = smooth(speed, 0.15, 0.85, speed[0] * 0.85)  # inertia
            dist = np.cumsum(speed)
            if np.max(np.abs(dist - previous)) < 1.0:
                break
        along = np.mod(dist, loop.length_m)
        lat = np.interp(along, loop.dist_m, loop.lat)
        lon = np.interp(along, loop.dist_m, loop.lon)
        ele = np.interp(along, loop.dist_m, loop.ele) + smooth(rng.normal(0, 0.3, n), 0.05, 0.95)

    # Heart rate: lag towards steady state, with drift of ~3 bpm per hour.
    rel = np.clip(smooth(power, 0.02, 0.98, power[0] * 0.98) / ftp_w, 0, 1.6)
    hr_ss = 62 + (lthr - 62) * rel**0.75 + 3.0 * t / 3600
    tau = 35.0
    alpha = 1 - math.exp(-1 / tau)
    hr = smooth(hr_ss, alpha, 1 - alpha, 90 * (1 - alpha))
    hr = np.clip(hr + rng.normal(0, 1.0, n), 60, max_hr)
    cadence = np.clip(90 - 150 * np.clip(grade, 0, None) + rng.normal(0, 3, n), 55, 120)
    cadence = np.where(power < 1, 0.0, cadence)
    temp = np.full(n, temp_c) + smooth(rng.normal(0, 0.5, n), 0.01, 0.99)

    return ActivityStreams(
        lat=lat, lon=lon, ele=ele, dist_m=dist - dist[0], t_s=t, speed=speed, hr=np.round(hr),
        cadence=np.round(cadence), power=np.round(power), temp=np.round(temp, 1), started_at=started_at,
        name=f"{TITLES[workout]}" + (f" — {loop.name}" if loop else " (indoor)"), sport_type="cycling"
        if loop else "indoor_cycling", source_format="demo")


def season_plan(start: date, end: date, seed: int, rides_per_week: int | None = None):
    """Yield (day, workout, duration_s, loop index or None, start hour) for every demo ride."""
    rng = np.random.default_rng(seed)
    week_start = start - timedelta(days=start.weekday())
    week_index = 0
    while week_start <= end:
        commutes_by_day: dict[int, int] = {}
        for weekday, workout in sorted(_week_pattern(rng, week_index, rides_per_week)):
            day = week_start + timedelta(days=weekday)
            minutes = sum(m for m, _ in WORKOUTS[workout]) * rng.uniform(0.85, 1.15)
            if workout == "test":  # efforts of exactly their length, on the trainer (no terrain in the pacing)
                minutes = sum(m for m, _ in WORKOUTS[workout])
            winter = day.month in (12, 1, 2)
            indoor = workout in ("vo2max", "threshold", "sweet_spot", "test") and (
                winter or workout == "test" or rng.random() < 0.3)
            if indoor:
                loop_index = None
            elif workout == "long":
                loop_index = 3 if minutes > 200 else 2
            elif workout == "recovery":
                loop_index = 0
            else:
                loop_index = int(rng.integers(0, 3))
            if workout == "commute":  # to work at 7:30, home at 16:30, before any evening training
                commutes_by_day[weekday] = commutes_by_day.get(weekday, 0) + 1
                hour = 7.5 if commutes_by_day[weekday] == 1 else 16.5
            else:
                hour = 17.5 if weekday < 5 else 9.0
            if start <= day <= end:
                yield day, workout, int(minutes * 60), loop_index, hour, int(rng.integers(0, 2**31))
        week_start += timedelta(days=7)
        week_index += 1


def ftp_for_day(base_ftp: float, start: date, day: date) -> float:
    """A plausible FTP curve: +6 W over each season's first months, a small winter dip, year on year gain."""
    months = (day - start).days / 30.44
    return round(base_ftp - 10 + 2.0 * min(months % 12, 6) + 3.0 * (months // 12), 0)


@dataclass(frozen=True)
class DemoSeason:
    """A demo season: its athlete, its days and its seed; the rides follow from them (``season_plan``)."""
    athlete_id: int
    first_day: date
    last_day: date
    seed: int = 42
    rides_per_week: int | None = None

    def rides(self) -> list[tuple[int, tuple]]:
        """(index, plan item) of every ride; the index makes the ride's external id."""
        return list(enumerate(season_plan(self.first_day, self.last_day, self.seed, self.rides_per_week)))

    def weeks(self) -> list[list[tuple[int, tuple]]]:
        """The rides by Monday-to-Sunday week, newest week first."""
        by_week: dict[date, list] = {}
        for index, item in self.rides():
            by_week.setdefault(item[0] - timedelta(days=item[0].weekday()), []).append((index, item))
        return [by_week[monday] for monday in sorted(by_week, reverse=True)]


def _start_season(cur, years: float, end: date | None, seed: int, rides_per_week: int | None) -> DemoSeason:
    """The demo athlete with their FTP history (one FTP a month) for a season ending the day before ``end``."""
    from core.athletes import create_athlete, validate_profile

    end = end or date.today()
    last_day = end - timedelta(days=1)
    first_day = last_day - timedelta(days=int(round(years * 365)))
    profile = validate_profile(**DEMO_ATHLETE, preferences={"ctl_days": 42, "atl_days": 7, "indoor_ok": True})
    athlete_id = create_athlete(cur, profile, ftp_effective_from=first_day)
    cur.execute("DELETE FROM athlete_ftp_history WHERE athlete_id = ?", [athlete_id])
    month = date(first_day.year, first_day.month, 1)
    history = []
    while month <= last_day:
        history.append((athlete_id, max(month, first_day), ftp_for_day(DEMO_ATHLETE["ftp_w"], first_day, month)))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    cur.executemany("INSERT INTO athlete_ftp_history VALUES (?, ?, ?)", history)  # a few rows: fine
    cur.execute("UPDATE athletes SET ftp_w = ? WHERE id = ?", [history[-1][2], athlete_id])
    return DemoSeason(athlete_id, first_day, last_day, seed, rides_per_week)


def _store_rides(cur, season: DemoSeason, rides: list[tuple[int, tuple]],
                 progress: Callable[[float, str], None] | None = None,
                 stop: Callable[[], bool] | None = None, defer_routes: bool = False) -> int:
    """Simulate and store ``rides`` of the season; ``stop()`` true between two rides raises DemoInterrupted;
    ``defer_routes``: their recorded routes and climbs come later (``complete_demo_step``)."""
    from core.rides.store import store_ride

    for count, (index, (day, workout, duration_s, loop_index, hour, ride_seed)) in enumerate(rides):
        if stop is not None and stop():
            raise DemoInterrupted
        rng = np.random.default_rng(ride_seed)
        started_at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)
        temp = 14 + 9 * math.sin((day.timetuple().tm_yday - 110) / 365 * 2 * math.pi) + rng.normal(0, 2)
        streams = simulate_ride(rng, workout, duration_s,
                                ftp_for_day(DEMO_ATHLETE["ftp_w"], season.first_day, day),
                                DEMO_ATHLETE["lthr"], DEMO_ATHLETE["max_hr"], DEMO_ATHLETE["weight_kg"],
                                None if loop_index is None else LOOPS[loop_index], started_at, temp)
        store_ride(cur, season.athlete_id, streams, source="demo", external_id=f"demo-{season.seed}-{index}",
                   name=streams.name, defer_route=defer_routes)
        if progress and count % 10 == 0:
            progress(count / len(rides), f"{day:%d %b %Y}: {streams.name}")
    return len(rides)


def seed_demo(cur, *, years: float = 0.5, end: date | None = None, seed: int = 42,
              rides_per_week: int | None = None, progress: Callable[[float, str], None] | None = None) -> dict:
    """Create the demo athlete, the demo route and a season of rides ending the day before ``end``.

    Returns counts. Deterministic for the same arguments."""
    from core.routes.store import import_gpx_route

    season = _start_season(cur, years, end, seed, rides_per_week)
    route = import_gpx_route(cur, season.athlete_id, DEMO_ROUTE_GPX.name, DEMO_ROUTE_GPX.read_bytes())
    rides = _store_rides(cur, season, season.rides(), progress)
    plan_id = _seed_demo_plan(cur, season.athlete_id, season.last_day)
    return {"athlete_id": season.athlete_id, "route_id": route["id"], "rides": rides, "plan_id": plan_id,
            "first_day": season.first_day, "last_day": season.last_day}


# ---------------------------------------------------------------------------------------------- first start
# The app's first start seeds the newest weeks at once (the Dashboard draws them) and the rest in the background
# (core.setup.DemoCompletion), one whole week per transaction, newest first, then the demo route and plan. The
# audit log records the season as pending and, in the last transaction, as complete: a start after a stop
# half-way resumes from what was committed; a week is either all there or not at all.
DEMO_PENDING, DEMO_COMPLETE = "demo season pending", "demo season complete"
FIRST_WEEKS = 2  # this week and last: the Dashboard's "This week" compares them


class DemoInterrupted(Exception):
    """The app is stopping: the week being stored is rolled back; the next start goes on from there."""


def seed_demo_first_weeks(cur, *, weeks: int = FIRST_WEEKS, years: float = 0.5, end: date | None = None,
                          seed: int = 42) -> dict:
    """The demo athlete and the newest ``weeks`` of the season; the rest is pending (``complete_demo_step``).
    Call inside a transaction."""
    season = _start_season(cur, years, end, seed, None)
    rides = _store_rides(cur, season, [ride for week in season.weeks()[:weeks] for ride in week],
                         defer_routes=True)
    audit(cur, DEMO_PENDING, "athlete", season.athlete_id, season.athlete_id, first_day=season.first_day,
          last_day=season.last_day, seed=seed)
    return {"athlete_id": season.athlete_id, "rides": rides, "first_day": season.first_day,
            "last_day": season.last_day, "pending": True}


def pending_demo(cur) -> DemoSeason | None:
    """The demo season still being built (its athlete exists, its completion is not recorded), else None."""
    row = cur.execute(
        "SELECT p.athlete_id, p.detail FROM audit_log p JOIN athletes a ON a.id = p.athlete_id "
        "WHERE p.action = ? AND NOT EXISTS (SELECT 1 FROM audit_log c WHERE c.action = ? "
        "AND c.athlete_id = p.athlete_id) ORDER BY p.id LIMIT 1", [DEMO_PENDING, DEMO_COMPLETE]).fetchone()
    if row is None:
        return None
    detail = json.loads(row[1])
    return DemoSeason(row[0], date.fromisoformat(detail["first_day"]), date.fromisoformat(detail["last_day"]),
                      int(detail["seed"]))


def _weeks_to_do(cur, season: DemoSeason) -> list[list[tuple[int, tuple]]]:
    """The weeks older than the oldest week with a demo ride stored, newest first (all weeks when none is). By
    the rides' external ids, not their dates: a date read back in the computer's time zone may fall in another
    week."""
    stored = {r[0] for r in cur.execute("SELECT external_id FROM rides WHERE athlete_id = ? AND source = 'demo'",
                                        [season.athlete_id]).fetchall()}
    weeks = season.weeks()
    oldest_stored = max((n for n, week in enumerate(weeks)
                         if any(f"demo-{season.seed}-{index}" in stored for index, _ in week)), default=-1)
    return weeks[oldest_stored + 1:]


def demo_progress(cur, athlete_id: int) -> tuple[int, int] | None:
    """(weeks stored, weeks in the season) while the athlete's demo season is being built, else None."""
    season = pending_demo(cur)
    if season is None or season.athlete_id != athlete_id:
        return None
    total = len(season.weeks())
    return total - len(_weeks_to_do(cur, season)), total


def complete_demo_step(cur, stop: Callable[[], bool] | None = None) -> bool:
    """One step of a pending demo season, in one transaction: the newest week not stored yet or, when every week
    is, the demo route, rules and plan and the record that the season is complete. False when nothing is left
    (or the demo athlete was deleted meanwhile). ``stop`` as in ``_store_rides``."""
    from core.rides.store import add_recorded_route
    from core.routes.store import import_gpx_route

    with transaction(cur):
        season = pending_demo(cur)  # again under the write lock: the athlete may have been deleted
        if season is None:
            return False
        deferred = [r[0] for r in cur.execute(
            "SELECT id FROM rides r WHERE athlete_id = ? AND source = 'demo' AND route_id IS NULL AND EXISTS "
            "(SELECT 1 FROM ride_samples s WHERE s.ride_id = r.id AND s.lat IS NOT NULL) ORDER BY id",
            [season.athlete_id]).fetchall()]
        if deferred:  # the first weeks' recorded routes and climbs
            for ride_id in deferred:
                if stop is not None and stop():
                    raise DemoInterrupted
                add_recorded_route(cur, season.athlete_id, ride_id)
            return True
        weeks = _weeks_to_do(cur, season)
        if weeks:
            _store_rides(cur, season, weeks[0], stop=stop)
            return True
        import_gpx_route(cur, season.athlete_id, DEMO_ROUTE_GPX.name, DEMO_ROUTE_GPX.read_bytes())
        _seed_demo_plan(cur, season.athlete_id, season.last_day)
        audit(cur, DEMO_COMPLETE, "athlete", season.athlete_id, season.athlete_id)
        bump_data_version(cur)
        return False


def _seed_demo_plan(cur, athlete_id: int, last_day: date) -> int:
    """Save the demo rules and an active plan (built by the deterministic engine, never an AI service)."""
    from core.coach.matching import link_completed_rides
    from core.coach.plans.generate import generate_plan
    from core.coach.plans.store import save_plan
    from core.coach.rules.store import save_rule

    # The demo rider means these (a 9-hour budget may sit below the demo's recent load: confirmed, not asked).
    rule_ids = [save_rule(cur, athlete_id, text, name=name, confirmed=True)["id"] for name, text in DEMO_RULES]
    plan_start = last_day - timedelta(days=last_day.weekday(), weeks=3)
    result = generate_plan(cur, athlete_id, {"duration_weeks": 12, "start_date": plan_start.isoformat(),
                                             "rule_ids": rule_ids, "goals": {"weekly_hours": 8}},
                           today=plan_start)
    plan_id = save_plan(cur, athlete_id, result, name="Demo: 12-week build", activate=True)
    link_completed_rides(cur, athlete_id, plan_id)
    return plan_id


def write_demo_route_gpx(path: Path = DEMO_ROUTE_GPX) -> None:
    """Write the shipped demo route (the Hills loop, untimed, every ~30 m). Run once; the file is committed."""
    import gpxpy.gpx  # gpxpy is the right tool for writing GPX

    loop = LOOPS[1]
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "VeloCoach demo"
    track = gpxpy.gpx.GPXTrack(name="Demo: Girona hills loop")
    segment = gpxpy.gpx.GPXTrackSegment()
    for lat, lon, ele in zip(loop.lat[::3], loop.lon[::3], loop.ele[::3], strict=True):
        segment.points.append(gpxpy.gpx.GPXTrackPoint(round(float(lat), 6), round(float(lon), 6),
                                                      elevation=round(float(ele), 1)))
    track.segments.append(segment)
    gpx.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gpx.to_xml(version="1.1"), encoding="utf-8")
