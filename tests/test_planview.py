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


def test_the_plan_chart_names_ctl_only_with_its_line_and_ticks_hours_at_whole_steps():
    plan = build_plan(date(2027, 1, 4), 4, [], ftp_w=250, weekly_hours=7.9)
    assert planview.plan_figure(plan, None).layout.yaxis.title.text == "TSS"
    assert planview.plan_figure(plan, [40.0, 42.0, 45.0, 47.0]).layout.yaxis.title.text == "TSS / CTL"
    hours_axis = planview.plan_figure(plan).layout.yaxis2
    assert hours_axis.dtick in (1, 2) and hours_axis.tick0 == 0 and hours_axis.range[1] % hours_axis.dtick == 0
    assert hours_axis.range[1] >= max(w["planned_hours"] for w in plan["weeks"])
    assert planview.hours_ticks(8.7) == (2.0, 10.0) and planview.hours_ticks(3.5) == (1.0, 4.0)
    assert planview.hours_ticks(0) == (1.0, 1.0)


def test_plan_progress_says_its_status_in_words_and_upcoming_workouts_have_units():
    import pandas as pd

    progress = pd.DataFrame({"period_start": [date(2027, 1, 4), date(2027, 1, 11)], "planned_s": [28_800.0, 0.0],
                             "done_s": [27_000.0, 0.0], "compliance_pct": [93.75, float("nan")],
                             "planned_tss": [400.0, 0.0], "done_tss": [380.4, 0.0], "colour": ["green", None]})
    frame = planview.progress_frame(progress)
    assert frame["Status"].tolist() == ["On plan", "Not yet"]
    assert frame.loc[0, ["Week of", "Planned (h:mm)", "Done (h:mm)", "Done of planned (%)"]].tolist() == [
        "Mon 2027-01-04", "8:00", "7:30", "94"]
    assert frame.loc[1, "Done of planned (%)"] == "–"
    assert "On plan" in planview.STATUS_LEGEND and planview.status_style("Off plan").startswith("background")
    under_way = planview.progress_frame(progress.assign(colour=[None, None], current=[True, False]))
    assert under_way["Status"].tolist() == ["Under way", "Not yet"]  # this week: no verdict before it ends
    assert "Under way" in planview.STATUS_LEGEND and planview.status_style("Under way").startswith("background")
    upcoming = planview.upcoming_frame([{"id": 1, "date": date(2027, 1, 5), "type": "sweet_spot",
                                         "duration_min": 75, "tss": 81.3, "description": "3×12′"}])
    assert list(upcoming.columns) == ["Day", "Workout", "Duration (h:mm)", "TSS", "Description"]
    assert upcoming.iloc[0].tolist() == ["Tue 2027-01-05", "Sweet spot", "1:15", "81", "3×12′"]


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
