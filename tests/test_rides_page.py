"""The Rides page under AppTest: list, filters, tags and bulk actions against a real temporary database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.athletes import AthleteProfile, create_athlete
from core.db import connect
from core.rides import RideFilter, add_tag, list_tags, search_rides, store_ride
from tests.test_rides import make_ride

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "rides_page.py")


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


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def table_names(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Name"])


def matches(at: AppTest) -> str:
    return next(c.value for c in at.caption if "rides match" in c.value)


def test_the_page_lists_rides_and_shows_the_first_rides_detail(seeded):
    at = run_page()
    assert table_names(at) == ["Trainer intervals", "Hill repeats", "Easy spin"]
    assert matches(at) == "3 rides match"
    assert any(sub.value == "Trainer intervals" for sub in at.subheader)
    assert len(at.get("plotly_chart")) >= 3  # power, HR, cadence at least
    assert any("indoor" in c.value for c in at.caption)


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
