"""Dashboard page (AppTest): renders with and without data, with and without a plan."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.db import bump_data_version, transaction
from tests.apptest_helpers import html_tables, run_app_page, tiles
from tests.test_dashboard_fitness import insert_ride

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "dashboard_page.py")


def run_page() -> AppTest:
    at = run_app_page("app_pages/dashboard_page.py", timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def recent_rides(cur, athlete_id):
    today = date.today()
    with transaction(cur):
        for i in range(0, 60, 2):
            insert_ride(cur, athlete_id, today - timedelta(days=i), 60 + i, sport="cycling" if i % 4 else "gravel",
                        metrics={"zones_power_s": [600, 900, 300, 120, 60, 30, 10], "zones_hr_s": [300, 900, 600, 200, 20],
                                 "power_curve": {"5": 800 - i, "60": 400, "300": 300, "1200": 260}})
        insert_ride(cur, athlete_id, today.replace(year=today.year - 1), 80,
                    metrics={"power_curve": {"5": 900, "60": 420}})


def test_the_dashboard_shows_every_panel_and_says_when_there_is_no_plan(db, athlete_id, recent_rides):
    at = run_page()
    assert at.title[0].value == "Dashboard"
    week = tiles(at)
    assert "Fitness (CTL)" in week and "Form (TSB)" in week and "Distance" in week
    assert week["Distance"].endswith(" km") and ":" in week["Moving time"]  # 7:36, not 7.6 h
    assert week["TSS"].replace(",", "").isdigit()  # whole TSS, no raw float
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:3] == ["This week", "Fitness, fatigue and form", "Volume"]
    assert any("No active training plan" in i.value for i in at.info)
    assert at.selectbox(key="dashboard_metric").options[:2] == ["Distance", "Moving time"]
    # Every chart key present: fitness, volume, zones, season bests.
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4 and not at.get("plotly_chart")  # no Plotly bundle for the first page
    assert all('"$schema"' in chart.proto.spec for chart in charts)
    assert any("e^(−1/τ" in m.value for m in at.markdown)


def test_switching_period_metric_and_zones_keeps_the_page_working(db, athlete_id, recent_rides):
    at = run_page()
    at.radio(key="dashboard_period").set_value("month").run()
    at.selectbox(key="dashboard_metric").set_value("avg_power_w").run()
    at.radio(key="dashboard_zones").set_value("hr").run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 4


def test_an_active_plan_shows_progress_and_upcoming_workouts(db, cur, athlete_id, recent_rides):
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    with transaction(cur):
        plan_id = cur.execute(
            "INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, active, plan) "
            "VALUES (?, 'Spring build', ?, ?, 3, true, '{}') RETURNING id",
            [athlete_id, monday - timedelta(days=7), monday + timedelta(days=13)]).fetchone()[0]
        for offset, minutes in ((-6, 90), (-4, 60), (1, 60), (8, 120)):
            cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, tss) VALUES "
                        "(?, ?, 'endurance', ?, 70)", [plan_id, today + timedelta(days=offset), minutes])
        bump_data_version(cur)
    at = run_page()
    assert not any("No active training plan" in i.value for i in at.info)
    assert any("Spring build" in m.value for m in at.markdown)
    frames = html_tables(at)
    assert len(frames) == 2 and not at.dataframe  # static tables: the page loads no data grid
    assert {"Status", "Planned (h:mm)", "Done (h:mm)", "Done of planned (%)"} <= set(frames[0].columns)
    assert set(frames[0]["Status"]) <= {"On plan", "Partly", "Off plan", "Under way", "Not yet"}  # words, not emoji
    assert list(frames[0]["Status"])[1] == "Under way"  # this week: no verdict before it ends
    upcoming = frames[1]
    assert len(upcoming) == 2  # the two workouts from tomorrow on
    assert list(upcoming.columns) == ["Day", "Workout", "Duration (h:mm)", "TSS", "Description"]
    assert set(upcoming["Duration (h:mm)"]) == {"1:00", "2:00"}


def test_an_empty_database_gets_a_friendly_dashboard(db, athlete_id):
    at = run_page()
    assert any("No rides yet" in i.value for i in at.info)


def test_the_app_opens_on_the_dashboard_and_switches_to_compare(db, athlete_id, recent_rides):
    app = AppTest.from_file(str(Path(PAGE).parent.parent / "navigation.py"), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Dashboard"
    app.switch_page("app_pages/compare_page.py").run()
    assert not app.exception and app.title[0].value == "Compare rides"


def test_a_fall_on_last_week_shows_a_falling_arrow_in_the_week_tiles():
    import re

    from core.views.ridecharts import this_week_tiles
    from core.views.tiles import tiles_html

    totals = {"distance_m": 100_000.0, "moving_time_s": 7200.0, "tss": 150.0, "rides": 2}
    more = {k: v * 2 for k, v in totals.items()}

    def changes(week: dict) -> list[tuple[str, str, str]]:
        """(way, tone, words) of each tile's change, as drawn."""
        return re.findall(r'<dd class="vc-delta vc-(\w+)" data-way="(\w+)">(.*?)</dd>', tiles_html(this_week_tiles(week)))

    down = changes({"this_week": totals, "last_week": more, "last_week_to_date": more, "planned": None})
    up = changes({"this_week": more, "last_week": totals, "last_week_to_date": totals, "planned": None})
    assert down[0][1] == "down" and down[0][2].startswith("▼ −100") and up[0][2].startswith("▲ +100")  # km
    assert down[0][0] == "bad" and up[0][0] == "good"  # a fall is red, a rise green, each with its arrow and sign
    assert down[3][0] == up[3][0] == "plain"  # the number of rides is neither good nor bad
    same = changes({"this_week": totals, "last_week": totals, "last_week_to_date": totals, "planned": None})
    assert [(tone, way) for tone, way, _ in same] == [("plain", "none")] * 4  # no change: no arrow, no colour
    assert same[0][2] == "+0.0 km on last week"
