"""Dashboard aggregates: weekly/monthly totals, fitness (CTL/ATL/TSB), zones, season bests, plan progress.

Every aggregate is one DuckDB query over the per-ride summaries in ``rides`` (never the 1 Hz samples); rides
that are a second arrival of another ride (``duplicate_of IS NOT NULL``) are left out. The fitness model is
the exponentially weighted form used by TrainingPeaks/GoldenCheetah::

    CTL_d = CTL_{d-1} · e^(−1/τ_ctl) + TSS_d · (1 − e^(−1/τ_ctl))      τ_ctl = 42 days by default
    ATL_d = ATL_{d-1} · e^(−1/τ_atl) + TSS_d · (1 − e^(−1/τ_atl))      τ_atl = 7 days by default
    TSB_d = CTL_{d-1} − ATL_{d-1}                                      (form: yesterday's fitness − fatigue)
    ramp_d = CTL_d − CTL_{d-7}

over daily TSS sums (a day without rides counts as TSS 0). Days after today take the TSS of the active plan's
planned workouts (a projection). The time constants come from the athlete's preferences ``ctl_days`` and
``atl_days`` (edited on the Settings page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.rides.totals import (  # noqa: F401 — re-exported: the pages and the coach read them from here
    DEFAULT_ATL_DAYS,
    DEFAULT_CTL_DAYS,
    FITNESS_COLUMNS,
    LOOK_UP,
    PERIODS,
    SUMMED_METRICS,
    TIME_CONSTANT_RANGE,
    active_plan,
    check_period,
    daily_tss_rows,
    exponential_load_values,
    first_ride_day,
    fitness_rows,
    last_ride_day,
    period_rows,
    plan_or_active,
    time_constants,
)

FORMULAS_MARKDOWN = (
    "- **CTL** (fitness): CTL = CTL(yesterday) · e^(−1/τ_CTL) + TSS(today) · (1 − e^(−1/τ_CTL))\n"
    "- **ATL** (fatigue): ATL = ATL(yesterday) · e^(−1/τ_ATL) + TSS(today) · (1 − e^(−1/τ_ATL))\n"
    "- **TSB** (form): TSB = CTL(yesterday) − ATL(yesterday)\n"
    "- **Ramp rate**: CTL(today) − CTL(7 days ago)\n"
    "- Daily TSS is the sum of the day's rides (0 on a rest day); days after today use the active plan's "
    "planned TSS (dashed)."
)

METRICS = {  # column -> (label, unit factor to display, display unit)
    "distance_m": ("Distance", 0.001, "km"),
    "moving_time_s": ("Moving time", 1 / 3600, "h"),
    "elevation_gain_m": ("Elevation gain", 1.0, "m"),
    "tss": ("TSS", 1.0, ""),
    "rides": ("Rides", 1.0, ""),
    "avg_power_w": ("Average power", 1.0, "W"),
    "avg_hr": ("Average HR", 1.0, "bpm"),
}
# SQL is written out literally (no string building): a ride's day is CAST(started_at AS DATE) in the session
# time zone, and every query keeps rides "WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL".
# Totals and fitness are computed in core.rides.totals (plain rows; the command line reads them without pandas).


# --------------------------------------------------------------------------------------------------------------
# Fitness: pure maths
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FitnessSeries:
    """Day-by-day fitness from ``start`` (inclusive); arrays of equal length."""

    start: date
    tss: np.ndarray
    ctl: np.ndarray
    atl: np.ndarray
    tsb: np.ndarray
    ramp: np.ndarray

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.tss))]


def exponential_load(daily_tss, tau_days: float, initial: float = 0.0) -> np.ndarray:
    """x_d = x_{d-1}·e^(−1/τ) + TSS_d·(1 − e^(−1/τ)), starting from ``initial`` before the first day.

    NaN TSS counts as 0 (a day without a rated ride)."""
    return np.asarray(exponential_load_values(np.asarray(daily_tss, dtype=np.float64).tolist(), tau_days, initial),
                      dtype=np.float64)


def fitness_series(daily_tss, start: date, ctl_days: float = DEFAULT_CTL_DAYS, atl_days: float = DEFAULT_ATL_DAYS,
                   ctl0: float = 0.0, atl0: float = 0.0) -> FitnessSeries:
    """CTL, ATL, TSB (yesterday's CTL − ATL) and ramp (CTL − CTL 7 days earlier) for a daily TSS series."""
    tss = np.nan_to_num(np.asarray(daily_tss, dtype=np.float64), nan=0.0)
    ctl = exponential_load(tss, ctl_days, ctl0)
    atl = exponential_load(tss, atl_days, atl0)
    tsb = np.empty_like(ctl)
    if tss.size:
        tsb[0] = ctl0 - atl0
        tsb[1:] = ctl[:-1] - atl[:-1]
    ramp = np.empty_like(ctl)
    if tss.size:
        before = np.concatenate([np.full(7, ctl0), ctl])[: len(ctl)]
        ramp[:] = ctl - before
    return FitnessSeries(start, tss, ctl, atl, tsb, ramp)


# --------------------------------------------------------------------------------------------------------------
# Fitness: storage reads
# --------------------------------------------------------------------------------------------------------------

_LOOK_UP = LOOK_UP  # "plan" argument default: read the active plan from the database
_plan = plan_or_active


def daily_tss(cur, athlete_id: int, start: date, end: date, *, today: date | None = None,
              include_plan: bool = True, plan=_LOOK_UP) -> pd.DataFrame:
    """One row per day in [start, end]: ``date``, ``tss`` (ridden; 0 on rest days), ``planned_tss`` (active
    plan) and ``projected`` (day after today, whose load is the planned TSS)."""
    rows = daily_tss_rows(cur, athlete_id, start, end, today=today, include_plan=include_plan, plan=plan)
    return pd.DataFrame(rows, columns=["date", "tss", "planned_tss", "projected"])


def fitness(cur, athlete_id: int, start: date | None = None, end: date | None = None, *,
            today: date | None = None, include_plan: bool = True, plan=_LOOK_UP) -> pd.DataFrame:
    """Daily fitness rows in [start, end]: ``date``, ``tss``, ``ctl``, ``atl``, ``tsb``, ``ramp``,
    ``projected`` (core.rides.totals.fitness_rows as a frame)."""
    rows = fitness_rows(cur, athlete_id, start, end, today=today, include_plan=include_plan, plan=plan)
    return pd.DataFrame(rows, columns=list(FITNESS_COLUMNS)) if rows else _empty_fitness()


def _empty_fitness() -> pd.DataFrame:
    return pd.DataFrame({"date": [], "tss": [], "ctl": [], "atl": [], "tsb": [], "ramp": [], "projected": []})


def fitness_on(cur, athlete_id: int, day: date, *, today: date | None = None) -> dict:
    """Fitness on ``day``: {"ctl", "atl", "tsb", "ramp"} (all 0.0 for an athlete without rides).

    CTL/ATL include ``day``'s own rides; TSB is the form going into ``day`` (yesterday's CTL − ATL). A day
    after today is projected with the active plan's planned TSS."""
    frame = fitness(cur, athlete_id, day, day, today=today)
    if frame.empty:
        return {"ctl": 0.0, "atl": 0.0, "tsb": 0.0, "ramp": 0.0}
    row = frame.iloc[-1]
    return {key: round(float(row[key]), 3) for key in ("ctl", "atl", "tsb", "ramp")}


# --------------------------------------------------------------------------------------------------------------
# Weekly / monthly totals
# --------------------------------------------------------------------------------------------------------------

def period_totals(cur, athlete_id: int, period: str = "week", start: date | None = None,
                  end: date | None = None, *, by_sport: bool = False) -> pd.DataFrame:
    """Totals per calendar week (Monday start) or month, from the rides' summaries.

    Columns: ``period_start`` (date), [``sport_type``], ``rides``, ``distance_m``, ``moving_time_s``,
    ``elevation_gain_m``, ``tss`` (sums), ``avg_power_w`` and ``avg_hr`` (averages weighted by moving time).
    Without ``by_sport`` every period between the first and last is present (0 rides when empty)."""
    columns = ["period_start", *(["sport_type"] if by_sport else []), *SUMMED_METRICS, "avg_power_w", "avg_hr"]
    rows = period_rows(cur, athlete_id, period, start, end, by_sport=by_sport)
    frame = pd.DataFrame(rows, columns=columns)
    frame["rides"] = frame["rides"].astype(int)
    for column in columns[columns.index("distance_m"):]:
        frame[column] = frame[column].astype(float)
    return frame


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def this_week_vs_last(cur, athlete_id: int, *, today: date | None = None, plan=_LOOK_UP) -> dict:
    """{"this_week": totals, "last_week": totals, "last_week_to_date": totals, "planned": {"duration_s", "tss",
    "workouts"} or None} where totals hold SUMMED_METRICS for the week so far, the whole previous week, and the
    previous week up to the same weekday (a like-for-like comparison on a Wednesday)."""
    today = today or date.today()
    monday = week_start(today)
    frame = period_totals(cur, athlete_id, "week", monday - timedelta(days=7), monday + timedelta(days=6))
    by_week = {row["period_start"]: row for row in frame.to_dict("records")}
    empty = {key: 0 for key in SUMMED_METRICS}

    def pick(day):
        row = by_week.get(day)
        return {key: (row[key] if row else 0) for key in SUMMED_METRICS} if row else dict(empty)

    plan = _plan(cur, athlete_id, plan)
    planned = None
    if plan:
        workouts, minutes, tss = cur.execute(
            "SELECT count(*), coalesce(sum(duration_min), 0), coalesce(sum(tss), 0) FROM planned_workouts "
            "WHERE plan_id = ? AND date BETWEEN ? AND ?", [plan["id"], monday, monday + timedelta(days=6)]
        ).fetchone()
        planned = {"workouts": int(workouts), "duration_s": float(minutes) * 60, "tss": float(tss)}
    same_point = period_totals(cur, athlete_id, "week", monday - timedelta(days=7), today - timedelta(days=7))
    last_to_date = next(iter(same_point.to_dict("records")), None)
    return {"this_week": pick(monday), "last_week": pick(monday - timedelta(days=7)),
            "last_week_to_date": {key: (last_to_date[key] if last_to_date else 0) for key in SUMMED_METRICS},
            "planned": planned}


# --------------------------------------------------------------------------------------------------------------
# Zones and season bests (from the per-ride metrics JSON)
# --------------------------------------------------------------------------------------------------------------

ZONE_KEYS = {"power": ("zones_power_s", 7), "hr": ("zones_hr_s", 5)}


def zones_per_week(cur, athlete_id: int, kind: str = "power", start: date | None = None,
                   end: date | None = None) -> pd.DataFrame:
    """Seconds per zone per week: columns ``period_start``, ``zone`` (1-based), ``seconds``."""
    if kind not in ZONE_KEYS:
        raise ValidationError(f"Zones are 'power' or 'hr', not '{kind}'")
    key, count = ZONE_KEYS[kind]
    start = start or date(1900, 1, 1)
    end = end or date(2999, 12, 31)
    df = cur.execute(
        """
        WITH z AS (
            SELECT CAST(date_trunc('week', CAST(started_at AS DATE)) AS DATE) AS period_start,
                   CAST(json_extract(metrics, ?) AS DOUBLE[]) AS secs
            FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL AND CAST(started_at AS DATE) BETWEEN ? AND ?
                         AND json_type(json_extract(metrics, ?)) = 'ARRAY')
        SELECT period_start, zone, sum(secs[zone]) AS seconds
        FROM z, range(1, ? + 1) r(zone)
        WHERE zone <= len(secs)
        GROUP BY ALL ORDER BY period_start, zone
        """, [f"$.{key}", athlete_id, start, end, f"$.{key}", count]).df()
    if not df.empty:
        df["period_start"] = pd.to_datetime(df["period_start"]).dt.date
        df["zone"] = df["zone"].astype(int)
        df["seconds"] = df["seconds"].fillna(0.0)
    return df


POWER_CURVE_LABELS = {1: "1 s", 5: "5 s", 10: "10 s", 30: "30 s", 60: "1 min", 120: "2 min", 300: "5 min",
                      600: "10 min", 1200: "20 min", 1800: "30 min", 3600: "60 min"}


def season_bests(cur, athlete_id: int, season: int | None = None) -> pd.DataFrame:
    """Best power per standard duration (POWER_CURVE_LABELS; a ride's own whole-length entry is left out) for
    ``season`` (calendar year, default this year) and the one before.

    Columns: ``duration_s``, ``this_season_w``, ``last_season_w``."""
    season = season or date.today().year
    df = cur.execute(
        """
        WITH seasons AS (
            SELECT year(CAST(started_at AS DATE)) AS season, metrics FROM rides
            WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL
                  AND CAST(started_at AS DATE) BETWEEN make_date(? - 1, 1, 1) AND make_date(?, 12, 31)),
        points AS (
            SELECT season, d AS duration_s,
                   TRY_CAST(json_extract_string(metrics, '$.power_curve."' || d || '"') AS DOUBLE) AS watts
            FROM seasons, unnest(?) t(d))
        SELECT CAST(duration_s AS INTEGER) AS duration_s,
               max(CASE WHEN season = ? THEN watts END) AS this_season_w,
               max(CASE WHEN season = ? - 1 THEN watts END) AS last_season_w
        FROM points GROUP BY 1 HAVING count(watts) > 0 ORDER BY 1
        """, [athlete_id, season, season, list(POWER_CURVE_LABELS), season, season]).df()
    return df


# --------------------------------------------------------------------------------------------------------------
# Plan progress
# --------------------------------------------------------------------------------------------------------------

# Compliance of ridden against planned duration, written down once (the dashboard's weeks, the calendar's days):
# "green" within ±20 %, "amber" from half to one and a half times the plan, "red" beyond. Pages choose the colours
# (core/views/calendarview.py picks colour-blind-safe ones and adds the status in words).
COMPLIANCE_BANDS_PCT = {"green": (80, 120), "amber": (50, 150)}


def compliance_colour(done_s: float, planned_s: float) -> str | None:
    """green within ±20 % of the planned duration, amber 50–79 % or 121–150 %, red otherwise; None when
    nothing was planned."""
    if not planned_s or planned_s <= 0:
        return None
    pct = round(100.0 * done_s / planned_s)
    for colour, (low, high) in COMPLIANCE_BANDS_PCT.items():
        if low <= pct <= high:
            return colour
    return "red"


def plan_progress(cur, athlete_id: int, *, today: date | None = None, plan=_LOOK_UP) -> pd.DataFrame | None:
    """Planned vs done per week of the active plan (None when there is no active plan).

    Columns: ``period_start``, ``planned_s``, ``done_s``, ``planned_tss``, ``done_tss``, ``workouts``,
    ``rides``, ``compliance_pct``, ``colour``, ``future`` (the week has not started yet), ``current`` (today is in
    it). Only a week that has ended has a colour: on a Monday morning the week just begun is not "off plan"."""
    today = today or date.today()
    plan = _plan(cur, athlete_id, plan)
    if plan is None:
        return None
    df = cur.execute(
        """
        WITH weeks AS (SELECT CAST(w AS DATE) AS period_start FROM generate_series(
                 CAST(date_trunc('week', CAST(? AS DATE)) AS DATE),
                 CAST(date_trunc('week', CAST(? AS DATE)) AS DATE), INTERVAL 7 DAY) t(w)),
             planned AS (SELECT CAST(date_trunc('week', date) AS DATE) AS period_start,
                                count(*) AS workouts, sum(duration_min) * 60 AS planned_s,
                                coalesce(sum(tss), 0) AS planned_tss
                         FROM planned_workouts WHERE plan_id = ? GROUP BY 1),
             done AS (SELECT CAST(date_trunc('week', CAST(started_at AS DATE)) AS DATE) AS period_start, count(*) AS rides,
                             coalesce(sum(moving_time_s), 0) AS done_s, coalesce(sum(tss), 0) AS done_tss
                      FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL AND CAST(started_at AS DATE) BETWEEN ? AND ? GROUP BY 1)
        SELECT weeks.period_start, coalesce(planned_s, 0) AS planned_s, coalesce(done_s, 0) AS done_s,
               coalesce(planned_tss, 0) AS planned_tss, coalesce(done_tss, 0) AS done_tss,
               coalesce(workouts, 0) AS workouts, coalesce(rides, 0) AS rides
        FROM weeks LEFT JOIN planned USING (period_start) LEFT JOIN done USING (period_start)
        ORDER BY weeks.period_start
        """, [plan["start_date"], plan["end_date"], plan["id"], athlete_id, plan["start_date"],
              plan["end_date"]]).df()
    df["period_start"] = pd.to_datetime(df["period_start"]).dt.date
    df["compliance_pct"] = np.where(df["planned_s"] > 0, 100.0 * df["done_s"] / df["planned_s"].where(
        df["planned_s"] > 0, 1.0), np.nan)
    df["future"] = df["period_start"] > today
    df["current"] = (df["period_start"] <= today) & (today < df["period_start"] + timedelta(days=7))
    df["colour"] = pd.Series([None if future or current else compliance_colour(d, p)
                              for d, p, future, current in zip(df["done_s"], df["planned_s"], df["future"],
                                                               df["current"], strict=True)],
                             index=df.index, dtype=object)
    return df


def upcoming_workouts(cur, athlete_id: int, *, today: date | None = None, limit: int = 7,
                      plan=_LOOK_UP) -> list[dict]:
    """The active plan's next workouts from today on (empty without an active plan)."""
    today = today or date.today()
    plan = _plan(cur, athlete_id, plan)
    if plan is None:
        return []
    rows = cur.execute(
        "SELECT id, date, type, duration_min, tss, description FROM planned_workouts "
        "WHERE plan_id = ? AND date >= ? ORDER BY date, id LIMIT ?", [plan["id"], today, int(limit)]).fetchall()
    return [dict(zip(("id", "date", "type", "duration_min", "tss", "description"), row, strict=True)) for row in rows]


def dashboard_data(cur, athlete_id: int, *, today: date | None = None, weeks: int = 26,
                   months: int = 24) -> dict:
    """Everything the dashboard page draws, in one call (the page caches it by data version)."""
    today = today or date.today()
    week_from = week_start(today) - timedelta(weeks=weeks - 1)
    month_from = (pd.Timestamp(today).to_period("M") - (months - 1)).to_timestamp().date()
    last = max(today, last_ride_day(cur, athlete_id) or today)
    ctl_days, atl_days = time_constants(cur, athlete_id)
    plan = active_plan(cur, athlete_id)
    fit = fitness(cur, athlete_id, week_from, today=today, plan=plan)
    return {
        "today": today,
        "plan": plan,
        "weekly": period_totals(cur, athlete_id, "week", week_from, last, by_sport=True),
        "monthly": period_totals(cur, athlete_id, "month", month_from, last, by_sport=True),
        "week_vs_last": this_week_vs_last(cur, athlete_id, today=today, plan=plan),
        "fitness": fit,
        "time_constants": {"ctl_days": ctl_days, "atl_days": atl_days},
        "zones_power": zones_per_week(cur, athlete_id, "power", week_from, last),
        "zones_hr": zones_per_week(cur, athlete_id, "hr", week_from, last),
        "season_bests": season_bests(cur, athlete_id, today.year),
        "plan_progress": plan_progress(cur, athlete_id, today=today, plan=plan),
        "upcoming": upcoming_workouts(cur, athlete_id, today=today, plan=plan),
    }


# --------------------------------------------------------------------------------------------------------------
# Colours shared by the charts (the Dashboard's own are Vega-Lite specs in core.views.dashcharts)
# --------------------------------------------------------------------------------------------------------------

SPORT_COLOURS = ("#E4572E", "#3A86FF", "#2A9D8F", "#8338EC", "#F4A259", "#6C757D", "#B3001B")
ZONE_COLOURS = ("#9E9E9E", "#3A86FF", "#2A9D8F", "#F4A259", "#E4572E", "#B3001B", "#6A040F")
