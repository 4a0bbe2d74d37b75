"""Athlete profiles: validated with pydantic (core.athletes.profile), stored in DuckDB, FTP history kept for TSS on
past dates, privacy zones. Owns the athletes and athlete_ftp_history tables; never reads rides' samples or plans
beyond counting them, and never imports pydantic or numpy at import time (every command reads an athlete)."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from core.athletes.bounds import FITNESS_LEVELS, MAX_PRIVACY_ZONES, RIDING_SETTINGS  # noqa: F401 — shared names
from core.errors import NotFoundError
from core.errors import ValidationError as VCValidationError
from core.store.db import CHILDREN, LINKS, audit, bump_data_version, delete_with_children, table_counts, transaction

if TYPE_CHECKING:
    import numpy as np

    from core.athletes.profile import AthleteProfile, PrivacyZone

EARTH_RADIUS_M = 6_371_008.8


# The pydantic models live in core.athletes.profile, built on first use: reading an athlete (every command does)
# needs no pydantic, whose import is a good part of a light command's start (issue 17).
_PROFILE_NAMES = frozenset({"AthleteProfile", "PrivacyZone", "PRIVACY_ZONES", "validate_profile"})


def __getattr__(name: str):
    if name in _PROFILE_NAMES:
        from core.athletes import profile

        return getattr(profile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_COLUMNS = "id, name, email, fitness_level, ftp_w, max_hr, lthr, weight_kg, preferences, created_at"


def _row_to_dict(row) -> dict:
    keys = [c.strip() for c in _COLUMNS.split(",")]
    data = dict(zip(keys, row, strict=True))
    data["preferences"] = json.loads(data["preferences"]) if data["preferences"] else {}
    return data


def create_athlete(cur, profile: AthleteProfile, ftp_effective_from: date | None = None) -> int:
    with transaction(cur):
        athlete_id = cur.execute(
            "INSERT INTO athletes (name, email, fitness_level, ftp_w, max_hr, lthr, weight_kg, preferences) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [profile.name, profile.email, profile.fitness_level, profile.ftp_w, profile.max_hr, profile.lthr,
             profile.weight_kg, json.dumps(profile.preferences)],
        ).fetchone()[0]
        if profile.ftp_w:
            cur.execute("INSERT INTO athlete_ftp_history VALUES (?, ?, ?)",
                        [athlete_id, ftp_effective_from or date(1970, 1, 1), profile.ftp_w])
        audit(cur, "create", "athlete", athlete_id, athlete_id)
    return athlete_id


def update_athlete(cur, athlete_id: int, profile: AthleteProfile, today: date | None = None) -> None:
    """Save the profile. A changed FTP is recorded from today, so past rides keep the FTP they were ridden at."""
    from core.athletes.profile import AthleteProfile

    old = get_athlete(cur, athlete_id)
    with transaction(cur):
        cur.execute(
            "UPDATE athletes SET name = ?, email = ?, fitness_level = ?, ftp_w = ?, max_hr = ?, lthr = ?, "
            "weight_kg = ?, preferences = ? WHERE id = ?",
            [profile.name, profile.email, profile.fitness_level, profile.ftp_w, profile.max_hr, profile.lthr,
             profile.weight_kg, json.dumps(profile.preferences), athlete_id],
        )
        if profile.ftp_w and profile.ftp_w != old["ftp_w"]:
            day = today or date.today()
            cur.execute("DELETE FROM athlete_ftp_history WHERE athlete_id = ? AND effective_from = ?",
                        [athlete_id, day])
            cur.execute("INSERT INTO athlete_ftp_history VALUES (?, ?, ?)", [athlete_id, day, profile.ftp_w])
        audit(cur, "update", "athlete", athlete_id, athlete_id,
              fields=[k for k in AthleteProfile.model_fields if getattr(profile, k) != old.get(k)])
        bump_data_version(cur)


def set_ftp(cur, athlete_id: int, ftp_w: float, effective_from: date, today: date | None = None) -> None:
    """Record FTP ``ftp_w`` from ``effective_from`` in the history (replacing an entry of that day) and make the
    profile's FTP the one in force today. Past rides keep their figures until recomputed."""
    from core.athletes.profile import validate_profile

    validate_profile(name="check", ftp_w=ftp_w)
    get_athlete(cur, athlete_id)
    with transaction(cur):
        cur.execute("DELETE FROM athlete_ftp_history WHERE athlete_id = ? AND effective_from = ?",
                    [athlete_id, effective_from])
        cur.execute("INSERT INTO athlete_ftp_history VALUES (?, ?, ?)", [athlete_id, effective_from, ftp_w])
        cur.execute("UPDATE athletes SET ftp_w = ? WHERE id = ?",
                    [ftp_on(cur, athlete_id, today or date.today()), athlete_id])
        audit(cur, "set_ftp", "athlete", athlete_id, athlete_id, ftp_w=ftp_w, effective_from=effective_from)
        bump_data_version(cur)


def get_athlete(cur, athlete_id: int) -> dict:
    row = cur.execute(f"SELECT {_COLUMNS} FROM athletes WHERE id = ?", [athlete_id]).fetchone()  # noqa: S608 — identifiers from module constants
    if row is None:
        raise NotFoundError(f"Athlete {athlete_id} was not found")
    return _row_to_dict(row)


def list_athletes(cur) -> list[dict]:
    return [_row_to_dict(r) for r in cur.execute(f"SELECT {_COLUMNS} FROM athletes ORDER BY id").fetchall()]  # noqa: S608 — identifiers from module constants


def athlete_table(cur) -> list[dict]:
    """Every athlete's id, name, FTP, max HR and fitness level (the command line's table). No timestamp: reading
    one imports zoneinfo, a fair part of a light command's start (issue 17)."""
    keys = ("id", "name", "ftp_w", "max_hr", "fitness_level")
    # Sorted here by id: a process's first ORDER BY costs DuckDB a few milliseconds, as much as the query.
    rows = cur.execute("SELECT id, name, ftp_w, max_hr, fitness_level FROM athletes").fetchall()
    return [dict(zip(keys, row, strict=True)) for row in sorted(rows)]


def first_athlete_id(cur) -> int | None:
    row = cur.execute("SELECT min(id) FROM athletes").fetchone()
    return row[0]


def ftp_on(cur, athlete_id: int, day: date) -> float | None:
    """The FTP in force on ``day`` (latest history entry on or before it; else the earliest; else profile)."""
    row = cur.execute(
        "SELECT ftp_w FROM athlete_ftp_history WHERE athlete_id = ? AND effective_from <= ? "
        "ORDER BY effective_from DESC LIMIT 1", [athlete_id, day]).fetchone()
    if row is None:
        row = cur.execute(
            "SELECT ftp_w FROM athlete_ftp_history WHERE athlete_id = ? ORDER BY effective_from LIMIT 1",
            [athlete_id]).fetchone()
    if row is None:
        row = cur.execute("SELECT ftp_w FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    return row[0] if row else None


def ftp_by_day(cur, athlete_id: int):
    """``ftp_on`` for many days from one read: a function day → FTP (a power model's fit asks for every effort's
    day, ten queries or more per fit)."""
    import bisect

    history = cur.execute("SELECT effective_from, ftp_w FROM athlete_ftp_history WHERE athlete_id = ? "
                          "ORDER BY effective_from", [athlete_id]).fetchall()
    if not history:
        row = cur.execute("SELECT ftp_w FROM athletes WHERE id = ?", [athlete_id]).fetchone()
        profile = row[0] if row else None
        return lambda day: profile
    days = [day for day, _ in history]

    def ftp(day: date) -> float | None:
        at = bisect.bisect_right(days, day) - 1  # the latest entry on or before the day, else the earliest
        return history[max(at, 0)][1]

    return ftp


def data_summary(cur, athlete_id: int) -> dict:
    """Counts and span shown on the Settings page."""
    rides, first, last, dist = cur.execute(
        "SELECT count(*), min(started_at), max(started_at), coalesce(sum(distance_m), 0) FROM rides "
        "WHERE athlete_id = ? AND duplicate_of IS NULL", [athlete_id]).fetchone()
    routes = cur.execute("SELECT count(*) FROM routes WHERE athlete_id = ? AND kind = 'planned'",
                         [athlete_id]).fetchone()[0]
    # A plan is a chain of versions (version 1 starts one, a branch too); templates are not plans.
    plans, plan_versions = cur.execute(
        "SELECT count(*) FILTER (WHERE version = 1), count(*) FROM plans WHERE athlete_id = ? AND NOT is_template",
        [athlete_id]).fetchone()
    rules = cur.execute("SELECT count(*) FROM rules WHERE athlete_id = ?", [athlete_id]).fetchone()[0]
    return {"rides": rides, "first_ride_at": first, "last_ride_at": last, "distance_km": dist / 1000,
            "routes": routes, "plans": plans, "plan_versions": plan_versions, "rules": rules}


def delete_athlete(cur, athlete_id: int, *, confirm_name: str) -> dict:
    """Delete an athlete with everything of theirs (every table linked to athletes in core.store.db.LINKS, with its
    children), in one transaction. ``confirm_name`` must be the athlete's name as stored (the rider typed it); the
    only athlete cannot be deleted (the app needs one). Returns rows deleted per table. Garmin token folders are the
    garmin package's to remove first (core.garmin.accounts.delete_athlete_with_accounts)."""
    athlete = get_athlete(cur, athlete_id)
    if (confirm_name or "").strip() != athlete["name"]:
        raise VCValidationError(f"Type the athlete's name, “{athlete['name']}”, to delete them. Nothing was deleted.")
    if cur.execute("SELECT count(*) FROM athletes").fetchone()[0] <= 1:
        raise VCValidationError("This is the only athlete: create another one first. Nothing was deleted.")
    before = table_counts(cur)
    with transaction(cur):
        for child, column, parent in LINKS:
            if parent != "athletes" or column != "athlete_id":
                continue
            # table names from LINKS/CHILDREN (module constants); the athlete id is a parameter
            if child in CHILDREN:
                ids = [r[0] for r in cur.execute(f"SELECT id FROM {child} WHERE athlete_id = ?",  # noqa: S608
                                                 [athlete_id]).fetchall()]
                delete_with_children(cur, child, ids)
            else:
                cur.execute(f"DELETE FROM {child} WHERE athlete_id = ?", [athlete_id])  # noqa: S608
        cur.execute("DELETE FROM athletes WHERE id = ?", [athlete_id])
        audit(cur, "delete", "athlete", athlete_id, None, name=athlete["name"])
        bump_data_version(cur)
    after = table_counts(cur)
    return {table: before[table] - after.get(table, 0) for table in before
            if table != "audit_log" and before[table] != after.get(table, 0)}


def hard_includes_sweet_spot(cur, athlete_id: int) -> bool:
    """Settings: does sweet spot count as "hard" in this athlete's rules (yes unless the rider said no)?"""
    row = cur.execute("SELECT hard_includes_sweet_spot FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Athlete {athlete_id} was not found")
    return bool(row[0])


def set_hard_includes_sweet_spot(cur, athlete_id: int, value: bool) -> None:
    """Change what "hard" covers in the athlete's rules; saved rules keep the group name, so they follow."""
    hard_includes_sweet_spot(cur, athlete_id)  # the athlete exists
    with transaction(cur):
        cur.execute("UPDATE athletes SET hard_includes_sweet_spot = ? WHERE id = ?", [bool(value), athlete_id])
        audit(cur, "update", "athlete", athlete_id, athlete_id, fields=["hard_includes_sweet_spot"])
        bump_data_version(cur)


# ----------------------------------------------------------------------------------------------------- privacy
def privacy_zones(cur, athlete_id: int) -> list[PrivacyZone]:
    """The athlete's privacy zones (validated when saved; an unreadable stored value counts as none)."""
    from pydantic import ValidationError

    from core.athletes.profile import PRIVACY_ZONES

    row = cur.execute("SELECT preferences FROM athletes WHERE id = ?", [athlete_id]).fetchone()
    try:
        return PRIVACY_ZONES.validate_python((json.loads(row[0]) if row and row[0] else {}).get("privacy_zones") or [])
    except (ValidationError, ValueError):
        return []


def set_privacy_zones(cur, athlete_id: int, zones: list[dict | PrivacyZone]) -> list[PrivacyZone]:
    """Replace the athlete's privacy zones (validated: a bad one raises ValidationError naming what is wrong and
    nothing is saved)."""
    from core.athletes.profile import PRIVACY_ZONES, PrivacyZone, validate_profile

    athlete = get_athlete(cur, athlete_id)
    prefs = {**athlete["preferences"],
             "privacy_zones": [z.model_dump() if isinstance(z, PrivacyZone) else z for z in zones]}
    checked = validate_profile(name=athlete["name"], preferences=prefs).preferences
    with transaction(cur):
        cur.execute("UPDATE athletes SET preferences = ? WHERE id = ?", [json.dumps(checked), athlete_id])
        audit(cur, "update", "athlete", athlete_id, athlete_id, fields=["privacy_zones"], zones=len(zones))
    return PRIVACY_ZONES.validate_python(checked["privacy_zones"])


def private_points(lat, lon, zones: list[PrivacyZone]) -> np.ndarray:
    """True for every point inside one of ``zones`` (haversine distance to the zone's centre ≤ its radius)."""
    import numpy as np

    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    hidden = np.zeros(lat.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for zone in zones:
            p1, p2 = np.radians(lat), np.radians(zone.lat)
            a = (np.sin((p2 - p1) / 2) ** 2
                 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(zone.lon - lon) / 2) ** 2)
            hidden |= 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1))) <= zone.radius_m
    return hidden


def without_private(lat, lon, zones: list[PrivacyZone]) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``lat``/``lon`` with the points inside ``zones`` set to NaN (a map draws the gaps as gaps)."""
    import numpy as np

    lat = np.array(lat, dtype=np.float64)
    lon = np.array(lon, dtype=np.float64)
    if zones:
        hidden = private_points(lat, lon, zones)
        lat[hidden] = np.nan
        lon[hidden] = np.nan
    return lat, lon


def shared_gpx(cur, athlete_id: int, kind: str, item_id: int) -> tuple[str, bytes]:
    """A ride or route as GPX for sharing: a ride leaves out every point inside the athlete's privacy zones
    (a planned route is the rider's own drawing and is written whole). Backups always keep everything."""
    from core.store.gpx_export import export_gpx

    zones = privacy_zones(cur, athlete_id)
    hide = (lambda lat, lon: private_points(lat, lon, zones)) if zones else None
    return export_gpx(cur, athlete_id, kind, item_id, hide)
