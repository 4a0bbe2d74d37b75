"""Garmin Connect sync, driven through the real garminconnect client against tests/fakes/garmin_server.py."""

from __future__ import annotations

import json
import logging
import os
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import GarminAuthError, GarminSyncError, InvalidFileError, ValidationError
from core.garmin import accounts as garmin_accounts
from core.garmin import client as garmin_client
from core.garmin import sync as garmin_sync
from core.store.db import table_counts
from tests.fakes.garmin_server import (
    DOWNLOAD_PREFIX,
    FIT_FILE,
    LIST_PATH,
    LIST_TEMPLATE,
    FakeGarmin,
    cycling_activities,
)

FAST = garmin_client.RetryPolicy(attempts=3, first_wait_s=0.001, max_wait_s=0.01)
SINCE = date(2024, 4, 1)


@pytest.fixture
def files_dir(tmp_path):
    return tmp_path / "files"


@pytest.fixture
def fake(monkeypatch):
    with FakeGarmin(activities=cycling_activities(5)) as server:
        server.install(monkeypatch)
        yield server


@pytest.fixture
def account_id(cur, athlete_id, fake, files_dir):
    return garmin_accounts.sign_in(cur, athlete_id, "Edge 530", fake.email, fake.password, files_dir=files_dir)


def sync(cur, account_id, files_dir, **options):
    options.setdefault("retry", FAST)
    options.setdefault("since", None)
    return garmin_sync.sync_account(cur, account_id, files_dir=files_dir, **options)


def garmin_rides(cur):
    return cur.execute("SELECT external_id, name, raw, distance_m, duplicate_of FROM rides WHERE source = 'garmin' "
                       "ORDER BY started_at").fetchall()


def log_rows(cur, account_id):
    return cur.execute("SELECT status, listed, imported, skipped, failed, error FROM sync_log WHERE account_id = ? "
                       "ORDER BY id", [account_id]).fetchall()


# -- sign in / sign out -------------------------------------------------------------------------------------------
def test_sign_in_keeps_only_the_librarys_token_file_owner_only(cur, account_id, files_dir):
    account = garmin_accounts.get_account(cur, account_id)
    token_dir = files_dir / "garmin_tokens" / str(account_id)
    assert account["token_dir"] == str(token_dir) and account["signed_in"]
    assert os.listdir(token_dir) == ["garmin_tokens.json"]
    assert stat.S_IMODE(token_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((token_dir / "garmin_tokens.json").stat().st_mode) == 0o600
    assert set(json.loads((token_dir / "garmin_tokens.json").read_text())) == {
        "di_token", "di_refresh_token", "di_client_id"}


def test_a_wrong_password_says_so_and_stores_nothing(cur, athlete_id, fake, files_dir):
    before = table_counts(cur)
    with pytest.raises(GarminAuthError, match="refused the e-mail or password"):
        garmin_accounts.sign_in(cur, athlete_id, "Garmin", fake.email, "not the password", files_dir=files_dir)
    assert table_counts(cur) == before
    assert not (files_dir / "garmin_tokens").exists() or not any((files_dir / "garmin_tokens").iterdir())


def test_blank_label_email_or_password_are_refused_before_any_request(cur, athlete_id, fake, files_dir):
    with pytest.raises(ValidationError, match="e-mail"):
        garmin_accounts.start_sign_in("", "secret")
    with pytest.raises(ValidationError, match="password"):
        garmin_accounts.start_sign_in(fake.email, "")
    attempt = garmin_accounts.start_sign_in(fake.email, fake.password)
    with pytest.raises(ValidationError, match="label"):
        garmin_accounts.save_account(cur, athlete_id, "   ", attempt, files_dir)
    assert fake.count("/mobile/api/login") == 1


def test_mfa_sign_in_asks_for_the_code_then_resumes_with_it(cur, athlete_id, monkeypatch, files_dir):
    with FakeGarmin(mfa_code="424242") as fake:
        fake.install(monkeypatch)
        attempt = garmin_accounts.start_sign_in(fake.email, fake.password)
        assert attempt.needs_mfa and not attempt.complete
        assert fake.password not in repr(vars(attempt._api))  # the pending sign-in keeps no password
        with pytest.raises(GarminAuthError, match="security code first"):
            garmin_accounts.save_account(cur, athlete_id, "Garmin", attempt, files_dir)
        with pytest.raises(GarminAuthError, match="did not accept that code"):
            garmin_accounts.submit_mfa_code(attempt, "000000")
        garmin_accounts.submit_mfa_code(attempt, "424242")
        assert attempt.complete
        account_id = garmin_accounts.save_account(cur, athlete_id, "Garmin", attempt, files_dir)
        assert fake.count("/mobile/api/mfa/verifyCode") >= 2
        assert garmin_sync.sync_account(cur, account_id, retry=FAST, files_dir=files_dir).status == "ok"


def test_sign_out_removes_the_token_files_and_the_next_sync_asks_to_sign_in(cur, account_id, files_dir):
    token_dir = files_dir / "garmin_tokens" / str(account_id)
    garmin_accounts.sign_out(cur, account_id)
    assert not token_dir.exists()
    account = garmin_accounts.get_account(cur, account_id)
    assert account["token_dir"] is None and not account["signed_in"]
    with pytest.raises(GarminAuthError, match="sign in again"):
        sync(cur, account_id, files_dir)
    assert log_rows(cur, account_id)[-1][0] == "failed"


def test_several_accounts_per_athlete_have_their_own_tokens(cur, athlete_id, fake, files_dir, account_id):
    second = garmin_accounts.sign_in(cur, athlete_id, "Wahoo-linked", fake.email, fake.password, files_dir=files_dir)
    accounts = garmin_accounts.list_accounts(cur, athlete_id)
    assert [a["label"] for a in accounts] == ["Edge 530", "Wahoo-linked"]
    assert len({a["token_dir"] for a in accounts}) == 2
    garmin_accounts.sign_out(cur, second)
    assert garmin_accounts.get_account(cur, account_id)["signed_in"]


def test_signing_in_again_with_a_label_reuses_the_account_and_its_watermark(cur, athlete_id, fake, files_dir,
                                                                          account_id):
    sync(cur, account_id, files_dir, since=SINCE)
    garmin_accounts.sign_out(cur, account_id)
    again = garmin_accounts.sign_in(cur, athlete_id, "Edge 530", fake.email, fake.password, files_dir=files_dir)
    assert again == account_id
    fake.requests.clear()
    assert sync(cur, account_id, files_dir).listed == 0
    assert len(fake.list_requests()) == 1


def test_the_password_appears_nowhere_in_the_database_logs_or_files(cur, db, db_path, athlete_id, fake,
                                                                   files_dir, caplog):
    caplog.set_level(logging.DEBUG)
    account_id = garmin_accounts.sign_in(cur, athlete_id, "Garmin", fake.email, fake.password, files_dir=files_dir)
    sync(cur, account_id, files_dir, since=SINCE)
    cur.execute("CHECKPOINT")
    secret = fake.password.encode()
    for path in [db_path, *db_path.parent.rglob("*")]:
        if path.is_file():
            assert secret not in path.read_bytes(), path
    assert fake.password not in caplog.text
    assert caplog.records  # the library and VeloCoach did log something


# -- sync -----------------------------------------------------------------------------------------------------------
def test_first_sync_imports_the_chosen_range_and_keeps_the_raw_summary(cur, account_id, fake, files_dir):
    fake.fit_files[fake.activities[0]["activityId"]] = FIT_FILE.read_bytes()
    progress = []
    report = sync(cur, account_id, files_dir, since=SINCE, progress=lambda d, t, m: progress.append((d, t)))
    assert (report.status, report.listed, report.imported, report.skipped, report.failed) == ("ok", 5, 5, 0, 0)
    rows = garmin_rides(cur)
    assert [r[0] for r in rows] == [str(a["activityId"]) for a in fake.activities]
    raw = json.loads(rows[1][2])
    assert raw["activityId"] == fake.activities[1]["activityId"] and raw["activityType"]["typeKey"] == "road_biking"
    assert rows[1][3] == pytest.approx(30_100.0)  # summary-only ride: Garmin's distance
    with_file = cur.execute("SELECT count(*) FROM ride_samples s JOIN rides r ON r.id = s.ride_id "
                            "WHERE r.external_id = ?", [rows[0][0]]).fetchone()[0]
    assert with_file > 4000  # the FIT's samples, not a summary
    kept = files_dir / "garmin_originals" / str(account_id) / f"{fake.activities[0]['activityId']}.fit"
    assert kept.read_bytes() == FIT_FILE.read_bytes()
    assert progress[0] == (0, 5) and progress[-1] == (5, 5)
    assert log_rows(cur, account_id) == [("ok", 5, 5, 0, 0, None)]
    query = fake.list_requests()[0].query
    assert query["startDate"] == "2024-04-01" and query["sortOrder"] == "asc"


def test_first_sync_without_a_range_takes_the_last_90_days(cur, account_id, fake, files_dir):
    sync(cur, account_id, files_dir, today=date(2024, 6, 1))
    assert fake.list_requests()[0].query["startDate"] == "2024-03-03"


def test_an_up_to_date_account_costs_one_request(cur, account_id, fake, files_dir):
    sync(cur, account_id, files_dir, since=SINCE)
    fake.requests.clear()
    report = sync(cur, account_id, files_dir)
    assert (report.status, report.listed, report.imported) == ("ok", 0, 0)
    assert len(fake.requests) == 1 and fake.requests[0].path == LIST_PATH


def test_a_later_sync_asks_only_for_activities_newer_than_the_last_one(cur, account_id, fake, files_dir):
    sync(cur, account_id, files_dir, since=SINCE)
    last = fake.activities[-1]
    fake.activities += cycling_activities(2, datetime(2024, 5, 6, 7, 0, tzinfo=UTC), first_id=20_000_000_100)
    fake.requests.clear()
    report = sync(cur, account_id, files_dir)
    assert (report.listed, report.imported) == (2, 2)
    assert fake.list_requests()[0].query["startDate"] == "2024-05-04"  # the last ride's day, minus one
    assert fake.count(DOWNLOAD_PREFIX) == 2
    assert len(garmin_rides(cur)) == 7
    account = garmin_accounts.get_account(cur, account_id)
    assert account["last_synced_activity_id"] == 20_000_000_101 and account["last_synced_activity_id"] != last


def test_long_lists_are_read_page_by_page(cur, account_id, fake, files_dir):
    report = sync(cur, account_id, files_dir, since=SINCE, page_size=2)
    assert report.imported == 5
    assert [r.query["start"] for r in fake.list_requests()] == ["0", "2", "4"]


def test_rate_limiting_is_retried_with_backoff_then_succeeds(cur, account_id, fake, files_dir):
    fake.fail_next(LIST_PATH, 429, times=2)
    fake.fail_next(DOWNLOAD_PREFIX, 503, times=1)
    report = sync(cur, account_id, files_dir, since=SINCE)
    assert (report.status, report.imported) == ("ok", 5)
    assert len(fake.list_requests()) == 3


def test_rate_limiting_that_does_not_stop_gives_up_with_a_clear_message(cur, account_id, fake, files_dir):
    fake.fail_next(LIST_PATH, 429, times=100)
    before = table_counts(cur)["rides"]
    with pytest.raises(GarminSyncError, match="429.*sync again later"):
        sync(cur, account_id, files_dir, since=SINCE)
    assert len(fake.list_requests()) == FAST.attempts
    assert table_counts(cur)["rides"] == before
    status, *_, error = log_rows(cur, account_id)[-1]
    assert status == "failed" and "429" in error


def test_revoked_tokens_ask_the_rider_to_sign_in_again(cur, account_id, fake, files_dir):
    fake.revoke_tokens()
    with pytest.raises(GarminAuthError) as caught:
        sync(cur, account_id, files_dir, since=SINCE)
    assert str(caught.value) == "Garmin Connect signed you out: sign in again"
    assert fake.count(LIST_PATH) == 2  # the library refreshed once and retried; VeloCoach did not hammer
    assert log_rows(cur, account_id)[-1][0] == "failed"
    assert garmin_rides(cur) == []


def test_an_expired_access_token_is_refreshed_and_saved_owner_only(cur, account_id, fake, files_dir):
    token_file = files_dir / "garmin_tokens" / str(account_id) / "garmin_tokens.json"
    old = token_file.read_text()
    fake.expire_access_tokens()
    assert sync(cur, account_id, files_dir, since=SINCE).status == "ok"
    assert token_file.read_text() != old
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_an_interrupted_sync_resumes_without_duplicates(cur, account_id, fake, files_dir):
    third = fake.activities[2]["activityId"]
    fake.fail_next(f"{DOWNLOAD_PREFIX}{third}", 500, times=100)
    with pytest.raises(GarminSyncError, match="server error"):
        sync(cur, account_id, files_dir, since=SINCE)
    assert len(garmin_rides(cur)) == 2
    assert log_rows(cur, account_id)[-1][:5] == ("partial", 5, 2, 0, 0)
    fake.clear_faults()
    report = sync(cur, account_id, files_dir)
    assert (report.status, report.listed, report.imported) == ("ok", 3, 3)
    ids = [r[0] for r in garmin_rides(cur)]
    assert ids == [str(a["activityId"]) for a in fake.activities] and len(set(ids)) == 5


def test_a_sync_left_running_by_a_crash_is_marked_interrupted(cur, account_id, files_dir):
    cur.execute("INSERT INTO sync_log (account_id) VALUES (?)", [account_id])
    sync(cur, account_id, files_dir, since=SINCE)
    first, last = log_rows(cur, account_id)
    assert first[0] == "failed" and "interrupted" in first[5] and last[0] == "ok"


def test_other_sports_are_skipped_by_default_and_imported_on_request(cur, account_id, fake, files_dir):
    recorded = json.loads(LIST_TEMPLATE.read_text())  # real list: trail run, hike, paddleboarding (Jan 2026)
    fake.activities = recorded + cycling_activities(1, datetime(2026, 1, 9, 8, tzinfo=UTC))
    report = sync(cur, account_id, files_dir, since=date(2026, 1, 1))
    assert (report.listed, report.imported, report.skipped) == (4, 1, 3)
    assert fake.count(DOWNLOAD_PREFIX) == 1
    report = sync(cur, account_id, files_dir, since=date(2026, 1, 1), activity_types=None)
    assert (report.imported, report.skipped) == (3, 1)
    sports = {r[0] for r in cur.execute("SELECT sport_type FROM rides").fetchall()}
    assert {"trail_running", "hiking", "road_biking"} <= sports


def test_a_broken_fit_in_the_download_keeps_the_summary(cur, account_id, fake, files_dir):
    fake.fit_files[fake.activities[0]["activityId"]] = b"<html>maintenance</html>"
    report = sync(cur, account_id, files_dir, since=SINCE)
    # the fake zips whatever it is given, so this is a zip holding a broken .fit: the reader refuses it
    assert (report.status, report.imported) == ("ok", 5)
    assert any("summary was kept" in note for note in report.notes)
    assert len(garmin_rides(cur)) == 5


def test_unpack_original_reads_zip_or_bare_fit_and_refuses_other_bytes():
    fit = FIT_FILE.read_bytes()
    assert garmin_client.unpack_original(7, fit) == ("7.fit", fit)
    assert garmin_client.unpack_original(7, b"") is None
    with pytest.raises(InvalidFileError, match="neither a zip nor a FIT"):
        garmin_client.unpack_original(7, b"<html>Service unavailable</html>")


def test_the_same_ride_from_a_file_and_from_garmin_is_stored_once(cur, athlete_id, account_id, fake, files_dir):
    from core.importer import import_file

    data = FIT_FILE.read_bytes()
    first = import_file(cur, athlete_id, "edge810.fit", data)
    start = datetime.fromisoformat(str(first["started_at"])).astimezone(UTC)
    fake.activities = cycling_activities(1, start)
    fake.fit_files[fake.activities[0]["activityId"]] = data
    report = sync(cur, account_id, files_dir, since=start.date() - timedelta(days=1))
    assert report.imported == 1
    rows = garmin_rides(cur)
    assert len(rows) == 1 and rows[0][4] == first["id"]  # linked to the file's ride, not a copy
    assert cur.execute("SELECT count(*) FROM rides WHERE duplicate_of IS NULL").fetchone()[0] == 1


def test_sync_history_lists_runs_newest_first_with_the_account_label(cur, athlete_id, account_id, files_dir):
    sync(cur, account_id, files_dir, since=SINCE)
    sync(cur, account_id, files_dir)
    history = garmin_accounts.sync_history(cur, athlete_id)
    assert [h["imported"] for h in history] == [0, 5]
    assert {h["account"] for h in history} == {"Edge 530"}


def test_a_summary_with_impossible_figures_keeps_the_ride_without_them(cur, athlete_id, account_id, fake, files_dir):
    # A corrupted activity: 42,000 km in an hour and an elevation gain of 1e308 m (issue 16).
    fake.activities[2].update({"distance": 4.2e7, "elevationGain": 1e308})
    report = sync(cur, account_id, files_dir, since=SINCE)
    assert report.imported == 5
    distance, gain, warnings = cur.execute(
        "SELECT distance_m, elevation_gain_m, data_warnings FROM rides WHERE external_id = ?",
        [str(fake.activities[2]["activityId"])]).fetchone()
    assert distance is None and gain is None
    assert "implausible figures were left out" in json.loads(warnings)[0]["message"]
    from core.rides.dashboard import period_totals

    assert period_totals(cur, athlete_id, "week")["distance_m"].sum() < 200_000  # four rides of ~30 km
