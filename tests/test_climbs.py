"""Repeated climbs: rides matched by position to the rider's known climbs, efforts timed at the exact gate
crossings, fastest first with PRs; storage, deletes, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.files.streams import ActivityStreams
from core.rides.efforts import climb_efforts, climbs_report, list_climbs, mean_between, ride_efforts
from core.rides.store import delete_rides, store_ride
from core.routes.climb_match import Track, climb_shape, find_passages
from core.routes.climbs import candidates
from core.routes.store import delete_route, store_route
from core.store.db import integrity_problems, table_counts
from tests.terrain_profiles import ride_over, track_positions

ROOT = Path(__file__).resolve().parent.parent


def hill():
    """2 km flat, a 4 km climb at 6 %, 2 km flat."""
    dist = np.arange(0.0, 8001, 10.0)
    return dist, np.interp(dist, [0, 2000, 6000, 8000], [300, 300, 540, 540])


def ride(day: int, speed: float, power: float, **kw) -> ActivityStreams:
    return ride_over(*hill(), noise=kw.pop("noise", "barometric"), seed=day, speed_flat_ms=speed, power_w=power,
                     started_at=datetime(2025, 6, day, 7, tzinfo=UTC), **kw)


def test_two_ridings_of_one_climb_are_two_efforts_fastest_first_with_a_pr(cur, athlete_id):
    slow = store_ride(cur, athlete_id, ride(1, 7.0, 210), source="file", external_id="slow")
    fast = store_ride(cur, athlete_id, ride(2, 9.0, 260), source="file", external_id="fast")
    climbs = list_climbs(cur, athlete_id)
    assert len(climbs) == 1, "the second ride matched the climb found in the first, no duplicate"
    efforts = climb_efforts(cur, athlete_id, climbs[0]["climb_id"])
    assert [e["ride_id"] for e in efforts] == [fast.id, slow.id]
    assert [e["pr"] for e in efforts] == [True, False] and [e["rank"] for e in efforts] == [1, 2]
    assert efforts[0]["time_s"] < efforts[1]["time_s"]
    assert efforts[0]["avg_power_w"] == pytest.approx(260, abs=1)
    assert efforts[0]["w_per_kg"] == pytest.approx(260 / 72, abs=0.02)
    assert efforts[0]["vam_m_h"] == pytest.approx(climbs[0]["gain_m"] / efforts[0]["time_s"] * 3600)
    assert 3500 < climbs[0]["length_m"] < 4500 and 5 < climbs[0]["avg_grade_pct"] < 7
    mine = ride_efforts(cur, athlete_id, slow.id)
    assert len(mine) == 1 and mine[0]["rank"] == 2 and mine[0]["efforts"] == 2


def test_an_effort_is_timed_between_the_exact_gate_crossings_not_the_nearest_samples():
    dist, ele = hill()
    lat, lon = track_positions(dist)
    shape = climb_shape(lat, lon, dist, 2000.0, 6000.0)
    # a rider at exactly 5 m/s recording every 7 s: samples never fall on the gates
    t = np.arange(0, 8000 / 5.0, 7.0)
    d = t * 5.0
    track = Track.of(np.interp(d, dist, lat), np.interp(d, dist, lon), d, t)
    (passage,) = find_passages(track, shape, 4000.0)
    assert passage.start_s == pytest.approx(400.0, abs=0.5) and passage.time_s == pytest.approx(800.0, abs=1.0)
    assert passage.distance_m == pytest.approx(4000.0, abs=5)


def test_riding_the_climb_down_or_stopping_halfway_is_no_effort():
    dist, ele = hill()
    lat, lon = track_positions(dist)
    shape = climb_shape(lat, lon, dist, 2000.0, 6000.0)
    down = Track.of(lat[::-1], lon[::-1], dist[-1] - dist[::-1], np.arange(len(dist), dtype=float))
    assert find_passages(down, shape, 4000.0) == []
    half = Track.of(lat[:420], lon[:420], dist[:420], np.arange(420, dtype=float))  # turns back at 4.2 km
    assert find_passages(half, shape, 4000.0) == []


def test_hill_repeats_are_one_effort_each():
    dist, ele = hill()
    lat, lon = track_positions(dist)
    shape = climb_shape(lat, lon, dist, 2000.0, 6000.0)
    up = slice(150, 650)
    laps_lat = np.concatenate([np.concatenate((lat[up], lat[up][::-1])) for _ in range(3)])
    laps_lon = np.concatenate([np.concatenate((lon[up], lon[up][::-1])) for _ in range(3)])
    steps = np.hypot(np.diff(laps_lat) * 111_320, np.diff(laps_lon) * 78_700)
    laps_dist = np.concatenate(([0.0], np.cumsum(steps)))
    passages = find_passages(Track.of(laps_lat, laps_lon, laps_dist, np.arange(len(laps_lat), dtype=float)), shape)
    assert len(passages) == 3


def test_a_route_climb_is_known_before_it_is_ridden_and_rides_find_it(cur, athlete_id):
    dist, ele = hill()
    lat, lon = track_positions(dist)
    route_id = store_route(cur, athlete_id, "Planned hill", "planned",
                           ActivityStreams(lat=lat, lon=lon, ele=ele, dist_m=dist, name="Planned hill"))
    climbs = list_climbs(cur, athlete_id)
    assert len(climbs) == 1 and climbs[0]["origin"] == "route" and climbs[0]["effort_count"] == 0
    store_ride(cur, athlete_id, ride(3, 8.0, 240), source="file", external_id="after-route")
    assert [c["effort_count"] for c in list_climbs(cur, athlete_id)] == [1]
    delete_route(cur, route_id, athlete_id)
    assert list_climbs(cur, athlete_id)[0]["effort_count"] == 1  # the climb stays: it has history
    assert integrity_problems(cur) == []


def test_a_route_imported_after_the_rides_collects_their_efforts(cur, athlete_id, tmp_path):
    from core.importer import import_file

    store_ride(cur, athlete_id, ride(4, 8.0, 240, noise="gps"), source="file", external_id="gps-ride")
    cur.execute("DELETE FROM climb_efforts")  # as if the climb had not been found in that ride
    cur.execute("DELETE FROM climbs")
    dist, ele = hill()
    lat, lon = track_positions(dist)
    points = "".join(f'<trkpt lat="{a:.7f}" lon="{b:.7f}"><ele>{e:.1f}</ele></trkpt>' for a, b, e in zip(lat, lon, ele, strict=True))
    gpx = f'<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'
    import_file(cur, athlete_id, "hill.gpx", gpx.encode())
    (climb,) = list_climbs(cur, athlete_id)
    assert climb["origin"] == "route" and climb["effort_count"] == 1


def test_the_bounding_box_prefilter_only_offers_climbs_near_the_ride(cur, athlete_id):
    store_ride(cur, athlete_id, ride(5, 8.0, 240), source="file", external_id="near")
    far = ride_over(*hill(), noise="barometric", seed=9, lat0=47.0, lon0=8.0,
                    started_at=datetime(2025, 6, 9, tzinfo=UTC))
    store_ride(cur, athlete_id, far, source="file", external_id="far")
    assert len(list_climbs(cur, athlete_id)) == 2
    near_box = Track.of(*track_positions(hill()[0]), hill()[0]).bbox()
    assert len(candidates(cur, athlete_id, near_box)) == 1
    assert candidates(cur, athlete_id, (10.0, 10.0, 10.1, 10.1)) == []


def test_deleting_a_ride_deletes_its_efforts_and_forgets_climbs_left_without_any(cur, athlete_id):
    only = store_ride(cur, athlete_id, ride(6, 8.0, 240), source="file", external_id="only")
    assert table_counts(cur)["climb_efforts"] == 1
    delete_rides(cur, athlete_id, [only.id])
    counts = table_counts(cur)
    assert counts["climb_efforts"] == 0 and counts["climbs"] == 0
    assert integrity_problems(cur) == []


def test_a_climb_found_in_a_deleted_ride_stays_while_others_rode_it(cur, athlete_id):
    first = store_ride(cur, athlete_id, ride(7, 8.0, 240), source="file", external_id="first")
    store_ride(cur, athlete_id, ride(8, 8.5, 250), source="file", external_id="second")
    delete_rides(cur, athlete_id, [first.id])
    (climb,) = list_climbs(cur, athlete_id)
    assert climb["effort_count"] == 1 and integrity_problems(cur) == []


def test_mean_between_weighs_fractions_of_a_second_and_skips_pauses():
    t = np.array([0.0, 1.0, 2.0, 3.0, 40.0, 41.0])
    power = np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
    assert mean_between(t, power, 0.5, 2.5) == pytest.approx((50 + 200 + 150) / 2)
    # 3 → 40 s is a 37 s hole: 400 W holds for 10 s (MAX_GAP_S), then nothing is known until 40 s
    assert mean_between(t, power, 3.0, 41.0) == pytest.approx((400 * 10 + 500) / 11)
    assert mean_between(t, np.full(6, np.nan), 0, 5) is None


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "--db", str(db), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_climbs_json_prints_one_record_per_climb_with_efforts_fastest_first(db_path):
    from core.athletes import AthleteProfile, create_athlete
    from core.store.db import connect

    db = connect(db_path)
    cur = db.cursor()
    athlete = create_athlete(cur, AthleteProfile(name="CLI", ftp_w=250, weight_kg=70))
    for day, speed in ((10, 7.0), (11, 9.0), (12, 8.0)):
        store_ride(cur, athlete, ride(day, speed, 200 + day), source="file", external_id=f"cli-{day}")
    expected = climbs_report(cur, athlete)
    db.close()
    result = run_cli(db_path, "climbs", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(expected) == 1
    record = lines[0]
    assert {"climb_id", "name", "length_m", "avg_grade_pct", "efforts"} <= set(record)
    assert [set(e) >= {"ride_id", "time_s", "avg_power_w", "date"} for e in record["efforts"]] == [True] * 3
    times = [e["time_s"] for e in record["efforts"]]
    assert times == sorted(times) and record["efforts"][0]["pr"] is True
    one = run_cli(db_path, "climb", str(record["climb_id"]), "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["efforts"][0]["rank"] == 1
    missing = run_cli(db_path, "climb", "999")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert run_cli(db_path, "climb", "abc").returncode == 2
    renamed = run_cli(db_path, "climb", str(record["climb_id"]), "--rename", "  ")
    assert renamed.returncode == 1 and "needs a name" in renamed.stderr
    assert run_cli(db_path, "terrain", "refresh", "--json").returncode == 0


def test_a_stale_ride_is_recomputed_by_the_terrain_refresh(cur, athlete_id):
    from core.rides.terrain import refresh_terrain, stale_counts

    stored = store_ride(cur, athlete_id, ride(13, 8.0, 240), source="file", external_id="stale")
    cur.execute("UPDATE rides SET terrain_version = 0, elevation_gain_m = 9999 WHERE id = ?", [stored.id])
    cur.execute("DELETE FROM climb_efforts")
    assert stale_counts(cur)["rides"] == 1
    assert refresh_terrain(cur, athlete_id)["rides"] == 1
    gain = cur.execute("SELECT elevation_gain_m FROM rides WHERE id = ?", [stored.id]).fetchone()[0]
    assert gain == pytest.approx(240, rel=0.05)
    assert table_counts(cur)["climb_efforts"] == 1 and stale_counts(cur)["rides"] == 0


def test_old_summary_only_rides_keep_their_figures_through_the_refresh(cur, athlete_id):
    from core.rides.terrain import refresh_terrain

    summary = {"started_at": datetime(2025, 1, 1, tzinfo=UTC), "distance_m": 40_000.0, "elevation_gain_m": 612.0,
               "moving_time_s": 5400.0, "elapsed_time_s": 5600.0}
    stored = store_ride(cur, athlete_id, None, source="garmin", external_id="summary", summary=summary)
    cur.execute("UPDATE rides SET terrain_version = 0 WHERE id = ?", [stored.id])
    refresh_terrain(cur, athlete_id)
    assert cur.execute("SELECT elevation_gain_m FROM rides WHERE id = ?", [stored.id]).fetchone()[0] == 612.0


def test_a_ride_stopping_short_of_a_known_climbs_top_makes_no_near_copy_of_it(cur, athlete_id):
    store_ride(cur, athlete_id, ride(14, 8.0, 240), source="file", external_id="whole")
    dist, ele = hill()
    short = dist <= 5500  # turns round 500 m before the top
    part = ride_over(dist[short], ele[short], noise="barometric", seed=15,
                     started_at=datetime(2025, 6, 15, tzinfo=UTC))
    store_ride(cur, athlete_id, part, source="file", external_id="short")
    (climb,) = list_climbs(cur, athlete_id)
    assert climb["effort_count"] == 1  # an unfinished climb is no effort (as on Strava), and no new climb
