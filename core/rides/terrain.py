"""Bringing stored rides and routes up to the current terrain method (``TERRAIN_VERSION``): elevation gain,
sections, climbs, efforts and intervals recomputed from the stored samples and points.

Migration 006 marks every older row with version 0; ``refresh_terrain`` recomputes those: the app at start for
the newest ``STARTUP_RIDES`` (~0.1–0.3 s a ride, so a start never waits long), the Climbs page's button and
``python -m core terrain refresh`` for the rest. Planned routes first, so rides are matched against the climbs of
every route; then rides newest first (a climb found later is backfilled into older rides anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.routes.sections import TERRAIN_VERSION
from core.store.db import bump_data_version, transaction

log = logging.getLogger(__name__)

STARTUP_RIDES = 200


def stale_counts(cur, athlete_id: int | None = None) -> dict:
    """How many rides (with samples) and planned routes an older terrain method computed."""
    who = "" if athlete_id is None else " AND athlete_id = ?"
    params = [TERRAIN_VERSION] + ([] if athlete_id is None else [athlete_id])
    rides = cur.execute("SELECT count(*) FROM rides WHERE duplicate_of IS NULL AND coalesce(terrain_version, 0) < ? "  # noqa: S608
                        "AND EXISTS (SELECT 1 FROM ride_samples s WHERE s.ride_id = rides.id)" + who,
                        params).fetchone()[0]
    routes = cur.execute("SELECT count(*) FROM routes WHERE kind = 'planned' AND coalesce(terrain_version, 0) < ?"  # noqa: S608
                         + who, params).fetchone()[0]
    return {"rides": rides, "routes": routes}


def refresh_terrain(cur, athlete_id: int | None = None, *, limit: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict:
    """Recompute stale routes and rides (all athletes, or one), each in its own transaction so a long refresh
    keeps what it finished. Returns counts."""
    from core.rides.store import recompute_metrics, sync_terrain
    from core.routes.store import resection_route

    who = "" if athlete_id is None else " AND athlete_id = ?"
    params = [] if athlete_id is None else [athlete_id]
    routes = cur.execute("SELECT id FROM routes WHERE kind = 'planned' AND coalesce(terrain_version, 0) < ?"  # noqa: S608
                         + who + " ORDER BY id", [TERRAIN_VERSION, *params]).fetchall()
    # Rides known by their summary only (no samples) keep their figures: there is nothing to recompute.
    with transaction(cur):
        cur.execute("UPDATE rides SET terrain_version = ? WHERE coalesce(terrain_version, 0) < ? AND NOT EXISTS "  # noqa: S608
                    "(SELECT 1 FROM ride_samples s WHERE s.ride_id = rides.id)" + who, [TERRAIN_VERSION,
                                                                                       TERRAIN_VERSION, *params])
    rides = cur.execute(
        "SELECT id, athlete_id, route_id, coalesce(name, 'Ride') FROM rides WHERE duplicate_of IS NULL AND "  # noqa: S608
        "coalesce(terrain_version, 0) < ?" + who + " ORDER BY started_at DESC NULLS LAST, id DESC",
        [TERRAIN_VERSION, *params]).fetchall()
    if limit is not None:
        rides = rides[:limit]
    total = len(routes) + len(rides)
    done = 0
    for (route_id,) in routes:
        resection_route(cur, route_id)
        done += 1
        if progress:
            progress(done, total)
    for ride_id, owner, route_id, name in rides:
        with transaction(cur):
            if route_id is not None:
                resection_route(cur, route_id)
            recompute_metrics(cur, owner, [ride_id])
            sync_terrain(cur, owner, ride_id, name)
            bump_data_version(cur)
        done += 1
        if progress:
            progress(done, total)
    if total:
        log.info("terrain refreshed: %d routes, %d rides", len(routes), len(rides))
    return {"routes": len(routes), "rides": len(rides)}
