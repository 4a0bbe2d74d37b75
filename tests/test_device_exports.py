"""Device exports: steps of planned workouts (own or fallback), .zwo against Zwift's own tag set, .fit read by
Garmin's SDK and by fit-tool, .mrc/.erg courses, ICS steps, ZIPs, and hostile names."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring
from icalendar import Calendar

from core.coach.device_files import device_files, erg_bytes, mrc_bytes, zip_bytes, zwo_bytes
from core.coach.devices import (
    clean_text,
    fallback_steps,
    planned_rides,
    slug,
    step_lines,
    workout_steps,
    workout_title,
)
from core.coach.fit_workout import fit_bytes, step_messages
from core.coach.plans.export import export_ics
from core.coach.plans.generate import generate_plan
from core.coach.plans.schema import INTERVALS, ZONES
from core.coach.plans.store import get_plan, save_plan
from core.coach.workouts import Repeat, Step, flatten, total_seconds
from core.errors import ValidationError
from tests.device_helpers import course_points, decode_fit, fit_tool_steps

TODAY = date(2027, 2, 26)
CREATED = datetime(2027, 2, 26, 8, 0)
HOSTILE = "<b>Tempo</b> & \"quotes\" 'x' ]]> \x00\x01\x1b[31m\u202e évasion 🚴 " + "very long " * 60
LIBRARY_STEPS = [  # the shape the workout library writes into the plan JSON
    {"kind": "warmup", "duration_s": 600, "power_low_pct": 45, "power_high_pct": 75, "cadence_rpm": 90},
    {"kind": "repeat", "count": 3, "steps": [
        {"kind": "work", "duration_s": 120, "power_low_pct": 100, "power_high_pct": 105},
        {"kind": "work", "duration_s": 60, "power_low_pct": 88, "power_high_pct": 92, "text": "settle <under>"},
        {"kind": "recovery", "duration_s": 180, "power_low_pct": 50, "power_high_pct": 55}]},
    {"kind": "repeat", "count": 4, "steps": [
        {"kind": "work", "duration_s": 240, "power_low_pct": 106, "power_high_pct": 112, "cadence_rpm": 100},
        {"kind": "recovery", "duration_s": 240, "power_low_pct": 50, "power_high_pct": 50}]},
    {"kind": "ramp", "duration_s": 300, "power_low_pct": 60, "power_high_pct": 90},
    {"kind": "free", "duration_s": 300},
    {"kind": "cooldown", "duration_s": 600, "power_low_pct": 65, "power_high_pct": 45},
]


def _target(kind: str, ftp: float, indoor: bool) -> dict:
    """A workout target as plans saved before the workout library stored it (zone, watts, interval text)."""
    if kind == "rest":
        return {"indoor": False}
    zone, low, high = ZONES[kind]
    target = {"zone": zone, "power_w": [round(ftp * low), round(ftp * high)], "indoor": indoor}
    if kind not in ("endurance", "long", "recovery", "race"):
        target["intervals"] = INTERVALS[kind]
    return target


def workout(kind: str, minutes: float, ftp: float = 250, **extra) -> dict:
    return {"date": "2027-03-04", "type": kind, "duration_min": minutes, "tss": 60.0,
            "target": _target(kind, ftp, False), "description": "", **extra}


def plan_row(workouts: list[dict], name: str = "Spring build", weeks: int = 1) -> dict:
    per_week = [{"week": n + 1, "start_date": "2027-03-01", "phase": "build", "planned_hours": 1,
                 "planned_tss": 1, "workouts": workouts} for n in range(weeks)]
    return {"id": 7, "name": name, "version": 1, "plan": {"weeks": per_week}}


def zwift_reference(data_dir) -> dict[str, dict]:
    doc = json.loads((data_dir / "zwo" / "h4l__tag_attr_usage.json").read_text(encoding="utf-8"))
    return {e["tag"]: {"attributes": set(e["attributes"]), "parents": {p[-1] for p in e["paths"] if p}}
            for e in doc["elements"]}


# ------------------------------------------------------------------------------------------- steps and fallback
@pytest.mark.parametrize(("kind", "minutes"), [("recovery", 45), ("endurance", 90), ("long", 240), ("tempo", 120),
                                               ("sweet_spot", 75), ("threshold", 60), ("vo2max", 60),
                                               ("anaerobic", 60), ("race", 180), ("threshold", 20),
                                               ("sweet_spot", 17), ("vo2max", 33.3)])
def test_the_fallback_fills_the_planned_duration_exactly(kind, minutes):
    steps = fallback_steps(workout(kind, minutes))
    assert total_seconds(steps) == round(minutes * 60)
    flat = flatten(steps)
    if minutes >= 30:
        assert flat[0].kind == "warmup"
        assert flat[-1].kind == ("free" if kind == "race" else "cooldown")


@pytest.mark.parametrize(("kind", "low", "high"), [("threshold", 95, 105), ("vo2max", 106, 120),
                                                   ("sweet_spot", 88, 94)])
def test_fallback_key_sessions_hold_work_steps_in_their_zone(kind, low, high):
    steps = fallback_steps(workout(kind, 75))
    work = [s for s in flatten(steps) if s.kind == "work"]
    assert work and all(s.duration_s >= 120 and (s.power_low_pct, s.power_high_pct) == (low, high) for s in work)


def test_a_type_the_fallback_does_not_know_still_exports_as_a_free_ride():
    steps = fallback_steps({"date": "2027-03-04", "type": "ftp_test", "duration_min": 60,
                            "description": "Ramp test\nto exhaustion"})
    assert [(s.kind, s.duration_s, s.text) for s in steps] == [("free", 3600, "Ramp test to exhaustion")]
    assert workout_title({"type": "ftp_test", "duration_min": 60}, steps) == "Ftp Test 60 min"


def test_the_engines_interval_text_sets_the_main_set():
    w = workout("threshold", 90)
    w["target"]["intervals"] = "3 × 15 min"
    (block,) = [i for i in fallback_steps(w) if isinstance(i, Repeat)]
    assert (block.count, block.steps[0].duration_s) == (3, 900)
    assert workout_title(w, fallback_steps(w)) == "Threshold 3×15"


def test_route_climbs_become_work_steps_at_their_pacing_power():
    w = workout("threshold", 90)
    w["target"]["climbs"] = [{"name": "Col <du> Test", "duration_min": 12.0, "avg_grade_pct": 7.1, "power_w": 250},
                             {"name": "Short one", "duration_min": 6.0, "avg_grade_pct": 5.0, "power_w": 263}]
    work = [s for s in flatten(fallback_steps(w)) if s.kind == "work"]
    assert [(s.duration_s, s.power_low_pct, s.power_high_pct) for s in work] == [(720, 97.5, 102.5),
                                                                                  (360, 102.7, 107.7)]
    assert all(s.cadence_rpm == 75 for s in work) and "Col <du> Test" in work[0].text


def test_a_workouts_own_steps_win_over_the_fallback_and_bad_ones_are_refused():
    own = workout("vo2max", 80, steps=LIBRARY_STEPS)
    assert workout_steps(own)[1].count == 3 and total_seconds(workout_steps(own)) == 4800
    broken = workout("vo2max", 80, steps=[{"kind": "work", "duration_s": 60}])
    with pytest.raises(ValidationError, match="2027-03-04"):
        workout_steps(broken)
    assert workout_steps(workout("rest", 0)) == []


def test_step_lines_give_percent_and_watts_at_the_export_days_ftp():
    lines = step_lines(fallback_steps(workout("threshold", 75)), 300)
    assert lines[0] == "11 min warm-up 45→70 % FTP (135→210 W)"
    assert lines[1] == "2 × (20 min work 95–105 % FTP (285–315 W); 5 min recovery 50–55 % FTP (150–165 W))"
    assert "W)" not in " ".join(step_lines(fallback_steps(workout("threshold", 75)), None))


# ----------------------------------------------------------------------------------------------------------- .zwo
def test_zwo_uses_only_zwifts_own_elements_and_attributes_where_zwift_uses_them(data_dir):
    reference = zwift_reference(data_dir)
    steps = workout_steps(workout("vo2max", 80, steps=LIBRARY_STEPS))
    root = ET.fromstring(zwo_bytes("VO2 mix", steps, description="x", tags=["VeloCoach", "VO2max"]))
    parents = {child: parent for parent in root.iter() for child in parent}
    for el in root.iter():
        assert el.tag in reference, el.tag
        assert set(el.attrib) <= reference[el.tag]["attributes"], (el.tag, el.attrib)
        if el in parents:
            assert parents[el].tag in reference[el.tag]["parents"], (el.tag, parents[el].tag)
    assert [c.tag for c in root.find("workout")] == ["Warmup", "SteadyState", "SteadyState", "SteadyState",
                                                     "SteadyState", "SteadyState", "SteadyState", "SteadyState",
                                                     "SteadyState", "SteadyState", "IntervalsT", "Ramp",
                                                     "FreeRide", "Cooldown"]


def test_zwo_targets_are_fractions_of_ftp_with_repeats_as_intervals_and_ramps_start_to_end():
    root = ET.fromstring(zwo_bytes("T", workout_steps(workout("vo2max", 80, steps=LIBRARY_STEPS))))
    body = list(root.find("workout"))
    interval = body[10]
    assert interval.attrib == {"Repeat": "4", "OnDuration": "240", "OffDuration": "240", "OnPower": "1.09",
                               "OffPower": "0.5", "Cadence": "100"}
    assert body[0].attrib == {"Duration": "600", "PowerLow": "0.45", "PowerHigh": "0.75", "Cadence": "90"}
    assert body[-1].attrib == {"Duration": "600", "PowerLow": "0.65", "PowerHigh": "0.45"}
    assert body[2].find("textevent").get("message") == "settle <under>"
    total = sum(int(e.get("Duration", 0)) for e in body) + 4 * 480
    assert total == 4800
    assert root.findtext("sportType") == "bike" and root.findtext("author") == "VeloCoach"


def test_zwo_escapes_hostile_text_and_stays_well_formed():
    data = zwo_bytes(HOSTILE, fallback_steps(workout("tempo", 60)), description=HOSTILE, tags=[HOSTILE, "a&b"])
    root = safe_fromstring(data)  # defusedxml: well-formed, no entities
    name = root.findtext("name")
    assert name.startswith("<b>Tempo</b> & \"quotes\"") and len(name) <= 80
    assert not any(ord(c) < 32 for c in name) and "\u202e" in name  # visible text kept, controls dropped
    assert b"<b>" not in data and b"&lt;b&gt;" in data
    assert [t.get("name") for t in root.iter("tag")][1] == "a&b"


# ----------------------------------------------------------------------------------------------------------- .fit
def test_fit_files_decode_with_garmins_sdk_as_a_cycling_workout_with_power_targets():
    steps = workout_steps(workout("vo2max", 80, steps=LIBRARY_STEPS))
    messages, errors = decode_fit(fit_bytes("VO2 mix", steps, ftp_w=250, created=CREATED, serial_key="k"))
    assert errors == []
    (file_id,) = messages["file_id_mesgs"]
    assert file_id["type"] == "workout" and file_id["manufacturer"] == "development"
    (wkt,) = messages["workout_mesgs"]
    fit_steps = messages["workout_step_mesgs"]
    assert wkt["sport"] == "cycling" and wkt["wkt_name"] == "VO2 mix" and wkt["num_valid_steps"] == len(fit_steps)
    timed = [s for s in fit_steps if s["duration_type"] == "time"]
    expected = [s for item in steps for s in (item.steps if isinstance(item, Repeat) else [item])]
    assert [s["duration_value"] for s in timed] == [s.duration_s * 1000 for s in expected]
    powered = [s for s in timed if s["target_type"] == "power"]
    assert len(powered) == len(timed) - 1  # the free ride is open
    assert [(s["custom_target_value_low"], s["custom_target_value_high"]) for s in powered][:4] == \
        [(45, 75), (100, 105), (88, 92), (50, 55)]
    repeats = [s for s in fit_steps if s["duration_type"] == "repeat_until_steps_cmplt"]
    assert [(s["duration_value"], s["target_value"]) for s in repeats] == [(1, 3), (5, 4)]
    assert fit_steps[0]["secondary_target_type"] == "cadence"
    assert (fit_steps[0]["secondary_custom_target_value_low"], fit_steps[0]["secondary_custom_target_value_high"]) \
        == (85, 95)
    assert "45→75 % FTP (112→188 W)" == fit_steps[0]["notes"]


def test_fit_tool_reads_the_same_steps_as_garmins_sdk():
    steps = fallback_steps(workout("sweet_spot", 90))
    data = fit_bytes("SST", steps, ftp_w=250, created=CREATED)
    messages, _ = decode_fit(data)
    wkt, other = fit_tool_steps(data)
    assert wkt["name"] == "SST" and wkt["sport"] == 2  # cycling
    sdk = messages["workout_step_mesgs"]
    assert len(other) == len(sdk) == wkt["num_valid_steps"]
    for mine, theirs in zip(sdk, other, strict=True):
        assert theirs["index"] == mine["message_index"]
        if mine["duration_type"] == "time":
            assert theirs["duration_value"] * 1000 == mine["duration_value"]  # fit-tool scales to seconds
            assert (theirs["low"], theirs["high"]) == (mine["custom_target_value_low"],
                                                       mine["custom_target_value_high"])
            assert theirs["target_type"] == 4  # power
        else:
            assert (theirs["duration_type"], theirs["target_value"]) == (6, mine["target_value"])


def test_fit_strings_are_cut_on_character_boundaries_and_hostile_text_is_cleaned():
    steps = [Step(kind="steady", duration_s=600, power_low_pct=60, power_high_pct=70, text="é" * 200)]
    data = fit_bytes(HOSTILE, steps, description=HOSTILE, ftp_w=250, created=CREATED)
    messages, errors = decode_fit(data)
    assert errors == []
    name = messages["workout_mesgs"][0]["wkt_name"]
    assert len(name.encode()) <= 40 and name.startswith("<b>Tempo</b>") and "\x00" not in name
    assert len(messages["workout_mesgs"][0]["wkt_description"].encode()) <= 254
    assert messages["workout_step_mesgs"][0]["notes"].endswith("é")  # no half character


def test_fit_step_messages_count_repeats_like_garmins_cookbook():
    msgs = step_messages([Repeat(count=5, steps=[Step(kind="work", duration_s=60, power_low_pct=120,
                                                      power_high_pct=130)])])
    assert [m["duration_type"] for m in msgs] == ["time", "repeat_until_steps_cmplt"]
    assert (msgs[1]["duration_value"], msgs[1]["target_value"]) == (0, 5)


# ------------------------------------------------------------------------------------------------- .mrc / .erg
def test_mrc_is_a_percent_course_with_flat_steps_and_linear_ramps():
    steps = fallback_steps(workout("threshold", 75))
    fields, units, points = course_points(mrc_bytes("Threshold <2×20>", "2027-03-04_threshold_2x20", steps))
    assert units == "MINUTES PERCENT" and fields["FILE NAME"] == "2027-03-04_threshold_2x20"
    assert points[0] == (0.0, 45.0) and points[1] == (11.0, 70.0)  # the warm-up ramp
    assert points[2] == (11.0, 100.0) and points[3] == (31.0, 100.0)  # a flat 20-min interval
    assert points[-1] == (75.0, 40.0)
    times = [t for t, _ in points]
    assert times == sorted(times)


def test_erg_uses_watts_at_the_export_days_ftp_and_needs_an_ftp():
    steps = fallback_steps(workout("threshold", 75))
    fields, units, points = course_points(erg_bytes("T", "t", steps, 280))
    assert units == "MINUTES WATTS" and fields["FTP"] == "280" and points[2] == (11.0, 280.0)
    with pytest.raises(ValidationError, match="FTP"):
        erg_bytes("T", "t", steps, 0)


def test_course_headers_stay_on_one_line_whatever_the_name():
    fields, _, _ = course_points(mrc_bytes("a\nFTP = 999\r\n[COURSE DATA]\n" + HOSTILE, "s",
                                           fallback_steps(workout("tempo", 60))))
    assert "FTP" not in fields and fields["DESCRIPTION"].startswith("a FTP = 999 [COURSE DATA]")


# ---------------------------------------------------------------------------------------- files, names, ZIPs
def test_file_names_are_sanitised_dated_and_unique():
    rides = [workout("threshold", 75, name="../../etc/passwd"), workout("threshold", 75, name="../../etc/passwd"),
             workout("endurance", 60, name=HOSTILE), workout("rest", 0)]
    files = device_files(plan_row(rides), "zwo", ftp_w=250)
    names = [f.name for f in files]
    assert names[:2] == ["2027-03-04_etc_passwd.zwo", "2027-03-04_etc_passwd_2.zwo"]
    assert names[2].startswith("2027-03-04_b_tempo_b_quotes_x_31m_evasion_very_long") and len(names[2]) <= 80
    assert all(set(n) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_.") for n in names)
    assert slug("×××") == "xxx" and slug("🚴") == "workout"


def test_a_zip_holds_one_member_per_file_and_is_reproducible():
    files = device_files(plan_row([workout("vo2max", 60), workout("tempo", 90)], weeks=2), "fit", ftp_w=250,
                         week=2, created=CREATED)
    data = zip_bytes(files)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["2027-03-04_vo2max_5x4.fit", "2027-03-04_tempo_3x15.fit"]
        assert archive.testzip() is None
        assert decode_fit(archive.read("2027-03-04_vo2max_5x4.fit"))[1] == []
    assert zip_bytes(device_files(plan_row([workout("vo2max", 60), workout("tempo", 90)], weeks=2), "fit",
                                  ftp_w=250, week=2, created=CREATED)) == data


def test_plans_without_rides_or_weeks_export_nothing_and_a_missing_week_is_named():
    assert device_files(plan_row([workout("rest", 0)]), "zwo", ftp_w=250) == []
    assert device_files({"id": 1, "name": "empty", "plan": {"weeks": []}}, "mrc", ftp_w=None) == []
    with pytest.raises(ValidationError, match="no week 3"):
        planned_rides(plan_row([workout("tempo", 60)]), week=3)
    with pytest.raises(ValidationError, match="Unknown device format"):
        device_files(plan_row([workout("tempo", 60)]), "tcx", ftp_w=250)


def test_commutes_stay_on_the_calendar_but_never_become_device_workouts():
    # Two commutes beside a threshold session on one day: only the session is a workout to follow.
    day = [workout("commute", 30), workout("threshold", 75), workout("commute", 30)]
    for fmt in ("zwo", "fit", "mrc", "erg"):
        assert [f.type for f in device_files(plan_row(day), fmt, ftp_w=250)] == ["threshold"]
    assert [r.type for r in planned_rides(plan_row(day))] == ["threshold"]  # what Garmin Connect is sent
    events = Calendar.from_ical(export_ics(plan_row(day), ftp_w=250, export_day=TODAY)).walk("VEVENT")
    assert sum("ommute" in str(e["summary"]) for e in events) == 2


def test_clean_text_removes_what_xml_and_fit_cannot_hold():
    assert clean_text("a\x00b\x1fc\ud800d\ufffe", 50) == "abcd"
    assert clean_text("line\nbreak", 50, single_line=True) == "line break"
    assert clean_text("x" * 100, 10) == "x" * 9 + "…"


# --------------------------------------------------------------------------------------------------------- ICS
def test_ics_events_carry_the_steps_in_percent_and_watts():
    data = export_ics(plan_row([workout("threshold", 75, description="Threshold <b>")]), ftp_w=300,
                      export_day=TODAY)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    text = str(event["description"])
    assert "watts at your FTP of 300 W on 2027-02-26" in text
    assert "• 2 × (20 min work 95–105 % FTP (285–315 W); 5 min recovery 50–55 % FTP (150–165 W))" in text
    assert "Threshold <b>" in text


# ------------------------------------------------------------------------------- the measured 8-week plan
@pytest.fixture
def saved_plan(cur, athlete_id):
    result = generate_plan(cur, athlete_id, {"duration_weeks": 8, "goals": {"weekly_hours": 9}}, today=TODAY)
    return get_plan(cur, save_plan(cur, athlete_id, result, name="Eight <weeks> & more"), athlete_id)


def test_a_saved_eight_week_plan_exports_one_parsable_file_per_riding_workout(saved_plan, data_dir):
    riding = [w for wk in saved_plan["plan"]["weeks"] for w in wk["workouts"] if w["type"] != "rest"]
    reference = zwift_reference(data_dir)
    zwo = device_files(saved_plan, "zwo", ftp_w=250)
    fit = device_files(saved_plan, "fit", ftp_w=250)
    assert len(zwo) == len(fit) == len(riding) > 20
    assert [f.date for f in zwo] == sorted(w["date"] for w in riding)
    key = {"threshold", "vo2max", "sweet_spot"}
    assert key <= {w["type"] for w in riding}
    for z, f in zip(zwo, fit, strict=True):
        root = safe_fromstring(z.data)
        assert all(el.tag in reference for el in root.iter())
        messages, errors = decode_fit(f.data)
        assert errors == [] and len(messages["workout_mesgs"]) == 1
        steps = messages["workout_step_mesgs"]
        assert any(s.get("target_type") == "power" for s in steps)
        assert len(fit_tool_steps(f.data)[1]) == len(steps)
        if f.type in key:
            work = [s for s in steps if s.get("intensity") == "interval"]
            assert work and all(s["duration_value"] >= 120_000 and
                                90 <= (s["custom_target_value_low"] + s["custom_target_value_high"]) / 2 <= 130
                                for s in work), f.name
