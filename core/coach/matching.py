"""Rides matched to planned workouts (``planned_workouts.completed_ride_id``), idempotently: same day, cheapest
pair by duration and intensity (see core/coach/analysis.py for the cost)."""

from __future__ import annotations

import math
from datetime import date

from core.errors import NotFoundError
from core.store.db import bump_data_version, transaction

# ------------------------------------------------------------------------------------------------------------
# Matching rides to planned workouts
# ------------------------------------------------------------------------------------------------------------

def plan_id_or_active(cur, athlete_id: int, plan_id: int | None) -> int | None:
    from core.rides.totals import active_plan  # plain SQL: an import does not load the dashboard's pandas

    if plan_id is not None:
        row = cur.execute("SELECT id FROM plans WHERE id = ? AND athlete_id = ?", [plan_id, athlete_id]).fetchone()
        if row is None:
            raise NotFoundError(f"Plan {plan_id} was not found")
        return plan_id
    plan = active_plan(cur, athlete_id)
    return plan["id"] if plan else None


def _match_cost(ride_min: float, ride_if: float | None, planned_min: float, kind: str) -> float:
    from core.coach.plans.schema import SESSION_IF

    cost = abs(math.log(max(ride_min, 1.0) / max(planned_min, 1.0)))
    if ride_if is not None and kind in SESSION_IF:
        cost += 2 * abs(ride_if - SESSION_IF[kind])
    return cost


def link_completed_rides(cur, athlete_id: int, plan_id: int | None = None) -> int:
    """Set ``planned_workouts.completed_ride_id`` for the plan's (default: the active plan's) workouts on days
    with a cycling ride. Returns the number of new links; existing links are kept, so it is idempotent. Call it
    after an import or a sync, and before analysing a ride."""
    from core.rides.store import CYCLING_TYPES

    plan_id = plan_id_or_active(cur, athlete_id, plan_id)
    if plan_id is None:
        return 0
    workouts = cur.execute(
        "SELECT id, date, type, duration_min, completed_ride_id FROM planned_workouts "
        "WHERE plan_id = ? AND type <> 'rest' ORDER BY date, id", [plan_id]).fetchall()
    if not workouts:
        return 0
    first, last = workouts[0][1], workouts[-1][1]
    rides = cur.execute(
        "SELECT id, CAST(started_at AS DATE) AS day, coalesce(moving_time_s, elapsed_time_s, 0) / 60.0, "
        "intensity_factor FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL "
        "AND sport_type IN (SELECT unnest(?)) AND CAST(started_at AS DATE) BETWEEN ? AND ? ORDER BY started_at, id",
        [athlete_id, list(CYCLING_TYPES), first, last]).fetchall()
    used = {w[4] for w in workouts if w[4] is not None}
    rides_by_day: dict[date, list] = {}
    for ride in rides:
        if ride[0] not in used:
            rides_by_day.setdefault(ride[1], []).append(ride)
    open_by_day: dict[date, list] = {}
    for w in workouts:
        if w[4] is None and w[1] in rides_by_day:
            open_by_day.setdefault(w[1], []).append(w)
    links: list[tuple[int, int]] = []
    for day, open_workouts in open_by_day.items():
        pairs = sorted((_match_cost(r[2], r[3], w[3], w[2]), w[0], r[0])
                       for w in open_workouts for r in rides_by_day[day])
        taken_w: set[int] = set()
        taken_r: set[int] = set()
        for _, wid, rid in pairs:
            if wid not in taken_w and rid not in taken_r:
                taken_w.add(wid)
                taken_r.add(rid)
                links.append((wid, rid))
    from core.coach.compliance import store_compliance

    # New links, and completed rides with nothing stored yet (a database from before migration 011): the keys of
    # the others are checked when the ride is read, not on every import.
    completed = [rid for _, rid in links] + [r[0] for r in cur.execute(
        "SELECT DISTINCT w.completed_ride_id FROM planned_workouts w JOIN rides r ON r.id = w.completed_ride_id "
        "WHERE w.plan_id = ? AND r.compliance_key IS NULL", [plan_id]).fetchall()]
    with transaction(cur):
        for wid, rid in links:  # a handful of rows per import: plain UPDATEs are fine
            cur.execute("UPDATE planned_workouts SET completed_ride_id = ? WHERE id = ? AND "
                        "completed_ride_id IS NULL", [rid, wid])
        # Each completed ride keeps its compliance (only those new or stale are computed), so reading a ride
        # later is one query (issue 17).
        store_compliance(cur, athlete_id, completed)
        if links:
            bump_data_version(cur)
    return len(links)
