"""Plans page, "Send to Garmin Connect": through AppTest with the real garminconnect client and the fake Garmin."""

from __future__ import annotations

from datetime import date

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import save_plan
from core.garmin import accounts as garmin_accounts
from core.store.db import connect
from core.views.planview import garmin_send_caption, garmin_send_defaults
from tests.apptest_helpers import read_db, run_app_page, shown
from tests.fakes.garmin_server import FakeGarmin


@pytest.fixture
def fake(monkeypatch):
    with FakeGarmin() as server:
        server.install(monkeypatch)
        yield server


def prepare(db_path, tmp_path, fake=None) -> int:
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Page Rider", ftp_w=260))
        result = generate_plan(cur, athlete, {"duration_weeks": 2, "start_date": "2099-03-02"},
                               today=date(2027, 2, 26))
        plan_id = save_plan(cur, athlete, result, name="Garmin bound")
        if fake is not None:
            garmin_accounts.sign_in(cur, athlete, "Edge", fake.email, fake.password, files_dir=tmp_path / "files")
        return plan_id
    finally:
        db.close()


def test_the_page_sends_the_plan_and_a_second_click_changes_nothing(db_path, tmp_path, fake):
    plan_id = prepare(db_path, tmp_path, fake)
    at = run_app_page("app_pages/plans_page.py")
    assert not at.exception
    assert any("your FTP of 260 W" in c.value for c in at.caption)
    at.button(key=f"plan_garmin_send_{plan_id}").click().run()
    assert not at.exception, at.exception
    assert at.success and shown(at.success[0].value).startswith("Garmin Connect (Edge): ")
    assert " new" in shown(at.success[0].value)
    sent = len(fake.calendar())
    assert sent > 0 and fake.errors == []
    at.button(key=f"plan_garmin_send_{plan_id}").click().run()
    assert shown(at.success[0].value) == f"Garmin Connect (Edge): {sent} unchanged."
    rows, problems = read_db(db_path, "SELECT count(*) FROM garmin_workouts")
    assert rows == [(sent,)] and problems == []


def test_a_garmin_failure_is_a_sentence_not_a_traceback(db_path, tmp_path, fake):
    plan_id = prepare(db_path, tmp_path, fake)
    fake.revoke_tokens()
    at = run_app_page("app_pages/plans_page.py")
    at.button(key=f"plan_garmin_send_{plan_id}").click().run()
    assert not at.exception
    assert at.error and "sign in again" in at.error[0].value


def test_without_a_garmin_account_the_page_points_to_sign_in(db_path, tmp_path):
    prepare(db_path, tmp_path)
    at = run_app_page("app_pages/plans_page.py")
    assert not at.exception
    assert any(link.proto.label == "Sign in to Garmin Connect" for link in at.get("page_link"))


def test_send_defaults_stay_inside_the_plan():
    plan = {"start_date": date(2027, 3, 1), "end_date": date(2027, 3, 14)}
    assert garmin_send_defaults(plan, date(2027, 2, 1)) == (date(2027, 3, 1), date(2027, 3, 14))
    assert garmin_send_defaults(plan, date(2027, 3, 5)) == (date(2027, 3, 5), date(2027, 3, 14))
    assert garmin_send_defaults(plan, date(2027, 6, 1)) == (date(2027, 3, 14), date(2027, 3, 14))
    assert "set your FTP" in garmin_send_caption(None)
