"""The plan calendar: each day planned against ridden in the dashboard's compliance bands (one set of thresholds),
matched rides, the month/week spans, the HTML grid (status in words, rider text escaped) and the step chart."""

from __future__ import annotations

from datetime import date

import pytest

from core.coach.matching import link_completed_rides
from core.coach.plans.calendar import day_status, month_span, plan_days, plan_span, shift_month, week_span
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import get_plan, save_plan
from core.rides.dashboard import COMPLIANCE_BANDS_PCT, compliance_colour
from core.views import calendarview as cv
from tests.test_dashboard_fitness import insert_ride

TODAY = date(2027, 1, 13)  # Wednesday of week 2 of a plan from Mon 4 Jan 2027
DAY = date(2027, 1, 20)


@pytest.mark.parametrize("done_pct, status", [(100, "done"), (80, "done"), (120, "done"), (79, "partial"),
                                              (50, "partial"), (121, "over"), (150, "over"), (49, "off"),
                                              (151, "off"), (0, "missed")])
def test_a_day_s_status_follows_the_dashboard_bands(done_pct, status):
    assert day_status(3600, 36 * done_pct, date(2027, 1, 5), TODAY) == status
    colour = compliance_colour(36 * done_pct, 3600)
    band = {"done": "green", "partial": "amber", "over": "amber", "off": "red", "missed": "red"}[status]
    assert colour == band
    assert COMPLIANCE_BANDS_PCT["green"] == (80, 120)


def test_days_without_a_plan_or_ahead_have_their_own_status():
    assert day_status(3600, 0, TODAY, TODAY) == "planned"
    assert day_status(0, 1800, DAY, TODAY) == "extra"
    assert day_status(0, 0, DAY, TODAY) == "rest"
    assert day_status(3600, 3600, DAY, TODAY, in_plan=False) == "outside"


def test_spans_cover_whole_weeks():
    assert month_span(date(2027, 1, 14)) == (date(2026, 12, 28), date(2027, 1, 31))
    assert month_span(date(2027, 2, 14)) == (date(2027, 2, 1), date(2027, 2, 28))  # exactly four weeks
    assert week_span(date(2027, 1, 14)) == (date(2027, 1, 11), date(2027, 1, 17))
    assert shift_month(date(2027, 12, 31), 1) == date(2028, 1, 1)
    assert shift_month(date(2027, 1, 31), -1) == date(2026, 12, 1)


@pytest.fixture
def plan_row(cur, athlete_id):
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 2, "start_date":
                                                                         date(2027, 1, 4)}, today=date(2027, 1, 1)))
    return get_plan(cur, plan_id, athlete_id)


def test_plan_days_match_rides_and_rate_each_day(cur, athlete_id, plan_row):
    workouts = {w["date"]: w for wk in plan_row["plan"]["weeks"] for w in wk["workouts"]}
    tue = workouts["2027-01-05"]
    assert tue["type"] != "rest"
    ride = insert_ride(cur, athlete_id, date(2027, 1, 5), 60, moving_time_s=tue["duration_min"] * 60,
                       name="<img src=x onerror=alert(1)> Tuesday")
    insert_ride(cur, athlete_id, date(2027, 1, 10), 20, moving_time_s=1800)  # a Sunday, a rest day
    link_completed_rides(cur, athlete_id, plan_row["id"])
    first, last = plan_span(plan_row)
    days = {d["date"]: d for d in plan_days(cur, athlete_id, plan_row, first, last, today=TODAY)}
    assert days[date(2027, 1, 5)]["status"] == "done" and days[date(2027, 1, 5)]["compliance_pct"] == 100
    assert days[date(2027, 1, 5)]["workouts"][0]["completed_ride_id"] == ride
    missed = [d for d in days.values() if d["date"] < TODAY and d["planned_min"] > 0 and not d["rides"]]
    assert missed and all(d["status"] == "missed" for d in missed)
    assert days[date(2027, 1, 10)]["status"] in ("extra", "off")
    assert all(d["status"] in ("planned", "rest") for d in days.values() if d["date"] >= TODAY)
    html = cv.calendar_html(list(days.values()), selected=date(2027, 1, 5), today=TODAY, detailed=True)
    assert "<img" not in html and "&lt;img" in html  # the ride's name is text
    assert "done as planned (100 %)" in html and "missed" in html
    rows = cv.ride_rows(days[date(2027, 1, 5)])
    assert rows[0]["id"] == ride and rows[0]["completes"]


def test_a_month_view_around_the_plan_marks_days_outside_it(cur, athlete_id, plan_row):
    first, last = month_span(date(2027, 1, 10))
    days = plan_days(cur, athlete_id, plan_row, first, last, today=TODAY)
    assert len(days) % 7 == 0 and days[0]["date"].weekday() == 0
    assert {d["status"] for d in days if not d["in_plan"]} == {"outside"}
    assert sum(d["in_plan"] for d in days) == 14


def test_the_step_chart_draws_every_step_at_its_target(plan_row):
    workout = next(w for wk in plan_row["plan"]["weeks"] for w in wk["workouts"] if w["type"] in
                   ("threshold", "vo2max", "sweet_spot"))
    blocks = cv.step_blocks(workout["steps"])
    assert sum(b["duration_s"] for b in blocks) == pytest.approx(workout["duration_min"] * 60, abs=1)
    assert max(b["pct"] for b in blocks) >= 90
    fig = cv.step_figure(workout["steps"], 250, title="<b>x</b>")
    assert fig.layout.yaxis2.range[1] == pytest.approx(fig.layout.yaxis.range[1] * 2.5)
    assert "<b>" not in fig.layout.title.text


def test_the_legend_says_every_status_in_words():
    items = cv.legend()
    assert all(item["words"] and item["meaning"] for item in items)
    assert "ridden 50–79 % of the planned time" in [i["meaning"] for i in items]
    assert cv.status_text("done", 96) == "✓ done as planned (96 %)"


def _summary_day(day: date, planned_min: float, done_min: float, status: str) -> dict:
    return {"date": day, "planned_min": planned_min, "done_min": done_min, "status": status}


def test_a_week_summary_counts_only_the_days_already_judged_and_says_what_is_to_come():
    monday = date(2027, 1, 11)
    days = [_summary_day(monday.replace(day=11 + i), minutes, done, status) for i, (minutes, done, status) in
            enumerate([(60, 60, "done"), (90, 0, "missed"), (60, 0, "planned"), (0, 0, "rest"), (120, 0, "planned"),
                       (0, 0, "rest"), (0, 0, "rest")])]
    assert cv.week_summary(days) == ("Week of 11 Jan: 5.5 h planned, 1.0 h ridden; 1 of 2 training days so far done "
                                     "as planned, 1 missed; 2 to come.")
    ahead = [dict(d, done_min=0, status="planned" if d["planned_min"] else "rest") for d in days]
    assert cv.week_summary(ahead) == "Week of 11 Jan: 5.5 h planned over 4 training days, none ridden yet."
    past = [dict(d, status="done" if d["planned_min"] else "rest", done_min=d["planned_min"]) for d in days]
    assert cv.week_summary(past) == "Week of 11 Jan: 5.5 h planned, 5.5 h ridden; 4 of 4 training days done as planned."
