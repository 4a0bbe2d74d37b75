"""core.files.elevation: one elevation-gain method for rides and routes, on synthetic profiles with known gain
and on real recordings against the gain their own head units computed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Stream

from core.athletes import AthleteProfile, create_athlete
from core.cli import main as cli
from core.files.elevation import (
    altitude_jitter_m,
    detect_altitude_source,
    elevation_gain,
    elevation_profile,
    hint_from_creator,
    hysteresis_runs,
)
from core.files.fit import read_fit
from core.files.gpx import read_gpx
from core.files.streams import ActivityStreams
from core.rides.dashboard import period_totals
from core.rides.store import get_ride, store_ride
from core.routes.store import route_sections, store_route
from core.store.db import connect, integrity_problems
from tests.terrain_profiles import flat_profile, ride_over, two_climbs_profile

RIDES = Path(__file__).resolve().parent / "data" / "rides"
TRUE_TWO_CLIMBS_GAIN_M = 694.0


def device_total_ascent(data: bytes) -> float:
    messages, _ = Decoder(Stream.from_byte_array(bytearray(data))).read()
    return float(messages["session_mesgs"][0]["total_ascent"])


# ------------------------------------------------------------------------------------- synthetic profiles

@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_noisy_flat_ride_gains_less_than_150_m(seed):
    ride = ride_over(*flat_profile(30_000), noise="gps", seed=seed)
    gain, _, source = elevation_gain(ride.dist_m, ride.ele, t_s=ride.t_s)
    assert source == "gps"
    assert gain < 150
    # the raw altitude swings by metres between fixes: counting it naively gives thousands of metres
    naive = np.sum(np.clip(np.diff(ride.ele), 0, None))
    assert naive > 3000


def test_the_same_noisy_flat_track_as_a_route_gains_the_same_little():
    ride = ride_over(*flat_profile(30_000), noise="gps", seed=5)
    as_ride, _, _ = elevation_gain(ride.dist_m, ride.ele, t_s=ride.t_s)
    as_route, _, source = elevation_gain(ride.dist_m, ride.ele)  # no times
    assert source == "gps" and as_route < 150 and abs(as_route - as_ride) < 30


@pytest.mark.parametrize("noise", ["gps", "barometric", "none"])
def test_a_ride_over_two_climbs_gains_their_true_height(noise):
    ride = ride_over(*two_climbs_profile(), noise=noise, seed=2)
    gain, loss, _ = elevation_gain(ride.dist_m, ride.ele, t_s=ride.t_s)
    assert gain == pytest.approx(TRUE_TWO_CLIMBS_GAIN_M, rel=0.05)
    assert loss == pytest.approx(644.0, rel=0.05)  # down 300 m and 344 m


def test_hysteresis_counts_a_rise_from_its_low_once_it_passes_the_threshold():
    ele = np.array([0, 2, 1, 3, 2, 10, 8, 9, 0], dtype=float)
    climbs, descents = hysteresis_runs(ele, 3.0)
    assert climbs == [(0, 5)] and descents == [(5, 8)]
    profile = elevation_profile(np.arange(0, 90, 10.0), ele, source="barometric")
    assert profile.gain_m > 0 and profile.cum_gain_m[-1] == pytest.approx(profile.gain_m)


def test_the_gain_of_any_stretch_adds_up_to_the_total():
    ride = ride_over(*two_climbs_profile(), noise="gps", seed=3)
    profile = elevation_profile(ride.dist_m, ride.ele, t_s=ride.t_s)
    cut = len(profile.axis) // 3
    first = profile.cum_gain_m[cut] - profile.cum_gain_m[0]
    rest = profile.cum_gain_m[-1] - profile.cum_gain_m[cut]
    assert first + rest == pytest.approx(profile.gain_m)
    assert np.all(np.diff(profile.cum_gain_m) >= 0)


# ------------------------------------------------------------------------------------ altitude source

def test_gps_and_barometric_altitude_are_told_apart_by_their_noise():
    gps = ride_over(*two_climbs_profile(), noise="gps", seed=4)
    baro = ride_over(*two_climbs_profile(), noise="barometric", seed=4)
    assert altitude_jitter_m(gps.ele, gps.dist_m) > 1.0
    assert altitude_jitter_m(baro.ele, baro.dist_m) < 0.3
    assert detect_altitude_source(gps.ele, timed=True, dist_m=gps.dist_m)[0] == "gps"
    assert detect_altitude_source(baro.ele, timed=True, dist_m=baro.dist_m)[0] == "barometric"
    assert detect_altitude_source(baro.ele, timed=False, dist_m=baro.dist_m)[0] == "dem"


@pytest.mark.parametrize("name", ["sweatpy__4078723797.fit", "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"])
def test_a_fit_file_listing_a_barometer_is_barometric(name):
    assert read_fit((RIDES / name).read_bytes(), name).altitude_source == "barometric"


def test_gpx_creators_name_barometers_and_route_planners():
    assert hint_from_creator("Urban Biker - with barometer", True) == "barometric"
    assert hint_from_creator("Garmin Edge 830", True) == "barometric"
    assert hint_from_creator("http://ridewithgps.com/", False) == "dem"
    assert hint_from_creator("http://ridewithgps.com/", True) is None  # a recording exported by a planner
    assert hint_from_creator("StravaGPX", True) is None and hint_from_creator(None, True) is None
    route = read_gpx((RIDES.parent / "coursepointer__cptr003.gpx").read_bytes(), "cptr003.gpx")
    assert route.altitude_source == "dem"


# ----------------------------------------------------------------------------------------- real files

@pytest.mark.parametrize("name", [
    "sweatpy__4078723797.fit",                                   # Garmin Edge 1000: 1,254 m
    "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit",          # Garmin Edge 810: 514 m
    "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit",  # Hammerhead Karoo 2: 351 m
])
def test_real_rides_gain_what_their_head_unit_measured(name):
    data = (RIDES / name).read_bytes()
    streams = read_fit(data, name)
    gain, _, source = elevation_gain(streams.dist_m, streams.ele, t_s=streams.t_s, hint=streams.altitude_source)
    assert source == "barometric"
    assert gain == pytest.approx(device_total_ascent(data), rel=0.15)


def test_the_fit_file_and_its_gpx_exports_gain_the_same():
    fit = read_fit((RIDES / "sweatpy__4078723797.fit").read_bytes(), "a.fit")
    gains = [elevation_gain(fit.dist_m, fit.ele, t_s=fit.t_s)[0]]
    for name in ("sweatpy__4078723797_strava.gpx", "sweatpy__activity_4078723797.gpx"):
        gpx = read_gpx((RIDES / name).read_bytes(), name)
        gains.append(elevation_gain(gpx.dist_m, gpx.ele, t_s=gpx.t_s)[0])
    assert max(gains) - min(gains) < 0.03 * max(gains)


# ------------------------------------------------------------------------------------------ hostile input

@pytest.mark.parametrize("ele", [
    None, np.array([]), np.array([100.0]), np.full(500, np.nan), np.where(np.arange(500) % 2, np.nan, np.inf),
])
def test_no_usable_elevation_gives_no_gain(ele):
    dist = np.arange(500 if ele is None else len(ele), dtype=float) * 5
    assert elevation_gain(dist, ele, t_s=dist) == (None, None, None)


def test_constant_elevation_gains_nothing_and_nan_holes_are_skipped():
    dist = np.arange(2000, dtype=float) * 5
    assert elevation_gain(dist, np.full(2000, 321.0))[0] == 0.0
    ele = np.linspace(100, 300, 2000)
    ele[::7] = np.nan
    assert elevation_gain(dist, ele, t_s=dist / 5)[0] == pytest.approx(200, abs=3)


def test_a_ride_without_distance_is_measured_over_time():
    t = np.arange(3600, dtype=float)
    ele = 100 + 0.1 * t  # 360 m in an hour on a trainer that logs altitude
    gain, _, _ = elevation_gain(np.full(3600, np.nan), ele, t_s=t)
    assert gain == pytest.approx(360, abs=5)


def test_a_single_point_track_has_no_gain():
    assert elevation_gain(np.array([0.0]), np.array([12.0]), t_s=np.array([0.0])) == (None, None, None)


# --------------------------------------------------------------------------------- one figure everywhere

def test_ride_header_climbs_panel_weekly_total_and_cli_agree(db_path, capsys):
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Header", ftp_w=250, weight_kg=72))
    ride = ride_over(*two_climbs_profile(), noise="gps", seed=6)
    stored = store_ride(cur, athlete_id, ride, source="file", external_id="two-climbs")
    header = get_ride(cur, athlete_id, stored.id)["elevation_gain_m"]
    sections = route_sections(cur, get_ride(cur, athlete_id, stored.id)["route_id"])
    panel = sum(s["elevation_gain_m"] for s in sections)
    day = ride.started_at.date()
    week = period_totals(cur, athlete_id, "week", day, day)
    assert header == pytest.approx(TRUE_TWO_CLIMBS_GAIN_M, rel=0.05)
    assert panel == pytest.approx(header, abs=0.01)
    assert float(week["elevation_gain_m"].sum()) == pytest.approx(header, abs=0.01)
    assert integrity_problems(cur) == []
    db.close()
    assert cli(["--db", str(db_path), "ride", str(stored.id), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["elevation_gain_m"] == pytest.approx(header, abs=0.01) and report["altitude_source"] == "gps"


def test_a_route_and_a_ride_of_the_same_track_gain_the_same(cur, athlete_id):
    ride = ride_over(*two_climbs_profile(), noise="gps", seed=7)
    route = ActivityStreams(lat=ride.lat, lon=ride.lon, ele=ride.ele, dist_m=ride.dist_m, name="As a route")
    route_id = store_route(cur, athlete_id, "As a route", "planned", route)
    stored = store_ride(cur, athlete_id, ride, source="file", external_id="same-track")
    route_gain = cur.execute("SELECT elevation_gain_m FROM routes WHERE id = ?", [route_id]).fetchone()[0]
    assert get_ride(cur, athlete_id, stored.id)["elevation_gain_m"] == pytest.approx(route_gain, rel=0.03)
