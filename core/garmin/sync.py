"""Garmin Connect sync: sign in (with MFA), keep only the library's tokens, import new activities incrementally.

The network sits behind one small interface, ``ActivitySource``; ``GarminConnectSource`` is the real adapter on the
``garminconnect`` library (0.3.x: native DI OAuth tokens in ``garmin_tokens.json``). The sync logic,
``sync_account``, knows nothing of HTTP:

1. list the activities newer than the account's watermark (``last_synced_activity_at``/``_id``), oldest first,
   paged; on the first sync (or with ``since``) the rider's chosen date range instead;
2. for each one, oldest first: skip it (other sport, or already stored), else download its "original" file and
   import it through ``core.importer`` — or, when Garmin has no file, store Garmin's summary as a ride — keeping
   the summary JSON raw in ``rides.raw``;
3. each activity is imported and the watermark moved past it in one transaction, so a sync that stops half-way
   (network, rate limit, crash) resumes at the next activity with no duplicates.

One sync per account at a time in this process (the one that holds the database): a second one, from the Garmin
page, the command line or the background schedule (core.garmin.schedule), waits up to ``wait_s`` and is then
refused with SyncBusyError naming the running one.

An up-to-date account therefore costs one list request. HTTP 429, 5xx and connection failures are retried with
exponential backoff (tenacity), up to ``RetryPolicy.attempts``; a refused token raises ``GarminAuthError``.

Secrets: the password goes to the library once and is dropped; it is never stored or logged. The token file lives
in ``<files_dir>/garmin_tokens/<account id>/`` (folder 0700, file 0600); signing out deletes it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from core.errors import (
    DuplicateError,
    GarminAuthError,
    GarminSyncError,
    InvalidFileError,
    SyncBusyError,
    ValidationError,
    VeloCoachError,
)
from core.garmin.accounts import get_account
from core.garmin.client import (
    CYCLING_PARENT_TYPE_ID,
    CYCLING_TYPES,
    DEFAULT_FIRST_SYNC_DAYS,
    PAGE_SIZE,
    ActivitySource,
    GarminConnectSource,
    RetryPolicy,
)
from core.garmin.tokens import ORIGINALS_FOLDER, files_dir_or_default
from core.store.db import bump_data_version, transaction

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# Sync
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class SyncReport:
    account_id: int
    log_id: int
    status: str = "running"  # ok | partial | failed
    listed: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    error: str | None = None
    ride_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("account_id", "log_id", "status", "listed", "imported", "skipped",
                                               "failed", "error", "ride_ids", "notes")}


def activity_start(summary: dict) -> datetime | None:
    """UTC start of a Garmin summary (startTimeGMT "YYYY-MM-DD HH:MM:SS", else beginTimestamp in ms)."""
    text = summary.get("startTimeGMT")
    if isinstance(text, str) and text:
        try:
            return datetime.fromisoformat(text.replace("T", " ")[:19]).replace(tzinfo=UTC)
        except ValueError:
            pass
    stamp = summary.get("beginTimestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp / 1000, UTC)
    return None


def activity_type(summary: dict) -> str:
    kind = summary.get("activityType") or summary.get("activityTypeDTO") or {}
    return str(kind.get("typeKey") or "other")


def wanted(summary: dict, activity_types: Iterable[str] | None) -> bool:
    """Does the activity pass the type filter? None lets every type through."""
    if activity_types is None:
        return True
    types = set(activity_types)
    kind = summary.get("activityType") or {}
    if "cycling" in types and kind.get("parentTypeId") == CYCLING_PARENT_TYPE_ID:
        return True
    return activity_type(summary) in types


def _number(summary: dict, *keys: str) -> float | None:
    for key in keys:
        value = summary.get(key)
        if isinstance(value, int | float) and value == value:
            return float(value)
    return None


def summary_fields(summary: dict) -> dict:
    """Garmin's summary figures in VeloCoach's ride columns (for activities without a file)."""
    return {
        "name": summary.get("activityName") or None,
        "sport_type": activity_type(summary),
        "started_at": activity_start(summary),
        "elapsed_time_s": _number(summary, "elapsedDuration", "duration"),
        "moving_time_s": _number(summary, "movingDuration", "duration"),
        "distance_m": _number(summary, "distance"),
        "elevation_gain_m": _number(summary, "elevationGain"),
        "avg_hr": _number(summary, "averageHR"),
        "max_hr": _number(summary, "maxHR"),
        "avg_power_w": _number(summary, "avgPower"),
        "max_power_w": _number(summary, "maxPower"),
        "normalized_power_w": _number(summary, "normPower"),
        "avg_cadence": _number(summary, "averageBikingCadenceInRevPerMinute"),
    }


def _key(summary: dict) -> tuple[datetime, int]:
    return (activity_start(summary) or datetime.min.replace(tzinfo=UTC), int(summary.get("activityId") or 0))


def _stored_ride(cur, account_id: int, external_id: str) -> int | None:
    row = cur.execute("SELECT id FROM rides WHERE source = 'garmin' AND account_id = ? AND external_id = ?",
                      [account_id, external_id]).fetchone()
    return row[0] if row else None


def _advance(cur, account_id: int, log_id: int, summary: dict, *, imported=0, skipped=0, failed=0) -> None:
    """Move the watermark past ``summary`` (never backwards) and count it; called inside the activity's
    transaction, so the count, the watermark and the ride are saved together."""
    started = activity_start(summary)
    cur.execute(
        "UPDATE garmin_accounts SET last_synced_activity_id = ?, last_synced_activity_at = ? WHERE id = ? AND "
        "(last_synced_activity_at IS NULL OR last_synced_activity_at < ? OR "
        "(last_synced_activity_at = ? AND last_synced_activity_id < ?))",
        [int(summary["activityId"]), started, account_id, started, started, int(summary["activityId"])])
    cur.execute("UPDATE sync_log SET imported = imported + ?, skipped = skipped + ?, failed = failed + ? "
                "WHERE id = ?", [imported, skipped, failed, log_id])


def _keep_original(files_dir: Path | None, account_id: int, activity_id: int, filename: str, data: bytes) -> Path:
    folder = Path(files_dir) / ORIGINALS_FOLDER / str(account_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{activity_id}{Path(filename).suffix.lower() or '.fit'}"
    path.write_bytes(data)
    return path


def _ride_id(result) -> int | None:
    """The ride id from import_file's dict or store_ride's StoredRide."""
    if isinstance(result, dict):
        result = result.get("id")
    if isinstance(result, int):
        return result
    for name in ("ride_id", "id"):
        value = getattr(result, name, None)
        if isinstance(value, int):
            return value
    return None


def _import_activity(cur, athlete_id: int, account_id: int, log_id: int, summary: dict,
                     original: tuple[str, bytes] | None, report: SyncReport) -> None:
    """Store one activity (its file, else its summary) and advance the watermark, each try in one transaction."""
    from core import importer

    external_id = str(summary["activityId"])
    name = summary.get("activityName") or f"activity {external_id}"
    if original is not None:
        filename, data = original
        try:
            with transaction(cur):
                result = importer.import_file(cur, athlete_id, filename, data, source="garmin",
                                              account_id=account_id, external_id=external_id, raw=summary)
                _advance(cur, account_id, log_id, summary, imported=1)
                bump_data_version(cur)
            report.imported += 1
            ride_id = _ride_id(result)
            if ride_id is not None:
                report.ride_ids.append(ride_id)
            return
        except DuplicateError as exc:
            with transaction(cur):
                _advance(cur, account_id, log_id, summary, skipped=1)
            report.skipped += 1
            report.notes.append(f"{name}: {exc}")
            return
        except InvalidFileError as exc:
            report.notes.append(f"{name}: {exc}; Garmin's summary was kept instead")
            log.warning("garmin activity %s: file not imported (%s)", external_id, exc)
    with transaction(cur):  # through the importer: the summary's figures are checked for plausibility first
        stored = importer.import_summary(cur, athlete_id, summary_fields(summary), source="garmin",
                                         external_id=external_id, account_id=account_id, raw=summary, label=name)
        _advance(cur, account_id, log_id, summary, imported=1)
        bump_data_version(cur)
    report.imported += 1
    ride_id = _ride_id(stored)
    if ride_id is not None:
        report.ride_ids.append(ride_id)


ProgressCallback = Callable[[int, int, str], None]
ORIGINS = ("manual", "scheduled")

# account id -> {"origin", "started_at"} of the sync running in this process
_RUNNING: dict[int, dict] = {}
_RUNNING_CHANGED = threading.Condition()


def running_sync(account_id: int) -> dict | None:
    """``{"origin", "started_at"}`` of the account's sync running now in this process, else None."""
    with _RUNNING_CHANGED:
        running = _RUNNING.get(account_id)
        return dict(running) if running else None


@contextmanager
def _one_at_a_time(account: dict, origin: str, wait_s: float) -> Iterator[None]:
    account_id = account["id"]
    with _RUNNING_CHANGED:
        if not _RUNNING_CHANGED.wait_for(lambda: account_id not in _RUNNING, timeout=max(wait_s, 0)):
            running = _RUNNING[account_id]
            who = "The scheduled sync" if running["origin"] == "scheduled" else "Another sync"
            raise SyncBusyError(f"{who} of '{account['label']}' is running (started {running['started_at']:%H:%M:%S} "
                                "UTC) and imports its new activities now; try again when it has finished.")
        _RUNNING[account_id] = {"origin": origin, "started_at": datetime.now(UTC)}
    try:
        yield
    finally:
        with _RUNNING_CHANGED:
            _RUNNING.pop(account_id, None)
            _RUNNING_CHANGED.notify_all()


def sync_account(cur, account_id: int, source: ActivitySource | None = None, *,
                 progress: ProgressCallback | None = None, since: date | None = None, until: date | None = None,
                 activity_types: Iterable[str] | None = CYCLING_TYPES, page_size: int = PAGE_SIZE,
                 retry: RetryPolicy | None = None, files_dir: Path | None = None,
                 today: date | None = None, origin: str = "manual", wait_s: float = 0.0,
                 still_wanted: Callable[[dict], bool] | None = None) -> SyncReport:
    """Import the account's new activities; every run is a sync_log row (``origin``: manual or scheduled).

    ``since``/``until``: the date range of a first sync (default: the last 90 days), or a re-scan of older dates
    (already stored activities are skipped; the watermark never moves back). ``activity_types``: Garmin typeKeys
    to import (default: cycling); others are counted as skipped. ``progress(done, total, message)`` is called
    before each activity and at the end.

    Raises GarminAuthError (sign in again) or GarminSyncError (stopped; the next run resumes) after writing the
    sync_log row, and SyncBusyError when another sync of the account is still running after ``wait_s`` (or, once
    none is, ``still_wanted(account as read now)`` is False: the scheduler's check that it is still due); returns
    the SyncReport otherwise (status ok, or partial when some activities failed).
    """
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    account = get_account(cur, account_id)
    with _one_at_a_time(account, origin, wait_s):
        # The scheduler's last look, now that no other sync of the account can run: one that ended while the
        # scheduler was deciding has already brought the activities in (and moved the account's last sync).
        if still_wanted is not None and not still_wanted(get_account(cur, account_id)):
            raise SyncBusyError(f"'{account['label']}' was synced a moment ago; nothing to do now.")
        return _sync(cur, account, source, progress=progress, since=since, until=until,
                     activity_types=activity_types, page_size=page_size, retry=retry,
                     files_dir=files_dir_or_default(files_dir), today=today, origin=origin)


def _sync(cur, account: dict, source: ActivitySource | None, *, progress: ProgressCallback | None,
          since: date | None, until: date | None, activity_types: Iterable[str] | None, page_size: int,
          retry: RetryPolicy | None, files_dir: Path, today: date | None, origin: str) -> SyncReport:
    account_id, athlete_id = account["id"], account["athlete_id"]
    with transaction(cur):
        cur.execute("UPDATE sync_log SET status = 'failed', finished_at = current_timestamp, "
                    "error = 'interrupted (the app or the command stopped during the sync)' "
                    "WHERE account_id = ? AND status = 'running'", [account_id])
        log_id = cur.execute("INSERT INTO sync_log (account_id, origin) VALUES (?, ?) RETURNING id",
                             [account_id, origin]).fetchone()[0]
    report = SyncReport(account_id=account_id, log_id=log_id)
    log.info("garmin sync of account %s started", account_id)
    try:
        if source is None:
            source = GarminConnectSource(account["token_dir"], retry)
        watermark = None
        if account["last_synced_activity_at"] is not None and since is None:
            wm_at = account["last_synced_activity_at"].astimezone(UTC)
            watermark = (wm_at, int(account["last_synced_activity_id"] or 0))
            # Garmin filters on the local start date: a day earlier covers every time zone.
            start_date, end_date = wm_at.date() - timedelta(days=1), None
        else:
            start_date = since or (today or date.today()) - timedelta(days=DEFAULT_FIRST_SYNC_DAYS)
            end_date = until
        if end_date is not None and end_date < start_date:
            raise ValidationError("The sync's end date is before its start date")

        new: list[dict] = []
        offset = 0
        while True:
            page = source.list_activities(start_date, end_date, offset, page_size)
            for summary in page:
                if not isinstance(summary, dict) or "activityId" not in summary:
                    continue
                if watermark is None or _key(summary) > watermark:
                    new.append(summary)
            if len(page) < page_size:
                break
            offset += page_size
        unique = {int(s["activityId"]): s for s in new}
        new = sorted(unique.values(), key=_key)
        report.listed = len(new)
        with transaction(cur):
            cur.execute("UPDATE sync_log SET listed = ? WHERE id = ?", [report.listed, log_id])

        for done, summary in enumerate(new):
            external_id = str(summary["activityId"])
            if progress:
                progress(done, len(new), summary.get("activityName") or f"activity {external_id}")
            if not wanted(summary, activity_types) or _stored_ride(cur, account_id, external_id) is not None:
                with transaction(cur):
                    _advance(cur, account_id, log_id, summary, skipped=1)
                report.skipped += 1
                continue
            try:
                original = source.download_original(int(external_id))
                if original is not None:
                    _keep_original(files_dir, account_id, int(external_id), *original)
            except InvalidFileError as exc:
                report.notes.append(str(exc))
                original = None
            try:
                _import_activity(cur, athlete_id, account_id, log_id, summary, original, report)
            except (GarminSyncError, GarminAuthError):
                raise
            except VeloCoachError as exc:
                # This activity cannot be stored at all: count it, move on (it must not block later ones).
                with transaction(cur):
                    _advance(cur, account_id, log_id, summary, failed=1)
                report.failed += 1
                report.notes.append(f"{summary.get('activityName') or external_id}: {exc}")
                log.warning("garmin activity %s failed: %s", external_id, exc)
        if progress:
            progress(len(new), len(new), "done")
        report.status = "ok" if report.failed == 0 else "partial"
        report.error = "; ".join(report.notes)[:2000] or None
    except VeloCoachError as exc:
        report.status = "partial" if report.imported else "failed"
        report.error = str(exc)
        _finish(cur, report)
        log.warning("garmin sync of account %s stopped: %s", account_id, exc)
        raise
    except BaseException as exc:
        report.status = "partial" if report.imported else "failed"
        report.error = f"unexpected failure ({type(exc).__name__})"
        _finish(cur, report)
        raise
    _finish(cur, report)
    log.info("garmin sync of account %s: %s, %d new, %d imported, %d skipped, %d failed", account_id,
             report.status, report.listed, report.imported, report.skipped, report.failed)
    return report


def _finish(cur, report: SyncReport) -> None:
    with transaction(cur):
        cur.execute("UPDATE sync_log SET status = ?, finished_at = current_timestamp, listed = ?, imported = ?, "
                    "skipped = ?, failed = ?, error = ? WHERE id = ?",
                    [report.status, report.listed, report.imported, report.skipped, report.failed, report.error,
                     report.log_id])
        cur.execute("UPDATE garmin_accounts SET last_sync_at = current_timestamp WHERE id = ?", [report.account_id])
