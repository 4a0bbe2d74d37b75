"""The background Garmin sync: intervals, the scheduler (a real thread, the real garminconnect client against
tests/fakes/garmin_server.py), one sync per account at a time, stopping mid-sync, and the status the pages and
the health report show."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from core.cli import main
from core.config import Settings
from core.errors import SyncBusyError, ValidationError
from core.garmin import accounts as garmin_accounts
from core.garmin import sync as garmin_sync
from core.garmin.schedule import (
    STOPPED,
    SyncScheduler,
    background_sync_status,
    current_scheduler,
    draw_jitter,
    set_auto_sync,
)
from core.store.db import transaction
from core.store.shared import SharedDatabase
from tests.fakes.garmin_server import DOWNLOAD_PREFIX, LIST_PATH, FakeGarmin, cycling_activities

RECENT = datetime.now(UTC) - timedelta(days=6)


@pytest.fixture
def files_dir(tmp_path):
    return tmp_path / "files"  # VELOCOACH_DATA_DIR of the db_path fixture


@pytest.fixture
def fake(monkeypatch):
    with FakeGarmin(activities=cycling_activities(5, RECENT)) as server:
        server.install(monkeypatch)
        yield server


@pytest.fixture
def account_id(cur, athlete_id, fake, files_dir):
    return garmin_accounts.sign_in(cur, athlete_id, "Edge 530", fake.email, fake.password, files_dir=files_dir)


@pytest.fixture
def start_scheduler(db_path, files_dir):
    started: list[SyncScheduler] = []
    database = SharedDatabase(db_path)

    def start(**options) -> SyncScheduler:
        options.setdefault("check_every_s", 0.05)
        scheduler = SyncScheduler(database.get, files_dir=files_dir, **options).start()
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        assert scheduler.stop(20)
    database.close()


def sync_log(cur, account_id):
    return cur.execute("SELECT origin, status, listed, imported, failed, error FROM sync_log WHERE account_id = ? "
                       "ORDER BY id", [account_id]).fetchall()


def wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_background_sync_is_off_until_an_offered_interval_is_chosen(cur, account_id):
    assert garmin_accounts.get_account(cur, account_id)["auto_sync_minutes"] is None
    for bad in (0, 5, 59, 10_000, -60):
        with pytest.raises(ValidationError):
            set_auto_sync(cur, account_id, bad)
    set_auto_sync(cur, account_id, 180)
    assert garmin_accounts.get_account(cur, account_id)["auto_sync_minutes"] == 180
    set_auto_sync(cur, account_id, None)
    assert garmin_accounts.get_account(cur, account_id)["auto_sync_minutes"] is None


def test_the_feature_flag_is_on_by_default_and_can_be_turned_off():
    assert Settings().feature("background_sync")
    assert not Settings(features="-background_sync").feature("background_sync")
    assert Settings(features="-ai_coach").feature("background_sync")


def test_jitter_is_at_most_a_tenth_of_the_interval_and_never_over_15_minutes():
    import random

    rng = random.Random(7)
    hourly = [draw_jitter(60, rng) for _ in range(500)]
    daily = [draw_jitter(1440, rng) for _ in range(500)]
    assert 0 <= min(hourly) and max(hourly) <= 360 and max(hourly) > 300
    assert max(daily) <= 900 and len(set(daily)) > 400


def test_the_scheduler_syncs_a_due_account_on_its_own_and_plans_the_next_run(cur, account_id, fake,
                                                                           start_scheduler):
    set_auto_sync(cur, account_id, 60)
    scheduler = start_scheduler()
    assert current_scheduler() is scheduler
    wait_until(lambda: sync_log(cur, account_id) and sync_log(cur, account_id)[-1][1] != "running")
    assert sync_log(cur, account_id) == [("scheduled", "ok", 5, 5, 0, None)]
    status = background_sync_status(cur, Settings())
    (account,) = status["accounts"]
    assert status["running"] and status["enabled"] and account["label"] == "Edge 530"
    last_sync = garmin_accounts.get_account(cur, account_id)["last_sync_at"]
    assert timedelta(minutes=60) <= account["next_run_at"] - last_sync <= timedelta(minutes=66)
    assert account["last_scheduled_run"]["imported"] == 5 and not account["due"]
    time.sleep(0.3)  # several more checks: nothing is due
    assert len(sync_log(cur, account_id)) == 1 and fake.count(LIST_PATH) == 1


def test_an_account_synced_within_its_interval_waits_and_an_older_one_is_synced(cur, athlete_id, account_id, fake,
                                                                              files_dir, start_scheduler):
    garmin_sync.sync_account(cur, account_id, files_dir=files_dir)  # by hand, just now
    other = garmin_accounts.sign_in(cur, athlete_id, "Old watch", fake.email, fake.password, files_dir=files_dir)
    cur.execute("UPDATE garmin_accounts SET last_sync_at = ? WHERE id = ?",
                [datetime.now(UTC) - timedelta(hours=2), other])
    for account in (account_id, other):
        set_auto_sync(cur, account, 60)
    start_scheduler()
    wait_until(lambda: [row[:2] for row in sync_log(cur, other)] == [("scheduled", "ok")])
    time.sleep(0.2)
    assert [row[0] for row in sync_log(cur, account_id)] == ["manual"]


def test_a_second_sync_of_an_account_is_refused_with_a_sentence_or_waits_for_the_first(db, account_id, files_dir):
    holding, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def slow(done, total, message):
        holding.set()
        release.wait(10)

    def first():
        results["first"] = garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir, progress=slow,
                                                    origin="scheduled")

    def patient():
        results["patient"] = garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir, wait_s=20)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    holding.wait(10)
    with pytest.raises(SyncBusyError, match="The scheduled sync of 'Edge 530' is running .* try again when"):
        garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir)
    assert garmin_sync.running_sync(account_id)["origin"] == "scheduled"
    threads.append(threading.Thread(target=patient))
    threads[1].start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(30)
    assert (results["first"].imported, results["patient"].imported) == (5, 0)
    assert [row[:2] for row in sync_log(db.cursor(), account_id)] == [("scheduled", "ok"), ("manual", "ok")]
    assert garmin_sync.running_sync(account_id) is None


def test_a_sync_from_the_page_or_the_command_line_holds_the_schedule_back(db, cur, account_id, files_dir,
                                                                          start_scheduler):
    holding, release = threading.Event(), threading.Event()
    set_auto_sync(cur, account_id, 60)

    def slow(done, total, message):
        holding.set()
        release.wait(10)

    manual = threading.Thread(target=lambda: garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir,
                                                                      progress=slow))
    manual.start()
    holding.wait(10)
    start_scheduler()
    time.sleep(0.3)  # the account is due, but its manual sync is running
    status = background_sync_status(cur, Settings())["accounts"][0]
    assert status["running_origin"] == "manual" and status["running_since"] is not None
    release.set()
    manual.join(30)
    time.sleep(0.3)
    assert [row[0] for row in sync_log(cur, account_id)] == ["manual"]  # its result counts for the schedule too


def test_a_scheduled_round_that_read_the_accounts_before_a_manual_sync_ended_does_not_sync_again(
        db, cur, account_id, files_dir, db_path):
    """The race CI met once: the scheduler reads the accounts (this one due: never synced), a sync from the page
    ends, then the scheduler's own sync starts. Once it holds the account it looks again and leaves it."""
    set_auto_sync(cur, account_id, 60)
    scheduler = SyncScheduler(SharedDatabase(db_path).get, files_dir=files_dir, check_every_s=0)  # not started
    read_before = garmin_accounts.get_account(cur, account_id)
    assert scheduler._still_due(read_before)  # due when the round read it
    garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir)  # the rider's sync ends meanwhile
    with pytest.raises(SyncBusyError, match="synced a moment ago"):
        garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir, origin="scheduled",
                                 still_wanted=scheduler._still_due)
    assert [row[0] for row in sync_log(cur, account_id)] == ["manual"]
    # an hour and more later it is due again, and the same call syncs
    with transaction(cur):
        cur.execute("UPDATE garmin_accounts SET last_sync_at = last_sync_at - INTERVAL 2 HOUR WHERE id = ?",
                    [account_id])
    garmin_sync.sync_account(db.cursor(), account_id, files_dir=files_dir, origin="scheduled",
                             still_wanted=scheduler._still_due)
    assert [row[0] for row in sync_log(cur, account_id)] == ["manual", "scheduled"]
    set_auto_sync(cur, account_id, None)  # switched off while a round was deciding: left alone too
    assert not scheduler._still_due(garmin_accounts.get_account(cur, account_id))


def test_stopping_the_app_ends_a_scheduled_sync_between_activities_and_the_next_sync_resumes(cur, account_id, fake,
                                                                                           files_dir,
                                                                                           start_scheduler):
    fake.fail_next(DOWNLOAD_PREFIX, 429, times=1)  # the first download backs off ~2 s: the app stops meanwhile
    set_auto_sync(cur, account_id, 60)
    scheduler = start_scheduler()
    wait_until(lambda: fake.count(DOWNLOAD_PREFIX) == 1)  # refused once: backing off before the first activity
    assert scheduler.stop(20) and current_scheduler() is None
    (row,) = sync_log(cur, account_id)
    assert row == ("scheduled", "partial", 5, 1, 0, STOPPED)
    report = garmin_sync.sync_account(cur, account_id, files_dir=files_dir)
    assert (report.listed, report.imported) == (4, 4)
    assert cur.execute("SELECT count(*), count(DISTINCT external_id) FROM rides").fetchone() == (5, 5)


def test_garmin_schedule_sets_an_interval_and_shows_the_status(db_path, cur, athlete_id, account_id, fake, files_dir,
                                                              capsys):
    import json

    assert main(["garmin", "schedule", "--every", "3h", "--json"]) == 0
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["label"], line["interval_minutes"], line["scheduler_running"]) == ("Edge 530", 180, False)
    assert main(["garmin", "schedule"]) == 0
    assert capsys.readouterr().out == "Edge 530: every 3 hours, runs while the app is open\n"
    garmin_accounts.sign_in(cur, athlete_id, "Second", fake.email, fake.password, files_dir=files_dir)
    assert main(["garmin", "schedule", "--every", "off"]) == 2
    assert "give --account" in capsys.readouterr().err
    assert main(["garmin", "schedule", "--every", "off", "--account", "Edge 530"]) == 0
    assert "Edge 530: off" in capsys.readouterr().out
