"""Compliance per interval: a ride that completed a planned structured workout (``planned_workouts.
completed_ride_id``) has its work bouts (core.rides.intervals) matched to the workout's work steps
(core.coach.workouts), and each step is judged on its own: target % FTP against what was held, planned against
ridden duration.

Work steps are ``work`` steps and ``steady`` steps at tempo or above (≥ 76 % FTP), in riding order, repeats
expanded. Bouts are found with thresholds taken from the workout itself (on at 90 % of its easiest work
target, off 10 points lower), so a tempo session's bouts are found although tempo is below the default trigger.
Steps and bouts are paired in order by dynamic programming (an edit distance: pairing costs the difference of
duration (log ratio) and intensity; leaving a step unpaired — missed — or a bout unpaired — an extra effort —
costs a fixed penalty), so one skipped or extra interval does not shift every later judgement.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.coach.workouts import Step

# The workout models (pydantic) and the stream stack (numpy) are imported where used: most rides completed no
# structured workout, and ``ride ID`` then learns that from one query without loading either (issue 17).

WORK_MIN_PCT = 76.0
POWER_TOLERANCE_PCT = 3.0      # % FTP either side of the step's target range
DURATION_TOLERANCE = 0.10      # ± 10 % of the planned duration (at least 15 s)
MISS_COST, EXTRA_COST = 1.5, 0.6


def work_steps(items) -> list[tuple[int, Step]]:
    """(offset_s, step) of every work step in riding order."""
    from core.coach.workouts import flatten

    out, offset = [], 0
    for step in flatten(items):
        if step.kind == "work" or (step.kind == "steady" and step.mean_pct >= WORK_MIN_PCT):
            out.append((offset, step))
        offset += step.duration_s
    return out


def _pair_cost(step: Step, bout: dict) -> float:
    duration = abs(math.log(max(bout["duration_s"], 1.0) / step.duration_s))
    intensity = abs((bout.get("pct_ftp") or 0.0) - step.mean_pct) / 25.0
    return duration + intensity


def align(steps: list[Step], bouts: list[dict]) -> list[int | None]:
    """For each step, the index of its bout (or None): an order-preserving pairing of least total cost."""
    m, n = len(steps), len(bouts)
    cost = [[0.0] * (n + 1) for _ in range(m + 1)]
    move = [[""] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        cost[i][0], move[i][0] = i * MISS_COST, "miss"
    for j in range(1, n + 1):
        cost[0][j], move[0][j] = j * EXTRA_COST, "extra"
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            options = ((cost[i - 1][j - 1] + _pair_cost(steps[i - 1], bouts[j - 1]), "pair"),
                       (cost[i - 1][j] + MISS_COST, "miss"), (cost[i][j - 1] + EXTRA_COST, "extra"))
            cost[i][j], move[i][j] = min(options)
    pairs: list[int | None] = [None] * m
    i, j = m, n
    while i > 0 or j > 0:
        step = move[i][j]
        if step == "pair":
            pairs[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif step == "miss":
            i -= 1
        else:
            j -= 1
    return pairs


def judge(items, bouts: list[dict], ftp_w: float | None) -> dict:
    """Per work step: target, what was ridden and the verdicts; with a summary line."""
    steps = work_steps(items)
    pairs = align([s for _, s in steps], bouts)
    rows = []
    for number, ((offset, step), index) in enumerate(zip(steps, pairs, strict=True), start=1):
        low, high = sorted((step.power_low_pct, step.power_high_pct))
        row = {"step": number, "planned_offset_s": offset, "planned_s": step.duration_s,
               "target_low_pct": low, "target_high_pct": high,
               "target_w": [round(low * ftp_w / 100), round(high * ftp_w / 100)] if ftp_w else None,
               "interval": None, "achieved_pct": None, "power": "missed", "duration": "missed"}
        if index is not None:
            bout = bouts[index]
            pct = bout.get("pct_ftp")
            row["interval"] = {k: bout.get(k) for k in ("start_s", "duration_s", "avg_power_w", "np_w", "avg_hr",
                                                        "avg_cadence")}
            row["achieved_pct"] = pct
            if pct is None:
                row["power"] = "no power"
            else:
                row["power"] = ("under" if pct < low - POWER_TOLERANCE_PCT else
                                "over" if pct > high + POWER_TOLERANCE_PCT else "on target")
            slack = max(DURATION_TOLERANCE * step.duration_s, 15.0)
            gap = bout["duration_s"] - step.duration_s
            row["duration"] = "short" if gap < -slack else "long" if gap > slack else "as planned"
        rows.append(row)
    on_target = sum(1 for r in rows if r["power"] == "on target" and r["duration"] == "as planned")
    summary = (f"{on_target} of {len(rows)} work intervals on target (power within "
               f"±{POWER_TOLERANCE_PCT:g} % FTP of the step, duration within ±{DURATION_TOLERANCE:.0%})"
               if rows else "The workout has no work intervals to judge.")
    return {"steps": rows, "on_target": on_target, "work_steps": len(rows),
            "extra_intervals": len(bouts) - sum(1 for p in pairs if p is not None), "summary": summary}


# ------------------------------------------------------------------------------------------------ storage


def planned_workout(cur, workout_id: int, plans: dict | None = None) -> dict | None:
    """The planned workout as the rider was given it, before validation: its row, overlaid by its entry in the
    plan JSON (where ``steps`` live), else ``steps`` from a ``steps`` column or its targets. Plain JSON (no
    models), so it also keys the stored compliance. ``plans`` caches parsed plan bodies by plan id across calls."""
    # Every column: a ``steps`` column is used when the table has one (one read; a catalog query first cost as
    # much again).
    result = cur.execute("SELECT * FROM planned_workouts WHERE id = ?", [workout_id])
    row = result.fetchone()
    if row is None:
        return None
    record = dict(zip((column[0] for column in result.description), row, strict=True))
    targets, plan_id, day, kind = record["targets"], record["plan_id"], record["date"], record["type"]
    minutes, description, column = record["duration_min"], record["description"], record.get("steps")
    targets = json.loads(targets or "{}") or {}
    workout = {"date": str(day), "type": kind, "duration_min": minutes, "target": targets,
               "description": description, "steps": column if column is not None else targets.get("steps")}
    plans = {} if plans is None else plans
    if plan_id not in plans:
        text = cur.execute("SELECT plan FROM plans WHERE id = ?", [plan_id]).fetchone()
        try:
            plans[plan_id] = json.loads((text and text[0]) or "{}")
        except ValueError:
            plans[plan_id] = {}
    body = plans[plan_id]
    for week in body.get("weeks", []) if isinstance(body, dict) else []:
        for w in week.get("workouts", []) if isinstance(week, dict) else []:
            if isinstance(w, dict) and str(w.get("date", ""))[:10] == str(day) and w.get("type") == kind:
                workout = {**workout, **w, "steps": w.get("steps") or workout["steps"]}
    return workout


def resolved_steps(workout: dict | None) -> list | None:
    """The structured steps of a planned workout (planned_workout) — the same ones its device files carry
    (core.coach.devices.workout_steps: its own ``steps``, else the documented fallback from its type, duration
    and target). None for a rest day or steps that do not validate."""
    from pydantic import ValidationError as PydanticError

    from core.coach.devices import workout_steps as device_steps
    from core.errors import VeloCoachError

    if workout is None:
        return None
    if isinstance(workout["steps"], str):
        try:
            workout = {**workout, "steps": json.loads(workout["steps"])}
        except ValueError:
            return None
    try:
        return device_steps(workout) or None
    except (VeloCoachError, PydanticError, TypeError, ValueError):
        return None


def workout_steps(cur, workout_id: int) -> list | None:
    """The structured steps the rider was given for a planned workout (see planned_workout, resolved_steps)."""
    return resolved_steps(planned_workout(cur, workout_id))


# Part of every stored compliance's key: a change to how compliance is judged makes every stored one stale.
COMPLIANCE_VERSION = 1


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _completed_workout(cur, athlete_id: int, ride_id: int):
    """(workout id, type, day, ride start, stored compliance, its key) of the workout the ride completed (the
    active plan's first), or None. Picked here from the few rows: a process's first ORDER BY costs DuckDB more
    than the read (``ride ID`` starts about as fast as DuckDB, issue 17)."""
    rows = cur.execute(
        "SELECT w.id, w.type, w.date, r.started_at, r.compliance, r.compliance_key, p.active FROM planned_workouts w "
        "JOIN plans p ON p.id = w.plan_id JOIN rides r ON r.id = w.completed_ride_id "
        "WHERE w.completed_ride_id = ? AND p.athlete_id = ?", [ride_id, athlete_id]).fetchall()
    if not rows:
        return None
    return min(rows, key=lambda row: (not row[6], row[0]))[:6]  # active (NOT NULL) first, then the lowest id


def _key(ride_id: int, workout: dict | None, ftp: float | None) -> str:
    text = json.dumps([COMPLIANCE_VERSION, ride_id, workout, ftp], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _compute(cur, ride_id: int, workout_id: int, kind: str, day, ftp: float | None,
             workout: dict | None) -> dict | None:
    from core.rides.intervals import find_intervals
    from core.rides.metrics import clean_absurd, resample_1hz
    from core.rides.store import streams_from_samples

    items = resolved_steps(workout)
    if not items:
        return None
    streams = streams_from_samples(cur, ride_id)
    if streams is None:
        return None
    power, _ = clean_absurd("power", streams.power)
    grid, series = resample_1hz(streams.t_s, {"power": power, "hr": streams.hr, "cadence": streams.cadence,
                                              "speed": streams.speed})
    easiest = min((s.power_low_pct or s.mean_pct for _, s in work_steps(items)), default=88.0)
    on = max(0.5, 0.9 * easiest / 100.0)
    bouts = find_intervals(grid, power=series["power"], hr=series["hr"], cadence=series["cadence"],
                           speed=series["speed"], ftp_w=ftp, on_frac=on, off_frac=on - 0.10)
    result = judge(items, bouts, ftp)
    return {"workout_id": workout_id, "workout_type": kind, "date": day, "ftp_w": ftp, **result}


def _inputs(cur, athlete_id: int, ride_id: int, plans: dict | None = None):
    from core.athletes import ftp_on

    row = _completed_workout(cur, athlete_id, ride_id)
    if row is None:
        return None
    workout_id, kind, day, started_at, stored, stored_key = row
    workout = planned_workout(cur, workout_id, plans)
    ftp = ftp_on(cur, athlete_id, started_at.date() if started_at else date.today())
    return workout_id, kind, day, ftp, workout, _key(ride_id, workout, ftp), stored, stored_key


def ride_compliance(cur, athlete_id: int, ride_id: int) -> dict | None:
    """Per-interval compliance of a ride against the structured workout it completed; None when the ride
    completed no workout with steps. The compliance stored when the ride was linked is returned while its key
    (the workout as planned, the FTP of the day) still matches; otherwise it is computed from the samples."""
    inputs = _inputs(cur, athlete_id, ride_id)
    if inputs is None:
        return None
    workout_id, kind, day, ftp, workout, key, stored, stored_key = inputs
    if stored_key == key:
        result = json.loads(stored)
        if result is not None:
            result["date"] = date.fromisoformat(result["date"])
        return result
    return _compute(cur, ride_id, workout_id, kind, day, ftp, workout)


def store_compliance(cur, athlete_id: int, ride_ids) -> int:
    """Compute and keep the compliance of these rides (those that completed a workout and whose stored one is
    stale or missing), inside the caller's transaction. Returns how many were computed."""
    plans: dict = {}
    computed = 0
    for ride_id in ride_ids:
        inputs = _inputs(cur, athlete_id, ride_id, plans)
        if inputs is None:
            continue
        workout_id, kind, day, ftp, workout, key, _stored, stored_key = inputs
        if stored_key == key:
            continue
        result = _compute(cur, ride_id, workout_id, kind, day, ftp, workout)
        cur.execute("UPDATE rides SET compliance = ?, compliance_key = ? WHERE id = ?",
                    [json.dumps(result, default=_json_value), key, ride_id])
        computed += 1
    return computed
