"""Fitness (CTL/ATL/TSB/ramp): the recursion against its closed form, and the storage read around it."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from core.errors import ValidationError
from core.rides.dashboard import exponential_load, fitness, fitness_on, fitness_series, time_constants
from core.store.db import bump_data_version, transaction


def insert_ride(cur, athlete_id, day: date, tss, *, duplicate_of=None, sport="cycling", distance_m=30_000.0,
                moving_time_s=3600.0, elevation_gain_m=300.0, avg_power_w=200.0, avg_hr=140.0, metrics=None,
                name=None, hour=12):
    started = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    ride_id = cur.execute(
        "INSERT INTO rides (athlete_id, source, external_id, duplicate_of, name, sport_type, started_at, "
        "moving_time_s, elapsed_time_s, distance_m, elevation_gain_m, tss, avg_power_w, avg_hr, metrics) "
        "VALUES (?, 'file', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [athlete_id, f"{day}-{hour}-{tss}-{duplicate_of}-{sport}-{distance_m}", duplicate_of,
         name or f"Ride {day}", sport, started, moving_time_s, moving_time_s, distance_m, elevation_gain_m, tss,
         avg_power_w, avg_hr, json.dumps(metrics or {})]).fetchone()[0]
    bump_data_version(cur)
    return ride_id


def test_constant_load_matches_the_closed_form():
    # With constant daily TSS T from zero, x_n = T·(1 − e^(−n/τ)).
    n = np.arange(1, 201)
    ctl = exponential_load(np.full(200, 100.0), 42)
    atl = exponential_load(np.full(200, 100.0), 7)
    assert np.allclose(ctl, 100 * (1 - np.exp(-n / 42)))
    assert np.allclose(atl, 100 * (1 - np.exp(-n / 7)))


def test_a_single_ride_decays_exponentially():
    tss = np.zeros(60)
    tss[0] = 210.0
    series = fitness_series(tss, date(2024, 1, 1))
    k = np.arange(60)
    assert np.allclose(series.ctl, 210 * (1 - math.exp(-1 / 42)) * np.exp(-k / 42))
    assert np.allclose(series.atl, 210 * (1 - math.exp(-1 / 7)) * np.exp(-k / 7))
    # TSB is yesterday's CTL − ATL: 0 going into the ride day, negative the day after.
    assert series.tsb[0] == 0.0
    assert series.tsb[1] == pytest.approx(series.ctl[0] - series.atl[0])
    assert series.tsb[1] < 0
    # Ramp is CTL − CTL seven days earlier (0 before the series).
    assert series.ramp[3] == pytest.approx(series.ctl[3])
    assert series.ramp[10] == pytest.approx(series.ctl[10] - series.ctl[3])


def test_a_non_positive_time_constant_is_refused():
    with pytest.raises(ValidationError, match="positive"):
        exponential_load([1, 2, 3], 0)


def test_rest_days_count_as_zero_and_duplicates_are_ignored(cur, athlete_id):
    start = date(2024, 3, 1)
    with transaction(cur):
        first = insert_ride(cur, athlete_id, start, 100.0)
        insert_ride(cur, athlete_id, start, 100.0, duplicate_of=first, hour=13)
        insert_ride(cur, athlete_id, start + timedelta(days=3), 50.0)
    frame = fitness(cur, athlete_id, start, start + timedelta(days=5), today=date(2024, 6, 1))
    expected = fitness_series([100, 0, 0, 50, 0, 0], start)
    assert list(frame["tss"]) == [100, 0, 0, 50, 0, 0]
    assert np.allclose(frame["ctl"], expected.ctl)
    assert np.allclose(frame["atl"], expected.atl)
    assert np.allclose(frame["tsb"], expected.tsb)


def test_fitness_on_a_day_starts_from_the_first_ride(cur, athlete_id):
    start = date(2024, 1, 1)
    with transaction(cur):
        for i in range(30):
            insert_ride(cur, athlete_id, start + timedelta(days=i), 80.0)
    day = start + timedelta(days=40)
    got = fitness_on(cur, athlete_id, day, today=date(2024, 12, 31))
    tss = np.zeros(41)
    tss[:30] = 80.0
    expected = fitness_series(tss, start)
    assert got["ctl"] == pytest.approx(expected.ctl[-1], abs=1e-3)
    assert got["atl"] == pytest.approx(expected.atl[-1], abs=1e-3)
    assert got["tsb"] == pytest.approx(expected.ctl[-2] - expected.atl[-2], abs=1e-3)
    assert got["ramp"] == pytest.approx(expected.ctl[-1] - expected.ctl[-8], abs=1e-3)


def test_an_athlete_without_rides_has_zero_fitness(cur, athlete_id):
    assert fitness_on(cur, athlete_id, date(2024, 5, 1)) == {"ctl": 0.0, "atl": 0.0, "tsb": 0.0, "ramp": 0.0}


def test_time_constants_come_from_preferences(cur, athlete_id):
    assert time_constants(cur, athlete_id) == (42.0, 7.0)
    cur.execute("UPDATE athletes SET preferences = ? WHERE id = ?",
                [json.dumps({"ctl_days": 28, "atl_days": 5}), athlete_id])
    assert time_constants(cur, athlete_id) == (28.0, 5.0)
    with transaction(cur):
        insert_ride(cur, athlete_id, date(2024, 1, 1), 100.0)
    got = fitness_on(cur, athlete_id, date(2024, 1, 1), today=date(2024, 2, 1))
    assert got["ctl"] == pytest.approx(100 * (1 - math.exp(-1 / 28)), abs=1e-3)
    assert got["atl"] == pytest.approx(100 * (1 - math.exp(-1 / 5)), abs=1e-3)


def test_nonsense_time_constants_fall_back_to_the_defaults(cur, athlete_id):
    cur.execute("UPDATE athletes SET preferences = ? WHERE id = ?",
                [json.dumps({"ctl_days": "lots", "atl_days": -3}), athlete_id])
    assert time_constants(cur, athlete_id) == (42.0, 7.0)


def test_future_days_are_projected_from_the_active_plan(cur, athlete_id):
    today = date(2024, 4, 10)
    with transaction(cur):
        insert_ride(cur, athlete_id, today - timedelta(days=2), 100.0)
        plan_id = cur.execute(
            "INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, active, plan) "
            "VALUES (?, 'Build', ?, ?, 2, true, '{}') RETURNING id",
            [athlete_id, today - timedelta(days=3), today + timedelta(days=10)]).fetchone()[0]
        cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, tss) VALUES "
                    "(?, ?, 'endurance', 120, 90), (?, ?, 'intervals', 60, 70)",
                    [plan_id, today + timedelta(days=1), plan_id, today - timedelta(days=1)])
    frame = fitness(cur, athlete_id, today - timedelta(days=2), today + timedelta(days=2), today=today)
    # Past days use what was ridden (the missed planned workout counts 0); future days the plan.
    assert list(frame["tss"]) == [100, 0, 0, 90, 0]
    assert list(frame["projected"]) == [False, False, False, True, True]
    # Without an explicit end, the projection runs to the plan's end.
    assert fitness(cur, athlete_id, today=today)["date"].iloc[-1] == today + timedelta(days=10)
