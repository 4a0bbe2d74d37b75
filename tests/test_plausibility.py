"""The plausibility layer on import (issue 16): each fault is injected into a REAL file from tests/data and the
stored figures are compared with the clean file's. Before it, one GPS point at (0,0) made a ride 11,631 km, one
elevation of 1e308 a gain of 1e308 m, an 8,000 m jump a grade of 11,367 %, a year-9999 time a ride in 1816 and
corrupted FIT files 21,000–42,000 km at > 40,000 km/h — all of it in weekly totals and fitness."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pytest

from core.errors import InvalidFileError
from core.files.fit import read_fit
from core.files.gpx import read_gpx
from core.files.plausibility import check_streams, check_summary
from core.importer import import_file
from core.rides.dashboard import period_totals
from core.rides.metrics import ride_metrics
from core.rides.store import get_ride
from core.routes.store import get_route, route_sections
from core.store.db import table_counts
from tests.conftest import DATA_DIR

GPX_RIDE = "sweatpy__4078723797_strava.gpx"   # Edge 1000 via Strava: 8,357 points, 57.6 km, power, hr, cadence
FIT_RIDE = "sweatpy__4078723797.fit"          # the same ride as the device wrote it
KAROO = "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"
ROUTE = "coursepointer__cptr003.gpx"          # a Ride with GPS route: 1,352 untimed points, 48 km


@cache
def raw(name: str) -> bytes:
    path = DATA_DIR / "rides" / name
    return (path if path.exists() else DATA_DIR / name).read_bytes()


def edit_point(data: bytes, index: int, *, lat=None, lon=None, ele=None, time=None, **extension) -> bytes:
    """The file with the index-th <trkpt> changed (attributes, <ele>, <time>, extension values by tag)."""
    starts = [m.start() for m in re.finditer(rb"<trkpt\b", data)]
    start, end = starts[index], data.index(b"</trkpt>", starts[index])
    point = data[start:end]
    if lat is not None:
        point = re.sub(rb'lat="[^"]*"', b'lat="%s"' % str(lat).encode(), point)
    if lon is not None:
        point = re.sub(rb'lon="[^"]*"', b'lon="%s"' % str(lon).encode(), point)
    if ele is not None:
        point = re.sub(rb"<ele>[^<]*</ele>", b"<ele>%s</ele>" % str(ele).encode(), point)
    if time is not None:
        point = re.sub(rb"<time>[^<]*</time>", b"<time>%s</time>" % time.encode(), point)
    for tag, value in extension.items():
        point = re.sub(rb"(<(?:gpxtpx:)?%s>)[^<]*(</)" % tag.encode(), rb"\g<1>%d\g<2>" % value, point)
    return data[:start] + point + data[end:]


@cache
def clean_figures() -> dict:
    streams, warnings = check_streams(read_gpx(raw(GPX_RIDE), GPX_RIDE), kind="ride", filename=GPX_RIDE)
    assert warnings == []
    m = ride_metrics(streams.t_s, power=streams.power, hr=streams.hr, cadence=streams.cadence,
                     dist_m=streams.dist_m, ele=streams.ele)
    return {"distance_m": m.distance_m, "elevation_gain_m": m.elevation_gain_m, "elapsed_time_s": m.elapsed_time_s,
            "np_w": m.normalized_power_w, "max_hr": m.max_hr}


def import_gpx(cur, athlete_id, data: bytes, name: str = "faulty.gpx") -> dict:
    result = import_file(cur, athlete_id, name, data)
    assert result["ok"], result
    return {**result, "ride": get_ride(cur, athlete_id, result["id"])}


def codes(result: dict) -> set[str]:
    return {w["code"] for w in result["ride"]["data_warnings"]}


# --------------------------------------------------------------------------------------------------- positions

def test_a_gps_point_at_zero_zero_is_left_out_and_the_distance_stays_true(cur, athlete_id):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 4000, lat=0.0, lon=0.0))
    assert result["distance_m"] == pytest.approx(clean_figures()["distance_m"], rel=0.002)  # not 11,631 km
    assert codes(result) == {"position_no_fix"}
    assert any("0°N 0°E" in w for w in result["warnings"])
    assert get_route(cur, result["route_id"])["min_lat"] > 50  # the map never reaches the Gulf of Guinea


def test_a_point_on_the_far_side_of_the_earth_is_left_out(cur, athlete_id):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 5000, lat=-50.4, lon=-174.1))
    assert result["distance_m"] == pytest.approx(clean_figures()["distance_m"], rel=0.002)  # not 37,378 km
    assert "gps_jump" in codes(result)
    assert "up to 20,0" in result["ride"]["data_warnings"][0]["message"]  # the jump is named in km


def test_a_few_points_jumping_away_together_are_left_out(cur, athlete_id):
    data = raw(GPX_RIDE)
    for index in range(3000, 3006):
        data = edit_point(data, index, lat=48.85, lon=2.35)  # six points in Paris in the middle of the Ardennes
    result = import_gpx(cur, athlete_id, data)
    assert result["distance_m"] == pytest.approx(clean_figures()["distance_m"], rel=0.002)
    assert result["ride"]["data_warnings"][0]["points"] == 6


# --------------------------------------------------------------------------------------------------- elevation

@pytest.mark.parametrize("value", ["1e308", "-10000", "inf"])
def test_elevations_out_of_range_are_replaced_by_their_neighbours(cur, athlete_id, value):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 2500, ele=value))
    assert result["elevation_gain_m"] == pytest.approx(clean_figures()["elevation_gain_m"], abs=2)
    assert codes(result) == {"elevation_range"}


def test_an_elevation_spike_inside_the_range_is_replaced(cur, athlete_id):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 2500, ele=8000))
    assert result["elevation_gain_m"] == pytest.approx(clean_figures()["elevation_gain_m"], abs=2)
    assert codes(result) == {"elevation_spike"}


def test_a_route_with_an_8000_m_jump_keeps_honest_grades(cur, athlete_id):
    data = raw(ROUTE)
    clean = import_file(cur, athlete_id, "clean.gpx", data, as_kind="route")
    spiked = import_file(cur, athlete_id, "spiked.gpx", edit_point(data, 700, ele=8100), as_kind="route")
    assert max(s["max_grade_pct"] for s in route_sections(cur, spiked["id"])) < 30  # not 11,367 %
    assert spiked["elevation_gain_m"] == pytest.approx(clean["elevation_gain_m"], abs=2)
    assert [w["code"] for w in spiked["data_warnings"]] == ["elevation_spike"]
    assert get_route(cur, spiked["id"])["data_warnings"] == spiked["data_warnings"]


def test_a_route_point_far_from_its_neighbours_is_judged_by_distance(cur, athlete_id):
    clean = import_file(cur, athlete_id, "clean.gpx", raw(ROUTE), as_kind="route")
    spiked = import_file(cur, athlete_id, "spiked.gpx", edit_point(raw(ROUTE), 300, lat=38.9, lon=-121.0),
                         as_kind="route")
    assert spiked["distance_m"] == pytest.approx(clean["distance_m"], rel=0.002)
    assert [w["code"] for w in spiked["data_warnings"]] == ["gps_jump"]


def test_a_route_without_two_plausible_positions_is_refused_and_changes_nothing(cur, athlete_id):
    data = raw(ROUTE)
    count = data.count(b"<trkpt")
    data = re.sub(rb'lat="[^"]*" lon="[^"]*"', b'lat="0" lon="0"', data)
    data = edit_point(data, count - 1, lat=37.38, lon=-122.17)
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match="fewer than two of its points have a plausible position"):
        import_file(cur, athlete_id, "nowhere.gpx", data, as_kind="route")
    assert table_counts(cur) == before


# -------------------------------------------------------------------------------------------------------- time

def test_a_year_9999_time_is_dropped_not_stored_as_1816(cur, athlete_id):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 0, time="9999-09-20T14:10:03Z"))
    assert result["started_at"].year == 2019 and codes(result) == {"time_range"}
    assert result["ride"]["elapsed_time_s"] == pytest.approx(clean_figures()["elapsed_time_s"], abs=2)


def test_a_corrupted_time_hours_away_is_dropped(cur, athlete_id):
    result = import_gpx(cur, athlete_id, edit_point(raw(GPX_RIDE), 4000, time="2019-09-20T23:59:00Z"))
    assert result["ride"]["elapsed_time_s"] == pytest.approx(clean_figures()["elapsed_time_s"], abs=2)
    assert "time_outlier" in codes(result)


def test_a_ride_whose_times_all_lie_before_1990_is_refused_and_changes_nothing(cur, athlete_id):
    data = raw(GPX_RIDE).replace(b"<time>2019-", b"<time>1901-")
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match=r"outside 1990 to tomorrow .* start in 1901.*import it as a route"):
        import_file(cur, athlete_id, "old.gpx", data)
    assert table_counts(cur) == before


def test_a_ride_dated_next_year_is_refused(cur, athlete_id):
    year = datetime.now(UTC).year + 1
    data = raw(GPX_RIDE).replace(b"<time>2019-", b"<time>%d-" % year)
    with pytest.raises(InvalidFileError, match="outside 1990 to tomorrow"):
        import_file(cur, athlete_id, "future.gpx", data)


# ----------------------------------------------------------------------------------------------------- sensors

def test_absurd_power_heart_rate_and_cadence_are_dropped_and_short_spikes_interpolated(cur, athlete_id):
    data = edit_point(raw(GPX_RIDE), 1000, power=9999)
    data = edit_point(data, 1500, hr=255)
    data = edit_point(data, 2000, cad=300)
    result = import_gpx(cur, athlete_id, data)
    assert codes(result) == {"power", "heart_rate", "cadence"}
    assert result["np_w"] == pytest.approx(clean_figures()["np_w"], abs=1)
    assert result["ride"]["max_hr"] == clean_figures()["max_hr"]


def test_power_above_2500_w_held_for_seconds_is_dropped_but_a_short_sprint_is_kept():
    streams = read_fit(raw(FIT_RIDE), FIT_RIDE)
    streams.power = streams.power.copy()
    streams.power[100:103] = 2600.0     # a 3 s track sprint: possible
    streams.power[2000:2030] = 2600.0   # 30 s at 2,600 W: no rider
    checked, warnings = check_streams(streams, kind="ride", filename=FIT_RIDE)
    assert np.all(checked.power[100:103] == 2600.0)
    assert np.isnan(checked.power[2000:2030]).all()
    assert [(w.code, w.points) for w in warnings] == [("power", 30)]


# ------------------------------------------------------------------------------------------------ FIT distance

def test_a_distance_spike_in_a_fit_file_is_measured_along_the_track_instead():
    streams = read_fit(raw(FIT_RIDE), FIT_RIDE)
    streams.dist_m = streams.dist_m.copy()
    clean = float(np.nanmax(streams.dist_m))
    streams.dist_m[3000] += 4.2e7           # 42,000 km for one record, as corrupted files showed
    streams.dist_m[6000:] += 2.1e7          # and a jump that stays
    checked, warnings = check_streams(streams, kind="ride", filename=FIT_RIDE)
    assert float(np.nanmax(checked.dist_m)) == pytest.approx(clean, rel=0.002)
    assert [w.code for w in warnings] == ["distance_jump"]


@pytest.mark.parametrize("name", [FIT_RIDE, KAROO])
def test_randomly_corrupted_fit_files_never_give_impossible_figures(name):
    data = raw(name)
    clean = read_fit(data, name)
    clean_m = ride_metrics(clean.t_s, dist_m=clean.dist_m, ele=clean.ele)

    def absurd(m) -> bool:
        return (m.distance_m or 0) > 1.05 * clean_m.distance_m or m.elapsed_time_s > 1.05 * clean_m.elapsed_time_s \
            or (m.elevation_gain_m or 0) > 1.5 * clean_m.elevation_gain_m + 50

    unchecked = checked = 0
    for seed in range(24):
        rng = np.random.default_rng(seed)
        damaged = bytearray(data)
        for position in rng.integers(14, len(data) - 2, 30):
            damaged[position] = rng.integers(0, 256)
        try:
            streams = read_fit(bytes(damaged), name)
        except InvalidFileError:
            continue
        unchecked += absurd(ride_metrics(streams.t_s, dist_m=streams.dist_m, ele=streams.ele))
        try:
            repaired, _ = check_streams(streams, kind="ride", filename=name)
        except InvalidFileError:
            continue
        assert len(repaired) >= 0.95 * len(streams)  # repairs, not amputations
        checked += absurd(ride_metrics(repaired.t_s, dist_m=repaired.dist_m, ele=repaired.ele))
    assert unchecked >= 8 and checked == 0  # the faults were there, and none survives the check


# ------------------------------------------------------------------------------------- totals, storage, purity

def test_repaired_figures_never_reach_weekly_totals_or_fitness(cur, athlete_id):
    data = edit_point(raw(GPX_RIDE), 4000, lat=0.0, lon=0.0)
    data = edit_point(data, 2500, ele="1e308")
    data = edit_point(data, 1000, power=9999)
    import_gpx(cur, athlete_id, data)
    week = period_totals(cur, athlete_id, "week")
    assert week["distance_m"].sum() == pytest.approx(clean_figures()["distance_m"], rel=0.002)
    assert week["elevation_gain_m"].sum() == pytest.approx(clean_figures()["elevation_gain_m"], abs=2)
    assert week["tss"].sum() < 400  # a 2.3 h ride at NP ≈ 250 W for FTP 250


def test_the_check_never_changes_what_it_was_given():
    streams = read_gpx(edit_point(raw(GPX_RIDE), 10, lat=0.0, lon=0.0, ele="1e308"), GPX_RIDE)
    before = {name: np.copy(getattr(streams, name)) for name in ("lat", "lon", "ele", "dist_m", "t_s")}
    check_streams(streams, kind="ride", filename=GPX_RIDE)
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(streams, name), values)


@pytest.mark.parametrize("name", [GPX_RIDE, FIT_RIDE, KAROO, "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit",
                                  "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit", "gc__Garmin830_with_Stages.fit",
                                  "sweatpy__activity_4078723797.gpx", "fitparse__nick.fit"])
def test_clean_real_rides_pass_untouched(name):
    reader = read_fit if name.endswith(".fit") else read_gpx
    streams = reader(raw(name), name)
    checked, warnings = check_streams(streams, kind="ride", filename=name)
    assert warnings == []
    np.testing.assert_array_equal(np.nan_to_num(checked.dist_m), np.nan_to_num(streams.dist_m))


@pytest.mark.parametrize("name", [ROUTE, "georust__strava_route_example.gpx", "coursepointer__cptr004.gpx",
                                  "gpx10_route_rtept_without_elevation.gpx", "gpxpy__cerknicko-jezero.gpx"])
def test_clean_real_routes_pass_untouched(name):
    checked, warnings = check_streams(read_gpx(raw(name), name), kind="route", filename=name)
    assert warnings == []


def test_a_track_at_car_speed_throughout_is_no_ride():
    streams = read_gpx(raw(GPX_RIDE), GPX_RIDE)
    streams.t_s = streams.t_s / 6  # the same track in a sixth of the time: 150 km/h
    with pytest.raises(InvalidFileError, match="faster than 120 km/h"):
        check_streams(streams, kind="ride", filename="car.gpx")


# ----------------------------------------------------------------------------------------------- summaries

def test_a_garmin_summary_with_impossible_figures_keeps_only_the_plausible_ones():
    summary = {"started_at": datetime(2024, 5, 1, 6, tzinfo=UTC), "elapsed_time_s": 7200.0, "moving_time_s": 7000.0,
               "distance_m": 4.2e7, "elevation_gain_m": 1e308, "avg_hr": 140.0, "max_hr": 400.0, "avg_power_w": 210.0}
    checked, warnings = check_summary(summary, label="Morning ride")
    assert checked["distance_m"] is None and checked["elevation_gain_m"] is None and checked["max_hr"] is None
    assert checked["avg_hr"] == 140.0 and checked["avg_power_w"] == 210.0
    assert warnings[0].code == "summary" and "distance" in warnings[0].message


def test_a_garmin_summary_dated_1816_is_refused():
    with pytest.raises(InvalidFileError, match="Morning ride: it is dated 1816"):
        check_summary({"started_at": datetime(1816, 1, 1, tzinfo=UTC)}, label="Morning ride")


def test_the_ride_page_shows_what_was_repaired_on_import(db_path):
    from core.athletes import AthleteProfile, create_athlete
    from core.store.db import connect
    from tests.apptest_helpers import run_app_page, shown

    db = connect(db_path)
    athlete_id = create_athlete(db.cursor(), AthleteProfile(name="Page Rider", ftp_w=250))
    ride_id = import_file(db.cursor(), athlete_id, "faulty.gpx",
                          edit_point(raw(GPX_RIDE), 4000, lat=0.0, lon=0.0))["id"]
    db.close()
    at = run_app_page("app_pages/ride_page.py", id=ride_id)
    assert not at.exception
    repaired = [shown(w.value) for w in at.warning if shown(w.value).startswith("Repaired on import")]
    assert len(repaired) == 1 and "0°N 0°E" in repaired[0]
