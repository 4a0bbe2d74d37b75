"""Routes page through AppTest: upload through the file widget, see the route, sections, map and profile."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store.db import connect, table_counts
from tests.apptest_helpers import run_app_page, shown, tiles

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def open_routes() -> AppTest:
    return run_app_page("app_pages/routes_page.py")


def folium_component(at: AppTest, with_id: bool = False):
    """The st_folium custom component element's arguments (AppTest has no typed wrapper for components), and
    with ``with_id`` its element id too (the browser keeps the component while the id stays)."""
    for node in at.get("component_instance") or []:
        proto = node.proto
        if "streamlit_folium" in proto.component_name:
            return (json.loads(proto.json_args), proto.id) if with_id else json.loads(proto.json_args)
    return None


def upload(at: AppTest, *names: str) -> AppTest:
    at.file_uploader(key="routes_upload").set_value(
        [(name, (DATA / name).read_bytes(), "application/gpx+xml") for name in names])
    return at.run()


def test_an_empty_routes_page_invites_an_upload(db_path):
    at = open_routes()
    assert not at.exception
    assert at.title[0].value == "Routes"
    assert at.file_uploader(key="routes_upload").accept_multiple_files
    assert any("No routes yet" in i.value for i in at.info)


def test_uploading_gpx_files_shows_the_route_sections_map_and_profile(db_path):
    at = upload(open_routes(), "coursepointer__cptr003.gpx", "empty.gpx")
    assert not at.exception
    assert [shown(w.value) for w in at.warning] == ["Imported 1 of 2 files (1 route); 1 could not be imported."]
    lines = [shown(m.value) for m in at.markdown]
    assert any("Stored: coursepointer__cptr003.gpx: route, 48.3 km" in line for line in lines)
    assert any("Not imported: empty.gpx: the file is empty" in line for line in lines)
    assert not at.get("progress")  # no full bar left saying "Imported 2 of 2" above an error
    assert at.selectbox(key="routes_selected").value is not None
    assert list(tiles(at)) == ["Distance", "Elevation gain", "Climbs", "Estimated time"]
    assert tiles(at)["Distance"] == "48.3 km"
    table = at.dataframe[-1].value  # the section table (the route list comes first)
    assert "Climb" in set(table["Kind"]) and table["Length (km)"].astype(float).sum() > 48
    assert "None" not in table.to_string() and not any("_" in c for c in table.columns)
    component = folium_component(at)
    assert component is not None
    script = component["script"]
    assert "L.polyline" in script or "polyline" in script.lower()
    assert component["js_links"] == ["/app/static/leaflet/leaflet.js"]
    assert component["css_links"] == ["/app/static/leaflet/leaflet.css"]
    assert at.get("plotly_chart")
    assert any("Map line: 1,352 of 1,352 points" in c.value for c in at.caption)


def test_an_empty_gpx_says_nothing_was_imported_and_no_earlier_route_stays_on_screen(db_path):
    at = upload(open_routes(), "coursepointer__cptr003.gpx")
    assert tiles(at)["Distance"] == "48.3 km"
    at = upload(at, "empty.gpx")
    assert not at.exception
    assert [shown(e.value) for e in at.error] == ["Imported 0 of 1 file; 1 could not be imported."]
    assert not at.get("progress") and not tiles(at)  # the earlier route is not shown as if it were this file
    assert at.selectbox(key="routes_selected").value is None


def test_importing_the_same_gpx_again_finds_the_stored_route_instead_of_a_copy(db_path):
    at = upload(open_routes(), "coursepointer__cptr004.gpx")
    first = at.selectbox(key="routes_selected").value
    at.file_uploader(key="routes_upload").set_value(
        [("renamed copy.gpx", (DATA / "coursepointer__cptr004.gpx").read_bytes(), "application/gpx+xml")])
    at.run()
    assert not at.exception
    assert any(shown(i.value).startswith("Imported 0 of 1 file; 1 already imported") for i in at.info)
    assert any(f"already imported as route #{first}" in shown(m.value) for m in at.markdown)
    assert at.selectbox(key="routes_selected").value == first
    database = connect(db_path)
    try:
        assert table_counts(database.cursor())["routes"] == 1
    finally:
        database.close()


def test_a_rerun_does_not_import_the_same_upload_twice(db_path):
    at = upload(open_routes(), "coursepointer__cptr004.gpx")
    at.run()
    at.run()
    database = connect(db_path)
    try:
        assert table_counts(database.cursor())["routes"] == 1
    finally:
        database.close()


def test_choosing_a_section_highlights_it_on_map_and_profile_without_a_new_map(db_path):
    at = upload(open_routes(), "coursepointer__cptr003.gpx")
    before, before_id = folium_component(at, with_id=True)
    assert before["feature_group"] is None
    box = at.selectbox(key="routes_highlight")
    climb = next(o for o in box.options if "Climb" in o and "Cat" in o)
    box.set_value(climb).run()
    assert not at.exception
    after, after_id = folium_component(at, with_id=True)
    # the same map, kept by the browser (same element id, same script): only the highlight layer is new
    assert after_id == before_id and after["script"] == before["script"] and "#111111" not in after["script"]
    layer = after["feature_group"]
    assert "#111111" in layer and "map_div.addLayer(feature_group_feature_group_0)" in layer
    index = box.options.index(climb)
    length_and_grade = climb.split(" · ")[1]  # "#2 Climb · 5.4 km at 7.3 % · Cat 2" -> "5.4 km at 7.3 %"
    assert f"Climb {length_and_grade}" in layer  # the chosen section's own line, with its tooltip
    profile = json.loads(at.get("plotly_chart")[0].proto.spec)
    outlined = [i for i, shape in enumerate(profile["layout"]["shapes"]) if shape["line"]["width"] == 2]
    assert outlined == [index]
    box.set_value(None).run()
    cleared, cleared_id = folium_component(at, with_id=True)
    assert cleared_id == before_id and cleared["feature_group"] is None


def test_renaming_and_deleting_a_route_from_the_page(db_path):
    at = upload(open_routes(), "georust__strava_route_example.gpx")
    route_id = at.selectbox(key="routes_selected").value
    at.text_input(key=f"routes_rename_{route_id}").set_value("Lunch loop")
    at.button(key="routes_rename_button").click().run()
    assert not at.exception
    assert "Lunch loop" in at.selectbox(key="routes_selected").format_func(route_id)
    at.checkbox(key=f"routes_delete_sure_{route_id}").check().run()
    at.button(key="routes_delete_button").click().run()
    assert not at.exception
    assert any("No routes yet" in i.value for i in at.info)


def test_a_hiking_track_is_flagged_on_the_routes_page(db_path):
    from tests.test_terrain_sections import gpx_bytes, hiking_track

    _, ele, lat, lon = hiking_track()
    at = open_routes()
    at.file_uploader(key="routes_upload").set_value([("hike.gpx", gpx_bytes(lat, lon, ele), "application/gpx+xml")])
    at.run()
    assert not at.exception
    assert any("hiking track" in w.value and "grades no one rides" in w.value for w in at.warning)
    table = at.dataframe[-1].value
    descents = table[table["Kind"] == "Descent"]
    assert len(descents) and (descents["Speed (km/h)"].astype(float) < 8).all() and (descents["Walk"] == "walk").all()


def test_the_kept_map_sends_exactly_what_st_folium_would(cur, athlete_id, monkeypatch):
    """ui.kept_map repeats st_folium's steps once per route (streamlit-folium is pinned): its arguments must stay
    what st_folium itself sends, highlight layer included, or the browser would draw another map."""
    import streamlit_folium

    import ui
    from core.routes.store import import_gpx_route, route_points, route_sections
    from core.views.mapview import highlight_layer, route_map

    route = import_gpx_route(cur, athlete_id, "cptr003.gpx", (DATA / "coursepointer__cptr003.gpx").read_bytes())
    points, sections = route_points(cur, route["id"]), route_sections(cur, route["id"])
    sent = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kwargs: sent.append(kwargs))
    climb = next(i for i, s in enumerate(sections) if s["kind"] == "climb")
    streamlit_folium.st_folium(route_map(points, sections, name="Loop"), key="routes_map_1", height=460, width=None,
                               returned_objects=[], feature_group_to_add=highlight_layer(points, sections, climb))
    ui.kept_map("routes_map_1", ("test", route["id"]), lambda: route_map(points, sections, name="Loop"),
                layer=highlight_layer(points, sections, climb), height=460)
    ours, theirs = sent[1], sent[0]
    assert "#111111" in ours["feature_group"]
    assert {k: v for k, v in ours.items() if k != "on_change"} == {k: v for k, v in theirs.items() if k != "on_change"}
