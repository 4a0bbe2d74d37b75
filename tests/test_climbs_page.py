"""The Climbs page under AppTest (through the app's navigation) and the Ride page's terrain panels."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from core.athletes import AthleteProfile, create_athlete
from core.rides.efforts import list_climbs
from core.rides.store import store_ride
from core.store.db import connect
from core.views import climbview
from tests.apptest_helpers import read_db, run_app_page, tiles
from tests.terrain_profiles import ride_over
from tests.test_climbs import hill

PAGE = "app_pages/climbs_page.py"


def frame_with(at, column: str):
    """The page's table that has ``column`` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def climbed(db_path):
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Climber", ftp_w=260, weight_kg=68))
    rides = []
    for day, speed in ((1, 7.0), (2, 9.0), (3, 8.0)):
        streams = ride_over(*hill(), noise="barometric", seed=day, speed_flat_ms=speed, power_w=200 + 15 * day,
                            started_at=datetime(2025, 7, day, 8, tzinfo=UTC))
        streams.name = f"Hill day {day}"
        rides.append(store_ride(cur, athlete_id, streams, source="file", external_id=f"page-{day}").id)
    climb_id = list_climbs(cur, athlete_id)[0]["climb_id"]
    db.close()
    return {"rides": rides, "climb_id": climb_id, "path": db_path}


def test_the_climbs_page_lists_efforts_fastest_first_with_the_pr(climbed):
    at = run_app_page(PAGE, id=climbed["climb_id"])
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Climbs"
    efforts = frame_with(at, "W/kg")
    assert list(efforts["Rank"]) == ["1 ★ PR", "2", "3"]
    assert efforts["Ride"].iloc[0].startswith(f"#{climbed['rides'][1]} ")  # day 2 was the fastest
    assert tiles(at)["Efforts"] == "3"
    chart = at.get("vega_lite_chart")[0].proto  # the times over the months
    rows = pa.ipc.open_stream(chart.data.data).read_all().to_pandas()
    assert list(rows["effort"]).count("PR") == 1 and len(rows) == 3
    assert rows.loc[rows["effort"] == "PR", "minutes"].iloc[0] == rows["minutes"].min()
    assert rows["date"].is_monotonic_increasing


def _effort(day: int, time_s: float, pr: bool = False) -> dict:
    return {"started_at": datetime(2025, 7, day, 8, tzinfo=UTC), "time_s": time_s, "pr": pr}


def test_every_climbs_chart_is_one_spec_and_only_its_rows_differ():
    """The browser keeps a Vega-Lite chart whose spec is unchanged and swaps its rows: picking another climb must
    not change the spec (a Plotly figure, whose element id hashes its data, was drawn anew on every pick)."""
    first = climbview.efforts_chart([_effort(3, 600, True), _effort(1, 700), _effort(2, 650)])
    second = climbview.efforts_chart([_effort(5, 1500), _effort(9, 1400, True)])
    assert first[1] == second[1]
    assert list(first[0]["minutes"]) == [700 / 60, 650 / 60, 600 / 60] and list(first[0]["time"]) == [
        "11:40", "10:50", "10:00"]
    assert list(second[0]["effort"]) == ["effort", "PR"]
    assert climbview.efforts_chart([_effort(1, 600, True)]) is None  # one effort draws no line


def test_the_climb_can_be_renamed_and_a_blank_name_is_refused(climbed):
    at = run_app_page(PAGE, id=climbed["climb_id"])
    at.text_input[0].set_value("Col du Test")
    at.button(key="FormSubmitter:climb_rename-Rename").click().run()
    assert not at.exception
    rows, problems = read_db(climbed["path"], "SELECT name FROM climbs")
    assert rows == [("Col du Test",)] and problems == []
    at = run_app_page(PAGE, id=climbed["climb_id"])
    at.text_input[0].set_value("   ")
    at.button(key="FormSubmitter:climb_rename-Rename").click().run()
    assert any("needs a name" in e.value for e in at.error)
    rows, _ = read_db(climbed["path"], "SELECT name FROM climbs")
    assert rows == [("Col du Test",)]


@pytest.mark.parametrize("bad", ["999", "abc", "1e400", "-1", "²"])
def test_a_hostile_or_unknown_climb_id_falls_back_to_the_list(climbed, bad):
    at = run_app_page(PAGE, id=bad)
    assert not at.exception
    assert any("no climb" in w.value for w in at.warning)
    assert frame_with(at, "W/kg").shape[0] == 3


def test_without_climbs_the_page_says_where_they_come_from(db_path):
    db = connect(db_path)
    create_athlete(db.cursor(), AthleteProfile(name="Flatlander"))
    db.close()
    at = run_app_page(PAGE)
    assert not at.exception and any("No climbs yet" in i.value for i in at.info)


def test_the_ride_page_shows_elevation_efforts_with_links_and_intervals(climbed):
    at = run_app_page("app_pages/ride_page.py", id=climbed["rides"][0])
    assert not at.exception, [e.value for e in at.exception]
    shown_tiles = tiles(at)
    assert shown_tiles["Elevation gain"].endswith(" m") and 225 < float(shown_tiles["Elevation gain"][:-2]) < 255
    efforts = frame_with(at, "Climb")
    assert list(efforts["Rank"]) == ["3 of 3"]
    captions = " ".join(c.value for c in at.caption)
    assert f"Elevation gain of the whole ride: {shown_tiles['Elevation gain'][:-2]} m" in captions


def test_rides_of_an_older_method_can_be_brought_up_to_date_from_the_page(climbed):
    db = connect(climbed["path"])
    db.cursor().execute("UPDATE rides SET terrain_version = 0")
    db.cursor().execute("DELETE FROM climb_efforts")
    db.close()
    # the app's start-up refresh is bounded; here the page's own button does the work
    from core.rides import terrain

    old, terrain.STARTUP_RIDES = terrain.STARTUP_RIDES, 0
    try:
        at = run_app_page(PAGE, id=climbed["climb_id"])
        assert any("3 older ride(s)" in i.value for i in at.info)
        at.button(key="climbs_refresh").click().run()
        assert not at.exception
    finally:
        terrain.STARTUP_RIDES = old
    rows, problems = read_db(climbed["path"], "SELECT count(*) FROM climb_efforts")
    assert rows == [(3,)] and problems == []
