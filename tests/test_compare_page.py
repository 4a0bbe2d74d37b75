"""Compare page (AppTest): opened by URL (?a=ID&b=ID), picks rides, switches alignment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.files.gpx import read_gpx
from tests.apptest_helpers import run_app_page
from tests.test_compare import STRAVA, ridden_again

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "compare_page.py")


@pytest.fixture
def two_rides(cur, athlete_id):
    from core.rides.store import store_ride

    ride = read_gpx(STRAVA.read_bytes(), STRAVA.name)
    a = store_ride(cur, athlete_id, ride, source="file", external_id="strava", source_file=STRAVA.name).id
    b = store_ride(cur, athlete_id, ridden_again(ride), source="file", external_id="again").id
    return a, b


def open_page(**params) -> AppTest:
    at = run_app_page("app_pages/compare_page.py", **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_url_opens_a_comparison_with_charts_map_and_tables(db, two_rides):
    a, b = two_rides
    at = open_page(a=a, b=b)
    assert at.multiselect(key="compare_rides").value == [a, b]
    assert len(at.get("vega_lite_chart")) == 2 and not at.get("plotly_chart")  # streams + delta, no Plotly
    assert [s.value for s in at.subheader] == ["Streams", "Difference A − B", "Tracks", "Differences",
                                               "Shared climbs"]
    differences = at.dataframe[0].value
    assert "Best 20 min" in list(differences["Figure"])
    # every value carries its unit: h:mm:ss, km, W, never a raw float like 15542.00 s or 121417.96 m
    by_figure = differences.set_index("Figure")
    assert by_figure.loc["Distance", "A"].endswith(" km") and by_figure.loc["NP", "B"].endswith(" W")
    assert ":" in by_figure.loc["Duration (moving)", "A"]
    climbs = at.dataframe[1].value
    assert len(climbs) >= 3 and "W/kg A" in climbs.columns
    assert any("orange" in c.value for c in at.caption)  # the map's legend, next to the two-track map


def test_without_two_rides_the_page_asks_for_them(db, two_rides):
    at = open_page(a=two_rides[0])
    assert any("Pick two rides" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 0


def test_a_hostile_or_unknown_id_in_the_url_is_ignored(db, two_rides):
    at = open_page(a="1; DROP TABLE rides", b="999999")
    assert at.multiselect(key="compare_rides").value == []
    assert any("Pick two rides" in i.value for i in at.info)


def test_picking_rides_and_switching_to_time_alignment(db, two_rides):
    a, b = two_rides
    at = open_page()
    at.multiselect(key="compare_rides").set_value([b, a]).run()
    assert not at.exception
    assert at.query_params == {"a": str(b), "b": str(a)}  # the address now shares this comparison
    at.radio(key="compare_axis").set_value("time").run()
    assert not at.exception
    at.selectbox(key="compare_delta_channel").set_value("hr").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 2


def test_three_rides_share_the_charts_and_the_differences_table(db, cur, athlete_id, two_rides):
    from core.rides.store import store_ride

    a, b = two_rides
    third = ridden_again(read_gpx(STRAVA.read_bytes(), STRAVA.name))
    third.started_at = third.started_at.replace(day=third.started_at.day + 3)
    c = store_ride(cur, athlete_id, third, source="file", external_id="third").id
    at = open_page(a=a, b=b, c=c)
    assert at.multiselect(key="compare_rides").value == [a, b, c]
    columns = [col for col in at.dataframe[0].value.columns if col in ("A", "B", "C")]
    assert len(columns) == 3


def test_more_rides_in_the_address_than_compare_shows_are_explained_and_cut_not_broken(db, cur, athlete_id,
                                                                                      two_rides):
    from core.rides.store import store_ride

    ids = list(two_rides)
    for n in range(5):
        again = ridden_again(read_gpx(STRAVA.read_bytes(), STRAVA.name))
        again.started_at = again.started_at + timedelta(days=n + 2)
        ids.append(store_ride(cur, athlete_id, again, source="file", external_id=f"more{n}").id)
    at = open_page(a=",".join(str(i) for i in ids))
    assert at.multiselect(key="compare_rides").value == ids[:6]
    assert [w.value for w in at.warning] == [
        f"Compare shows at most 6 rides at once: the address names 7, so the first 6 are compared (left out: "
        f"#{ids[6]})."]
    assert at.query_params["f"] == str(ids[5]) and len(at.get("vega_lite_chart")) == 2


def test_the_ride_search_finds_a_ride_by_id_only(db, two_rides):
    a, b = two_rides
    at = open_page()
    at.text_input(key="compare_query").input(f"#{b}").run()
    assert at.multiselect(key="compare_rides").options == [at.multiselect(key="compare_rides").format_func(b)]


def _streams_chart(at: AppTest) -> tuple:
    """The streams chart's spec and its datasets as the browser gets them (frames by name)."""
    import json

    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    chart = next(c for c in at.get("vega_lite_chart") if "Elevation" in c.proto.spec)
    return json.loads(chart.proto.spec), {d.name: convert_arrow_bytes_to_pandas_df(d.data.data)
                                          for d in chart.proto.datasets}


def test_the_cached_streams_chart_follows_an_edit_of_a_ride_and_the_alignment(db, cur, athlete_id, two_rides):
    from core.rides.store import edit_ride
    from tests.test_ridecharts import band_text

    a, b = two_rides
    at = open_page(a=a, b=b)
    spec, before = _streams_chart(at)
    assert not before["band_rows"]["ride"].str.contains("Renamed").any()
    assert band_text(before["band_text"])[1] == "km"
    edit_ride(cur, athlete_id, a, name="Renamed loop")  # a new data version: the cached chart is not reused
    at.run()
    same_spec, after = _streams_chart(at)
    rides = after["band_rows"]["ride"]
    assert rides.str.startswith("A: ").any() and rides.str.contains("Renamed loop").any()
    assert same_spec == spec  # only the rows changed: the browser keeps its chart
    at.radio(key="compare_axis").set_value("time").run()
    same_again, by_time = _streams_chart(at)
    assert same_again == spec and band_text(by_time["band_text"])[1] == "minutes"  # the axis too: rows only
