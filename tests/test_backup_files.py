"""Backups restore where they were made (issue 16): from a file on disk (CLI and the page's path field) with
bounded memory, the compact JSON read as a stream whatever its formatting, and a safety copy of the whole database
before every restore and every migration (owner-only, the newest three kept)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import duckdb
import pytest

from core.errors import DuplicateError, ExportImportError
from core.store import backup_export, backup_restore, snapshots
from core.store.db import available_migrations, connect, migrate, schema_version, table_counts
from tests.apptest_helpers import run_app_page, shown
from tests.test_backup_helpers import shared_template, small_athlete
from tests.test_cli import run_cli


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return shared_template(tmp_path_factory)


@pytest.fixture(scope="module")
def backup_files(template, tmp_path_factory):
    """The template athlete's backups written to files by the command line, once."""
    path, athlete_id, _ = template
    folder = tmp_path_factory.mktemp("backup_files")
    files = {}
    for fmt in ("zip", "json"):
        files[fmt] = folder / f"rider.{fmt}"
        result = run_cli("--db", str(path), "--athlete", str(athlete_id), "export", "--format", fmt, "--out",
                         str(files[fmt]), "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["bytes"] == files[fmt].stat().st_size
    return files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("fmt", ["zip", "json"])
def test_a_backup_file_restores_from_disk_through_the_cli_after_a_safety_copy(fmt, backup_files, template, tmp_path):
    target = tmp_path / "target.duckdb"
    assert run_cli("--db", str(target), "init").returncode == 0
    result = run_cli("--db", str(target), "restore", str(backup_files[fmt]), "--json")
    assert result.returncode == 0, result.stderr
    restored = json.loads(result.stdout)
    source = connect(template[0], read_only=True)
    try:
        assert restored["rows"]["ride_samples"] == table_counts(source.cursor())["ride_samples"] > 0
    finally:
        source.close()
    copies = snapshots.list_snapshots(target)
    assert [c["kind"] for c in copies] == ["restore"]
    assert _mode(Path(copies[0]["file"])) == 0o600 and _mode(target.parent / "backups") == 0o700
    copy = connect(copies[0]["file"], read_only=True)  # the copy is the database as it was before the restore
    try:
        assert table_counts(copy.cursor())["ride_samples"] == 0
    finally:
        copy.close()


def test_a_missing_backup_file_is_named(tmp_path):
    result = run_cli("--db", str(tmp_path / "x.duckdb"), "restore", str(tmp_path / "nowhere.zip"))
    assert result.returncode == 1 and "nowhere.zip: there is no such file" in result.stderr


def test_only_the_newest_three_safety_copies_of_each_kind_are_kept(cur, db_path):
    made = [snapshots.snapshot(cur, db_path, "restore") for _ in range(5)]
    snapshots.snapshot(cur, db_path, "migration-007")
    kept = snapshots.list_snapshots(db_path)
    assert [c["file"] for c in kept if c["kind"] == "restore"] == [str(p) for p in reversed(made[2:])]
    assert [c["kind"] for c in kept].count("migration-007") == 1
    assert not made[0].exists() and not made[1].exists()


def test_a_migration_keeps_a_copy_of_the_database_as_it_was(tmp_path):
    path = tmp_path / "old.duckdb"
    older = [m for m in available_migrations() if m.version < 7]
    raw = duckdb.connect(str(path))
    migrate(raw, older)  # a database as VeloCoach left it before migration 007
    raw.execute("INSERT INTO athletes (name) VALUES ('Before the upgrade')")
    raw.close()
    db = connect(path)  # migrates
    db.close()
    copies = snapshots.list_snapshots(path)
    newest = max(m.version for m in available_migrations())  # named after the newest migration it precedes
    assert [c["kind"] for c in copies] == [f"migration-{newest:03d}"]
    copy = connect(copies[0]["file"], read_only=True, migrate_schema=False)
    try:
        assert schema_version(copy.cursor()) == max(m.version for m in older)
        assert copy.cursor().execute("SELECT name FROM athletes").fetchall() == [("Before the upgrade",)]
    finally:
        copy.close()
    assert snapshots.list_snapshots(tmp_path / "fresh.duckdb") == []
    connect(tmp_path / "fresh.duckdb").close()  # a new database has nothing to keep
    assert snapshots.list_snapshots(tmp_path / "fresh.duckdb") == []


# --------------------------------------------------------------------------------------------- the JSON format


def test_the_json_backup_is_columnar_and_reads_even_when_reformatted(cur, backup_files):
    document = json.loads(backup_files["json"].read_bytes())
    assert document["format_version"] == 2
    samples = document["tables"]["ride_samples"]
    assert set(samples) == {"columns", "types", "rows", "chunks"}
    assert samples["rows"] == sum(len(chunk["t_s"]) for chunk in samples["chunks"]) > 0
    pretty = backup_files["json"].with_name("pretty.json")
    pretty.write_text(json.dumps(document, indent=2))  # every value on its own line: the reader does not care
    result = backup_restore.restore_file(cur, pretty)
    assert result.rows["ride_samples"] == samples["rows"]


def _damaged(path: Path, edit) -> Path:
    document = json.loads(path.read_bytes())
    edit(document)
    out = path.with_name("damaged.json")
    out.write_text(json.dumps(document))
    return out


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["tables"]["plans"]["chunks"][0]["duration_weeks"].pop(), "one list per column, all of the same"),
    (lambda d: d["tables"]["plans"]["chunks"][0].update(duration_weeks=["four", "six"]),
     "plans.duration_weeks holds value.s. that are not integer"),
    (lambda d: d["tables"]["plans"]["chunks"][0].pop("name"), "one list per column"),
    (lambda d: d["tables"]["plans"].update(chunks={"a": 1}), "not valid JSON"),
    (lambda d: d["tables"]["plans"].pop("columns"), "gives its chunks before its columns"),
    (lambda d: d["tables"].update(plans={"rows": 2}), "not a list of records, nor a table of columns"),
    (lambda d: d["row_counts"].update(plans=9), "holds 2 records but the backup says 9"),
], ids=["short-column", "text-for-integer", "missing-column", "chunks-not-a-list", "no-columns", "no-chunks",
        "row-count"])
def test_a_damaged_columnar_json_backup_is_refused_and_changes_nothing(cur, tmp_path, edit, match):
    athlete_id = small_athlete(cur)
    path = tmp_path / "small.json"
    path.write_bytes(backup_export.export_json(cur, athlete_id))
    before = table_counts(cur)
    with pytest.raises(ExportImportError, match=match):
        backup_restore.restore_file(cur, _damaged(path, edit))
    assert table_counts(cur) == before


def test_a_truncated_json_backup_names_where_it_ends(cur, backup_files, tmp_path):
    data = backup_files["json"].read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ExportImportError, match=r"not valid JSON \(line \d+, column \d+: .*truncated"):
        backup_restore.restore_file(cur, cut)


def test_one_json_value_larger_than_the_limit_is_refused_not_read(cur, backup_files):
    from core.store.backup_format import Limits

    with pytest.raises(ExportImportError, match="larger than VeloCoach reads at once"):
        backup_restore.restore_file(cur, backup_files["json"], Limits(max_json_value_bytes=20_000))


def test_working_files_are_removed_after_a_restore_and_after_a_refusal(cur, db_path, backup_files, tmp_path):
    backup_restore.restore_file(cur, backup_files["zip"])
    with pytest.raises(DuplicateError):
        backup_restore.restore_file(cur, backup_files["zip"])  # the same rides again: refused
    leftovers = [p.name for p in db_path.parent.iterdir() if p.name.startswith(".velocoach-")]
    assert leftovers == []


# ------------------------------------------------------------------------------------------------------- page


def test_the_page_restores_a_backup_from_a_path_and_lists_the_safety_copies(db_path, backup_files):
    at = run_app_page("app_pages/backup_page.py")
    at.text_input(key="backup_path").set_value(str(backup_files["zip"])).run()
    at.button(key="backup_check_path").click().run()
    assert not at.exception and not at.error
    assert any("Demo Rider" in m.value for m in at.markdown)
    at.button(key="backup_restore").click().run()
    assert not at.exception
    assert at.success and "rider.zip: restored as athlete #" in shown(at.success[0].value)
    assert any(e.label == "Safety copies of the database (1)" for e in at.expander)


def test_the_page_names_a_path_that_is_not_a_backup(db_path, tmp_path):
    at = run_app_page("app_pages/backup_page.py")
    at.text_input(key="backup_path").set_value(str(tmp_path / "missing.zip")).run()
    at.button(key="backup_check_path").click().run()
    assert at.error and "missing.zip: there is no such file" in shown(at.error[0].value)


def test_a_prepared_backup_is_saved_owner_only_next_to_the_database(db_path):
    db = connect(db_path)
    small_athlete(db.cursor(), "Page Rider")
    db.close()
    at = run_app_page("app_pages/backup_page.py")
    at.button(key="backup_prepare").click().run()
    assert not at.exception
    saved = list((db_path.parent / "backups").glob("velocoach-page-rider-*.zip"))
    assert len(saved) == 1 and _mode(saved[0]) == 0o600
    assert any(str(saved[0]) in shown(c.value) for c in at.caption)
    assert os.path.getsize(saved[0]) > 1000
