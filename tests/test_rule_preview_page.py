"""The Coach page's rule preview as a rider sees it (AppTest): per clause, the words that produced each constraint
and what groups cover; with an AI service whose reading differs, both readings."""

from __future__ import annotations

from tests.fakes.openai_server import FakeOpenAI
from tests.test_plans_cli import stored_rules
from tests.test_plans_page import open_page


def _shown(at) -> str:
    return " ".join(m.value for m in at.markdown).replace("\\", "")  # rider-facing text is Markdown-escaped


def test_the_preview_shows_each_clause_the_words_it_read_and_what_they_mean(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("No hard workouts on Mondays, max 1h30 on weekdays")
    at.button(key="rule_preview_button").click().run()
    assert not at.exception
    shown = _shown(at)
    assert "“No hard workouts on Mondays”" in shown and "→ No hard on Monday" in shown
    assert "“No” (negation)" in shown and "“hard workouts” = hard (group)" in shown
    assert "“1h30” = 90 min (number)" in shown and "→ Each ride at most 90 min on weekdays" in shown
    assert "sweet spot counts as hard: yes" in shown


def test_with_ai_the_preview_shows_both_readings_when_they_differ(db_path, monkeypatch):
    with FakeOpenAI() as fake:
        monkeypatch.setenv("VELOCOACH_AI_BASE_URL", fake.url)
        monkeypatch.setenv("VELOCOACH_AI_KEY", "sk-page-test-0123456789")
        at = open_page()
        at.text_area(key="rule_text").set_value("max 1.5 h on weekdays")
        fake.enqueue(content={"constraints": [{"kind": "weekly_volume", "max": 1.5, "unit": "h"}],
                              "confidence_score": 0.8, "suggestions": [], "unparsed": []})
        at.button(key="rule_preview_button").click().run()
        assert not at.exception
        assert "Weekly at most 1.5 hours" in _shown(at)
        other = " ".join(i.value for i in at.info).replace("\\", "")
        assert "built-in reader's reading" in other and "Each ride at most 90 min on weekdays" in other
        assert any("understood this differently" in w.value.replace("\\", "") for w in at.warning)


def test_a_rule_the_preview_asks_about_is_saved_only_once_the_rider_ticks_yes(db_path):
    at = open_page()
    at.text_area(key="rule_text").set_value("no VO2max")
    at.button(key="rule_save_button").click().run()  # straight to Save, no preview first
    assert not at.exception
    assert any("Not saved yet" in e.value for e in at.error)
    assert any("every week of the season" in w.value for w in at.warning)  # the question is shown with its box
    assert stored_rules(db_path) == 0
    at.checkbox(key="rule_confirm").check().run()
    at.button(key="rule_save_button").click().run()
    assert not at.exception and not at.error
    assert stored_rules(db_path) == 1
    # A tick answers one preview: a new preview asks again.
    at.text_area(key="rule_text").set_value("no sprints")
    at.button(key="rule_preview_button").click().run()
    assert at.checkbox(key="rule_confirm").value is False
