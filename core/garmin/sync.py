"""Garmin Connect sync: sign in (with MFA), keep only the library's tokens, import new activities incrementally.

The network sits behind one small interface, ``ActivitySource``; ``GarminConnectSource`` is the real adapter on the
``garminconnect`` library (0.3.x: native DI OAuth tokens in ``garmin_tokens.json``). The sync logic,
``sync_account``, knows nothing of HTTP:

1. list the activities newer than the account's watermark (``last_synced_activity_at``/``_id``), oldest first,
   paged; on the first sync (or with ``since``) the rider's chosen date range instead;
2. for each one, oldest first: skip it (other sport, or already stored), else download its "original" file and
   import it through ``core.rides.importer`` — or, when Garmin has no file, store Garmin's summary as a ride — keeping
   the summary JSON raw in ``rides.raw``;
3. each activity is imported and the watermark moved past it in one transaction, so a sync that stops half-way
   (network, rate limit, crash) resumes at the next activity with no duplicates.

An up-to-date account therefore costs one list request. HTTP 429, 5xx and connection failures are retried with
exponential backoff (tenacity), up to ``RetryPolicy.attempts``; a refused token raises ``GarminAuthError``.

Secrets: the password goes to the library once and is dropped; it is never stored or logged. The token file lives
in ``<files_dir>/garmin_tokens/<account id>/`` (folder 0700, file 0600); signing out deletes it.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import (
    DuplicateError,
    GarminAuthError,
    GarminSyncError,
    InvalidFileError,
    ValidationError,
    VeloCoachError,
)
from core.store.db import audit, bump_data_version, delete_with_children, get_one, transaction

log = logging.getLogger(__name__)

TOKENS_FOLDER = "garmin_tokens"
TOKEN_FILE = "garmin_tokens.json"  # the name garminconnect's Client.dump()/load() use inside a folder
ORIGINALS_FOLDER = "garmin_originals"  # downloaded files, kept so the database can be rebuilt offline
SIGNED_OUT = "Garmin Connect signed you out: sign in again"
DEFAULT_FIRST_SYNC_DAYS = 90
PAGE_SIZE = 50
MAX_ORIGINAL_BYTES = 200 * 1024 * 1024

# Garmin activityType.typeKey values that are rides (parentTypeId 2 is Garmin's "cycling" family).
CYCLING_TYPES = frozenset({
    "cycling", "road_biking", "mountain_biking", "gravel_cycling", "indoor_cycling", "virtual_ride",
    "cyclocross", "track_cycling", "recumbent_cycling", "bmx", "downhill_biking", "e_bike_fitness",
    "e_bike_mountain", "e_enduro_mtb", "enduro_mtb", "hand_cycling", "indoor_hand_cycling",
})
CYCLING_PARENT_TYPE_ID = 2


# ----------------------------------------------------------------------------------------------------------------
# The interface and the real adapter
# ----------------------------------------------------------------------------------------------------------------
class ActivitySource(Protocol):
    """Where activities come from. Errors: GarminAuthError (sign in again) or GarminSyncError (try later)."""

    def list_activities(self, start_date: date, end_date: date | None, start: int, limit: int) -> list[dict]:
        """Activity summaries starting on or after ``start_date`` (and on/before ``end_date``), oldest first."""

    def download_original(self, activity_id: int) -> tuple[str, bytes] | None:
        """(file name, bytes) of the activity's original recording, or None when Garmin has no file for it."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for 429 / 5xx / connection failures: waits first_wait_s, 2x, 4x … up to max_wait_s."""

    attempts: int = 5
    first_wait_s: float = 2.0
    max_wait_s: float = 60.0


class _Transient(Exception):
    """Worth retrying (rate limit, server error, network)."""


class _NotFound(Exception):
    pass


_STATUS = re.compile(r"API Error (\d{3})")


def _translate(exc: Exception) -> Exception:
    """garminconnect 0.3.2 reports HTTP failures as GarminConnectConnectionError("... API Error 429 - ...")
    (its wrappers look for a .response attribute the client never sets), so the status is read from the text."""
    from garminconnect import (
        GarminConnectAuthenticationError,
        GarminConnectConnectionError,
        GarminConnectTooManyRequestsError,
    )

    if isinstance(exc, GarminConnectAuthenticationError):
        return GarminAuthError(SIGNED_OUT)
    if isinstance(exc, GarminConnectTooManyRequestsError):
        return _Transient("Garmin Connect is rate limiting requests (HTTP 429)")
    match = _STATUS.search(str(exc))
    status = int(match.group(1)) if match else None
    if status in (401, 403):
        return GarminAuthError(SIGNED_OUT)
    if status == 404:
        return _NotFound(str(exc))
    if status == 429:
        return _Transient("Garmin Connect is rate limiting requests (HTTP 429)")
    if status is not None and status >= 500:
        return _Transient(f"Garmin Connect answered with a server error (HTTP {status})")
    if status is not None:
        return GarminSyncError(f"Garmin Connect refused the request (HTTP {status})")
    if isinstance(exc, GarminConnectConnectionError | OSError):
        return _Transient("Garmin Connect could not be reached")
    return exc


class GarminConnectSource:
    """ActivitySource on the real ``garminconnect`` client, restored from the account's token folder."""

    def __init__(self, token_dir: str | Path | None, retry: RetryPolicy | None = None):
        from garminconnect import Garmin

        if not token_dir or not (Path(token_dir) / TOKEN_FILE).is_file():
            raise GarminAuthError(SIGNED_OUT)
        self._api = Garmin()
        try:
            self._api.client.load(str(token_dir))  # also makes the client write refreshed tokens back here
        except Exception:  # noqa: BLE001 — unreadable or empty token file
            raise GarminAuthError(SIGNED_OUT) from None
        self._token_dir = Path(token_dir)
        self.retry = retry or RetryPolicy()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        def attempt():
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 — translated below
                raise _translate(exc) from None

        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.retry.attempts)),
            wait=wait_exponential(multiplier=self.retry.first_wait_s, max=self.retry.max_wait_s),
            retry=retry_if_exception_type(_Transient),
            before_sleep=lambda state: log.warning("garmin %s: %s; retry %d", what, state.outcome.exception(),
                                                   state.attempt_number),
        )
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise GarminSyncError(
                f"{last} while {what}, {self.retry.attempts} tries: sync again later; it resumes where it stopped"
            ) from None
        finally:
            _protect_tokens(self._token_dir)  # the client may have rewritten a refreshed token file

    def list_activities(self, start_date: date, end_date: date | None, start: int, limit: int) -> list[dict]:
        params = {"startDate": start_date.isoformat(), "start": str(start), "limit": str(limit), "sortOrder": "asc"}
        if end_date is not None:
            params["endDate"] = end_date.isoformat()
        # Client-level calls: the Garmin wrappers log every expected 404 with a traceback at ERROR level.
        result = self._call("listing activities",
                            lambda: self._api.client.connectapi(self._api.garmin_connect_activities, params=params))
        if result in (None, {}):
            return []
        if not isinstance(result, list):
            raise GarminSyncError("Garmin Connect sent an activity list VeloCoach does not understand")
        return result

    def download_original(self, activity_id: int) -> tuple[str, bytes] | None:
        url = f"{self._api.garmin_connect_fit_download}/{int(activity_id)}"  # what download_activity(ORIGINAL) asks
        try:
            data = self._call(f"downloading activity {activity_id}", lambda: self._api.client.download(url))
        except _NotFound:
            return None
        return unpack_original(activity_id, data)


def unpack_original(activity_id: int, data: bytes) -> tuple[str, bytes] | None:
    """Garmin's "original" download is a zip holding the recorded file (``<id>_ACTIVITY.fit``, or a GPX/TCX for
    uploads). Returns (name, bytes) of the first FIT/GPX member, a bare FIT as is, None for an empty answer."""
    if not data:
        return None
    if len(data) >= 12 and data[8:12] == b".FIT":
        return f"{activity_id}.fit", data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in sorted(members, key=lambda m: not m.filename.lower().endswith(".fit")):
                if member.filename.lower().endswith((".fit", ".gpx")):
                    if member.file_size > MAX_ORIGINAL_BYTES:
                        raise InvalidFileError(f"Garmin activity {activity_id}: {member.filename} is larger "
                                               f"than {MAX_ORIGINAL_BYTES // 2**20} MB unpacked")
                    return Path(member.filename).name, archive.read(member)
    except zipfile.BadZipFile:
        raise InvalidFileError(f"Garmin activity {activity_id}: the download is neither a zip nor a FIT file") \
            from None
    return None


# ----------------------------------------------------------------------------------------------------------------
# Token folder
# ----------------------------------------------------------------------------------------------------------------
def tokens_root(files_dir: Path) -> Path:
    return Path(files_dir) / TOKENS_FOLDER


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _protect_tokens(token_dir: Path | None) -> None:
    """Owner-only permissions on the token folder and everything in it."""
    if token_dir is None or not token_dir.is_dir():
        return
    os.chmod(token_dir, 0o700)
    for item in token_dir.iterdir():
        if item.is_file():
            os.chmod(item, 0o600)


def _files_dir(files_dir: Path | None) -> Path:
    if files_dir is not None:
        return Path(files_dir)
    from core.config import load_settings

    return load_settings().files_dir


# ----------------------------------------------------------------------------------------------------------------
# Sign in / sign out / accounts
# ----------------------------------------------------------------------------------------------------------------
class SignIn:
    """A sign-in in progress: the library's client between the password step and the MFA step.

    Keeps no password (it is dropped as soon as the library has used it). ``needs_mfa`` says a code is expected.
    """

    def __init__(self, api: Any, needs_mfa: bool):
        self._api = api
        self.needs_mfa = needs_mfa

    @property
    def complete(self) -> bool:
        return not self.needs_mfa and self._api.client.is_authenticated

    def __repr__(self) -> str:
        return f"SignIn(needs_mfa={self.needs_mfa})"


def _login_error(exc: Exception, step: str) -> VeloCoachError:
    from garminconnect import GarminConnectAuthenticationError, GarminConnectTooManyRequestsError

    if isinstance(exc, GarminConnectAuthenticationError):
        if step == "mfa":
            return GarminAuthError("Garmin Connect did not accept that code: check the latest code and try again")
        if "MFA" in str(exc):
            return GarminAuthError("Garmin Connect asks for a security code: enter the code it sent you")
        return GarminAuthError("Garmin Connect refused the e-mail or password")
    if isinstance(exc, GarminConnectTooManyRequestsError) or "429" in str(exc):
        return GarminSyncError("Garmin Connect is limiting sign-ins from this network (HTTP 429): "
                               "wait a few minutes and try again")
    return GarminSyncError("Garmin Connect could not be reached to sign in: check the connection and try again")


def start_sign_in(email: str, password: str) -> SignIn:
    """Send e-mail and password to Garmin Connect. ``result.needs_mfa``: call ``submit_mfa_code`` next."""
    from garminconnect import Garmin

    email, password = (email or "").strip(), password or ""
    if not email or "@" not in email:
        raise ValidationError("Enter the e-mail address of your Garmin Connect account")
    if not password:
        raise ValidationError("Enter your Garmin Connect password")
    api = Garmin(email, password, return_on_mfa=True)
    try:
        status, _ = api.login()
    except Exception as exc:  # noqa: BLE001 — mapped to the rider's sentence; the library logged the details
        raise _login_error(exc, "password") from None
    finally:
        api.password = None  # the library keeps it on the object; nothing of ours needs it again
        del password
    log.info("garmin sign-in: %s", "security code requested" if status == "needs_mfa" else "signed in")
    return SignIn(api, needs_mfa=status == "needs_mfa")


def submit_mfa_code(sign_in: SignIn, code: str) -> None:
    """Finish a sign-in that asked for a security code (the library's ``resume_login``)."""
    code = (code or "").strip()
    if not code:
        raise ValidationError("Enter the security code Garmin Connect sent you")
    if not sign_in.needs_mfa:
        return
    try:
        sign_in._api.resume_login(None, code)
    except Exception as exc:  # noqa: BLE001
        raise _login_error(exc, "mfa") from None
    sign_in.needs_mfa = False
    log.info("garmin sign-in: security code accepted")


def _check_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError("Give the account a label (for example 'Garmin' or 'Edge 530')")
    if len(label) > 40:
        raise ValidationError("The account label is longer than 40 characters")
    return label


def save_account(cur, athlete_id: int, label: str, sign_in: SignIn, files_dir: Path | None = None) -> int:
    """Store the signed-in account under ``label`` (re-using a signed-out account with that label) and write the
    library's token file, owner-only. Returns the account id."""
    label = _check_label(label)
    if not sign_in.complete:
        raise GarminAuthError("The Garmin sign-in is not finished: enter the security code first")
    root = tokens_root(_files_dir(files_dir))
    token_dir: Path | None = None
    try:
        with transaction(cur):
            row = cur.execute("SELECT id FROM garmin_accounts WHERE athlete_id = ? AND label = ?",
                              [athlete_id, label]).fetchone()
            if row is None:
                account_id = cur.execute("INSERT INTO garmin_accounts (athlete_id, label) VALUES (?, ?) RETURNING id",
                                         [athlete_id, label]).fetchone()[0]
            else:
                account_id = row[0]
            token_dir = root / str(account_id)
            _private_dir(root)
            _private_dir(token_dir)
            token_file = token_dir / TOKEN_FILE
            os.close(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600))  # exists 0600 before the library writes
            sign_in._api.client.dump(str(token_dir))
            _protect_tokens(token_dir)
            cur.execute("UPDATE garmin_accounts SET token_dir = ? WHERE id = ?", [str(token_dir), account_id])
            audit(cur, "sign_in", "garmin_account", account_id, athlete_id, label=label)
    except BaseException:
        if token_dir is not None:
            shutil.rmtree(token_dir, ignore_errors=True)
        raise
    log.info("garmin account %s saved", account_id)
    return account_id


def sign_in(cur, athlete_id: int, label: str, email: str, password: str,
            ask_code: Callable[[], str] | None = None, files_dir: Path | None = None) -> int:
    """One-call sign-in for the CLI: password, then ``ask_code()`` if Garmin wants a security code."""
    attempt = start_sign_in(email, password)
    if attempt.needs_mfa:
        if ask_code is None:
            raise GarminAuthError("Garmin Connect asks for a security code: sign in interactively")
        submit_mfa_code(attempt, ask_code())
    return save_account(cur, athlete_id, label, attempt, files_dir)


def _safe_token_dir(token_dir: str | None) -> Path | None:
    """The stored token folder, only if it has the shape we create (never delete an arbitrary path)."""
    if not token_dir:
        return None
    path = Path(token_dir)
    return path if path.parent.name == TOKENS_FOLDER and path.name.isdigit() else None


def sign_out(cur, account_id: int) -> None:
    """Delete the account's tokens; the account, its history and its rides stay (sign in again to resume)."""
    account = get_account(cur, account_id)
    with transaction(cur):
        cur.execute("UPDATE garmin_accounts SET token_dir = NULL WHERE id = ?", [account_id])
        audit(cur, "sign_out", "garmin_account", account_id, account["athlete_id"], label=account["label"])
        path = _safe_token_dir(account["token_dir"])
        if path is not None and path.exists():
            shutil.rmtree(path)
    log.info("garmin account %s signed out", account_id)


def remove_account(cur, account_id: int) -> None:
    """Sign out and forget the account and its sync history. Rides already imported stay."""
    sign_out(cur, account_id)
    with transaction(cur):
        delete_with_children(cur, "garmin_accounts", [account_id])


_ACCOUNT_COLUMNS = ("id", "athlete_id", "label", "token_dir", "last_synced_activity_id", "last_synced_activity_at",
                    "last_sync_at", "created_at")
_SELECT_ACCOUNT = ("SELECT id, athlete_id, label, token_dir, last_synced_activity_id, last_synced_activity_at, "
                   "last_sync_at, created_at FROM garmin_accounts ")


def _account(row) -> dict:
    account = dict(zip(_ACCOUNT_COLUMNS, row, strict=True))
    token_dir = account["token_dir"]
    account["signed_in"] = bool(token_dir) and (Path(token_dir) / TOKEN_FILE).is_file()
    return account


def get_account(cur, account_id: int) -> dict:
    return _account(get_one(cur, _SELECT_ACCOUNT + "WHERE id = ?",
                            [account_id], f"Garmin account {account_id}"))


def list_accounts(cur, athlete_id: int) -> list[dict]:
    """The athlete's Garmin accounts with ``signed_in`` (a token file is present)."""
    rows = cur.execute(_SELECT_ACCOUNT + "WHERE athlete_id = ? ORDER BY label", [athlete_id]).fetchall()
    return [_account(r) for r in rows]


def account_by_label(cur, athlete_id: int, label: str) -> dict:
    row = get_one(cur, _SELECT_ACCOUNT + "WHERE athlete_id = ? AND label = ?", [athlete_id, label], f"The Garmin account labelled '{label}'")
    return _account(row)


def sync_history(cur, athlete_id: int, limit: int = 20) -> list[dict]:
    """Latest sync_log rows of the athlete's accounts, newest first."""
    rows = cur.execute(
        "SELECT l.id, a.label, l.started_at, l.finished_at, l.status, l.listed, l.imported, l.skipped, l.failed, "
        "l.error FROM sync_log l JOIN garmin_accounts a ON a.id = l.account_id WHERE a.athlete_id = ? "
        "ORDER BY l.started_at DESC, l.id DESC LIMIT ?", [athlete_id, limit]).fetchall()
    keys = ("id", "account", "started_at", "finished_at", "status", "listed", "imported", "skipped", "failed",
            "error")
    return [dict(zip(keys, r, strict=True)) for r in rows]


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
    from core.rides import store as rides

    external_id = str(summary["activityId"])
    name = summary.get("activityName") or f"activity {external_id}"
    if original is not None:
        from core.rides import importer

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
    with transaction(cur):
        stored = rides.store_ride(cur, athlete_id, None, source="garmin", external_id=external_id,
                                  account_id=account_id, raw=summary, summary=summary_fields(summary))
        _advance(cur, account_id, log_id, summary, imported=1)
        bump_data_version(cur)
    report.imported += 1
    ride_id = _ride_id(stored)
    if ride_id is not None:
        report.ride_ids.append(ride_id)


ProgressCallback = Callable[[int, int, str], None]


def sync_account(cur, account_id: int, source: ActivitySource | None = None, *,
                 progress: ProgressCallback | None = None, since: date | None = None, until: date | None = None,
                 activity_types: Iterable[str] | None = CYCLING_TYPES, page_size: int = PAGE_SIZE,
                 retry: RetryPolicy | None = None, files_dir: Path | None = None,
                 today: date | None = None) -> SyncReport:
    """Import the account's new activities; every run is a sync_log row.

    ``since``/``until``: the date range of a first sync (default: the last 90 days), or a re-scan of older dates
    (already stored activities are skipped; the watermark never moves back). ``activity_types``: Garmin typeKeys
    to import (default: cycling); others are counted as skipped. ``progress(done, total, message)`` is called
    before each activity and at the end.

    Raises GarminAuthError (sign in again) or GarminSyncError (stopped; the next run resumes) after writing the
    sync_log row; returns the SyncReport otherwise (status ok, or partial when some activities failed).
    """
    account = get_account(cur, account_id)
    athlete_id = account["athlete_id"]
    files_dir = _files_dir(files_dir)
    with transaction(cur):
        cur.execute("UPDATE sync_log SET status = 'failed', finished_at = current_timestamp, "
                    "error = 'interrupted (the app or the command stopped during the sync)' "
                    "WHERE account_id = ? AND status = 'running'", [account_id])
        log_id = cur.execute("INSERT INTO sync_log (account_id) VALUES (?) RETURNING id", [account_id]).fetchone()[0]
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
