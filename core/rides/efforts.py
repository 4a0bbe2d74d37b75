"""Efforts on the rider's climbs (table ``climb_efforts``): every passage of a ride up a known climb, timed
between the exact crossings of the climb's start and top gates (core.routes.climb_match), with average power,
W/kg, VAM, heart rate and cadence over exactly that time; listed fastest first with personal records.

Matching a ride: the known climbs whose bounding box meets the ride's (SQL, core.routes.climbs.candidates), then
the matcher on those few. The ride's own climb sections that no known climb covers become known climbs, and
those new climbs are looked for in the rider's earlier rides (their recorded routes' bounding boxes in SQL,
then only the samples inside the climb's box), so a climb found today lists yesterday's efforts too.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np

from core.rides.queries import (  # noqa: F401 — the reading half, light for the command line
    climbs_report,
    effort_rows,
    list_climbs,
    ride_efforts,
)
from core.routes.climb_match import Passage, Track, TrackCells, find_passages, overlap_fraction
from core.routes.climbs import KnownClimb, candidates, get_climb, known_climbs, margin_deg, register_climbs

MAX_GAP_S = 10.0          # as core.rides.metrics: a longer hole in the samples is a pause, not data


class _Integral:
    """∫ value dt and the seconds with a value, from the first sample to any instant, for one stream: each sample
    holds until the next one, for at most MAX_GAP_S. Built once per stream, then O(log n) per instant."""

    def __init__(self, t: np.ndarray, values: np.ndarray):
        self.t, self.values = t, values
        dt = np.minimum(np.diff(t), MAX_GAP_S)
        v = values[:-1]
        ok = np.isfinite(v) & np.isfinite(dt) & (dt > 0)
        self.area = np.concatenate(([0.0], np.cumsum(np.where(ok, v * dt, 0.0))))
        self.covered = np.concatenate(([0.0], np.cumsum(np.where(ok, dt, 0.0))))

    def at(self, when: float) -> tuple[float, float]:
        t, values = self.t, self.values
        i = int(np.clip(np.searchsorted(t, when, side="right") - 1, 0, len(t) - 1))
        if i >= len(t) - 1:
            return float(self.area[-1]), float(self.covered[-1])
        held = min(when - t[i], MAX_GAP_S)
        if not (math.isfinite(values[i]) and held > 0):
            return float(self.area[i]), float(self.covered[i])
        return float(self.area[i] + values[i] * held), float(self.covered[i] + held)

    def mean(self, start_s: float, end_s: float) -> float | None:
        a0, c0 = self.at(start_s)
        a1, c1 = self.at(end_s)
        return (a1 - a0) / (c1 - c0) if c1 - c0 > 0 else None


def mean_between(t, values, start_s: float, end_s: float) -> float | None:
    """Time-weighted mean of a sample stream between two instants (fractions of a second count)."""
    if values is None:
        return None
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if len(t) < 2 or not np.isfinite(v).any():
        return None
    return _Integral(t, v).mean(start_s, end_s)


def _stream_mean(samples: dict, name: str, start_s: float, end_s: float) -> float | None:
    """mean_between over a samples dict, its integral built once per stream and kept in the dict."""
    cache = samples.setdefault("_integrals", {})
    if name not in cache:
        values = samples.get(name)
        if values is not None and name == "cadence":
            values = np.where(np.asarray(values, dtype=np.float64) > 0, values, np.nan)  # coasting excluded
        ok = values is not None and len(samples["t_s"]) >= 2 and np.isfinite(np.asarray(values, dtype=float)).any()
        cache[name] = _Integral(np.asarray(samples["t_s"], dtype=np.float64),
                                np.asarray(values, dtype=np.float64)) if ok else None
    integral = cache[name]
    return None if integral is None else integral.mean(start_s, end_s)


def effort_figures(samples: dict, passage: Passage, gain_m: float | None) -> dict:
    """An effort's figures over exactly the passage: time, distance, average power, HR, cadence and VAM."""
    time_s = passage.time_s
    return {
        "start_s": passage.start_s, "time_s": time_s, "distance_m": passage.distance_m,
        "avg_power_w": _stream_mean(samples, "power", passage.start_s, passage.end_s),
        "avg_hr": _stream_mean(samples, "hr", passage.start_s, passage.end_s),
        "avg_cadence": _stream_mean(samples, "cadence", passage.start_s, passage.end_s),
        "vam_m_h": gain_m / time_s * 3600.0 if gain_m and time_s > 0 else None,
    }


def _samples(cur, ride_id: int, bbox: tuple[float, float, float, float] | None = None) -> dict:
    """A ride's positioned samples as float arrays (only those inside ``bbox`` plus a margin when given)."""
    sql = ("SELECT t_s, CAST(lat AS DOUBLE) AS lat, CAST(lon AS DOUBLE) AS lon, dist_m, power, hr, cadence "
           "FROM ride_samples WHERE ride_id = ? AND lat IS NOT NULL")
    params: list = [ride_id]
    if bbox is not None:
        dlat, dlon = margin_deg((bbox[0] + bbox[2]) / 2)
        sql += " AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
        params += [bbox[0] - dlat, bbox[2] + dlat, bbox[1] - dlon, bbox[3] + dlon]
    table = cur.execute(sql + " ORDER BY t_s", params).fetchnumpy()
    return {k: np.ma.filled(np.ma.asarray(table[k], dtype=np.float64), np.nan) for k in table}


def _track(samples: dict) -> Track:
    return Track.of(samples["lat"], samples["lon"], samples["dist_m"], samples["t_s"])


_EFFORT_FIELDS = ("start_s", "time_s", "distance_m", "avg_power_w", "avg_hr", "avg_cadence", "vam_m_h")


def _insert(cur, rows: list[tuple[int, int, object, dict]]) -> None:
    """Store efforts, (climb id, ride id, ride start, figures) each, in one statement (lists zipped by unnest)."""
    if not rows:
        return
    columns = [[r[0] for r in rows], [r[1] for r in rows],
               [None if r[2] is None else r[2] + timedelta(seconds=float(r[3]["start_s"])) for r in rows]]
    columns += [[round(r[3][k], 3) if k == "start_s" else r[3][k] for r in rows] for k in _EFFORT_FIELDS]
    cur.execute(
        "INSERT INTO climb_efforts (climb_id, ride_id, started_at, start_s, time_s, distance_m, avg_power_w, avg_hr, "
        "avg_cadence, vam_m_h) SELECT unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::TIMESTAMPTZ[]), "
        "unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), "
        "unnest(?::DOUBLE[]), unnest(?::DOUBLE[]) ON CONFLICT DO NOTHING", columns)


def _efforts_on(samples: dict, climb: KnownClimb) -> list[dict]:
    return [effort_figures(samples, p, climb.gain_m) for p in find_passages(_track(samples), climb.shape,
                                                                            climb.length_m)]


def known_passages(cur, athlete_id: int, track: Track) -> list[tuple[KnownClimb, list[Passage]]]:
    """Every known climb the track rides up, with its passages: SQL bounding-box candidates, then those whose
    start and top the track comes near (TrackCells), then the matcher."""
    cells = TrackCells(track)
    out = []
    for climb in candidates(cur, athlete_id, track.bbox(), near=cells.near):
        passages = find_passages(track, climb.shape, climb.length_m)
        if passages:
            out.append((climb, passages))
    return out


def match_ride(cur, athlete_id: int, ride_id: int, *, sections: list[dict] | None = None, name: str = "Ride",
               backfill: bool = True) -> dict:
    """Find every known climb on a stored ride (replacing its efforts), make its uncovered climb sections known
    climbs, and look for those in earlier rides. Call inside the caller's transaction. Returns counts."""
    row = cur.execute("SELECT started_at FROM rides WHERE id = ? AND athlete_id = ?", [ride_id, athlete_id]).fetchone()
    started_at = row[0] if row else None
    cur.execute("DELETE FROM climb_efforts WHERE ride_id = ?", [ride_id])
    samples = _samples(cur, ride_id)
    if len(samples["t_s"]) < 2:
        return {"efforts": 0, "new_climbs": 0, "backfilled": 0}
    track = _track(samples)
    rows = [(climb.id, ride_id, started_at, effort_figures(samples, p, climb.gain_m))
            for climb, passages in known_passages(cur, athlete_id, track) for p in passages]
    new_ids = register_climbs(cur, athlete_id, track, sections or [], origin="ride", name=name, ride_id=ride_id)
    new = known_climbs(cur, athlete_id, new_ids)
    rows += [(climb.id, ride_id, started_at, e) for climb in new for e in _efforts_on(samples, climb)]
    _insert(cur, rows)
    backfilled = sum(_backfill(cur, athlete_id, climb, exclude_ride=ride_id) for climb in new) if backfill else 0
    return {"efforts": len(rows), "new_climbs": len(new_ids), "backfilled": backfilled}


def _backfill(cur, athlete_id: int, climb: KnownClimb, exclude_ride: int | None = None) -> int:
    """Efforts on a newly known climb in the rider's earlier rides (bounding boxes in SQL first)."""
    bbox = (float(climb.shape[:, 0].min()), float(climb.shape[:, 1].min()), float(climb.shape[:, 0].max()),
            float(climb.shape[:, 1].max()))
    rides = cur.execute(
        "SELECT r.id, r.started_at FROM rides r JOIN routes ro ON ro.id = r.route_id WHERE r.athlete_id = ? "
        "AND r.duplicate_of IS NULL AND r.id <> ? AND ro.max_lat >= ? AND ro.min_lat <= ? AND ro.max_lon >= ? "
        "AND ro.min_lon <= ? ORDER BY r.id", [athlete_id, exclude_ride or -1, bbox[0], bbox[2], bbox[1], bbox[3]]
    ).fetchall()
    rows = []
    for ride_id, started_at in rides:
        samples = _samples(cur, ride_id, bbox)
        if len(samples["t_s"]) >= 2:
            rows += [(climb.id, ride_id, started_at, e) for e in _efforts_on(samples, climb)]
    _insert(cur, rows)
    return len(rows)


def backfill_route(cur, athlete_id: int, route_id: int) -> int:
    """Efforts in earlier rides on the climbs a planned route added (core.routes.store registered them)."""
    ids = [r[0] for r in cur.execute("SELECT id FROM climbs WHERE athlete_id = ? AND route_id = ? ORDER BY id",
                                     [athlete_id, route_id]).fetchall()]
    return sum(_backfill(cur, athlete_id, c) for c in known_climbs(cur, athlete_id, ids))


def prune_climbs(cur, athlete_id: int) -> int:
    """Forget climbs found in rides that are gone, with no effort left and no route behind them."""
    from core.store.db import delete_with_children

    ids = [r[0] for r in cur.execute(
        "SELECT id FROM climbs c WHERE athlete_id = ? AND route_id IS NULL AND ride_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM climb_efforts e WHERE e.climb_id = c.id)", [athlete_id]).fetchall()]
    return delete_with_children(cur, "climbs", ids)


def shared_passages(a: dict, b: dict, climbs: list[KnownClimb]) -> list[tuple[KnownClimb, Passage, Passage]]:
    """(climb, A's passage, B's passage) for each climb both tracks ride up (their first passages)."""
    ta, tb = _track(a), _track(b)
    out = []
    for climb in climbs:
        pa = find_passages(ta, climb.shape, climb.length_m)
        pb = find_passages(tb, climb.shape, climb.length_m)
        if pa and pb and not any(overlap_fraction((pa[0].start_m, pa[0].end_m), (x[1].start_m, x[1].end_m)) > 0.5
                                 for x in out):
            out.append((climb, pa[0], pb[0]))
    return out


# ------------------------------------------------------------------------------------------------ reading

def climb_efforts(cur, athlete_id: int, climb_id: int) -> list[dict]:
    """One climb's efforts, fastest first, each with ``rank`` and ``pr``."""
    get_climb(cur, athlete_id, climb_id)
    return effort_rows(cur, athlete_id, "climb_id = ?", [climb_id])
