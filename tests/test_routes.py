"""core.routes.store storage (one transaction, bulk points, JSON shape) and core.views.mapview (offline, simplified maps)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import core.routes.store as routes
from core.errors import InvalidFileError, NotFoundError, ValidationError
from core.files.gpx import read_gpx
from core.files.streams import ActivityStreams
from core.store.db import data_version, table_counts, transaction
from core.views.mapview import (
    LEAFLET_JS,
    MapLine,
    build_map,
    highlight_layer,
    highlighted_profile,
    map_html_size,
    profile_base,
    profile_figure,
    route_map,
    section_color,
    simplify_line,
)

DATA = Path(__file__).resolve().parent / "data"
CPTR003 = (DATA / "coursepointer__cptr003.gpx").read_bytes()


def streams_of(n=500, seed=1) -> ActivityStreams:
    rng = np.random.default_rng(seed)
    lat = 45 + np.cumsum(rng.normal(0.0001, 0.00002, n))
    lon = 6 + np.cumsum(rng.normal(0.0001, 0.00002, n))
    from core.files.gpx import cumulative_distance_m

    dist = cumulative_distance_m(lat, lon)
    ele = 200 + 0.06 * dist
    return ActivityStreams(lat=lat, lon=lon, ele=ele, dist_m=dist, name="Synthetic")


# -------------------------------------------------------------------------------------------- storage


def test_importing_a_gpx_route_returns_the_documented_json_shape(cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "rides/cptr003.gpx", CPTR003)
    assert list(result) == ["file", "ok", "kind", "id", "points", "distance_m", "elevation_gain_m", "sections",
                            "warnings", "data_warnings"]  # what the plausibility check repaired (issue 16)
    assert result["warnings"] == [] and result["data_warnings"] == []
    assert result["file"] == "rides/cptr003.gpx" and result["ok"] is True and result["kind"] == "route"
    assert result["points"] == 1352 and 47_000 < result["distance_m"] < 49_500
    assert list(result["sections"][0]) == ["kind", "start_m", "end_m", "distance_m", "elevation_gain_m",
                                           "avg_grade_pct", "max_grade_pct", "category", "fiets", "est_time_s"]
    assert sum(s["distance_m"] for s in result["sections"]) == pytest.approx(result["distance_m"], abs=0.5)
    assert any(s["kind"] == "climb" and s["category"] == "2" for s in result["sections"])
    route = routes.get_route(cur, result["id"])
    assert route["source_file"] == "cptr003.gpx" and route["name"] == "cptr003" and route["kind"] == "planned"


def test_route_points_are_stored_in_order_and_read_back_as_arrays(cur, athlete_id):
    streams = read_gpx(CPTR003, "cptr003.gpx")
    route_id = routes.store_route(cur, athlete_id, "Skyline", "planned", streams)
    points = routes.route_points(cur, route_id)
    assert len(points["lat"]) == 1352 and points["lat"].dtype == np.float64
    assert np.allclose(points["lat"], streams.lat, atol=1e-6)
    assert np.allclose(points["dist_m"], streams.dist_m, rtol=1e-5, atol=0.5)
    assert np.all(np.diff(points["dist_m"]) >= 0)


def test_a_failure_while_writing_sections_leaves_every_table_unchanged(cur, athlete_id, monkeypatch):
    before = table_counts(cur)
    version = data_version(cur)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(routes, "_insert_sections", broken)
    with pytest.raises(RuntimeError):
        routes.store_route(cur, athlete_id, "Doomed", "planned", streams_of())
    assert table_counts(cur) == before and data_version(cur) == version


def test_store_route_joins_an_outer_transaction_and_rolls_back_with_it(cur, athlete_id):
    before = table_counts(cur)
    with pytest.raises(ValueError):
        with transaction(cur):
            routes.store_route(cur, athlete_id, "Ride path", "recorded", streams_of())
            raise ValueError("the ride failed later")
    assert table_counts(cur) == before


def test_points_without_a_position_are_left_out_of_a_recorded_path(cur, athlete_id):
    streams = streams_of(300)
    streams.lat[10:20] = np.nan
    route_id = routes.store_route(cur, athlete_id, "Tunnel", "recorded", streams)
    assert routes.get_route(cur, route_id)["point_count"] == 290
    assert routes.list_routes(cur, athlete_id) == []  # planned only by default
    assert [r["id"] for r in routes.list_routes(cur, athlete_id, kind="recorded")] == [route_id]


def test_a_route_needs_two_positioned_points_and_a_known_kind(cur, athlete_id):
    indoor = streams_of(50)
    indoor.lat[:] = np.nan
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match="fewer than two points"):
        routes.store_route(cur, athlete_id, "Indoor", "recorded", indoor)
    with pytest.raises(ValidationError, match="kind"):
        routes.store_route(cur, athlete_id, "X", "dreamt", streams_of())
    assert table_counts(cur) == before


def test_storing_bumps_the_data_version_and_writes_an_audit_line(cur, athlete_id):
    version = data_version(cur)
    route_id = routes.store_route(cur, athlete_id, "Audited", "planned", streams_of())
    assert data_version(cur) == version + 1
    assert cur.execute("SELECT count(*) FROM audit_log WHERE entity = 'route' AND entity_id = ?",
                       [route_id]).fetchone()[0] == 1


def test_sections_store_the_gear_hint_and_details_for_climbs(cur, athlete_id):
    route_id = routes.store_route(cur, athlete_id, "Up", "planned", streams_of(800))
    sections = routes.route_sections(cur, route_id)
    climb = [s for s in sections if s["kind"] == "climb"][0]
    assert "rpm" in climb["gear_hint"] and climb["details"]["gear"]["power_w"] == round(250 * 0.85)
    assert [s["seq"] for s in sections] == list(range(len(sections)))


def test_renaming_and_deleting_a_route_removes_its_points_and_sections(cur, athlete_id):
    route_id = routes.store_route(cur, athlete_id, "Old", "planned", streams_of())
    routes.rename_route(cur, route_id, "  New   name ", athlete_id)
    assert routes.get_route(cur, route_id)["name"] == "New name"
    with pytest.raises(ValidationError):
        routes.rename_route(cur, route_id, "   ")
    routes.delete_route(cur, route_id, athlete_id)
    counts = table_counts(cur)
    assert counts["routes"] == 0 and counts["route_points"] == 0 and counts["sections"] == 0
    with pytest.raises(NotFoundError):
        routes.get_route(cur, route_id)


def test_another_athletes_route_is_not_found(cur, athlete_id):
    from core.athletes import AthleteProfile, create_athlete

    other = create_athlete(cur, AthleteProfile(name="Other"))
    route_id = routes.store_route(cur, athlete_id, "Mine", "planned", streams_of())
    with pytest.raises(NotFoundError):
        routes.delete_route(cur, route_id, other)
    assert routes.get_route(cur, route_id)["id"] == route_id


def test_resectioning_replaces_the_sections(cur, athlete_id):
    from core.routes.sections import SectionParams

    route_id = routes.store_route(cur, athlete_id, "R", "planned", streams_of(800))
    # no climb may qualify: not by length, not by category (a categorised climb is never hidden), not as a wall
    never = SectionParams(min_climb_length_m=1e9, min_category_grade_pct=1e9, wall_grade_pct=1e9)
    count = routes.resection_route(cur, route_id, params=never)
    assert count == len(routes.route_sections(cur, route_id))
    assert all(s["kind"] != "climb" for s in routes.route_sections(cur, route_id))


def test_sections_json_of_a_stored_route_matches_the_import_result(cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", CPTR003)
    assert routes.route_json(cur, result["id"], "cptr003.gpx") == result


# ---------------------------------------------------------------------------------------------- maps


def big_line(n=250_000):
    t = np.linspace(0, 40 * np.pi, n)
    lat = 45 + 0.2 * np.sin(t / 7) + 0.002 * np.sin(t * 5)
    lon = 6 + 0.3 * t / t[-1] + 0.002 * np.cos(t * 3)
    return lat, lon


def test_a_250k_point_line_is_simplified_to_at_most_2000_points_within_the_stated_deviation():
    lat, lon = big_line()
    simple = simplify_line(lat, lon)
    assert 2 < simple.points <= 2000 and simple.index[0] == 0 and simple.index[-1] == len(lat) - 1
    assert 0 < simple.max_deviation_m < 100
    m = build_map([MapLine(lat, lon, name="Big ride")])
    assert map_html_size(m) < 300_000
    assert m.velocoach_simplification[0].points == simple.points


def test_the_map_loads_leaflet_from_the_app_and_nothing_from_outside():
    lat, lon = big_line(5000)
    html = build_map([MapLine(lat, lon)]).get_root().render()
    urls = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert LEAFLET_JS in urls
    assert all(url.startswith("/app/static/") for url in urls), urls
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert (Path(__file__).resolve().parents[1] / "static" / "leaflet" / "leaflet.js").is_file()


def test_two_rides_draw_in_their_own_colours():
    lat, lon = big_line(3000)
    m = build_map([MapLine(lat, lon, "#E4572E", "Monday"), MapLine(lat + 0.01, lon, "#3A86FF", "Friday")])
    html = m.get_root().render()
    assert '"color": "#E4572E"' in html and '"color": "#3A86FF"' in html


def _normalised_script(folium_map) -> str:
    """The map's HTML with folium's random element ids taken out (two builds of one map then compare equal)."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", folium_map.get_root().render())


def _polylines(element) -> list[tuple[str, list]]:
    import folium

    return [(child.options["color"], child.locations) for child in element._children.values()
            if isinstance(child, folium.PolyLine)]


def test_the_route_map_colours_sections_and_marks_climbs(cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", CPTR003)
    points, sections = routes.route_points(cur, result["id"]), routes.route_sections(cur, result["id"])
    plain = route_map(points, sections).get_root().render()
    assert section_color("descent") in plain and section_color("flat") in plain
    assert "Summit" in plain and "Start: Climb" in plain
    assert "#111111" not in plain


def test_a_highlighted_section_is_a_layer_of_its_own_over_an_unchanged_map(cur, athlete_id):
    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", CPTR003)
    points, sections = routes.route_points(cur, result["id"]), routes.route_sections(cur, result["id"])
    climb = next(i for i, s in enumerate(sections) if s["kind"] == "climb")
    base = route_map(points, sections)
    assert _normalised_script(base) == _normalised_script(route_map(points, sections))  # nothing of a choice in it
    layer = highlight_layer(points, sections, climb)
    casing, line = _polylines(layer)
    assert casing[0] == "#111111" and line[0] == section_color("climb", sections[climb]["avg_grade_pct"])
    # exactly the climb's own stretch as the map draws it, not the whole route nor another section
    drawn = [locations for color, locations in _polylines(base) if color == line[0]]
    assert casing[1] == line[1] and line[1] in drawn
    lat, lon, dist = (np.asarray(points[k]) for k in ("lat", "lon", "dist_m"))
    start, end = sections[climb]["start_m"], sections[climb]["end_m"]
    first, last = max(np.searchsorted(dist, start) - 1, 0), np.searchsorted(dist, end) + 1  # ends interpolated
    inside = np.zeros(len(dist), dtype=bool)
    inside[first:last + 1] = True
    south, north = lat[inside].min() - 1e-4, lat[inside].max() + 1e-4
    west, east = lon[inside].min() - 1e-4, lon[inside].max() + 1e-4
    assert all(south <= la <= north and west <= lo <= east for la, lo in line[1])
    assert len(line[1]) >= inside.sum() * 0.5
    assert "fitBounds" in _script_of(layer)  # brought into view when out of it
    assert highlight_layer(points, sections, None) is None and highlight_layer(points, sections, len(sections)) is None


def _script_of(layer) -> str:
    import folium

    m = folium.Map()
    layer.add_to(m)
    return m.get_root().render()


def test_the_profile_outlines_the_chosen_section_over_the_same_traces(cur, athlete_id):
    import plotly.graph_objects as go

    result = routes.import_gpx_route(cur, athlete_id, "cptr003.gpx", CPTR003)
    points, sections = routes.route_points(cur, result["id"]), routes.route_sections(cur, result["id"])
    climb = next(i for i, s in enumerate(sections) if s["kind"] == "climb")
    base = profile_base(points)
    plain, lit = highlighted_profile(base, sections, None), highlighted_profile(base, sections, climb)
    assert plain.to_json() != lit.to_json() and plain.data == lit.data  # only the bands differ
    outlined = [i for i, shape in enumerate(lit.layout.shapes) if shape.line.width == 2]
    assert outlined == [climb] and not [s for s in plain.layout.shapes if s.line.width == 2]
    assert lit.layout.shapes[climb].x0 == pytest.approx(sections[climb]["start_m"] / 1000)
    go.Figure(lit.to_dict())  # put together unvalidated, it still passes plotly's validation
    assert lit.to_json() == profile_figure(points, sections, climb).to_json()


def test_steeper_climbs_get_darker_colours():
    assert section_color("climb", 4) != section_color("climb", 9) != section_color("climb", 12)


def test_storing_works_after_the_caller_left_a_result_half_read(cur, athlete_id):
    cur.execute("SELECT id FROM athletes").fetchone()  # what a caller might do just before
    with transaction(cur):
        cur.execute("SELECT count(*) FROM routes").fetchone()
        route_id = routes.store_route(cur, athlete_id, "After a read", "recorded", streams_of())
    assert routes.get_route(cur, route_id)["point_count"] == 500


def test_the_route_list_finds_any_of_thousands_by_name_file_or_id_and_counts_them_all(cur, athlete_id):
    from core.routes.store import count_routes, list_routes
    from core.store.db import transaction

    with transaction(cur):
        cur.execute("INSERT INTO routes (athlete_id, name, kind, source_file) SELECT ?, 'Loop ' || i, 'planned', "
                    "'loop_' || i || '.gpx' FROM range(1, 251) t(i)", [athlete_id])
    assert count_routes(cur, athlete_id) == 250 and len(list_routes(cur, athlete_id)) == 200
    assert [r["name"] for r in list_routes(cur, athlete_id, text="loop 17")] == [
        *(f"Loop {n}" for n in range(179, 169, -1)), "Loop 17"]
    oldest = min(r["id"] for r in list_routes(cur, athlete_id, limit=1000))
    assert [r["name"] for r in list_routes(cur, athlete_id, text=f"#{oldest}")] == ["Loop 1"]
    assert count_routes(cur, athlete_id, text="loop_25.gpx") == 1  # the file name too
    assert count_routes(cur, athlete_id, text="100%") == 0 and count_routes(cur, athlete_id, text="_") == 250
