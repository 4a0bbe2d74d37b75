"""How a parse is scored against an expected reading (the corpus test and bench/rule_parse.py share this).

- *exact*: the same set of constraints (``model.same_constraints``: kind, effective days, types expanded, phases,
  event window, limits, units; ``reason`` ignored), the same status and, for a partial entry, every expected
  unparsed phrase inside some reported unparsed span.
- *confident-but-wrong*: a returned constraint whose ``constraint_key`` is not among the expected ones, from a
  clause with confidence ≥ 0.7 (for an entry that must be refused: any constraint). A parse whose constraints
  together mean the expected ones (two clauses "at least 8 h a week" + "no more than 11") is not wrong.
"""

from __future__ import annotations

import hashlib

from core.coach.rules.model import constraint_key, parse_constraint, same_constraints

CONFIDENT = 0.7


def held_out(entry_id: str) -> bool:
    """The corpus slice the parser was not tuned on: sha256(id) % 5 == 0 (about 20 %)."""
    return int(hashlib.sha256(entry_id.encode()).hexdigest(), 16) % 5 == 0


def score(entry: dict, result) -> dict:
    """{"exact", "confident_but_wrong", "status"} for one corpus entry and the ParseResult of its text."""
    expected = [parse_constraint(c) for c in entry["constraints"]]
    got = list(result.constraints)
    same = same_constraints(expected, got)
    exact = same and result.status == entry["status"]
    if exact and entry["status"] == "partial":
        spans = [u.text.lower() for u in result.unparsed]
        exact = all(any(p.lower() in s for s in spans) for p in entry.get("unparsed", []))
    keys = {constraint_key(c) for c in expected}
    confidence_of = {i: clause.confidence for clause in result.clauses for i in clause.constraints}
    wrong = [c for i, c in enumerate(got) if confidence_of.get(i, result.confidence_score) >= CONFIDENT
             and (entry["status"] == "refused" or constraint_key(c) not in keys)]
    if same and entry["status"] != "refused":
        wrong = []
    return {"exact": exact, "confident_but_wrong": bool(wrong), "status": result.status}
