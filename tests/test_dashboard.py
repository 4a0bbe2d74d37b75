"""Dashboard aggregates: totals equal the sum of the rides, zones, season bests, plan compliance."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pandas as pd
import pytest

from core.errors import ValidationError
from core.rides.dashboard import (
    compliance_colour,
    dashboard_data,
    period_totals,
    plan_progress,
    season_bests,
    this_week_vs_last,
    upcoming_workouts,
    zones_per_week,
)
from core.store.db import table_counts, transaction
from tests.test_dashboard_fitness import insert_ride


@pytest.fixture
def season(cur, athlete_id):
    """60 random rides over ~4 months (plus a duplicate and a run) as plain dicts."""
    rng = random.Random(7)
    rides = []
    with transaction(cur):
        for _ in range(60):
            day = date(2024, 1, 3) + timedelta(days=rng.randrange(0, 120))
            ride = dict(day=day, tss=rng.uniform(20, 200), distance_m=rng.uniform(5e3, 150e3),
                        moving_time_s=rng.uniform(1800, 20000), elevation_gain_m=rng.uniform(0, 2500),
                        sport=rng.choice(["cycling", "cycling", "virtual_ride", "gravel"]),
                        avg_power_w=rng.uniform(120, 260), avg_hr=rng.uniform(110, 160))
            ride["id"] = insert_ride(cur, athlete_id, ride["day"], ride["tss"], sport=ride["sport"],
                                     distance_m=ride["distance_m"], moving_time_s=ride["moving_time_s"],
                                     elevation_gain_m=ride["elevation_gain_m"], avg_power_w=ride["avg_power_w"],
                                     avg_hr=ride["avg_hr"], hour=rng.randrange(6, 20))
            rides.append(ride)
        insert_ride(cur, athlete_id, date(2024, 2, 1), 999.0, duplicate_of=rides[0]["id"], distance_m=1e6)
    return rides


def _by(rides, key):
    out: dict = {}
    for ride in rides:
        out.setdefault(key(ride["day"]), []).append(ride)
    return out


@pytest.mark.parametrize("period,key", [
    ("week", lambda d: d - timedelta(days=d.weekday())),
    ("month", lambda d: d.replace(day=1)),
])
def test_period_totals_equal_the_sum_of_the_rides(cur, athlete_id, season, period, key):
    frame = period_totals(cur, athlete_id, period)
    expected = _by(season, key)
    got = {row["period_start"]: row for row in frame.to_dict("records")}
    for start, rides in expected.items():
        row = got[start]
        assert row["rides"] == len(rides)
        for column in ("distance_m", "moving_time_s", "elevation_gain_m"):
            assert row[column] == pytest.approx(sum(r[column] for r in rides))
        assert row["tss"] == pytest.approx(sum(r["tss"] for r in rides))
        weighted = sum(r["avg_power_w"] * r["moving_time_s"] for r in rides) / sum(r["moving_time_s"] for r in rides)
        assert row["avg_power_w"] == pytest.approx(weighted)
    # Periods without rides are present with zero totals; the duplicate ride is not counted anywhere.
    assert set(got) >= set(expected)
    assert all(got[s]["rides"] == 0 for s in set(got) - set(expected))
    assert frame["rides"].sum() == len(season)
    assert frame["distance_m"].sum() == pytest.approx(sum(r["distance_m"] for r in season))


def test_totals_by_sport_add_up_to_the_period_totals(cur, athlete_id, season):
    by_sport = period_totals(cur, athlete_id, "week", by_sport=True)
    plain = period_totals(cur, athlete_id, "week")
    summed = by_sport.groupby("period_start")[["rides", "distance_m", "tss"]].sum()
    nonempty = plain[plain["rides"] > 0].set_index("period_start")
    assert set(by_sport["sport_type"]) == {"cycling", "virtual_ride", "gravel"}
    pd.testing.assert_frame_equal(summed.sort_index(), nonempty[["rides", "distance_m", "tss"]].sort_index(),
                                  check_dtype=False)


def test_a_date_window_keeps_only_its_rides(cur, athlete_id, season):
    start, end = date(2024, 2, 5), date(2024, 2, 25)
    frame = period_totals(cur, athlete_id, "week", start, end)
    inside = [r for r in season if start <= r["day"] <= end]
    assert list(frame["period_start"]) == [date(2024, 2, 5), date(2024, 2, 12), date(2024, 2, 19)]
    assert frame["rides"].sum() == len(inside)


def test_an_athlete_without_rides_gets_empty_totals(cur, athlete_id):
    assert period_totals(cur, athlete_id, "month").empty
    assert zones_per_week(cur, athlete_id).empty
    assert season_bests(cur, athlete_id, 2024).empty
    data = dashboard_data(cur, athlete_id, today=date(2024, 3, 1))
    assert data["plan"] is None and data["plan_progress"] is None and data["upcoming"] == []


def test_an_unknown_period_is_a_clear_error(cur, athlete_id):
    with pytest.raises(ValidationError, match="week"):
        period_totals(cur, athlete_id, "fortnight'; DROP TABLE rides; --")
    assert table_counts(cur)["rides"] == 0


def test_zones_per_week_sum_the_rides_zone_seconds(cur, athlete_id):
    with transaction(cur):
        insert_ride(cur, athlete_id, date(2024, 5, 6), 50, metrics={"zones_power_s": [10, 20, 30, 40, 50, 60, 70],
                                                                    "zones_hr_s": [1, 2, 3, 4, 5]})
        insert_ride(cur, athlete_id, date(2024, 5, 8), 50, metrics={"zones_power_s": [1, 1, 1, 1, 1, 1, 1]})
        insert_ride(cur, athlete_id, date(2024, 5, 9), 50, metrics={"zones_power_s": "broken"})
        insert_ride(cur, athlete_id, date(2024, 5, 14), 50, metrics={"zones_power_s": [5, 0, 0, 0, 0, 0, 0]})
    frame = zones_per_week(cur, athlete_id, "power")
    week1 = frame[frame["period_start"] == date(2024, 5, 6)].set_index("zone")["seconds"]
    assert list(week1) == [11, 21, 31, 41, 51, 61, 71]
    week2 = frame[frame["period_start"] == date(2024, 5, 13)].set_index("zone")["seconds"]
    assert week2[1] == 5 and week2[2:].sum() == 0
    hr = zones_per_week(cur, athlete_id, "hr")
    assert list(hr["seconds"]) == [1, 2, 3, 4, 5]


def test_season_bests_compare_this_year_with_last(cur, athlete_id):
    with transaction(cur):
        insert_ride(cur, athlete_id, date(2023, 6, 1), 50, metrics={"power_curve": {"5": 900, "60": 400}})
        insert_ride(cur, athlete_id, date(2024, 6, 1), 50, metrics={"power_curve": {"5": 850, "60": 420.5}})
        insert_ride(cur, athlete_id, date(2024, 7, 1), 50, metrics={"power_curve": {"5": 870, "1200": 280, "3725": 230}})
        insert_ride(cur, athlete_id, date(2022, 7, 1), 50, metrics={"power_curve": {"5": 2000}})
    frame = season_bests(cur, athlete_id, 2024).set_index("duration_s")
    assert frame.loc[5, "this_season_w"] == 870 and frame.loc[5, "last_season_w"] == 900
    assert frame.loc[60, "this_season_w"] == 420.5
    assert pd.isna(frame.loc[1200, "last_season_w"])
    assert 3725 not in frame.index  # a ride's whole-length entry is not a standard duration


@pytest.mark.parametrize("done,planned,colour", [
    (100, 100, "green"), (80, 100, "green"), (120, 100, "green"), (79, 100, "amber"), (50, 100, "amber"),
    (121, 100, "amber"), (150, 100, "amber"), (49, 100, "red"), (151, 100, "red"), (0, 100, "red"),
    (30, 0, None),
])
def test_compliance_colours_follow_the_thresholds(done, planned, colour):
    assert compliance_colour(done, planned) == colour


def _plan(cur, athlete_id, start, weeks, workouts):
    plan_id = cur.execute(
        "INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, active, plan) "
        "VALUES (?, 'Base', ?, ?, ?, true, '{}') RETURNING id",
        [athlete_id, start, start + timedelta(weeks=weeks) - timedelta(days=1), weeks]).fetchone()[0]
    for day, minutes, tss in workouts:
        cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, tss, description) "
                    "VALUES (?, ?, 'endurance', ?, ?, 'steady')", [plan_id, day, minutes, tss])
    return plan_id


def test_plan_progress_compares_planned_and_done_per_week(cur, athlete_id):
    monday = date(2024, 4, 1)
    with transaction(cur):
        _plan(cur, athlete_id, monday, 3, [(monday, 60, 50), (monday + timedelta(days=2), 60, 50),
                                            (monday + timedelta(days=8), 120, 90),
                                            (monday + timedelta(days=15), 60, 40)])
        insert_ride(cur, athlete_id, monday, 60, moving_time_s=3600 * 2.1)   # week 1: 105 % → green
        insert_ride(cur, athlete_id, monday + timedelta(days=9), 60, moving_time_s=3600 * 1.2)  # 60 % → amber
    frame = plan_progress(cur, athlete_id, today=monday + timedelta(days=10))
    assert list(frame["period_start"]) == [monday, monday + timedelta(days=7), monday + timedelta(days=14)]
    assert list(frame["planned_s"]) == [7200, 7200, 3600]
    # the second week is under way (60 % of its plan by Thursday is no verdict yet); the third has not started
    assert list(frame["colour"]) == ["green", None, None] and list(frame["current"]) == [False, True, False]
    assert frame["compliance_pct"].iloc[1] == pytest.approx(60)
    ended = plan_progress(cur, athlete_id, today=monday + timedelta(days=14))  # the Monday after: judged
    assert list(ended["colour"]) == ["green", "amber", None] and list(ended["current"]) == [False, False, True]
    assert frame["compliance_pct"].iloc[0] == pytest.approx(105)
    upcoming = upcoming_workouts(cur, athlete_id, today=monday + timedelta(days=10))
    assert [w["date"] for w in upcoming] == [monday + timedelta(days=15)]
    week = this_week_vs_last(cur, athlete_id, today=monday + timedelta(days=10))
    assert week["planned"] == {"workouts": 1, "duration_s": 7200.0, "tss": 90.0}
    assert week["this_week"]["moving_time_s"] == pytest.approx(3600 * 1.2)
    assert week["last_week"]["rides"] == 1


def test_dashboard_data_has_every_panel(cur, athlete_id, season):
    data = dashboard_data(cur, athlete_id, today=date(2024, 4, 30))
    assert not data["weekly"].empty and not data["monthly"].empty and not data["fitness"].empty
    assert data["time_constants"] == {"ctl_days": 42.0, "atl_days": 7.0}
    assert data["fitness"]["date"].iloc[-1] == date(2024, 4, 30)
    assert json.dumps(list(data["week_vs_last"]))


def test_this_week_is_compared_with_last_week_up_to_the_same_weekday(cur, athlete_id):
    monday = date(2024, 4, 8)
    with transaction(cur):
        insert_ride(cur, athlete_id, monday - timedelta(days=7), 40, moving_time_s=3600)   # last Monday
        insert_ride(cur, athlete_id, monday - timedelta(days=2), 90, moving_time_s=3 * 3600)  # last Saturday
        insert_ride(cur, athlete_id, monday + timedelta(days=1), 50, moving_time_s=1.5 * 3600)  # this Tuesday
    week = this_week_vs_last(cur, athlete_id, today=monday + timedelta(days=2))  # a Wednesday
    assert week["last_week"]["rides"] == 2
    assert week["last_week_to_date"]["rides"] == 1
    assert week["last_week_to_date"]["moving_time_s"] == pytest.approx(3600)
    assert week["this_week"]["moving_time_s"] == pytest.approx(1.5 * 3600)
