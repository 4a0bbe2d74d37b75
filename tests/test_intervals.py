"""Intervals in every ride (core.rides.intervals) and per-interval compliance against a structured workout's
steps (core.coach.compliance)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.coach.compliance import align, judge, ride_compliance, work_steps, workout_steps
from core.coach.workouts import STEPS, Step, flatten, total_minutes
from core.files.fit import read_fit
from core.files.streams import ActivityStreams
from core.rides.intervals import bouts, estimated_ftp, find_intervals
from core.rides.store import get_ride, store_ride
from tests.test_workouts import SST_3X12

ROOT = Path(__file__).resolve().parent.parent
FTP = 250.0


def ridden(items, achieved: dict[int, tuple[float, int]] | None = None, seed: int = 1, lead_in_s: int = 0):
    """1 Hz power for a workout: each step at its mean target (± noise); ``achieved`` overrides the work steps
    by their order: {n: (% FTP, seconds)}."""
    rng = np.random.default_rng(seed)
    power, work = [np.full(lead_in_s, 0.5 * FTP)], 0
    for step in flatten(items):
        pct, seconds = step.mean_pct, step.duration_s
        if step.kind == "work":
            work += 1
            pct, seconds = (achieved or {}).get(work, (pct, seconds))
        power.append(pct / 100 * FTP + rng.normal(0, 0.06 * FTP, seconds))
    power = np.clip(np.concatenate(power), 0, None)
    return np.arange(len(power), dtype=float), power


def test_three_sweet_spot_intervals_are_found_with_their_duration_and_intensity():
    t, power = ridden(STEPS.validate_python(SST_3X12))
    found = find_intervals(t, power=power, ftp_w=FTP, cadence=np.full(len(t), 90.0))
    assert len(found) == 3
    for bout, start in zip(found, (600, 1620, 2640), strict=True):
        assert bout["start_s"] == pytest.approx(start, abs=10) and bout["duration_s"] == pytest.approx(720, abs=15)
        assert bout["pct_ftp"] == pytest.approx(91, abs=2) and bout["zone"] == "Z4 threshold"
        assert bout["np_w"] == pytest.approx(bout["avg_power_w"], rel=0.03)
        assert bout["avg_cadence"] == 90 and bout["basis"] == "power"


def test_a_steady_endurance_ride_has_no_intervals_and_a_sprint_is_one():
    t = np.arange(3600, dtype=float)
    power = np.full(3600, 0.65 * FTP) + np.random.default_rng(2).normal(0, 10, 3600)
    assert find_intervals(t, power=power, ftp_w=FTP) == []
    power[1800:1812] = 2.2 * FTP
    (sprint,) = find_intervals(t, power=power, ftp_w=FTP)
    assert sprint["duration_s"] == pytest.approx(12, abs=2) and sprint["zone"] == "Z7 neuromuscular"


def test_a_short_dip_does_not_split_an_interval_but_a_recovery_does():
    x = np.concatenate([np.zeros(100), np.full(120, 300.0), np.full(6, 100.0), np.full(120, 300.0),
                        np.zeros(60), np.full(120, 300.0), np.zeros(100)])
    assert [b[1] - b[0] + 1 for b in bouts(x, 220.0, 190.0)] == [246, 120]


def test_without_power_heart_rate_finds_the_bouts_and_without_either_speed_does():
    t = np.arange(3000, dtype=float)
    hr = np.where((t > 600) & (t < 1200) | (t > 1800) & (t < 2400), 162.0, 120.0)
    (first, second) = find_intervals(t, hr=hr, lthr=165)
    assert first["basis"] == "hr" and first["duration_s"] == pytest.approx(600, abs=15)
    speed = np.where((t > 1000) & (t < 1300), 12.0, 8.0)
    (fast,) = find_intervals(t, speed=speed)
    assert fast["basis"] == "speed" and fast["avg_speed_kmh"] == pytest.approx(43.2, abs=0.5)


def test_without_ftp_the_ride_estimates_it_from_its_best_20_minutes():
    t, power = ridden(STEPS.validate_python(SST_3X12))
    best_20min = pd.Series(power).rolling(1200).mean().max()
    assert estimated_ftp(power) == pytest.approx(0.95 * best_20min)
    assert estimated_ftp(power[:1000]) is None
    found = find_intervals(t, power=power)
    assert found and all(b["ftp_estimated"] for b in found)


@pytest.mark.parametrize("power", [np.full(600, np.nan), np.zeros(600), None])
def test_rides_without_usable_signals_have_no_intervals(power):
    assert find_intervals(np.arange(600, dtype=float), power=power, ftp_w=FTP) == []
    assert find_intervals(np.arange(3, dtype=float), power=np.full(3, 900.0), ftp_w=FTP) == []


def test_a_real_ride_gets_intervals_stored_with_its_metrics(cur, athlete_id, data_dir):
    data = (data_dir / "rides" / "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit").read_bytes()
    stored = store_ride(cur, athlete_id, read_fit(data, "edge810.fit"), source="file", external_id="e810")
    intervals = get_ride(cur, athlete_id, stored.id)["metrics"]["intervals"]
    assert len(intervals) >= 3
    assert all(i["avg_power_w"] >= 0.75 * 250 and i["duration_s"] >= 8 for i in intervals)
    starts = [i["start_s"] for i in intervals]
    assert starts == sorted(starts)


# --------------------------------------------------------------------------------------------- compliance

def test_work_steps_are_work_and_tempo_or_harder_steady_steps_in_riding_order():
    items = STEPS.validate_python(SST_3X12 + [{"kind": "steady", "duration_s": 600, "power_low_pct": 76,
                                               "power_high_pct": 85}])
    steps = work_steps(items)
    assert [s.kind for _, s in steps] == ["work", "work", "work", "steady"]
    assert [offset for offset, _ in steps] == [600, 1620, 2640, 4260]


def test_each_interval_is_judged_against_its_own_step():
    items = STEPS.validate_python(SST_3X12)
    t, power = ridden(items, achieved={2: (99.0, 720), 3: (90.0, 480)})
    result = judge(items, find_intervals(t, power=power, ftp_w=FTP, on_frac=0.79, off_frac=0.69), FTP)
    verdicts = [(s["power"], s["duration"]) for s in result["steps"]]
    assert verdicts == [("on target", "as planned"), ("over", "as planned"), ("on target", "short")]
    assert result["on_target"] == 1 and result["steps"][0]["target_w"] == [220, 235]
    assert "1 of 3" in result["summary"]


def test_a_skipped_interval_is_missed_without_shifting_the_others():
    steps = [Step(kind="work", duration_s=300, power_low_pct=105, power_high_pct=115)] * 2 + \
        [Step(kind="work", duration_s=1200, power_low_pct=88, power_high_pct=94)]
    bouts_ = [{"duration_s": 298, "pct_ftp": 110}, {"duration_s": 1190, "pct_ftp": 90}]
    assert align(steps, bouts_) == [0, None, 1]


def _plan_with_workout(cur, athlete_id: int, ride_id: int, day: date, targets: dict, minutes: float = 76) -> int:
    plan_id = cur.execute(
        "INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, active, plan) "
        "VALUES (?, 'P', ?, ?, 1, true, '{}') RETURNING id", [athlete_id, day, day]).fetchone()[0]
    return cur.execute(
        "INSERT INTO planned_workouts (plan_id, date, type, duration_min, targets, completed_ride_id) "
        "VALUES (?, ?, 'sweet_spot', ?, ?, ?) RETURNING id", [plan_id, day, minutes, json.dumps(targets), ride_id]
    ).fetchone()[0]


def test_a_ride_that_completed_a_structured_workout_is_judged_per_interval(db_path):
    from core.athletes import AthleteProfile, create_athlete
    from core.store.db import connect

    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Plan", ftp_w=FTP, weight_kg=70))
    items = STEPS.validate_python(SST_3X12)
    t, power = ridden(items, achieved={3: (80.0, 720)}, lead_in_s=240)
    started = datetime(2025, 3, 4, 18, tzinfo=UTC)
    streams = ActivityStreams(lat=np.full(len(t), np.nan), lon=np.full(len(t), np.nan), ele=np.full(len(t), np.nan),
                              dist_m=t * 8.0, t_s=t, power=power, started_at=started)
    stored = store_ride(cur, athlete_id, streams, source="file", external_id="sst")
    # as long as its steps (a longer workout's steps are filled up to its duration: core.coach.devices)
    workout = _plan_with_workout(cur, athlete_id, stored.id, started.date(), {"zone": "sweet spot", "steps": SST_3X12},
                                 minutes=total_minutes(items))
    assert workout_steps(cur, workout) == items
    result = ride_compliance(cur, athlete_id, stored.id)
    assert result["workout_id"] == workout and result["work_steps"] == 3
    assert [s["power"] for s in result["steps"]] == ["on target", "on target", "under"]
    assert result["steps"][2]["achieved_pct"] == pytest.approx(80, abs=2)
    db.close()
    detail = subprocess.run([sys.executable, "-m", "core", "--db", str(db_path), "ride", str(stored.id), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert detail.returncode == 0, detail.stderr
    report = json.loads(detail.stdout)
    assert len(report["intervals"]) >= 2 and report["compliance"]["on_target"] == 2


def test_a_workout_without_valid_steps_gives_no_compliance(cur, athlete_id):
    t = np.arange(1800, dtype=float)
    streams = ActivityStreams(lat=np.full(1800, np.nan), lon=np.full(1800, np.nan), ele=np.full(1800, np.nan),
                              dist_m=t * 8, t_s=t, power=np.full(1800, 200.0),
                              started_at=datetime(2025, 3, 5, tzinfo=UTC))
    stored = store_ride(cur, athlete_id, streams, source="file", external_id="plain")
    workout = _plan_with_workout(cur, athlete_id, stored.id, date(2025, 3, 5),
                                 {"steps": [{"kind": "work", "duration_s": 1}]})  # invalid: too short
    assert workout_steps(cur, workout) is None and ride_compliance(cur, athlete_id, stored.id) is None


def test_a_workout_without_steps_is_judged_against_the_steps_its_device_got(cur, athlete_id):
    from core.coach.devices import fallback_steps

    day = date(2025, 3, 6)
    workout = {"date": str(day), "type": "sweet_spot", "duration_min": 76, "target": {}}
    items = fallback_steps(workout)
    t, power = ridden(items)
    streams = ActivityStreams(lat=np.full(len(t), np.nan), lon=np.full(len(t), np.nan), ele=np.full(len(t), np.nan),
                              dist_m=t * 8.0, t_s=t, power=power, started_at=datetime(2025, 3, 6, 18, tzinfo=UTC))
    stored = store_ride(cur, athlete_id, streams, source="file", external_id="fallback")
    workout_id = _plan_with_workout(cur, athlete_id, stored.id, day, {})
    assert workout_steps(cur, workout_id) == items
    result = ride_compliance(cur, athlete_id, stored.id)
    assert result["work_steps"] == len(work_steps(items)) >= 2
    assert result["on_target"] == result["work_steps"]


def test_linking_keeps_the_compliance_and_a_changed_workout_or_ftp_is_judged_afresh(cur, athlete_id):
    from core.athletes import set_ftp
    from core.coach.matching import link_completed_rides

    items = STEPS.validate_python(SST_3X12)
    t, power = ridden(items, achieved={3: (80.0, 720)}, lead_in_s=240)
    started = datetime(2025, 3, 4, 18, tzinfo=UTC)
    streams = ActivityStreams(lat=np.full(len(t), np.nan), lon=np.full(len(t), np.nan), ele=np.full(len(t), np.nan),
                              dist_m=t * 8.0, t_s=t, power=power, started_at=started)
    set_ftp(cur, athlete_id, FTP, date(2024, 1, 1), today=date(2025, 1, 1))
    ride = store_ride(cur, athlete_id, streams, source="file", external_id="sst-kept").id
    workout = _plan_with_workout(cur, athlete_id, None, started.date(), {"zone": "sweet spot", "steps": SST_3X12},
                                 minutes=total_minutes(items))
    fresh = ride_compliance(cur, athlete_id, ride)
    assert fresh is None  # not linked yet
    assert link_completed_rides(cur, athlete_id) == 1
    stored, key = cur.execute("SELECT compliance, compliance_key FROM rides WHERE id = ?", [ride]).fetchone()
    assert key and json.loads(stored)["workout_id"] == workout
    # a ride with nothing stored (a database from before migration 011) gets it at the next link, new or not
    cur.execute("UPDATE rides SET compliance = NULL, compliance_key = NULL WHERE id = ?", [ride])
    assert link_completed_rides(cur, athlete_id) == 0
    assert cur.execute("SELECT compliance_key FROM rides WHERE id = ?", [ride]).fetchone()[0] == key
    kept = ride_compliance(cur, athlete_id, ride)
    assert [s["power"] for s in kept["steps"]] == ["on target", "on target", "under"]
    assert kept["date"] == started.date() and kept["ftp_w"] == FTP
    # what is read back is what the samples give: the stored copy is the computation, not an approximation
    cur.execute("UPDATE rides SET compliance_key = 'stale' WHERE id = ?", [ride])
    assert ride_compliance(cur, athlete_id, ride) == kept
    cur.execute("UPDATE rides SET compliance_key = ? WHERE id = ?", [key, ride])
    # while the key matches, the stored copy is what a reader gets (no samples read)
    cur.execute("UPDATE rides SET compliance = ? WHERE id = ?", [json.dumps({**json.loads(stored), "summary": "kept"}),
                                                                 ride])
    assert ride_compliance(cur, athlete_id, ride)["summary"] == "kept"
    # the workout changes (its intervals are now tempo, 76-84 %): the stored verdicts no longer apply
    easier = json.loads(json.dumps(SST_3X12))
    easier[1]["steps"][0].update(power_low_pct=76, power_high_pct=84)
    cur.execute("UPDATE planned_workouts SET targets = ? WHERE id = ?",
                [json.dumps({"zone": "tempo", "steps": easier}), workout])
    changed = ride_compliance(cur, athlete_id, ride)
    assert changed["steps"] != kept["steps"]
    # the FTP of the ride's day changes: judged afresh with it
    set_ftp(cur, athlete_id, 300.0, date(2025, 3, 1), today=date(2025, 3, 10))
    assert ride_compliance(cur, athlete_id, ride)["ftp_w"] == 300.0
