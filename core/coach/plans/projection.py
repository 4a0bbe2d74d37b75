"""What a plan does to the rider if ridden as written (pure): daily CTL/ATL/TSB to race day, race-day figures,
weekly hours and TSS with the phase and the week's sentence, and the quality figures the bench and the tests read
(ramp, recovery cadence, taper drop, time in zones).

Conventions (the dashboard's, core.rides.dashboard): CTL and ATL of a day include that day's load; TSB of a day is
the form going into it, CTL − ATL of the day before. Race-day CTL is the fitness brought to the start line (the
evening before); race-day TSB is the form on the morning of the race.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from core.coach.plans.periodisation import LOADING_PHASES, Fitness, advance
from core.coach.workouts import STEPS, zone_seconds


def daily_load(plan: dict, first_day: date | None = None) -> tuple[list[date], np.ndarray]:
    """Every day from ``first_day`` (default the plan's first Monday) to the plan's last day, and its planned TSS."""
    weeks = plan["weeks"]
    if not weeks:
        return [], np.zeros(0)
    start = first_day or date.fromisoformat(str(weeks[0]["start_date"])[:10])
    end = date.fromisoformat(str(weeks[-1]["start_date"])[:10]) + timedelta(days=6)
    if end < start:
        return [], np.zeros(0)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    load = np.zeros(len(days))
    for week in weeks:
        for w in week["workouts"]:
            day = date.fromisoformat(str(w["date"])[:10])
            if start <= day <= end:
                load[(day - start).days] += float(w["tss"])
    return days, load


def event_date_of(plan: dict) -> date | None:
    for week in plan["weeks"]:
        for w in week["workouts"]:
            if w["type"] == "race" and (w.get("target") or {}).get("event"):
                return date.fromisoformat(str(w["date"])[:10])
    return None


def project(plan: dict, fitness: Fitness, *, first_day: date | None = None, event_date: date | None = None,
            actual: dict[date, float] | None = None) -> dict:
    """The plan's projection from ``fitness`` (CTL/ATL the evening before ``first_day``).

    ``actual`` (day → ridden TSS) replaces the planned load on days already past (a saved plan seen mid-way).
    Returns {"start", "days": [{date, tss, ctl, atl, tsb}], "race_day", "end", "weeks": [...]}."""
    event_date = event_date or event_date_of(plan)
    days, load = daily_load(plan, first_day)
    if actual:
        for i, day in enumerate(days):
            if day in actual:
                load[i] = actual[day]
    if not days:
        return {"start": None, "days": [], "race_day": None, "end": None, "weeks": []}
    ctl, atl = advance(fitness.ctl, fitness.atl, load, fitness.ctl_days, fitness.atl_days)
    prev_ctl = np.concatenate(([fitness.ctl], ctl[:-1]))
    prev_atl = np.concatenate(([fitness.atl], atl[:-1]))
    tsb = prev_ctl - prev_atl
    last = len(days) if event_date is None or event_date > days[-1] else (event_date - days[0]).days + 1
    out_days = [{"date": days[i].isoformat(), "tss": round(float(load[i]), 1), "ctl": round(float(ctl[i]), 1),
                 "atl": round(float(atl[i]), 1), "tsb": round(float(tsb[i]), 1)} for i in range(max(0, last))]
    race = None
    if event_date is not None and days[0] <= event_date <= days[-1]:
        i = (event_date - days[0]).days
        race = {"date": event_date.isoformat(), "ctl": round(float(prev_ctl[i]), 1),
                "atl": round(float(prev_atl[i]), 1), "tsb": round(float(tsb[i]), 1)}
    weeks = []
    for week in plan["weeks"]:
        end = date.fromisoformat(str(week["start_date"])[:10]) + timedelta(days=6)
        i = min(len(days) - 1, (end - days[0]).days)
        weeks.append({"week": week["week"], "start_date": str(week["start_date"])[:10], "phase": week["phase"],
                      "hours": week["planned_hours"], "tss": week["planned_tss"],
                      "ctl_end": round(float(ctl[i]), 1) if i >= 0 else round(fitness.ctl, 1),
                      "why": week.get("why", "")})
    end_i = len(days) - 1
    return {"start": {"date": days[0].isoformat(), "ctl": round(fitness.ctl, 1), "atl": round(fitness.atl, 1),
                      "tsb": round(fitness.ctl - fitness.atl, 1)},
            "days": out_days, "race_day": race,
            "end": {"date": days[end_i].isoformat(), "ctl": round(float(ctl[end_i]), 1),
                    "tsb": round(float(prev_ctl[end_i] - prev_atl[end_i]), 1)},
            "weeks": weeks}


def _event(w: dict) -> bool:
    return w["type"] == "race" and bool((w.get("target") or {}).get("event"))


def quality(plan: dict, fitness: Fitness, *, current_weekly_tss: float) -> dict:
    """Figures that say whether the plan builds fitness safely (the event itself excluded from load checks):
    race-day CTL gain and TSB, week 1 against the current load, the largest rise over the last loading week, the
    longest run of loading weeks, recovery-week shares, the taper's drop in riding time, CTL ramp, time in zones."""
    proj = project(plan, fitness)
    race = proj["race_day"] or proj["end"]
    weeks = plan["weeks"]
    tss = [sum(w["tss"] for w in wk["workouts"] if not _event(w)) for wk in weeks]
    minutes = [sum(w["duration_min"] for w in wk["workouts"] if not _event(w)) for wk in weeks]
    phases = [wk["phase"] for wk in weeks]
    ramps, recovery_shares, taper_drops = [], [], []
    last_tss = last_min = None
    run = longest = 0
    for n, phase in enumerate(phases):
        if phase in LOADING_PHASES:
            run += 1
            longest = max(longest, run)
        elif phase != "taper":
            run = 0
        if last_tss is not None:
            ramps.append(tss[n] / last_tss - 1 if last_tss else 0.0)
        if phase == "recovery" and last_tss:
            recovery_shares.append(tss[n] / last_tss)
        if phase == "taper" and last_min:
            taper_drops.append(1 - minutes[n] / last_min)
        if phase in LOADING_PHASES:
            last_tss, last_min = tss[n], minutes[n]
    ctl_weeks = [w["ctl_end"] for w in proj["weeks"]]
    ctl_ramps = np.diff([fitness.ctl] + ctl_weeks) if ctl_weeks else np.zeros(0)
    zones = np.zeros(7)
    for wk in weeks:
        for w in wk["workouts"]:
            if w.get("steps") and not _event(w):
                zones += np.asarray(zone_seconds(STEPS.validate_python(w["steps"])))
    total = zones.sum() or 1.0
    low, mid, high = zones[:2].sum() / total, zones[2:4].sum() / total, zones[4:].sum() / total
    shape = "polarised" if high > mid else "pyramidal" if low > mid > high else "threshold"
    return {
        "race_ctl": race["ctl"], "race_tsb": race["tsb"], "ctl_gain": round(race["ctl"] - fitness.ctl, 1),
        "week1_pct": round((tss[0] / current_weekly_tss - 1) * 100, 1) if current_weekly_tss and tss else 0.0,
        "max_ramp_pct": round(max(ramps, default=0.0) * 100, 1),
        "max_loading_run": longest,
        "recovery_shares": [round(s, 2) for s in recovery_shares],
        "taper_drops": [round(d, 2) for d in taper_drops],
        "max_ctl_ramp": round(float(ctl_ramps.max()) if ctl_ramps.size else 0.0, 1),
        "zone_low": round(float(low), 3), "zone_mid": round(float(mid), 3), "zone_high": round(float(high), 3),
        "shape": shape,
    }


def projected_ctl(plan: dict, ctl0: float, ctl_days: float = 42.0, atl0: float | None = None) -> list[float]:
    """CTL at the end of each week if the plan is ridden as written."""
    days, load = daily_load(plan)
    if not days:
        return []
    ctl, _ = advance(ctl0, ctl0 if atl0 is None else atl0, load, ctl_days, 7.0)
    out = []
    for week in plan["weeks"]:
        last = date.fromisoformat(str(week["start_date"])) + timedelta(days=6)
        out.append(round(float(ctl[min(len(ctl) - 1, (last - days[0]).days)]), 1))
    return out
