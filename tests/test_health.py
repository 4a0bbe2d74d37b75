"""Health in one report (core/health.py, ``python -m core health --json``, the Health page), the log file, feature
flags that gate real features and VELOCOACH_ENV (issue 16: monitoring was scattered, flags gated nothing)."""

from __future__ import annotations

import json
import logging
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.coach.ai import AIService, variant_stats
from core.coach.rules import parse_rule, save_rule
from core.config import load_settings
from core.errors import ConfigError
from core.health import SECTIONS, AuditFilter, health_report, register_section
from core.importer import import_file
from core.logs import recent_problems, setup_logging
from core.store.db import transaction
from tests.apptest_helpers import run_app_page
from tests.conftest import DATA_DIR
from tests.fakes.openai_server import FakeOpenAI, settings_for
from tests.test_cli import run_cli

KEY = "sk-test-HEALTHKEY0123456789abcdef"
RULE = {"constraints": [{"kind": "rest_days", "days": ["fri"]}], "confidence_score": 0.9, "suggestions": [],
        "unparsed": []}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def _settings(**env) -> object:
    return load_settings({"VELOCOACH_ENV": "test", **env}, Path("/nonexistent"))


def test_the_report_has_every_section_and_the_cli_prints_it_as_json(db_path, cur, athlete_id):
    import_file(cur, athlete_id, "ride.fit", (DATA_DIR / "rides" / "gc__Garmin830_with_Stages.fit").read_bytes())
    report = health_report(cur, _settings())
    assert list(report["sections"]) == ["database", "ai", "garmin", "errors", "audit", "settings"]
    database = report["sections"]["database"]
    assert database["status"] == "ok" and database["rows"]["rides"] == 1 and database["size_bytes"] > 0
    assert database["schema_version"] == database["known_schema_version"]
    assert report["sections"]["ai"]["status"] == "off" and report["status"] == "ok"


def test_the_health_command_exits_0_when_healthy_and_1_when_a_link_is_broken(tmp_path):
    db = tmp_path / "h.duckdb"
    result = run_cli("--db", str(db), "health", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sections"]["database"]["status"] == "ok"
    import duckdb

    raw = duckdb.connect(str(db))
    raw.execute("INSERT INTO ride_samples (ride_id, t_s) VALUES (4242, 0)")  # a sample of no ride
    raw.close()
    result = run_cli("--db", str(db), "health")
    assert result.returncode == 1 and "ERROR    database" in result.stdout


def test_ai_prompt_variants_report_whether_the_rider_kept_the_answer(fake, cur, athlete_id, db_path):
    settings = settings_for(fake, KEY)
    service = AIService(cur, settings, retries=0)
    fake.enqueue(content=RULE)
    kept = parse_rule("rest on Fridays", service=service)
    save_rule(cur, athlete_id, "rest on Fridays", parsed=kept)
    fake.enqueue(content=RULE)
    parse_rule("rest on Fridays please", service=service)  # previewed, never saved
    stats = variant_stats(cur, "parse_rule")
    assert sum(v["answered"] for v in stats) == 2 and sum(v["accepted"] for v in stats) == 1
    assert {v["acceptance_rate"] for v in stats if v["answered"]} <= {0.0, 0.5, 1.0}
    report = health_report(cur, settings, check_ai=True, sections=["ai"])["sections"]["ai"]
    assert report["reachable"] is True and report["last_check"]["ok"] is True
    assert report["variants"]["parse_rule"] == stats
    assert report["by_day"][0]["calls"] == 3 and report["cost_usd"] > 0
    assert KEY not in json.dumps(report, default=str)


def test_an_unreachable_ai_service_is_an_error(cur, db_path):
    settings = load_settings({}, Path("/nonexistent"), ai_api_key=KEY, ai_base_url="http://127.0.0.1:9/v1",
                             ai_timeout_s=0.3)
    report = health_report(cur, settings, check_ai=True, sections=["ai"])["sections"]["ai"]
    assert report["status"] == "error" and report["reachable"] is False


def test_garmin_accounts_show_their_last_sync_and_failures(cur, athlete_id):
    with transaction(cur):
        account = cur.execute("INSERT INTO garmin_accounts (athlete_id, label, last_sync_at) VALUES (?, 'watch', "
                              "current_timestamp) RETURNING id", [athlete_id]).fetchone()[0]
        cur.execute("INSERT INTO sync_log (account_id, status, error) VALUES (?, 'failed', 'Garmin said 500')",
                    [account])
    garmin = health_report(cur, _settings(), sections=["garmin"])["sections"]["garmin"]
    assert garmin["status"] == "error"
    assert garmin["accounts"][0]["label"] == "watch" and garmin["accounts"][0]["last_error"] == "Garmin said 500"
    assert garmin["failures_30_days"][0]["error"] == "Garmin said 500"
    off = health_report(cur, _settings(VELOCOACH_FEATURES="-garmin_sync"), sections=["garmin"])
    assert off["sections"]["garmin"]["status"] == "off"


def test_the_audit_log_is_filtered_by_action_entity_athlete_and_date(cur, athlete_id):
    import_file(cur, athlete_id, "ride.fit", (DATA_DIR / "rides" / "gc__Garmin830_with_Stages.fit").read_bytes())
    audit = health_report(cur, _settings(), audit=AuditFilter(action="import"), sections=["audit"])["sections"]["audit"]
    assert audit["entries"] and {e["action"] for e in audit["entries"]} == {"import"}
    assert "import" in audit["actions"] and "ride" in audit["entities"]
    none = AuditFilter(entity="ride", since=datetime(2999, 1, 1, tzinfo=UTC))
    assert health_report(cur, _settings(), audit=none, sections=["audit"])["sections"]["audit"]["entries"] == []
    other = AuditFilter(athlete_id=athlete_id + 99)
    assert health_report(cur, _settings(), audit=other, sections=["audit"])["sections"]["audit"]["entries"] == []


def test_a_section_added_by_another_subsystem_appears_and_a_failing_one_says_so(cur):
    register_section("background_sync", lambda ctx: {"status": "warning", "next_run": "in 5 min"}, after="garmin")
    register_section("broken", lambda ctx: 1 / 0)
    try:
        report = health_report(cur, _settings())
        assert list(report["sections"])[3] == "background_sync"
        assert report["sections"]["broken"]["status"] == "error"
        assert "ZeroDivisionError" in report["sections"]["broken"]["error"]
        at = run_app_page("app_pages/health_page.py")
        assert not at.exception
        assert any("Background sync" in s.value for s in at.subheader)
    finally:
        SECTIONS[:] = [(n, b) for n, b in SECTIONS if n not in ("background_sync", "broken")]


# ---------------------------------------------------------------------------------------------------- the log


def test_the_log_file_is_owner_only_masks_keys_and_feeds_recent_problems(tmp_path):
    settings = load_settings({"VELOCOACH_ENV": "production", "VELOCOACH_DATA_DIR": str(tmp_path),
                              "OPENAI_API_KEY": KEY}, Path("/nonexistent"))
    path = setup_logging(settings)
    try:
        log = logging.getLogger("velocoach.test")
        log.info("not written in production")
        log.error("the AI refused %s", KEY)
        log.warning("a key-shaped sk-abcdefghijklmnop in a message")
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        text = path.read_text()
        assert KEY not in text and "sk-abcdefghijklmnop" not in text and "not written" not in text
        problems = recent_problems(settings)
        assert [p["level"] for p in problems[:2]] == ["WARNING", "ERROR"]
        assert problems[1]["message"] == "the AI refused ***"
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "velocoach-file"]:
            root.removeHandler(handler)
            handler.close()


# ----------------------------------------------------------------------------------------------- flags and env


def test_feature_flags_are_validated_and_default_on():
    assert _settings().features == {"ai_coach": True, "garmin_sync": True, "health_page": True, "background_sync": True}
    assert _settings(VELOCOACH_FEATURES="-garmin_sync, ai_coach=off").features == {
        "ai_coach": False, "garmin_sync": False, "health_page": True, "background_sync": True}
    with pytest.raises(ConfigError, match="unknown feature 'warp_drive'; known: ai_coach, garmin_sync"):
        _settings(VELOCOACH_FEATURES="warp_drive")


def test_the_ai_coach_flag_keeps_the_key_unused(fake, cur, db_path):
    settings = settings_for(fake, KEY, features="-ai_coach")
    assert not settings.ai_enabled
    result = parse_rule("rest on Fridays", cur=cur, settings=settings)
    assert result.parser == "deterministic" and fake.requests == []


def test_the_garmin_flag_refuses_the_commands_and_hides_the_page(tmp_path, monkeypatch, db_path):
    import os

    env = {**os.environ, "VELOCOACH_FEATURES": "-garmin_sync", "VELOCOACH_SEED_DEMO": "0"}
    result = run_cli("--db", str(tmp_path / "g.duckdb"), "sync-garmin", env=env)
    assert result.returncode == 1 and "Garmin sync is switched off (VELOCOACH_FEATURES)" in result.stderr
    result = run_cli("--db", str(tmp_path / "g.duckdb"), "garmin", "accounts", env=env)
    assert result.returncode == 1 and "switched off" in result.stderr
    monkeypatch.setenv("VELOCOACH_FEATURES", "-garmin_sync,-health_page")
    at = run_app_page("app_pages/dashboard_page.py")
    assert not at.exception
    for page in ("garmin_page.py", "health_page.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}")


def test_velocoach_env_sets_log_level_error_detail_and_demo_seeding():
    development, test, production = (_settings(VELOCOACH_ENV=env) for env in ("development", "test", "production"))
    assert (development.log_level, test.log_level, production.log_level) == ("INFO", "WARNING", "WARNING")
    assert development.error_detail and test.error_detail and not production.error_detail
    assert development.demo_seeding and production.demo_seeding and not test.demo_seeding
    assert _settings(VELOCOACH_ENV="test", VELOCOACH_SEED_DEMO="1").demo_seeding
    assert not _settings(VELOCOACH_ENV="production", VELOCOACH_SEED_DEMO="0").demo_seeding


def test_a_test_run_starts_with_an_empty_database_unless_told(tmp_path, monkeypatch):
    from core.config import load_settings as load
    from core.setup import first_run
    from core.store.db import connect

    monkeypatch.setenv("VELOCOACH_ENV", "test")
    monkeypatch.delenv("VELOCOACH_SEED_DEMO", raising=False)
    db = connect(tmp_path / "empty.duckdb")
    try:
        created = first_run(db, load(secrets_path=Path("/nonexistent")))
        assert db.cursor().execute("SELECT count(*) FROM rides").fetchone()[0] == 0
        assert created == {"athlete_id": created["athlete_id"]}
    finally:
        db.close()


# --------------------------------------------------------------------------------------------------------- page


def test_the_health_page_shows_every_section_and_reads_every_table(db_path, cur, athlete_id):
    import_file(cur, athlete_id, "ride.fit", (DATA_DIR / "rides" / "gc__Garmin830_with_Stages.fit").read_bytes())
    at = run_app_page("app_pages/health_page.py")
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert any("Database" in t for t in titles) and any("AI service" in t for t in titles)
    assert "Audit log" in titles and "Settings and feature flags" in titles
    at.button(key="health_full_check").click().run()
    assert at.success and "the database is whole" in at.success[0].value
    at.selectbox(key="health_audit_action").set_value("import").run()
    assert not at.exception
