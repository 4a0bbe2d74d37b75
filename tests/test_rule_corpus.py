"""The rule corpus (tests/data/rule_corpus/*.jsonl, the parser's test data) fits the rule model: every expected
constraint validates, is in normal form and conflict-free, questions are exactly what the model asks, unparsed
phrases are in the sentence, each entry can be written as a ParseResult, and every refused reading is explained.

One JSON object per line: id, text, status (understood | partial | refused), constraints, note; optionally
unparsed, questions, reason, suggestion, context (overrides of ParseContext), would_be (a rejected reading)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.model import normalise, parse_constraint
from core.coach.rules.result import (
    UNPARSED_REASONS,
    ClauseReading,
    ParseContext,
    ParseResult,
    Span,
    Unparsed,
    questions_for,
)

CORPUS = Path(__file__).resolve().parent / "data" / "rule_corpus"
REQUIRED = {"id", "text", "status", "constraints", "note"}
OPTIONAL = {"unparsed", "questions", "reason", "suggestion", "context", "would_be"}

# sentences issue 11 names, with the kinds they must be read as (or "refused")
MUST_HAVE = {
    "never schedule hard days back to back": ["max_consecutive"],
    "no more than 2 sweet spot workouts per week": ["type_count"],
    "max 1.5 h on weekdays": ["session_length"],
    "no rides longer than 3 hours except on saturday": ["session_length"],
    "no vo2max work in the base phase": ["banned_types"],
    "i cannot train on mondays or fridays": ["rest_days"],
    "weekly hours between 6 and 9": ["weekly_volume"],
    "taper the last 2 weeks before my race": ["taper"],
    "3 weeks build then 1 easy week": ["recovery_cadence"],
    "at least one rest day after a hard day": ["day_after"],
    "i commute by bike 40 min each way mon–fri": ["fixed_session"],
    "don't let my weekly tss climb more than 5 % week to week": ["ramp_limit"],
    "no hard workouts on mondays": ["banned_types"],
    "don't increase weekly load by more than 6 %": ["ramp_limit"],
    "train smarter": "refused",
    "i want to get faster": "refused",
    "no rest ever": "refused",
}


def _entries() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append((f"{path.name}:{n}", json.loads(line)))
    return out


ENTRIES = _entries()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def test_the_corpus_is_large_unique_and_covers_every_status_and_kind():
    assert len(ENTRIES) >= 300
    status = Counter(e["status"] for _, e in ENTRIES)
    assert status["refused"] >= 40 and status["partial"] >= 30 and status["understood"] >= 300
    assert not [i for i, k in Counter(e["id"] for _, e in ENTRIES).items() if k > 1]
    assert not [t for t, k in Counter(_norm(e["text"]) for _, e in ENTRIES).items() if k > 1]
    from core.coach.rules.model import KINDS

    kinds = Counter(c["kind"] for _, e in ENTRIES for c in e["constraints"])
    assert {k for k in KINDS if kinds[k] < 5} == set()


def test_the_sentences_the_issue_names_are_read_as_it_says():
    by_text = {_norm(e["text"]): e for _, e in ENTRIES}
    for text, kinds in MUST_HAVE.items():
        entry = by_text[text]
        if kinds == "refused":
            assert entry["status"] == "refused", text
        else:
            assert sorted(c["kind"] for c in entry["constraints"]) == sorted(kinds), text


@pytest.mark.parametrize("where, entry", ENTRIES, ids=[e["id"] for _, e in ENTRIES])
def test_every_expected_reading_fits_the_model(where, entry):
    assert REQUIRED <= set(entry) and not set(entry) - REQUIRED - OPTIONAL, where
    text, status, unparsed = entry["text"], entry["status"], entry.get("unparsed", [])
    constraints = [parse_constraint(c) for c in entry["constraints"]]  # raises on any invalid constraint
    if status == "refused":
        assert not constraints and entry.get("reason") in UNPARSED_REASONS and entry.get("suggestion")
    else:
        assert constraints and (bool(unparsed) == (status == "partial")) and "reason" not in entry
    for phrase in unparsed:
        assert phrase.lower() in text.lower()
    assert len(normalise(constraints)) == len(constraints), "expected constraints must be in normal form"
    assert [c.message for c in rule_conflicts(constraints)] == []
    context = ParseContext(**entry.get("context", {}))
    expected = sorted((q["code"], tuple(q["constraints"])) for q in entry.get("questions", []))
    assert sorted((q["code"], tuple(q["constraints"])) for q in questions_for(constraints, context)) == expected
    spans = []
    for phrase in unparsed:
        at = text.lower().find(phrase.lower())
        spans.append(Unparsed(start=at, end=at + len(phrase), text=text[at:at + len(phrase)],
                              reason="unknown_words", suggestion="(rewording)"))
    if status == "refused":
        spans = [Unparsed(start=0, end=len(text), text=text, reason=entry["reason"], suggestion=entry["suggestion"])]
    clauses = [ClauseReading(span=Span(start=0, end=len(text), text=text),
                             constraints=list(range(len(constraints))), confidence=1.0)] if constraints else []
    ParseResult(text=text, status=status, constraints=[c.model_dump() for c in constraints], clauses=clauses,
                unparsed=spans, questions=[dict(q, message="(question)") for q in entry.get("questions", [])])
    if "would_be" in entry:  # the rejected reading is invalid or contradicts itself
        try:
            rejected = [parse_constraint(c) for c in entry["would_be"]]
        except ValidationError:
            return
        assert rule_conflicts(rejected), f"{where}: the refusal is not explained by the model"
