"""Migration 002 (rule language): a database written with schema 001 and version-1 rules migrates, and its rules
load with their meaning kept (version 1's "hard" had no sweet spot), enabled, editable, usable by new plans."""

from __future__ import annotations

import json
from datetime import date

from core.coach.plans.check import violations
from core.coach.plans.generate import generate_plan
from core.coach.rules.model import expand_types
from core.coach.rules.store import edit_rule, get_rule, list_rules, rule_public
from core.store.db import available_migrations, connect, integrity_problems, migrate, schema_version

TODAY = date(2027, 1, 1)
# what core/rules.py (version 1) stored: RuleParse.model_dump_json() of "no more than 2 hard sessions per week, rest
# on Fridays, fly to the moon", and a rule v1 saved although the new model refuses it ("rest every day")
V1_PARSE = {"constraints": [
    {"kind": "max_hard_sessions", "days": [], "workout_types": [], "limit": 2.0, "unit": "sessions",
     "source_text": "no more than 2 hard sessions per week"},
    {"kind": "rest_days", "days": ["fri"], "workout_types": [], "limit": None, "unit": None,
     "source_text": "rest on Fridays"}],
    "confidence_score": 0.67, "suggestions": ["“fly to the moon” was not understood and was left out."],
    "unparsed": ["fly to the moon"], "conflicts": [], "parser": "deterministic", "note": None}
V1_TEXT = "no more than 2 hard sessions per week, rest on Fridays, fly to the moon"
V1_BAD = {"constraints": [{"kind": "rest_days", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                           "workout_types": [], "limit": None, "unit": None, "source_text": "rest every day"}],
          "confidence_score": 1.0, "suggestions": [], "unparsed": [], "conflicts": [], "parser": "deterministic",
          "note": None}


def _old_database(path) -> tuple[int, int, int]:
    db = connect(path, migrate_schema=False)
    cur = db.cursor()
    migrate(cur, [m for m in available_migrations() if m.version == 1])
    assert schema_version(cur) == 1
    athlete = cur.execute("INSERT INTO athletes (name, ftp_w) VALUES ('Old rider', 250) RETURNING id").fetchone()[0]
    good = cur.execute("INSERT INTO rules (athlete_id, name, text, parsed) VALUES (?, 'Old rule', ?, ?) RETURNING id",
                       [athlete, V1_TEXT, json.dumps(V1_PARSE)]).fetchone()[0]
    bad = cur.execute("INSERT INTO rules (athlete_id, name, text, parsed) VALUES (?, 'Lazy', 'rest every day', ?) "
                      "RETURNING id", [athlete, json.dumps(V1_BAD)]).fetchone()[0]
    db.close()
    return athlete, good, bad


def test_a_schema_1_database_with_version_1_rules_migrates_and_keeps_their_meaning(db_path):
    athlete, good, bad = _old_database(db_path)
    db = connect(db_path)  # migrates to the newest schema
    cur = db.cursor()
    try:
        assert schema_version(cur) == max(m.version for m in available_migrations()) >= 2
        assert cur.execute("SELECT hard_includes_sweet_spot FROM athletes").fetchone() == (True,)
        rule = get_rule(cur, good)
        assert rule["enabled"] and rule["parsed"].parser == "upgrade" and rule["parsed"].status == "partial"
        assert [c.kind for c in rule["constraints"]] == ["type_count", "rest_days"]
        cap, rest = rule["constraints"]
        assert cap.max == 2 and expand_types(cap.types) == {"threshold", "vo2max", "anaerobic", "race"}
        assert rest.days == ["fri"]
        assert [u.text for u in rule["parsed"].unparsed] == ["fly to the moon"]
        assert "sweet spot" in rule["parsed"].note  # the preview says "hard" kept its old meaning
        lazy = get_rule(cur, bad)  # refused by the new model: loads, says why, applies nothing
        assert lazy["constraints"] == [] and lazy["parsed"].status == "refused"
        assert "no training" in lazy["parsed"].note
        assert {r["id"] for r in list_rules(cur, athlete)} == {good, bad}
        assert rule_public(rule)["description"][0] == "At most 2 threshold, VO2max, anaerobic, race session(s) per week"

        result = generate_plan(cur, athlete, {"rule_ids": [good], "duration_weeks": 8}, today=TODAY)
        assert violations(result.plan, rule["constraints"]) == []
        weeks = result.plan["weeks"]
        assert all(w["type"] == "rest" for wk in weeks for w in wk["workouts"]
                   if date.fromisoformat(w["date"]).weekday() == 4)
        # sweet spot was not "hard" in version 1: the old rule does not count it
        assert any(sum(w["type"] == "sweet_spot" for w in wk["workouts"]) +
                   sum(w["type"] in ("threshold", "vo2max") for w in wk["workouts"]) > 2 for wk in weeks)

        new = edit_rule(cur, good, "no more than 2 hard sessions per week, rest on Fridays")
        assert new["parsed"].parser == "deterministic" and new["constraints"][0].types == ["hard"]
        assert json.loads(cur.execute("SELECT parsed FROM rules WHERE id = ?", [new["id"]]).fetchone()[0])[
            "schema_version"] == 2
        assert integrity_problems(cur) == []
    finally:
        db.close()


def test_migrating_twice_changes_nothing(db_path):
    _old_database(db_path)
    connect(db_path).close()
    db = connect(db_path)
    try:
        assert migrate(db.cursor()) == []
        indexes = db.cursor().execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'rules'").fetchall()
        assert indexes == [("rules_athlete_idx",)]
    finally:
        db.close()
