"""Saved plans against real rides: the projection of a saved plan (actual load on the days already past, the plan
after), and re-planning from today — the completed weeks (and this week's past days) are kept as they were, the rest
is planned again by the engine from the athlete's actual fitness, with the plan's own rules, goals and preferences,
and saved as a new version (the old one stays)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.coach.plans.engine import History, OtherRace, plan_engine, progression_group, refusal
from core.coach.plans.generate import _hours, route_climbs, start_fitness
from core.coach.plans.periodisation import LOADING_PHASES, Fitness
from core.coach.plans.projection import project
from core.coach.plans.schema import DEFAULT_FTP_W, OtherEvent, PlanGoals, UserPreferences
from core.coach.plans.store import get_plan, rule_context_for_plan, save_version
from core.coach.rules.conflicts import goal_conflicts
from core.errors import PlanGenerationError


@dataclass
class Replan:
    plan_id: int           # the new version
    old_plan_id: int
    version: int
    plan: dict
    projection: dict
    kept_weeks: int
    notes: list[str]
    conflicts: list[str]

    def public(self) -> dict:
        return {"plan_id": self.plan_id, "old_plan_id": self.old_plan_id, "version": self.version,
                "kept_weeks": self.kept_weeks, "notes": self.notes, "conflicts": self.conflicts,
                "weeks": self.plan["weeks"], "projection": self.projection}


def _history(kept: list[dict]) -> History:
    """Load, cadence and progression of the weeks kept."""
    history = History(weeks_before=len(kept))
    for week in kept:
        if week["phase"] in LOADING_PHASES:
            history.last_loading_tss = float(week["planned_tss"])
            history.last_loading_min = sum(w["duration_min"] for w in week["workouts"] if w["type"] != "race")
            history.loading_streak += 1
            for w in week["workouts"]:
                wid = str((w.get("target") or {}).get("workout_id") or "")
                if wid and w["type"] != "rest":
                    key = f"{progression_group(week['phase'])}:{w['type']}"
                    history.uses[key] = history.uses.get(key, 0) + 1
                if w["type"] == "long":
                    history.long_minutes = max(history.long_minutes or 0.0, float(w["duration_min"]))
        else:
            history.loading_streak = 0
        history.best_tss = max(history.best_tss or 0.0, float(week["planned_tss"]))
    return history


def replan_from_today(cur, athlete_id: int, plan_id: int, *, today: date | None = None) -> Replan:
    """Keep what is done, plan the rest again from today's fitness, save it as the next version."""
    from core.athletes import ftp_on, get_athlete
    from core.coach.matching import link_completed_rides

    today = today or date.today()
    old = get_plan(cur, plan_id, athlete_id)
    if old["is_template"]:
        raise PlanGenerationError("A template has no dates to re-plan from; make a plan from it first.")
    weeks = old["plan"]["weeks"]
    start = date.fromisoformat(str(weeks[0]["start_date"])[:10])
    end = date.fromisoformat(str(weeks[-1]["start_date"])[:10]) + timedelta(days=6)
    if today > end:
        raise PlanGenerationError(f"Plan “{old['name']}” ended on {end:%d %b %Y}; there is nothing left to re-plan.")
    first_day = max(today, start)
    index = (first_day - start).days // 7
    kept = weeks[:index]
    this_monday = start + timedelta(weeks=index)
    locked = {str(w["date"])[:10]: w for w in weeks[index]["workouts"]
              if date.fromisoformat(str(w["date"])[:10]) < first_day}
    stored_goals = old["goals"] or {}
    goals = PlanGoals(**{k: v for k, v in stored_goals.items() if k in PlanGoals.model_fields})
    prefs = UserPreferences(**{k: v for k, v in (old["preferences"] or {}).items()
                               if k in UserPreferences.model_fields})
    ctx = rule_context_for_plan(cur, old)
    athlete = get_athlete(cur, athlete_id)
    level = athlete.get("fitness_level") or "intermediate"
    notes: list[str] = []
    fitness, recent_hours = start_fitness(cur, athlete_id, first_day - timedelta(days=1), first_day, level)
    if fitness.assumed:
        notes.append("No rides yet: the new weeks start from the fitness your level assumes.")
    hours = (stored_goals.get("engine") or {}).get("weekly_hours") or _hours(goals, fitness, recent_hours, level)
    max_hours = ctx.weekly_bounds("build")["max_hours"]
    if max_hours is not None:
        hours = min(hours, max_hours)
    climbs, route_name = [], None
    if goals.route_id is not None:
        try:
            route_name, climbs = route_climbs(cur, athlete_id, goals.route_id,
                                              ftp_on(cur, athlete_id, today) or DEFAULT_FTP_W)
        except PlanGenerationError:
            notes.append("The plan's goal route is no longer saved: the new weeks use standard intervals.")
    others = [OtherEvent(**o) if isinstance(o, dict) else o for o in goals.other_events]
    result = plan_engine(this_monday, len(weeks) - index, ctx, fitness=fitness, weekly_hours=hours,
                         preferences=prefs, level=level, event_date=goals.event_date, event_type=goals.event_type,
                         other_races=[OtherRace(o.date, o.priority, o.event_type, o.name) for o in others
                                      if o.date >= first_day],
                         climbs=climbs, route_name=route_name, target_ctl=goals.target_ctl, first_day=first_day,
                         locked=locked, history=_history(kept))
    new_weeks = result.plan["weeks"]
    for n, week in enumerate(new_weeks, start=index + 1):
        week["week"] = n
    body = {"weeks": kept + new_weeks}
    broken = ctx.check(body)
    if broken:
        raise refusal(ctx, broken)
    conflicts = [c.message for c in goal_conflicts(ctx.constraints, event_date=goals.event_date, names=ctx.names,
                                                   goal="the plan's goal",
                                                   hard_includes_sweet_spot=ctx.hard_includes_sweet_spot)
                 if not c.blocking]
    note = (f"Re-planned from {first_day:%d %b %Y} (CTL {fitness.ctl:.0f}): {len(kept)} completed week(s) and "
            f"{len(locked)} day(s) of this week kept")
    new_id = save_version(cur, athlete_id, plan_id, body, note=note[:300])
    link_completed_rides(cur, athlete_id, new_id)
    version = cur.execute("SELECT version FROM plans WHERE id = ?", [new_id]).fetchone()[0]
    projection = project(result.plan, fitness, first_day=first_day, event_date=goals.event_date)
    notes.append(note + ".")
    return Replan(new_id, plan_id, version, body, projection, len(kept), notes, conflicts)


def saved_projection(cur, athlete_id: int, plan_row: dict, *, today: date | None = None) -> dict:
    """Daily CTL/ATL/TSB of a saved plan: ridden TSS on the days before today, planned TSS from today on, starting
    from the fitness the rides gave on the eve of the plan (a plan not begun yet starts from today's)."""
    from core.athletes import get_athlete
    from core.rides.dashboard import daily_tss, fitness_on, time_constants

    today = today or date.today()
    weeks = plan_row["plan"]["weeks"]
    start = date.fromisoformat(str(weeks[0]["start_date"])[:10])
    event = (plan_row.get("goals") or {}).get("event_date")
    event_date = date.fromisoformat(event) if event else None
    level = get_athlete(cur, athlete_id).get("fitness_level") or "intermediate"
    if start > today:
        fitness, _ = start_fitness(cur, athlete_id, today, start, level)
        return project(plan_row["plan"], fitness, event_date=event_date)
    ctl_days, atl_days = time_constants(cur, athlete_id)
    eve = fitness_on(cur, athlete_id, start - timedelta(days=1), today=today)
    fitness = Fitness(float(eve["ctl"]), float(eve["atl"]), 0.0, ctl_days, atl_days)
    ridden = daily_tss(cur, athlete_id, start, today - timedelta(days=1), today=today, include_plan=False) \
        if today > start else None
    actual = {} if ridden is None or ridden.empty else dict(zip(ridden["date"], ridden["tss"].astype(float),
                                                                strict=True))
    return project(plan_row["plan"], fitness, event_date=event_date, actual=actual)
