"""Routes: a route (planned from a GPX, or the recorded path of a ride), its points and its sections.

A route, its points and its sections are written in one transaction: a failure leaves nothing behind. Points go
in as one bulk insert from an Arrow table (no pandas on the import path), never row by row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date

import numpy as np

from core.athletes import RIDING_SETTINGS, ftp_on
from core.errors import InvalidFileError, NotFoundError, ValidationError
from core.files.streams import ActivityStreams
from core.routes.climb_match import Track
from core.routes.climbs import forget_route, register_climbs
from core.routes.sections import (
    DEFAULT_PARAMS,
    TERRAIN_VERSION,
    Section,
    SectionParams,
    route_profile,
    section_times,
    split_into_sections,
)
from core.store.bulk import insert_columns
from core.store.db import (
    LARGE_DELETE_ROWS,
    audit,
    bump_data_version,
    checkpoint,
    delete_with_children,
    get_one,
    like_pattern,
    transaction,
)

log = logging.getLogger(__name__)

KINDS = ("planned", "recorded")
SECTION_JSON_FIELDS = ("kind", "start_m", "end_m", "distance_m", "elevation_gain_m", "avg_grade_pct",
                       "max_grade_pct", "category", "fiets", "est_time_s")
_ROUTE_COLUMNS = ("id", "athlete_id", "name", "kind", "source_file", "distance_m", "elevation_gain_m",
                  "elevation_loss_m", "has_elevation", "point_count", "min_lat", "min_lon", "max_lat", "max_lon",
                  "created_at", "altitude_source", "data_warnings")
_SECTION_COLUMNS = ("id", "seq", "kind", "start_m", "end_m", "distance_m", "elevation_gain_m", "elevation_loss_m",
                    "avg_grade_pct", "max_grade_pct", "category", "fiets", "est_time_s", "gear_hint", "details")


def rider_params(cur, athlete_id: int, base: SectionParams = DEFAULT_PARAMS) -> SectionParams:
    """The riding model with the athlete's CdA, Crr and bike mass (Settings); defaults where unset or absurd."""
    from dataclasses import replace

    row = cur.execute("SELECT preferences FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    prefs = json.loads(row[0]) if row and row[0] else {}
    chosen = {}
    for key, (low, high, _) in RIDING_SETTINGS.items():
        value = prefs.get(key)
        if isinstance(value, (int, float)) and low <= float(value) <= high:
            chosen[key] = float(value)
    return replace(base, **chosen)


def rider_figures(cur, athlete_id: int) -> tuple[float | None, float | None]:
    """(FTP in force today, weight) for time estimates and gear hints; None where unknown."""
    row = cur.execute("SELECT weight_kg FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Athlete {athlete_id} was not found")
    return ftp_on(cur, athlete_id, date.today()), row[0]


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("A route needs a name")
    return name[:200]


def store_route(cur, athlete_id: int, name: str, kind: str, streams: ActivityStreams,
                source_file: str | None = None, *, params: SectionParams | None = None,
                altitude_source: str | None = None, data_warnings: list[dict] | None = None) -> int:
    """Write the route, its points (bulk) and its sections in one transaction; returns the route id.

    Points without a position (GPS drop-outs) are left out. Nested in an outer transaction (a ride's recorded
    path) it joins that transaction. Raises InvalidFileError when fewer than two positioned points remain."""
    if kind not in KINDS:
        raise ValidationError(f"Route kind must be one of {', '.join(KINDS)}, not {kind!r}")
    name = _clean_name(name)
    lat = np.asarray(streams.lat, dtype=np.float64)
    lon = np.asarray(streams.lon, dtype=np.float64)
    keep = np.isfinite(lat) & np.isfinite(lon)
    if keep.sum() < 2:
        raise InvalidFileError(f"{source_file or name}: fewer than two points with a position: no route to store")
    lat, lon = lat[keep], lon[keep]
    ele = np.asarray(streams.ele, dtype=np.float64)[keep]
    dist = np.asarray(streams.dist_m, dtype=np.float64)[keep]
    dist = np.maximum.accumulate(np.nan_to_num(dist, nan=0.0))
    dist = dist - dist[0]
    ftp_w, weight_kg = rider_figures(cur, athlete_id)
    params = params or rider_params(cur, athlete_id)
    profile = route_profile(dist, ele, params, source=altitude_source, hint=streams.altitude_source)
    sections = split_into_sections(dist, ele, params=params, ftp_w=ftp_w, weight_kg=weight_kg, profile=profile)
    has_ele = bool(np.isfinite(ele).sum() >= 2) and profile is not None
    gain = sum(s.elevation_gain_m or 0.0 for s in sections) if has_ele else None
    loss = sum(s.elevation_loss_m or 0.0 for s in sections) if has_ele else None
    points = {  # NaN elevation: NULL (core.store.bulk)
        "seq": np.arange(len(lat), dtype=np.int32), "lat": np.round(lat, 6), "lon": np.round(lon, 6),
        "ele": np.where(np.isfinite(ele), ele, np.nan).astype(np.float32), "dist_m": dist.astype(np.float32),
    }
    with transaction(cur):
        route_id = cur.execute(
            "INSERT INTO routes (athlete_id, name, kind, source_file, distance_m, elevation_gain_m, "
            "elevation_loss_m, has_elevation, point_count, min_lat, min_lon, max_lat, max_lon, altitude_source, "
            "terrain_version, data_warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [athlete_id, name, kind, source_file, float(dist[-1]), gain, loss, has_ele, len(lat),
             float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max()),
             profile.source if profile is not None else None, TERRAIN_VERSION, json.dumps(data_warnings or [])],
        ).fetchone()[0]
        insert_columns(cur, "_new_route_points", points,
                     "INSERT INTO route_points (route_id, seq, lat, lon, ele, dist_m) "
                     "SELECT ?, seq, lat::DECIMAL(9, 6), lon::DECIMAL(9, 6), "
                     "CASE WHEN isnan(ele) THEN NULL ELSE ele END, dist_m FROM _new_route_points", [route_id])
        _insert_sections(cur, route_id, sections)
        if kind == "planned":
            register_climbs(cur, athlete_id, Track.of(lat, lon, dist), [s.as_dict() for s in sections],
                            origin="route", name=name, route_id=route_id)
        audit(cur, "create", "route", route_id, athlete_id, kind=kind, points=len(lat), source_file=source_file)
        bump_data_version(cur)
    return route_id


def _insert_sections(cur, route_id: int, sections: list[Section]) -> None:
    if not sections:
        return
    # One INSERT … SELECT over list parameters zipped by UNNEST (a route has tens of sections): no pandas, whose
    # import (pa.array/from_pylist import it) would cost the command line ~0.3 s.
    columns = {name: [getattr(s, name) for s in sections] for name in (
        "kind", "start_m", "end_m", "distance_m", "elevation_gain_m", "elevation_loss_m", "avg_grade_pct",
        "max_grade_pct", "category", "fiets", "est_time_s", "gear_hint")}
    columns["details"] = [json.dumps(s.details, default=float) for s in sections]
    cur.execute(
        "INSERT INTO sections (route_id, seq, kind, start_m, end_m, distance_m, elevation_gain_m, "
        "elevation_loss_m, avg_grade_pct, max_grade_pct, category, fiets, est_time_s, gear_hint, details) "
        "SELECT ?, unnest(range(?)), unnest(?::VARCHAR[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), "
        "unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), "
        "unnest(?::VARCHAR[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[])::JSON", [route_id, len(sections), *columns.values()]).fetchall()


def section_json(section: dict | Section) -> dict:
    """One section in the CLI's --json shape (figures rounded for reading)."""
    data = section.as_dict() if isinstance(section, Section) else section
    out = {}
    for key in SECTION_JSON_FIELDS:
        value = data.get(key)
        if isinstance(value, float):
            value = round(value, 2)
        out[key] = value
    return out


def route_json(cur, route_id: int, filename: str | None = None, *, retime: bool = True) -> dict:
    """The import/`sections` --json shape: {"file","ok","kind","id","points","distance_m","elevation_gain_m",
    "sections":[…], "warnings": [the rider's sentences], "data_warnings": [{"code","points","message"}]}. ``kind`` is "route" for a planned route, "ride" for a ride's recorded path."""
    route = get_route(cur, route_id)
    return {
        "file": filename if filename is not None else route["source_file"],
        "ok": True,
        "kind": "route" if route["kind"] == "planned" else "ride",
        "id": route_id,
        "points": route["point_count"],
        "distance_m": round(route["distance_m"], 1),
        "elevation_gain_m": None if route["elevation_gain_m"] is None else round(route["elevation_gain_m"], 1),
        # times for today's FTP, weight and settings (``retime`` False: the route was just stored with them)
        "sections": [section_json(s) for s in (current_sections(cur, route_id) if retime
                                                 else route_sections(cur, route_id))],
        "warnings": [w["message"] for w in route["data_warnings"]],
        "data_warnings": route["data_warnings"],
    }


def import_gpx_route(cur, athlete_id: int, filename: str, data: bytes, *,
                     streams: ActivityStreams | None = None, max_bytes: int | None = None,
                     digest: str | None = None) -> dict:
    """Store a GPX as a planned route (times, if any, are ignored) and return the --json result dict.

    Pass ``streams`` when the file was already read (the importer reads it to decide route vs ride), with the
    file's ``digest`` (sha256 hex) when its bytes are gone. Raises InvalidFileError (naming the file) when it
    cannot be used; nothing is stored then."""
    from core.files.plausibility import check_streams

    if streams is None:
        from core.files.gpx import read_gpx

        streams = read_gpx(data, filename, max_bytes=max_bytes)
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if digest is None:
        if not data:
            raise ValueError("import_gpx_route needs the file's bytes or its digest")  # never a shared empty hash
        digest = hashlib.sha256(data).hexdigest()
    same = cur.execute("SELECT id, name FROM routes WHERE athlete_id = ? AND kind = 'planned' AND content_sha256 = ? "
                       "ORDER BY id LIMIT 1", [athlete_id, digest]).fetchone()
    if same is not None:  # the same file again: the stored route, not a copy
        return route_json(cur, same[0], filename, retime=False) | {
            "duplicate_of": same[0],
            "message": f"{base}: already imported as route #{same[0]} “{same[1]}”; nothing new was stored"}
    streams, repairs = check_streams(streams, kind="route", filename=base)  # every route passes here
    name = streams.name or base.rsplit(".", 1)[0]
    with transaction(cur):
        route_id = store_route(cur, athlete_id, name, "planned", streams, source_file=base,
                               data_warnings=[w.as_dict() for w in repairs])
        cur.execute("UPDATE routes SET content_sha256 = ? WHERE id = ?", [digest, route_id])
    return route_json(cur, route_id, filename, retime=False)


def _route_row(row) -> dict:
    route = dict(zip(_ROUTE_COLUMNS, row, strict=True))
    route["data_warnings"] = json.loads(route["data_warnings"] or "[]")
    return route


def list_routes(cur, athlete_id: int, kind: str | None = "planned", *, limit: int = 200, offset: int = 0,
                text: str | None = None) -> list[dict]:
    """Routes newest first (``kind`` None for both kinds), paged in SQL; ``text`` keeps those whose name or file
    contains it (case-insensitive), or the route '#id'."""
    pattern, route_id = _route_search(text)
    rows = cur.execute(
        "SELECT id, athlete_id, name, kind, source_file, distance_m, elevation_gain_m, elevation_loss_m, has_elevation, point_count, min_lat, min_lon, max_lat, max_lon, created_at, altitude_source, data_warnings "
        "FROM routes WHERE athlete_id = ? AND (? IS NULL OR kind = ?) AND (? IS NULL OR id = ?) "
        "AND (? IS NULL OR name ILIKE ? ESCAPE '\\' OR source_file ILIKE ? ESCAPE '\\') ORDER BY id DESC LIMIT ? OFFSET ?",
        [athlete_id, kind, kind, route_id, route_id, pattern, pattern, pattern, limit, offset]).fetchall()
    return [_route_row(row) for row in rows]


def count_routes(cur, athlete_id: int, kind: str | None = "planned", *, text: str | None = None) -> int:
    pattern, route_id = _route_search(text)
    return cur.execute(
        "SELECT count(*) FROM routes WHERE athlete_id = ? AND (? IS NULL OR kind = ?) AND (? IS NULL OR id = ?) "
        "AND (? IS NULL OR name ILIKE ? ESCAPE '\\' OR source_file ILIKE ? ESCAPE '\\')",
        [athlete_id, kind, kind, route_id, route_id, pattern, pattern, pattern]).fetchone()[0]


def _route_search(text: str | None) -> tuple[str | None, int | None]:
    """(ILIKE pattern, None) for a name, (None, id) for '#12'; (None, None) for nothing."""
    text = (text or "").strip()[:200]
    if not text:
        return None, None
    if text.startswith("#") and text[1:].isdigit() and len(text) < 19:
        return None, int(text[1:])
    return like_pattern(text), None


def get_route(cur, route_id: int, athlete_id: int | None = None) -> dict:
    row = get_one(cur, "SELECT id, athlete_id, name, kind, source_file, distance_m, elevation_gain_m, elevation_loss_m, has_elevation, point_count, min_lat, min_lon, max_lat, max_lon, created_at, altitude_source, data_warnings "
                       "FROM routes WHERE id = ?", [route_id], f"Route {route_id}")
    route = _route_row(row)
    if athlete_id is not None and route["athlete_id"] != athlete_id:
        raise NotFoundError(f"Route {route_id} was not found")
    return route


def route_points(cur, route_id: int) -> dict[str, np.ndarray]:
    """{"lat","lon","ele","dist_m"} float64 arrays in order (ele NaN where missing)."""
    table = cur.execute(
        "SELECT lat::DOUBLE AS lat, lon::DOUBLE AS lon, ele::DOUBLE AS ele, dist_m::DOUBLE AS dist_m "
        "FROM route_points WHERE route_id = ? ORDER BY seq", [route_id]).fetchnumpy()
    return {name: np.ma.filled(np.ma.asarray(table[name], dtype=np.float64), np.nan)
            for name in ("lat", "lon", "ele", "dist_m")}


def route_sections(cur, route_id: int) -> list[dict]:
    rows = cur.execute(
        "SELECT id, seq, kind, start_m, end_m, distance_m, elevation_gain_m, elevation_loss_m, avg_grade_pct, max_grade_pct, category, fiets, est_time_s, gear_hint, details "
        "FROM sections WHERE route_id = ? ORDER BY seq", [route_id]).fetchall()
    out = []
    for row in rows:
        data = dict(zip(_SECTION_COLUMNS, row, strict=True))
        data["details"] = json.loads(data["details"]) if data["details"] else {}
        out.append(data)
    return out


def rename_route(cur, route_id: int, name: str, athlete_id: int | None = None) -> None:
    name = _clean_name(name)
    get_route(cur, route_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE routes SET name = ? WHERE id = ?", [name, route_id])
        audit(cur, "rename", "route", route_id, athlete_id, name=name)
        bump_data_version(cur)


def delete_route(cur, route_id: int, athlete_id: int | None = None) -> None:
    """Delete a route with its points and sections; a ride pointing at it keeps the ride, without a path."""
    route = get_route(cur, route_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE rides SET route_id = NULL WHERE route_id = ?", [route_id])
        forget_route(cur, [route_id])
        delete_with_children(cur, "routes", [route_id])
        audit(cur, "delete", "route", route_id, athlete_id)
        bump_data_version(cur)
    if route["point_count"] >= LARGE_DELETE_ROWS:
        checkpoint(cur)


def resection_route(cur, route_id: int, *, params: SectionParams | None = None) -> int:
    """Recompute a route's sections and elevation (new method or parameters). Returns the count."""
    route = get_route(cur, route_id)
    points = route_points(cur, route_id)
    ftp_w, weight_kg = rider_figures(cur, route["athlete_id"])
    params = params or rider_params(cur, route["athlete_id"])
    profile = route_profile(points["dist_m"], points["ele"], params, source=route["altitude_source"])
    sections = split_into_sections(points["dist_m"], points["ele"], params=params, ftp_w=ftp_w, weight_kg=weight_kg,
                                   profile=profile)
    with transaction(cur):
        cur.execute("DELETE FROM sections WHERE route_id = ?", [route_id])
        _insert_sections(cur, route_id, sections)
        if profile is not None:
            cur.execute("UPDATE routes SET elevation_gain_m = ?, elevation_loss_m = ?, altitude_source = ?, "
                        "terrain_version = ? WHERE id = ?",
                        [sum(s.elevation_gain_m or 0.0 for s in sections), sum(s.elevation_loss_m or 0.0
                                                                                for s in sections),
                         profile.source, TERRAIN_VERSION, route_id])
        if route["kind"] == "planned":
            register_climbs(cur, route["athlete_id"], Track.of(points["lat"], points["lon"], points["dist_m"]),
                            route_sections(cur, route_id), origin="route", name=route["name"], route_id=route_id)
        bump_data_version(cur)
    return len(sections)


def current_sections(cur, route_id: int, athlete_id: int | None = None) -> list[dict]:
    """A route's stored sections with times for today's FTP, weight and riding settings (stored times were
    estimated when the route was imported)."""
    route = get_route(cur, route_id, athlete_id)
    sections = route_sections(cur, route_id)
    if not sections:
        return sections
    points = route_points(cur, route_id)
    ftp_w, weight_kg = rider_figures(cur, route["athlete_id"])
    times = section_times(points["dist_m"], points["ele"], sections, params=rider_params(cur, route["athlete_id"]),
                          ftp_w=ftp_w, weight_kg=weight_kg, source=route["altitude_source"])
    for section, seconds in zip(sections, times, strict=True):
        section["est_time_s"] = seconds
        section["details"]["avg_speed_kmh"] = round(section["distance_m"] / seconds * 3.6, 1) if seconds else None
    return sections


# --------------------------------------------------------------------------------------- page helpers


def section_label(index: int, section: dict) -> str:
    """"#2 Climb · 5.4 km at 7.3 % · Cat 2" — the option text for choosing a section."""
    text = f"#{index + 1} {section['kind'].capitalize()} · {section['distance_m'] / 1000:.1f} km"
    if section.get("avg_grade_pct") is not None:
        text += f" at {section['avg_grade_pct']:.1f} %"
    if section.get("category"):
        text += " · HC" if section["category"] == "HC" else f" · Cat {section['category']}"
    return text


def highlight_index(choice: str | None, sections: list[dict]) -> int | None:
    """The section index behind a label from ``section_label`` (None for no choice or a stale label)."""
    if not choice:
        return None
    labels = [section_label(i, s) for i, s in enumerate(sections)]
    return labels.index(choice) if choice in labels else None


def format_duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "–"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
