"""GPX export of rides and routes: read back by core.files.gpx.read_gpx / core.routes.store.import_gpx_route unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ExportImportError, NotFoundError
from core.files.gpx import read_gpx
from core.routes.store import import_gpx_route
from core.store import gpx_export
from core.store.db import table_counts, transaction
from tests.test_backup_helpers import copy_db, shared_template, small_athlete


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path, athlete_id, _ = shared_template(tmp_path_factory)
    return path, athlete_id


@pytest.fixture
def seeded(template, db_path, request):
    copy_db(template[0], db_path)
    return request.getfixturevalue("db").cursor(), template[1]


def _gain(ele: np.ndarray) -> float:
    diffs = np.diff(ele[np.isfinite(ele)])
    return float(diffs[diffs > 0].sum())


def test_a_ride_exported_as_gpx_reads_back_with_the_same_points_times_and_sensors(seeded):
    cur, athlete_id = seeded
    ride_id, started_at = cur.execute("SELECT id, started_at FROM rides WHERE athlete_id = ? AND source = 'demo' "
                                      "ORDER BY id LIMIT 1", [athlete_id]).fetchall()[0]
    name, data = gpx_export.ride_gpx(cur, athlete_id, ride_id)
    assert name.endswith(".gpx") and b"gpxtpx:TrackPointExtension" in data
    streams = read_gpx(data, name)
    rows = cur.execute("SELECT t_s, lat, lon, ele, hr, cadence, power, temp FROM ride_samples WHERE ride_id = ? "
                       "ORDER BY t_s", [ride_id]).fetchall()
    samples = np.array([[np.nan if v is None else float(v) for v in r] for r in rows])
    assert len(streams) == len(samples)
    assert streams.started_at == started_at
    np.testing.assert_allclose(streams.t_s, samples[:, 0])
    np.testing.assert_allclose(streams.lat, samples[:, 1], atol=1e-6)
    np.testing.assert_array_equal(streams.hr, samples[:, 4])
    np.testing.assert_array_equal(streams.cadence, samples[:, 5])
    np.testing.assert_array_equal(streams.power, samples[:, 6])
    np.testing.assert_allclose(streams.temp, samples[:, 7], atol=0.051)
    np.testing.assert_allclose(streams.ele, samples[:, 3], atol=0.006)
    assert _gain(streams.ele) == pytest.approx(_gain(samples[:, 3]), abs=0.5)
    from core.files.gpx import cumulative_distance_m
    assert streams.dist_m[-1] == pytest.approx(cumulative_distance_m(samples[:, 1], samples[:, 2])[-1], rel=1e-6)


def test_a_route_exported_as_gpx_imports_back_as_the_same_route(seeded):
    cur, athlete_id = seeded
    route = cur.execute("SELECT id, name, distance_m, elevation_gain_m, point_count FROM routes "
                        "WHERE athlete_id = ? AND kind = 'planned' ORDER BY id LIMIT 1", [athlete_id]).fetchall()[0]
    name, data = gpx_export.route_gpx(cur, athlete_id, route[0])
    assert b"<time>" not in data
    with transaction(cur):
        again = import_gpx_route(cur, athlete_id, name, data)
    copy = cur.execute("SELECT name, distance_m, elevation_gain_m, point_count FROM routes WHERE id = ?",
                       [again["id"]]).fetchall()[0]
    assert copy[0] == route[1]
    assert copy[3] == route[4]
    assert copy[1] == pytest.approx(route[2], rel=1e-5)
    assert copy[2] == pytest.approx(route[3], abs=1.0)


def test_an_indoor_ride_without_positions_cannot_become_gpx(cur):
    athlete_id = small_athlete(cur)
    with transaction(cur):
        ride_id = cur.execute("INSERT INTO rides (athlete_id, source, external_id, name) VALUES (?, 'file', 'x1', "
                              "'Trainer') RETURNING id", [athlete_id]).fetchall()[0][0]
        cur.execute("INSERT INTO ride_samples (ride_id, t_s, power, hr) SELECT ?, range, 200, 140 FROM range(60)",
                    [ride_id])
    before = table_counts(cur)
    with pytest.raises(ExportImportError, match="Trainer.*no GPS track"):
        gpx_export.ride_gpx(cur, athlete_id, ride_id)
    assert table_counts(cur) == before


def test_another_athletes_ride_or_route_is_not_found(seeded):
    cur, athlete_id = seeded
    stranger = small_athlete(cur, "Stranger")
    ride_id = cur.execute("SELECT min(id) FROM rides WHERE athlete_id = ?", [athlete_id]).fetchall()[0][0]
    route_id = cur.execute("SELECT min(id) FROM routes WHERE athlete_id = ?", [athlete_id]).fetchall()[0][0]
    with pytest.raises(NotFoundError, match=f"Ride #{ride_id}"):
        gpx_export.export_gpx(cur, stranger, "ride", ride_id)
    with pytest.raises(NotFoundError, match=f"Route #{route_id}"):
        gpx_export.export_gpx(cur, stranger, "route", route_id)
    with pytest.raises(ExportImportError, match="choose ride or route"):
        gpx_export.export_gpx(cur, athlete_id, "lap", 1)


def test_gpx_output_is_valid_for_gpxpy_too_and_escapes_the_name(seeded):
    import gpxpy

    cur, athlete_id = seeded
    ride_id = cur.execute("SELECT min(id) FROM rides WHERE athlete_id = ? AND source = 'demo'",
                          [athlete_id]).fetchall()[0][0]
    with transaction(cur):
        cur.execute("UPDATE rides SET name = 'Hills & <valleys> \"quoted\"' WHERE id = ?", [ride_id])
    name, data = gpx_export.ride_gpx(cur, athlete_id, ride_id)
    assert name == "hills-valleys-quoted.gpx"
    parsed = gpxpy.parse(data.decode("utf-8"))
    count = cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id = ?", [ride_id]).fetchall()[0][0]
    assert parsed.tracks[0].name == 'Hills & <valleys> "quoted"'
    assert parsed.get_track_points_no() == count
    assert read_gpx(data, name).name == 'Hills & <valleys> "quoted"'
