"""The rule language: validators, groups under the Settings choice, comparison and merging, questions, plain words,
conflicts naming both sources, and the upgrade of every version-1 kind with its meaning kept."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from core.coach.rules import model
from core.coach.rules.conflicts import conflicts_with, goal_conflicts, rule_conflicts
from core.coach.rules.result import ParseContext, ParseResult, questions_for
from core.coach.rules.upgrade import is_v1_constraint, load_constraint, upgrade_constraint, upgrade_rule_parse

V1 = dict(days=[], workout_types=[], limit=None, unit=None, source_text="")


def c(**kw):
    return model.parse_constraint(kw)


def test_except_days_fold_into_named_days_and_compare_by_effective_days():
    a = c(kind="banned_types", types=["hard"], days=list(model.WEEKDAYS), except_days=["wed"])
    assert a.days == ["mon", "tue", "thu", "fri"] and a.except_days == []
    b = c(kind="session_length", max=180, except_days=["sat"])
    assert b.effective_days() == ["mon", "tue", "wed", "thu", "fri", "sun"]
    assert model.constraint_key(b) == model.constraint_key(c(kind="session_length", max=180,
                                                             days=["mon", "tue", "wed", "thu", "fri", "sun"]))


def test_groups_are_stored_by_name_and_follow_the_sweet_spot_setting():
    a = c(kind="allowed_types", types=["easy"], days=["tue"])
    assert a.types == ["easy"]
    assert model.same_constraints([a], [c(kind="allowed_types", types=["endurance", "recovery"], days=["tue"])])
    assert "sweet_spot" in model.expand_types(["hard"])
    assert "sweet_spot" not in model.expand_types(["hard"], hard_includes_sweet_spot=False)
    assert "sweet_spot" in model.expand_types(["intensity"], hard_includes_sweet_spot=False)
    assert model.group_coverage("hard").startswith("hard = sweet spot, threshold, VO2max, anaerobic")
    assert "sweet spot counts as hard: no" in model.group_coverage("hard", hard_includes_sweet_spot=False)
    assert "sweet spot" not in model.group_coverage("hard", hard_includes_sweet_spot=False).split("(")[0]


@pytest.mark.parametrize("bad", [
    dict(kind="rest_days", days=list(model.DAYS)),                       # no training left
    dict(kind="rest_days"),                                              # no day named
    dict(kind="type_count", types=["vo2max"], max=0),                     # that is a ban
    dict(kind="weekly_volume", min=9, max=6),                             # min above max
    dict(kind="weekly_volume", max=50),                                   # out of range
    dict(kind="weekly_volume", max=float("nan")),                         # not a number
    dict(kind="banned_types", types=["any"]),                             # that is rest_days
    dict(kind="banned_types", types=["commute"]),                         # commutes are fixed sessions
    dict(kind="banned_types", types=[]),                                  # nothing named
    dict(kind="ramp_limit", metric="ctl", limit=5, unit="pct"),           # CTL ramp is in points
    dict(kind="ramp_limit", limit=-5),                                    # negative
    dict(kind="day_after", trigger=["any"], then="rest"),                 # that is max_consecutive
    dict(kind="session_length", max=90, wrong_field=1),                   # extra="forbid"
    dict(kind="rest_days", days=["monday"]),                              # closed day set
    dict(kind="rest_days", days=["mon"], phases=["offseason"]),           # closed phase set
    dict(kind="unavailable_dates", start="2025-05-10", end="2025-05-03"),
    dict(kind="unavailable_dates", start="2025-01-01", end="2025-12-31"),  # longer than 121 days
    dict(kind="fixed_session", days=["thu"], workout_type="rest", duration_min=60),
    dict(kind="fixed_session", days=["thu"], workout_type="group_ride", duration_min=10_000),
    dict(kind="training_days", max=6, days=["mon", "tue"]),               # more days than in scope
    dict(kind="delete_everything"),
    dict(kind="taper", length_days="'; DROP TABLE rules; --"),
])
def test_the_model_refuses(bad):
    with pytest.raises(ValidationError):
        model.parse_constraint(bad)


def test_normalise_merges_unions_and_ranges_but_not_intersections():
    merged = model.normalise([c(kind="rest_days", days=["tue"]), c(kind="rest_days", days=["sat"]),
                              c(kind="weekly_volume", max=10), c(kind="weekly_volume", min=6)])
    assert sorted(x.kind for x in merged) == ["rest_days", "weekly_volume"]
    assert len(model.normalise([c(kind="long_ride_days", days=["sat"]), c(kind="long_ride_days", days=["sun"])])) == 2


def test_questions_ask_before_removing_intensity_banning_all_season_or_capping_below_recent_load():
    q = questions_for([c(kind="banned_types", types=["intervals"])])
    assert {x["code"] for x in q} == {"removes_all_intensity", "bans_type_all_season"}
    assert all(x["message"] for x in q)
    assert questions_for([c(kind="banned_types", types=["vo2max"], phases=["base"])]) == []
    assert questions_for([c(kind="weekly_volume", max=7)])[0]["code"] == "below_recent_load"
    assert questions_for([c(kind="weekly_volume", max=7)], ParseContext(recent_weekly_hours=None)) == []


def test_every_kind_has_plain_words_and_a_label():
    samples = [c(kind="rest_days", days=["mon"], reason="unavailable"),
               c(kind="unavailable_dates", start="2027-04-14", end="2027-04-21"),
               c(kind="allowed_types", types=["easy"], days=["tue"]), c(kind="banned_types", types=["hard"]),
               c(kind="session_length", max=90, days=list(model.WEEKDAYS)), c(kind="weekly_volume", min=6, max=9),
               c(kind="training_days", max=5), c(kind="type_count", types=["sweet_spot"], max=2),
               c(kind="max_consecutive", limit=1), c(kind="day_after", then="easy"),
               c(kind="long_ride_days", days=["sat", "sun"]),
               c(kind="fixed_session", days=list(model.WEEKDAYS), workout_type="commute", duration_min=40, per_day=2),
               c(kind="taper", length_days=14), c(kind="recovery_cadence", load_weeks=3),
               c(kind="ramp_limit", limit=5), c(kind="venue", where="indoor", days=["tue"])]
    assert sorted(x.kind for x in samples) == sorted(model.KINDS)
    words = {x.kind: model.describe(x) for x in samples}
    assert words["session_length"] == "Each ride at most 90 min on weekdays"
    assert words["fixed_session"] == "Fixed commute 40 min each way on Monday, Tuesday, Wednesday, Thursday, Friday"
    assert words["rest_days"] == "Unavailable: Monday"
    assert set(model.KIND_LABELS) == set(model.KINDS)
    assert model.covers(samples[3])[0].startswith("hard = ")


def test_rule_conflicts_name_both_rules():
    rest = c(kind="rest_days", days=["sat"])
    long_day = c(kind="long_ride_days", days=["sat"])
    (conflict,) = rule_conflicts([rest, long_day], names=["Weekend off", "Long Saturday"])
    assert "Weekend off" in conflict.message and "Long Saturday" in conflict.message and conflict.blocking
    group = c(kind="fixed_session", days=["thu"], workout_type="group_ride", duration_min=120)
    assert rule_conflicts([group, c(kind="banned_types", types=["hard"], days=["thu"])])
    assert rule_conflicts([group, c(kind="banned_types", types=["hard"], days=["thu"])],
                          hard_includes_sweet_spot=False)  # group rides are hard either way
    assert rule_conflicts([c(kind="weekly_volume", max=3),
                           c(kind="fixed_session", days=list(model.WEEKDAYS), workout_type="commute",
                                 duration_min=40, per_day=2)])
    assert rule_conflicts([rest, c(kind="long_ride_days", days=["sun"])]) == []


def test_a_previewed_rule_is_checked_against_the_saved_rules_only():
    saved = [{"name": "Saturdays off", "constraints": [c(kind="rest_days", days=["sat"])]},
             {"name": "Sundays off", "constraints": [c(kind="rest_days", days=["sun"])]}]
    (clash,) = conflicts_with([c(kind="long_ride_days", days=["sat"])], saved, name="Long ride")
    assert "Saturdays off" in clash.message and "Long ride" in clash.message
    assert conflicts_with([c(kind="long_ride_days", days=["wed"])], saved) == []


def test_goal_conflicts_name_the_rule_and_the_goal():
    sunday = date(2027, 3, 7)
    away = c(kind="rest_days", days=["sun"], reason="unavailable")
    (hit,) = goal_conflicts([away], event_date=sunday, names=["No Sundays"], goal="the Gran Fondo")
    assert hit.blocking and "No Sundays" in hit.message and "the Gran Fondo" in hit.message
    (note,) = goal_conflicts([c(kind="rest_days", days=["sun"])], event_date=sunday)
    assert not note.blocking and "kept" in note.message
    holiday = c(kind="unavailable_dates", start="2027-03-01", end="2027-03-10")
    assert goal_conflicts([holiday], event_date=sunday)[0].blocking
    (cap,) = goal_conflicts([c(kind="weekly_volume", max=6)], weekly_hours=10, names=["Busy"])
    assert cap.blocking and "Busy" in cap.message and "10 hours" in cap.message
    assert goal_conflicts([c(kind="rest_days", days=["sun"], before_event_days=3)], event_date=sunday) == []


@pytest.mark.parametrize("old, kind", [
    (dict(V1, kind="rest_days", days=["fri"]), "rest_days"),
    (dict(V1, kind="forbidden_types", days=["mon"], workout_types=["vo2max"]), "banned_types"),
    (dict(V1, kind="allowed_types", days=["wed"], workout_types=["recovery", "endurance"]), "allowed_types"),
    (dict(V1, kind="max_weekly_hours", limit=9, unit="h"), "weekly_volume"),
    (dict(V1, kind="max_hard_sessions", limit=2, unit="sessions"), "type_count"),
    (dict(V1, kind="max_hard_sessions", limit=0, unit="sessions"), "banned_types"),
    (dict(V1, kind="rest_after_hard_days", limit=2, unit="days"), "day_after"),
    (dict(V1, kind="max_consecutive_hard_days", limit=1, unit="days"), "max_consecutive"),
    (dict(V1, kind="long_ride_day", days=["sat"]), "long_ride_days"),
    (dict(V1, kind="max_ramp_pct", limit=8, unit="pct"), "ramp_limit"),
    (dict(V1, kind="indoor_only_days", days=["tue"]), "venue"),
    (dict(V1, kind="max_session_minutes", limit=90, unit="min", days=["mon"]), "session_length"),
    (dict(V1, kind="max_training_days", limit=5, unit="days"), "training_days"),
])
def test_every_version_1_kind_upgrades(old, kind):
    assert is_v1_constraint(old)
    (new,) = load_constraint(old)
    assert new.kind == kind


def test_version_1_hard_keeps_its_meaning_and_a_bad_old_rule_still_loads():
    (new,) = upgrade_constraint(dict(V1, kind="max_hard_sessions", limit=2, unit="sessions"))
    assert "sweet_spot" not in model.expand_types(new.types)
    old = {"constraints": [dict(V1, kind="rest_days", days=list(model.DAYS), source_text="rest every day"),
                           dict(V1, kind="max_weekly_hours", limit=8, unit="h", source_text="max 8 h a week")],
           "confidence_score": 1.0, "suggestions": [], "unparsed": [], "conflicts": []}
    result = upgrade_rule_parse(old, "rest every day, max 8 h a week")
    assert isinstance(result, ParseResult) and result.parser == "upgrade"
    assert result.status == "partial" and [x.kind for x in result.constraints] == ["weekly_volume"]
    assert result.unparsed[0].text == "rest every day" and "no longer applies" in result.unparsed[0].suggestion
