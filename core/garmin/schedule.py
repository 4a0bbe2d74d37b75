"""The background Garmin sync: each account's interval (off by default; hourly, every 3 or 12 hours, daily) and the
scheduler the running app starts, which syncs due accounts one after another on the app's own connection.

When an account is due: never synced, or its last sync (any origin: the page, the command line or the schedule)
ended an interval ago, plus a jitter of up to a tenth of the interval (at most 15 minutes, drawn again after
every run) so syncs do not all fall on the hour. A due account is synced at the scheduler's next check
(``Settings.sync_check_s``, 60 s by default; the first check is that long after the app starts). A sync the rider
started that is still running makes the schedule wait (core.garmin.sync lets one sync per account run at a time).

Stopping the app stops the scheduler: a sync under way ends before its next activity (that activity and the
ones after it come with the next sync) and says so in the sync history.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.errors import GarminSyncError, SyncBusyError, ValidationError, VeloCoachError
from core.garmin.accounts import get_account
from core.garmin.sync import running_sync, sync_account
from core.store.db import Database, audit, transaction

log = logging.getLogger(__name__)

INTERVALS = {60: "Every hour", 180: "Every 3 hours", 720: "Every 12 hours", 1440: "Daily"}
INTERVAL_WORDS = {"off": None, "1h": 60, "3h": 180, "12h": 720, "daily": 1440}  # the command line's --every
MAX_JITTER_S = 15 * 60
STOPPED = "The app stopped during the sync; the next sync resumes where this one stopped."


def interval_label(minutes: int | None) -> str:
    return INTERVALS.get(minutes, f"Every {minutes} minutes") if minutes else "Off"


def set_auto_sync(cur, account_id: int, minutes: int | None) -> None:
    """Turn the account's background sync off (None) or on at one of INTERVALS."""
    if minutes is not None and minutes not in INTERVALS:
        raise ValidationError("Choose off, every hour, every 3 hours, every 12 hours or daily")
    account = get_account(cur, account_id)
    with transaction(cur):
        cur.execute("UPDATE garmin_accounts SET auto_sync_minutes = ? WHERE id = ?", [minutes, account_id])
        audit(cur, "auto_sync", "garmin_account", account_id, account["athlete_id"], minutes=minutes)
    scheduler = current_scheduler()
    if scheduler is not None:
        scheduler.poke()


def scheduled_accounts(cur, athlete_id: int | None = None, *, include_off: bool = False) -> list[dict]:
    """Accounts with a background interval (of one athlete, or all; ``include_off``: every account), with their
    last scheduled run."""
    ids = [row[0] for row in cur.execute(
        "SELECT id FROM garmin_accounts WHERE (? OR auto_sync_minutes IS NOT NULL) AND (? IS NULL OR athlete_id = ?) "
        "ORDER BY athlete_id, label", [include_off, athlete_id, athlete_id]).fetchall()]
    accounts = []
    for account in map(lambda account_id: get_account(cur, account_id), ids):
        accounts.append({"id": account["id"], "athlete_id": account["athlete_id"], "label": account["label"],
                         "interval_minutes": account["auto_sync_minutes"], "signed_in": account["signed_in"],
                         "last_sync_at": account["last_sync_at"],
                         "last_scheduled_run": last_scheduled_run(cur, account["id"])})
    return accounts


def last_scheduled_run(cur, account_id: int) -> dict | None:
    row = cur.execute("SELECT started_at, finished_at, status, listed, imported, skipped, failed, error FROM sync_log "
                      "WHERE account_id = ? AND origin = 'scheduled' ORDER BY started_at DESC, id DESC LIMIT 1",
                      [account_id]).fetchone()
    keys = ("started_at", "finished_at", "status", "listed", "imported", "skipped", "failed", "error")
    return dict(zip(keys, row, strict=True)) if row else None


def due_at(last_sync_at: datetime | None, minutes: int, jitter_s: float, started_at: datetime) -> datetime:
    """When an account with this interval is next synced: at once (the first check) if it never was."""
    if last_sync_at is None:
        return started_at
    return last_sync_at + timedelta(minutes=minutes, seconds=jitter_s)


def draw_jitter(minutes: int, rng: random.Random) -> float:
    return rng.uniform(0, min(minutes * 60 * 0.1, MAX_JITTER_S))


# ------------------------------------------------------------------------------------------------ the scheduler
_current: SyncScheduler | None = None


def current_scheduler() -> SyncScheduler | None:
    """The scheduler running in this process (the app's), else None (the command line, AppTest)."""
    return _current if _current is not None and _current.alive else None


class SyncScheduler:
    """A daemon thread that syncs due accounts; ``start()``, ``poke()`` after a change, ``stop()`` at shutdown."""

    def __init__(self, database: Callable[[], Database], *, check_every_s: float = 60.0,
                 rng: random.Random | None = None, files_dir=None):
        self._database = database
        self.check_every_s = check_every_s
        self._rng = rng or random.Random()
        self._files_dir = files_dir
        self._stop = threading.Event()
        self._poked = threading.Event()
        self._jitter: dict[int, float] = {}
        self._lock = threading.Lock()
        self.started_at = datetime.now(UTC)
        self.last_check_at: datetime | None = None
        self.last_problem: str | None = None
        self._thread = threading.Thread(target=self._loop, name="velocoach-garmin-schedule", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> SyncScheduler:
        global _current
        self.started_at = datetime.now(UTC)
        _current = self
        self._thread.start()
        return self

    def poke(self) -> None:
        """Look at the accounts again now (an interval changed)."""
        self._poked.set()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop, ending a sync under way before its next activity; True when the thread has ended."""
        global _current
        self._stop.set()
        self._poked.set()
        self._thread.join(timeout_s)
        if _current is self:
            _current = None
        if self._thread.is_alive():
            log.warning("the background Garmin sync is still finishing a request; it ends with the app")
        return not self._thread.is_alive()

    def next_run_at(self, account: dict) -> datetime:
        with self._lock:
            jitter = self._jitter.get(account["id"], 0.0)
        when = due_at(account["last_sync_at"], account["interval_minutes"], jitter, self.started_at)
        first_check = self.started_at + timedelta(seconds=self.check_every_s)
        return max(when, first_check)

    # -- the thread ---------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poked.wait(self.check_every_s)
            self._poked.clear()
            if self._stop.is_set():
                break
            try:
                self._run_due()
                self.last_problem = None
            except VeloCoachError as exc:  # e.g. the database cannot be opened right now: try at the next check
                self.last_problem = str(exc)
                log.warning("background Garmin sync: %s", exc)
            except Exception as exc:  # noqa: BLE001 — the scheduler must outlive one bad round
                self.last_problem = f"unexpected failure ({type(exc).__name__})"
                log.exception("background Garmin sync failed")

    def _run_due(self) -> None:
        cur = self._database().cursor()
        self.last_check_at = now = datetime.now(UTC)
        for account in scheduled_accounts(cur):
            if self._stop.is_set():
                return
            if not account["signed_in"] or running_sync(account["id"]) is not None or self.next_run_at(account) > now:
                continue
            self._sync(cur, account)

    def _still_due(self, account: dict) -> bool:
        """Due by the account as it is now (``garmin.accounts`` row): a sync from the page or the command line that
        ended after this round read the accounts has moved its last sync; one switched off meanwhile is not due."""
        if account["auto_sync_minutes"] is None:
            return False
        return self.next_run_at({"id": account["id"], "interval_minutes": account["auto_sync_minutes"],
                                 "last_sync_at": account["last_sync_at"]}) <= datetime.now(UTC)

    def _sync(self, cur, account: dict) -> None:
        def stop_between_activities(done: int, total: int, message: str) -> None:
            if self._stop.is_set():
                raise GarminSyncError(STOPPED)

        try:
            report = sync_account(cur, account["id"], progress=stop_between_activities, origin="scheduled",
                                  files_dir=self._files_dir, still_wanted=self._still_due)
            log.info("scheduled Garmin sync of %s: %s, %d imported, %d failed", account["label"], report.status,
                     report.imported, report.failed)
        except SyncBusyError:
            return  # the rider's own sync is bringing the activities in; the next due time follows from it
        except GarminSyncError as exc:  # recorded in the sync history; the next interval tries again
            log.warning("scheduled Garmin sync of %s: %s", account["label"], exc)
        with self._lock:
            self._jitter[account["id"]] = draw_jitter(account["interval_minutes"], self._rng)


def background_sync_status(cur, settings, athlete_id: int | None = None, now: datetime | None = None) -> dict:
    """What the Garmin page, the health report and ``garmin schedule`` show: is the scheduler on and running, and
    per account its interval, next run, the sync running now and the schedule's last result."""
    scheduler = current_scheduler()
    now = now or datetime.now(UTC)
    accounts = []
    for account in scheduled_accounts(cur, athlete_id, include_off=True):
        running = running_sync(account["id"])
        if scheduler is not None and account["signed_in"] and account["interval_minutes"]:
            next_run = scheduler.next_run_at(account)
        else:
            next_run = None
        accounts.append({
            "account_id": account["id"], "athlete_id": account["athlete_id"], "label": account["label"],
            "interval_minutes": account["interval_minutes"], "interval": interval_label(account["interval_minutes"]),
            "signed_in": account["signed_in"], "next_run_at": next_run, "due": bool(next_run and next_run <= now),
            "running_since": running and running["started_at"], "running_origin": running and running["origin"],
            "last_sync_at": account["last_sync_at"], "last_scheduled_run": account["last_scheduled_run"]})
    return {"enabled": settings.feature("background_sync"), "running": scheduler is not None,
            "check_every_s": scheduler.check_every_s if scheduler is not None else settings.sync_check_s,
            "last_check_at": scheduler.last_check_at if scheduler is not None else None,
            "problem": scheduler.last_problem if scheduler is not None else None, "accounts": accounts}
