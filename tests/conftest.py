"""Shared fixtures: a real DuckDB file per test, an athlete, paths to test data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect, integrity_problems

DATA_DIR = Path(__file__).resolve().parent / "data"

# Local fake servers (OpenAI-compatible, Streamlit) live on 127.0.0.1: never route them through a proxy that a
# machine may have configured for the package registries.
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1", "localhost"]))


@pytest.fixture(scope="session", autouse=True)
def _apptest_error_details():
    """AppTest reads .streamlit/config.toml, whose showErrorDetails "none" would redact a failing page's error in
    test output; tests see the details (the shipped setting is checked in test_shell.py)."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "test.duckdb"
    # Pages and the CLI read the same settings; keep them on this file and off the demo seed and any AI key.
    monkeypatch.setenv("VELOCOACH_DB", str(path))
    monkeypatch.setenv("VELOCOACH_ENV", "test")
    monkeypatch.setenv("VELOCOACH_SEED_DEMO", "0")
    monkeypatch.setenv("VELOCOACH_DATA_DIR", str(tmp_path / "files"))
    for var in ("OPENAI_API_KEY", "VELOCOACH_AI_KEY", "VELOCOACH_AI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return path


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A new database with every migration applied, made once per test process: copying it is a third of the cost
    of migrating a new file for each of the hundreds of tests that start from an empty database."""
    path = tmp_path_factory.mktemp("template") / "migrated.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def db(db_path, migrated_template):
    if not db_path.exists():  # a test may have put a database of its own there first
        shutil.copyfile(migrated_template, db_path)
    database = connect(db_path)
    yield database
    # Every write path must leave the links between tables whole.
    problems = integrity_problems(database.cursor())
    database.close()
    assert problems == [], problems


@pytest.fixture
def cur(db):
    return db.cursor()


@pytest.fixture
def athlete_id(cur) -> int:
    return create_athlete(cur, AthleteProfile(name="Test Rider", ftp_w=250, max_hr=185, lthr=165, weight_kg=72))


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR
