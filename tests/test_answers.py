"""Kept answers of the light commands (core.answers): asked again with nothing changed, the same bytes come back
without DuckDB; any change to the database, a failed or partial run, or a file too fresh to trust is never kept or
never answered from."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core import answers

ROOT = Path(__file__).resolve().parent.parent
FIT = ROOT / "tests" / "data" / "rides" / "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
LIGHT = (["athletes"], ["rides", "--json"], ["ride", "1", "--json"], ["metrics", "weekly", "--json"],
         ["metrics", "monthly"], ["metrics", "fitness", "--json"])


def cli(db: Path, *args: str, importtime: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "core", "--db", str(db), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def settle(db: Path) -> None:
    """Date the database files back, as if the last write were a minute ago (a fresh file is not kept)."""
    past = time.time() - 60
    for path in (db, Path(f"{db}.wal")):
        if path.exists():
            os.utime(path, (past, past))


def kept(db: Path) -> list[Path]:
    folder = Path(answers.folder_of(db))
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    template = tmp_path_factory.mktemp("answers") / "demo.duckdb"
    result = subprocess.run([sys.executable, "-m", "core", "--db", str(template), "demo", "--years", "0.1", "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "VELOCOACH_SEED_DEMO": "0"})
    assert result.returncode == 0, result.stderr
    return template


@pytest.fixture
def db(demo_db, db_path) -> Path:
    shutil.copy(demo_db, db_path)
    settle(db_path)
    return db_path


def test_asking_again_gives_the_same_bytes_without_opening_duckdb(db):
    first = {tuple(argv): cli(db, *argv) for argv in LIGHT}
    assert all(r.returncode == 0 and r.stdout for r in first.values()), {k: r.stderr for k, r in first.items()}
    assert len(kept(db)) == len(LIGHT)
    for argv in LIGHT:
        again = cli(db, *argv, importtime=True)
        assert again.returncode == 0 and again.stdout == first[tuple(argv)].stdout
        assert "duckdb" not in again.stderr and "core.cli" not in again.stderr  # answered before either loads
    folder = Path(answers.folder_of(db))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in kept(db)} == {0o600}


def test_a_write_by_any_program_is_a_miss_and_the_new_data_is_shown(db):
    before = cli(db, "rides", "--json").stdout
    assert '"name": "Renamed by hand"' not in before and kept(db)
    # Not through VeloCoach (no data version bumped): only the file's own state tells.
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE rides SET name = 'Renamed by hand' WHERE id = 1")
    after = cli(db, "rides", "--json")
    assert after.returncode == 0 and '"name": "Renamed by hand"' in after.stdout


def test_an_import_forgets_every_kept_answer_of_the_database(db):
    total = cli(db, "rides", "--json", "--sport", "all").stdout
    cli(db, "metrics", "weekly", "--json")
    assert len(kept(db)) == 2
    imported = cli(db, "import", str(FIT))
    assert imported.returncode == 0, imported.stderr
    assert kept(db) == []  # gone at once, not merely unused
    settle(db)
    again = cli(db, "rides", "--json", "--sport", "all").stdout
    assert again != total and '"total": ' in again
    assert int(again.split('"total": ')[1].split(",")[0]) == int(total.split('"total": ')[1].split(",")[0]) + 1


def test_a_database_replaced_in_place_is_a_miss(db, demo_db, tmp_path):
    cli(db, "athletes", "--json")
    other = tmp_path / "other.duckdb"
    shutil.copy(demo_db, other)
    with duckdb.connect(str(other)) as con:
        con.execute("UPDATE athletes SET name = 'Someone else'")
    os.replace(other, db)  # a restore swaps the file: same path, same age
    settle(db)
    result = cli(db, "athletes", "--json")
    assert result.returncode == 0 and "Someone else" in result.stdout


def test_a_freshly_written_database_is_answered_but_not_kept(db):
    os.utime(db)  # written just now: a write in the same clock tick could leave the stamps unchanged
    assert cli(db, "metrics", "weekly", "--json").returncode == 0
    assert kept(db) == []


def test_failed_partial_and_unusual_runs_are_not_kept(db):
    missing = cli(db, "ride", "999999", "--json")
    assert missing.returncode == 1 and "error" in missing.stderr
    assert cli(db, "-v", "athletes").returncode == 0  # logs to stderr: not answered from here
    assert cli(db, "metrics", "weekly", env={"VELOCOACH_ANSWERS": "0"}).returncode == 0
    reader_gone = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db), "metrics", "fitness", "--json"],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader_gone.stdout.close()  # `| head -0`: the output cannot be whole
    assert reader_gone.wait(120) == 0 and b"Traceback" not in reader_gone.stderr.read()
    assert kept(db) == []


def test_a_kept_answer_replayed_into_a_closed_pipe_ends_quietly(db):
    cli(db, "metrics", "fitness", "--json")
    assert len(kept(db)) == 1
    reader_gone = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db), "metrics", "fitness", "--json"],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader_gone.stdout.close()
    assert reader_gone.wait(120) == 0
    assert reader_gone.stderr.read() == b""


def test_only_the_plain_command_shape_is_answered():
    assert answers._database_option(["--db", "x.duckdb", "metrics", "weekly"]) == ("x.duckdb", "metrics")
    assert answers._database_option(["--db=x.duckdb", "--athlete", "2", "rides"]) == ("x.duckdb", "rides")
    assert answers._database_option(["ride", "3"]) == (None, "ride")
    # An abbreviation argparse would take for --db, a flag, help, a writing command, a dangling option: not here.
    for argv in (["--d", "x.duckdb", "rides"], ["-v", "rides"], ["rides", "--help"], ["import", "a.fit"],
                 ["delete-athlete", "1"], ["--db"], []):
        assert answers._database_option(argv) is None, argv


def test_an_answer_file_someone_else_could_have_planted_or_read_is_ignored(db):
    computed = cli(db, "athletes", "--json").stdout
    (answer,) = kept(db)
    answer.write_text('{"name": "planted"}\n')
    answer.chmod(0o644)  # open to others: not ours alone, so not trusted
    assert cli(db, "athletes", "--json").stdout == computed
    (answer,) = kept(db)
    target = answer.with_name("elsewhere.txt")
    target.write_text('{"name": "linked"}\n')
    target.chmod(0o600)
    answer.unlink()
    answer.symlink_to(target)
    assert cli(db, "athletes", "--json").stdout == computed


def test_the_key_moves_with_the_database_the_command_and_the_settings(db, tmp_path, monkeypatch):
    def pending(argv, **environ):
        return answers.prepare(argv, {**os.environ, **environ})

    base = pending(["--db", str(db), "rides", "--json"])
    assert pending(["--db", str(db), "rides", "--json"]).file == base.file
    assert pending(["--db", str(db), "rides"]).key != base.key
    assert pending(["--db", str(db), "rides", "--json"], VELOCOACH_FEATURES="-garmin_sync").state != base.state
    assert pending(["--db", str(db), "rides", "--json"], TZ="Pacific/Kiritimati").state != base.state
    with duckdb.connect(str(db)) as con:
        con.execute("CHECKPOINT")
    os.utime(db, (time.time() - 60, time.time() - 60))
    assert pending(["--db", str(db), "rides", "--json"]).state != base.state  # touched: the change time moved
    assert pending(["--db", str(db), "rides", "--json"], VELOCOACH_ANSWERS="off") is None
    packages = tmp_path / "site-packages"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))
    before_install = pending(["--db", str(db), "rides", "--json"]).state
    (packages / "duckdb-9.9.9.dist-info").mkdir()  # a package installed or upgraded where Python imports from
    assert pending(["--db", str(db), "rides", "--json"]).state != before_install


def test_a_bad_answers_setting_is_refused_by_the_command_itself(db):
    result = cli(db, "rides", env={"VELOCOACH_ANSWERS": "sometimes"})
    assert result.returncode == 1 and "keep_answers: must be on or off" in result.stderr
    assert kept(db) == []


def test_the_settings_read_without_core_config_agree_with_load_settings(tmp_path, monkeypatch):
    from core import config

    assert answers._SECRETS_FILE == str(config.SECRETS_PATH) and answers._DEFAULT_DB == str(config.DEFAULT_DB_PATH)
    assert set(answers._SECRET_VARIABLES) == {var for var, name in config.ENV_VARS.items() if name == "ai_api_key"}
    monkeypatch.chdir(tmp_path)
    cases = [(None, {}), ("given.duckdb", {"VELOCOACH_DB": "/elsewhere/x.duckdb"}), (None, {"VELOCOACH_DB": ""}),
             (None, {"VELOCOACH_DB": "~/rider/v.duckdb"}), ("~/a.duckdb", {}), (None, {"VELOCOACH_DB": "rel/v.duckdb"})]
    for option, environ in cases:
        path, inputs = answers._settings_inputs(option, environ)
        settings = config.load_settings(environ, tmp_path / "no-secrets.toml", db_path=option)
        assert os.path.abspath(os.path.expanduser(path)) == str(settings.db_path.expanduser().absolute())
    # A secret's value never enters the key; whether it is set does.
    _, with_key = answers._settings_inputs(None, {"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(with_key) and with_key != answers._settings_inputs(None, {})[1]
    # The environment switching answers, or a secrets file, goes through load_settings itself.
    assert answers._settings_inputs(None, {"VELOCOACH_ANSWERS": "1"}) is None


def test_answers_that_cannot_be_kept_do_not_disturb_the_command(db):
    Path(answers.folder_of(db)).write_text("not a folder")  # e.g. a read-only or odd place beside the database
    for _ in range(2):
        result = cli(db, "metrics", "weekly", "--json")
        assert result.returncode == 0 and result.stdout.count("\n") > 1 and result.stderr == ""
    assert Path(answers.folder_of(db)).read_text() == "not a folder"
