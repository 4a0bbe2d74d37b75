"""core.views.planview: escaped rider text, plan labels and captions, the plan figure, diffs and approval messages."""

from __future__ import annotations

from datetime import date

from core.coach.plans.engine import build_plan
from core.views import planview


def test_labels_and_captions():
    plan = {"active": True, "name": "Build", "version": 2, "start_date": date(2027, 1, 4)}
    assert planview.plan_label(plan) == "★ Build · v2 · 2027-01-04"
    assert planview.plan_label(plan | {"active": False}).startswith("Build")
    caption = planview.plan_caption(plan | {"end_date": date(2027, 2, 1), "goal_type": "fitness", "generator": "engine",
                                            "rules": [{"name": "no_[link]", "version": 1}]})
    assert caption.endswith("rules: no\\_\\[link\\] (v1)")
    assert planview.plan_caption(plan | {"end_date": None, "goal_type": "x", "generator": "ai", "rules": []}).endswith(
        "rules: none")


def test_the_plan_figure_and_tiles_follow_the_weeks():
    plan = build_plan(date(2027, 1, 4), 3, [], ftp_w=250, weekly_hours=6)
    fig = planview.plan_figure(plan, [40.0, 42.0, 45.0])
    assert [t.name for t in fig.data] == ["Planned TSS", "Hours", "Projected CTL"]
    assert len(fig.data[0].x) == 3
    tiles = planview.plan_metrics(plan, [40.0, 42.0, 45.0])
    assert [t[0] for t in tiles] == ["Weeks", "Total hours", "Mean weekly TSS", "Projected CTL at the end"]
    assert tiles[0][1] == "3" and tiles[-1][2] == "+5"
    assert len(planview.plan_metrics(plan, None)) == 3


def test_approval_messages_say_what_changed_and_what_was_skipped():
    kept = planview.approval_message({"plan_id": 9, "version": 2, "old_plan_id": 5, "skipped": ["Tue: no workout"]})
    assert "v2 (#9) is now active" in kept and "(#5) is kept" in kept and kept.endswith("Skipped: Tue\\: no workout.")
    assert planview.approval_message({"plan_id": None, "skipped": []}) == \
        "Approved: nothing in the plan needed to change."
    assert planview.analysis_title({"id": 3, "kind": "adjustment"}) == "**#3 · Plan adjustment**"
    assert planview.analysis_title({"id": 4, "kind": "ride", "ride_id": 12}) == "**#4 · Ride 12**"


def _plan_and_projection():
    from datetime import timedelta

    from core.coach.plans.engine import plan_engine
    from core.coach.plans.periodisation import Fitness
    from core.coach.plans.projection import project

    start = date(2027, 1, 4)
    event = start + timedelta(weeks=8, days=-1)
    result = plan_engine(start, 8, [], fitness=Fitness.steady(45), weekly_hours=8, event_date=event,
                         event_type="road_race")
    return result, project(result.plan, Fitness.steady(45), event_date=event)


def test_the_projection_shows_fitness_to_race_day_and_every_week_with_its_reason():
    result, projection = _plan_and_projection()
    tiles = planview.projection_tiles(projection, result.summary)
    labels = [t[0] for t in tiles]
    assert labels == ["CTL at the start", "CTL on race day", "Form (TSB) on race day", "CTL your hours sustain"]
    race = projection["race_day"]
    assert tiles[1][1] == f"{race['ctl']:.0f}" and tiles[2][1] == f"{race['tsb']:+.0f}"
    fig = planview.projection_figure(projection)
    assert [t.name for t in fig.data] == ["Form (TSB)", "Fitness (CTL)", "Fatigue (ATL)"]
    assert len(fig.data[1].x) == len(projection["days"]) and str(fig.data[1].x[-1])[:10] == race["date"]
    weeks = planview.weeks_frame(projection)
    assert list(weeks["Week"]) == list(range(1, 9)) and weeks["Why"].str.len().min() > 20
    assert planview.projection_tiles({}, None) == []
    assert planview.weeks_frame({}).empty


def test_a_workout_s_steps_are_shown_in_watts_for_the_ftp_of_the_day():
    result, _ = _plan_and_projection()
    choices = planview.workout_choices(result.plan)
    day = next(d for d, label in choices.items() if "Threshold" in label or "Over-unders" in label)
    at_250 = planview.steps_frame(result.plan, day, 250)
    at_300 = planview.steps_frame(result.plan, day, 300)
    assert list(at_250.columns) == ["Step", "Duration", "Power (W)", "% FTP", "Cadence", "Cue"]
    assert at_250["Step"].iloc[0] == "1. warmup" and at_250["Step"].iloc[-1].endswith("cooldown")
    work = at_250[at_250["Step"].str.endswith("work")].iloc[0]
    low, high = (int(x) for x in work["Power (W)"].split("–"))
    pct_low, pct_high = (float(x) for x in work["% FTP"].split("–"))
    assert low == round(pct_low * 2.5) and high == round(pct_high * 2.5)
    moved = at_300[at_300["Step"].str.endswith("work")].iloc[0]
    assert int(moved["Power (W)"].split("–")[0]) == round(pct_low * 3)  # an FTP change moves the targets
    assert planview.steps_frame(result.plan, "1999-01-01", 250).empty
