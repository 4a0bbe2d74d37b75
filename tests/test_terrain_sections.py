"""Terrain sanity in sections: nothing categorised or steep hides in a flat or descent, hiking tracks are
flagged and walked, route times follow today's FTP, weight and riding setup."""

from __future__ import annotations

import numpy as np
import pytest

import core.routes.store as routes
from core.athletes import get_athlete, update_athlete, validate_profile
from core.errors import ValidationError
from core.files.gpx import read_gpx
from core.routes.sections import split_into_sections, terrain_warnings
from tests.terrain_profiles import track_positions
from tests.test_sections import profile


def test_an_18_percent_wall_of_50_m_in_a_flat_road_is_split_out_where_it_is():
    dist, ele = profile([(3000, 0), (50, 18), (3000, 0)])
    sections = split_into_sections(dist, ele, source="dem")
    assert [s.kind for s in sections] == ["flat", "climb", "flat"]
    wall = sections[1]
    assert wall.details.get("wall") is True and wall.category is None
    assert 2950 < wall.start_m < 3050 and wall.end_m < 3150 and wall.distance_m < 150
    # smoothing spreads the 9 m wall over ~70 m: still far steeper than the 10 % that splits a wall out
    assert wall.avg_grade_pct > 10 and wall.elevation_gain_m == pytest.approx(9, abs=1.5)


def test_a_short_steep_climb_that_scores_a_category_is_never_flat():
    # 400 m at 20 %: 80 m up, score 8,000 = Cat 4, although shorter than the 500 m a climb normally needs
    dist, ele = profile([(3000, 0), (400, 20), (3000, 0)])
    climbs = [s for s in split_into_sections(dist, ele, source="dem") if s.kind == "climb"]
    assert len(climbs) == 1 and climbs[0].category == "4"


def test_a_categorised_climb_inside_a_long_descent_is_not_merged_into_it():
    dist, ele = profile([(2000, 0), (3000, -8), (220, 40), (3000, -8), (2000, 0)])
    sections = split_into_sections(dist, ele, source="dem")
    climbs = [s for s in sections if s.kind == "climb"]
    assert climbs and max(c.elevation_gain_m for c in climbs) > 75
    assert any(c.category == "4" for c in climbs)


def test_every_flat_or_descent_is_free_of_categorised_stretches_on_a_real_route(data_dir):
    streams = read_gpx((data_dir / "coursepointer__cptr003.gpx").read_bytes(), "cptr003.gpx")
    sections = split_into_sections(streams.dist_m, streams.ele)
    for s in sections:
        if s.kind != "climb":
            assert (s.elevation_gain_m or 0) < 80 or (s.avg_grade_pct or 0) < 3


def hiking_track(n=2000):
    """A mountain path: up at 22 % average with 45 % pitches, down the same way."""
    rng = np.random.default_rng(3)
    grades = np.clip(rng.normal(0.22, 0.08, n), 0.05, 0.45)
    grades[300:320] = 0.45
    step = 2.0
    ele = 1200 + np.concatenate(([0.0], np.cumsum(grades[:-1] * step)))
    ele = np.concatenate((ele, ele[::-1]))
    dist = np.arange(len(ele), dtype=float) * step
    lat, lon = track_positions(dist)
    return dist, ele, lat, lon


def gpx_bytes(lat, lon, ele, creator="GPSBabel"):
    points = "".join(f'<trkpt lat="{a:.7f}" lon="{b:.7f}"><ele>{e:.1f}</ele></trkpt>' for a, b, e in zip(lat, lon, ele, strict=True))
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>Hike</name><trkseg>{points}</trkseg></trk></gpx>").encode()


def test_a_hiking_track_is_flagged_and_its_descent_is_not_shown_as_rideable(cur, athlete_id):
    dist, ele, lat, lon = hiking_track()
    result = routes.import_gpx_route(cur, athlete_id, "hike.gpx", gpx_bytes(lat, lon, ele))
    sections = routes.current_sections(cur, result["id"], athlete_id)
    warnings = terrain_warnings(sections)
    assert warnings and "hiking track" in warnings[0] and "20 %" in warnings[0]
    climb = max((s for s in sections if s["kind"] == "climb"), key=lambda s: s["distance_m"])
    assert climb["avg_grade_pct"] > 18 and climb["max_grade_pct"] > 28 and climb["details"]["unrideable"]
    assert "walk" in climb["gear_hint"]
    for descent in (s for s in sections if s["kind"] == "descent"):
        speed_kmh = descent["distance_m"] / descent["est_time_s"] * 3.6
        assert speed_kmh < 8  # walked down, not a 60 km/h descent


def test_a_road_route_has_no_terrain_warning(data_dir, cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", (data_dir / "coursepointer__cptr003.gpx").read_bytes())
    assert terrain_warnings(routes.current_sections(cur, result["id"], athlete_id)) == []


def _total_time(cur, route_id, athlete_id):
    return sum(s["est_time_s"] for s in routes.current_sections(cur, route_id, athlete_id))


def _set(cur, athlete_id, **changes):
    athlete = get_athlete(cur, athlete_id)
    values = {k: athlete[k] for k in ("name", "email", "fitness_level", "ftp_w", "max_hr", "lthr", "weight_kg",
                                      "preferences")}
    prefs = changes.pop("preferences", {})
    values.update(changes)
    values["preferences"] = {**values["preferences"], **prefs}
    update_athlete(cur, athlete_id, validate_profile(**values))


def test_route_time_moves_with_ftp_weight_and_riding_setup(data_dir, cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", (data_dir / "coursepointer__cptr003.gpx").read_bytes())
    times = {}
    for ftp in (150, 250, 300):
        _set(cur, athlete_id, ftp_w=ftp)
        times[ftp] = _total_time(cur, result["id"], athlete_id)
    assert times[150] > times[250] * 1.15 > times[300] * 1.15
    _set(cur, athlete_id, weight_kg=90)
    heavier = _total_time(cur, result["id"], athlete_id)
    assert heavier > times[300] * 1.03
    _set(cur, athlete_id, preferences={"cda_m2": 0.45, "bike_kg": 14, "crr": 0.009})
    assert _total_time(cur, result["id"], athlete_id) > heavier * 1.05
    # the route JSON (import result, `sections --json`) uses today's figures too
    assert sum(s["est_time_s"] for s in routes.route_json(cur, result["id"])["sections"]) == pytest.approx(
        _total_time(cur, result["id"], athlete_id), abs=1)


@pytest.mark.parametrize("prefs", [{"cda_m2": 3}, {"crr": -1}, {"bike_kg": "heavy"}, {"bike_kg": True}])
def test_absurd_riding_settings_are_refused_with_their_name(prefs):
    with pytest.raises(ValidationError) as exc:
        validate_profile(name="R", preferences=prefs)
    assert any(word in str(exc.value) for word in ("CdA", "Crr", "Bike mass"))
