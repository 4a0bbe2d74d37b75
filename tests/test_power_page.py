"""The Power page, the Ride page's W′ balance and the Settings page's FTP note under AppTest, against a real
temporary database."""

from __future__ import annotations

from datetime import date

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect
from tests.apptest_helpers import read_db, run_app_page, tiles
from tests.test_power_model import season

PAGE = "app_pages/power_page.py"


@pytest.fixture
def seeded(db_path):
    """A rider with FTP 250 and maximal efforts of a CP-280 curve among easy rides in the last 60 days."""
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=250, lthr=168, max_hr=190),
                                ftp_effective_from=date(2020, 1, 1))
    ids = season(cur, athlete_id, today=date.today())
    db.close()
    return {"athlete_id": athlete_id, "ids": ids, "path": db_path}


def test_the_power_page_shows_the_model_the_curve_the_linked_efforts_and_the_proposal(seeded):
    at = run_app_page(PAGE)
    assert not at.exception and at.title[0].value == "Power"
    shown = tiles(at)
    assert 270 <= int(shown["CP"].split()[0]) <= 290 and shown["FTP now"] == "250 W"
    assert shown["W′"].endswith("kJ") and shown["eFTP"] == shown["CP"]
    assert any("FTP proposal" in m.value for m in at.markdown)
    efforts = at.dataframe[0].value
    best_20 = efforts[efforts["Duration"] == "20 min"].iloc[0]
    assert best_20["Ride"] == f"/ride?id={seeded['ids']['test12']}" and bool(best_20["In the fit"])
    assert any(b.label == "Approve" for b in at.button) and any(b.label == "Dismiss" for b in at.button)


def test_approving_on_the_page_records_the_new_ftp_from_today(seeded):
    at = run_app_page(PAGE)
    proposed = int(next(m.value for m in at.markdown if "FTP proposal" in m.value).split(":")[1].split()[0])
    next(b for b in at.button if b.label == "Approve").click().run()
    assert not at.exception
    assert at.success and f"FTP {proposed} W from {date.today()}" in at.success[0].value
    rows, problems = read_db(seeded["path"], "SELECT effective_from, ftp_w FROM athlete_ftp_history "
                                             "ORDER BY effective_from")
    assert rows[-1] == (date.today(), proposed) and problems == []
    assert tiles(at)["FTP now"] == f"{proposed} W"
    assert not any("FTP proposal" in m.value for m in at.markdown)


def test_dismissing_on_the_page_keeps_the_ftp(seeded):
    at = run_app_page(PAGE)
    next(b for b in at.button if b.label == "Dismiss").click().run()
    assert not at.exception and "dismissed" in at.success[0].value
    rows, _ = read_db(seeded["path"], "SELECT status FROM ftp_proposals")
    assert rows == [("dismissed",)]
    assert tiles(at)["FTP now"] == "250 W"


def test_the_power_page_without_rides_says_so(db_path):
    db = connect(db_path)
    create_athlete(db.cursor(), AthleteProfile(name="New", ftp_w=200))
    db.close()
    at = run_app_page(PAGE)
    assert not at.exception
    assert tiles(at)["CP"] == "–" and "No rides with power" in at.warning[0].value


def test_the_ride_page_shows_w_prime_balance_with_its_minimum_and_work(seeded):
    at = run_app_page("app_pages/ride_page.py", id=seeded["ids"]["test12"])
    assert not at.exception
    assert any("Lowest W′ balance" in c.value and "power model" in c.value for c in at.caption)
    assert tiles(at)["Work"].endswith("kJ")


def test_changing_the_ftp_in_settings_says_what_follows_and_what_keeps_its_ftp(seeded):
    at = run_app_page("app_pages/settings_page.py")
    at.number_input(key="profile_ftp").set_value(270)
    next(b for b in at.button if b.label == "Save profile").click().run()
    assert not at.exception
    note = at.info[0].value
    assert "from today" in note and "planned workouts" in note and "keep the FTP of their day" in note
    next(b for b in at.button if b.label == "Recompute rides").click().run()
    assert not at.exception and "Recomputed" in at.success[-1].value
