"""Split a route's elevation profile into climbs, descents and flats — pure functions over arrays, no I/O.

Method (every number is a field of ``SectionParams`` in core.routes.model):

1. The profile is core.files.elevation's: resampled every ``resample_step_m`` of distance and smoothed as its
   altitude source needs (GPS altitude heavily, barometric and terrain-model altitude lightly); its cumulative
   gain gives each section's gain, so the sections add up exactly to the route's (and the ride's) total.
2. Grade per sample over ``grade_window_m``; a sample is "up" at ≥ ``label_grade_pct``, "down" at ≤ −that,
   else "flat". The label threshold is below the climb threshold so a climb's gentler ramps stay inside it.
3. Runs of equal labels are merged: a short run (< ``max_dip_length_m``) between two runs of the same kind,
   whose height change is small against theirs (≤ ``max_dip_height_ratio`` × the larger), joins them — a
   short dip or flat does not split a climb — unless that run is itself a categorised climb.
4. A climb must be ≥ ``min_climb_length_m`` long at ≥ ``min_climb_grade_pct`` average, or score a category on
   its own; a descent likewise by length and grade; anything else becomes flat. Steps 3–4 repeat until nothing
   changes; neighbours of a kind merge.
5. Nothing is hidden: inside a flat or a descent, a stretch that would be a categorised climb (Strava's score,
   ≥ 80 m of rise at ≥ 3 %) is split out as a climb, and so is a *wall*: ``wall_window_m`` at
   ≥ ``wall_grade_pct`` (an 18 % ramp of 50 m in a flat road stays visible).
6. Stretches steeper than ``unrideable_grade_pct`` sustained over ``unrideable_window_m`` (a hiking track) are
   marked ``details["unrideable"]`` and timed at walking pace (Tobler's hiking function), never at a 60 km/h
   descent.

Sections share boundaries, so they cover the route with no gap or overlap and their distances sum to the
route's distance. Estimated times use a steady-state power balance (core.routes.model.speed_for_power) with the
athlete's FTP, weight, CdA, Crr and bike mass; ``section_times`` recomputes them for today's figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from core.files.elevation import ElevationProfile, elevation_profile
from core.routes.model import (  # noqa: F401 — re-exported: the riding model is part of sectioning's interface
    DEFAULT_PARAMS,
    G,
    SectionParams,
    _rider,
    air_density,
    estimate_time_s,
    gear_hint,
    speed_for_power,
    tobler_speed_ms,
)

# Strava's climb score = length (m) × average grade (%) (support.strava.com "Climb Categorization"). The
# boundaries are inclusive here (≥): a score of exactly 16,000 is Cat 3 — see docs/COACHING.md, "Terrain".
CATEGORY_THRESHOLDS = (("HC", 80_000.0), ("1", 64_000.0), ("2", 32_000.0), ("3", 16_000.0), ("4", 8_000.0))
CATEGORISED_SCORE = CATEGORY_THRESHOLDS[-1][1]
# Version of the terrain method (elevation, sections, climbs, intervals); rows computed by an older one are
# recomputed from their stored points (core.rides.terrain.refresh_terrain).
TERRAIN_VERSION = 1


@dataclass(frozen=True)
class Section:
    kind: str                       # climb | descent | flat
    start_m: float
    end_m: float
    distance_m: float
    elevation_gain_m: float | None  # None when the route has no elevation
    elevation_loss_m: float | None
    avg_grade_pct: float | None
    max_grade_pct: float | None     # steepest ≥100 m in the section's direction (negative for descents)
    category: str | None            # HC, 1, 2, 3, 4 for climbs scoring > 8,000; else None
    fiets: float | None             # climbs only
    est_time_s: float
    gear_hint: str | None           # climbs only
    details: dict = field(default_factory=dict, hash=False, compare=False)

    def as_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------------- scores


def climb_category(length_m: float, avg_grade_pct: float,
                   min_grade_pct: float = DEFAULT_PARAMS.min_category_grade_pct) -> str | None:
    """Strava's category from score = length_m × average grade %: HC ≥ 80,000, Cat 1 ≥ 64,000, Cat 2 ≥ 32,000,
    Cat 3 ≥ 16,000, Cat 4 ≥ 8,000; none below a ``min_grade_pct`` average (3 %) whatever the score."""
    if not (np.isfinite(length_m) and np.isfinite(avg_grade_pct)) or avg_grade_pct < min_grade_pct:
        return None
    score = length_m * avg_grade_pct
    for name, threshold in CATEGORY_THRESHOLDS:
        if score >= threshold:
            return name
    return None


def is_categorised(length_m: float, rise_m: float, params: SectionParams = DEFAULT_PARAMS) -> bool:
    return length_m > 0 and climb_category(length_m, rise_m / length_m * 100.0, params.min_category_grade_pct) \
        is not None


def fiets_index(height_m: float, length_m: float, top_m: float) -> float:
    """FIETS = H² / (D·10) + max(0, (T − 1000) / 1000); H height gained, D length, T summit altitude (m)."""
    if length_m <= 0:
        return 0.0
    return height_m * height_m / (length_m * 10.0) + max(0.0, (top_m - 1000.0) / 1000.0)


# -------------------------------------------------------------------------------------------- sectioning


def route_profile(dist_m, ele_m, params: SectionParams = DEFAULT_PARAMS, *, source: str | None = None,
                  hint: str | None = None) -> ElevationProfile | None:
    """The elevation profile sections are cut from (core.files.elevation), or None without elevation."""
    return elevation_profile(dist_m, ele_m, source=source, hint=hint, step_m=params.resample_step_m)


def smooth_profile(dist_m, ele_m, params: SectionParams = DEFAULT_PARAMS, *, source: str | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(grid_m, smoothed elevation) on the sectioning grid; empty arrays without elevation."""
    profile = route_profile(dist_m, ele_m, params, source=source)
    if profile is None or not profile.by_distance:
        return np.array([]), np.array([])
    return profile.axis, profile.ele_m


def _labels(grid: np.ndarray, elev: np.ndarray, params: SectionParams) -> np.ndarray:
    n = len(grid)
    half = max(1, int(round(params.grade_window_m / params.resample_step_m / 2)))
    idx = np.arange(n)
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half, n - 1)
    run = grid[hi] - grid[lo]
    grade = np.divide(elev[hi] - elev[lo], run, out=np.zeros(n), where=run > 0) * 100.0
    labels = np.zeros(n, dtype=np.int8)
    labels[grade >= params.label_grade_pct] = 1
    labels[grade <= -params.label_grade_pct] = -1
    return labels


def _runs(labels: np.ndarray) -> list[list[int]]:
    """[[kind, first sample index], …] for runs of equal labels."""
    starts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], starts])
    return [[int(labels[s]), int(s)] for s in starts]


def _compact(runs: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for kind, start in runs:
        if out and out[-1][0] == kind:
            continue
        out.append([kind, start])
    return out


def _merge_runs(runs: list[list[int]], grid: np.ndarray, elev: np.ndarray,
                params: SectionParams) -> list[list[int]]:
    last = len(grid) - 1

    def bounds(k):
        return runs[k][1], runs[k + 1][1] if k + 1 < len(runs) else last

    def length(k):
        a, b = bounds(k)
        return grid[b] - grid[a]

    def rise(k):
        a, b = bounds(k)
        return elev[b] - elev[a]

    for _ in range(20):
        before = [list(r) for r in runs]
        # 1. a short interruption (one run or several) between two runs of the same non-flat kind joins them
        #    (merged in place, then the merged run is looked at again: linear in the number of runs)
        k = 1
        while k < len(runs) - 1:
            side = runs[k - 1][0]
            m = k
            while m < len(runs) and runs[m][0] != side and grid[runs[m][1]] - grid[runs[k][1]] < params.max_dip_length_m:
                m += 1
            if side != 0 and m < len(runs) and m > k and runs[m][0] == side:
                a, b = runs[k][1], runs[m][1]
                gap, dip = grid[b] - grid[a], elev[b] - elev[a]
                if gap < params.max_dip_length_m \
                        and not (dip > 0 and is_categorised(gap, dip, params)) \
                        and abs(dip) <= params.max_dip_height_ratio * max(abs(rise(k - 1)), abs(rise(m))):
                    del runs[k:m + 1]  # k-1 now reaches to where m ended
                    k = max(k - 1, 1)
                    continue
            k += 1
        # 2. too short or too gentle climbs/descents are flat
        for k in range(len(runs)):
            kind = runs[k][0]
            if kind == 0:
                continue
            dist = length(k)
            grade = abs(rise(k)) / dist * 100.0 if dist > 0 else 0.0
            min_len = params.min_climb_length_m if kind > 0 else params.min_descent_length_m
            min_grade = params.min_climb_grade_pct if kind > 0 else params.min_descent_grade_pct
            if kind > 0 and is_categorised(dist, rise(k), params):
                continue  # a categorised climb stays a climb however short
            if dist < min_len or grade < min_grade or np.sign(rise(k)) != kind:
                runs[k][0] = 0
        runs = _compact(runs)
        # 3. a short flat at a summit/valley (between a climb and a descent) or at either end of the route is
        #    shared out: the boundary moves to its highest (summit) or lowest (valley) point
        k = 0
        while k < len(runs) and len(runs) > 1:
            if runs[k][0] != 0 or length(k) >= params.min_flat_length_m:
                k += 1
                continue
            a, b = bounds(k)
            left = runs[k - 1][0] if k > 0 else None
            right = runs[k + 1][0] if k + 1 < len(runs) else None
            if left is None:                      # route start: the next run starts at the route start
                runs[k + 1][1] = runs[k][1]
                del runs[k]
            elif right is None:                   # route end: the previous run reaches the end
                del runs[k]
            elif left != right and left != 0 and right != 0:
                segment = elev[a:b + 1]
                runs[k + 1][1] = a + int(np.argmax(segment) if left > 0 else np.argmin(segment))
                del runs[k]
            else:
                k += 1
        runs = _compact(runs)
        if runs == before:
            break
    return runs


_KINDS = {1: "climb", -1: "descent", 0: "flat"}


def _steepest(grid: np.ndarray, elev: np.ndarray, kind: int, params: SectionParams) -> float:
    span = grid[-1] - grid[0]
    if span <= 0:
        return 0.0
    k = int(round(params.max_grade_window_m / params.resample_step_m))
    if len(grid) <= k + 1 or span < params.max_grade_window_m:
        return float((elev[-1] - elev[0]) / span * 100.0)
    grades = (elev[k:] - elev[:-k]) / (grid[k:] - grid[:-k]) * 100.0
    if kind > 0:
        return float(grades.max())
    if kind < 0:
        return float(grades.min())
    return float(grades[np.argmax(np.abs(grades))])


def _hidden_climb(grid: np.ndarray, elev: np.ndarray, a: int, b: int, params: SectionParams) -> tuple[int, int] | None:
    """(first, last) sample of the biggest stretch in [a, b] that would be a categorised climb (Strava: score
    = 100 × rise ≥ 8,000 at ≥ 3 %), else of a wall (``wall_window_m`` at ≥ ``wall_grade_pct``); None if neither."""
    idx = np.unique(np.linspace(a, b, min(b - a + 1, 400)).astype(int))
    if len(idx) >= 2:
        e, g = elev[idx], grid[idx]
        rise = e[None, :] - e[:, None]
        run = g[None, :] - g[:, None]
        ok = (run > 0) & (rise * 100.0 >= CATEGORISED_SCORE) & (rise >= params.min_category_grade_pct / 100.0 * run)
        if ok.any():
            i, j = np.unravel_index(np.argmax(np.where(ok, rise, -np.inf)), rise.shape)
            return int(idx[i]), int(idx[j])
    w = max(1, int(round(params.wall_window_m / params.resample_step_m)))
    if b - a < w:
        return None
    grades = (elev[a + w:b + 1] - elev[a:b + 1 - w]) / (grid[a + w:b + 1] - grid[a:b + 1 - w]) * 100.0
    top = int(np.argmax(grades))
    if grades[top] < params.wall_grade_pct:
        return None
    first, last = a + top, a + top + w
    local = np.diff(elev) / np.maximum(np.diff(grid), 1e-9) * 100.0  # local[k]: grade from k to k+1
    while first > a and local[first - 1] >= params.wall_edge_grade_pct:
        first -= 1
    while last < b and local[last] >= params.wall_edge_grade_pct:
        last += 1
    return first, last


def _reveal_hidden(runs: list[list[int]], grid: np.ndarray, elev: np.ndarray,
                   params: SectionParams) -> list[list[int]]:
    """Split out of every flat or descent the climbs it would otherwise hide (see ``_hidden_climb``)."""
    last = len(grid) - 1
    k = 0
    while k < len(runs):
        kind, first = runs[k]
        stop = runs[k + 1][1] if k + 1 < len(runs) else last
        found = None if kind > 0 else _hidden_climb(grid, elev, first, stop, params)
        if found is None:
            k += 1
            continue
        i, j = found
        pieces = ([[kind, first]] if i > first else []) + [[1, i]] + ([[kind, j]] if j < stop else [])
        runs = runs[:k] + pieces + runs[k + 1:]  # the pieces are looked at again: each is shorter
    return _compact(runs)


def _walking_steps(grid: np.ndarray, elev: np.ndarray, params: SectionParams) -> np.ndarray:
    """Per grid step: True inside a stretch steeper than ``unrideable_grade_pct`` (up or down) sustained over
    ``unrideable_window_m``."""
    steps = len(grid) - 1
    w = max(1, int(round(params.unrideable_window_m / params.resample_step_m)))
    if steps < 1:
        return np.zeros(0, dtype=bool)
    w = min(w, steps)
    grades = (elev[w:] - elev[:-w]) / np.maximum(grid[w:] - grid[:-w], 1e-9) * 100.0
    starts = np.flatnonzero(np.abs(grades) > params.unrideable_grade_pct)
    marks = np.zeros(steps + 1, dtype=np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, starts + w, -1)
    return np.cumsum(marks)[:steps] > 0


class _Timing:
    """Seconds per grid step at each kind's power (computed once per route), walking where nobody rides."""

    def __init__(self, grid, elev, ftp: float, mass: float, params: SectionParams):
        self.steps = np.diff(grid)
        self.grade = np.divide(np.diff(elev), self.steps, out=np.zeros_like(self.steps), where=self.steps > 0) * 100
        self.rho = air_density(0.5 * (elev[1:] + elev[:-1]), params)
        self.walk = _walking_steps(grid, elev, params)
        self.walk_speed = tobler_speed_ms(self.grade)
        self.ftp, self.mass, self.params = ftp, mass, params
        self.seconds: dict[str, np.ndarray] = {}

    def time(self, first: int, stop: int, name: str) -> float:
        if name not in self.seconds:
            p = self.params
            frac = {"climb": p.climb_power_frac, "descent": p.descent_power_frac}.get(name, p.flat_power_frac)
            speed = speed_for_power(self.ftp * frac, self.grade, mass_kg=self.mass, params=p, rho=self.rho)
            speed = np.where(self.walk, self.walk_speed, speed)
            self.seconds[name] = np.divide(self.steps, speed, out=np.zeros_like(self.steps), where=speed > 0)
        return float(np.sum(self.seconds[name][first:stop]))


def split_into_sections(dist_m, ele_m, *, params: SectionParams = DEFAULT_PARAMS, ftp_w: float | None = None,
                        weight_kg: float | None = None, source: str | None = None, hint: str | None = None,
                        profile: ElevationProfile | None = None) -> list[Section]:
    """Climbs, descents and flats covering the whole route (see the module docstring for the method).

    ``dist_m`` is cumulative distance (m) and ``ele_m`` elevation (m, NaN where missing); ``source`` the altitude
    source (None: detected). Without elevation the route is one flat section with ``elevation_gain_m`` None and
    ``details["has_elevation"]`` False."""
    dist = np.asarray(dist_m, dtype=np.float64)
    finite = dist[np.isfinite(dist)]
    if len(finite) < 2:
        return []
    start, end = float(finite.min()), float(finite.max())
    ftp, mass = _rider(ftp_w, weight_kg, params)
    if profile is None:
        profile = route_profile(dist, ele_m, params, source=source, hint=hint)
    if profile is None or not profile.by_distance or len(profile.axis) < 2:
        flat_grid = np.array([start, end])
        est = estimate_time_s(flat_grid, np.full(2, np.nan), "flat", ftp_w=ftp, weight_kg=mass - params.bike_kg,
                              params=params)
        return [Section("flat", start, end, end - start, None, None, None, None, None, None, est, None,
                        {"has_elevation": False})]
    grid, elev = profile.axis, profile.ele_m
    runs = _merge_runs(_compact(_runs(_labels(grid, elev, params))), grid, elev, params)
    runs = _reveal_hidden(runs, grid, elev, params)
    sections = []
    last = len(grid) - 1
    timing = _Timing(grid, elev, ftp, mass, params)
    for k, (kind, first) in enumerate(runs):
        stop = runs[k + 1][1] if k + 1 < len(runs) else last
        g, e = grid[first:stop + 1], elev[first:stop + 1]
        length = float(g[-1] - g[0])
        rise = float(e[-1] - e[0])
        avg = rise / length * 100.0 if length > 0 else 0.0
        name = _KINDS[kind]
        est = timing.time(first, stop, name)
        walked = float(np.sum(timing.steps[first:stop][timing.walk[first:stop]]))
        details = {"has_elevation": True, "start_ele_m": round(float(e[0]), 1), "end_ele_m": round(float(e[-1]), 1),
                   "top_ele_m": round(float(e.max()), 1), "altitude_source": profile.source,
                   "avg_speed_kmh": round(length / est * 3.6, 1) if est else None}
        if walked > 0:
            details |= {"unrideable": True, "walk_m": round(walked)}
        category = fiets = hint_text = None
        max_grade = _steepest(g, e, kind, params)
        if name == "climb":
            category = climb_category(length, avg, params.min_category_grade_pct)
            fiets = round(fiets_index(rise, length, float(e.max())), 2)
            power = ftp * params.climb_power_frac
            hint_text, details["gear"] = gear_hint(max(max_grade, avg), power, mass_kg=mass, params=params)
            if walked > 0:
                hint_text = f"walk {walked / 1000:.1f} km: too steep to ride ({max_grade:.0f} % max)"
            details["score"] = round(length * avg)
            details["power_w"] = round(power)
            if category is None and length < params.min_climb_length_m:
                details["wall"] = True
        sections.append(Section(
            kind=name, start_m=float(g[0]), end_m=float(g[-1]), distance_m=length,
            elevation_gain_m=float(profile.cum_gain_m[stop] - profile.cum_gain_m[first]),
            elevation_loss_m=float(profile.cum_loss_m[stop] - profile.cum_loss_m[first]),
            avg_grade_pct=round(avg, 2), max_grade_pct=round(max_grade, 2), category=category, fiets=fiets,
            est_time_s=round(est, 1), gear_hint=hint_text, details=details))
    return sections


def section_times(dist_m, ele_m, sections: list[dict], *, params: SectionParams = DEFAULT_PARAMS,
                  ftp_w: float | None = None, weight_kg: float | None = None, source: str | None = None
                  ) -> list[float]:
    """Estimated seconds for stored sections (dicts with kind, start_m, end_m) with today's rider figures and
    settings, on the same profile they were cut from."""
    ftp, mass = _rider(ftp_w, weight_kg, params)
    profile = route_profile(dist_m, ele_m, params, source=source)
    if profile is None or not profile.by_distance or len(profile.axis) < 2:
        return [estimate_time_s(np.array([s["start_m"], s["end_m"]]), np.full(2, np.nan), "flat", ftp_w=ftp,
                                weight_kg=mass - params.bike_kg, params=params) for s in sections]
    timing = _Timing(profile.axis, profile.ele_m, ftp, mass, params)
    out = []
    for s in sections:
        first, stop = np.searchsorted(profile.axis, [s["start_m"], s["end_m"]])
        out.append(round(timing.time(int(first), int(stop), s["kind"]), 1))
    return out


def terrain_warnings(sections: list[dict | Section]) -> list[str]:
    """Sentences for stretches nobody rides (a hiking track): empty for a rideable route."""
    rows = [s.as_dict() if isinstance(s, Section) else s for s in sections]
    walked = sum((s.get("details") or {}).get("walk_m", 0) for s in rows)
    if not walked:
        return []
    total = sum(s["distance_m"] for s in rows) or 1.0
    steepest = max((abs(s["max_grade_pct"] or 0) for s in rows), default=0)
    text = (f"{walked / 1000:.1f} km of this route ({walked / total:.0%}) is steeper than "
            f"{DEFAULT_PARAMS.unrideable_grade_pct:.0f} % for {DEFAULT_PARAMS.unrideable_window_m:.0f} m or more "
            f"(up to {steepest:.0f} %): grades no one rides. Those stretches are timed at walking pace, and their "
            "descents are not rideable.")
    if walked / total > 0.25:
        text = "This looks like a hiking track, not a road or gravel route. " + text
    return [text]


# ------------------------------------------------------------------------------------------- selection


def section_at(sections: list[Section], distance_m: float) -> int | None:
    """Index of the section containing ``distance_m`` (the profile/map click → table row)."""
    for i, section in enumerate(sections):
        if section.start_m <= distance_m <= section.end_m:
            return i
    return None


def climbs(sections: list[Section]) -> list[Section]:
    return [s for s in sections if s.kind == "climb"]


def totals(sections: list[Section]) -> dict:
    """Whole-route figures from its sections."""
    gain = [s.elevation_gain_m for s in sections if s.elevation_gain_m is not None]
    loss = [s.elevation_loss_m for s in sections if s.elevation_loss_m is not None]
    return {"distance_m": float(sum(s.distance_m for s in sections)),
            "elevation_gain_m": float(sum(gain)) if gain else None,
            "elevation_loss_m": float(sum(loss)) if loss else None,
            "est_time_s": float(sum(s.est_time_s for s in sections)),
            "climbs": sum(1 for s in sections if s.kind == "climb")}
