"""Rules in the database: save (version 1), edit (a new version whose parent is the old one; the old stays, plans
point at it), disable / enable (the latest version; the plan generator uses only enabled rules), list, get, delete,
and the constraints of a set of rules. ``rules.parsed`` holds a ``ParseResult``; a version-1 parse is upgraded when
read, so old rows and old backups load with their meaning kept."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pydantic import ValidationError

from core.coach.ai import record_verdict
from core.coach.rules.model import covers, describe
from core.coach.rules.parser import DeterministicParser, check_text
from core.coach.rules.result import ParseContext, ParseResult, Unparsed
from core.coach.rules.upgrade import upgrade_rule_parse
from core.errors import NotFoundError, RuleNeedsConfirmation, RuleParseError
from core.store.db import audit, bump_data_version, transaction

_RULE_COLUMNS = ("id", "athlete_id", "name", "text", "parsed", "version", "parent_rule_id", "created_at", "enabled")
_RULE_SELECT = ("SELECT r.id, r.athlete_id, r.name, r.text, r.parsed, r.version, r.parent_rule_id, r.created_at, "
                "r.enabled FROM rules r")


def load_parse(raw, text: str) -> ParseResult:
    """A stored parse as a version-2 ParseResult, whatever version wrote it; a damaged one loads as refused
    (with a note) instead of breaking every page that lists rules."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        if data.get("schema_version") == 2:
            return ParseResult.model_validate(data)
        return upgrade_rule_parse(data, text)
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        whole = text if text.strip() else "(empty)"
        return ParseResult(text=whole, status="refused", parser="upgrade",
                           unparsed=[Unparsed(start=0, end=len(whole), text=whole, reason="unknown_words",
                                              suggestion="Edit the rule to write it again.")],
                           note=f"The saved reading of this rule could not be loaded ({str(exc)[:200]}).")


def _rule_row(row) -> dict:
    data = dict(zip(_RULE_COLUMNS, row, strict=True))
    data["enabled"] = bool(data["enabled"])
    data["parsed"] = load_parse(data["parsed"], data["text"])
    data["constraints"] = list(data["parsed"].constraints)
    return data


def rule_public(rule: dict, *, hard_includes_sweet_spot: bool = True) -> dict:
    """A JSON-safe view of a stored rule: its row, the parse, the constraints in words and what groups cover."""
    parsed = rule["parsed"]
    return {k: rule[k] for k in _RULE_COLUMNS if k not in ("athlete_id", "parsed")} | {
        "created_at": str(rule["created_at"]), "status": parsed.status,
        "constraints": [c.model_dump(mode="json") for c in rule["constraints"]],
        "description": [describe(c) for c in rule["constraints"]],
        "covers": sorted({line for c in rule["constraints"]
                          for line in covers(c, hard_includes_sweet_spot=hard_includes_sweet_spot)}),
        "parsed": parsed.model_dump(mode="json")}


def _parse(text: str, parsed: ParseResult | None, cur, athlete_id: int) -> ParseResult:
    if parsed is None:  # read in the athlete's own context (recent load, Settings), as the preview reads it
        parsed = DeterministicParser().parse(text, parse_context(cur, athlete_id))
    if not parsed.constraints:
        hint = parsed.unparsed[0].suggestion if parsed.unparsed else ""
        raise RuleParseError(f"Nothing in “{text[:80]}” could be turned into a rule, so it was not saved. {hint}")
    return parsed


def _check_confirmed(parsed: ParseResult, confirmed: bool) -> None:
    """A constraint the preview asked about ("this caps the week below what you ride — is that what you mean?")
    is applied only once the rider has said yes: the coach never applies a reading it doubted."""
    if parsed.questions and not confirmed:
        asked = " ".join(q.message for q in parsed.questions)
        raise RuleNeedsConfirmation(f"Not saved yet — the coach asks first: {asked[:900]} Confirm it "
                                    "(“Yes, that is what I mean”) or reword the rule.")


def save_rule(cur, athlete_id: int, text: str, *, name: str | None = None, parsed: ParseResult | None = None,
              confirmed: bool = False) -> dict:
    """Parse (unless a previewed ``parsed`` is given) and store a rule as version 1, enabled. Refuses a rule that
    yields no constraint, so nothing unusable is saved, and one the parse asks about unless ``confirmed``."""
    text = check_text(text)
    parsed = _parse(text, parsed, cur, athlete_id)
    _check_confirmed(parsed, confirmed)
    name = (name or "").strip()[:80] or describe(parsed.constraints[0])[:80]
    with transaction(cur):
        rule_id = cur.execute(
            "INSERT INTO rules (athlete_id, name, text, parsed, version, enabled) VALUES (?, ?, ?, ?, 1, true) "
            "RETURNING id", [athlete_id, name, text, parsed.model_dump_json()]).fetchone()[0]
        record_verdict(cur, parsed._ai_call_id, True)
        audit(cur, "create", "rule", rule_id, athlete_id)
        bump_data_version(cur)
    return get_rule(cur, rule_id)


def latest_version(cur, rule_id: int) -> dict:
    """The newest version in ``rule_id``'s chain."""
    rule = get_rule(cur, rule_id)
    while True:
        row = cur.execute(_RULE_SELECT + " WHERE r.parent_rule_id = ? ORDER BY r.id LIMIT 1", [rule["id"]]).fetchone()
        if row is None:
            return rule
        rule = _rule_row(row)


def edit_rule(cur, rule_id: int, text: str, *, name: str | None = None, parsed: ParseResult | None = None,
              athlete_id: int | None = None, confirmed: bool = False) -> dict:
    """Store an edit as a new version whose parent is the chain's latest version; the old versions stay (plans
    point at them). The new version keeps the enabled flag."""
    old = latest_version(cur, rule_id)
    if athlete_id is not None and old["athlete_id"] != athlete_id:
        raise NotFoundError(f"Rule {rule_id} was not found")
    text = check_text(text)
    parsed = _parse(text, parsed, cur, old["athlete_id"])
    _check_confirmed(parsed, confirmed)
    with transaction(cur):
        new_id = cur.execute(
            "INSERT INTO rules (athlete_id, name, text, parsed, version, parent_rule_id, enabled) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [old["athlete_id"], (name or "").strip()[:80] or old["name"], text, parsed.model_dump_json(),
             old["version"] + 1, old["id"], old["enabled"]]).fetchone()[0]
        record_verdict(cur, parsed._ai_call_id, True)
        audit(cur, "edit", "rule", new_id, old["athlete_id"], parent=old["id"])
        bump_data_version(cur)
    return get_rule(cur, new_id)


def set_rule_enabled(cur, rule_id: int, enabled: bool, *, athlete_id: int | None = None) -> dict:
    """Disable or enable a rule (its latest version). A disabled rule stays listed and can be enabled again."""
    rule = latest_version(cur, rule_id)
    if athlete_id is not None and rule["athlete_id"] != athlete_id:
        raise NotFoundError(f"Rule {rule_id} was not found")
    if rule["enabled"] == enabled:
        return rule
    with transaction(cur):
        cur.execute("UPDATE rules SET enabled = ? WHERE id = ?", [enabled, rule["id"]])
        audit(cur, "enable" if enabled else "disable", "rule", rule["id"], rule["athlete_id"])
        bump_data_version(cur)
    return get_rule(cur, rule["id"])


def get_rule(cur, rule_id: int, athlete_id: int | None = None) -> dict:
    row = cur.execute(_RULE_SELECT + " WHERE r.id = ?", [rule_id]).fetchone()
    if row is None or (athlete_id is not None and row[1] != athlete_id):
        raise NotFoundError(f"Rule {rule_id} was not found")
    return _rule_row(row)


_LATEST_WHERE = (" WHERE r.athlete_id = ? AND (NOT ? OR NOT EXISTS (SELECT 1 FROM rules c"
                 " WHERE c.parent_rule_id = r.id)) AND (NOT ? OR r.enabled) ORDER BY r.id DESC")


def list_rules(cur, athlete_id: int, *, latest_only: bool = True, enabled_only: bool = False) -> list[dict]:
    """The athlete's rules, newest first; by default only the latest version of each, enabled or not."""
    rows = cur.execute(_RULE_SELECT + _LATEST_WHERE, [athlete_id, latest_only, enabled_only]).fetchall()
    return [_rule_row(r) for r in rows]


def rule_versions(cur, rule_id: int) -> list[dict]:
    """Every version in ``rule_id``'s chain (ancestors and descendants), oldest first."""
    root = get_rule(cur, rule_id)
    while root["parent_rule_id"] is not None:
        root = get_rule(cur, root["parent_rule_id"])
    chain = [root]
    while True:
        row = cur.execute(_RULE_SELECT + " WHERE r.parent_rule_id = ? ORDER BY r.id LIMIT 1",
                          [chain[-1]["id"]]).fetchone()
        if row is None:
            return chain
        chain.append(_rule_row(row))


def delete_rule(cur, rule_id: int) -> None:
    """Delete a rule version no plan uses and no newer version edits."""
    rule = get_rule(cur, rule_id)
    used = cur.execute("SELECT count(*) FROM plan_rules WHERE rule_id = ?", [rule_id]).fetchone()[0]
    if used:
        raise RuleParseError(f"Rule “{rule['name']}” is used by {used} plan(s); delete those plans first.")
    child = cur.execute("SELECT count(*) FROM rules WHERE parent_rule_id = ?", [rule_id]).fetchone()[0]
    if child:
        raise RuleParseError(f"Rule “{rule['name']}” has a newer version; delete that one first.")
    with transaction(cur):
        cur.execute("DELETE FROM rules WHERE id = ?", [rule_id])
        audit(cur, "delete", "rule", rule_id, rule["athlete_id"])
        bump_data_version(cur)


def constraints_of(cur, athlete_id: int, rule_ids: list[int], *,
                   enabled_only: bool = True) -> tuple[list, list[dict]]:
    """The constraints of the given rules (all the athlete's) and the rule rows. With ``enabled_only`` (what the
    plan generator asks) a disabled rule is refused by name, never used quietly."""
    rules = []
    for rule_id in dict.fromkeys(rule_ids):
        rule = get_rule(cur, int(rule_id), athlete_id)
        if enabled_only and not rule["enabled"]:
            raise RuleParseError(f"Rule “{rule['name']}” is disabled: enable it, or leave it out of the plan.")
        rules.append(rule)
    return [c for r in rules for c in r["constraints"]], rules


def constraint_sources(rules: list[dict]) -> list[str]:
    """The rule name of each constraint of ``constraints_of`` (same order), for messages naming sources."""
    return [r["name"] for r in rules for _ in r["constraints"]]


def parse_context(cur, athlete_id: int, today: date | None = None) -> ParseContext:
    """The context a sentence is read in: today, the athlete's recent weekly load (last 4 weeks) and Settings."""
    from core.athletes import hard_includes_sweet_spot

    today = today or date.today()
    recent = recent_load(cur, athlete_id, today)
    return ParseContext(today=today, event_date=None, recent_weekly_hours=recent["hours"],
                        recent_weekly_tss=recent["tss"], recent_weekly_km=recent["km"],
                        hard_includes_sweet_spot=hard_includes_sweet_spot(cur, athlete_id))


def recent_load(cur, athlete_id: int, today: date, weeks: int = 4) -> dict:
    """Mean weekly hours, TSS and km of the ``weeks`` weeks before ``today`` (None each when no ride), and the mean
    outdoor speed (km/h) over the last 6 months (None when unknown)."""
    first = today - timedelta(weeks=weeks)
    hours, tss, km, rides = cur.execute(
        "SELECT sum(coalesce(moving_time_s, elapsed_time_s, 0)) / 3600.0, sum(tss), sum(distance_m) / 1000.0, "
        "count(*) FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL "
        "AND CAST(started_at AS DATE) >= ? AND CAST(started_at AS DATE) < ?", [athlete_id, first, today]).fetchone()
    moving_h, dist_km = cur.execute(
        "SELECT sum(moving_time_s) / 3600.0, sum(distance_m) / 1000.0 FROM rides WHERE athlete_id = ? "
        "AND duplicate_of IS NULL AND route_id IS NOT NULL AND moving_time_s > 0 AND distance_m > 0 "
        "AND CAST(started_at AS DATE) >= ? AND CAST(started_at AS DATE) < ?",
        [athlete_id, today - timedelta(days=183), today]).fetchone()
    speed = dist_km / moving_h if moving_h and dist_km and 8 <= dist_km / moving_h <= 45 else None
    if not rides:
        return {"hours": None, "tss": None, "km": None, "speed_kmh": speed}
    return {"hours": round(hours / weeks, 2), "tss": round((tss or 0) / weeks, 1) if tss is not None else None,
            "km": round((km or 0) / weeks, 1), "speed_kmh": speed}
