"""Coach and Plans pages through AppTest (run by app.py, as in the app): write and save a rule, fill the plan
form, preview and save a plan on Coach; exports, activation and versions on Plans."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import read_db, tiles

APP = str(Path(__file__).resolve().parent.parent / "navigation.py")


def open_page(page: str = "app_pages/coach_page.py") -> AppTest:
    """The page run through app.py's navigation: its links to other pages need it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(page).run()


read = read_db


def calendar(at):
    """The plan calendar among the page's tables (the one with a column per weekday)."""
    return next(d.value for d in at.dataframe if "Mon" in d.value.columns)


def test_the_coach_page_shows_the_rules_editor_and_the_plan_form(db_path):
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Coach"
    assert [t.label for t in at.tabs] == ["Plan generator", "Rules"]  # saved plans: the Plans page
    assert at.text_area(key="rule_text") is not None
    assert at.number_input(key="plan_weeks").value == 12
    assert any("No AI key" in c.value for c in at.caption)


def test_a_rule_is_previewed_then_saved(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Fridays, long ride at the weekend")
    at.button(key="rule_preview_button").click().run()
    assert not at.exception
    shown = [m.value.replace("\\", "") for m in at.markdown]  # rider-facing text is Markdown-escaped
    assert any("Rest: Friday" in m and "Long ride on Saturday or Sunday" in m for m in shown)
    assert any("Understood" in m.value for m in at.markdown)
    at.button(key="rule_save_button").click().run()
    assert not at.exception
    rows, problems = read(db_path, "SELECT text, version FROM rules")
    assert rows == [("rest on Fridays, long ride at the weekend", 1)]
    assert problems == []


def test_an_empty_rule_gives_a_message_and_saves_nothing(db_path):
    at = open_page()
    at.button(key="rule_save_button").click().run()
    assert not at.exception
    assert at.error and "empty" in at.error[0].value
    assert read(db_path, "SELECT count(*) FROM rules")[0] == [(0,)]


def test_the_form_generates_a_preview_and_saves_an_active_plan(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Fridays")
    at.button(key="rule_save_button").click().run()
    (rule_id,), = read(db_path, "SELECT id FROM rules")[0]
    at.multiselect(key="plan_rules").set_value([rule_id])
    at.number_input(key="plan_weeks").set_value(6)
    at.number_input(key="plan_hours").set_value(7.0)
    at.selectbox(key="plan_long_day").set_value("sun")
    at.text_input(key="plan_name").set_value("Spring build")
    at.button(key="plan_generate_button").click().run()
    assert not at.exception
    assert any("built-in engine" in i.value for i in at.info)
    assert len(at.dataframe) >= 1
    days = calendar(at)
    assert len(days) == 6 and set(days["Fri"]) == {"rest"}
    at.button(key="plan_save_button").click().run()
    assert not at.exception
    assert at.success and "Saved plan" in at.success[0].value
    assert any(link.proto.label == "Open the saved plans" for link in at.get("page_link"))
    rows, problems = read(db_path, "SELECT name, active, duration_weeks, (SELECT count(*) FROM plan_rules), "
                                   "(SELECT count(*) FROM planned_workouts) FROM plans")
    assert rows == [("Spring build", True, 6, 1, 42)]
    assert problems == []


def test_a_request_with_no_available_days_shows_a_clear_error(db_path):
    at = open_page()
    at.multiselect(key="plan_days").set_value([])
    at.button(key="plan_generate_button").click().run()
    assert not at.exception
    assert at.error and "no available days" in at.error[0].value


def test_with_ai_configured_the_page_says_the_ai_plan_was_repaired(db_path, monkeypatch):
    from datetime import date, timedelta

    from core.coach.plans.engine import build_plan
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake:
        monkeypatch.setenv("VELOCOACH_AI_BASE_URL", fake.url)
        monkeypatch.setenv("VELOCOACH_AI_KEY", "sk-page-test-0123456789")
        at = open_page()
        assert not any("No AI key" in c.value for c in at.caption)
        at.text_area(key="rule_text").set_value("rest on Mondays")
        fake.enqueue(content={"constraints": [{"kind": "rest_days", "days": ["mon"]}], "confidence_score": 0.95,
                              "suggestions": [], "unparsed": []})
        at.button(key="rule_save_button").click().run()
        assert not at.exception
        (rule_id,), = read(db_path, "SELECT id FROM rules")[0]
        assert read(db_path, "SELECT json_extract_string(parsed, '$.parser') FROM rules")[0] == [("ai",)]
        start = date.today() + timedelta(days=(-date.today().weekday()) % 7)
        proposal = build_plan(start, 2, [], ftp_w=200, weekly_hours=6)
        for week in proposal["weeks"]:
            week["workouts"][0].update(type="vo2max", duration_min=60, tss=70)  # breaks "rest on Mondays"
        fake.enqueue(content=proposal)
        at.multiselect(key="plan_rules").set_value([rule_id])
        at.number_input(key="plan_weeks").set_value(2)
        at.date_input(key="plan_start").set_value(start)
        at.button(key="plan_generate_button").click().run()
        assert not at.exception
        assert any("repaired to fit your rules" in i.value for i in at.info)
        assert set(calendar(at)["Mon"]) == {"rest"}


def test_saved_plans_show_exports_activation_and_versions(db_path):
    at = open_page()
    for weeks in (2, 3):
        at.number_input(key="plan_weeks").set_value(weeks)
        at.button(key="plan_generate_button").click().run()
        at.checkbox(key="plan_activate_on_save").set_value(weeks == 2)
        at.button(key="plan_save_button").click().run()
        assert not at.exception
    at.switch_page("app_pages/plans_page.py").run()
    assert not at.exception and at.title[0].value == "Plans"
    labels = [b.label for b in at.get("download_button")]
    assert "iCalendar (.ics)" in labels and "JSON" in labels
    rows, _ = read(db_path, "SELECT id, active FROM plans ORDER BY id")
    (first, first_active), (second, second_active) = rows
    assert first_active and not second_active
    at = open_page("app_pages/plans_page.py")
    at.selectbox(key="saved_plan_pick").set_value(second).run()
    at.button(key=f"plan_activate_{second}").click().run()
    assert not at.exception
    rows, problems = read(db_path, "SELECT id FROM plans WHERE active")
    assert rows == [(second,)] and problems == []


def test_editing_a_rule_on_the_page_saves_version_two(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Fridays")
    at.button(key="rule_save_button").click().run()
    (rule_id,), = read(db_path, "SELECT id FROM rules")[0]
    saved = [s.value for s in at.success]  # the message survives the page's rerun
    assert len(saved) == 1 and saved[0].startswith("Saved rule “Rest") and "Friday" in saved[0]
    at.run()
    assert not at.success  # said once
    at = open_page()
    at.text_area(key=f"rule_edit_{rule_id}").set_value("rest on Fridays and Mondays")
    at.button(key=f"rule_edit_save_{rule_id}").click().run()
    assert not at.exception
    rows, _ = read(db_path, "SELECT version, parent_rule_id FROM rules ORDER BY id")
    assert rows == [(1, None), (2, rule_id)]
    assert any("as version 2" in s.value for s in at.success)


def test_hostile_rule_text_is_shown_as_text_not_markdown(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Fridays, ![pixel](http://tracker.example/p.png) [click](http://x)")
    at.button(key="rule_preview_button").click().run()
    assert not at.exception
    shown = " ".join(w.value for w in at.warning)
    assert "tracker" in shown
    assert re.search(r"(?<!\\)\]\(", shown) is None  # every "](" that would make a link/image is escaped


def test_the_plans_page_without_plans_points_to_the_coach(db_path):
    at = open_page("app_pages/plans_page.py")
    assert not at.exception
    assert at.title[0].value == "Plans"
    assert any("No saved plans yet" in i.value for i in at.info)
    assert any(link.proto.label == "Open the coach" for link in at.get("page_link"))


def test_deleting_a_plan_asks_first_and_cancel_keeps_it(db_path):
    at = open_page()
    at.number_input(key="plan_weeks").set_value(2)
    at.button(key="plan_generate_button").click().run()
    at.button(key="plan_save_button").click().run()
    (plan_id,), = read(db_path, "SELECT id FROM plans")[0]
    at = open_page("app_pages/plans_page.py")
    at.button(key=f"plan_delete_{plan_id}").click().run()
    assert not at.exception and any("Delete" in w.value for w in at.warning)
    assert read(db_path, "SELECT count(*) FROM plans")[0] == [(1,)]  # asking deletes nothing
    at.button(key=f"plan_cancel_delete_{plan_id}").click().run()
    assert read(db_path, "SELECT count(*) FROM plans")[0] == [(1,)]
    at.button(key=f"plan_delete_{plan_id}").click().run()
    at.button(key=f"plan_confirm_delete_{plan_id}").click().run()
    assert not at.exception
    rows, problems = read(db_path, "SELECT count(*) FROM plans")
    assert rows == [(0,)] and problems == []


def test_the_preview_says_what_hard_covers_and_names_a_clash_with_a_saved_rule(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Saturdays")
    at.text_input(key="rule_name").set_value("Weekend off")
    at.button(key="rule_save_button").click().run()
    at.text_area(key="rule_text").set_value("No hard workouts on Mondays, long ride on Saturday, fly to the moon")
    at.button(key="rule_preview_button").click().run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")  # rider-facing text is Markdown-escaped
    assert "Partly understood" in shown and "No hard on Monday" in shown
    assert "hard = sweet spot, threshold, VO2max" in shown and "sweet spot counts as hard: yes" in shown
    assert any("fly to the moon" in w.value for w in at.warning)
    assert any("Weekend off" in e.value and "long" in e.value.lower() for e in at.error)


def test_a_rule_is_disabled_and_enabled_again_on_the_page_and_the_form_offers_only_enabled_rules(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Fridays")
    at.button(key="rule_save_button").click().run()
    (rule_id,), = read(db_path, "SELECT id FROM rules")[0]
    saved = [s.value for s in at.success]  # the message survives the page's rerun
    assert len(saved) == 1 and saved[0].startswith("Saved rule “Rest") and "Friday" in saved[0]
    at.run()
    assert not at.success  # said once
    at = open_page()
    assert at.multiselect(key="plan_rules").value == [rule_id]  # enabled rules are followed by default
    at.button(key=f"rule_toggle_{rule_id}").click().run()
    assert not at.exception
    assert read(db_path, "SELECT enabled, version FROM rules")[0] == [(False, 1)]
    at = open_page()
    assert at.multiselect(key="plan_rules").options == [] and any("disabled" in e.label for e in at.expander)
    at.button(key=f"rule_toggle_{rule_id}").click().run()
    assert read(db_path, "SELECT enabled FROM rules")[0] == [(True,)]


def test_the_preview_shows_race_day_fitness_the_weeks_and_a_workout_in_watts(db_path):
    from datetime import date, timedelta

    at = open_page()
    start = date.today() + timedelta(days=(-date.today().weekday()) % 7)
    at.date_input(key="plan_start").set_value(start)
    at.date_input(key="plan_event_date").set_value(start + timedelta(weeks=8, days=-1))
    at.selectbox(key="plan_event_type").set_value("criterium")
    at.text_input(key="plan_b_races").set_value((start + timedelta(weeks=3, days=5)).isoformat())
    at.button(key="plan_generate_button").click().run()
    assert not at.exception, at.exception
    labels = list(tiles(at))
    assert "CTL on race day" in labels and "Form (TSB) on race day" in labels
    weeks = next(d.value for d in at.dataframe if "Why" in d.value.columns)
    assert len(weeks) == 8 and weeks["Why"].str.len().min() > 20
    steps = next(d.value for d in at.dataframe if "Power (W)" in d.value.columns)
    assert steps["Step"].iloc[0] == "1. warmup"
    assert any("FTP of 200 W" in c.value or "FTP of" in c.value for c in at.caption)


def test_a_b_race_that_is_not_a_date_gets_a_clear_error(db_path):
    at = open_page()
    at.text_input(key="plan_b_races").set_value("next saturday")
    at.button(key="plan_generate_button").click().run()
    assert not at.exception
    assert at.error and "is not a date" in at.error[0].value
    assert read(db_path, "SELECT count(*) FROM plans")[0] == [(0,)]


def test_an_event_on_a_rest_day_is_shown_and_saved_only_after_the_rider_confirms(db_path):
    from datetime import date, timedelta

    at = open_page()
    at.text_area(key="rule_text").set_value("rest on Sundays")
    at.button(key="rule_save_button").click().run()
    (rule_id,), = read(db_path, "SELECT id FROM rules")[0]
    start = date.today() + timedelta(days=(-date.today().weekday()) % 7)
    at.multiselect(key="plan_rules").set_value([rule_id])
    at.date_input(key="plan_start").set_value(start)
    at.date_input(key="plan_event_date").set_value(start + timedelta(weeks=4, days=-1))
    at.button(key="plan_generate_button").click().run()
    assert not at.exception
    assert any("stays on its day" in e.value for e in at.error)
    at.button(key="plan_save_button").click().run()
    assert any("not saved" in e.value for e in at.error)
    assert read(db_path, "SELECT count(*) FROM plans")[0] == [(0,)]
    at.checkbox(key="plan_accept_conflicts").check().run()
    at.button(key="plan_save_button").click().run()
    assert not at.exception
    assert read(db_path, "SELECT count(*) FROM plans")[0] == [(1,)]


def test_the_plans_page_projects_a_saved_plan_and_replans_it_from_today(db_path):
    at = open_page()
    at.number_input(key="plan_weeks").set_value(4)
    at.button(key="plan_generate_button").click().run()
    at.button(key="plan_save_button").click().run()
    (plan_id,), = read(db_path, "SELECT id FROM plans")[0]
    at = open_page("app_pages/plans_page.py")
    assert not at.exception
    assert "CTL at the end" in tiles(at)
    assert any("Why" in d.value.columns for d in at.dataframe)
    at.button(key=f"plan_replan_{plan_id}").click().run()
    assert not at.exception
    assert any("planned from" in s.value and "kept" in s.value for s in at.success)
    rows, problems = read(db_path, "SELECT version, parent_plan_id, active FROM plans ORDER BY id")
    assert rows == [(1, None, False), (2, plan_id, True)] and problems == []
