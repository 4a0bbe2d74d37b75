"""One entry point for ride and route files: ``import_file(cur, athlete_id, filename, data)``.

Dispatch: ``.fit`` → core.files.fit.read_fit → a ride. ``.gpx`` → core.files.gpx.read_gpx: with times it is a ride (its path
stored as a recorded route), without times a planned route (core.routes.store.import_gpx_route). ``as_kind`` forces
'ride' or 'route'. A file's external id is the sha256 of its bytes, so re-importing it is a no-op.

Results are plain dicts (the ``python -m core import --json`` lines): routes keep the routes issue's shape
``{"file", "ok", "kind": "route", "id", "points", "distance_m", "elevation_gain_m", "sections"}``; rides give
``{"file", "ok", "kind": "ride", "id", "created", "duplicate_of", "message", "warnings", "points", "distance_m",
"elevation_gain_m", "moving_time_s", "started_at", "sport_type", "np_w", "tss", "avg_hr", "avg_power_w"}``.
A failure raises InvalidFileError (``import_files`` turns it into ``{"file", "ok": false, "error"}``) and
stores nothing.
"""

from __future__ import annotations

import errno
import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath

from core.errors import InvalidFileError, VeloCoachError

log = logging.getLogger(__name__)

KINDS = ("ride", "route")
EXTENSIONS = (".fit", ".gpx")


def _max_bytes() -> int:
    from core.config import load_settings

    try:
        return load_settings().max_upload_bytes
    except VeloCoachError:
        return 100 * 1024 * 1024


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ride_result(cur, athlete_id: int, filename: str, stored, point_count: int) -> dict:
    from core.rides.store import get_ride

    ride = get_ride(cur, athlete_id, stored.id)
    sections = []
    if ride["route_id"] is not None:
        from core.routes.store import route_json

        sections = route_json(cur, ride["route_id"], retime=False)["sections"]  # stored just now: today's times
    return {"file": filename, "ok": True, "kind": "ride", "id": stored.id, "created": stored.created,
            "duplicate_of": stored.duplicate_of, "message": stored.message, "warnings": stored.warnings,
            "data_warnings": ride["data_warnings"],
            "points": point_count, "distance_m": ride["distance_m"],
            "elevation_gain_m": ride["elevation_gain_m"], "moving_time_s": ride["moving_time_s"],
            "started_at": ride["started_at"], "sport_type": ride["sport_type"],
            "np_w": ride["normalized_power_w"], "tss": ride["tss"], "avg_hr": ride["avg_hr"],
            "avg_power_w": ride["avg_power_w"], "route_id": ride["route_id"], "sections": sections}


def _store_streams_as_ride(cur, athlete_id, filename, digest, read_streams, *, source, account_id, external_id, raw):
    """``read_streams()`` hands the streams over (the caller keeps no reference): once checked, only the repaired
    copy stays in memory while the ride is stored."""
    from core.files.plausibility import check_streams
    from core.rides.store import store_ride
    from core.store.db import retrying, transaction

    streams, repairs = check_streams(read_streams(), kind="ride", filename=filename)  # before any figure is computed

    def store():
        with transaction(cur):  # one unit: a failure while linking must not leave the ride half-imported
            stored = store_ride(cur, athlete_id, streams, source=source, external_id=external_id or digest,
                                account_id=account_id, raw=raw, source_file=filename,
                                name=streams.name or PurePath(filename).stem,
                                data_warnings=[w.as_dict() for w in repairs])
            if stored.created:
                from core.coach.matching import link_completed_rides

                link_completed_rides(cur, athlete_id)  # a new ride may complete a planned workout of the active plan
        return stored

    stored = retrying(cur, store)
    return _ride_result(cur, athlete_id, filename, stored, len(streams))


def import_file(cur, athlete_id: int, filename: str, data: bytes, *, as_kind: str | None = None,
                source: str = "file", account_id: int = 0, external_id: str | None = None,
                raw: dict | None = None) -> dict:
    """Import one file (see the module docstring). Raises InvalidFileError naming the file and the reason."""
    return _import_read(cur, athlete_id, filename, lambda: data, 0 if data is None else len(data),
                        as_kind=as_kind, source=source, account_id=account_id, external_id=external_id, raw=raw)


def _check_size(name: str, size: int) -> None:
    if size == 0:
        raise InvalidFileError(f"{name}: the file is empty")
    limit = _max_bytes()
    if size > limit:
        raise InvalidFileError(f"{name}: the file is {size / 1048576:.1f} MB, over the "
                               f"{limit / 1048576:.0f} MB limit (VELOCOACH_MAX_UPLOAD_MB)")


def _import_read(cur, athlete_id: int, filename: str, read: Callable[[], bytes], size: int, *,
                 as_kind: str | None, source: str, account_id: int, external_id: str | None,
                 raw: dict | None) -> dict:
    """import_file with the bytes from ``read()`` (called once, after the size check), held only while the file
    is parsed: a large file's bytes are gone before its samples are stored (the import's memory peak)."""
    name = PurePath(filename).name or "file"
    if as_kind is not None and as_kind not in KINDS:
        raise InvalidFileError(f"{name}: --as must be 'ride' or 'route', not {as_kind!r}")
    _check_size(name, size)
    suffix = PurePath(name).suffix.lower()
    if suffix not in EXTENSIONS:
        what = f"{suffix} files" if suffix else "files without an extension"
        raise InvalidFileError(f"{name}: VeloCoach imports .fit and .gpx files, not {what}")
    if suffix == ".fit" and as_kind == "route":
        raise InvalidFileError(f"{name}: a FIT activity imports as a ride, not as a planned route")
    data = read()
    _check_size(name, len(data or b""))  # the file may have changed since it was measured
    if suffix == ".fit":
        from core.files.fit import read_fit

        streams = read_fit(data, name)
    else:
        from core.files.gpx import read_gpx

        streams = read_gpx(data, name)
    digest = file_hash(data)
    del data  # the only reference when the command line reads the file (import_path)
    if suffix == ".fit" or as_kind == "ride" or (as_kind is None and streams.is_timed):
        if not streams.is_timed and suffix == ".gpx":
            raise InvalidFileError(f"{name}: the track points have no times, so it cannot be a ride; "
                                   "import it as a route")
        handed = [streams]
        del streams
        return _store_streams_as_ride(cur, athlete_id, name, digest, handed.pop, source=source,
                                      account_id=account_id, external_id=external_id, raw=raw)
    from core.rides.efforts import backfill_route
    from core.routes.store import import_gpx_route
    from core.store.db import retrying, transaction

    def store() -> dict:
        with transaction(cur):  # the route, its climbs and the efforts earlier rides put on them: one write
            stored = import_gpx_route(cur, athlete_id, name, b"", streams=streams, digest=digest)  # read above
            backfill_route(cur, athlete_id, stored["id"])
        return stored

    result = retrying(cur, store)
    return {"file": name, "ok": True, "kind": "route", **{k: v for k, v in result.items() if k != "file"}}


def import_summary(cur, athlete_id: int, summary: dict, *, source: str, external_id: str, account_id: int = 0,
                   raw: dict | None = None, label: str = "activity"):
    """Store a ride known only by its summary (a Garmin activity without a file) after core.files.plausibility's
    summary check; returns core.rides.store.StoredRide. Raises InvalidFileError for an impossible date."""
    from core.files.plausibility import check_summary
    from core.rides.store import store_ride

    checked, repairs = check_summary(summary, label=label)
    return store_ride(cur, athlete_id, None, source=source, external_id=external_id, account_id=account_id,
                      raw=raw, summary=checked, data_warnings=[w.as_dict() for w in repairs])


def import_path(cur, athlete_id: int, path, *, as_kind: str | None = None, files=None) -> dict:
    """Import one file from disk (the command line): its size is checked before a byte is read. ``files`` reads
    it (``stat(path)`` with ``size``/``is_dir`` and ``read_bytes(path)``: the command line's own files when the
    command was forwarded to the running app); default this process's file system. Never raises for the file's
    sake: the result is ``{"file", "ok": false, "error"}`` whatever went wrong."""
    path = Path(path).expanduser()

    def read_and_import() -> dict:
        try:
            if files is None:
                size, is_dir = path.stat().st_size, path.is_dir()
            else:
                info = files.stat(path)
                size, is_dir = info.size, info.is_dir
            if is_dir:
                raise InvalidFileError(f"{path.name}: this is a folder, not a file")
        except FileNotFoundError:
            raise InvalidFileError(f"{path.name}: there is no such file ({path})") from None
        except OSError as exc:
            raise InvalidFileError(f"{path.name}: the file cannot be read ({exc.strerror or exc})") from None
        return _import_read(cur, athlete_id, path.name, read, size, as_kind=as_kind, source="file", account_id=0,
                            external_id=None, raw=None)  # the bytes are read there, and dropped once parsed

    def read() -> bytes:
        try:
            return path.read_bytes() if files is None else files.read_bytes(path)
        except FileNotFoundError:
            raise InvalidFileError(f"{path.name}: there is no such file ({path})") from None
        except OSError as exc:
            raise InvalidFileError(f"{path.name}: the file cannot be read ({exc.strerror or exc})") from None

    return outcome(path.name, read_and_import)


def outcome(filename: str, operation: Callable[[], dict]) -> dict:
    """``operation()``'s result, or ``{"file", "ok": false, "error"}`` for any failure but an interrupt: one
    file's trouble (a damaged file, an unknown text encoding, a full disk) never stops the files after it."""
    name = PurePath(filename).name or "file"
    try:
        return operation()
    except VeloCoachError as exc:
        return {"file": name, "ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 — logged with context; the rider gets a sentence
        log.exception("unexpected failure importing %s", filename)
        return {"file": name, "ok": False, "error": f"{name}: could not be imported ({describe_failure(exc)})"}


def describe_failure(exc: BaseException) -> str:
    """A short reason for an exception that is not a VeloCoachError (no traceback, no secrets)."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in text:
        return "the disk is full; free some space and import it again"
    if isinstance(exc, MemoryError):
        return "not enough memory"
    if isinstance(exc, LookupError) and "encoding" in text:
        return f"it uses a text encoding VeloCoach does not know: {text[:80]}"
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def import_files(cur, athlete_id: int, files: Iterable[tuple[str, bytes]], *, as_kind: str | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> list[dict]:
    """Import several files; each one succeeds or fails on its own (``{"file", "ok": false, "error"}``).
    ``progress(done, total, filename)`` is called after each file."""
    files = list(files)
    results = []
    for index, (filename, data) in enumerate(files, start=1):
        results.append(outcome(filename, lambda f=filename, d=data: import_file(cur, athlete_id, f, d,
                                                                                as_kind=as_kind)))
        if progress:
            progress(index, len(files), PurePath(filename).name)
    return results
