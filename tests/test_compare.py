"""Ride comparison: alignment by time and by distance, smoothing, differences and shared climbs.

Real data: tests/data/rides/sweatpy__4078723797_strava.gpx and sweatpy__activity_4078723797.gpx (MIT,
GoldenCheetah/sweatpy) are two exports (Strava, Garmin Connect) of one real ride. No two different real rides
of one route exist in ../shared/realdata, so a second ride of the same road is made from the real one by
``ridden_again``: another day, slower on the first half, a 5-minute stop, sampled every 2 s, GPS drifting a few
metres sideways and 10 % less power.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from core.errors import NotFoundError, ValidationError
from core.files.gpx import read_gpx
from core.files.streams import ActivityStreams
from core.rides.compare import (
    Aligned,
    align_streams,
    compare_rides,
    detect_climbs,
    differences_table,
    effort_on,
    match_shared_climbs,
    smooth,
    smooth_aligned,
)
from core.store.db import table_counts, transaction

DATA = Path(__file__).resolve().parent / "data" / "rides"
STRAVA = DATA / "sweatpy__4078723797_strava.gpx"
GARMIN = DATA / "sweatpy__activity_4078723797.gpx"


@pytest.fixture(scope="module")
def real_ride() -> ActivityStreams:
    return read_gpx(STRAVA.read_bytes(), STRAVA.name)


@pytest.fixture(scope="module")
def garmin_export() -> ActivityStreams:
    return read_gpx(GARMIN.read_bytes(), GARMIN.name)


def as_dict(s: ActivityStreams) -> dict:
    return {k: s.column(k) for k in ("t_s", "lat", "lon", "ele", "dist_m", "speed", "hr", "cadence", "power")}


def haversine_cumulative(lat, lon) -> np.ndarray:
    p1, p2 = np.radians(lat[:-1]), np.radians(lat[1:])
    dl = np.radians(lon[1:] - lon[:-1])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.concatenate(([0.0], np.cumsum(2 * 6_371_000 * np.arcsin(np.sqrt(a)))))


def ridden_again(s: ActivityStreams) -> ActivityStreams:
    """The same road on another day: slower first half, a 5-min stop, 2 s sampling, sideways GPS drift."""
    n = len(s)
    dt = np.diff(s.t_s, prepend=0.0)
    dt[: n // 2] *= 1.15
    dt[n // 3] += 300.0
    t = np.cumsum(dt)
    keep = np.arange(0, n, 2)
    drift_m = 4.0 * np.sin(np.arange(n) / 300.0)
    lat = s.lat + drift_m / 111_320.0
    dist = haversine_cumulative(lat[keep], s.lon[keep])
    return ActivityStreams(lat=lat[keep], lon=s.lon[keep], ele=s.ele[keep] + 1.0, dist_m=dist, t_s=t[keep] - t[0],
                           speed=s.speed[keep] * 0.9 if s.speed is not None else None, hr=s.hr[keep],
                           cadence=s.cadence[keep], power=s.power[keep] * 0.9,
                           started_at=s.started_at + timedelta(days=7), name="Same road, a week later",
                           source_format="gpx")


# ---------------------------------------------------------------------------------------------- alignment

def test_time_alignment_puts_each_second_side_by_side():
    a = {"t_s": np.arange(0, 11.0), "dist_m": np.arange(0, 11.0) * 5, "power": np.arange(0, 11.0) * 10}
    b = {"t_s": np.arange(0, 21.0, 2), "dist_m": np.arange(0, 21.0, 2) * 8, "power": np.full(11, 150.0)}
    aligned = align_streams([a, b], "time", channels=("power",))
    assert list(aligned.x) == list(np.arange(0, 21.0))
    assert aligned.series[0]["power"][5] == 50
    assert np.isnan(aligned.series[0]["power"][15])  # A has ended
    assert aligned.series[1]["power"][7] == 150  # B's 2-second samples interpolated
    assert aligned.delta("power")[4] == pytest.approx(40 - 150)


def test_a_pause_longer_than_the_gap_limit_is_left_empty():
    t = np.concatenate([np.arange(0, 100.0), np.arange(400, 500.0)])
    ride = {"t_s": t, "dist_m": t * 8, "power": np.full(200, 200.0)}
    aligned = align_streams([ride, ride], "time", channels=("power",))
    assert np.isnan(aligned.series[0]["power"][250])
    assert aligned.series[0]["power"][99] == 200 and aligned.series[0]["power"][400] == 200


def test_distance_alignment_lines_up_two_rides_of_the_same_road(real_ride):
    a, b = as_dict(real_ride), as_dict(ridden_again(real_ride))
    by_distance = align_streams([a, b], "distance", channels=("ele", "power"))
    both = np.isfinite(by_distance.series[0]["ele"]) & np.isfinite(by_distance.series[1]["ele"])
    assert both.sum() > 5000  # ~57 km at 10 m
    # Same road, same distance: the same elevation (B reads 1 m higher) despite the stop and the slower half.
    ele_gap = by_distance.series[1]["ele"][both] - by_distance.series[0]["ele"][both]
    assert np.median(np.abs(ele_gap - 1.0)) < 2.0
    # ...and B's elapsed time at the same distance shows it behind by the stop and the slow half.
    behind = by_distance.series[1]["t_s"] - by_distance.series[0]["t_s"]
    assert np.nanmax(behind) > 300
    # Aligned by time instead, the two are kilometres apart on the road by the end.
    by_time = align_streams([a, b], "time", channels=("ele",))
    assert np.nanmax(np.abs(by_time.series[0]["dist_m"] - by_time.series[1]["dist_m"])) > 2000


def test_alignment_refuses_a_ride_without_the_axis():
    ride = {"t_s": np.arange(10.0), "dist_m": np.full(10, np.nan)}
    with pytest.raises(ValidationError, match="no distance"):
        align_streams([ride, ride], "distance")
    with pytest.raises(ValidationError, match="time.*distance"):
        align_streams([ride, ride], "elevation")
    with pytest.raises(ValidationError, match="two rides"):
        align_streams([ride], "time")


def test_smoothing_averages_over_the_window_and_keeps_holes():
    values = np.array([0, 10, 0, 10, 0, np.nan, 10, 10, 10], dtype=float)
    out = smooth(values, 3)
    assert out[2] == pytest.approx(20 / 3)
    assert np.isnan(out[5])
    aligned = Aligned("time", np.arange(9.0), [{"power": values}, {"power": values}])
    assert smooth_aligned(aligned, 3.0).series[1]["power"][1] == pytest.approx(10 / 3)
    assert smooth_aligned(aligned, 0).series[0]["power"] is values


# ---------------------------------------------------------------------------------------------- climbs

def test_shared_climbs_are_found_by_position_on_a_second_ride_of_the_road(real_ride):
    climbs = detect_climbs(real_ride.dist_m, real_ride.ele)
    assert len(climbs) >= 3, "the real ride has several climbs"
    a, b = as_dict(real_ride), as_dict(ridden_again(real_ride))
    matches = match_shared_climbs(a, climbs, b)
    assert [m.climb_index for m in matches] == list(range(len(climbs)))
    for match in matches:
        # B's start/end points are where A's are (within the tolerance) although B's samples and distances
        # are its own.
        start_gap = _metres(a, match.a_start, b, match.b_start)
        end_gap = _metres(a, match.a_end, b, match.b_end)
        assert start_gap < 40 and end_gap < 40
        ea, eb = effort_on(a, match.a_start, match.a_end, 72), effort_on(b, match.b_start, match.b_end, 72)
        assert eb["avg_power_w"] == pytest.approx(0.9 * ea["avg_power_w"], rel=0.08)
        assert ea["w_per_kg"] == pytest.approx(ea["avg_power_w"] / 72)
        first_half = match.a_end < len(real_ride) // 2
        if first_half and match.a_start > len(real_ride) // 3 + 5:
            assert eb["time_s"] > ea["time_s"] * 1.08  # ridden 15 % slower there


def test_the_garmin_export_of_the_same_ride_shares_every_climb(real_ride, garmin_export):
    climbs = detect_climbs(real_ride.dist_m, real_ride.ele)
    matches = match_shared_climbs(as_dict(real_ride), climbs, as_dict(garmin_export))
    assert len(matches) == len(climbs)
    for match in matches:
        ea = effort_on(as_dict(real_ride), match.a_start, match.a_end)
        eb = effort_on(as_dict(garmin_export), match.b_start, match.b_end)
        assert eb["time_s"] == pytest.approx(ea["time_s"], abs=15)
        assert eb["avg_power_w"] is None  # Garmin's GPX export drops power
        assert eb["avg_hr"] == pytest.approx(ea["avg_hr"], abs=3)


def test_a_climb_the_other_ride_never_reached_is_not_shared(real_ride):
    climbs = detect_climbs(real_ride.dist_m, real_ride.ele)
    a = as_dict(real_ride)
    cut = int(np.searchsorted(real_ride.dist_m, 30_000))
    half = {k: v[:cut] for k, v in a.items()}
    matched = {m.climb_index for m in match_shared_climbs(a, climbs, half)}
    assert matched == {i for i, (_, end) in enumerate(climbs) if end < 30_000}


def test_riding_the_road_the_other_way_is_not_the_same_climb(real_ride):
    climbs = detect_climbs(real_ride.dist_m, real_ride.ele)
    a = as_dict(real_ride)
    reverse = {k: v[::-1].copy() for k, v in a.items()}
    reverse["dist_m"] = real_ride.dist_m[-1] - real_ride.dist_m[::-1]
    reverse["t_s"] = real_ride.t_s[-1] - real_ride.t_s[::-1]
    # The ride is a loop out and back on parts of the road: only climbs whose road the reversed ride also
    # climbs could match, and a climb's start must come before its end.
    for match in match_shared_climbs(a, climbs, reverse):
        assert reverse["ele"][match.b_end] > reverse["ele"][match.b_start]


def test_a_different_road_between_the_same_two_points_is_not_the_climb():
    # A climbs straight north 1 km; B goes from the same start to the same end by a 1 km detour east.
    lat0, lon0 = 45.0, 7.0
    n = 101
    a = {"lat": lat0 + np.linspace(0, 1000, n) / 111_320, "lon": np.full(n, lon0), "dist_m": np.linspace(0, 1000, n)}
    east = 400 / (111_320 * math.cos(math.radians(lat0)))
    b_lat = np.concatenate([np.full(20, lat0), lat0 + np.linspace(0, 1000, 61) / 111_320, np.full(20, a["lat"][-1])])
    b_lon = np.concatenate([lon0 + np.linspace(0, east, 20), np.full(61, lon0 + east),
                            lon0 + np.linspace(east, 0, 20)])
    b = {"lat": b_lat, "lon": b_lon, "dist_m": haversine_cumulative(b_lat, b_lon)}
    assert match_shared_climbs(a, [(0.0, 1000.0)], b, length_tolerance=1.0) == []


def _metres(a, i, b, j) -> float:
    return float(haversine_cumulative(np.array([a["lat"][i], b["lat"][j]]), np.array([a["lon"][i], b["lon"][j]]))[-1])


# ---------------------------------------------------------------------------------------------- differences

def test_the_differences_table_subtracts_b_from_a():
    a = {"label": "A", "moving_time_s": 3600, "distance_m": 30000, "normalized_power_w": 250, "tss": 80,
         "best_5s_w": 900, "ef": 1.6}
    b = {"label": "B", "moving_time_s": 3000, "distance_m": 31000, "normalized_power_w": 230, "tss": None,
         "best_5s_w": 950}
    table = differences_table([a, b]).set_index("figure")
    assert table.loc["Duration (moving)", "A − B"] == 600
    assert table.loc["Distance", "A − B"] == -1000
    assert table.loc["NP", "A"] == 250 and table.loc["Best 5 s", "A − B"] == -50
    assert table.loc["TSS", "A − B"] is None or np.isnan(table.loc["TSS", "A − B"])
    assert list(table.index)[-4:] == ["Best 5 s", "Best 1 min", "Best 5 min", "Best 20 min"]


# ---------------------------------------------------------------------------------------------- storage

@pytest.fixture
def two_rides(cur, athlete_id, real_ride):
    from core.rides.store import store_ride

    first = store_ride(cur, athlete_id, real_ride, source="file", external_id="strava-export",
                       source_file=STRAVA.name)
    second = store_ride(cur, athlete_id, ridden_again(real_ride), source="file", external_id="a-week-later")
    return first.id, second.id


def test_comparing_two_stored_rides_gives_streams_differences_and_climbs(cur, athlete_id, two_rides):
    a, b = two_rides
    comparison = compare_rides(cur, athlete_id, [a, b], by="distance", smoothing=50)
    assert comparison.aligned.axis == "distance" and len(comparison.aligned.series) == 2
    table = comparison.differences.set_index("figure")
    assert table.loc["Duration (moving)", "A − B"] < 0  # the second ride was slower
    assert table.loc["Best 20 min", "A − B"] > 0  # and 10 % weaker
    climbs = comparison.climbs
    assert len(climbs) >= 3
    assert set(climbs.columns) >= {"time_s_a", "time_s_b", "avg_power_w_a", "avg_power_w_b", "w_per_kg_a",
                                   "w_per_kg_b", "avg_hr_a", "avg_hr_b"}
    assert np.allclose(climbs["w_per_kg_a"], climbs["avg_power_w_a"] / 72)


def test_comparing_a_ride_with_itself_or_a_missing_ride_is_a_clear_error(cur, athlete_id, two_rides):
    a, _ = two_rides
    before = table_counts(cur)
    with pytest.raises(ValidationError, match="two different rides"):
        compare_rides(cur, athlete_id, [a, a])
    with pytest.raises(NotFoundError, match="Ride 987654 was not found"):
        compare_rides(cur, athlete_id, [a, 987654])
    with pytest.raises(NotFoundError):
        compare_rides(cur, athlete_id, [a, "1; DROP TABLE rides"])
    assert table_counts(cur) == before


def test_another_athletes_ride_cannot_be_compared(cur, athlete_id, two_rides):
    from core.athletes import AthleteProfile, create_athlete

    other = create_athlete(cur, AthleteProfile(name="Someone else"))
    with pytest.raises(NotFoundError):
        compare_rides(cur, other, list(two_rides))


def test_a_summary_only_ride_cannot_be_compared_point_by_point(cur, athlete_id, two_rides):
    a, _ = two_rides
    with transaction(cur):
        lone = cur.execute("INSERT INTO rides (athlete_id, source, external_id, name, started_at, moving_time_s) "
                           "VALUES (?, 'garmin', '42', 'Summary only', now(), 3600) RETURNING id",
                           [athlete_id]).fetchone()[0]
    with pytest.raises(ValidationError, match="no recorded samples"):
        compare_rides(cur, athlete_id, [a, lone])


def test_a_ride_without_a_speed_stream_gets_speed_from_distance_over_time():
    from core.rides.compare import speed_from_distance

    t = np.arange(0, 100.0)
    dist = np.concatenate([t[:50] * 8.0, 400 + (t[50:] - 49) * 5.0])
    speed = speed_from_distance(t, dist)
    assert speed[10] == pytest.approx(8.0) and speed[80] == pytest.approx(5.0)
    assert np.isfinite(speed).all() and (speed >= 0).all()
