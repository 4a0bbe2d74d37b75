"""Settings page through AppTest: profile edits are validated and saved; athletes can be added and switched."""


from streamlit.testing.v1 import AppTest

from core.athletes import list_athletes
from core.store.db import connect
from tests.apptest_helpers import run_app_page, tiles


def open_settings() -> AppTest:
    return run_app_page("app_pages/settings_page.py", timeout=30)


def test_the_settings_page_shows_the_profile_form_and_data_summary(db_path):
    at = open_settings()
    assert not at.exception
    assert at.title[0].value == "Settings"
    labels = {w.label for w in at.number_input}
    assert {"FTP (W)", "Max HR (bpm)", "Threshold HR, LTHR (bpm)", "Weight (kg)"} <= labels
    assert list(tiles(at))[:2] == ["Rides", "Distance"]


def test_saving_a_valid_profile_stores_it(db_path):
    at = open_settings()
    at.number_input(key="profile_ftp").set_value(270)
    at.number_input(key="profile_max_hr").set_value(190)
    at.number_input(key="profile_lthr").set_value(170)
    at.button[0].click().run()
    assert not at.exception
    assert at.success and "saved" in at.success[0].value
    athlete = list_athletes_in(db_path)[0]
    assert athlete["ftp_w"] == 270 and athlete["lthr"] == 170


def test_imperial_units_and_a_time_zone_are_saved_and_used_by_the_pages(db_path):
    at = open_settings()
    at.radio(key="profile_units").set_value("imperial")
    at.selectbox(key="profile_timezone").set_value("America/New_York")
    at.button[0].click().run()
    assert not at.exception
    prefs = list_athletes_in(db_path)[0]["preferences"]
    assert (prefs["units"], prefs["timezone"]) == ("imperial", "America/New_York")
    at = open_settings()
    assert at.radio(key="profile_units").value == "imperial"
    assert tiles(at)["Distance"].endswith(" mi")


def test_an_invalid_profile_is_refused_with_a_message_and_not_saved(db_path):
    at = open_settings()
    at.number_input(key="profile_max_hr").set_value(170)
    at.number_input(key="profile_lthr").set_value(180)
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "below max HR" in at.error[0].value
    assert list_athletes_in(db_path)[0]["lthr"] is None


def test_a_new_athlete_becomes_the_current_one(db_path):
    at = open_settings()
    at.text_input(key="new_athlete_name").set_value("Second rider")
    next(b for b in at.button if b.label == "Create athlete").click().run()
    assert not at.exception
    assert at.selectbox(key="settings_athlete").value == at.session_state["athlete_id"]
    assert [a["name"] for a in list_athletes_in(db_path)] == ["Rider", "Second rider"]


def test_sweet_spot_counts_as_hard_is_a_setting_per_athlete(db_path):
    at = open_settings()
    assert at.toggle(key="settings_sweet_spot_hard").value is True
    assert any("hard = sweet spot" in c.value for c in at.caption)
    at.toggle(key="settings_sweet_spot_hard").set_value(False).run()
    assert not at.exception
    assert any(c.value.startswith("hard = threshold") and "counts as hard: no" in c.value for c in at.caption)
    from core.athletes import hard_includes_sweet_spot
    from ui import _database

    _database.clear()
    db = connect(db_path)
    try:
        athlete = list_athletes(db.cursor())[0]["id"]
        assert hard_includes_sweet_spot(db.cursor(), athlete) is False
    finally:
        db.close()


def list_athletes_in(db_path):
    from ui import _database

    _database.clear()  # AppTest shares the process: release the cached connection first
    db = connect(db_path)
    try:
        return list_athletes(db.cursor())
    finally:
        db.close()



def test_an_athlete_is_deleted_only_after_typing_their_name(db_path):
    at = open_settings()
    at.text_input(key="new_athlete_name").set_value("Second rider")
    next(b for b in at.button if b.label == "Create athlete").click().run()
    second = at.session_state["athlete_id"]
    assert at.button(key="delete_athlete").disabled
    at.text_input(key=f"delete_athlete_name_{second}").input("second rider").run()
    assert at.button(key="delete_athlete").disabled  # the exact name only
    at.text_input(key=f"delete_athlete_name_{second}").input("Second rider").run()
    at.button(key="delete_athlete").click().run()
    assert not at.exception
    assert any("Deleted Second rider" in s.value for s in at.success)
    assert [a["name"] for a in list_athletes_in(db_path)] == ["Rider"]
    assert at.selectbox(key="settings_athlete").value != second


def test_the_riding_setup_is_saved_and_moves_route_times(db_path):
    from core.routes.store import rider_params

    at = open_settings()
    at.number_input(key="profile_cda").set_value(0.27)
    at.number_input(key="profile_crr").set_value(0.004)
    at.number_input(key="profile_bike").set_value(7.5)
    at.button[0].click().run()
    assert not at.exception and at.success
    athlete = list_athletes_in(db_path)[0]
    assert athlete["preferences"]["cda_m2"] == 0.27 and athlete["preferences"]["bike_kg"] == 7.5
    db = connect(db_path)
    try:
        params = rider_params(db.cursor(), athlete["id"])
    finally:
        db.close()
    assert (params.cda_m2, params.crr, params.bike_kg) == (0.27, 0.004, 7.5)


def test_choosing_a_background_sync_interval_saves_it_for_that_account(db_path):
    from core.garmin.accounts import get_account

    database = connect(db_path)
    cur = database.cursor()
    cur.execute("INSERT INTO athletes (name) VALUES ('Rider')")
    cur.execute("INSERT INTO garmin_accounts (athlete_id, label) VALUES (1, 'Edge'), (1, 'Spare')")
    database.close()
    at = open_settings()
    assert at.selectbox(key="auto_sync_1").value is None and at.selectbox(key="auto_sync_1").label == "Edge"
    at.selectbox(key="auto_sync_1").set_value(720).run()
    assert not at.exception
    database = connect(db_path)
    try:
        assert get_account(database.cursor(), 1)["auto_sync_minutes"] == 720
        assert get_account(database.cursor(), 2)["auto_sync_minutes"] is None
    finally:
        database.close()
