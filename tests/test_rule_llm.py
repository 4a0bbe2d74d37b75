"""The LLM rule parser through the REAL openai client against the fake OpenAI-compatible server on 127.0.0.1:
the prompt carries the schema and corpus examples, answers are validated, disagreements show both readings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.coach.ai import AIService
from core.coach.rules.llm_parse import EXAMPLES, AIParse
from core.coach.rules.model import same_constraints
from core.coach.rules.parser import parse_rule
from core.coach.rules.result import ParseResult
from tests.fakes.openai_server import FakeOpenAI, settings_for

KEY = "sk-test-SECRETKEY0123456789abcdef"
CORPUS = Path(__file__).resolve().parent / "data" / "rule_corpus"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def service(fake, cur, db_path):
    return AIService(cur, settings_for(fake, KEY), retries=0, backoff_s=0.001)


def answer(*constraints, unparsed=(), confidence=0.9):
    return {"constraints": list(constraints), "unparsed": list(unparsed), "suggestions": [],
            "confidence_score": confidence}


def test_the_prompt_carries_the_schema_the_groups_and_examples_from_the_corpus(fake, service):
    fake.enqueue(content=answer({"kind": "rest_days", "days": ["fri"]}))
    parse_rule("rest on Fridays", service=service)
    system = fake.requests[0]["messages"][0]["content"]
    assert '"x-examples"' in system and "I cannot train on Mondays or Fridays" in system
    assert "hard = sweet_spot" in system and "N rest days a week" in system and '"session_length"' in system
    assert json.loads(fake.requests[0]["messages"][1]["content"]) == {"data": {"rule_text": "rest on Fridays"}}


def test_every_prompt_example_is_a_corpus_entry_with_the_same_reading():
    corpus = {}
    for path in CORPUS.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            corpus[entry["id"]] = entry
    assert len(EXAMPLES) >= 30
    for example in EXAMPLES:
        entry = corpus[example["id"]]
        parsed = AIParse(**example["answer"])  # each example fits the schema the model must answer in
        assert example["text"] == entry["text"]
        assert same_constraints(entry["constraints"], list(parsed.constraints))
        assert bool(parsed.unparsed) == (entry["status"] != "understood")


def test_when_both_readers_agree_the_ai_reading_stands_alone(fake, service):
    fake.enqueue(content=answer({"kind": "session_length", "max": 90, "days": ["mon", "tue", "wed", "thu", "fri"]}))
    result = parse_rule("max 1.5 h on weekdays", service=service)
    assert result.parser == "ai" and result.alternative is None
    assert [q.code for q in result.questions] == []


def test_when_the_readers_disagree_both_readings_are_shown_and_the_ai_one_is_asked_about(fake, service):
    fake.enqueue(content=answer({"kind": "weekly_volume", "max": 1.5, "unit": "h"}))
    result = parse_rule("max 1.5 h on weekdays", service=service)
    assert result.parser == "ai" and [c.kind for c in result.constraints] == ["weekly_volume"]
    assert result.alternative is not None and result.alternative.parser == "deterministic"
    assert [c.kind for c in result.alternative.constraints] == ["session_length"]
    differ = [q for q in result.questions if q.code == "readings_differ"]
    assert differ and differ[0].constraints == [0] and "Each ride at most 90 min" in differ[0].message
    assert "disagree" in result.note
    again = ParseResult.model_validate_json(result.model_dump_json())  # stored and read back as it was
    assert again.alternative.constraints == result.alternative.constraints


def test_an_ai_reading_of_a_sentence_the_built_in_reader_refuses_is_still_shown_beside_the_refusal(fake, service):
    fake.enqueue(content=answer({"kind": "session_length", "max": 300, "days": ["sat"]}))
    result = parse_rule("5 hours on Saturday", service=service)
    assert result.alternative is not None and result.alternative.status == "refused"
    assert any(q.code == "readings_differ" for q in result.questions)


def test_an_ai_answer_outside_the_schema_falls_back_to_the_built_in_reader(fake, service):
    fake.enqueue(content=answer({"kind": "weekly_volume", "max": 9, "unit": "parsecs"}))
    result = parse_rule("max 9 hours a week", service=service)
    assert result.parser == "deterministic" and "did not fit the rule schema" in result.note
    assert [c.kind for c in result.constraints] == ["weekly_volume"]
