"""Periodisation maths (pure): the fitness model stepped day by day, the phase layout of a plan, the load bounds and
the race-day target. docs/COACHING.md ("Periodisation and workouts") states every number here and its source.

- Fitness: CTL/ATL exactly as the dashboard computes them (core.rides.dashboard.exponential_load: the
  TrainingPeaks/Coggan impulse-response model), with the athlete's own time constants.
- Load bounds for a loading week (the smallest wins): the first week at most ``FIRST_WEEK_RAMP`` (+15 %) above the
  current weekly load; every later week at most ``LOADING_RAMP`` (+10 %) above the last loading week (a rule's ramp
  replaces it); CTL rising at most ``CTL_RAMP_BOUND[level]`` points a week; the hours available.
- Layout: blocks of ``load_weeks`` loading weeks (3, beginners 2) each followed by a recovery week at
  ``RECOVERY_RATIO`` of the last loading week's load; phases base → build → peak by the block's place in the plan;
  a taper of 1–2 weeks before the event (``taper_weeks``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.rides.dashboard import DEFAULT_ATL_DAYS, DEFAULT_CTL_DAYS, exponential_load

FIRST_WEEK_RAMP = 0.15       # week 1 ≤ 115 % of the current weekly load
LOADING_RAMP = 0.10          # a loading week ≤ 110 % of the last loading week (unless a rule says otherwise)
CTL_RAMP_BOUND = {"beginner": 4.0, "intermediate": 5.0, "advanced": 6.0, "elite": 7.0}  # CTL points per week
RECOVERY_RATIO = 0.65        # a recovery week's TSS, of the last loading week's (Friel: 55–70 %)
LOAD_WEEKS = {"beginner": 2, "intermediate": 3, "advanced": 3, "elite": 3}  # loading weeks before a recovery week
# What a rider without any ride is assumed to start from (CTL), and the least weekly load a plan starts from
# (a rider back from a break restarts there, not at zero).
ASSUMED_CTL = {"beginner": 15.0, "intermediate": 30.0, "advanced": 45.0, "elite": 60.0}
MIN_WEEKLY_TSS = {"beginner": 105.0, "intermediate": 140.0, "advanced": 175.0, "elite": 210.0}
# Race-day form (TSB) the taper aims for, by event, as (lowest, ideal, highest): short, intense events want less
# freshness than all-day ones (TrainingPeaks: +5 to +25 on race day; Coggan/Allen and Friel: +15 to +25 for the
# most important race of an experienced rider).
TSB_BAND = {"criterium": (4.0, 8.0, 15.0), "time_trial": (4.0, 8.0, 15.0), "road_race": (4.0, 10.0, 20.0),
            "gran_fondo": (8.0, 15.0, 25.0), "stage_race": (8.0, 15.0, 25.0), "climbing_event": (8.0, 15.0, 25.0)}
DEFAULT_TSB_BAND = (4.0, 10.0, 20.0)
TSB_WEIGHT = 0.2             # CTL points given up for one TSB point nearer the ideal
LONG_EVENTS = ("road_race", "gran_fondo", "stage_race", "climbing_event", None, "general_fitness")
LOADING_PHASES = ("base", "build", "peak")


@dataclass(frozen=True)
class Fitness:
    """Where the athlete starts: CTL and ATL on the evening before the plan's first day, the current weekly load
    (TSS of a typical recent week), the model's time constants, and whether CTL was assumed (no rides)."""

    ctl: float
    atl: float
    weekly_tss: float
    ctl_days: float = DEFAULT_CTL_DAYS
    atl_days: float = DEFAULT_ATL_DAYS
    assumed: bool = False

    @classmethod
    def steady(cls, ctl: float, **kw) -> Fitness:
        """A rider who has trained at the same load for weeks: ATL = CTL, weekly load = 7 × CTL."""
        return cls(ctl=ctl, atl=ctl, weekly_tss=7 * ctl, **kw)


def current_weekly_load(fitness: Fitness, level: str) -> float:
    """The weekly TSS week 1 is compared with: the recent weekly load, at least the level's minimum."""
    return max(fitness.weekly_tss, MIN_WEEKLY_TSS.get(level, MIN_WEEKLY_TSS["intermediate"]))


def advance(ctl: float, atl: float, daily_tss, ctl_days: float, atl_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Daily CTL and ATL after each day of ``daily_tss``, starting from ``ctl``/``atl`` (the dashboard's model)."""
    return exponential_load(daily_tss, ctl_days, ctl), exponential_load(daily_tss, atl_days, atl)


def weekly_tss_for_ctl(ctl_from: float, ctl_to: float, ctl_days: float) -> float:
    """Weekly TSS that, spread evenly over seven days, moves CTL from ``ctl_from`` to ``ctl_to``:
    CTL₇ = L + (CTL₀ − L)·e^(−7/τ)  ⇒  7·L = 7·(CTL₇ − CTL₀·e^(−7/τ)) / (1 − e^(−7/τ))."""
    k = math.exp(-7.0 / ctl_days)
    return max(0.0, 7.0 * (ctl_to - ctl_from * k) / (1.0 - k))


def taper_weeks(weeks: int, event_type: str | None) -> int:
    """Taper length before an event (Mujika & Padilla 2003, Bosquet et al. 2007: 8–14 days is best; a short plan
    cannot afford two weeks, a short event does not need them)."""
    if weeks <= 3:
        return 1
    if weeks >= 16 and event_type in LONG_EVENTS:
        return 2
    return 1


def _blocks(pre: int, load_weeks: int, carry: int, ends_with_recovery: bool) -> list[int]:
    """Loading weeks per block (each block but the last followed by a recovery week, the last one too when
    ``ends_with_recovery``); the first block has room for ``load_weeks − carry`` (weeks already loaded)."""
    if pre <= 0:
        return []
    first_room = max(0, load_weeks - carry)
    for n_blocks in range(1, pre + 2):
        recoveries = n_blocks if ends_with_recovery else n_blocks - 1
        loading = pre - recoveries
        if loading < 0:
            break
        room = first_room + (n_blocks - 1) * load_weeks
        if loading <= room and loading >= n_blocks - 1:
            if carry <= 0:  # even blocks, the bigger ones last (nearest the event)
                base, extra = divmod(loading, n_blocks)
                sizes = [base] * n_blocks
                for i in range(extra):
                    sizes[-1 - i] += 1
                return sizes
            first = min(first_room, max(0, loading - (n_blocks - 1) * load_weeks) if n_blocks > 1 else loading)
            first = max(first, min(first_room, loading - (n_blocks - 1) * max(1, (loading - first_room)
                                                                             // max(1, n_blocks - 1))))
            first = min(first_room, max(0, first))
            rest = loading - first
            sizes = [first]
            if n_blocks > 1:
                base, extra = divmod(rest, n_blocks - 1)
                others = [base] * (n_blocks - 1)
                for i in range(extra):
                    others[-1 - i] += 1
                sizes += others
            return sizes
    return [0] * pre  # nothing fits (carry at its limit on a one-week plan): every week is a recovery week


def layout(weeks: int, *, level: str = "intermediate", event_type: str | None = None, has_event: bool = True,
           taper: int | None = None, load_weeks: int | None = None, carry_loading: int = 0,
           offset: int = 0, total: int | None = None) -> list[str]:
    """Phase of each week: blocks of loading weeks (base → build → peak) and recovery weeks, then the taper.

    ``carry_loading`` loading weeks just before this plan (a re-plan) shorten the first block; ``offset``/``total``
    place these weeks inside a longer plan, so a re-plan keeps the original proportions of base, build and peak."""
    load_weeks = load_weeks or LOAD_WEEKS.get(level, 3)
    taper = (taper if taper is not None else taper_weeks(weeks + offset, event_type)) if has_event else 0
    taper = min(taper, weeks)
    pre = weeks - taper
    sizes = _blocks(pre, load_weeks, carry_loading, ends_with_recovery=not has_event)
    total = total or (offset + weeks)
    total_pre = max(1, total - taper)
    n_blocks_total = max(1, math.floor((total_pre + 1) / (load_weeks + 1) + 0.5))
    phases: list[str] = []
    for b, size in enumerate(sizes):
        last = b == len(sizes) - 1
        start = offset + len(phases)
        mid = (start + size / 2) / total_pre
        if last and has_event and n_blocks_total >= 3:
            phase = "peak"
        elif mid < 0.4 and (not last or len(sizes) > 1 or n_blocks_total > 1) and n_blocks_total > 1:
            phase = "base"
        else:
            phase = "build"
        phases += [phase] * size
        if not last or not has_event:
            phases.append("recovery")
    phases = phases[:pre] + ["recovery"] * max(0, pre - len(phases))
    return phases + ["taper"] * taper


def tsb_band(event_type: str | None) -> tuple[float, float, float]:
    return TSB_BAND.get(event_type or "", DEFAULT_TSB_BAND)


def taper_options(n_taper: int, *, depth: int = 0) -> list[tuple[float, ...]]:
    """Training volume of each taper week as a share of the last loading week's (the event itself excluded),
    lightest first: volume down 30–60 % with intensity kept (Mujika & Padilla 2003; Bosquet et al. 2007).
    ``depth`` 1 and 2 are the fall-backs when none of those brings race-day form into the band (a rider whose
    fatigue runs far ahead of a low fitness): down to 70 %, the race week without its interval session (1) and
    with an easy spin instead of openers (2). A longer taper (a rule's) holds its first weeks at the first share."""
    if n_taper > 2:
        return [(option[0],) * (n_taper - 2) + option for option in taper_options(2, depth=depth)]
    if depth:
        deep = [(0.50, 0.34), (0.45, 0.30)] if n_taper >= 2 else [(0.34,), (0.30,)]
        return deep + ([(0.40, 0.25)] if n_taper >= 2 else [(0.25,)]) * (depth >= 2)
    if n_taper >= 2:
        return [(0.68, 0.60), (0.68, 0.52), (0.66, 0.48), (0.62, 0.45), (0.58, 0.42), (0.55, 0.40)]
    return [(0.68,), (0.64,), (0.58,), (0.52,), (0.46,), (0.40,)]


def choose_taper(results: list[tuple[tuple[float, ...], float, float]], band: tuple[float, float, float]):
    """Pick among (option, race-day CTL, race-day TSB): inside the band, the best CTL − TSB_WEIGHT·|TSB − ideal|;
    when no option reaches the band, the one whose TSB is nearest it (then the most CTL)."""
    low, ideal, high = band
    inside = [r for r in results if low <= r[2] <= high]
    if inside:
        return max(inside, key=lambda r: r[1] - TSB_WEIGHT * abs(r[2] - ideal))
    return min(results, key=lambda r: ((low - r[2]) if r[2] < low else (r[2] - high), -r[1]))


def with_recovery_weeks(phases: list[str], recovery_weeks: int) -> list[str]:
    """Each recovery week of the layout followed by ``recovery_weeks − 1`` more (a rule's cadence), before the
    taper."""
    out: list[str] = []
    pending = 0
    for phase in phases:
        if phase == "taper":
            out.append(phase)
        elif pending:
            out.append("recovery")
            pending -= 1
        else:
            out.append(phase)
            pending = recovery_weeks - 1 if phase == "recovery" else 0
    return out
