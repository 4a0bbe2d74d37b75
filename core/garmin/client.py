"""The one small interface to Garmin Connect (``ActivitySource``) and its real adapter on the ``garminconnect``
library (``GarminConnectSource``): listing, downloading originals, error translation and retries with backoff."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import (
    GarminAuthError,
    GarminSyncError,
    InvalidFileError,
)
from core.garmin.tokens import TOKEN_FILE, protect_tokens

log = logging.getLogger(__name__)

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

    try_again = "sync again later; it resumes where it stopped"

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
            raise GarminSyncError(f"{last} while {what}, {self.retry.attempts} tries: {self.try_again}") from None
        finally:
            protect_tokens(self._token_dir)  # the client may have rewritten a refreshed token file

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
