"""Backups: round trips (ZIP and JSON), restore as a new athlete, secrets never exported, atomic failure."""

from __future__ import annotations

import json

import pytest

from core.errors import DuplicateError, ExportImportError, NotFoundError
from core.store import backup_export, backup_format, backup_restore, backup_validate
from core.store.db import connect, data_version, integrity_problems, table_counts
from tests.test_backup_helpers import (
    API_KEY,
    TOKEN_SECRET,
    copy_db,
    json_rows,
    shared_template,
    small_athlete,
    zip_members,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return shared_template(tmp_path_factory)


@pytest.fixture(scope="module")
def exported(template):
    """The template athlete's ZIP and JSON backups, made once."""
    path, athlete_id, _ = template
    db = connect(path)
    cur = db.cursor()
    try:
        return {"zip": backup_export.export_zip(cur, athlete_id), "json": backup_export.export_json(cur, athlete_id)}
    finally:
        db.close()


@pytest.fixture
def seeded(template, db_path, request):
    """(cur, athlete_id) on a copy of the template database (the db fixture checks integrity afterwards)."""
    path, athlete_id, _ = template
    copy_db(path, db_path)
    return request.getfixturevalue("db").cursor(), athlete_id


@pytest.fixture
def other(tmp_path):
    """A second, empty database: restores land here as on a new machine."""
    db = connect(tmp_path / "other.duckdb")
    yield db.cursor()
    problems = integrity_problems(db.cursor())
    db.close()
    assert problems == [], problems


def _content_differences(cur, athlete_id: int, source_alias: str, source_athlete_id: int, table: str) -> int:
    """Rows of the table (ids and links left out: they are renumbered) that differ between the athlete here and
    the athlete in the ATTACHed source database, counted both ways with EXCEPT ALL."""
    sql, _ = backup_format._export_select(cur, table, athlete_id)
    drop = {"id"} | {c for c, _p, _soft in backup_format._links_of(table)}
    # JSON compared by content (a JSON backup re-serialises it), everything else exactly
    cols = ", ".join(f'CAST(json("{c.name}") AS VARCHAR)' if c.type == "JSON" else f'"{c.name}"'
                     for c in backup_format.live_columns(cur, table) if c.name not in drop) or "1 AS only_links"
    here = f"SELECT {cols} FROM ({sql})"
    src_sql, _ = backup_format._export_select(cur, table, source_athlete_id)
    src_sql = src_sql.replace(f'FROM "{table}"', f'FROM {source_alias}."{table}"')
    for parent in backup_format.backup_tables():
        src_sql = src_sql.replace(f'FROM "{parent}" WHERE', f'FROM {source_alias}."{parent}" WHERE')
    there = f"SELECT {cols} FROM ({src_sql})"
    return cur.execute(f"SELECT (SELECT count(*) FROM ({here} EXCEPT ALL {there})) + "
                       f"(SELECT count(*) FROM ({there} EXCEPT ALL {here}))", [athlete_id, source_athlete_id,
                                                                              source_athlete_id, athlete_id]
                       ).fetchall()[0][0]


def _samples_by_ride(cur, athlete_id: int) -> dict[str, list[tuple]]:
    rows = cur.execute(
        "SELECT r.source || ':' || r.external_id, s.t_s, s.lat, s.lon, s.ele, s.dist_m, s.speed, s.hr, s.cadence, "
        "s.power, s.temp FROM ride_samples s JOIN rides r ON r.id = s.ride_id WHERE r.athlete_id = ? "
        "ORDER BY 1, s.t_s", [athlete_id]).fetchall()
    out: dict[str, list[tuple]] = {}
    for key, *values in rows:
        out.setdefault(key, []).append(tuple(values))
    return out


def _link_signature(cur, athlete_id: int) -> dict:
    """The links expressed through content rather than ids, to compare across databases."""
    def q(sql):
        return sorted(cur.execute(sql, [athlete_id]).fetchall(), key=repr)

    return {
        "duplicate_of": q("SELECT r.external_id, d.external_id FROM rides r JOIN rides d ON d.id = r.duplicate_of "
                          "WHERE r.athlete_id = ?"),
        "garmin_account": q("SELECT r.external_id, a.label FROM rides r JOIN garmin_accounts a ON a.id = r.account_id "
                            "WHERE r.athlete_id = ?"),
        "ride_route": q("SELECT r.external_id, o.name, o.point_count FROM rides r JOIN routes o ON o.id = r.route_id "
                        "WHERE r.athlete_id = ?"),
        "ride_tags": q("SELECT r.external_id, t.name FROM ride_tags x JOIN rides r ON r.id = x.ride_id "
                       "JOIN tags t ON t.id = x.tag_id WHERE r.athlete_id = ?"),
        "plan_parent": q("SELECT p.version, q.version FROM plans p JOIN plans q ON q.id = p.parent_plan_id "
                         "WHERE p.athlete_id = ?"),
        "rule_parent": q("SELECT r.text, q.text FROM rules r JOIN rules q ON q.id = r.parent_rule_id "
                         "WHERE r.athlete_id = ?"),
        "plan_rules": q("SELECT p.version, r.text FROM plan_rules x JOIN plans p ON p.id = x.plan_id "
                        "JOIN rules r ON r.id = x.rule_id WHERE p.athlete_id = ?"),
        "completed": q("SELECT w.type, r.external_id FROM planned_workouts w JOIN plans p ON p.id = w.plan_id "
                       "JOIN rides r ON r.id = w.completed_ride_id WHERE p.athlete_id = ?"),
        "analyses": q("SELECT r.external_id, p.version, a.kind FROM analyses a JOIN rides r ON r.id = a.ride_id "
                      "JOIN plans p ON p.id = a.plan_id WHERE r.athlete_id = ?"),
        "sync_log": q("SELECT g.label, s.imported FROM sync_log s JOIN garmin_accounts g ON g.id = s.account_id "
                      "WHERE g.athlete_id = ?"),
        "garmin_workouts": q("SELECT g.label, w.workout_date, w.garmin_workout_id FROM garmin_workouts w "
                             "JOIN garmin_accounts g ON g.id = w.account_id WHERE g.athlete_id = ?"),
    }


def test_the_backup_covers_every_linked_table_and_leaves_out_machine_wide_ones():
    tables = backup_format.backup_tables()
    assert tables[0] == "athletes"
    assert {"athlete_ftp_history", "routes", "route_points", "sections", "rides", "ride_samples", "tags",
            "ride_tags", "rules", "plans", "plan_rules", "planned_workouts", "analyses", "garmin_accounts",
            "sync_log", "garmin_workouts", "ride_mmp", "ftp_proposals", "climbs", "climb_efforts"} == set(tables[1:])
    assert not {"ai_cache", "ai_calls", "prompts", "audit_log", "data_changes", "schema_migrations"} & set(tables)


@pytest.mark.parametrize("fmt", ["zip", "json"])
def test_a_backup_restored_into_another_database_has_the_same_rows_samples_and_links(
        fmt, template, exported, other):
    path, athlete_id, _ = template
    result = backup_restore.restore_backup(other, exported[fmt], f"backup.{fmt}")
    source_db = connect(path, read_only=True)
    try:
        src = source_db.cursor()
        expected_rows = table_counts(src)
        assert _samples_by_ride(other, result.athlete_id) == _samples_by_ride(src, athlete_id)
        signature = _link_signature(src, athlete_id)
        assert _link_signature(other, result.athlete_id) == signature
    finally:
        source_db.close()
    other.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
    try:
        for table in backup_format.backup_tables():
            assert result.rows[table] == expected_rows[table], table  # the template holds one athlete
            assert _content_differences(other, result.athlete_id, "src", athlete_id, table) == 0, table
    finally:
        other.execute("DETACH src")
    assert all(signature.values()), "the template must exercise every link"
    assert result.athlete_name == "Demo Rider"


def test_a_backup_restores_as_a_new_athlete_with_fresh_ids_next_to_the_existing_ones(exported, other):
    existing = small_athlete(other, "Already Here")
    result = backup_restore.restore_backup(other, exported["zip"], "backup.zip")
    assert result.athlete_id != existing
    assert other.execute("SELECT count(*) FROM athletes").fetchall()[0][0] == 2
    # the existing athlete's rows are untouched and nothing of the restored one was attached to it
    assert other.execute("SELECT count(*) FROM plans WHERE athlete_id = ?", [existing]).fetchall()[0][0] == 2
    assert other.execute("SELECT count(*) FROM rides WHERE athlete_id = ?", [existing]).fetchall()[0][0] == 0


def test_restoring_bumps_the_data_version_and_writes_an_audit_line(exported, other):
    before = data_version(other)
    result = backup_restore.restore_backup(other, exported["zip"], "backup.zip")
    assert data_version(other) == before + 1
    assert other.execute("SELECT count(*) FROM audit_log WHERE action = 'restore' AND entity_id = ?",
                         [result.athlete_id]).fetchall()[0][0] == 1


def test_restoring_the_same_backup_twice_is_refused_and_changes_nothing(seeded, exported):
    cur, _ = seeded
    before = table_counts(cur)
    with pytest.raises(DuplicateError, match=r"already in this database.*Demo Rider.*Nothing was restored"):
        backup_restore.restore_backup(cur, exported["zip"], "backup.zip")
    assert table_counts(cur) == before


def test_a_backup_without_rides_restores_twice_as_two_athletes(cur):
    athlete_id = small_athlete(cur)
    data = backup_export.export_json(cur, athlete_id)
    first = backup_restore.restore_backup(cur, data, "small.json")
    second = backup_restore.restore_backup(cur, data, "small.json")
    assert len({athlete_id, first.athlete_id, second.athlete_id}) == 3
    assert first.rows == second.rows
    assert first.rows["plans"] == 2 and first.rows["rules"] == 2


def test_a_backup_holds_only_the_chosen_athlete(seeded):
    cur, athlete_id = seeded
    small_athlete(cur, "Somebody Else")
    data = backup_export.export_json(cur, athlete_id)
    assert b"Somebody Else" not in data
    document = json.loads(data)
    assert [a["name"] for a in json_rows(document, "athletes")] == ["Demo Rider"]
    own_plans = cur.execute("SELECT count(*) FROM plans WHERE athlete_id = ?", [athlete_id]).fetchone()[0]
    assert cur.execute("SELECT count(*) FROM plans WHERE athlete_id <> ?", [athlete_id]).fetchone()[0] > 0
    assert len(json_rows(document, "plans")) == own_plans  # not the other athlete's


@pytest.mark.parametrize("fmt", ["zip", "json"])
def test_a_backup_never_contains_garmin_tokens_their_folder_or_an_api_key(fmt, template, exported, monkeypatch):
    _, _, token_dir = template
    monkeypatch.setenv("VELOCOACH_AI_KEY", API_KEY)
    data = exported[fmt]
    if fmt == "zip":
        texts = [data] + [m for m in zip_members(data).values()]
        import pyarrow as pa
        import pyarrow.parquet as pq

        for name, member in zip_members(data).items():
            if name.endswith(".parquet"):
                texts.append(json.dumps(pq.read_table(pa.BufferReader(member)).to_pylist(), default=str).encode())
    else:
        texts = [data]
    assert (token_dir / "garmin_tokens.json").read_text().find(TOKEN_SECRET) >= 0  # the secret is on disk
    for text in texts:
        assert TOKEN_SECRET.encode() not in text
        assert API_KEY.encode() not in text
        assert str(token_dir).encode() not in text
        assert b"oauth" not in text.lower()
    if fmt == "json":
        accounts = json_rows(json.loads(data), "garmin_accounts")
        assert accounts and all(a["token_dir"] is None and a["label"] == "main watch" for a in accounts)


def test_the_manifest_names_format_versions_and_per_table_checksums(exported):
    manifest = json.loads(zip_members(exported["zip"])["manifest.json"])
    assert manifest["format"] == "velocoach-backup" and manifest["format_version"] == 1
    assert manifest["schema_version"] >= 1 and manifest["app_version"] and manifest["exported_at"]
    assert set(manifest["tables"]) == set(backup_format.backup_tables())
    assert manifest["tables"]["ride_samples"]["rows"] > 5_000
    assert set(zip_members(exported["zip"])) == {"manifest.json"} | {e["file"] for e in manifest["tables"].values()}


def test_a_failure_half_way_through_a_restore_leaves_nothing_behind(seeded, exported, tmp_path, monkeypatch):
    other_db = connect(tmp_path / "o.duckdb")
    cur = other_db.cursor()
    before = table_counts(cur)
    real_insert = backup_restore._insert_table

    def failing(cur, bkp, table, view, maps):
        if table == "rides":  # athletes, routes and points are already inserted by now
            raise RuntimeError("disk full")
        return real_insert(cur, bkp, table, view, maps)

    monkeypatch.setattr(backup_restore, "_insert_table", failing)
    with pytest.raises(RuntimeError):
        backup_restore.restore_backup(cur, exported["zip"], "backup.zip")
    assert table_counts(cur) == before  # no rows, no left-over temp tables or views
    monkeypatch.setattr(backup_restore, "_insert_table", real_insert)
    expected_rides = backup_validate.read_backup(cur, exported["zip"], "backup.zip").row_counts["rides"]
    assert expected_rides > 0
    assert backup_restore.restore_backup(cur, exported["zip"], "backup.zip").rows["rides"] == expected_rides
    other_db.close()


def test_an_unknown_athlete_or_format_is_a_clear_error(cur):
    with pytest.raises(NotFoundError, match="Athlete #999"):
        backup_export.export_backup(cur, 999, "zip")
    athlete_id = small_athlete(cur)
    with pytest.raises(ExportImportError, match="choose zip or json"):
        backup_export.export_backup(cur, athlete_id, "xml")


def test_the_summary_previews_what_a_backup_holds(exported, other, template):
    parsed = backup_validate.read_backup(other, exported["zip"], "backup.zip")
    summary = parsed.summary()
    source = connect(template[0])
    source_rides = source.cursor().execute("SELECT count(*) FROM rides").fetchone()[0]
    source.close()
    assert summary["athlete"] == "Demo Rider" and summary["format"] == "zip"
    assert summary["rows"]["rides"] == source_rides > 0 and summary["first_ride"] <= summary["last_ride"]
    assert table_counts(other)["athletes"] == 0  # reading is not restoring
