"""The Plans page's calendar, edits and scenarios through AppTest: a plan running today against a ride, a day's
steps and ride link, a move saved as version 2 with its rule check, a refused edit saved only with the override,
roll back only after a confirmation, compare, branch and templates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import save_plan
from core.coach.rules.store import save_rule
from core.store.db import connect
from tests.apptest_helpers import read_db, run_app_page, shown

TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def page_plan(db_path):
    """A 3-week plan from this Monday (rest on Mondays, a rule named “Monday off”), active."""
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=250))
        rule = save_rule(cur, athlete, "rest on Mondays", name="Monday off")
        result = generate_plan(cur, athlete, {"duration_weeks": 3, "rule_ids": [rule["id"]], "start_date": MONDAY},
                               today=MONDAY)
        plan_id = save_plan(cur, athlete, result, activate=True)
        body = result.plan
        return plan_id, body
    finally:
        db.close()


def next_weeks_days(body: dict) -> list[dict]:
    return body["weeks"][1]["workouts"]


def day_box(at, plan_id):
    return next(s for s in at.selectbox if s.key.startswith(f"cal_day_{plan_id}_"))


def next_week_day(plan_id: int, day: str, action: str):
    """The page in week view on next week, ``day`` picked and ``action`` chosen in the edit form."""
    at = run_app_page("app_pages/plans_page.py")
    at.radio(key="cal_view").set_value("week").run()
    at.button(key=f"cal_next_{plan_id}").click().run()
    day_box(at, plan_id).set_value(date.fromisoformat(day)).run()
    at.selectbox(key=f"cal_action_{plan_id}").set_value(action).run()
    return at


def html(at) -> str:
    return " ".join(str(h.proto.body) for h in at.get("html"))


def test_the_calendar_shows_the_month_with_status_words_and_a_day_with_its_steps(db_path, page_plan):
    plan_id, body = page_plan
    at = run_app_page("app_pages/plans_page.py")
    assert not at.exception
    grid = html(at)
    assert "vc-cal" in grid and "Week 1" in grid
    assert "planned" in grid and "rest" in grid  # the status in words, not only a colour
    assert "done as planned" in grid  # the legend quotes the dashboard's bands
    assert "ridden 80–120 % of the planned time" in grid
    riding = next(w for w in body["weeks"][0]["workouts"] if w["type"] != "rest")
    day_box(at, plan_id).set_value(date.fromisoformat(riding["date"])).run()
    assert not at.exception
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("% FTP" in spec and "W at FTP 250" in spec for spec in specs)  # the day's step chart
    at.radio(key="cal_view").set_value("week").run()
    assert not at.exception and "h planned" in html(at)


def test_a_move_is_saved_as_version_2_with_the_rule_check(db_path, page_plan):
    plan_id, body = page_plan
    days = next_weeks_days(body)
    source = next(w for w in days if w["type"] != "rest")
    target = next(w for w in days if w["type"] == "rest" and date.fromisoformat(w["date"]).weekday() != 0)
    at = next_week_day(plan_id, source["date"], "move")
    at.selectbox(key=f"cal_to_{plan_id}_move").set_value(date.fromisoformat(target["date"])).run()
    at.button(key=f"cal_save_{plan_id}").click().run()
    assert not at.exception
    message = shown(at.success[0].value)
    assert message.startswith("Saved version v2: Moved") and "Rule check: all 1 rule of this plan kept" in message
    rows, problems = read_db(db_path, "SELECT version, active, json_extract_string(change, '$.kind') FROM plans "
                                      "ORDER BY id")
    assert rows == [(1, False, None), (2, True, "move")] and problems == []


def test_an_edit_breaking_a_rule_is_refused_then_saved_only_with_the_override(db_path, page_plan):
    plan_id, body = page_plan
    days = next_weeks_days(body)
    source = next(w for w in days if w["type"] != "rest")
    monday = days[0]["date"]
    at = next_week_day(plan_id, source["date"], "swap")
    at.selectbox(key=f"cal_to_{plan_id}_swap").set_value(date.fromisoformat(monday)).run()
    at.button(key=f"cal_save_{plan_id}").click().run()
    assert not at.exception
    assert any("Monday off" in shown(e.value) for e in at.error)
    assert read_db(db_path, "SELECT count(*) FROM plans")[0] == [(1,)]
    at.checkbox(key=f"cal_override_{plan_id}").check().run()
    at.button(key=f"cal_save_{plan_id}").click().run()
    assert not at.exception and "override" in shown(at.success[0].value)
    rows, _ = read_db(db_path, "SELECT json_extract(change, '$.override') FROM plans WHERE version = 2")
    assert rows == [("true",)]


def test_roll_back_asks_first_and_compare_branch_and_template_work(db_path, page_plan):
    plan_id, body = page_plan
    days = next_weeks_days(body)
    skip = next(w for w in days if w["type"] != "rest")
    at = next_week_day(plan_id, skip["date"], "skip")
    at.button(key=f"cal_save_{plan_id}").click().run()
    (v2,), = read_db(db_path, "SELECT id FROM plans WHERE version = 2")[0]
    assert not at.exception
    assert "1 day differs" in " ".join(shown(c.value) for c in at.caption)  # v1 (A) against v2 (B)
    at.button(key=f"plan_rb_{v2}").click().run()
    assert any("Roll" in w.value and "back to v1" in w.value for w in at.warning)
    assert read_db(db_path, "SELECT count(*) FROM plans")[0] == [(2,)]  # asking saves nothing
    at.button(key=f"plan_rb_no_{v2}").click().run()
    assert read_db(db_path, "SELECT count(*) FROM plans")[0] == [(2,)]
    at.button(key=f"plan_rb_{v2}").click().run()
    at.button(key=f"plan_rb_yes_{v2}").click().run()
    assert not at.exception
    assert read_db(db_path, "SELECT max(version) FROM plans")[0] == [(3,)]
    (v3,), = read_db(db_path, "SELECT id FROM plans WHERE version = 3")[0]
    at.text_input(key=f"plan_copy_name_{v3}").set_value("<b>Hard</b> option").run()
    at.button(key=f"plan_template_{v3}").click().run()
    assert not at.exception
    (template,), = read_db(db_path, "SELECT id FROM plans WHERE is_template")[0]
    at.date_input(key=f"plan_tpl_start_{v3}").set_value(MONDAY + timedelta(weeks=8)).run()
    at.button(key=f"plan_tpl_start_btn_{v3}").click().run()
    assert not at.exception
    rows, problems = read_db(db_path, "SELECT start_date, parent_plan_id FROM plans ORDER BY id DESC LIMIT 1")
    assert rows == [(MONDAY + timedelta(weeks=8), template)] and problems == []


def test_today_s_ride_is_linked_from_its_day_with_its_name_as_text(db_path, page_plan):
    from tests.test_dashboard_fitness import insert_ride

    plan_id, _ = page_plan
    db = connect(db_path)
    try:
        athlete = db.cursor().execute("SELECT athlete_id FROM plans WHERE id = ?", [plan_id]).fetchone()[0]
        ride = insert_ride(db.cursor(), athlete, TODAY, 55, moving_time_s=3000, name="[x](http://evil.example) <b>ride</b>")
    finally:
        db.close()
    at = run_app_page("app_pages/plans_page.py")
    assert not at.exception
    assert day_box(at, plan_id).value == TODAY
    links = [link.proto for link in at.get("page_link") if link.proto.page == "ride"]  # /ride?id=N
    assert len(links) == 1 and links[0].query_string == f"id={ride}"
    assert shown(links[0].label).startswith("[x](http://evil.example) <b>ride</b> · 50′")
    assert "](" not in links[0].label  # Markdown in a name is shown, never a link
    at.radio(key="cal_view").set_value("week").run()  # the week view names the rides in the grid
    assert "&lt;b&gt;ride&lt;/b&gt;" in html(at) and "<b>ride</b>" not in html(at)
