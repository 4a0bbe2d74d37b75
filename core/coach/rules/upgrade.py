"""Saved rules from before the rule language (version 1: ``core/rules.py``'s ``Constraint``/``RuleParse`` JSON)
load as version 2 with the *same checker meaning*; nothing is dropped silently.

Version 1's "hard" (threshold, vo2max, anaerobic, race; no sweet spot) is kept as an explicit type list, so a plan
that honoured the old rule honours the upgraded one; parsing the saved text again gives the rider's meaning. A
version-1 constraint the new model refuses (version 1 saved "rest every day") becomes an unparsed span with a note.
Rules are upgraded when read (``core.coach.rules.store``), so old rows and old backups load alike.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.coach.rules.model import DAYS, KINDS, parse_constraint
from core.coach.rules.result import ClauseReading, ParseResult, Span, Unparsed

V1_KINDS = ("rest_days", "forbidden_types", "allowed_types", "max_weekly_hours", "max_hard_sessions",
            "rest_after_hard_days", "max_consecutive_hard_days", "long_ride_day", "max_ramp_pct",
            "indoor_only_days", "max_session_minutes", "max_training_days")
V1_HARD = ["threshold", "vo2max", "anaerobic", "race"]  # version 1's "hard": sweet spot was not hard


def is_v1_constraint(data: dict) -> bool:
    """Version-1 dicts always carry workout_types/limit/unit/source_text (model_dump of the old Constraint)."""
    return data.get("kind") in V1_KINDS and (
        data["kind"] not in KINDS or any(k in data for k in ("workout_types", "limit", "unit", "source_text")))


def upgrade_constraint(old: dict) -> list:
    """Version-1 constraint JSON → version-2 constraints with the *same checker meaning* (empty list when the old
    constraint was empty after cleaning). Version 1's "hard" set (no sweet spot) is kept as an explicit type list,
    so a plan that honoured the old rule still honours the upgraded one; re-parsing the saved text with the new
    parser gives the rider's meaning ("hard" includes sweet spot)."""
    kind = old.get("kind")
    days = list(old.get("days") or [])
    types = [t for t in (old.get("workout_types") or []) if t != "rest"]
    limit = old.get("limit")
    if kind not in V1_KINDS:
        raise ValueError(f"unknown version-1 kind {kind!r}")
    if kind == "rest_days":
        new = {"kind": "rest_days", "days": days}
    elif kind == "forbidden_types":
        if not types:
            return []
        new = {"kind": "banned_types", "types": types, "days": days}
    elif kind == "allowed_types":
        if not types:  # "only rest" on those days
            new = {"kind": "rest_days", "days": days or list(DAYS)}
        else:
            new = {"kind": "allowed_types", "types": types, "days": days}
    elif kind == "max_weekly_hours":
        new = {"kind": "weekly_volume", "max": limit, "unit": "h"}
    elif kind == "max_hard_sessions":
        if limit is not None and int(limit) == 0:
            new = {"kind": "banned_types", "types": V1_HARD}
        else:
            new = {"kind": "type_count", "types": V1_HARD, "max": int(limit)}
    elif kind == "rest_after_hard_days":
        new = {"kind": "day_after", "trigger": V1_HARD, "streak": int(limit), "then": "rest", "following_days": 1}
    elif kind == "max_consecutive_hard_days":
        new = {"kind": "max_consecutive", "types": V1_HARD, "limit": int(limit)}
    elif kind == "long_ride_day":
        new = {"kind": "long_ride_days", "days": days}
    elif kind == "max_ramp_pct":
        # v1 compared with the highest earlier week; v2 with the last loading week (never higher): never looser
        new = {"kind": "ramp_limit", "metric": "tss", "limit": limit, "unit": "pct"}
    elif kind == "indoor_only_days":
        new = {"kind": "venue", "where": "indoor", "days": days}
    elif kind == "max_session_minutes":
        new = {"kind": "session_length", "max": max(10.0, float(limit)), "unit": "min", "days": days}
    else:  # max_training_days
        new = {"kind": "training_days", "max": int(limit)}
    return [parse_constraint(new)]


def load_constraint(data: dict) -> list:
    """Either version: a version-1 dict is upgraded, a version-2 dict validated."""
    return upgrade_constraint(data) if is_v1_constraint(data) else [parse_constraint(data)]


def upgrade_rule_parse(old: dict, text: str = "") -> ParseResult:
    """A saved version-1 RuleParse (rules.parsed column) and the rule's text → a version-2 ParseResult.

    Always loads. A version-1 constraint that the version-2 model refuses (version 1 saved "rest every day", a
    session cap under 10 min, …) is not dropped silently: its words (its source_text, else the whole text) become
    an unparsed span saying why, so the parse is ``partial`` (or ``refused`` when nothing else is left)."""
    if old.get("schema_version") == 2:
        return ParseResult.model_validate(old)
    text = text or ""
    constraints: list = []
    unparsed: list[Unparsed] = []
    dropped: list[str] = []

    def span_for(piece: str) -> tuple[int, int] | None:
        at = text.find(piece) if piece else -1
        return (at, at + len(piece)) if at >= 0 else None

    for item in old.get("constraints", []) or []:
        try:
            constraints.extend(upgrade_constraint(item))
        except (ValidationError, ValueError, TypeError) as exc:
            msg = exc.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(exc, ValidationError) else str(exc)
            dropped.append(f"{item.get('kind')}: {msg}")
            where = span_for(item.get("source_text") or "") or ((0, len(text)) if text else None)
            if where and not any(u.start == where[0] and u.end == where[1] for u in unparsed):
                unparsed.append(Unparsed(start=where[0], end=where[1], text=text[where[0]:where[1]],
                                         reason="contradictory" if "no training" in msg else "out_of_range",
                                         suggestion=f"This part of the saved rule no longer applies ({msg}); "
                                                    "edit the rule to say it another way."))
    for piece in old.get("unparsed", []) or []:
        where = span_for(piece)
        if where:
            unparsed.append(Unparsed(start=where[0], end=where[1], text=piece, reason="unknown_words",
                                     suggestion="Parse the rule again to get a suggestion."))
    clauses = []
    if constraints and text.strip():
        clauses = [ClauseReading(span=Span(start=0, end=len(text), text=text),
                                 constraints=list(range(len(constraints))),
                                 confidence=float(old.get("confidence_score", 1.0) or 0.0))]
    status = "refused" if not constraints else ("partial" if unparsed else "understood")
    if status == "refused" and not unparsed:
        whole = text if text.strip() else "(empty)"
        text = whole
        unparsed = [Unparsed(start=0, end=len(whole), text=whole, reason="unknown_words",
                             suggestion="Write the rule again, e.g. “rest on Fridays”.")]
    note = ("Upgraded from a version-1 rule; “hard” keeps its old meaning (threshold and above, no sweet spot) "
            "until the rule is parsed again.")
    if dropped:
        note += " Not carried over: " + "; ".join(dropped) + "."
    return ParseResult(text=text, status=status, constraints=constraints, clauses=clauses, unparsed=unparsed[:30],
                       questions=[], conflicts=list(old.get("conflicts", []) or [])[:30],
                       suggestions=list(old.get("suggestions", []) or [])[:30],
                       confidence_score=float(old.get("confidence_score", 0.0) or 0.0), parser="upgrade",
                       note=note[:1000])
