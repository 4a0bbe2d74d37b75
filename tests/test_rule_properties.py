"""Property: over random rule sets, athletes and plan lengths, every generated plan passes the one checker, or
generation refuses with a PlanGenerationError naming the rules; never a plan that breaks a rule. Plans made under a
rule set keep ≥ 70 % of the hours asked for in loading weeks, unless the rules leave less room."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.coach.plans.check import RuleContext, plan_view, week_total
from core.coach.plans.engine import build_plan
from core.coach.plans.repair import TOP_UP_CEILING
from core.coach.plans.schema import UserPreferences
from core.coach.rules.model import DAYS, GROUPS, LOADING_PHASES, PHASES, describe, parse_constraint
from core.errors import PlanGenerationError

START = date(2027, 1, 4)  # a Monday
TYPES = ["recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint", "long"]

days = st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True)
types = st.lists(st.sampled_from(TYPES + [g for g in GROUPS if g != "any"]), min_size=1, max_size=2, unique=True)
phases = st.lists(st.sampled_from(PHASES), max_size=2, unique=True)

KINDS = {
    "rest_days": st.fixed_dictionaries({"kind": st.just("rest_days"), "days": days, "phases": phases}),
    "unavailable_dates": st.builds(lambda first, n: {"kind": "unavailable_dates",
                                                     "start": (START + timedelta(days=first)).isoformat(),
                                                     "end": (START + timedelta(days=first + n)).isoformat()},
                                   st.integers(0, 120), st.integers(0, 13)),
    "allowed_types": st.fixed_dictionaries({"kind": st.just("allowed_types"), "types": types, "days": days}),
    "banned_types": st.fixed_dictionaries({"kind": st.just("banned_types"), "types": types, "days": days,
                                           "phases": phases}),
    "banned_window": st.fixed_dictionaries({"kind": st.just("banned_types"), "types": types,
                                            "before_event_days": st.integers(1, 14)}),
    "session_length": st.fixed_dictionaries({"kind": st.just("session_length"), "max": st.integers(45, 240),
                                             "days": st.lists(st.sampled_from(DAYS), max_size=5, unique=True)}),
    "session_km": st.fixed_dictionaries({"kind": st.just("session_length"), "max": st.integers(30, 120),
                                         "unit": st.just("km")}),
    "session_min": st.fixed_dictionaries({"kind": st.just("session_length"), "min": st.integers(30, 75)}),
    "weekly_volume": st.builds(lambda low, width: {"kind": "weekly_volume", "min": low, "max": low + width},
                               st.integers(3, 10), st.integers(1, 6)),
    "weekly_max": st.fixed_dictionaries({"kind": st.just("weekly_volume"), "max": st.integers(3, 14)}),
    "weekly_tss": st.fixed_dictionaries({"kind": st.just("weekly_volume"), "max": st.integers(200, 700),
                                         "unit": st.just("tss")}),
    "training_days": st.fixed_dictionaries({"kind": st.just("training_days"), "max": st.integers(2, 6)}),
    "training_min": st.fixed_dictionaries({"kind": st.just("training_days"), "min": st.integers(3, 6)}),
    "type_count": st.fixed_dictionaries({"kind": st.just("type_count"), "types": types, "max": st.integers(1, 3)}),
    "type_min": st.fixed_dictionaries({"kind": st.just("type_count"), "types": types, "min": st.integers(1, 2)}),
    "max_consecutive": st.fixed_dictionaries({"kind": st.just("max_consecutive"),
                                              "types": st.sampled_from([["hard"], ["any"], ["intensity"]]),
                                              "limit": st.integers(1, 4)}),
    "day_after": st.fixed_dictionaries({"kind": st.just("day_after"), "trigger": st.sampled_from([["hard"], ["long"]]),
                                        "streak": st.integers(1, 2),
                                        "then": st.sampled_from(["rest", "recovery", "easy"])}),
    "long_ride_days": st.fixed_dictionaries({"kind": st.just("long_ride_days"), "days": days}),
    "fixed_session": st.fixed_dictionaries({"kind": st.just("fixed_session"), "days": days,
                                            "workout_type": st.sampled_from(["group_ride", "endurance", "commute"]),
                                            "duration_min": st.integers(20, 150), "per_day": st.integers(1, 2)}),
    "taper": st.fixed_dictionaries({"kind": st.just("taper"), "length_days": st.integers(0, 21)}),
    "recovery_cadence": st.fixed_dictionaries({"kind": st.just("recovery_cadence"), "load_weeks": st.integers(2, 4),
                                               "recovery_weeks": st.integers(1, 2)}),
    "ramp_limit": st.fixed_dictionaries({"kind": st.just("ramp_limit"), "metric": st.sampled_from(["tss", "hours"]),
                                         "limit": st.integers(3, 15)}),
    "ramp_ctl": st.fixed_dictionaries({"kind": st.just("ramp_limit"), "metric": st.just("ctl"),
                                       "limit": st.integers(2, 8), "unit": st.just("abs")}),
    "venue": st.fixed_dictionaries({"kind": st.just("venue"), "where": st.sampled_from(["indoor", "outdoor"]),
                                    "days": days}),
}


@st.composite
def rule_sets(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4))
    out = []
    for kind in chosen:
        data = draw(KINDS[kind])
        if kind == "fixed_session" and data["workout_type"] != "commute":
            data["per_day"] = 1
        try:
            out.append(parse_constraint(data))
        except ValueError:  # pydantic's ValidationError: a combination the model refuses is not a rule
            continue
    return out


# derandomize: the same 150 rule sets on every run, so a landing never depends on the draw (a failure it finds is
# kept below as its own test).
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          database=None)
@given(rules=rule_sets(), weeks=st.integers(1, 20), hours=st.floats(3, 16), ctl=st.floats(0, 100),
       ftp=st.integers(120, 380), level=st.sampled_from(["beginner", "intermediate", "advanced", "elite"]),
       with_event=st.booleans(), available=st.lists(st.sampled_from(DAYS), min_size=3, max_size=7, unique=True),
       sweet_spot_is_hard=st.booleans())
def test_a_generated_plan_never_breaks_a_rule(rules, weeks, hours, ctl, ftp, level, with_event, available,
                                              sweet_spot_is_hard):
    event = START + timedelta(weeks=weeks - 1, days=6) if with_event else None
    prefs = UserPreferences(available_days=available)
    options = dict(event_date=event, hard_includes_sweet_spot=sweet_spot_is_hard,
                   baseline_tss=7 * ctl if ctl >= 15 else None, ctl0=ctl,
                   available={DAYS.index(d) for d in prefs.available_days})
    try:
        plan = build_plan(START, weeks, RuleContext(rules, **options), ftp_w=ftp, ctl=ctl, weekly_hours=hours,
                          preferences=prefs, fitness_level=level, event_date=event)
    except PlanGenerationError as exc:
        message = str(exc)
        assert any(describe(c) in message for c in rules), message  # names the rules it cannot keep
        return
    assert len(plan["weeks"]) == weeks
    fresh = RuleContext(rules, **options)
    assert fresh.violations(plan) == []
    if event is not None:
        assert [w["type"] for w in plan["weeks"][-1]["workouts"] if w["date"] == event.isoformat()
                and w["type"] != "commute"] == ["race"]
    unruled = build_plan(START, weeks, RuleContext([], **options), ftp_w=ftp, ctl=ctl, weekly_hours=hours,
                         preferences=prefs, fitness_level=level, event_date=event)
    _assert_not_gutted(plan, fresh, unruled)


def _capped(ctx: RuleContext, phase: str, items) -> float:
    """Hours of the plan made without the rules once the rules' own caps cut it: rest days taken out, each session
    cut to the longest the day allows, only the longest days kept under a training-day cap, the weekly maximum."""
    days: dict = {}
    for item in items:
        if item.event or item.type == "rest" or ctx.rest_only(item.day, phase):
            continue
        longest = max((min(ctx.max_minutes(item.day, phase, t), TOP_UP_CEILING.get(t, 0))
                       for t in ctx.types_allowed(item.day, phase)), default=0)
        days[item.day] = days.get(item.day, 0.0) + min(item.minutes, longest)
    kept = sorted(days.values(), reverse=True)[:ctx.max_training_days(phase)]
    cap = ctx.weekly_bounds(phase)["max_hours"]
    return min(sum(kept) / 60, cap if cap is not None else 99.0)


def _assert_not_gutted(plan, ctx: RuleContext, unruled: dict) -> None:
    """Loading weeks keep ≥ 70 % of what the same plan has without the rules (the hours asked for, as far as the
    form's days allow), or of the room the rules leave (capacity, a TSS cap). Rules whose room depends on the whole
    week's layout (sequences, counts, ramps) are covered one by one in test_rule_check.py."""
    if any(c.kind in ("day_after", "max_consecutive", "type_count", "ramp_limit") for c in ctx.constraints):
        return
    view, without = plan_view(plan), plan_view(unruled)
    for n, (start, phase, items) in enumerate(view.weeks):
        if phase not in LOADING_PHASES or without.weeks[n][1] != phase or \
                (view.event_date and start <= view.event_date < start + timedelta(days=7)):
            continue  # the race week is shaped by the race (an opener the day before), not by volume
        got = week_total(ctx, items, "h")
        allowed = min(_capped(ctx, phase, without.weeks[n][2]), ctx.capacity_hours(start, phase, TOP_UP_CEILING))
        tss_cap = ctx.weekly_bounds(phase)["max_tss"]
        if tss_cap is not None and got:
            allowed = min(allowed, tss_cap / (week_total(ctx, items, "tss") / got))
        assert got >= 0.7 * allowed - 0.1, f"week {n + 1} ({phase}): {got:.2f} h of {allowed:.2f} h allowed"


def test_a_first_week_with_days_away_does_not_starve_the_next_week():
    """Found by the property test above: two days away in week 1 left week 2 at a third of its hours, ramped from
    the cut week. The next week now ramps from what the first was meant to be."""
    rules = [parse_constraint({"kind": "session_length", "max": 30.0, "unit": "km"}),
             parse_constraint({"kind": "unavailable_dates", "start": START.isoformat(),
                               "end": (START + timedelta(days=1)).isoformat()})]
    test_a_generated_plan_never_breaks_a_rule.hypothesis.inner_test(
        rules=rules, weeks=3, hours=3.0, ctl=0.0, ftp=120, level="beginner", with_event=False,
        available=["mon", "tue", "wed"], sweet_spot_is_hard=False)


def test_short_fixed_sessions_leave_days_for_the_rest_of_the_weeks_hours():
    """Found by the property test above: three 20-minute fixed sessions took the three days a 3-hour week gets, so
    the week planned 1 h of the 3 h asked. The rest of the hours now get a day of their own."""
    rules = [parse_constraint({"kind": "fixed_session", "days": ["mon", "tue", "wed"], "workout_type": "endurance",
                               "duration_min": 20, "per_day": 1})]
    prefs = UserPreferences(available_days=["mon", "tue", "wed", "thu"])
    options = dict(event_date=None, hard_includes_sweet_spot=False, baseline_tss=None, ctl0=0.0, available={0, 1, 2, 3})
    plan = build_plan(START, 2, RuleContext(rules, **options), ftp_w=120, ctl=0.0, weekly_hours=3.0,
                      preferences=prefs, fitness_level="beginner")
    assert RuleContext(rules, **options).violations(plan) == []
    first = plan["weeks"][0]["workouts"]
    assert [w["duration_min"] for w in first[:3]] == [20, 20, 20]  # the rider's sessions kept as asked
    assert sum(w["duration_min"] for w in first) / 60 >= 0.7 * 3.0 * 0.9  # not a third of the week
