"""The rider's known climbs (table ``climbs``): climb sections of their planned routes and climbs found in their
rides, each stored once with its shape and bounding box.

A climb section becomes a known climb unless a known climb already covers it (the matcher finds that climb on
the same track over more than half of the section). Candidates for any track are picked in SQL by bounding box
first (``candidates``), so matching cost grows with the climbs near a ride, not with the size of the history.
Efforts on climbs belong to rides (core.rides.efforts).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from core.errors import NotFoundError, ValidationError
from core.routes.climb_match import (
    CHECKPOINT_TOLERANCE_M,
    GATE_HALF_WIDTH_M,
    SHAPE_STEP_M,
    Track,
    TrackCells,
    climb_shape,
    find_passages,
    local_xy,
    overlap_fraction,
)
from core.store.db import audit, bump_data_version, delete_with_children, transaction

MIN_KNOWN_CLIMB_M = 300.0          # shorter climbs (walls) are shown in sections but not timed as climbs
COVERED_FRACTION = 0.5
_DEG_LAT_M = 111_320.0


@dataclass(frozen=True)
class KnownClimb:
    id: int
    name: str
    length_m: float
    gain_m: float
    avg_grade_pct: float
    shape: np.ndarray


def margin_deg(lat: float, metres: float = CHECKPOINT_TOLERANCE_M * 2) -> tuple[float, float]:
    """(Δlat, Δlon) in degrees for ``metres`` around latitude ``lat``."""
    return metres / _DEG_LAT_M, metres / (_DEG_LAT_M * max(math.cos(math.radians(lat)), 0.01))


def candidates(cur, athlete_id: int, bbox: tuple[float, float, float, float] | None,
               near=None, *, both_ends: bool = True) -> list[KnownClimb]:
    """Known climbs whose bounding box meets ``bbox`` (min_lat, min_lon, max_lat, max_lon) widened by a margin:
    the only ones a track inside ``bbox`` can pass. ``near(lat, lon)`` (e.g. TrackCells.near) further keeps only
    climbs whose start and top (or, ``both_ends`` False, either) the track comes near — tested on the stored
    endpoints, so the shapes of the others are never read or parsed."""
    if bbox is None:
        return []
    dlat, dlon = margin_deg((bbox[0] + bbox[2]) / 2)
    rows = cur.execute(
        "SELECT id, start_lat, start_lon, end_lat, end_lon FROM climbs WHERE athlete_id = ? "
        "AND max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ? ORDER BY id",
        [athlete_id, bbox[0] - dlat, bbox[2] + dlat, bbox[1] - dlon, bbox[3] + dlon]).fetchall()
    combine = all if both_ends else any
    ids = [r[0] for r in rows if near is None or combine((near(r[1], r[2]), near(r[3], r[4])))]
    return known_climbs(cur, athlete_id, ids)


def known_climbs(cur, athlete_id: int, ids: list[int]) -> list[KnownClimb]:
    """The athlete's climbs among ``ids``, shapes parsed, in id order."""
    if not ids:
        return []
    rows = cur.execute("SELECT id, name, length_m, gain_m, avg_grade_pct, shape FROM climbs "
                       "WHERE athlete_id = ? AND id IN (SELECT unnest(?)) ORDER BY id", [athlete_id, ids]).fetchall()
    return [KnownClimb(r[0], r[1], r[2], r[3], r[4], np.asarray(json.loads(r[5]), dtype=np.float64).reshape(-1, 2))
            for r in rows]


def shared_fraction(shape: np.ndarray, other: np.ndarray, tolerance_m: float = GATE_HALF_WIDTH_M) -> float:
    """Share of ``shape``'s points within ``tolerance_m`` of ``other``'s line (its points, ~20 m apart)."""
    if len(shape) == 0 or len(other) == 0:
        return 0.0
    x, y = local_xy(shape[:, 0], shape[:, 1], float(shape[0, 0]), float(shape[0, 1]))
    ox, oy = local_xy(other[:, 0], other[:, 1], float(shape[0, 0]), float(shape[0, 1]))
    gap = np.hypot(x[:, None] - ox[None, :], y[:, None] - oy[None, :]).min(axis=1)
    return float(np.mean(gap <= tolerance_m + SHAPE_STEP_M / 2))


def _known_on(track: Track, climbs: list[KnownClimb], interval: tuple[float, float]) -> int | None:
    """A known climb covering this stretch of the track: one the track rides up over most of the stretch, or
    one whose road holds most of the stretch (a ride that stopped short of a known climb's top does not make
    a near-copy of it)."""
    shape = climb_shape(track.lat, track.lon, track.dist_m, *interval)
    if len(shape) < 2:
        return None
    dlat, dlon = margin_deg(float(shape[0, 0]))
    low, high = shape.min(axis=0) - (dlat, dlon), shape.max(axis=0) + (dlat, dlon)
    for climb in climbs:
        if np.any(climb.shape.max(axis=0) < low) or np.any(climb.shape.min(axis=0) > high):
            continue  # nowhere near this stretch
        for passage in find_passages(track, climb.shape, climb.length_m):
            if overlap_fraction((passage.start_m, passage.end_m), interval) > COVERED_FRACTION:
                return climb.id
        if shared_fraction(shape, climb.shape) > COVERED_FRACTION:
            return climb.id
    return None


def register_climbs(cur, athlete_id: int, track: Track, sections: list[dict], *, origin: str, name: str,
                    route_id: int | None = None, ride_id: int | None = None) -> list[int]:
    """Store the climb sections of a track (dicts with start_m, end_m, distance_m, avg_grade_pct, …) that no
    known climb covers yet; returns the new climb ids. Call inside the caller's transaction."""
    if origin not in ("route", "ride"):
        raise ValidationError(f"unknown climb origin {origin!r}")
    wanted = [s for s in sections if s["kind"] == "climb" and s["distance_m"] >= MIN_KNOWN_CLIMB_M
              and (s.get("avg_grade_pct") or 0) > 0]
    if not wanted:
        return []
    known = candidates(cur, athlete_id, track.bbox(), near=TrackCells(track).near, both_ends=False)
    new_ids = []
    for number, section in enumerate(wanted, start=1):
        interval = (float(section["start_m"]), float(section["end_m"]))
        if _known_on(track, known, interval) is not None:
            continue
        shape = climb_shape(track.lat, track.lon, track.dist_m, *interval)
        if len(shape) < 2:
            continue
        details = section.get("details") or {}
        gain = max(0.0, float(details.get("end_ele_m", 0) - details.get("start_ele_m", 0))) \
            or float(section["distance_m"] * section["avg_grade_pct"] / 100.0)
        label = f"{name} · climb {number} (km {interval[0] / 1000:.1f})"[:200]
        climb_id = cur.execute(
            "INSERT INTO climbs (athlete_id, name, origin, route_id, ride_id, length_m, gain_m, avg_grade_pct, "
            "max_grade_pct, category, top_ele_m, start_lat, start_lon, end_lat, end_lon, min_lat, min_lon, "
            "max_lat, max_lon, shape) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            [athlete_id, label, origin, route_id, ride_id, float(section["distance_m"]), gain,
             float(section["avg_grade_pct"]), section.get("max_grade_pct"), section.get("category"),
             details.get("top_ele_m"), float(shape[0, 0]), float(shape[0, 1]), float(shape[-1, 0]),
             float(shape[-1, 1]), float(shape[:, 0].min()), float(shape[:, 1].min()), float(shape[:, 0].max()),
             float(shape[:, 1].max()), json.dumps(np.round(shape, 6).tolist())]).fetchone()[0]
        new_ids.append(climb_id)
        known.append(KnownClimb(climb_id, label, float(section["distance_m"]), gain,
                                float(section["avg_grade_pct"]), shape))
    return new_ids


def get_climb(cur, athlete_id: int, climb_id: int) -> dict:
    row = cur.execute(
        "SELECT id, name, origin, route_id, ride_id, length_m, gain_m, avg_grade_pct, max_grade_pct, category, "
        "top_ele_m, start_lat, start_lon, end_lat, end_lon, shape FROM climbs WHERE id = ? AND athlete_id = ?",
        [climb_id, athlete_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Climb {climb_id} was not found")
    keys = ("id", "name", "origin", "route_id", "ride_id", "length_m", "gain_m", "avg_grade_pct",
            "max_grade_pct", "category", "top_ele_m", "start_lat", "start_lon", "end_lat", "end_lon", "shape")
    climb = dict(zip(keys, row, strict=True))
    climb["shape"] = json.loads(climb["shape"])
    return climb


def rename_climb(cur, athlete_id: int, climb_id: int, name: str) -> None:
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationError("A climb needs a name")
    get_climb(cur, athlete_id, climb_id)
    with transaction(cur):
        cur.execute("UPDATE climbs SET name = ? WHERE id = ?", [name, climb_id])
        audit(cur, "rename", "climb", climb_id, athlete_id, name=name)
        bump_data_version(cur)


def delete_climb(cur, athlete_id: int, climb_id: int) -> None:
    get_climb(cur, athlete_id, climb_id)
    with transaction(cur):
        delete_with_children(cur, "climbs", [climb_id])
        audit(cur, "delete", "climb", climb_id, athlete_id)
        bump_data_version(cur)


def forget_route(cur, route_ids: list[int]) -> None:
    """A deleted route's climbs stay known (their efforts are the rider's history) without their origin."""
    cur.execute("UPDATE climbs SET route_id = NULL WHERE route_id IN (SELECT unnest(?))", [route_ids])
