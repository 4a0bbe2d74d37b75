"""The Plans page's "Ride analyses" block through AppTest: approve → a new plan version (old kept);
reject → plan unchanged; analyse the latest rides; propose adjustments."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.athletes import AthleteProfile, create_athlete
from core.coach.analysis import analyze_ride
from core.store.db import connect
from tests.apptest_helpers import read_db, run_app_page
from tests.test_analysis import before_key, make_plan, planned, ride

APP = str(Path(__file__).resolve().parent.parent / "navigation.py")


def seed(db_path, *, analyse=True):
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=250, max_hr=185, lthr=165))
    plan_id = make_plan(cur, athlete_id)
    day = planned(cur, plan_id, where=before_key)[0]
    ride_id = ride(cur, athlete_id, day, 300, 240)  # deep fatigue: suggestions follow
    analysis_id = analyze_ride(cur, athlete_id, ride_id)["id"] if analyse else None
    db.close()
    return plan_id, analysis_id, day


def open_page() -> AppTest:
    return run_app_page("app_pages/plans_page.py")


read = read_db


def test_a_pending_analysis_shows_its_feedback_suggestions_and_buttons(db_path):
    _, analysis_id, day = seed(db_path)
    at = open_page()
    assert not at.exception
    assert any(s.value == "Ride analyses" for s in at.subheader)
    tomorrow = day + timedelta(days=1)
    assert any(f"Make {tomorrow:%a %d %b} an easy recovery ride" in m.value for m in at.markdown)
    assert any("deep fatigue" in m.value for m in at.markdown)
    assert at.button(key=f"analysis_approve_{analysis_id}") is not None
    assert at.button(key=f"analysis_reject_{analysis_id}") is not None


def test_approving_on_the_page_saves_a_new_plan_version_and_keeps_the_old(db_path):
    plan_id, analysis_id, _ = seed(db_path)
    at = open_page()
    at.button(key=f"analysis_approve_{analysis_id}").click().run()
    assert not at.exception
    assert any("plan version v2" in s.value and f"(#{plan_id}) is kept" in s.value for s in at.success)
    assert not any(b.key == f"analysis_approve_{analysis_id}" for b in at.button)
    rows, problems = read(db_path, "SELECT id, version, active FROM plans ORDER BY id")
    assert rows[0] == (plan_id, 1, False) and rows[1][1:] == (2, True)
    assert problems == []
    assert read(db_path, "SELECT approved FROM analyses")[0] == [(True,)]


def test_rejecting_on_the_page_leaves_the_plan_unchanged(db_path):
    plan_id, analysis_id, _ = seed(db_path)
    at = open_page()
    at.button(key=f"analysis_reject_{analysis_id}").click().run()
    assert not at.exception
    assert any("the plan is unchanged" in s.value for s in at.success)
    assert read(db_path, "SELECT id, version, active FROM plans")[0] == [(plan_id, 1, True)]
    assert read(db_path, "SELECT approved FROM analyses")[0] == [(False,)]


def test_the_latest_rides_are_analysed_and_adjustments_explain_what_is_missing(db_path):
    seed(db_path, analyse=False)
    at = open_page()
    assert any("No analysis awaiting" in i.value for i in at.info)
    at.button(key="analysis_run_button").click().run()
    assert not at.exception
    assert any("Analysed 1 ride(s)" in s.value for s in at.success)
    assert read(db_path, "SELECT count(*) FROM analyses WHERE approved IS NULL")[0] == [(1,)]
    at.button(key="analysis_adjust_button").click().run()
    assert not at.exception
    assert any("no finished week" in e.value for e in at.error)  # the plan starts in the future


def test_after_approving_the_selector_and_the_plan_shown_are_the_new_version(db_path):
    """The rider looks at another plan (selected) while approving an adjustment of the active one: the page then
    selects and shows the new version; the selector never names one plan while the page shows another."""
    from core.coach.plans.store import activate_plan

    plan_id, analysis_id, _ = seed(db_path)
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = cur.execute("SELECT id FROM athletes").fetchone()[0]
    other_id = make_plan(cur, athlete_id)  # newer, listed first
    cur.execute("UPDATE plans SET name = 'Spring plan' WHERE id = ?", [other_id])
    activate_plan(cur, athlete_id, plan_id)
    db.close()
    at = open_page()
    at.selectbox(key="saved_plan_pick").set_value(other_id).run()
    assert "Spring plan" in at.selectbox(key="saved_plan_pick").format_func(other_id)
    at.button(key=f"analysis_approve_{analysis_id}").click().run()
    assert not at.exception
    new_id = read(db_path, "SELECT max(id) FROM plans")[0][0][0]
    picker = at.selectbox(key="saved_plan_pick")
    assert picker.value == new_id and picker.index == picker.options.index(picker.format_func(new_id))
    # the new version is the one drawn below the selector: its own buttons, not the other plan's
    assert at.button(key=f"plan_replan_{new_id}") and not any(b.key == f"plan_replan_{other_id}" for b in at.button)
    at.run()  # and stays so on the next rerun
    assert at.selectbox(key="saved_plan_pick").value == new_id
