"""Hostile values a rider can type into the address bar or a widget: each gives a clear message, never a traceback."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.rides.compare import parse_ride_ids
from tests.apptest_helpers import run_app_page
from tests.test_rides_page import APP, seeded  # noqa: F401 — fixture


def open_page(page: str, **query) -> AppTest:
    return run_app_page(page, **query)


@pytest.mark.parametrize("value", ["²", "1²", "9" * 5000, "-3", "abc", ""],
                         ids=["superscript-two", "digit-superscript", "5000-digits", "negative", "letters", "empty"])
def test_compare_ids_from_the_address_ignore_non_ascii_digits_and_absurd_lengths(value):
    assert parse_ride_ids([value, "12"]) == [12]


@pytest.mark.parametrize("value", ["²", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_the_ride_page_says_there_is_no_such_ride_for_a_hostile_id(seeded, value):  # noqa: F811
    at = open_page("app_pages/ride_page.py", id=value)
    assert not at.exception, at.exception
    assert any("There is no ride #" in w.value for w in at.warning)
    assert at.selectbox(key="ride_pick").value in seeded["ids"].values()


@pytest.mark.parametrize("value", ["²", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_the_compare_page_ignores_a_hostile_ride_id_in_the_address(seeded, value):  # noqa: F811
    first = seeded["ids"]["Easy spin"]
    at = open_page("app_pages/compare_page.py", a=value, b=str(first))
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_rides").value == [first]


def _database_with_one_ride(path, name: str) -> int:
    from core.athletes import AthleteProfile, create_athlete
    from core.rides.store import store_ride
    from core.store.db import connect
    from tests.test_rides import make_ride
    from tests.test_rides_page import START

    db = connect(path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Rider", ftp_w=250, lthr=165, max_hr=190))
    ride_id = store_ride(cur, athlete_id, make_ride(600, 200, 140, started_at=START, name=name),
                         source="file", external_id="same-shape").id
    db.close()
    return ride_id


def test_ride_pages_show_the_open_database_not_a_cached_read_of_another(db_path, tmp_path, monkeypatch):
    """Two databases of the same shape (same athlete id, ride id and data version): the cached reads must be
    keyed by the database path, or the second database shows the first one's ride."""
    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    ride_id = _database_with_one_ride(first, "Ride in the first database")
    assert _database_with_one_ride(second, "Ride in the second database") == ride_id
    shown = {}
    for path in (first, second):
        monkeypatch.setenv("VELOCOACH_DB", str(path))
        detail = open_page("app_pages/ride_page.py", id=str(ride_id))
        listing = open_page("app_pages/rides_page.py")
        assert not detail.exception and not listing.exception
        shown[path] = ([h.value for h in detail.subheader], list(listing.dataframe[0].value["Name"]))
    assert shown[second] == (["Ride in the second database"], ["Ride in the second database"])


def test_a_ride_import_that_fails_after_storing_the_ride_leaves_nothing_behind(cur, athlete_id, data_dir,
                                                                               monkeypatch):
    """import_file promises "a failure stores nothing": the ride and its plan linking are one transaction."""
    import core.coach.matching
    from core.errors import StorageError
    from core.importer import import_file, import_files
    from core.store.db import table_counts

    def broken_linking(*args, **kwargs):
        raise StorageError("linking failed")

    monkeypatch.setattr(core.coach.matching, "link_completed_rides", broken_linking)
    data = (data_dir / "rides" / "fitparse__nick.fit").read_bytes()
    before = table_counts(cur)
    with pytest.raises(StorageError):
        import_file(cur, athlete_id, "ride.fit", data)
    assert table_counts(cur) == before
    assert import_files(cur, athlete_id, [("ride.fit", data)])[0]["ok"] is False
    assert table_counts(cur) == before
    monkeypatch.undo()
    assert import_file(cur, athlete_id, "ride.fit", data)["created"]  # the retry is a fresh import, not a duplicate


def test_the_rides_date_filter_uses_the_same_local_day_as_the_dashboard(cur, athlete_id):
    """An evening ride in California is 03:00 UTC the next day: the Rides filter (a local date from the date
    picker) must find it on the day the dashboard counts it, not on the UTC day."""
    from datetime import UTC, date, datetime

    from core.rides.store import RideFilter, search_rides, store_ride
    from tests.test_rides import make_ride

    cur.execute("SET TimeZone = 'America/Los_Angeles'")  # this session's local time zone, as on a rider's laptop
    evening = datetime(2024, 5, 2, 3, 0, tzinfo=UTC)  # 1 May 2024, 20:00 in Los Angeles
    ride_id = store_ride(cur, athlete_id, make_ride(600, started_at=evening, name="Evening loop"),
                         source="file", external_id="evening").id
    local_day = cur.execute("SELECT CAST(started_at AS DATE) FROM rides WHERE id = ?", [ride_id]).fetchone()[0]
    assert local_day == date(2024, 5, 1)  # how the dashboard buckets it

    def found(day: date) -> list[int]:
        return [r["id"] for r in search_rides(cur, athlete_id, RideFilter(date_from=day, date_to=day))[0]]

    assert found(date(2024, 5, 1)) == [ride_id]
    assert found(date(2024, 5, 2)) == []


def test_a_page_number_past_the_last_page_lists_no_rides_instead_of_failing(cur, athlete_id):
    from core.rides.store import search_rides, store_ride
    from tests.test_rides import make_ride

    store_ride(cur, athlete_id, make_ride(600), source="file", external_id="one")
    for page in (2, 10**20):  # `python -m core rides --page 99999999999999999999` overflowed DuckDB's OFFSET
        assert search_rides(cur, athlete_id, page=page) == ([], 1)


def test_rolling_back_a_plan_on_the_plans_page_shows_the_new_version(db_path):
    """The selectbox has a key, so its remembered value wins over ``index``: after "Roll back" the page must
    switch to the version it just made, not stay on the one the rider rolled back from."""
    import copy
    from datetime import date

    from core.athletes import AthleteProfile, create_athlete
    from core.coach.plans.generate import generate_plan
    from core.coach.plans.schema import next_monday
    from core.coach.plans.store import save_plan, save_version
    from core.store.db import connect

    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Planner", ftp_w=250))
    result = generate_plan(cur, athlete_id, {"start_date": next_monday(date.today()), "duration_weeks": 4})
    first = save_plan(cur, athlete_id, result, activate=True)
    edited = copy.deepcopy(result.plan)
    edited["weeks"][0]["workouts"] = edited["weeks"][0]["workouts"][:-1]
    second = save_version(cur, athlete_id, first, edited, note="dropped a workout")
    db.close()

    at = open_page("app_pages/plans_page.py")
    assert at.selectbox(key="saved_plan_pick").value == second  # newest first
    at.button(key=f"plan_rb_{second}").click().run()  # asks first (see tests/test_plans_calendar_page.py)
    at.button(key=f"plan_rb_yes_{second}").click().run()
    assert not at.exception, at.exception
    shown = at.selectbox(key="saved_plan_pick").value
    from ui import _database

    _database.clear()  # release the page's connection before reading the file
    db = connect(db_path)
    newest = db.cursor().execute("SELECT max(id) FROM plans").fetchone()[0]
    db.close()
    assert newest > second
    assert shown == newest


def test_creating_an_athlete_on_settings_switches_to_the_new_athlete_and_stays(db_path):
    from core.athletes import list_athletes

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/settings_page.py").run()
    at.text_input(key="new_athlete_name").set_value("Second rider")
    next(b for b in at.button if b.label == "Create athlete").click().run()
    assert not at.exception, at.exception
    at.run()  # one more rerun: the athlete picker must not switch back to the previous athlete
    from ui import _database

    _database.clear()
    db = connect_db(db_path)
    new_id = next(a["id"] for a in list_athletes(db.cursor()) if a["name"] == "Second rider")
    db.close()
    assert at.session_state["athlete_id"] == new_id
    assert at.selectbox(key="settings_athlete").value == new_id


def connect_db(path):
    from core.store.db import connect

    return connect(path)


def test_picking_another_athlete_on_settings_switches_to_it(db_path):
    from core.athletes import AthleteProfile, create_athlete

    db = connect_db(db_path)
    first = create_athlete(db.cursor(), AthleteProfile(name="First"))
    second = create_athlete(db.cursor(), AthleteProfile(name="Second"))
    db.close()
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/settings_page.py").run()
    assert at.session_state["athlete_id"] == first
    at.selectbox(key="settings_athlete").set_value(second).run()
    at.run()
    assert not at.exception and not at.warning
    assert at.session_state["athlete_id"] == second
    assert at.selectbox(key="settings_athlete").value == second
