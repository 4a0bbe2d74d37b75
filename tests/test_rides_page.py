"""The Rides and Ride pages under AppTest (through the app's navigation): list, filters, tags and bulk actions,
and one ride's detail chosen by ?id=N, against a real temporary database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.athletes import AthleteProfile, create_athlete
from core.rides.store import RideFilter, add_tag, list_tags, search_rides, store_ride
from core.store.db import connect
from tests.apptest_helpers import read_db, run_app_page, shown
from tests.test_ridecharts import band_text
from tests.test_rides import make_ride

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
APP = str(Path(__file__).resolve().parent.parent / "navigation.py")


@pytest.fixture
def seeded(db_path):
    """Three rides in the test database; the page opens the same file (VELOCOACH_DB)."""
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=250, lthr=165, max_hr=190))
    ids = {}
    specs = [("Easy spin", 1800, True), ("Hill repeats", 2400, True), ("Trainer intervals", 1200, False)]
    for day, (name, seconds, outdoor) in enumerate(specs):
        streams = make_ride(seconds, 150 + 50 * day, 130 + 10 * day, started_at=START + timedelta(days=day),
                            outdoor=outdoor, name=name, sport="cycling" if outdoor else "indoor_cycling")
        ids[name] = store_ride(cur, athlete_id, streams, source="file", external_id=name).id
    add_tag(cur, athlete_id, [ids["Easy spin"]], "recovery")
    db.close()
    return {"athlete_id": athlete_id, "ids": ids, "path": db_path}


def run_page(page: str = "app_pages/rides_page.py", **query) -> AppTest:
    """The page as the app runs it (its links need app.py's navigation); ``query`` becomes the address's ?k=v."""
    at = run_app_page(page, **query)
    assert not at.exception, at.exception
    return at


def table_names(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Name"])


def matches(at: AppTest) -> str:
    return next(c.value for c in at.caption if "rides match" in c.value)


def test_the_page_lists_rides_and_links_the_first_to_its_detail(seeded):
    at = run_page()
    assert at.title[0].value == "Rides"
    assert table_names(at) == ["Trainer intervals", "Hill repeats", "Easy spin"]
    assert matches(at) == "3 rides match"
    assert at.selectbox(key="rides_detail").value == seeded["ids"]["Trainer intervals"]
    link = next(e for e in at.get("page_link"))
    assert link.proto.label == "Open ride"
    assert link.proto.query_string == f"id={seeded['ids']['Trainer intervals']}"


def test_the_ride_page_shows_the_ride_named_in_the_address(seeded):
    at = run_page("app_pages/ride_page.py", id=seeded["ids"]["Trainer intervals"])
    assert at.title[0].value == "Ride"
    assert any(sub.value == "Trainer intervals" for sub in at.subheader)
    titles = band_text(_chart_rows(at, "Heart rate (bpm)", "band_text"))[0]
    assert {"Power (W)", "Heart rate (bpm)", "Cadence (rpm)"} <= set(titles)
    assert not at.get("plotly_chart")  # the Ride page loads no Plotly
    assert any("indoor" in c.value for c in at.caption)
    at = run_page("app_pages/ride_page.py", id=seeded["ids"]["Hill repeats"])
    assert any(sub.value == "Hill repeats" for sub in at.subheader)


def test_the_ride_page_without_an_id_offers_a_picker_and_shares_the_choice(seeded):
    at = run_page("app_pages/ride_page.py")
    assert any(sub.value == "Trainer intervals" for sub in at.subheader)  # the latest ride by default
    at.selectbox(key="ride_pick").select(seeded["ids"]["Easy spin"]).run()
    assert not at.exception
    assert any(sub.value == "Easy spin" for sub in at.subheader)
    assert at.query_params["id"] == str(seeded["ids"]["Easy spin"])


def test_the_ride_picker_finds_any_ride_by_id_and_date_and_the_rider_edits_notes_rpe_name_and_type(seeded, db_path):
    at = run_page("app_pages/ride_page.py")
    easy = seeded["ids"]["Easy spin"]
    at.text_input(key="ride_pick_query").input(f"#{easy}").run()
    assert at.selectbox(key="ride_pick").options == [at.selectbox(key="ride_pick").format_func(easy)]
    assert any(sub.value == "Easy spin" for sub in at.subheader)
    at.text_input(key="ride_pick_query").input("1999-01-01").run()
    assert any("No ride matches" in c.value for c in at.caption) and not at.exception
    at.text_input(key="ride_pick_query").input("").run()
    at.selectbox(key="ride_pick").select(easy).run()
    assert not any(w.label == "Notes" for w in at.text_area)  # the edit form is drawn only when asked for
    at.button(key="ride_edit_open").click().run()
    form_inputs = {w.label: w for w in at.text_input}
    form_inputs["Name"].input("Easy spin by the lake")
    next(w for w in at.text_area if w.label == "Notes").input("Windy; *new* tyres")
    next(w for w in at.select_slider if w.label.startswith("RPE")).set_value(3)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception
    assert any(sub.value == "Easy spin by the lake" for sub in at.subheader)
    assert not any(w.label == "Notes" for w in at.text_area)  # saved: the dialog has closed
    assert any("RPE 3/10" in m.value and "\\*new\\*" in m.value for m in at.markdown)  # notes shown as text
    rows, problems = read_db(db_path, f"SELECT name, notes, rpe FROM rides WHERE id = {easy}")
    assert rows == [("Easy spin by the lake", "Windy; *new* tyres", 3)] and problems == []


def test_an_unknown_ride_id_says_so_and_falls_back_to_the_picker(seeded):
    at = run_page("app_pages/ride_page.py", id="999999")
    assert any("999999" in e.value for e in [*at.error, *at.warning])
    assert at.selectbox(key="ride_pick") is not None


def test_filters_narrow_the_list(seeded):
    at = run_page()
    at.text_input(key="rides_text").input("hill").run()
    assert table_names(at) == ["Hill repeats"]
    at.text_input(key="rides_text").input("").run()
    at.number_input(key="rides_min_w").set_value(190).run()
    assert set(table_names(at)) == {"Hill repeats", "Trainer intervals"}
    at.selectbox(key="rides_tag").select("recovery").run()
    assert not at.exception
    assert matches(at) == "0 rides match"  # the recovery ride averaged 150 W


def test_tag_filter_and_adding_and_removing_tags(seeded):
    at = run_page()
    at.selectbox(key="rides_tag").select("recovery").run()
    assert table_names(at) == ["Easy spin"]
    at.selectbox(key="rides_tag").select("(any)").run()
    at.multiselect(key="rides_selected").select(seeded["ids"]["Hill repeats"]).run()
    at.text_input(key="rides_new_tag").input("intervals").run()
    at.button(key="rides_add_tag").click().run()
    assert not at.exception and not at.error
    db = connect(seeded["path"])
    rows, _ = search_rides(db.cursor(), seeded["athlete_id"], RideFilter(tag="intervals"))
    db.close()
    assert [r["name"] for r in rows] == ["Hill repeats"]
    at.multiselect(key="rides_selected").select(seeded["ids"]["Hill repeats"]).run()
    at.selectbox(key="rides_old_tag").select("intervals").run()
    at.button(key="rides_remove_tag").click().run()
    assert not at.exception and not at.error
    db = connect(seeded["path"])
    assert list_tags(db.cursor(), seeded["athlete_id"]) == ["recovery"]
    db.close()


def test_delete_asks_for_confirmation_and_cancel_keeps_the_rides(seeded):
    at = run_page()
    at.checkbox(key="rides_select_all").check().run()
    at.button(key="rides_delete").click().run()
    assert any("Delete 3 ride(s)" in w.value for w in at.warning)
    at.button(key="rides_cancel_delete").click().run()
    assert table_names(at) == ["Trainer intervals", "Hill repeats", "Easy spin"]
    at.checkbox(key="rides_select_all").uncheck().run()
    at.multiselect(key="rides_selected").select(seeded["ids"]["Easy spin"]).run()
    at.button(key="rides_delete").click().run()
    at.button(key="rides_confirm_delete").click().run()
    assert not at.exception and not at.error
    assert table_names(at) == ["Trainer intervals", "Hill repeats"]


def test_recompute_runs_on_the_selection(seeded):
    at = run_page()
    at.multiselect(key="rides_selected").select(seeded["ids"]["Easy spin"]).run()
    at.button(key="rides_recompute").click().run()
    assert not at.exception and not at.error


def test_an_empty_database_invites_an_import(db_path):
    db = connect(db_path)
    create_athlete(db.cursor(), AthleteProfile(name="New"))
    db.close()
    at = run_page()
    assert any("Import .fit or .gpx" in i.value for i in at.info)


def test_dropping_files_imports_them_at_once_with_a_link_to_each_new_ride_and_says_what_failed(seeded, db_path):
    fit = Path(__file__).resolve().parent / "data" / "rides" / "gc__Garmin830_with_Stages.fit"
    at = run_page()
    at.file_uploader(key="rides_upload").set_value([(fit.name, fit.read_bytes(), "application/octet-stream"),
                                                    ("notes.fit", b"not a fit file", "application/octet-stream")])
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Imported 1 of 2 files (1 ride); 1 could not be imported."]
    new_id = read_db(db_path, "SELECT max(id) FROM rides")[0][0][0]
    links = [link.proto for link in at.get("page_link")]
    assert any(p.label == f"Open ride #{new_id}" and f"id={new_id}" in p.query_string for p in links)
    assert any("Not imported" in m.value and "notes.fit" in shown(m.value) for m in at.markdown)
    at.run()  # a rerun imports nothing again
    assert read_db(db_path, "SELECT count(*) FROM rides")[0][0][0] == 4


def _vega_element(at: AppTest, text: str):
    """The Vega-Lite chart whose spec mentions ``text`` (a panel's or chart's title)."""
    import json

    return next(c for c in at.get("vega_lite_chart") if text in json.dumps(json.loads(c.proto.spec),
                                                                           ensure_ascii=False))


def _vega_chart(at: AppTest, text: str) -> dict:
    import json

    return json.loads(_vega_element(at, text).proto.spec)


def _chart_rows(at: AppTest, text: str, dataset: str) -> pd.DataFrame:
    """The rows of a chart's named dataset, as the browser gets them."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    sets = {d.name: d.data.data for d in _vega_element(at, text).proto.datasets}
    return convert_arrow_bytes_to_pandas_df(sets[dataset])


def _w_prime_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "W′ balance" in c.value)


def test_the_ride_pages_cached_charts_follow_a_new_ftp_and_the_axis_choice(seeded):
    from core.athletes import set_ftp

    at = run_page("app_pages/ride_page.py", id=seeded["ids"]["Hill repeats"])
    assert "CP 250 W" in _w_prime_caption(at)  # no model: CP = the day's FTP
    streams = _vega_chart(at, "Heart rate (bpm)")
    titles, unit = band_text(_chart_rows(at, "Heart rate (bpm)", "band_text"))
    assert titles[:2] == ["Power (W)", "Heart rate (bpm)"] and unit == "minutes"
    db = connect(seeded["path"])
    set_ftp(db.cursor(), seeded["athlete_id"], 300, START.date())  # a new data version: no chart is reused
    db.close()
    at.run()
    assert "CP 300 W" in _w_prime_caption(at)
    assert _chart_rows(at, "W′ balance", "w_prime_kj_rows")["w_prime_kj"].max() == 20.0  # W′ = 20 kJ without a model
    at.radio(key="ride_axis").set_value("distance").run()
    assert band_text(_chart_rows(at, "Heart rate (bpm)", "band_text"))[1] == "km"
    assert _vega_chart(at, "Heart rate (bpm)") == streams  # the same chart, other rows
    assert "CP 300 W" in _w_prime_caption(at)


def test_picking_another_ride_keeps_the_map_and_swaps_only_its_track(seeded):
    from tests.test_routes_page import folium_component

    at = run_page("app_pages/ride_page.py", id=seeded["ids"]["Hill repeats"])
    hill, hill_id = folium_component(at, with_id=True)
    assert "map_div.addLayer(" in hill["feature_group"] and hill["js_links"] == ["/app/static/leaflet/leaflet.js"]
    at.run()  # a rerun sends the same layer: the browser leaves the rider's zoom and pan alone
    assert folium_component(at)["feature_group"] == hill["feature_group"]
    at.selectbox(key="ride_pick").select(seeded["ids"]["Easy spin"]).run()
    easy, easy_id = folium_component(at, with_id=True)
    # the same Leaflet map (element id and script): only the track layer is new
    assert easy_id == hill_id and easy["script"] == hill["script"]
    assert easy["feature_group"] != hill["feature_group"] and "map_div.addLayer(" in easy["feature_group"]
    at.selectbox(key="ride_pick").select(seeded["ids"]["Trainer intervals"]).run()
    assert folium_component(at) is None and any("indoor" in c.value for c in at.caption)  # no GPS, no map


def test_tables_show_a_missing_value_as_a_dash_not_none(seeded):
    at = run_page("app_pages/ride_page.py", id=seeded["ids"]["Trainer intervals"])
    tables = at.dataframe
    assert tables and all(t.proto.placeholder == "—" for t in tables)
    # Every table on every page does the same (Streamlit's default is a grey "None").
    import ast

    missing = []
    for path in sorted(Path(APP).parent.glob("app_pages/*.py")) + [Path(APP).parent / "ui.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dataframe"
                    and not any(k.arg == "placeholder" for k in node.keywords)):
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []
