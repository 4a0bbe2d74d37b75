"""Ride storage: one ride per real-world ride, its samples in bulk, metrics, tags, search and bulk actions.

Duplicates
----------
* The same (source, account_id, external_id) again — re-importing a file (external_id = sha256 of its bytes),
  re-syncing a Garmin activity — is a no-op: ``StoredRide(created=False, message="… already imported")``.
* The same ride arriving through another file or source (start within 60 s and elapsed time within 5 % of a
  stored ride of the same athlete) is *linked*: a ``rides`` row with ``duplicate_of`` = the first ride's id,
  its own summary figures and raw JSON, but no samples and no route. Lists, searches and aggregates skip
  linked rows (``duplicate_of IS NULL``), so the ride counts once; the link keeps the second source's id so
  a later sync or import of it stays a no-op.
* One exception: when the stored ride has no samples (a Garmin summary without a FIT file) and the new arrival
  has streams, the new arrival becomes the ride and the summary-only row is linked to it (tags, analyses and
  planned-workout links move with it).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.athletes import ftp_on, get_athlete
from core.errors import InvalidFileError, NotFoundError, ValidationError
from core.files.streams import ActivityStreams
from core.rides.metrics import GAP_METHODS, RideMetrics, best_efforts, power_series, ride_metrics, trimp100
from core.rides.power import MMP_DURATIONS_S, effort_floors
from core.rides.queries import (  # noqa: F401 — the reading half, light for the command line; still importable here
    CYCLING_TYPES,
    LIST_COLUMNS,
    RideFilter,
    get_ride,
    list_tags,
    ride_report,
    ride_tag_names,
    search_rides,
    sport_types,
)
from core.store.db import (
    LARGE_DELETE_ROWS,
    audit,
    bump_data_version,
    checkpoint,
    delete_with_children,
    transaction,
)

log = logging.getLogger(__name__)

DUPLICATE_START_S = 60
DUPLICATE_DURATION_FRACTION = 0.05
SOURCES = ("file", "garmin", "demo")
SUMMARY_FIELDS = ("elapsed_time_s", "moving_time_s", "distance_m", "elevation_gain_m", "avg_hr", "max_hr",
                  "avg_power_w", "max_power_w", "normalized_power_w", "avg_cadence")
INT16 = (-32768, 32767)


@dataclass
class StoredRide:
    id: int
    duplicate_of: int | None = None
    created: bool = True
    message: str = ""
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- metrics

def _athlete_zones(cur, athlete_id: int, day: date | None) -> dict:
    """What a ride's figures depend on: the FTP in force on its day, LTHR, max HR, rest HR and the gap method
    (profile preferences ``rest_hr`` and ``gap_method``: 'pauses', the default, or 'fix_gaps')."""
    athlete = get_athlete(cur, athlete_id)
    prefs = athlete.get("preferences") or {}
    gap_method = prefs.get("gap_method") if prefs.get("gap_method") in GAP_METHODS else "pauses"
    rest_hr = prefs.get("rest_hr") if isinstance(prefs.get("rest_hr"), (int, float)) else None
    return {"ftp_w": ftp_on(cur, athlete_id, day or date.today()), "lthr": athlete.get("lthr"),
            "max_hr": athlete.get("max_hr"), "rest_hr": rest_hr, "gap_method": gap_method}


def compute_metrics(streams: ActivityStreams, zones: dict, altitude_source: str | None = None) -> RideMetrics:
    return ride_metrics(streams.t_s, power=streams.power, hr=streams.hr, cadence=streams.cadence,
                        speed=streams.speed, dist_m=streams.dist_m, ele=streams.ele, lat=streams.lat,
                        lon=streams.lon, altitude_source=altitude_source, altitude_hint=streams.altitude_source,
                        **zones)


def summary_metrics(summary: dict, zones: dict) -> RideMetrics:
    """Figures for a ride known only by its summary (Garmin JSON without a FIT file): the summary's own values,
    TSS from its NP and the FTP (duration = moving time), else TRIMP(100) from its average HR (see
    core.rides.metrics)."""
    ftp_w, lthr, max_hr = zones["ftp_w"], zones["lthr"], zones["max_hr"]
    m = RideMetrics()
    for key in SUMMARY_FIELDS:
        value = summary.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            setattr(m, key, float(value))
    m.recorded_time_s = m.moving_time_s or m.elapsed_time_s or 0.0
    duration = m.recorded_time_s
    if m.normalized_power_w and ftp_w and duration:
        m.intensity_factor = m.normalized_power_w / ftp_w
        m.tss = duration * m.normalized_power_w * m.intensity_factor / (ftp_w * 3600) * 100
        m.load_method = "power"
    elif m.avg_hr and duration and (lthr or max_hr):
        m.tss = trimp100(m.avg_hr, duration / 60.0, lthr, max_hr, zones.get("rest_hr"))
        m.load_method = "hr" if m.tss is not None else None
    if m.normalized_power_w and m.avg_power_w:
        m.vi = m.normalized_power_w / m.avg_power_w
    if m.normalized_power_w and m.avg_hr:
        m.ef = m.normalized_power_w / m.avg_hr
    m.flags = ["summary only: no samples"]
    return m


def _metric_values(m: RideMetrics) -> list:
    return [m.elapsed_time_s, m.moving_time_s, m.distance_m, m.elevation_gain_m, m.avg_hr, m.max_hr,
            m.avg_power_w, m.max_power_w, m.normalized_power_w, m.avg_cadence, m.intensity_factor, m.tss,
            m.load_method, json.dumps(m.metrics_json())]


_METRIC_COLUMNS = ("elapsed_time_s, moving_time_s, distance_m, elevation_gain_m, avg_hr, max_hr, avg_power_w, "
                   "max_power_w, normalized_power_w, avg_cadence, intensity_factor, tss, load_method, metrics")


# ---------------------------------------------------------------------------------------------- samples

def _nullable(values: np.ndarray | None, n: int, integer: bool = False) -> np.ndarray:
    """A stream as a ride_samples column: float32, or int16 when ``integer`` (out of range: NULL); NaN: NULL."""
    from core.store.bulk import nullable

    if values is None:
        return nullable(np.zeros(n, dtype=np.int16 if integer else np.float32), np.ones(n, dtype=bool))
    v = np.asarray(values, dtype=np.float64)
    if integer:
        v = np.where((v >= INT16[0]) & (v <= INT16[1]), np.round(v), np.nan)
        mask = ~np.isfinite(v)
        return nullable(np.nan_to_num(v, nan=0).astype(np.int16), mask)
    mask = ~np.isfinite(v)
    return nullable(v.astype(np.float32), mask)


def samples_columns(ride_id: int, s: ActivityStreams) -> dict[str, np.ndarray]:
    """The ride_samples rows of a ride as columns (NaN → NULL) for core.store.bulk."""
    from core.store.bulk import nullable

    n = len(s.t_s)
    lat = np.asarray(s.lat, dtype=np.float64)
    lon = np.asarray(s.lon, dtype=np.float64)
    pos_mask = ~(np.isfinite(lat) & np.isfinite(lon))
    return {
        "ride_id": np.full(n, ride_id, dtype=np.int64),
        "t_s": np.asarray(s.t_s, dtype=np.float32),
        "lat": nullable(np.round(np.nan_to_num(lat), 6), pos_mask),
        "lon": nullable(np.round(np.nan_to_num(lon), 6), pos_mask),
        "ele": _nullable(s.ele, n),
        "dist_m": _nullable(s.dist_m, n),
        "speed": _nullable(s.speed, n),
        "hr": _nullable(s.hr, n, integer=True),
        "cadence": _nullable(s.cadence, n, integer=True),
        "power": _nullable(s.power, n, integer=True),
        "temp": _nullable(s.temp, n),
    }


def _insert_samples(cur, ride_id: int, streams: ActivityStreams) -> int:
    from core.store.bulk import insert_columns

    insert_columns(cur, "velocoach_samples", samples_columns(ride_id, streams),
                   "INSERT INTO ride_samples SELECT ride_id, t_s, CAST(lat AS DECIMAL(9, 6)), "
                   "CAST(lon AS DECIMAL(9, 6)), ele, dist_m, speed, hr, cadence, power, temp FROM velocoach_samples")
    return len(streams.t_s)


def store_ride_mmp(cur, ride_id: int, streams: ActivityStreams | None, gap_method: str = "pauses") -> int:
    """(Re)write the ride's mean-maximal power rows (ride_mmp, see core.rides.power). Returns the row count."""
    cur.execute("DELETE FROM ride_mmp WHERE ride_id = ?", [ride_id])
    series = None if streams is None or streams.power is None else power_series(
        streams.t_s, streams.power, streams.lat, streams.lon, gap_method)
    best = best_efforts(series.timeline, MMP_DURATIONS_S) if series is not None else {}
    if best:
        floors = effort_floors(series.timeline, best)
        cur.execute("INSERT INTO ride_mmp SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?)",
                    [ride_id, list(best), [w for w, _ in best.values()], [s for _, s in best.values()],
                     [floors.get(d) for d in best]])
    return len(best)


def ride_samples(cur, ride_id: int, max_points: int | None = None):
    """The ride's samples as a pandas DataFrame ordered by time (lat/lon as float). ``max_points`` thins them
    in SQL (every k-th sample) for charts."""
    step = 1
    if max_points:
        count = cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id = ?", [ride_id]).fetchone()[0]
        step = max(1, math.ceil(count / max_points))
    return cur.execute(
        "SELECT t_s, lat, lon, ele, dist_m, speed, hr, cadence, power, temp FROM ("
        "SELECT t_s, CAST(lat AS DOUBLE) AS lat, CAST(lon AS DOUBLE) AS lon, ele, dist_m, speed, hr, cadence, "
        "power, temp, row_number() OVER (ORDER BY t_s) - 1 AS i FROM ride_samples WHERE ride_id = ?) "
        "WHERE i % ? = 0 ORDER BY t_s", [ride_id, step]).df()


_STREAM_COLUMNS = ("t_s", "lat", "lon", "ele", "dist_m", "speed", "hr", "cadence", "power", "temp")


def streams_from_samples(cur, ride_id: int) -> ActivityStreams | None:
    """The ride's samples as float64 streams (NULL = NaN), None without samples. Read with fetchnumpy, not a
    DataFrame: the command line's ``ride ID`` then needs no pandas (issue 17)."""
    columns = cur.execute(
        "SELECT t_s, CAST(lat AS DOUBLE), CAST(lon AS DOUBLE), ele, dist_m, speed, hr, cadence, power, temp "
        "FROM ride_samples WHERE ride_id = ? ORDER BY t_s", [ride_id]).fetchnumpy()
    arrays = {}
    for name, values in zip(_STREAM_COLUMNS, columns.values(), strict=True):
        mask = np.ma.getmaskarray(values)
        arrays[name] = np.where(mask, np.nan, np.ma.getdata(values).astype(np.float64))
    if not len(arrays["t_s"]):
        return None
    return ActivityStreams(**arrays)


def streams_from_frame(df) -> ActivityStreams | None:
    """ActivityStreams from a ``ride_samples`` frame (None when it is empty)."""
    if df.empty:
        return None

    def col(name):
        return df[name].to_numpy(dtype=np.float64, na_value=np.nan)

    return ActivityStreams(lat=col("lat"), lon=col("lon"), ele=col("ele"), dist_m=col("dist_m"),
                           t_s=col("t_s"), speed=col("speed"), hr=col("hr"), cadence=col("cadence"),
                           power=col("power"), temp=col("temp"))


# ---------------------------------------------------------------------------------------------- store

def _store_route(cur, athlete_id: int, name: str, streams: ActivityStreams, source_file: str | None,
                 altitude_source: str | None) -> int:
    from core.routes.store import store_route

    return store_route(cur, athlete_id, name, "recorded", streams, source_file, altitude_source=altitude_source)


def sync_terrain(cur, athlete_id: int, ride_id: int, name: str) -> None:
    """One elevation figure everywhere: a ride with a recorded route takes its route's gain (the sum of the
    sections shown in its climbs panel, by the same method); then its climbs are matched. Inside a transaction."""
    from core.rides.efforts import match_ride
    from core.routes.sections import TERRAIN_VERSION
    from core.routes.store import route_sections

    route_id = cur.execute("SELECT route_id FROM rides WHERE id = ?", [ride_id]).fetchone()[0]
    if route_id is not None:
        cur.execute("UPDATE rides SET elevation_gain_m = (SELECT elevation_gain_m FROM routes WHERE id = ?) "
                    "WHERE id = ? AND (SELECT has_elevation FROM routes WHERE id = ?)", [route_id, ride_id, route_id])
        match_ride(cur, athlete_id, ride_id, sections=route_sections(cur, route_id), name=name)
    cur.execute("UPDATE rides SET terrain_version = ? WHERE id = ?", [TERRAIN_VERSION, ride_id])


def _add_route(cur, athlete_id: int, ride_id: int, name: str, streams: ActivityStreams, source_file: str | None,
               altitude_source: str | None) -> None:
    if int((np.isfinite(streams.lat) & np.isfinite(streams.lon)).sum()) >= 2:
        route_id = _store_route(cur, athlete_id, name, streams, source_file, altitude_source)
        cur.execute("UPDATE rides SET route_id = ? WHERE id = ?", [route_id, ride_id])
    sync_terrain(cur, athlete_id, ride_id, name)


def add_recorded_route(cur, athlete_id: int, ride_id: int) -> None:
    """The recorded route, sections and climbs of a ride stored with ``defer_route`` (from its samples)."""
    name, source_file, altitude_source = cur.execute(
        "SELECT name, source_file, altitude_source FROM rides WHERE id = ? AND athlete_id = ?",
        [ride_id, athlete_id]).fetchone()
    streams = streams_from_samples(cur, ride_id)
    with transaction(cur):
        _add_route(cur, athlete_id, ride_id, name, streams, source_file, altitude_source)
        bump_data_version(cur)


def _find_same_ride(cur, athlete_id: int, started_at: datetime | None, elapsed_s: float | None):
    if started_at is None or not elapsed_s:
        return None
    return cur.execute(
        "SELECT id, source, (SELECT count(*) > 0 FROM ride_samples s WHERE s.ride_id = r.id) FROM rides r "
        "WHERE athlete_id = ? AND duplicate_of IS NULL "
        "AND started_at BETWEEN ? AND ? AND abs(elapsed_time_s - ?) <= ? * greatest(elapsed_time_s, ?) "
        "ORDER BY abs(epoch(started_at) - epoch(CAST(? AS TIMESTAMPTZ))) LIMIT 1",
        [athlete_id, started_at - timedelta(seconds=DUPLICATE_START_S),
         started_at + timedelta(seconds=DUPLICATE_START_S), elapsed_s, DUPLICATE_DURATION_FRACTION, elapsed_s,
         started_at]).fetchone()


def _default_name(streams: ActivityStreams | None, started_at: datetime | None, sport: str) -> str:
    if streams is not None and streams.name:
        return streams.name
    when = f" {started_at:%Y-%m-%d %H:%M}" if started_at else ""
    return ("Indoor ride" if sport in ("indoor_cycling", "virtual_ride") else
            "Ride" if sport in CYCLING_TYPES else sport.replace("_", " ").capitalize()) + when


def store_ride(cur, athlete_id: int, streams: ActivityStreams | None, *, source: str, external_id: str,
               account_id: int = 0, raw: dict | None = None, source_file: str | None = None,
               name: str | None = None, summary: dict | None = None,
               data_warnings: list[dict] | None = None, defer_route: bool = False) -> StoredRide:
    """Store one ride (see the module docstring for duplicates) in one transaction.

    ``streams`` are the recorded samples (timed); ``summary`` (keys: started_at, sport_type, name and the
    SUMMARY_FIELDS) stands in for a ride without samples and fills figures the streams lack. Imports pass them
    through core.files.plausibility first; ``data_warnings`` (its repairs, ``{"code", "points", "message"}``)
    are stored with the ride and added to the returned warnings. ``defer_route`` leaves the recorded route, its
    sections and the climb matching to ``add_recorded_route`` (the demo's first start draws its Dashboard sooner)."""
    if source not in SOURCES:
        raise ValidationError(f"Unknown ride source {source!r}")
    summary = dict(summary or {})
    label = source_file or name or external_id
    if streams is None and not summary:
        raise InvalidFileError(f"{label}: no samples and no summary: nothing to store")
    if streams is not None and not streams.is_timed:
        raise InvalidFileError(f"{label}: the ride has no timestamps (or zero duration), so it cannot be "
                               "stored as a ride")
    existing = cur.execute("SELECT id, duplicate_of FROM rides WHERE source = ? AND account_id = ? AND "
                           "external_id = ?", [source, account_id, str(external_id)]).fetchone()
    if existing:
        return StoredRide(existing[0], existing[1], False,
                          f"{label}: already imported (ride {existing[1] or existing[0]})")
    started_at = (streams.started_at if streams is not None else None) or summary.get("started_at")
    if isinstance(started_at, str):
        started_at = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    if isinstance(started_at, datetime) and started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    sport = summary.get("sport_type") or (streams.sport_type if streams is not None else None) or "cycling"
    zones = _athlete_zones(cur, athlete_id, started_at.date() if started_at else None)
    if streams is not None:
        m = compute_metrics(streams, zones)
        for key in SUMMARY_FIELDS:  # the summary fills what the streams lack (e.g. no elevation stream)
            if getattr(m, key) is None and isinstance(summary.get(key), (int, float)):
                setattr(m, key, float(summary[key]))
        m.flags.extend(streams.warnings)
    else:
        m = summary_metrics(summary, zones)
    if started_at and started_at > datetime.now(UTC) + timedelta(days=1):
        m.flags.append("dated in the future")
    name = (name or summary.get("name") or _default_name(streams, started_at, sport)).strip()[:200]
    laps = streams.laps if streams is not None else summary.get("laps", [])

    with transaction(cur):
        same = _find_same_ride(cur, athlete_id, started_at, m.elapsed_time_s)
        promote = same is not None and streams is not None and not same[2]
        duplicate_of = same[0] if same is not None and not promote else None
        ride_id = cur.execute(
            f"INSERT INTO rides (athlete_id, source, account_id, external_id, duplicate_of, name, sport_type, "  # noqa: S608 — constant column list
            f"started_at, laps, raw, source_file, data_warnings, {_METRIC_COLUMNS}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {', '.join('?' * 14)}) RETURNING id",
            [athlete_id, source, account_id, str(external_id), duplicate_of, name, sport, started_at,
             json.dumps(laps, default=str), json.dumps(raw, default=str) if raw is not None else None,
             source_file, json.dumps(data_warnings or []), *_metric_values(m)]).fetchone()[0]
        if duplicate_of is None and streams is not None:
            _insert_samples(cur, ride_id, streams)
            store_ride_mmp(cur, ride_id, streams, zones["gap_method"])
            cur.execute("UPDATE rides SET altitude_source = ? WHERE id = ?", [m.altitude_source, ride_id])
            if not defer_route:
                _add_route(cur, athlete_id, ride_id, name, streams, source_file, m.altitude_source)
            else:  # current already: add_recorded_route does the rest (a start's terrain refresh must not)
                from core.routes.sections import TERRAIN_VERSION

                cur.execute("UPDATE rides SET terrain_version = ? WHERE id = ?", [TERRAIN_VERSION, ride_id])
        if promote:
            old = same[0]
            cur.execute("UPDATE rides SET duplicate_of = ? WHERE id = ? OR duplicate_of = ?", [ride_id, old, old])
            cur.execute("INSERT INTO ride_tags SELECT ?, tag_id FROM ride_tags WHERE ride_id = ?", [ride_id, old])
            cur.execute("DELETE FROM ride_tags WHERE ride_id = ?", [old])
            cur.execute("UPDATE analyses SET ride_id = ? WHERE ride_id = ?", [ride_id, old])
            cur.execute("UPDATE planned_workouts SET completed_ride_id = ? WHERE completed_ride_id = ?",
                        [ride_id, old])
        audit(cur, "import", "ride", ride_id, athlete_id, source=source, duplicate_of=duplicate_of)
        bump_data_version(cur)
    if duplicate_of is not None:
        message = (f"{label}: same ride as ride {duplicate_of} (imported from {same[1]}): linked, not copied")
    elif promote:
        message = f"{label}: imported; it replaces the summary-only ride {same[0]} (now linked to it)"
    else:
        message = f"{label}: imported"
    return StoredRide(ride_id, duplicate_of, True, message,
                      list(m.flags) + [w["message"] for w in data_warnings or []])


# ---------------------------------------------------------------------------------------------- read

# ---------------------------------------------------------------------------------------------- tags

def _tag_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise ValidationError("A tag must be 1 to 40 characters long")
    return name


def _own_ids(cur, athlete_id: int, ride_ids) -> list[int]:
    ids = sorted({int(i) for i in ride_ids})
    if not ids:
        return []
    found = [r[0] for r in cur.execute("SELECT id FROM rides WHERE athlete_id = ? AND id IN (SELECT unnest(?))",
                                       [athlete_id, ids]).fetchall()]
    missing = set(ids) - set(found)
    if missing:
        raise NotFoundError(f"Ride {min(missing)} was not found")
    return found


def add_tag(cur, athlete_id: int, ride_ids, tag: str) -> int:
    """Tag rides (creating the tag if new). Returns how many rides gained the tag."""
    tag = _tag_name(tag)
    with transaction(cur):
        ids = _own_ids(cur, athlete_id, ride_ids)
        cur.execute("INSERT INTO tags (athlete_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", [athlete_id, tag])
        tag_id = cur.execute("SELECT id FROM tags WHERE athlete_id = ? AND name = ?", [athlete_id, tag]).fetchone()[0]
        before = cur.execute("SELECT count(*) FROM ride_tags WHERE tag_id = ?", [tag_id]).fetchone()[0]
        cur.execute("INSERT INTO ride_tags SELECT unnest(?), ? ON CONFLICT DO NOTHING", [ids, tag_id])
        added = cur.execute("SELECT count(*) FROM ride_tags WHERE tag_id = ?", [tag_id]).fetchone()[0] - before
        audit(cur, "tag", "ride", None, athlete_id, tag=tag, rides=len(ids))
    return added


def remove_tag(cur, athlete_id: int, ride_ids, tag: str) -> int:
    """Untag rides; a tag left on no ride is deleted. Returns how many rides lost the tag."""
    tag = _tag_name(tag)
    with transaction(cur):
        ids = _own_ids(cur, athlete_id, ride_ids)
        row = cur.execute("SELECT id FROM tags WHERE athlete_id = ? AND name = ?", [athlete_id, tag]).fetchone()
        if row is None:
            return 0
        removed = cur.execute("SELECT count(*) FROM ride_tags WHERE tag_id = ? AND ride_id IN (SELECT unnest(?))",
                              [row[0], ids]).fetchone()[0]
        cur.execute("DELETE FROM ride_tags WHERE tag_id = ? AND ride_id IN (SELECT unnest(?))", [row[0], ids])
        if not cur.execute("SELECT count(*) FROM ride_tags WHERE tag_id = ?", [row[0]]).fetchone()[0]:
            delete_with_children(cur, "tags", [row[0]])
        audit(cur, "untag", "ride", None, athlete_id, tag=tag, rides=len(ids))
    return removed


# ---------------------------------------------------------------------------------------------- bulk

def recompute_metrics(cur, athlete_id: int, ride_ids) -> int:
    """Recompute every figure of the rides from their stored samples (e.g. after an FTP change). Returns the
    number of rides updated."""
    with transaction(cur):
        ids = _own_ids(cur, athlete_id, ride_ids)
        for ride_id in ids:
            started_at, raw_metrics, source = cur.execute(
                "SELECT started_at, metrics, altitude_source FROM rides WHERE id = ?", [ride_id]).fetchone()
            zones = _athlete_zones(cur, athlete_id, started_at.date() if started_at else None)
            streams = streams_from_samples(cur, ride_id)
            if streams is not None:
                m = compute_metrics(streams, zones, altitude_source=source)
                store_ride_mmp(cur, ride_id, streams, zones["gap_method"])
                old_flags = json.loads(raw_metrics or "{}").get("flags", [])
                m.flags.extend(f for f in old_flags if f not in m.flags and ":" in f)  # file warnings
            else:
                row = cur.execute(f"SELECT {', '.join(SUMMARY_FIELDS)} FROM rides WHERE id = ?",  # noqa: S608
                                  [ride_id]).fetchone()
                m = summary_metrics(dict(zip(SUMMARY_FIELDS, row, strict=True)), zones)
            sets = ", ".join(f"{c.strip()} = ?" for c in _METRIC_COLUMNS.split(","))
            cur.execute(f"UPDATE rides SET {sets} WHERE id = ?", [*_metric_values(m), ride_id])  # noqa: S608
            cur.execute("UPDATE rides SET altitude_source = coalesce(?, altitude_source) WHERE id = ?",
                        [m.altitude_source, ride_id])
            if route_id_of(cur, ride_id) is not None:  # the recorded route's gain stays the ride's figure
                cur.execute("UPDATE rides SET elevation_gain_m = (SELECT elevation_gain_m FROM routes WHERE "
                            "id = rides.route_id AND has_elevation) WHERE id = ?", [ride_id])
        audit(cur, "recompute", "ride", None, athlete_id, rides=len(ids))
        bump_data_version(cur)
    return len(ids)


def route_id_of(cur, ride_id: int) -> int | None:
    row = cur.execute("SELECT route_id FROM rides WHERE id = ?", [ride_id]).fetchone()
    return row[0] if row else None


def delete_rides(cur, athlete_id: int, ride_ids) -> int:
    """Delete rides with their samples, tags, analyses, recorded routes and linked duplicates; planned workouts
    they completed become open again. Returns the number of rides the rider asked to delete."""
    with transaction(cur):
        ids = _own_ids(cur, athlete_id, ride_ids)
        if not ids:
            return 0
        linked = [r[0] for r in cur.execute("SELECT id FROM rides WHERE duplicate_of IN (SELECT unnest(?))",
                                            [ids]).fetchall()]
        every = sorted(set(ids) | set(linked))
        routes = [r[0] for r in cur.execute(
            "SELECT DISTINCT r.route_id FROM rides r JOIN routes ro ON ro.id = r.route_id "
            "WHERE r.id IN (SELECT unnest(?)) AND ro.kind = 'recorded' AND NOT EXISTS (SELECT 1 FROM rides o "
            "WHERE o.route_id = r.route_id AND o.id NOT IN (SELECT unnest(?)))", [every, every]).fetchall()]
        cur.execute("UPDATE planned_workouts SET completed_ride_id = NULL WHERE completed_ride_id IN "
                    "(SELECT unnest(?))", [every])
        cur.execute("UPDATE rides SET duplicate_of = NULL WHERE id IN (SELECT unnest(?))", [every])
        cur.execute("UPDATE climbs SET ride_id = NULL WHERE ride_id IN (SELECT unnest(?))", [every])
        cur.execute("UPDATE climbs SET route_id = NULL WHERE route_id IN (SELECT unnest(?))", [routes])
        samples = cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id IN (SELECT unnest(?))",
                              [every]).fetchone()[0]
        delete_with_children(cur, "rides", every)
        delete_with_children(cur, "routes", routes)
        from core.rides.efforts import prune_climbs

        prune_climbs(cur, athlete_id)
        unused = [r[0] for r in cur.execute(
            "SELECT id FROM tags t WHERE athlete_id = ? AND NOT EXISTS (SELECT 1 FROM ride_tags rt "
            "WHERE rt.tag_id = t.id)", [athlete_id]).fetchall()]
        delete_with_children(cur, "tags", unused)
        audit(cur, "delete", "ride", None, athlete_id, rides=ids, linked=linked, routes=routes)
        bump_data_version(cur)
    if samples >= LARGE_DELETE_ROWS:  # give the freed blocks back to the file now, not at some later checkpoint
        checkpoint(cur)
    return len(ids)


SPORT_TYPES = (*CYCLING_TYPES, "running", "walking", "hiking", "swimming", "strength", "other")
RPE_WORDS = {1: "very easy", 2: "easy", 3: "moderate", 4: "somewhat hard", 5: "hard", 6: "hard+", 7: "very hard",
             8: "very hard+", 9: "near maximal", 10: "maximal"}  # Borg CR10


def edit_ride(cur, athlete_id: int, ride_id: int, *, name: str | None = None, sport_type: str | None = None,
              notes: str | None = None, rpe: int | None = None, clear_rpe: bool = False) -> dict:
    """Correct a ride's name or type and keep the rider's notes and RPE (1–10); None leaves a field as it is
    (``notes=""`` clears the notes, ``clear_rpe`` the RPE). Returns the ride; ValidationError names a bad value and
    changes nothing."""
    ride = get_ride(cur, athlete_id, ride_id)
    changes: dict = {}
    if name is not None:
        name = " ".join(str(name).split())
        if not name or len(name) > 120:
            raise ValidationError("A ride's name must be 1 to 120 characters.")
        changes["name"] = name
    if sport_type is not None:
        if sport_type not in SPORT_TYPES and sport_type != ride["sport_type"]:
            raise ValidationError(f"Unknown ride type {str(sport_type)[:40]!r}; choose one of {', '.join(SPORT_TYPES)}.")
        changes["sport_type"] = sport_type
    if notes is not None:
        if len(notes) > 5000:
            raise ValidationError("Notes are limited to 5,000 characters.")
        changes["notes"] = notes.strip() or None
    if clear_rpe:
        changes["rpe"] = None
    elif rpe is not None:
        if isinstance(rpe, bool) or not isinstance(rpe, int) or not 1 <= rpe <= 10:
            raise ValidationError("RPE is a whole number from 1 (very easy) to 10 (maximal).")
        changes["rpe"] = rpe
    if not changes:
        return ride
    with transaction(cur):
        for column, value in changes.items():  # column names from the fixed set above, values as parameters
            cur.execute(f"UPDATE rides SET {column} = ? WHERE id = ?", [value, ride_id])  # noqa: S608
        audit(cur, "edit", "ride", ride_id, athlete_id, fields=sorted(changes))
        bump_data_version(cur)  # the type decides what counts as cycling on the dashboard
    return get_ride(cur, athlete_id, ride_id)
