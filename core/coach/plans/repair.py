"""The repair pass (pure): whatever produced a plan (the engine's draft or an AI proposal), make every week keep
every rule — read through ``RuleContext`` only — by downgrading, resting or shortening workouts; races are never
moved or dropped (a rule that forbids the event day is a conflict the caller shows). And the engine's own guard on
its load bounds after repairs."""

from __future__ import annotations

from datetime import date

from core.coach.plans.check import RuleContext, _day_of
from core.coach.plans.weekbuild import make_workout, rest_day, scale_week, week_tss
from core.coach.rules import HARD_TYPES

LOADING_PHASES = ("base", "build", "peak")



def _day(w: dict) -> date:
    return date.fromisoformat(str(w["date"])[:10])


def _is_event(w: dict, protect: date | None) -> bool:
    return w["type"] == "race" and (protect is None or _day(w) == protect or (w.get("target") or {}).get("priority"))


def _downgrade(week: list[dict], i: int, ctx: RuleContext) -> None:
    w = week[i]
    kind = ctx.fallback(_day_of(w), ("tempo", "endurance", "recovery"))
    week[i] = make_workout(_day(w), kind, min(w["duration_min"], 90), ctx)


def enforce(weeks: list[list[dict]], ctx: RuleContext, *, baseline_tss: float | None = None,
            protect: date | None = None, **_ignored) -> list[list[dict]]:
    """Repair pass: make every week satisfy every rule (downgrading, resting or shortening workouts; races are
    never moved or dropped — a rule that forbids the event day is a conflict the caller shows). Used on the
    engine's draft and on an AI proposal that breaks a rule."""
    for week in weeks:
        for i, w in enumerate(week):
            if w["type"] == "race":
                continue
            d = _day_of(w)
            kind = w["type"] if ctx.allowed(d, w["type"]) else ctx.fallback(d)
            minutes = min(w["duration_min"], ctx.cap_minutes(d))
            indoor_wrong = kind != "rest" and ctx.indoor(d) and not (w.get("target") or {}).get("indoor")
            if kind != w["type"] or minutes < w["duration_min"] or indoor_wrong:
                week[i] = make_workout(_day(w), kind, minutes, ctx)
    for week in weeks:
        if ctx.max_hard is not None:
            hard = [i for i, w in enumerate(week) if w["type"] in HARD_TYPES and w["type"] != "race"]
            races = sum(1 for w in week if w["type"] == "race")
            for i in sorted(hard, key=lambda i: -week[i]["tss"])[max(0, ctx.max_hard - races):]:
                _downgrade(week, i, ctx)
        if ctx.max_days is not None:
            trained = [i for i, w in enumerate(week) if w["type"] not in ("rest", "race")]
            races = sum(1 for w in week if w["type"] == "race")
            trained.sort(key=lambda i: (week[i]["type"] == "long", week[i]["duration_min"]))
            for i in trained[: max(0, len(trained) + races - ctx.max_days)]:
                week[i] = rest_day(_day(week[i]))
    if ctx.max_consec is not None or ctx.rest_after is not None:
        _fix_hard_runs(weeks, ctx)
    if ctx.max_hours is not None:
        for week in weeks:
            total = sum(w["duration_min"] for w in week)
            fixed = sum(w["duration_min"] for w in week if w["type"] == "race")
            if total > ctx.max_hours * 60 + 1e-6 and total > fixed:
                scale_week(week, max(0.0, (ctx.max_hours * 60 - fixed) / (total - fixed)), ctx)
    if ctx.ramp is not None:
        best = None
        for n, week in enumerate(weeks):
            reference = baseline_tss if n == 0 else best
            for _ in range(20):
                tss = week_tss(week)
                limit = None if reference is None else reference * (1 + ctx.ramp / 100)
                movable = tss - sum(w["tss"] for w in week if w["type"] == "race")
                if limit is None or tss <= limit + 0.01 or movable <= 0:
                    break
                scale_week(week, max(0.0, (limit - (tss - movable)) / movable) * 0.995, ctx)
            best = week_tss(week) if best is None else max(best, week_tss(week))
    return weeks


def _fix_hard_runs(weeks: list[list[dict]], ctx: RuleContext) -> None:
    """Hard days in a row and rest after them, across weeks: a hard session that breaks the run becomes easier;
    the day after a run becomes rest (a race keeps its day: the session before it gives way instead)."""
    for _ in range(3):
        flat = sorted(((wi, i) for wi, week in enumerate(weeks) for i in range(len(week))),
                      key=lambda p: weeks[p[0]][p[1]]["date"])
        streak: list[tuple[int, int]] = []
        changed = False
        for n, (wi, i) in enumerate(flat):
            w = weeks[wi][i]
            if streak and (_day(w) - _day(weeks[streak[-1][0]][streak[-1][1]])).days != 1:
                streak = []
            if w["type"] not in HARD_TYPES:
                streak = []
                continue
            streak.append((wi, i))
            if ctx.max_consec is not None and len(streak) > ctx.max_consec:
                victim = next(((a, b) for a, b in reversed(streak) if weeks[a][b]["type"] != "race"), None)
                if victim:
                    _downgrade(weeks[victim[0]], victim[1], ctx)
                    changed = True
                    streak = []
                    continue
            if ctx.rest_after is not None and len(streak) >= ctx.rest_after and n + 1 < len(flat):
                nwi, ni = flat[n + 1]
                nxt = weeks[nwi][ni]
                if (_day(nxt) - _day(w)).days == 1 and nxt["type"] != "rest":
                    if nxt["type"] == "race":
                        victim = next(((a, b) for a, b in reversed(streak) if weeks[a][b]["type"] != "race"), None)
                        if victim:
                            _downgrade(weeks[victim[0]], victim[1], ctx)
                            changed = True
                    else:
                        weeks[nwi][ni] = rest_day(_day(nxt))
                        changed = True
        if not changed:
            return


def guard_ramp(weeks, phases, ctx, current, ramp, first_ramp, event_date, last=None, locked=()) -> None:
    """After repairs: no week above 110 % (or the rule's ramp) of the last loading week, week 1 within 115 % of
    the current load (the event itself not counted; days kept from an older version are not moved)."""
    for n, week in enumerate(weeks):
        limit = last * (1 + ramp) if last is not None else float("inf")
        if n == 0:
            limit = min(limit, current * (1 + first_ramp))
        for _ in range(5):
            own = week_tss([w for w in week if not _is_event(w, event_date)])
            if own <= limit + 0.5 or own <= 0:
                break
            movable = [w for w in week if w["type"] != "race" and str(w["date"])[:10] not in locked]
            movable_tss = week_tss(movable)
            if movable_tss <= 0:
                break
            index = [i for i, w in enumerate(week) if w["type"] != "race" and str(w["date"])[:10] not in locked]
            part = [week[i] for i in index]
            scale_week(part, max(0.0, 1 - (own - limit) / movable_tss) * 0.995, ctx)
            for i, w in zip(index, part, strict=True):
                week[i] = w
        if n < len(phases) and phases[n] in LOADING_PHASES:
            last = week_tss([w for w in week if not _is_event(w, event_date)])
