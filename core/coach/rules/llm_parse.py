"""The LLM rule parser: the AI service (core.coach.ai, any OpenAI-compatible API) proposes the constraints of a
sentence in the rule schema, and pydantic validates the answer (unknown keys, kinds, days or types are refused),
so text inside a rule ("ignore previous instructions…") can never change the output's types.

The prompt carries the schema with worked examples from the rule corpus (``llm_examples.json``, kept equal to
tests/data/rule_corpus by a test) in the system message; the rider's text travels only as data. ``compare``
puts the deterministic reading next to the LLM's when the two differ, so the preview shows both and asks.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.coach.rules.compose import SUGGESTION, check_text, finish
from core.coach.rules.model import Constraint, describe, same_constraints
from core.coach.rules.result import (
    MAX_RULE_TEXT,
    ClauseReading,
    ParseContext,
    ParseResult,
    Question,
    Span,
    Unparsed,
    UnparsedReason,
)
from core.errors import AIServiceError

EXAMPLES: list[dict] = json.loads((Path(__file__).with_name("llm_examples.json")).read_text(encoding="utf-8"))


class _AIUnparsed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_RULE_TEXT)
    reason: UnparsedReason = "unknown_words"
    suggestion: str = Field(min_length=1, max_length=500)


class AIParse(BaseModel):
    """A cyclist's training rule as constraints of the VeloCoach rule language. Groups: hard = sweet_spot,
    threshold, vo2max, anaerobic, sprint, race, test, group_ride; intervals = tempo … sprint; intensity = tempo +
    hard; easy = recovery, endurance; any = every ride but commutes. A duration without a week word is per
    session; "no more than" is a maximum; N rest days a week = training_days max 7 − N. Put every part that is
    not a rule you can express (weather, heart rate, times of day, wishes) in unparsed with a concrete rewording;
    an ambiguous part is unparsed (reason ambiguous), never guessed. See the examples."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "x-examples": [{"rule": e["text"], "answer": e["answer"]} for e in EXAMPLES]})

    constraints: list[Constraint] = Field(default_factory=list, max_length=30)
    unparsed: list[_AIUnparsed] = Field(default_factory=list, max_length=30)
    suggestions: list[str] = Field(default_factory=list, max_length=30)
    confidence_score: float = Field(ge=0, le=1)


class LLMParser:
    """Rule parser backed by core.coach.ai: the model proposes, ``AIParse`` validates (extra fields and unknown kinds
    are refused), so injected instructions cannot change the output's shape."""

    name = "ai"

    def __init__(self, service):
        self.service = service

    def parse(self, text: str, context: ParseContext | None = None) -> ParseResult:
        text = check_text(text)
        reply = self.service.complete_json("parse_rule", {"rule_text": text}, schema=AIParse.model_json_schema(),
                                           schema_name="rule_parse", validate=_validate_ai_parse)
        answer: AIParse = reply.value
        unparsed = []
        for item in answer.unparsed:
            at = text.lower().find(item.text.lower())
            if at < 0:
                raise AIServiceError("The AI answer named words that are not in the rule")
            unparsed.append(Unparsed(start=at, end=at + len(item.text), text=text[at:at + len(item.text)],
                                     reason=item.reason, suggestion=item.suggestion))
        if not answer.constraints and not unparsed:
            unparsed = [Unparsed(start=0, end=len(text), text=text, reason="unknown_words",
                                 suggestion=answer.suggestions[0][:500] if answer.suggestions else SUGGESTION)]
        clauses = [ClauseReading(span=Span(start=0, end=len(text), text=text),
                                 constraints=list(range(len(answer.constraints))),
                                 confidence=answer.confidence_score)] if answer.constraints else []
        result = finish(text, list(answer.constraints), clauses, unparsed, answer.suggestions, parser="ai",
                        context=context)
        result._ai_call_id = reply.call_id  # saving the rule records that the rider kept this answer
        return result


def _validate_ai_parse(data) -> AIParse:
    """The model's answer must be exactly the schema: unknown keys, kinds, days or types are refused."""
    if not isinstance(data, dict):
        raise AIServiceError("The AI answer was not a JSON object")
    try:
        return AIParse(**data)
    except (ValidationError, TypeError) as exc:
        raise AIServiceError(f"The AI answer did not fit the rule schema ({str(exc).splitlines()[0][:200]})") from None




def _differ(a: ParseResult, b: ParseResult) -> bool:
    return a.status != b.status or not same_constraints(list(a.constraints), list(b.constraints))


def compare(ai: ParseResult, deterministic: ParseResult) -> ParseResult:
    """The LLM's reading with the built-in one attached when they differ: the preview shows both, and a question
    holds the LLM's constraints until the rider confirms (or rewords)."""
    if not _differ(ai, deterministic):
        return ai
    said = "; ".join(describe(c) for c in deterministic.constraints) or "nothing it could apply"
    extra = {"alternative": deterministic.model_copy(update={"alternative": None})}
    if ai.constraints:
        question = Question(code="readings_differ", constraints=list(range(len(ai.constraints))),
                            message=f"The built-in reader understood this differently ({said})."[:500])
        extra["questions"] = list(ai.questions) + [question]
    note = "The AI and the built-in reader disagree: both readings are shown; reword the rule if neither is right."
    extra["note"] = f"{ai.note} {note}" if ai.note else note
    return ai.model_copy(update=extra)
