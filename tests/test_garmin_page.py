"""AppTest of app_pages/garmin_page.py against the fake Garmin Connect (the real client, no patching)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect
from tests.apptest_helpers import run_app_page, shown
from tests.fakes.garmin_server import FakeGarmin, cycling_activities

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app_pages" / "garmin_page.py")


@pytest.fixture
def page_db(db_path):
    database = connect(db_path)
    create_athlete(database.cursor(), AthleteProfile(name="Page Rider", ftp_w=250))
    database.close()
    return db_path


def run_page(timeout: float = 30) -> AppTest:
    at = run_app_page("app_pages/garmin_page.py", timeout=timeout)
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, fake: FakeGarmin, label: str = "Edge", password: str | None = None) -> AppTest:
    at.text_input(key="garmin_label").set_value(label)
    at.text_input(key="garmin_email").set_value(fake.email)
    at.text_input(key="garmin_password").set_value(password or fake.password)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_page_offers_a_sign_in_form_with_a_hidden_password(page_db):
    at = run_page()
    assert at.title[0].value == "Garmin Connect sync"
    assert at.text_input(key="garmin_email").label == "E-mail"
    assert at.text_input(key="garmin_password").proto.type == at.text_input(key="garmin_password").proto.PASSWORD
    assert any(b.label == "Sign in" for b in at.button)
    assert not at.get("dataframe")


def test_sign_in_and_sync_show_the_progress_result_and_sync_log(page_db, monkeypatch):
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    with FakeGarmin(activities=cycling_activities(3, recent)) as fake:
        fake.install(monkeypatch)
        at = sign_in(run_page(), fake)
        assert any("Signed in as 'Edge'" in shown(s.value) for s in at.success)
        assert any("signed in" in m.value for m in at.markdown)
        at.button(key="garmin_sync").click()
        at.run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert any("3 imported" in s.value for s in at.success)
        table = at.dataframe[0].value
        assert list(table["status"]) == ["ok"] and list(table["imported"]) == [3]


def test_a_wrong_password_shows_the_reason_on_the_page(page_db, monkeypatch):
    with FakeGarmin() as fake:
        fake.install(monkeypatch)
        at = sign_in(run_page(), fake, password="a wrong password")
        assert any("refused the e-mail or password" in shown(e.value) for e in at.error)


def test_a_security_code_step_appears_when_garmin_asks_for_one(page_db, monkeypatch):
    with FakeGarmin(mfa_code="777111") as fake:
        fake.install(monkeypatch)
        at = sign_in(run_page(), fake, label="Forerunner")
        assert at.text_input(key="garmin_mfa_code")
        assert fake.password not in repr(vars(at.session_state["garmin_pending_sign_in"]["attempt"]._api))
        at.text_input(key="garmin_mfa_code").set_value("777111")
        next(b for b in at.button if b.label == "Verify").click()
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert any("Signed in as 'Forerunner'" in shown(s.value) for s in at.success)
        assert any(b.label == "Sign out" for b in at.button)


def test_the_background_sync_section_shows_each_accounts_schedule_and_its_last_result(page_db, monkeypatch,
                                                                                     tmp_path):
    from core.garmin import accounts as garmin_accounts
    from core.garmin.schedule import SyncScheduler, set_auto_sync
    from core.garmin.sync import sync_account
    from core.store.shared import SharedDatabase

    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    with FakeGarmin(activities=cycling_activities(3, recent)) as fake:
        fake.install(monkeypatch)
        database = connect(page_db)
        cur = database.cursor()
        hostile = "**<b>E</b>** [x](http://evil.test)"
        for label in (hostile, "Spare"):
            garmin_accounts.sign_in(cur, 1, label, fake.email, fake.password, files_dir=tmp_path / "files")
        edge = garmin_accounts.account_by_label(cur, 1, hostile)["id"]
        set_auto_sync(cur, edge, 180)
        sync_account(cur, edge, origin="scheduled", files_dir=tmp_path / "files")
        database.close()

        at = run_page()
        lines = [m.value for m in at.markdown if "every 3 hours" in m.value or "— off" in m.value]
        assert any("not running in this process" in c.value for c in at.caption)
        edge_raw = next(line for line in lines if "every 3 hours" in line)
        assert edge_raw.startswith("**\\*\\*\\<b\\>E\\<\\/b\\>")  # the label's markup is escaped, ours is not
        edge_line = shown(edge_raw)
        assert edge_line.startswith(f"**{hostile}** — every 3 hours · last scheduled run ")
        assert edge_line.endswith(": ok, 3 imported, 0 failed")
        assert any("Spare" in line and "choose an interval in Settings" in line for line in lines)

        scheduler = SyncScheduler(SharedDatabase(page_db).get, check_every_s=3600).start()  # the app's, idle
        try:
            at = run_page()
        finally:
            assert scheduler.stop(10)
        edge_line = next(shown(m.value) for m in at.markdown if "every 3 hours" in m.value)
        assert " · next run around " in edge_line and "checks every 3600 s" in " ".join(c.value for c in at.caption)
        assert any(row == "scheduled" for row in at.dataframe[0].value["origin"])
