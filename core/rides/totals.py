"""Dashboard figures as plain rows: weekly/monthly totals and daily fitness (CTL/ATL/TSB), for the command line
and for core.rides.dashboard (which turns them into pandas frames for the pages).

The aggregation is DuckDB SQL over the per-ride summaries in ``rides`` (never the 1 Hz samples); the fitness
recursion is a plain loop over days (a few thousand steps). Never imports pandas, numpy or scipy: ``python -m core
metrics …`` must start about as fast as DuckDB itself. The formulas are documented in core.rides.dashboard.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date, timedelta

from core.errors import ValidationError

DEFAULT_CTL_DAYS = 42.0
DEFAULT_ATL_DAYS = 7.0
TIME_CONSTANT_RANGE = (1.0, 365.0)
SUMMED_METRICS = ("rides", "distance_m", "moving_time_s", "elevation_gain_m", "tss")
TOTAL_COLUMNS = (*SUMMED_METRICS, "avg_power_w", "avg_hr")
FITNESS_COLUMNS = ("date", "tss", "ctl", "atl", "tsb", "ramp", "projected")
PERIODS = ("week", "month")
_PERIOD_STEP = {"week": "7 days", "month": "1 month"}

# SQL is written out literally (no string building): a ride's day is CAST(started_at AS DATE) in the session
# time zone, and every query keeps rides "WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL".

_TOTALS_BY_SPORT_SQL = """
    SELECT CAST(date_trunc(?, CAST(started_at AS DATE)) AS DATE) AS period_start, sport_type,
           count(*) AS rides, coalesce(sum(distance_m), 0) AS distance_m,
           coalesce(sum(moving_time_s), 0) AS moving_time_s,
           coalesce(sum(elevation_gain_m), 0) AS elevation_gain_m, coalesce(sum(tss), 0) AS tss,
           sum(avg_power_w * moving_time_s)
               / nullif(sum(CASE WHEN avg_power_w IS NOT NULL THEN moving_time_s END), 0) AS avg_power_w,
           sum(avg_hr * moving_time_s) / nullif(sum(CASE WHEN avg_hr IS NOT NULL THEN moving_time_s END), 0) AS avg_hr
    FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL
                 AND CAST(started_at AS DATE) BETWEEN ? AND ?
    GROUP BY ALL ORDER BY period_start, sport_type"""

_TOTALS_SQL = """
    WITH totals AS (
        SELECT CAST(date_trunc(?, CAST(started_at AS DATE)) AS DATE) AS period_start,
               count(*) AS rides, sum(distance_m) AS distance_m, sum(moving_time_s) AS moving_time_s,
               sum(elevation_gain_m) AS elevation_gain_m, sum(tss) AS tss,
               sum(avg_power_w * moving_time_s)
                   / nullif(sum(CASE WHEN avg_power_w IS NOT NULL THEN moving_time_s END), 0) AS avg_power_w,
               sum(avg_hr * moving_time_s)
                   / nullif(sum(CASE WHEN avg_hr IS NOT NULL THEN moving_time_s END), 0) AS avg_hr
        FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL
                     AND CAST(started_at AS DATE) BETWEEN ? AND ?
        GROUP BY ALL),
    periods AS (
        SELECT CAST(p AS DATE) AS period_start
        FROM generate_series(CAST(date_trunc(?, CAST(? AS DATE)) AS DATE),
                             CAST(date_trunc(?, CAST(? AS DATE)) AS DATE), CAST(? AS INTERVAL)) t(p))
    SELECT periods.period_start, coalesce(rides, 0) AS rides, coalesce(distance_m, 0) AS distance_m,
           coalesce(moving_time_s, 0) AS moving_time_s, coalesce(elevation_gain_m, 0) AS elevation_gain_m,
           coalesce(tss, 0) AS tss, avg_power_w, avg_hr
    FROM periods LEFT JOIN totals USING (period_start) ORDER BY periods.period_start"""

# A day's load: ridden TSS per day (in [?, ?] when bounded) and the plan's per day. The days between are filled in
# Python: a generate_series joined to both and sorted cost a fresh process twice as much (issue 17).
_RIDDEN_SQL = """
    SELECT CAST(started_at AS DATE) AS date, CAST(sum(coalesce(tss, 0)) AS DOUBLE) AS tss FROM rides
    WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL GROUP BY 1"""
_RIDDEN_BETWEEN_SQL = """
    SELECT CAST(started_at AS DATE) AS date, CAST(sum(coalesce(tss, 0)) AS DOUBLE) AS tss FROM rides
    WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL
          AND CAST(started_at AS DATE) BETWEEN ? AND ? GROUP BY 1"""
_PLANNED_SQL = """
    SELECT date, CAST(sum(coalesce(tss, 0)) AS DOUBLE) AS tss FROM planned_workouts
    WHERE plan_id = ? AND date BETWEEN ? AND ? GROUP BY 1"""


# --------------------------------------------------------------------------------------------------------------
# Fitness: pure maths
# --------------------------------------------------------------------------------------------------------------

def check_time_constant(tau_days: float) -> float:
    tau_days = float(tau_days)
    if not math.isfinite(tau_days) or tau_days <= 0:
        raise ValidationError(f"A fitness time constant must be a positive number of days (got {tau_days})")
    return tau_days


def exponential_load_values(daily_tss: Iterable[float], tau_days: float, initial: float = 0.0) -> list[float]:
    """x_d = x_{d-1}·e^(−1/τ) + TSS_d·(1 − e^(−1/τ)), starting from ``initial`` before the first day; NaN or
    None TSS counts as 0 (a day without a rated ride)."""
    decay = math.exp(-1.0 / check_time_constant(tau_days))
    gain = 1.0 - decay
    level = float(initial)
    out = []
    for value in daily_tss:
        value = 0.0 if value is None or value != value else float(value)  # NaN != NaN
        level = decay * level + gain * value
        out.append(level)
    return out


def fitness_values(daily_tss: list[float], ctl_days: float = DEFAULT_CTL_DAYS, atl_days: float = DEFAULT_ATL_DAYS,
                   ctl0: float = 0.0, atl0: float = 0.0) -> dict[str, list[float]]:
    """{"tss", "ctl", "atl", "tsb" (yesterday's CTL − ATL), "ramp" (CTL − CTL 7 days earlier)} for a daily TSS
    series, as lists of equal length."""
    tss = [0.0 if v is None or v != v else float(v) for v in daily_tss]
    ctl = exponential_load_values(tss, ctl_days, ctl0)
    atl = exponential_load_values(tss, atl_days, atl0)
    tsb = [ctl0 - atl0, *(c - a for c, a in zip(ctl[:-1], atl[:-1], strict=True))][: len(tss)]
    ramp = [c - (ctl[i - 7] if i >= 7 else ctl0) for i, c in enumerate(ctl)]
    return {"tss": tss, "ctl": ctl, "atl": atl, "tsb": tsb, "ramp": ramp}


# --------------------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------------------

def time_constants(cur, athlete_id: int) -> tuple[float, float]:
    """(ctl_days, atl_days) from the athlete's preferences, defaults 42/7; out-of-range values fall back."""
    row = cur.execute("SELECT preferences FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    prefs = {}
    if row and row[0]:
        try:
            prefs = json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])
        except (ValueError, TypeError):
            prefs = {}
    low, high = TIME_CONSTANT_RANGE

    def pick(key: str, default: float) -> float:
        try:
            value = float(prefs.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if math.isfinite(value) and low <= value <= high else default

    return pick("ctl_days", DEFAULT_CTL_DAYS), pick("atl_days", DEFAULT_ATL_DAYS)


LOOK_UP = object()  # "plan" argument default: read the active plan from the database


def plan_or_active(cur, athlete_id: int, plan):
    return active_plan(cur, athlete_id) if plan is LOOK_UP else plan


def active_plan(cur, athlete_id: int) -> dict | None:
    """The athlete's active plan (the newest if several are flagged active), or None."""
    row = cur.execute(
        "SELECT id, name, start_date, end_date, duration_weeks FROM plans "
        "WHERE athlete_id = ? AND active AND NOT is_template ORDER BY created_at DESC, id DESC LIMIT 1",
        [athlete_id]).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "name", "start_date", "end_date", "duration_weeks"), row, strict=True))


def ride_day_span(cur, athlete_id: int) -> tuple[date | None, date | None]:
    """(first, last) day the athlete rode, in one read; (None, None) without rides."""
    first, last = cur.execute(
        "SELECT min(CAST(started_at AS DATE)), max(CAST(started_at AS DATE)) FROM rides WHERE athlete_id = ? "
        "AND duplicate_of IS NULL AND started_at IS NOT NULL", [athlete_id]).fetchone()
    return first, last


def first_ride_day(cur, athlete_id: int) -> date | None:
    return ride_day_span(cur, athlete_id)[0]


def last_ride_day(cur, athlete_id: int) -> date | None:
    return ride_day_span(cur, athlete_id)[1]


def daily_tss_rows(cur, athlete_id: int, start: date, end: date, *, today: date | None = None,
                   include_plan: bool = True, plan=LOOK_UP) -> list[tuple[date, float, float, bool]]:
    """(date, tss ridden (0 on rest days), planned_tss of the active plan, projected (a day after today)) for
    each day in [start, end]."""
    today = today or date.today()
    plan = plan_or_active(cur, athlete_id, plan) if include_plan else None
    ridden = dict(cur.execute(_RIDDEN_BETWEEN_SQL, [athlete_id, start, end]).fetchall())
    return _days(ridden, plan, start, end, today, cur)


def _days(ridden: dict, plan: dict | None, start: date, end: date, today: date, cur) -> list[tuple]:
    """(date, ridden, planned, projected) for each day in [start, end] from the ridden TSS per day."""
    planned = dict(cur.execute(_PLANNED_SQL, [plan["id"], start, end]).fetchall()) if plan else {}
    rows, day, one = [], start, timedelta(days=1)
    while day <= end:
        rows.append((day, ridden.get(day, 0.0), planned.get(day, 0.0), day > today))
        day += one
    return rows


def fitness_rows(cur, athlete_id: int, start: date | None = None, end: date | None = None, *,
                 today: date | None = None, include_plan: bool = True, plan=LOOK_UP) -> list[dict]:
    """Daily fitness rows in [start, end], each {FITNESS_COLUMNS}. The recursion always starts at the first ride
    (so CTL on ``start`` is right); days after ``today`` use the active plan's planned TSS. Empty when the
    athlete has no rides and no plan."""
    return [dict(zip(FITNESS_COLUMNS, row, strict=True))
            for row in fitness_tuples(cur, athlete_id, start, end, today=today, include_plan=include_plan, plan=plan)]


def fitness_tuples(cur, athlete_id: int, start: date | None = None, end: date | None = None, *,
                   today: date | None = None, include_plan: bool = True, plan=LOOK_UP) -> list[tuple]:
    """fitness_rows as tuples in FITNESS_COLUMNS' order (the command line prints thousands of them)."""
    today = today or date.today()
    ctl_days, atl_days = time_constants(cur, athlete_id)
    ridden = dict(cur.execute(_RIDDEN_SQL, [athlete_id]).fetchall())  # every ride day: the first is the origin
    first = min(ridden, default=None)
    plan = plan_or_active(cur, athlete_id, plan) if include_plan else None
    if end is None:
        end = today
        if plan and plan["end_date"] and plan["end_date"] > today:
            end = plan["end_date"]
    origin_candidates = [d for d in (first, plan["start_date"] if plan else None) if d is not None]
    if not origin_candidates:
        return []
    if start is not None:
        origin_candidates.append(start)
    origin = min(origin_candidates)
    if end < origin:
        return []
    days = _days(ridden, plan, origin, end, today, cur)
    load = [planned if projected else ridden for _, ridden, planned, projected in days]
    series = fitness_values(load, ctl_days, atl_days)
    rows = zip([day for day, _, _, _ in days], load, series["ctl"], series["atl"], series["tsb"], series["ramp"],
               [bool(projected) for _, _, _, projected in days], strict=True)
    return [row for row in rows if start is None or row[0] >= start]


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise ValidationError(f"The period must be 'week' or 'month', not '{period}'")
    return period


def period_rows(cur, athlete_id: int, period: str = "week", start: date | None = None, end: date | None = None,
                *, by_sport: bool = False) -> list[dict]:
    """Totals per calendar week (Monday start) or month, from the rides' summaries: ``period_start`` (date),
    [``sport_type``], ``rides``, ``distance_m``, ``moving_time_s``, ``elevation_gain_m``, ``tss`` (sums),
    ``avg_power_w`` and ``avg_hr`` (averages weighted by moving time; None without data). Without
    ``by_sport`` every period between the first and last is present (0 rides when empty)."""
    check_period(period)
    if start is None or end is None:
        first, last = ride_day_span(cur, athlete_id)
        start, end = start or first, end or last
    if start is None or end is None or end < start:
        return []
    if by_sport:
        sql, params = _TOTALS_BY_SPORT_SQL, [period, athlete_id, start, end]
    else:
        sql, params = _TOTALS_SQL, [period, athlete_id, start, end, period, start, period, end, _PERIOD_STEP[period]]
    result = cur.execute(sql, params)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
