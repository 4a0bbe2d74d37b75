"""The coach's CLI: rules parse/add, plan generate/export."""

from __future__ import annotations

import json
from datetime import date

from icalendar import Calendar

from core.cli import main
from core.store.db import connect, table_counts


def run(capsys, db_path, *argv):
    code = main(["--db", str(db_path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def stored_rules(db_path) -> int:
    db = connect(db_path)
    try:
        return table_counts(db.cursor())["rules"]
    finally:
        db.close()


def test_rules_parse_previews_and_saves_nothing(capsys, db_path):
    code, out, _ = run(capsys, db_path, "rules", "parse", "no intervals on Mondays, max 9 hours a week", "--json")
    assert code == 0
    data = json.loads(out)
    assert [c["kind"] for c in data["constraints"]] == ["banned_types", "weekly_volume"]
    assert {"constraints", "unparsed", "confidence_score", "suggestions", "conflicts", "status"} <= set(data)
    assert data["status"] == "understood" and data["description"][0] == "No intervals on Monday"
    assert data["covers"] == ["intervals = tempo, sweet spot, threshold, VO2max, anaerobic, sprints"]
    assert stored_rules(db_path) == 0


def test_rules_parse_of_nonsense_exits_1(capsys, db_path):
    code, out, _ = run(capsys, db_path, "rules", "parse", "purple monkey dishwasher", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["status"] == "refused" and [u["text"] for u in data["unparsed"]] == ["purple monkey dishwasher"]
    assert data["unparsed"][0]["suggestion"]


def test_rules_add_that_understood_nothing_exits_1_with_the_suggestion_on_stderr(capsys, db_path):
    code, out, err = run(capsys, db_path, "rules", "add", "purple monkey dishwasher", "--json")
    assert code == 1 and out == "" and "not saved" in err and "rest on Fridays" in err
    assert stored_rules(db_path) == 0


def test_rules_edit_disable_enable_and_list(capsys, db_path):
    code, out, _ = run(capsys, db_path, "rules", "add", "rest on Fridays", "--json")
    rule = json.loads(out)
    assert rule["status"] == "understood" and rule["enabled"]
    code, out, _ = run(capsys, db_path, "rules", "edit", str(rule["id"]), "rest on Fridays and Mondays", "--json")
    assert code == 0
    edited = json.loads(out)
    assert edited["version"] == 2 and edited["parent_rule_id"] == rule["id"]
    assert edited["description"] == ["Rest: Monday, Friday"]
    code, out, _ = run(capsys, db_path, "rules", "disable", str(edited["id"]), "--json")
    assert code == 0 and json.loads(out)["enabled"] is False
    code, out, _ = run(capsys, db_path, "rules", "list", "--enabled", "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, db_path, "rules", "list")
    assert "(disabled)" in out and "Rest: Monday, Friday" in out
    code, _, err = run(capsys, db_path, "plan", "generate", "--weeks", "2", "--rule", str(edited["id"]))
    assert code == 1 and "disabled" in err
    code, out, _ = run(capsys, db_path, "rules", "enable", str(rule["id"]), "--json")
    assert code == 0 and json.loads(out)["enabled"] is True and json.loads(out)["id"] == edited["id"]
    code, _, err = run(capsys, db_path, "rules", "edit", "999", "rest on Sundays")
    assert code == 1 and "not found" in err


def test_rules_add_then_plan_generate_save_and_export(capsys, db_path, tmp_path):
    code, out, _ = run(capsys, db_path, "rules", "add", "rest on Fridays", "--name", "Fri off", "--json")
    assert code == 0
    rule = json.loads(out)
    assert rule["name"] == "Fri off" and rule["version"] == 1
    code, out, err = run(capsys, db_path, "plan", "generate", "--weeks", "4", "--rule", str(rule["id"]),
                         "--hours", "6", "--save", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert len(plan["weeks"]) == 4
    assert all(w["type"] == "rest" for wk in plan["weeks"] for w in wk["workouts"]
               if date.fromisoformat(w["date"]).weekday() == 4)
    assert "saved plan" in err
    plan_id = int(err.strip().split()[-1])
    code, out, _ = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "json")
    assert code == 0 and json.loads(out)["weeks"] == plan["weeks"]
    target = tmp_path / "plan.ics"
    code, _, _ = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "ics", "--output", str(target))
    assert code == 0
    assert len(Calendar.from_ical(target.read_bytes()).walk("VEVENT")) > 0


def test_bad_plan_arguments_exit_1_with_a_reason(capsys, db_path):
    code, _, err = run(capsys, db_path, "plan", "generate", "--weeks", "60", "--json")
    assert code == 1 and "between 1 and 52" in err
    code, _, err = run(capsys, db_path, "plan", "generate", "--goal-date", "2001-01-01", "--json")
    assert code == 1 and "in the past" in err
    code, _, err = run(capsys, db_path, "plan", "export", "999", "--format", "ics")
    assert code == 1 and "not found" in err


def test_with_ai_configured_the_cli_uses_it_and_falls_back_when_it_fails(capsys, db_path, monkeypatch):
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake:
        monkeypatch.setenv("VELOCOACH_AI_BASE_URL", fake.url)
        monkeypatch.setenv("VELOCOACH_AI_KEY", "sk-cli-test-0123456789")
        monkeypatch.setenv("VELOCOACH_AI_TIMEOUT_S", "0.5")
        fake.enqueue(content={"constraints": [{"kind": "weekly_volume", "max": 8}], "confidence_score": 0.8,
                              "suggestions": [], "unparsed": []})
        code, out, _ = run(capsys, db_path, "rules", "parse", "eight hours max weekly", "--json")
        assert code == 0
        data = json.loads(out)
        assert data["parser"] == "ai" and data["constraints"][0]["max"] == 8 and data["status"] == "understood"
        fake.default = {"content": "{}", "status": 500, "delay_s": 0.0}
        code, out, _ = run(capsys, db_path, "rules", "parse", "rest on Fridays", "--json")
        assert code == 0
        data = json.loads(out)
        assert data["parser"] == "deterministic" and "500" in data["note"]


def test_plan_generate_json_carries_steps_and_a_projection_and_replan_makes_a_version(capsys, db_path):
    code, out, err = run(capsys, db_path, "plan", "generate", "--goal-date", "2027-03-28", "--event-type",
                         "road_race", "--start", "2027-01-04", "--hours", "8", "--b-race", "2027-02-27",
                         "--distribution", "polarised", "--tests", "--save", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"weeks", "projection"}
    workout = next(w for wk in data["weeks"] for w in wk["workouts"] if w["type"] == "vo2max")
    assert {"date", "type", "duration_min", "tss", "target", "description", "steps"} <= set(workout)
    assert workout["steps"][0]["kind"] == "warmup" and workout["target"]["power_pct"]
    assert data["projection"]["race_day"]["date"] == "2027-03-28"
    assert len(data["projection"]["weeks"]) == 12 and all(w["why"] for w in data["projection"]["weeks"])
    days = {w["date"]: w for wk in data["weeks"] for w in wk["workouts"]}
    assert days["2027-02-27"]["target"]["priority"] == "B" and days["2027-03-28"]["target"]["event"]
    plan_id = int(err.strip().split()[-1])
    code, out, err = run(capsys, db_path, "plan", "replan", str(plan_id), "--json")
    assert code == 0, err
    replanned = json.loads(out)
    assert replanned["version"] == 2 and replanned["old_plan_id"] == plan_id and len(replanned["weeks"]) == 12
    assert replanned["projection"]["race_day"]["date"] == "2027-03-28"
    code, out, _ = run(capsys, db_path, "plan", "replan", str(replanned["plan_id"]))
    assert code == 0 and "version 3" in out
    code, _, err = run(capsys, db_path, "plan", "replan", "999")
    assert code == 1 and "not found" in err


def test_a_rule_on_the_event_day_is_shown_and_saving_needs_accept_conflicts(capsys, db_path):
    code, out, _ = run(capsys, db_path, "rules", "add", "rest on Sundays", "--json")
    rule_id = json.loads(out)["id"]
    args = ("plan", "generate", "--goal-date", "2027-03-28", "--start", "2027-01-04", "--rule", str(rule_id))
    code, out, err = run(capsys, db_path, *args, "--json")
    assert code == 0 and "stays on its day" in err
    code, _, err = run(capsys, db_path, *args, "--save")
    assert code == 1 and "not saved" in err
    db = connect(db_path)
    assert table_counts(db.cursor())["plans"] == 0
    db.close()
    code, _, err = run(capsys, db_path, *args, "--save", "--accept-conflicts")
    assert code == 0 and "saved plan" in err


def test_rules_parse_in_words_names_each_clause_the_words_it_was_read_by_and_what_it_became(capsys, db_path):
    code, out, _ = run(capsys, db_path, "rules", "parse", "no more than 2 hard sessions per week, rest on fridays, "
                                                          "and blah blah")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "partial:"
    first = lines.index("“no more than 2 hard sessions per week”")
    assert "no more than (modality)" in lines[first + 1] and "hard sessions (group = hard)" in lines[first + 1]
    assert lines[first + 2].startswith("  - ") and "2" in lines[first + 2]
    second = lines.index("“rest on fridays”")
    assert "fridays (day = fri)" in lines[second + 1] and "Friday" in lines[second + 2]
    assert any(line.startswith("? not understood: “blah blah”") for line in lines)


def test_rules_add_of_a_rule_the_parse_asks_about_is_saved_only_with_yes(capsys, db_path):
    code, out, err = run(capsys, db_path, "rules", "add", "no VO2max", "--json")
    assert code == 1 and out == "" and "Not saved yet" in err and "every week of the season" in err
    assert stored_rules(db_path) == 0
    code, out, _ = run(capsys, db_path, "rules", "add", "no VO2max", "--yes", "--json")
    assert code == 0
    saved = json.loads(out)
    assert saved["description"] == ["No VO2max on every day"] and [q["code"] for q in saved["questions"]] == ["bans_type_all_season"]
    code, _, err = run(capsys, db_path, "rules", "edit", str(saved["id"]), "no VO2max and no sprints")
    assert code == 1 and "Not saved yet" in err
    code, out, _ = run(capsys, db_path, "rules", "edit", str(saved["id"]), "no VO2max and no sprints", "--yes", "--json")
    assert code == 0 and json.loads(out)["version"] == 2
