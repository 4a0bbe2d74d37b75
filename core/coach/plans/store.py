"""Plans in the database: save, list, activate, delete, versions (save_version, rollback, branch, templates)
and week-by-week comparison."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
from pydantic import ValidationError

from core.coach.ai import record_verdict
from core.coach.plans.check import _as_dict
from core.coach.plans.generate import PlanResult, event_conflicts
from core.coach.plans.schema import PlanModel, PlanRequest, _pydantic_message
from core.coach.rules import (
    Constraint,
)
from core.errors import NotFoundError, PlanGenerationError
from core.store.db import audit, bump_data_version, delete_with_children, transaction

# ----------------------------------------------------------------------------------------------------------------
# Storage
# ----------------------------------------------------------------------------------------------------------------

_PLAN_COLUMNS = ("id", "athlete_id", "name", "description", "start_date", "end_date", "goal_type", "goals",
                 "preferences", "duration_weeks", "active", "version", "parent_plan_id", "is_template", "generator",
                 "plan", "created_at")
_PLAN_SELECT = ("SELECT id, athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
                "duration_weeks, active, version, parent_plan_id, is_template, generator, plan, created_at FROM plans")
_PLAN_LIST = ("SELECT id, athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
              "duration_weeks, active, version, parent_plan_id, is_template, generator, created_at FROM plans")


def _goal_type(request: PlanRequest) -> str:
    g = request.goals
    if g.route_id is not None:
        return "route"
    if g.event_type:
        return g.event_type
    if g.event_date:
        return "event"
    if g.target_ftp_w:
        return "ftp"
    if g.target_ctl:
        return "ctl"
    return "general_fitness"


def _insert_plan(cur, athlete_id: int, *, name: str, description: str | None, plan: dict, goal_type: str | None,
                 goals: dict, preferences: dict, version: int, parent_plan_id: int | None, is_template: bool,
                 generator: str, rules: list[dict]) -> int:
    weeks = plan["weeks"]
    start = date.fromisoformat(str(weeks[0]["start_date"]))
    end = date.fromisoformat(str(weeks[-1]["start_date"])) + timedelta(days=6)
    plan_id = cur.execute(
        "INSERT INTO plans (athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
        "duration_weeks, active, version, parent_plan_id, is_template, generator, plan) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?) RETURNING id",
        [athlete_id, name, description, start, end, goal_type, json.dumps(goals, default=str),
         json.dumps(preferences, default=str), len(weeks), version, parent_plan_id, is_template, generator,
         json.dumps(plan, default=str)]).fetchone()[0]
    for rule in rules:
        cur.execute("INSERT INTO plan_rules (plan_id, rule_id, rule_version) VALUES (?, ?, ?)",
                    [plan_id, rule["id"], rule["version"]])
    rows = [{"plan_id": plan_id, "date": date.fromisoformat(str(w["date"])[:10]), "type": w["type"],
             "duration_min": float(w["duration_min"]), "targets": json.dumps(w.get("target") or {}),
             "tss": float(w["tss"]), "description": w.get("description") or ""}
            for week in weeks for w in week["workouts"]]
    if rows:
        frame = pd.DataFrame(rows)
        cur.register("planned_workouts_frame", frame)
        try:
            cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, targets, tss, description) "
                        "SELECT plan_id, date, type, duration_min, targets::JSON, tss, description "
                        "FROM planned_workouts_frame")
        finally:
            cur.unregister("planned_workouts_frame")
    return plan_id


def save_plan(cur, athlete_id: int, result: PlanResult, *, name: str | None = None,
              description: str | None = None, activate: bool = False, accept_conflicts: bool = False) -> int:
    """Store a generated plan (version 1) with its rule versions and workouts; optionally make it active.

    A plan whose event day breaks a rule (``result.conflicts``, shown in the preview) is saved only with
    ``accept_conflicts``: the event stays on its day and the rider has seen why."""
    request = result.request
    if result.conflicts and not accept_conflicts:
        raise PlanGenerationError("The plan was not saved: " + " ".join(result.conflicts) +
                                  " Confirm to keep the event on its day, or change the rule or the date.")
    name = (name or request.name or "").strip()[:120] or \
        f"{request.duration_weeks}-week plan from {request.start_date:%d %b %Y}"
    goals = request.goals.model_dump(mode="json") | {"route_pacing": result.route_pacing,
                                                     "engine": result.engine, "conflicts": result.conflicts}
    with transaction(cur):
        plan_id = _insert_plan(
            cur, athlete_id, name=name, description=description or request.description, plan=result.plan,
            goal_type=_goal_type(request), goals=goals, preferences=request.user_preferences.model_dump(mode="json"),
            version=1, parent_plan_id=None, is_template=False, generator=result.generator, rules=result.rules)
        if activate:
            _activate(cur, athlete_id, plan_id)
        record_verdict(cur, getattr(result, "ai_call_id", None), True)
        audit(cur, "create", "plan", plan_id, athlete_id, generator=result.generator,
              conflicts=len(result.conflicts))
        bump_data_version(cur)
    return plan_id


def _plan_row(row) -> dict:
    data = dict(zip(_PLAN_COLUMNS, row, strict=False))
    for key in ("goals", "preferences", "plan"):
        if isinstance(data[key], str):
            data[key] = json.loads(data[key])
    return data


def get_plan(cur, plan_id: int, athlete_id: int | None = None) -> dict:
    row = cur.execute(_PLAN_SELECT + " WHERE id = ?", [plan_id]).fetchone()
    if row is None or (athlete_id is not None and row[1] != athlete_id):
        raise NotFoundError(f"Plan {plan_id} was not found")
    plan = _plan_row(row)
    plan["rules"] = [dict(zip(("id", "version", "name", "text"), r, strict=False)) for r in cur.execute(
        "SELECT pr.rule_id, pr.rule_version, r.name, r.text FROM plan_rules pr JOIN rules r ON r.id = pr.rule_id "
        "WHERE pr.plan_id = ? ORDER BY pr.rule_id", [plan_id]).fetchall()]
    return plan


def list_plans(cur, athlete_id: int, *, templates: bool = False) -> list[dict]:
    """Plans (without their JSON body), newest first."""
    cols = [c for c in _PLAN_COLUMNS if c != "plan"]
    rows = cur.execute(_PLAN_LIST + " WHERE athlete_id = ? AND is_template = ? ORDER BY id DESC",
                       [athlete_id, templates]).fetchall()
    out = []
    for row in rows:
        data = dict(zip(cols, row, strict=False))
        for key in ("goals", "preferences"):
            if isinstance(data[key], str):
                data[key] = json.loads(data[key])
        out.append(data)
    return out


def _activate(cur, athlete_id: int, plan_id: int) -> None:
    cur.execute("UPDATE plans SET active = false WHERE athlete_id = ? AND active AND id <> ?", [athlete_id, plan_id])
    cur.execute("UPDATE plans SET active = true WHERE id = ?", [plan_id])


def activate_plan(cur, athlete_id: int, plan_id: int) -> None:
    """Make this plan the athlete's one active plan."""
    plan = get_plan(cur, plan_id, athlete_id)
    if plan["is_template"]:
        raise PlanGenerationError("A template cannot be the active plan; make a plan from it first.")
    with transaction(cur):
        _activate(cur, athlete_id, plan_id)
        audit(cur, "activate", "plan", plan_id, athlete_id)
        bump_data_version(cur)


def deactivate_plan(cur, athlete_id: int, plan_id: int) -> None:
    get_plan(cur, plan_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE plans SET active = false WHERE id = ?", [plan_id])
        bump_data_version(cur)


def delete_plan(cur, athlete_id: int, plan_id: int) -> None:
    """Delete a plan with its workouts and rule links; its later versions and analyses stay, unlinked."""
    get_plan(cur, plan_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE plans SET parent_plan_id = NULL WHERE parent_plan_id = ?", [plan_id])
        cur.execute("UPDATE analyses SET plan_id = NULL WHERE plan_id = ?", [plan_id])
        delete_with_children(cur, "plans", [plan_id])
        audit(cur, "delete", "plan", plan_id, athlete_id)
        bump_data_version(cur)


def _constraints_for_plan(cur, plan: dict) -> list[Constraint]:
    from core.coach.rules import get_rule

    return [c for r in plan["rules"] for c in get_rule(cur, r["id"])["constraints"]]


def save_version(cur, athlete_id: int, plan_id: int, new_plan: dict, *, note: str | None = None) -> int:
    """Store an edited plan body as the next version of ``plan_id`` (validated against the schema and the
    plan's rules); the active flag moves to the new version."""
    old = get_plan(cur, plan_id, athlete_id)
    try:
        body = PlanModel(**_as_dict(new_plan)).plan_json()
    except ValidationError as exc:
        raise PlanGenerationError(f"The edited plan is not valid — {_pydantic_message(exc)}") from None
    event = (old["goals"] or {}).get("event_date")
    _, broken = event_conflicts(body, _constraints_for_plan(cur, old), date.fromisoformat(event) if event else None)
    if broken:  # the event on its day is the one exception, accepted when the plan was first saved
        raise PlanGenerationError("The edited plan breaks its rules: " + "; ".join(broken[:3]))
    latest = cur.execute("SELECT max(version) FROM plans WHERE id = ? OR parent_plan_id = ?",
                         [plan_id, plan_id]).fetchone()[0] or old["version"]
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=old["name"], description=note or old["description"], plan=body,
                              goal_type=old["goal_type"], goals=old["goals"], preferences=old["preferences"],
                              version=max(latest, old["version"]) + 1, parent_plan_id=plan_id,
                              is_template=old["is_template"], generator=old["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in old["rules"]])
        if old["active"]:
            _activate(cur, athlete_id, new_id)
        audit(cur, "version", "plan", new_id, athlete_id, parent=plan_id)
        bump_data_version(cur)
    return new_id


def rollback_plan(cur, athlete_id: int, plan_id: int, to_plan_id: int | None = None) -> int:
    """Roll back: a new version of ``plan_id`` whose body is that of ``to_plan_id`` (default: its parent)."""
    current = get_plan(cur, plan_id, athlete_id)
    target_id = to_plan_id or current["parent_plan_id"]
    if target_id is None:
        raise PlanGenerationError(f"Plan “{current['name']}” is the first version; there is nothing to roll back to.")
    target = get_plan(cur, target_id, athlete_id)
    return save_version(cur, athlete_id, plan_id, target["plan"], note=f"Rolled back to version {target['version']}")


def branch_plan(cur, athlete_id: int, plan_id: int, name: str, *, template: bool = False) -> int:
    """Copy a plan under a new name (version 1, parent recorded), or as a template."""
    old = get_plan(cur, plan_id, athlete_id)
    name = (name or "").strip()[:120]
    if not name:
        raise PlanGenerationError("Give the copy a name.")
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=name, description=old["description"], plan=old["plan"],
                              goal_type=old["goal_type"], goals=old["goals"], preferences=old["preferences"],
                              version=1, parent_plan_id=plan_id, is_template=template, generator=old["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in old["rules"]])
        audit(cur, "template" if template else "branch", "plan", new_id, athlete_id, parent=plan_id)
        bump_data_version(cur)
    return new_id


def plan_from_template(cur, athlete_id: int, template_id: int, start: date, name: str | None = None) -> int:
    """A new plan from a template, shifted to start on the Monday of ``start``."""
    template = get_plan(cur, template_id, athlete_id)
    start = start - timedelta(days=start.weekday())
    shift = start - date.fromisoformat(str(template["plan"]["weeks"][0]["start_date"]))
    body = json.loads(json.dumps(template["plan"]))
    for week in body["weeks"]:
        week["start_date"] = (date.fromisoformat(week["start_date"]) + shift).isoformat()
        for w in week["workouts"]:
            w["date"] = (date.fromisoformat(w["date"]) + shift).isoformat()
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=name or f"{template['name']} ({start:%d %b %Y})",
                              description=template["description"], plan=body, goal_type=template["goal_type"],
                              goals=template["goals"], preferences=template["preferences"], version=1,
                              parent_plan_id=template_id, is_template=False, generator=template["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in template["rules"]])
        audit(cur, "from_template", "plan", new_id, athlete_id, parent=template_id)
        bump_data_version(cur)
    return new_id


def plan_versions(cur, athlete_id: int, plan_id: int) -> list[dict]:
    """The chain of versions through ``plan_id`` (following parent links up, and same-name children down)."""
    root = get_plan(cur, plan_id, athlete_id)
    while root["parent_plan_id"] is not None:
        parent = get_plan(cur, root["parent_plan_id"], athlete_id)
        if parent["version"] >= root["version"]:
            break  # a branch starts a new chain
        root = parent
    chain, frontier = [root], [root["id"]]
    while frontier:
        rows = cur.execute("SELECT id FROM plans WHERE parent_plan_id IN (SELECT unnest(?)) AND version > 1 "
                           "ORDER BY id", [frontier]).fetchall()
        frontier = [r[0] for r in rows]
        chain.extend(get_plan(cur, i, athlete_id) for i in frontier)
    return [{k: p[k] for k in ("id", "name", "version", "parent_plan_id", "active", "created_at")} for p in chain]


def compare_plans(a: dict, b: dict) -> list[dict]:
    """Week-by-week differences between two plan bodies: hours, TSS and changed workouts."""
    a, b = _as_dict(a), _as_dict(b)
    out = []
    for n in range(max(len(a["weeks"]), len(b["weeks"]))):
        wa = a["weeks"][n] if n < len(a["weeks"]) else None
        wb = b["weeks"][n] if n < len(b["weeks"]) else None
        day_a = {w["date"]: (w["type"], w["duration_min"]) for w in (wa or {}).get("workouts", [])}
        day_b = {w["date"]: (w["type"], w["duration_min"]) for w in (wb or {}).get("workouts", [])}
        changed = [{"date": d, "before": day_a.get(d), "after": day_b.get(d)}
                   for d in sorted(set(day_a) | set(day_b)) if day_a.get(d) != day_b.get(d)]
        if changed or (wa or {}).get("planned_tss") != (wb or {}).get("planned_tss"):
            out.append({"week": n + 1, "hours_before": (wa or {}).get("planned_hours"),
                        "hours_after": (wb or {}).get("planned_hours"), "tss_before": (wa or {}).get("planned_tss"),
                        "tss_after": (wb or {}).get("planned_tss"), "changed": changed})
    return out


def route_choices(cur, athlete_id: int) -> dict[int, str]:
    """Saved (planned) routes to pick as a goal: id → name."""
    rows = cur.execute("SELECT id, name FROM routes WHERE athlete_id = ? AND kind = 'planned' ORDER BY name, id",
                       [athlete_id]).fetchall()
    return {r[0]: r[1] for r in rows}
