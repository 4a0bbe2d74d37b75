"""Plans page device downloads: the view helpers (week choices, one ZIP per format, names, disabled .erg without
an FTP) and the page through AppTest."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import get_plan, save_plan
from core.store.db import connect
from core.views.planview import device_caption, device_downloads, export_week_label, export_weeks
from tests.apptest_helpers import run_app_page

TODAY = date(2027, 2, 26)


def saved_plan(cur, athlete_id, name="Spring <build> & co", weeks=3):
    result = generate_plan(cur, athlete_id, {"duration_weeks": weeks, "goals": {"weekly_hours": 8}}, today=TODAY)
    return get_plan(cur, save_plan(cur, athlete_id, result, name=name), athlete_id)


def test_a_weeks_downloads_hold_that_weeks_rides_in_every_format(cur, athlete_id):
    plan = saved_plan(cur, athlete_id)
    assert export_weeks(plan) == [None, 1, 2, 3]
    assert export_week_label(plan, 2).startswith("Week 2 · 2027-03-08 · ")
    rides = [w for w in plan["plan"]["weeks"][1]["workouts"] if w["type"] != "rest"]
    items = device_downloads(plan, 2, 250)
    assert [i["fmt"] for i in items] == ["zwo", "fit", "mrc", "erg"]
    for item in items:
        assert item["file_name"] == f"velocoach-spring_build_co-week-02-{item['fmt']}.zip"
        with zipfile.ZipFile(io.BytesIO(item["data"])) as archive:
            names = archive.namelist()
        assert item["count"] == len(names) == len(rides)
        assert [n[:10] for n in names] == [w["date"] for w in rides]
        assert all(n.endswith(f".{item['fmt']}") and "/" not in n for n in names)


def test_without_an_ftp_erg_is_disabled_and_says_why(cur):
    athlete = create_athlete(cur, AthleteProfile(name="No FTP"))
    plan = saved_plan(cur, athlete, weeks=1)
    items = {i["fmt"]: i for i in device_downloads(plan, None, None)}
    assert items["erg"]["data"] is None and "set your FTP" in items["erg"]["help"]
    assert items["mrc"]["data"] is not None
    assert "Set your FTP" in device_caption(None, TODAY) and "250 W on 2027-02-26" in device_caption(250, TODAY)


@pytest.fixture
def page_plan(db_path):
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=250))
        return saved_plan(cur, athlete)["id"]
    finally:
        db.close()


def test_the_plans_page_offers_a_zip_per_device_format_for_the_chosen_week(db_path, page_plan):
    at = run_app_page("app_pages/plans_page.py")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert {".zwo · Zwift, TrainerRoad", ".fit · Garmin, Wahoo", ".mrc · ERG, % FTP",
            ".erg · ERG, watts"} <= set(labels)
    assert any("your FTP of 250 W" in c.value for c in at.caption)
    at.selectbox(key=f"plan_export_week_{page_plan}").set_value(3).run()
    assert not at.exception
    zips = [b for b in at.get("download_button") if b.proto.label.startswith(".")]
    assert len(zips) == 4 and not any(b.proto.disabled for b in zips)
