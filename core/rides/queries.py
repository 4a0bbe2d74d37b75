"""Reading rides: the list with the Rides page's filters, one ride's columns and its report, tags, sport types.
Plain SQL and nothing else, so the command line's ``rides`` and ``ride ID`` start without numpy or the metrics
stack (issue 17); core.rides.store writes and re-exports these."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from core.errors import NotFoundError, ValidationError
from core.rides.columns import SORTABLE
from core.store.db import like_pattern

# Garmin Connect type keys (and FIT sport names mapped to them by core.files.fit) that count as rides.
CYCLING_TYPES = ("cycling", "road_biking", "mountain_biking", "gravel_cycling", "indoor_cycling", "virtual_ride",
                 "cyclocross", "track_cycling", "e_bike_fitness", "e_bike_mountain", "bmx", "recumbent_cycling",
                 "hand_cycling", "downhill_biking", "e_biking")
LIST_COLUMNS = ("id", "name", "sport_type", "started_at", "distance_m", "moving_time_s", "elapsed_time_s",
                "elevation_gain_m", "avg_power_w", "normalized_power_w", "avg_hr", "avg_cadence", "tss",
                "intensity_factor", "load_method", "source", "route_id")


@dataclass
class RideFilter:
    """Filters shared by the Rides page, ``python -m core rides`` and the benches. None = no bound.

    ``sport``: 'cycling' (every cycling type, the default), 'all', or one sport_type (e.g. 'running')."""

    sport: str = "cycling"
    date_from: date | None = None
    date_to: date | None = None
    min_distance_km: float | None = None
    max_distance_km: float | None = None
    min_duration_min: float | None = None
    max_duration_min: float | None = None
    min_power_w: float | None = None
    max_power_w: float | None = None
    min_hr: float | None = None
    max_hr: float | None = None
    tag: str | None = None
    text: str | None = None


_DETAIL_COLUMNS = ("id, athlete_id, source, account_id, external_id, duplicate_of, name, sport_type, started_at, "
                   "elapsed_time_s, moving_time_s, distance_m, elevation_gain_m, avg_hr, max_hr, avg_power_w, "
                   "max_power_w, normalized_power_w, avg_cadence, intensity_factor, tss, load_method, route_id, "
                   "metrics, laps, source_file, notes, rpe, created_at, altitude_source, data_warnings")


def get_ride(cur, athlete_id: int, ride_id: int) -> dict:
    """Every column of one ride (JSON parsed) plus ``tags`` and ``linked`` (rides linked to it)."""
    row = cur.execute(f"SELECT {_DETAIL_COLUMNS} FROM rides WHERE id = ? AND athlete_id = ?",  # noqa: S608
                      [ride_id, athlete_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Ride {ride_id} was not found")
    ride = dict(zip([c.strip() for c in _DETAIL_COLUMNS.split(",")], row, strict=True))
    ride["metrics"] = json.loads(ride["metrics"] or "{}")
    ride["laps"] = json.loads(ride["laps"] or "[]")
    ride["data_warnings"] = json.loads(ride["data_warnings"] or "[]")
    ride["tags"] = ride_tag_names(cur, ride_id)
    ride["linked"] = [dict(zip(("id", "source", "external_id", "source_file"), r, strict=True)) for r in sorted(
        cur.execute("SELECT id, source, external_id, source_file FROM rides WHERE duplicate_of = ?",
                    [ride_id]).fetchall())]  # by id (ids are unique: nothing else is compared)
    ride["sample_count"] = cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id = ?",
                                       [ride_id]).fetchone()[0]
    return ride


def ride_report(cur, athlete_id: int, ride_id: int) -> dict:
    """The ride's summary and metrics for ``python -m core ride ID --json``."""
    ride = get_ride(cur, athlete_id, ride_id)
    m = ride["metrics"]
    return {
        "id": ride["id"], "name": ride["name"], "sport_type": ride["sport_type"], "source": ride["source"],
        "started_at": ride["started_at"], "duplicate_of": ride["duplicate_of"],
        "elapsed_time_s": ride["elapsed_time_s"], "moving_time_s": ride["moving_time_s"],
        "distance_m": ride["distance_m"], "elevation_gain_m": ride["elevation_gain_m"],
        "avg_hr": ride["avg_hr"], "max_hr": ride["max_hr"], "avg_power_w": ride["avg_power_w"],
        "max_power_w": ride["max_power_w"], "avg_cadence": ride["avg_cadence"],
        "np_w": ride["normalized_power_w"], "if": ride["intensity_factor"], "tss": ride["tss"],
        "load_method": ride["load_method"],
        "load_label": {"power": "TSS", "hr": "TRIMP(100)"}.get(ride["load_method"]), "work_kj": m.get("work_kj"),
        "vi": m.get("vi"), "ef": m.get("ef"),
        "decoupling_pct": m.get("decoupling_pct"),
        "zones": {"power_s": m.get("zones_power_s"), "hr_s": m.get("zones_hr_s")},
        "power_curve": m.get("power_curve", {}), "laps": ride["laps"], "tags": ride["tags"],
        "flags": m.get("flags", []), "data_warnings": ride["data_warnings"], "route_id": ride["route_id"],
        "samples": ride["sample_count"], "linked": ride["linked"], "altitude_source": ride["altitude_source"],
        "intervals": m.get("intervals", []),
    }


def _where(athlete_id: int, f: RideFilter) -> tuple[str, list]:
    clauses = ["r.athlete_id = ?", "r.duplicate_of IS NULL"]
    params: list = [athlete_id]
    sport = (f.sport or "cycling").strip()
    if sport == "cycling":
        clauses.append("list_contains(?, r.sport_type)")
        params.append(list(CYCLING_TYPES))
    elif sport != "all":
        clauses.append("r.sport_type = ?")
        params.append(sport)
    # A ride's day is CAST(started_at AS DATE) in the session time zone, as on the dashboard (not the UTC day).
    ranges = [("CAST(r.started_at AS DATE)", f.date_from, f.date_to, lambda d: d),
              ("r.distance_m", f.min_distance_km, f.max_distance_km, lambda v: v * 1000.0),
              ("r.moving_time_s", f.min_duration_min, f.max_duration_min, lambda v: v * 60.0),
              ("r.avg_power_w", f.min_power_w, f.max_power_w, float),
              ("r.avg_hr", f.min_hr, f.max_hr, float)]
    for column, low, high, convert in ranges:
        if low is not None:
            clauses.append(f"{column} >= ?")
            params.append(convert(low))
        if high is not None:
            clauses.append(f"{column} <= ?")
            params.append(convert(high))
    if f.tag:
        clauses.append("EXISTS (SELECT 1 FROM ride_tags rt JOIN tags t ON t.id = rt.tag_id "
                       "WHERE rt.ride_id = r.id AND t.name = ?)")
        params.append(f.tag.strip())
    if f.text and f.text.strip():
        clauses.append("r.name ILIKE ? ESCAPE '\\'")
        params.append(like_pattern(f.text.strip()))
    return " AND ".join(clauses), params


def search_rides(cur, athlete_id: int, filters: RideFilter | None = None, sort: str = "started_at",
                 page: int = 1, page_size: int = 50, descending: bool = True) -> tuple[list[dict], int]:
    """One page of rides matching ``filters`` (SQL LIMIT/OFFSET) and the total count. Each row has
    LIST_COLUMNS plus ``tags`` (list of names). Linked duplicates never appear."""
    filters = filters or RideFilter()
    if sort not in SORTABLE:
        raise ValidationError(f"Rides cannot be sorted by {sort!r}; choose one of {', '.join(SORTABLE)}")
    page_size = max(1, min(int(page_size), 1000))
    page = max(1, min(int(page), 10**9))  # past the last page lists nothing; a huge one must not overflow OFFSET
    where, params = _where(athlete_id, filters)
    # where/order are built from constants only (SORTABLE whitelist); every value is a parameter.
    total = cur.execute(f"SELECT count(*) FROM rides r WHERE {where}", params).fetchone()[0]  # noqa: S608
    order = f"{SORTABLE[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, r.id DESC"
    cols = ", ".join(f"r.{c}" for c in LIST_COLUMNS)
    rows = cur.execute(f"SELECT {cols} FROM rides r WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                       [*params, page_size, (page - 1) * page_size]).fetchall()
    tags = _tags_of(cur, [row[0] for row in rows])
    result = []
    for row in rows:
        item = dict(zip(LIST_COLUMNS, row, strict=True))
        item["tags"] = tags.get(item["id"], [])
        result.append(item)
    return result, total


def _tags_of(cur, ride_ids: list[int]) -> dict[int, list[str]]:
    """Each ride's tag names, sorted. A plain read sorted here: a correlated sub-query (or a first ORDER BY)
    cost a fresh process (``rides --json``, ``ride ID``) as much as the ride list itself."""
    if not ride_ids:
        return {}
    tags: dict[int, list[str]] = {}
    for ride_id, name in cur.execute("SELECT rt.ride_id, t.name FROM ride_tags rt JOIN tags t ON t.id = rt.tag_id "
                                     "WHERE list_contains(?, rt.ride_id)", [ride_ids]).fetchall():
        tags.setdefault(ride_id, []).append(name)
    return {ride_id: sorted(names) for ride_id, names in tags.items()}


def sport_types(cur, athlete_id: int) -> list[str]:
    return [r[0] for r in cur.execute("SELECT DISTINCT sport_type FROM rides WHERE athlete_id = ? AND "
                                      "duplicate_of IS NULL ORDER BY 1", [athlete_id]).fetchall()]


def list_tags(cur, athlete_id: int) -> list[str]:
    return [r[0] for r in cur.execute("SELECT name FROM tags WHERE athlete_id = ? ORDER BY name",
                                      [athlete_id]).fetchall()]


def ride_tag_names(cur, ride_id: int) -> list[str]:
    return _tags_of(cur, [ride_id]).get(ride_id, [])


# ---------------------------------------------------------------------------------------------- climb efforts
_EFFORT_COLUMNS = ("effort_id", "climb_id", "ride_id", "date", "started_at", "time_s", "distance_m", "avg_power_w",
                   "avg_hr", "avg_cadence", "vam_m_h", "ride_name", "rank", "efforts")


def _weight(cur, athlete_id: int) -> float | None:
    row = cur.execute("SELECT weight_kg FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    return float(row[0]) if row and row[0] else None


def effort_rows(cur, athlete_id: int, where: str, params: list, *, climb_name: bool = False) -> list[dict]:
    """Efforts (with their rank on their climb: 1 = the rider's record) matching ``where`` (a constant SQL
    fragment over e/r/c); W/kg from the athlete's weight; ``pr`` marks the fastest on its climb; with
    ``climb_name``, the climb's name too."""
    weight = _weight(cur, athlete_id)
    columns = (*_EFFORT_COLUMNS, "climb_name") if climb_name else _EFFORT_COLUMNS
    sql = (  # where: a constant fragment from this module, values are parameters
        "SELECT * FROM (SELECT e.id, e.climb_id, e.ride_id, CAST(coalesce(e.started_at, r.started_at) AS DATE), "  # noqa: S608
        "coalesce(e.started_at, r.started_at), e.time_s, e.distance_m, e.avg_power_w, e.avg_hr, e.avg_cadence, "
        "e.vam_m_h, r.name, rank() OVER (PARTITION BY e.climb_id ORDER BY e.time_s, e.id), "
        "count(*) OVER (PARTITION BY e.climb_id)" + (", c.name" if climb_name else "") + " FROM climb_efforts e "
        "JOIN rides r ON r.id = e.ride_id JOIN climbs c ON c.id = e.climb_id WHERE c.athlete_id = ?) "
        "AS x(" + ", ".join(columns) + f") WHERE {where} ORDER BY climb_id, time_s, effort_id")
    rows = cur.execute(sql, [athlete_id, *params]).fetchall()
    out = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        item["pr"] = item["rank"] == 1
        item["w_per_kg"] = item["avg_power_w"] / weight if item["avg_power_w"] is not None and weight else None
        item["avg_speed_kmh"] = (item["distance_m"] / item["time_s"] * 3.6
                                 if item["distance_m"] and item["time_s"] else None)
        out.append(item)
    return out


def ride_efforts(cur, athlete_id: int, ride_id: int) -> list[dict]:
    """A ride's efforts in riding order, with the climb's name and the effort's rank among all on that climb."""
    rows = effort_rows(cur, athlete_id, "ride_id = ?", [ride_id], climb_name=True)
    return sorted(rows, key=lambda r: r["started_at"] or 0)


def list_climbs(cur, athlete_id: int) -> list[dict]:
    """Every known climb with its efforts count and record time; climbs with efforts first, most ridden first."""
    rows = cur.execute(
        "SELECT c.id, c.name, c.origin, c.length_m, c.gain_m, c.avg_grade_pct, c.max_grade_pct, c.category, "
        "count(e.id), min(e.time_s), max(e.started_at) FROM climbs c LEFT JOIN climb_efforts e ON e.climb_id = c.id "
        "WHERE c.athlete_id = ? GROUP BY ALL ORDER BY count(e.id) DESC, c.id", [athlete_id]).fetchall()
    keys = ("climb_id", "name", "origin", "length_m", "gain_m", "avg_grade_pct", "max_grade_pct", "category",
            "effort_count", "record_time_s", "last_ridden_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def climbs_report(cur, athlete_id: int) -> list[dict]:
    """``python -m core climbs --json``: one record per climb, efforts fastest first."""
    efforts: dict[int, list[dict]] = {}
    for e in effort_rows(cur, athlete_id, "true", []):
        efforts.setdefault(e["climb_id"], []).append(e)
    out = []
    for climb in list_climbs(cur, athlete_id):
        out.append({"climb_id": climb["climb_id"], "name": climb["name"], "length_m": round(climb["length_m"], 1),
                    "avg_grade_pct": round(climb["avg_grade_pct"], 2), "category": climb["category"],
                    "efforts": [{"ride_id": e["ride_id"], "time_s": round(e["time_s"], 1),
                                 "avg_power_w": None if e["avg_power_w"] is None else round(e["avg_power_w"], 1),
                                 "date": e["date"], "pr": e["pr"],
                                 "vam_m_h": None if e["vam_m_h"] is None else round(e["vam_m_h"])}
                                for e in efforts.get(climb["climb_id"], [])]})
    return out
