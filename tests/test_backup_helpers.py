"""Helpers (no tests) for tests/test_backup*.py: a seeded athlete with a row in every backed-up table, ZIP surgery."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect, transaction

TOKEN_SECRET = "oauth2-SECRET-token-value-7f3a9c"
API_KEY = "sk-test-APIKEY-never-exported-123"


def add_coach_rows(cur, athlete_id: int, token_dir: Path | None) -> dict:
    """Tags, rules, plans (with a version link), workouts, analyses, a Garmin account and a Garmin ride."""
    ids = {}
    rides = [r[0] for r in cur.execute("SELECT id FROM rides WHERE athlete_id = ? ORDER BY id", [athlete_id]).fetchall()]
    ids["tag"] = cur.execute("INSERT INTO tags (athlete_id, name) VALUES (?, 'race') RETURNING id",
                             [athlete_id]).fetchall()[0][0]
    if rides:
        cur.execute("INSERT INTO ride_tags VALUES (?, ?)", [rides[0], ids["tag"]])
    rule1 = cur.execute("INSERT INTO rules (athlete_id, name, text, parsed) VALUES (?, 'rest', 'rest on Mondays', "
                        "'{\"days\": [\"mon\"]}') RETURNING id", [athlete_id]).fetchall()[0][0]
    rule2 = cur.execute("INSERT INTO rules (athlete_id, name, text, parsed, version, parent_rule_id) VALUES "
                        "(?, 'rest', 'rest on Mondays and Fridays', '{}', 2, ?) RETURNING id",
                        [athlete_id, rule1]).fetchall()[0][0]
    plan1 = cur.execute("INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, plan) VALUES "
                        "(?, 'Base', DATE '2026-01-05', DATE '2026-02-01', 4, '{\"weeks\": []}') RETURNING id",
                        [athlete_id]).fetchall()[0][0]
    plan2 = cur.execute("INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, plan, version, "
                        "parent_plan_id, active) VALUES (?, 'Base', DATE '2026-01-05', DATE '2026-02-01', 4, "
                        "'{\"weeks\": [1]}', 2, ?, true) RETURNING id", [athlete_id, plan1]).fetchall()[0][0]
    cur.execute("INSERT INTO plan_rules VALUES (?, ?, 2)", [plan2, rule2])
    cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, completed_ride_id) VALUES "
                "(?, DATE '2026-01-06', 'endurance', 90, ?), (?, DATE '2026-01-07', 'rest', 0, NULL)",
                [plan2, rides[0] if rides else None, plan2])
    if rides:
        cur.execute("INSERT INTO analyses (ride_id, plan_id, kind, feedback) VALUES (?, ?, 'ride', "
                    "'{\"note\": \"good\"}')", [rides[0], plan2])
    account = cur.execute("INSERT INTO garmin_accounts (athlete_id, label, token_dir) VALUES (?, 'main watch', ?) "
                          "RETURNING id", [athlete_id, str(token_dir) if token_dir else None]).fetchall()[0][0]
    cur.execute("INSERT INTO sync_log (account_id, status, listed, imported) VALUES (?, 'ok', 3, 1)", [account])
    cur.execute("INSERT INTO garmin_workouts (account_id, workout_date, garmin_workout_id, garmin_schedule_id, "
                "content_hash, name, workout_type, plan_name, plan_version) VALUES (?, DATE '2026-01-06', "
                "900000002, 900000003, 'ab12', 'Endurance 90 min · 2026-01-06', 'endurance', 'Base', 2)", [account])
    if rides:
        # A Garmin copy of the first ride (account link + duplicate_of self-link), with the same samples.
        garmin = cur.execute(
            "INSERT INTO rides (athlete_id, source, account_id, external_id, duplicate_of, name, started_at, raw) "
            "SELECT athlete_id, 'garmin', ?, '123456789', id, name, started_at, '{\"activityId\": 123456789}' "
            "FROM rides WHERE id = ? RETURNING id", [account, rides[0]]).fetchall()[0][0]
        cur.execute("INSERT INTO ride_samples SELECT ?, t_s, lat, lon, ele, dist_m, speed, hr, cadence, power, temp "
                    "FROM ride_samples WHERE ride_id = ?", [garmin, rides[0]])
    ids.update(rules=[rule1, rule2], plans=[plan1, plan2], account=account)
    return ids


def build_template(path: Path, token_dir: Path) -> int:
    """Demo season (~2.5 weeks, 10 rides) + coach rows; returns the athlete id."""
    from core.demo import seed_demo

    token_dir.mkdir(parents=True, exist_ok=True)
    (token_dir / "garmin_tokens.json").write_text(json.dumps({"oauth2_token": TOKEN_SECRET}))
    db = connect(path)
    cur = db.cursor()
    with transaction(cur):
        athlete_id = seed_demo(cur, years=0.05, end=date(2026, 6, 1))["athlete_id"]  # fixed: same rides any day
        # Keep every 10th sample and recorded-route point: the same shapes, ten times less to copy in each test.
        cur.execute("DELETE FROM ride_samples WHERE CAST(t_s AS INTEGER) % 10 <> 0")
        cur.execute("DELETE FROM route_points WHERE seq % 10 <> 0 AND route_id IN "
                    "(SELECT id FROM routes WHERE kind = 'recorded')")
        add_coach_rows(cur, athlete_id, token_dir)
    db.close()
    return athlete_id


def small_athlete(cur, name: str = "Small Rider") -> int:
    """An athlete without rides: fast to back up, used for the hostile-input cases."""
    with transaction(cur):
        athlete_id = create_athlete(cur, AthleteProfile(name=name, ftp_w=240, max_hr=180))
        add_coach_rows(cur, athlete_id, None)
    return athlete_id


def copy_db(template: Path, target: Path) -> None:
    shutil.copy(template, target)


# ------------------------------------------------------------------------------------------------ ZIP surgery


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def build_zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()


def rebuild(data: bytes, *, manifest_edit=None, replace: dict[str, bytes] | None = None,
            extra: list[tuple[str | zipfile.ZipInfo, bytes]] | None = None, fix_checksums: bool = True) -> bytes:
    """Copy a backup ZIP, editing the manifest / replacing members (checksums and rows fixed unless told)."""
    members = zip_members(data)
    manifest = json.loads(members.pop("manifest.json"))
    for name, content in (replace or {}).items():
        members[name] = content
        table = name.removesuffix(".parquet")
        if fix_checksums and table in manifest["tables"]:
            manifest["tables"][table]["sha256"] = hashlib.sha256(content).hexdigest()
            try:
                manifest["tables"][table]["rows"] = pq.ParquetFile(pa.BufferReader(content)).metadata.num_rows
            except Exception:  # noqa: BLE001 — junk on purpose
                pass
    if manifest_edit:
        manifest_edit(manifest)
    items = [("manifest.json", json.dumps(manifest).encode())] + list(members.items()) + list(extra or [])
    return build_zip(items)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def read_member_table(data: bytes, member: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(zip_members(data)[member]))


_SHARED: dict = {}


def shared_template(tmp_path_factory) -> tuple[Path, int, Path]:
    """(database, athlete id, token folder) built once per test session and shared by the backup test modules
    (tests copy the file before writing to it)."""
    if not _SHARED:
        base = tmp_path_factory.mktemp("backup_template")
        token_dir = base / "tokens" / "1"
        athlete_id = build_template(base / "template.duckdb", token_dir)
        _SHARED.update(value=(base / "template.duckdb", athlete_id, token_dir))
    return _SHARED["value"]


def json_rows(document: dict, table: str) -> list[dict]:
    """A table of a JSON backup as row objects, whatever its layout (format 2 columnar chunks or format 1 rows)."""
    entry = document["tables"][table]
    if isinstance(entry, list):
        return entry
    rows = []
    for chunk in entry["chunks"]:
        names = list(chunk)
        rows += [dict(zip(names, values, strict=True)) for values in zip(*chunk.values(), strict=True)]
    return rows


def as_rows_document(data: bytes) -> dict:
    """A JSON backup in the old one-object-per-row layout (format 1), as earlier versions wrote it."""
    document = json.loads(data)
    document["tables"] = {table: json_rows(document, table) for table in document["tables"]}
    document["format_version"] = 1
    return document
