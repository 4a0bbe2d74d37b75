"""Privacy zones: the points of a ride within a zone never reach a map, Compare or a shared GPX file; bad zones are
refused without saving anything; backups keep everything."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from core.athletes import (
    EARTH_RADIUS_M,
    PrivacyZone,
    get_athlete,
    privacy_zones,
    private_points,
    set_privacy_zones,
    shared_gpx,
)
from core.errors import ExportImportError, ValidationError
from core.files.gpx import read_gpx
from core.importer import import_file
from core.rides.compare import compare_rides
from core.store.gpx_export import export_gpx
from core.views.mapview import comparison_map, highlight_layer, route_layer, route_map
from tests.apptest_helpers import run_app_page

RIDE = "sweatpy__activity_4078723797.gpx"
METRES_PER_DEGREE = 2 * math.pi * EARTH_RADIUS_M / 360


def distance_m(lat, lon, zone: PrivacyZone) -> np.ndarray:
    p1, p2 = np.radians(np.asarray(lat, float)), math.radians(zone.lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(np.radians(zone.lon - np.asarray(lon)) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def map_coordinates(folium_map) -> np.ndarray:
    """Every [lat, lon] pair written into the map's page."""
    html = folium_map.get_root().render()
    return np.array([(float(a), float(b)) for a, b in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", html)])


@pytest.fixture
def ride(cur, athlete_id, data_dir) -> dict:
    data = (data_dir / "rides" / RIDE).read_bytes()
    result = import_file(cur, athlete_id, RIDE, data)
    streams = read_gpx(data, RIDE)
    return {"id": result["id"], "lat": streams.lat, "lon": streams.lon, "dist_m": streams.dist_m}


def start_zone(ride: dict, radius_m: float = 400) -> PrivacyZone:
    return PrivacyZone(name="Home", lat=float(ride["lat"][0]), lon=float(ride["lon"][0]), radius_m=radius_m)


def test_points_within_the_radius_are_private_and_the_rest_are_not():
    zone = PrivacyZone(lat=45.0, lon=6.0, radius_m=500)
    lat = 45.0 + np.array([0, 499, 501, 2000, np.nan]) / METRES_PER_DEGREE
    lon = np.array([6.0, 6.0, 6.0, 6.0, 6.0])
    assert private_points(lat, lon, [zone]).tolist() == [True, True, False, False, False]
    assert not private_points(lat, lon, []).any()


@pytest.mark.parametrize("zone, words", [
    ({"lat": 95, "lon": 0}, "lat"),
    ({"lat": 45, "lon": 200}, "lon"),
    ({"lat": 45, "lon": 6, "radius_m": 20}, "radius_m"),
    ({"lat": 45, "lon": 6, "name": ""}, "name"),
    ({"lat": "home", "lon": 6}, "lat"),
])
def test_a_bad_zone_is_refused_naming_it_and_nothing_is_saved(cur, athlete_id, zone, words):
    before = get_athlete(cur, athlete_id)["preferences"]
    with pytest.raises(ValidationError, match=f"privacy zone's {words}"):
        set_privacy_zones(cur, athlete_id, [zone])
    assert get_athlete(cur, athlete_id)["preferences"] == before


def test_at_most_ten_zones(cur, athlete_id):
    with pytest.raises(ValidationError, match="at most 10"):
        set_privacy_zones(cur, athlete_id, [{"lat": 45, "lon": 6 + i / 100} for i in range(11)])
    assert privacy_zones(cur, athlete_id) == []


def test_zones_are_kept_with_the_profile_and_read_back(cur, athlete_id):
    saved = set_privacy_zones(cur, athlete_id, [{"name": "Work", "lat": 51.5, "lon": -0.12, "radius_m": 800}])
    assert privacy_zones(cur, athlete_id) == saved == [PrivacyZone(name="Work", lat=51.5, lon=-0.12, radius_m=800)]
    assert get_athlete(cur, athlete_id)["preferences"]["privacy_zones"][0]["radius_m"] == 800


def test_a_shared_gpx_leaves_out_every_point_in_a_zone_and_keeps_the_rest(cur, athlete_id, ride):
    zone = start_zone(ride)
    set_privacy_zones(cur, athlete_id, [zone])
    _, whole = export_gpx(cur, athlete_id, "ride", ride["id"])  # the unfiltered export (what backups keep)
    name, shared = shared_gpx(cur, athlete_id, "ride", ride["id"])
    assert name.endswith(".gpx")
    full, cut = read_gpx(whole, "whole.gpx"), read_gpx(shared, name)
    inside = distance_m(full.lat, full.lon, zone) <= zone.radius_m
    assert inside.sum() > 10  # the ride starts in the zone: something is really hidden
    assert len(cut.lat) == len(full.lat) - inside.sum()
    assert (distance_m(cut.lat, cut.lon, zone) > zone.radius_m).all()


def test_a_ride_entirely_inside_a_zone_cannot_be_shared(cur, athlete_id):
    from datetime import UTC, datetime

    from core.files.gpx import to_gpx
    from core.files.streams import ActivityStreams

    t = np.arange(600, dtype=float)  # ten minutes circling within 300 m of home
    lat = 45.0 + 250 * np.sin(t / 60) / METRES_PER_DEGREE
    lon = 6.0 + 250 * np.cos(t / 60) / (METRES_PER_DEGREE * math.cos(math.radians(45)))
    streams = ActivityStreams(lat=lat, lon=lon, ele=np.full(600, 300.0), dist_m=t * 4.0, t_s=t,
                              started_at=datetime(2025, 5, 1, 7, tzinfo=UTC), name="Laps round the block")
    ride_id = import_file(cur, athlete_id, "block.gpx", to_gpx(streams).encode())["id"]
    set_privacy_zones(cur, athlete_id, [{"lat": 45.0, "lon": 6.0, "radius_m": 300}])
    with pytest.raises(ExportImportError, match="inside your privacy zones"):
        shared_gpx(cur, athlete_id, "ride", ride_id)
    assert export_gpx(cur, athlete_id, "ride", ride_id)[1].count(b"<trkpt") == 600  # the rider's own copy is whole


def test_a_ride_that_leaves_the_zone_is_shared_without_its_inside(cur, athlete_id, ride):
    zone = start_zone(ride, 5000)
    set_privacy_zones(cur, athlete_id, [zone])
    far = distance_m(ride["lat"], ride["lon"], zone)
    _, shared = shared_gpx(cur, athlete_id, "ride", ride["id"])
    cut = read_gpx(shared, "cut.gpx")
    assert len(cut.lat) == int((far > zone.radius_m).sum())


def test_the_ride_map_draws_nothing_inside_a_zone_and_breaks_the_line_around_it(ride):
    zone = start_zone(ride)
    points = {"lat": ride["lat"], "lon": ride["lon"], "dist_m": ride["dist_m"]}
    sections = [{"kind": "flat", "start_m": 0.0, "end_m": float(ride["dist_m"][-1]), "distance_m": 1.0,
                 "avg_grade_pct": 0.0}]
    open_map = map_coordinates(route_map(points, sections))
    assert (distance_m(open_map[:, 0], open_map[:, 1], zone) <= zone.radius_m).any()
    private = map_coordinates(route_map(points, sections, zones=[zone]))
    assert len(private) > 100
    assert (distance_m(private[:, 0], private[:, 1], zone) > zone.radius_m).all()
    # the Ride page's layer over its kept map draws the same, the map moved to it whatever was in view
    from ui import map_layer_script

    script = map_layer_script(route_layer(points, sections, zones=[zone]))
    layered = np.array([(float(a), float(b)) for a, b in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", script)])
    assert (distance_m(layered[:, 0], layered[:, 1], zone) > zone.radius_m).all()
    assert set(map(tuple, layered)) <= set(map(tuple, private)) and len(layered) >= len(private) - 3  # the map's
    # own centre and fitted bounds are not in the layer
    assert "(true || !map.getBounds().contains(bounds))" in script and "map_div.addLayer(" in script


def test_compare_draws_no_ride_inside_a_zone(cur, athlete_id, ride, data_dir):
    other = "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"
    other_id = import_file(cur, athlete_id, other, (data_dir / "rides" / other).read_bytes())["id"]
    zone = start_zone(ride)
    comparison = compare_rides(cur, athlete_id, [ride["id"], other_id])
    coordinates = map_coordinates(comparison_map(comparison, [zone]))
    assert len(coordinates) > 100
    assert (distance_m(coordinates[:, 0], coordinates[:, 1], zone) > zone.radius_m).all()


def test_settings_adds_and_removes_a_zone(db_path, cur, athlete_id):
    at = run_app_page("app_pages/settings_page.py", timeout=30)
    assert not at.exception
    form_inputs = {w.label: w for w in at.number_input}
    form_inputs["Latitude"].set_value(48.85837)
    form_inputs["Longitude"].set_value(2.29448)
    form_inputs["Radius (m)"].set_value(300)
    next(b for b in at.button if b.label == "Add privacy zone").click().run()
    assert not at.exception and not at.error
    assert privacy_zones(cur, athlete_id) == [PrivacyZone(name="Home", lat=48.85837, lon=2.29448, radius_m=300)]
    at.button(key="privacy_remove_0").click().run()
    assert not at.exception
    assert privacy_zones(cur, athlete_id) == []


def test_a_highlighted_section_leaves_out_what_lies_inside_a_zone(ride):
    zone = start_zone(ride)
    points = {"lat": ride["lat"], "lon": ride["lon"], "dist_m": ride["dist_m"]}
    end_m = float(ride["dist_m"][-1])
    sections = [{"kind": "flat", "start_m": 0.0, "end_m": 100.0, "distance_m": 100.0, "avg_grade_pct": 0.0},
                {"kind": "climb", "start_m": 100.0, "end_m": end_m, "distance_m": end_m - 100, "avg_grade_pct": 5.0}]
    assert highlight_layer(points, sections, 0, zones=[zone]) is None  # wholly inside: nothing to draw
    shown = route_map(points, [], zones=[zone])  # the map leaves the zone out; so must the layer over it
    highlight_layer(points, sections, 1, zones=[zone]).add_to(shown)
    drawn = map_coordinates(shown)
    assert len(drawn) > 100 and (distance_m(drawn[:, 0], drawn[:, 1], zone) > zone.radius_m).all()


def test_git_ignores_every_file_the_app_writes_with_the_riders_data():
    """A rider who keeps the project in git never commits the database, its safety copies, the command line's
    kept answers, tokens, the log or the owner's password file (`git check-ignore` answers for each)."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    written = ["data/velocoach.duckdb", "data/velocoach.duckdb.wal", "data/backups/velocoach-before-restore-1.duckdb",
               "data/velocoach.duckdb.answers/abc-def.txt", "data/garmin_tokens/1/oauth1_token.json",
               "data/logs/velocoach.log", "data/owner-password.json", "data/session-secret", "data/app-api.json"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=root, capture_output=True, text=True)
    assert sorted(result.stdout.split()) == sorted(written)
