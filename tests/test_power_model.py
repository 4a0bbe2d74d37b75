"""The power-duration model: MMP per ride and over a window, the CP/W′ fit among submaximal rides, the "no fit
without maximal efforts" path, FTP proposals (approve, dismiss, recompute) and hostile windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from core.athletes import AthleteProfile, create_athlete, ftp_on, get_athlete
from core.errors import ValidationError
from core.files.streams import ActivityStreams
from core.rides import power, powerstore
from core.rides.store import delete_rides, get_ride, store_ride
from core.store.backup_format import backup_tables

TODAY = date(2025, 6, 30)
CP_W, W_PRIME_J, PMAX_W = 280.0, 20000.0, 1000.0


def curve(seconds: float) -> float:
    """The synthetic rider's true maximal power: Morton's model, CP 280 W, W′ 20 kJ, Pmax 1,000 W."""
    return float(power.morton3_power(seconds, CP_W, W_PRIME_J, PMAX_W))


def ride(day: date, efforts: list[int] = (), easy_w: float = 170.0, minutes: int = 60, seed: int = 0,
         form: float = 1.0, hour: int = 9) -> ActivityStreams:
    """An indoor ride: easy riding with the given all-out efforts (seconds) spread through it, 1 % noise."""
    rng = np.random.default_rng(seed)
    n = minutes * 60
    watts = easy_w * (1 + 0.05 * rng.standard_normal(n))
    at = 600
    for seconds in efforts:
        watts[at:at + seconds] = curve(seconds) * form * (1 + 0.01 * rng.standard_normal(seconds))
        at += seconds + 600
    nan = np.full(n, np.nan)
    return ActivityStreams(lat=nan, lon=nan, ele=nan, dist_m=nan, t_s=np.arange(n, dtype=float),
                           power=np.clip(watts, 0, None), hr=np.full(n, 140.0),
                           started_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC), name="Ride",
                           sport_type="indoor_cycling", source_format="demo")


def add(cur, athlete_id, streams, key) -> int:
    return store_ride(cur, athlete_id, streams, source="file", external_id=key).id


@pytest.fixture
def rider(cur):
    return create_athlete(cur, AthleteProfile(name="Tester", ftp_w=250, max_hr=190, lthr=168),
                          ftp_effective_from=date(2020, 1, 1))


def season(cur, athlete_id, *, tests_on=(5, 12, 26), form=1.0, today: date = TODAY) -> dict:
    """Submaximal rides every other day for 60 days and maximal efforts on three days before ``today``."""
    ids = {}
    for k in range(0, 60, 2):
        day = today - timedelta(days=k)
        ids[f"easy{k}"] = add(cur, athlete_id, ride(day, seed=k, easy_w=150 + k % 7 * 10), f"easy{k}")
    efforts = {tests_on[0]: [15, 180, 600], tests_on[1]: [5, 300, 1200], tests_on[2]: [30, 480, 900]}
    for ago, durations in efforts.items():
        ids[f"test{ago}"] = add(cur, athlete_id, ride(today - timedelta(days=ago), durations, minutes=90,
                                                      seed=ago, form=form), f"test{ago}")
    return ids


def test_each_stored_ride_keeps_its_mean_maximal_power_and_a_delete_takes_it_along(cur, rider):
    ride_id = add(cur, rider, ride(TODAY, [300]), "one")
    rows = dict(cur.execute("SELECT duration_s, power_w FROM ride_mmp WHERE ride_id = ?", [ride_id]).fetchall())
    assert rows[300] == pytest.approx(curve(300), rel=0.01)
    assert max(rows) == 3600 and 5400 not in rows  # durations up to the ride's length
    assert {"ride_mmp", "ftp_proposals"} <= set(backup_tables())
    delete_rides(cur, rider, [ride_id])
    assert cur.execute("SELECT count(*) FROM ride_mmp").fetchone()[0] == 0


def test_cp_and_w_prime_are_recovered_among_submaximal_rides(cur, rider):
    ids = season(cur, rider)
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["cp_w"] == pytest.approx(CP_W, rel=0.03)
    assert report["w_prime_j"] == pytest.approx(W_PRIME_J, rel=0.15)
    assert report["eftp_w"] == report["cp_w"]
    assert report["missing_efforts"] == []
    by_duration = {p["duration_s"]: p for p in report["mmp"]}
    assert by_duration[1200]["ride_id"] == ids["test12"]
    assert by_duration[1200]["date"] == (TODAY - timedelta(days=12)).isoformat()
    assert by_duration[1200]["power_w"] == pytest.approx(curve(1200), rel=0.01)
    assert {e["ride_id"] for e in report["maximal_efforts"]} <= {ids["test5"], ids["test12"], ids["test26"]}


def test_no_fit_and_no_proposal_without_maximal_efforts_and_the_missing_ones_are_named(cur, rider):
    for k in range(0, 40, 2):
        add(cur, rider, ride(TODAY - timedelta(days=k), seed=k, easy_w=190), f"easy{k}")
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["cp_w"] is None and report["eftp_w"] is None and report["proposal"] is None
    assert len(report["missing_efforts"]) == 2
    assert "3–8 min" in report["missing_efforts"][0] and "10–20 min" in report["missing_efforts"][1]
    assert report["mmp"]  # the curve is still there to look at


def test_only_short_maximal_efforts_name_the_long_one_as_missing(cur, rider):
    add(cur, rider, ride(TODAY - timedelta(days=3), [180, 300]), "short")
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["cp_w"] is None
    assert len(report["missing_efforts"]) == 1 and "10–20 min" in report["missing_efforts"][0]


def test_an_empty_window_reports_nothing_without_failing(cur, rider):
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["mmp"] == [] and report["cp_w"] is None and report["proposal"] is None
    assert report["window_days"] == 90 and report["date_to"] == TODAY


def test_the_default_window_ends_at_the_latest_ride(cur, rider):
    add(cur, rider, ride(date(2019, 5, 1), [300]), "old")
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["date_to"] == date(2019, 5, 1) and report["date_from"] == date(2019, 5, 1) - timedelta(days=89)
    assert report["mmp"]


@pytest.mark.parametrize("kwargs, message", [
    ({"days": 0}, "1 to"), ({"days": 10**6}, "1 to"),
    ({"date_from": date(2025, 2, 1), "date_to": date(2025, 1, 1)}, "before it starts"),
    ({"date_from": date(2025, 2, 1)}, "both ends"),
    ({"date_from": date(1900, 1, 1), "date_to": date(2025, 1, 1)}, "at most"),
])
def test_a_bad_window_is_refused_with_a_clear_message(cur, rider, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        powerstore.power_report(cur, rider, today=TODAY, **kwargs)


def test_a_proposal_approved_changes_ftp_history_and_future_targets_but_not_past_rides(cur, rider):
    ids = season(cur, rider)
    past = get_ride(cur, rider, ids["test5"])
    assert past["intensity_factor"] == pytest.approx(past["normalized_power_w"] / 250)
    report = powerstore.power_report(cur, rider, today=TODAY)
    proposal = report["proposal"]
    assert proposal["current_ftp_w"] == 250 and proposal["proposed_ftp_w"] == round(report["eftp_w"])
    assert proposal["evidence_date"] == (TODAY - timedelta(days=5)).isoformat()
    with pytest.raises(ValidationError, match="changed"):
        powerstore.approve_proposal(cur, rider, today=TODAY, expected_ftp_w=proposal["proposed_ftp_w"] + 7)
    result = powerstore.approve_proposal(cur, rider, today=TODAY, expected_ftp_w=proposal["proposed_ftp_w"])
    new_ftp = proposal["proposed_ftp_w"]
    assert result["ftp_w"] == new_ftp and result["effective_from"] == TODAY
    assert get_athlete(cur, rider)["ftp_w"] == new_ftp
    assert ftp_on(cur, rider, TODAY - timedelta(days=1)) == 250
    # Future workouts keep targets in % FTP and resolve them with the FTP of their day: 95 % of the new FTP.
    assert 0.95 * ftp_on(cur, rider, TODAY + timedelta(days=14)) == pytest.approx(0.95 * new_ftp)
    assert get_ride(cur, rider, ids["test5"])["tss"] == past["tss"]  # past rides keep the FTP of their day
    assert powerstore.power_report(cur, rider, today=TODAY)["proposal"] is None  # within 3 % now
    # A ride stored from now on uses the new FTP; one stored earlier that day is stale until recomputed.
    later = get_ride(cur, rider, add(cur, rider, ride(TODAY, [60], hour=18), "evening"))
    assert later["intensity_factor"] == pytest.approx(later["normalized_power_w"] / new_ftp)
    today_ride = get_ride(cur, rider, ids["easy0"])
    assert today_ride["intensity_factor"] == pytest.approx(today_ride["normalized_power_w"] / 250)
    assert powerstore.recompute_rides(cur, rider, TODAY) == 2
    today_ride = get_ride(cur, rider, ids["easy0"])
    assert today_ride["intensity_factor"] == pytest.approx(today_ride["normalized_power_w"] / new_ftp)
    assert get_ride(cur, rider, ids["test5"])["tss"] == past["tss"]


def test_dismissing_hides_the_proposal_until_a_newer_maximal_effort(cur, rider):
    season(cur, rider, tests_on=(10, 15, 26))
    first = powerstore.power_report(cur, rider, today=TODAY)["proposal"]
    assert first is not None
    powerstore.dismiss_proposal(cur, rider, today=TODAY)
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["proposal"] is None and "dismissed" in report["proposal_note"]
    assert get_athlete(cur, rider)["ftp_w"] == 250
    with pytest.raises(ValidationError, match="no FTP proposal"):
        powerstore.dismiss_proposal(cur, rider, today=TODAY)
    add(cur, rider, ride(TODAY - timedelta(days=1), [300, 1200], minutes=60, seed=99), "new-test")
    assert powerstore.power_report(cur, rider, today=TODAY)["proposal"] is not None


def test_a_decrease_is_proposed_only_with_recent_maximal_efforts(cur, rider):
    cur.execute("UPDATE athlete_ftp_history SET ftp_w = 300 WHERE athlete_id = ?", [rider])
    cur.execute("UPDATE athletes SET ftp_w = 300 WHERE id = ?", [rider])
    season(cur, rider, tests_on=(50, 60, 70))  # maximal, but more than 42 days ago
    report = powerstore.power_report(cur, rider, today=TODAY)
    assert report["cp_w"] is not None and report["eftp_w"] < 0.97 * 300
    assert report["proposal"] is None and "decrease needs" in report["proposal_note"]
    add(cur, rider, ride(TODAY - timedelta(days=2), [240, 720], minutes=70, seed=5), "fresh")
    proposal = powerstore.power_report(cur, rider, today=TODAY)["proposal"]
    assert proposal is not None and proposal["proposed_ftp_w"] < 300


def test_an_approval_can_start_on_an_earlier_day_but_not_in_the_future(cur, rider):
    season(cur, rider)
    with pytest.raises(ValidationError, match="future"):
        powerstore.approve_proposal(cur, rider, today=TODAY, effective_from=TODAY + timedelta(days=1))
    result = powerstore.approve_proposal(cur, rider, today=TODAY, effective_from=TODAY - timedelta(days=5))
    assert ftp_on(cur, rider, TODAY - timedelta(days=5)) == result["ftp_w"]
    assert result["rides_to_recompute"] >= 3


def test_rides_stored_before_the_power_tables_get_their_mmp_on_first_use(cur, rider):
    ride_id = add(cur, rider, ride(TODAY, [300]), "old")
    cur.execute("DELETE FROM ride_mmp")
    assert powerstore.window_mmp(cur, rider, TODAY, TODAY) == []
    assert powerstore.ensure_ride_mmp(cur, rider) == 1
    assert powerstore.ensure_ride_mmp(cur, rider) == 0
    assert powerstore.window_mmp(cur, rider, TODAY, TODAY)[0].ride_id == ride_id


def test_w_prime_for_a_ride_comes_from_the_model_or_falls_back_to_the_ftp(cur, rider):
    assert powerstore.ride_w_prime(cur, rider, TODAY) == {"cp_w": 250.0, "w_prime_j": 20000.0, "source": "ftp"}
    season(cur, rider)
    found = powerstore.ride_w_prime(cur, rider, TODAY)
    assert found["source"] == "model" and found["cp_w"] == pytest.approx(CP_W, rel=0.03)


def test_the_demo_season_has_tests_that_let_the_model_fit_and_propose(cur):
    from core.demo import TEST_CP_OVER_FTP, seed_demo

    result = seed_demo(cur, years=0.3, end=TODAY)
    report = powerstore.power_report(cur, result["athlete_id"], today=TODAY - timedelta(days=1))
    ftp = get_athlete(cur, result["athlete_id"])["ftp_w"]
    assert report["missing_efforts"] == [] and report["cp_w"] is not None
    # The demo rider's tests ride a curve 5 % above the profile's FTP (±3 % day-to-day form).
    assert report["cp_w"] == pytest.approx(TEST_CP_OVER_FTP * ftp, rel=0.06)
    assert 10_000 < report["w_prime_j"] < 30_000
    assert report["proposal"] is not None and report["proposal"]["proposed_ftp_w"] > ftp
