"""The Garmin sync page in a real browser: sign in against the fake Garmin Connect, sync, see the sync log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect
from tests.e2e.conftest import open_app, screenshot, wait_for_app
from tests.fakes.garmin_server import FIT_FILE, FakeGarmin, cycling_activities


def test_sign_in_and_sync_from_the_browser(tmp_path, start_app, browser_page):
    db_path = tmp_path / "garmin-e2e.duckdb"
    database = connect(db_path)
    create_athlete(database.cursor(), AthleteProfile(name="E2E Rider", ftp_w=250))
    database.close()
    activities = cycling_activities(3, datetime.now(UTC).replace(microsecond=0) - timedelta(days=6))
    with FakeGarmin(activities=activities, fit_files={activities[0]["activityId"]: FIT_FILE.read_bytes()}) as fake:
        app = start_app(db_path, VELOCOACH_SEED_DEMO="0", **fake.env())
        page = browser_page
        open_app(page, app, "/garmin")
        wait_for_app(page)
        page.get_by_label("E-mail").fill(fake.email)
        page.get_by_label("Password", exact=True).fill(fake.password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as 'Garmin'").wait_for()
        page.get_by_role("button", name="Sync now").click()
        page.get_by_text("3 imported").wait_for(timeout=60_000)
        wait_for_app(page)
        screenshot(page, "garmin-sync")
        assert page.get_by_text("Sync history").is_visible()
        assert fake.count("/download-service/files/activity/") == 3
        assert page.blocked_requests == []
        assert fake.password not in app.log_path.read_text()
