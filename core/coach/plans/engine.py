"""The deterministic periodisation engine (pure: no database): phases, weekly load, workouts per day, a repair
pass that enforces every rule, race placement and projected CTL. The engine ends by re-checking its own output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from core.coach.plans.check import RuleContext, _day_of
from core.coach.plans.schema import INTERVALS, MIN_SESSION_MIN, SESSION_IF, ZONES, UserPreferences
from core.coach.rules import (
    DAYS,
    HARD_TYPES,
    MODERATE_TYPES,
    Constraint,
)

# ----------------------------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class Climb:
    name: str
    duration_min: float
    avg_grade_pct: float
    distance_m: float
    power_w: float = 0.0


def climb_power(ftp_w: float, duration_min: float) -> float:
    """A steady pacing target for a climb of this duration (share of FTP falls as the effort gets longer)."""
    if duration_min < 5:
        share = 1.10
    elif duration_min < 10:
        share = 1.05
    elif duration_min < 20:
        share = 1.00
    elif duration_min < 40:
        share = 0.95
    elif duration_min < 60:
        share = 0.90
    else:
        share = 0.85
    return round(ftp_w * share)


def phase_plan(weeks: int, fitness_level: str = "intermediate") -> list[str]:
    """Phase of each week: base → build → peak → taper, with a recovery week every 4th (3rd for beginners)."""
    taper = 0 if weeks < 4 else (2 if weeks >= 20 else 1)
    rest = weeks - taper
    if rest <= 2:
        phases = ["build"] * rest
    else:
        peak = max(1, round(rest * 0.15))
        build = max(1, round(rest * 0.35))
        base = max(0, rest - peak - build)
        phases = ["base"] * base + ["build"] * build + ["peak"] * peak
    cycle = 3 if fitness_level == "beginner" else 4
    for i in range(len(phases)):
        if (i + 1) % cycle == 0 and i < len(phases) - 1:
            phases[i] = "recovery"
    return phases + ["taper"] * taper


_LOAD = {"base": (0.75, 0.92), "build": (0.9, 1.0), "peak": (1.0, 1.03), "recovery": (0.6, 0.6),
         "taper": (0.6, 0.45)}
_HARD_COUNT = {"base": 0, "build": 2, "peak": 2, "recovery": 0, "taper": 1}
_MODERATE_COUNT = {"base": 2, "build": 1, "peak": 1, "recovery": 0, "taper": 0}
_HARD_PREF = {"base": ["threshold"], "build": ["threshold", "vo2max"], "peak": ["vo2max", "threshold", "anaerobic"],
              "taper": ["vo2max", "threshold"], "recovery": []}
_MODERATE_PREF = {"base": ["sweet_spot", "tempo"], "build": ["sweet_spot", "tempo"], "peak": ["tempo", "sweet_spot"],
                  "taper": ["tempo"], "recovery": []}


def workout_tss(kind: str, duration_min: float) -> float:
    return round(duration_min / 60 * SESSION_IF[kind] ** 2 * 100, 1)


def _target(kind: str, ftp: float, indoor: bool, climbs: list[Climb] | None = None) -> dict:
    if kind == "rest":
        return {"indoor": False}
    zone, low, high = ZONES[kind]
    target = {"zone": zone, "power_w": [round(ftp * low), round(ftp * high)], "indoor": indoor}
    if kind not in ("endurance", "long", "recovery", "race"):
        target["intervals"] = INTERVALS[kind]
    if climbs:
        target["climbs"] = [{"name": c.name, "duration_min": round(c.duration_min, 1),
                             "avg_grade_pct": round(c.avg_grade_pct, 1), "power_w": c.power_w} for c in climbs]
        target["intervals"] = " + ".join(f"{c.duration_min:.0f} min @ {c.power_w:.0f} W" for c in climbs)
    return target


def _description(kind: str, target: dict, duration_min: float, route_name: str | None = None) -> str:
    if kind == "rest":
        return "Rest day"
    where = "indoors" if target.get("indoor") else "outdoors or indoors"
    lo, hi = target["power_w"]
    if target.get("climbs"):
        parts = ", ".join(f"{c['duration_min']:.0f} min at {c['power_w']} W (like {c['name']}, "
                          f"{c['avg_grade_pct']:.1f}%)" for c in target["climbs"])
        return (f"Climb intervals for {route_name or 'your route'}: {parts}, easy between; {where}")
    label = kind.replace("_", " ")
    extra = f": {target['intervals']} at {lo}–{hi} W" if target.get("intervals") else f" at {lo}–{hi} W"
    return f"{label.capitalize()} {duration_min:.0f} min{extra}; {where}"


def _make(day: date, kind: str, minutes: float, ftp: float, ctx: RuleContext, climbs=None, route_name=None) -> dict:
    minutes = 0.0 if kind == "rest" else float(max(0, math.floor(minutes / 5) * 5))
    if kind != "rest" and minutes < MIN_SESSION_MIN:
        kind, minutes = "rest", 0.0
    target = _target(kind, ftp, ctx.indoor(day.weekday()), climbs if kind != "rest" else None)
    return {"date": day.isoformat(), "type": kind, "duration_min": minutes, "tss": workout_tss(kind, minutes),
            "target": target, "description": _description(kind, target, minutes, route_name)}


def _spread(chosen: list[int], candidates: list[int], n: int) -> list[int]:
    """Add days from candidates to chosen, each time the one furthest (circularly) from the chosen ones."""
    chosen = list(chosen)
    pool = [d for d in candidates if d not in chosen]
    while len(chosen) < n and pool:
        def gap(d):
            return min((min(abs(d - c), 7 - abs(d - c)) for c in chosen), default=7)
        pool.sort(key=lambda d: (-gap(d), d))
        chosen.append(pool.pop(0))
    return sorted(chosen)


def _build_week(start: date, phase: str, hours: float, progress: float, ctx: RuleContext, ftp: float,
                climbs: list[Climb], route_name: str | None, long_pref: int | None) -> list[dict]:
    minutes_budget = hours * 60
    candidates = [d for d in range(7) if d not in ctx.rest and d in ctx.available]
    if not candidates:
        return [_make(start + timedelta(days=d), "rest", 0, ftp, ctx) for d in range(7)]
    n_days = max(2, min(6, math.ceil(minutes_budget / 80)))
    if phase in ("recovery", "taper"):
        n_days = min(n_days, 4)
    if ctx.max_days is not None:
        n_days = min(n_days, ctx.max_days)
    n_days = min(n_days, len(candidates))
    # long ride
    order = ctx.long_days if ctx.long_rule else ([long_pref] if long_pref is not None else []) + [5, 6] + \
        sorted(candidates, reverse=True)
    long_day = next((d for d in order if d in candidates and ctx.allowed(d, "long")), None)
    chosen = _spread([long_day] if long_day is not None else [], candidates, n_days)
    kinds: dict[int, str] = {d: "endurance" for d in chosen}
    if long_day is not None:
        kinds[long_day] = "long"
    # hard sessions
    n_hard = _HARD_COUNT[phase] if not (phase == "base" and progress > 0.5) else 1
    if ctx.max_hard is not None:
        n_hard = min(n_hard, ctx.max_hard)
    strict = ctx.max_consec is not None or ctx.rest_after is not None

    def free(d):
        return d in kinds and kinds[d] == "endurance"

    def pick_type(d, prefs):
        for kind in prefs:
            if ctx.allowed(d, kind):
                return kind
        return None

    hard_days: list[int] = []
    prefs = _HARD_PREF[phase] + [k for k in ("threshold", "vo2max", "anaerobic") if k not in _HARD_PREF[phase]]
    for i in range(n_hard):
        options = []
        for d in chosen:
            if not free(d):
                continue
            kind = pick_type(d, prefs[i % max(1, len(_HARD_PREF[phase])):] + prefs)
            if kind is None:
                continue
            adjacent_hard = any(abs(d - h) == 1 for h in hard_days)
            if strict and adjacent_hard:
                continue
            if ctx.rest_after == 1 and d + 1 in kinds:
                continue  # the next day must stay a rest day
            next_to_long = long_day is not None and abs(d - long_day) == 1
            options.append((adjacent_hard, next_to_long, d, kind))
        if not options:
            break
        options.sort()
        _, _, d, kind = options[0]
        kinds[d] = kind
        hard_days.append(d)
    # moderate sessions
    key_days = list(hard_days)
    for _ in range(_MODERATE_COUNT[phase]):
        for d in chosen:
            if free(d) and not any(abs(d - h) <= 1 for h in key_days):
                kind = pick_type(d, _MODERATE_PREF[phase])
                if kind:
                    kinds[d] = kind
                    key_days.append(d)
                    break
    if phase == "recovery":
        # one easy spin instead of an endurance ride
        easy = [d for d in chosen if free(d)]
        if easy and ctx.allowed(easy[0], "recovery"):
            kinds[easy[0]] = "recovery"
    # a type not allowed on its day falls back
    for d in list(kinds):
        if not ctx.allowed(d, kinds[d]):
            kinds[d] = ctx.fallback(d)
    # durations
    durations: dict[int, float] = {}
    fixed = 0.0
    key_minutes = 60 if phase == "taper" else 75
    for d, kind in kinds.items():
        if kind in HARD_TYPES or kind in MODERATE_TYPES:
            durations[d] = key_minutes
        elif kind == "recovery":
            durations[d] = 45
        elif kind == "long":
            share = 0.25 if phase in ("recovery", "taper") else 0.32
            durations[d] = min(300.0, max(90.0, minutes_budget * share))
        else:
            continue
        fixed += durations[d]
    fill = [d for d, kind in kinds.items() if kind in ("endurance", "tempo") and d not in durations]
    if fill:
        each = max(45.0, min(180.0, (minutes_budget - fixed) / len(fill)))
        for d in fill:
            durations[d] = each
    # route climbs shape the key sessions
    week_climbs = climbs[:3] if climbs else []
    out = []
    for d in range(7):
        day = start + timedelta(days=d)
        kind = kinds.get(d, "rest")
        minutes = min(durations.get(d, 0.0), ctx.cap_minutes(d))
        use_climbs = None
        if week_climbs and (kind in ("threshold", "vo2max", "sweet_spot")) and phase != "recovery":
            use_climbs = week_climbs
            work = sum(c.duration_min for c in week_climbs) * (2 if phase == "peak" else 1)
            minutes = min(ctx.cap_minutes(d), max(minutes, 30 + work * 1.6))
        out.append(_make(day, kind, minutes, ftp, ctx, use_climbs, route_name))
    return out


def _scale_week(week: list[dict], factor: float, ftp: float, ctx: RuleContext, route_name=None) -> None:
    for i, w in enumerate(week):
        if w["type"] == "rest":
            continue
        minutes = math.floor(w["duration_min"] * factor / 5) * 5
        day = date.fromisoformat(w["date"])
        climbs = [Climb(**{k: c[k] for k in ("name", "duration_min", "avg_grade_pct")}, distance_m=0,
                        power_w=c["power_w"]) for c in w["target"].get("climbs", [])] or None
        week[i] = _make(day, w["type"], minutes, ftp, ctx, climbs, route_name)


def enforce(weeks: list[list[dict]], ctx: RuleContext, ftp: float, *, baseline_tss: float | None = None,
            route_name: str | None = None) -> list[list[dict]]:
    """Repair pass: make every week satisfy every rule (downgrading, resting or shortening workouts). Used on
    the engine's draft and on an AI proposal that breaks a rule."""
    # 1. per workout: type allowed on its day, session length, indoor days
    for week in weeks:
        for i, w in enumerate(week):
            d = _day_of(w)
            kind = w["type"]
            if not ctx.allowed(d, kind):
                kind = ctx.fallback(d)
            minutes = min(w["duration_min"], ctx.cap_minutes(d))
            if kind != w["type"] or minutes != w["duration_min"] or \
                    (kind != "rest" and ctx.indoor(d) and not w.get("target", {}).get("indoor")):
                week[i] = _make(date.fromisoformat(str(w["date"])[:10]), kind, minutes, ftp, ctx, None, route_name)
    # 2. per week: hard sessions and training days
    for week in weeks:
        if ctx.max_hard is not None:
            hard = [i for i, w in enumerate(week) if w["type"] in HARD_TYPES]
            hard.sort(key=lambda i: (week[i]["type"] == "race", -i))
            for i in hard[: max(0, len(hard) - ctx.max_hard)]:
                _downgrade(week, i, ctx, ftp, route_name)
        if ctx.max_days is not None:
            trained = [i for i, w in enumerate(week) if w["type"] != "rest"]
            trained.sort(key=lambda i: (week[i]["type"] in ("long", "race"), week[i]["duration_min"]))
            for i in trained[: max(0, len(trained) - ctx.max_days)]:
                week[i] = _make(date.fromisoformat(week[i]["date"]), "rest", 0, ftp, ctx)
    # 3. hard days in a row, across weeks
    if ctx.max_consec is not None or ctx.rest_after is not None:
        flat = [(wi, i) for wi, week in enumerate(weeks) for i in range(len(week))]
        flat.sort(key=lambda p: weeks[p[0]][p[1]]["date"])
        streak = 0
        for n, (wi, i) in enumerate(flat):
            w = weeks[wi][i]
            if w["type"] in HARD_TYPES:
                if ctx.max_consec is not None and streak + 1 > ctx.max_consec:
                    _downgrade(weeks[wi], i, ctx, ftp, route_name)
                    streak = 0
                    continue
                streak += 1
                if ctx.rest_after is not None and streak >= ctx.rest_after and n + 1 < len(flat):
                    nwi, ni = flat[n + 1]
                    nxt = weeks[nwi][ni]
                    if nxt["type"] == "race":
                        _downgrade(weeks[wi], i, ctx, ftp, route_name)
                        streak -= 1
                    elif nxt["type"] != "rest":
                        weeks[nwi][ni] = _make(date.fromisoformat(nxt["date"]), "rest", 0, ftp, ctx)
            else:
                streak = 0
    # 4. weekly hours
    if ctx.max_hours is not None:
        for week in weeks:
            total = sum(w["duration_min"] for w in week)
            if total > ctx.max_hours * 60:
                _scale_week(week, ctx.max_hours * 60 / total, ftp, ctx, route_name)
    # 5. ramp: each week at most (1 + p) × the highest earlier week (and the current load for week 1)
    if ctx.ramp is not None:
        best = None  # the highest earlier week of this plan (the current load only caps the first week)
        for n, week in enumerate(weeks):
            reference = baseline_tss if n == 0 else best
            for _ in range(20):
                tss = sum(w["tss"] for w in week)
                if reference is None or tss <= reference * (1 + ctx.ramp / 100) + 0.01:
                    break
                _scale_week(week, reference * (1 + ctx.ramp / 100) / tss, ftp, ctx, route_name)
            tss = sum(w["tss"] for w in week)
            best = tss if best is None else max(best, tss)
    return weeks


def _downgrade(week: list[dict], i: int, ctx: RuleContext, ftp: float, route_name=None) -> None:
    w = week[i]
    d = _day_of(w)
    kind = ctx.fallback(d, ("tempo", "endurance", "recovery"))
    week[i] = _make(date.fromisoformat(str(w["date"])[:10]), kind, w["duration_min"], ftp, ctx, None, route_name)


def _assemble(weeks: list[list[dict]], phases: list[str], start: date) -> dict:
    out = []
    for n, (workouts, phase) in enumerate(zip(weeks, phases, strict=False), start=1):
        out.append({"week": n, "start_date": (start + timedelta(weeks=n - 1)).isoformat(), "phase": phase,
                    "planned_hours": round(sum(w["duration_min"] for w in workouts) / 60, 2),
                    "planned_tss": round(sum(w["tss"] for w in workouts), 1), "workouts": workouts})
    return {"weeks": out}


def build_plan(start: date, weeks: int, constraints: list[Constraint], *, ftp_w: float, ctl: float = 0.0,
               weekly_hours: float = 7.0, preferences: UserPreferences | None = None,
               fitness_level: str = "intermediate", event_date: date | None = None,
               climbs: list[Climb] | None = None, route_name: str | None = None) -> dict:
    """The deterministic engine (pure: no database). Returns plan JSON that satisfies every constraint."""
    preferences = preferences or UserPreferences()
    ctx = RuleContext(list(constraints), {DAYS.index(d) for d in preferences.available_days},
                      preferences.indoor_outdoor)
    phases = phase_plan(weeks, fitness_level)
    hours_cap = ctx.max_hours if ctx.max_hours is not None else 40
    long_pref = DAYS.index(preferences.long_ride_day) if preferences.long_ride_day else None
    drafts = []
    for n, phase in enumerate(phases):
        lo, hi = _LOAD[phase]
        same = [i for i, p in enumerate(phases) if p == phase]
        progress = (same.index(n) / max(1, len(same) - 1)) if len(same) > 1 else 1.0
        hours = min(hours_cap, weekly_hours * (lo + (hi - lo) * progress))
        drafts.append(_build_week(start + timedelta(weeks=n), phase, hours, progress, ctx, ftp_w, climbs or [],
                                  route_name, long_pref))
    if event_date is not None:
        _place_race(drafts, event_date, ctx, ftp_w)
    baseline = 7 * ctl if ctl >= 15 else None
    enforce(drafts, ctx, ftp_w, baseline_tss=baseline, route_name=route_name)
    return _assemble(drafts, phases, start)


def _place_race(drafts: list[list[dict]], event_date: date, ctx: RuleContext, ftp: float) -> None:
    for week in drafts:
        for i, w in enumerate(week):
            if w["date"] == event_date.isoformat():
                d = event_date.weekday()
                if ctx.allowed(d, "race"):
                    week[i] = _make(event_date, "race", 180 if ctx.cap_minutes(d) >= 180 else ctx.cap_minutes(d),
                                    ftp, ctx)
                    # the day before: an easy opener
                    if i > 0 and week[i - 1]["type"] not in ("rest",):
                        kind = ctx.fallback(d - 1, ("recovery", "endurance"))
                        week[i - 1] = _make(date.fromisoformat(week[i - 1]["date"]), kind, 45, ftp, ctx)
                return


def projected_ctl(plan: dict, ctl0: float, ctl_days: float = 42.0) -> list[float]:
    """CTL at the end of each week if the plan is ridden as written."""
    from core.rides.dashboard import exponential_load

    daily: dict[str, float] = {}
    for week in plan["weeks"]:
        for w in week["workouts"]:
            daily[str(w["date"])] = daily.get(str(w["date"]), 0.0) + float(w["tss"])
    if not daily:
        return []
    first = date.fromisoformat(min(daily))
    days = (date.fromisoformat(max(daily)) - first).days + 1
    series = [daily.get((first + timedelta(days=i)).isoformat(), 0.0) for i in range(days)]
    ctl = exponential_load(series, ctl_days, ctl0)
    out = []
    for week in plan["weeks"]:
        last = date.fromisoformat(str(week["start_date"])) + timedelta(days=6)
        idx = min(len(ctl) - 1, (last - first).days)
        out.append(round(float(ctl[idx]), 1))
    return out
