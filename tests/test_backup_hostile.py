"""Bad backups: broken, empty, huge, hostile (zip-slip, symlinks, zip bombs) and wrong versions. Each gives a clear
error naming the file and the reason, and leaves every table exactly as it was."""

from __future__ import annotations

import io
import json
import stat
import warnings
import zipfile

import pyarrow as pa
import pytest

from core.errors import ExportImportError
from core.store import backup_export, backup_format, backup_restore, backup_validate
from core.store.db import connect, table_counts
from tests.test_backup_helpers import (
    as_rows_document,
    build_zip,
    parquet_bytes,
    read_member_table,
    rebuild,
    small_athlete,
    zip_members,
)


@pytest.fixture(scope="module")
def small_backups(tmp_path_factory):
    """A small athlete's ZIP and JSON backups, made once; each test restores a damaged copy into its own database."""
    db = connect(tmp_path_factory.mktemp("hostile") / "source.duckdb")
    try:
        athlete_id = small_athlete(db.cursor())
        return {"zip": backup_export.export_zip(db.cursor(), athlete_id), "json": backup_export.export_json(db.cursor(), athlete_id)}
    finally:
        db.close()


@pytest.fixture
def small(small_backups, cur):
    small_athlete(cur, "Already Here")  # the target database is not empty: its rows must survive every refusal
    # The JSON cases edit the old one-object-per-row layout (format 1), which VeloCoach still reads.
    return {"zip": small_backups["zip"], "json": as_rows_document(small_backups["json"])}


def _refused(cur, data: bytes, filename: str, match: str, limits: backup_format.Limits = backup_format.DEFAULT_LIMITS) -> str:
    before = table_counts(cur)
    with pytest.raises(ExportImportError, match=match) as info:
        backup_restore.restore_backup(cur, data, filename, limits)
    assert table_counts(cur) == before
    message = str(info.value)
    assert message.startswith(f"{filename}: ") and message.endswith("Nothing was restored.")
    return message


def test_the_small_backup_itself_restores(cur, small):
    """The base for every case below is good: each failure comes from the one thing broken in it."""
    assert backup_restore.restore_backup(cur, small["zip"], "small.zip").rows["plans"] == 2
    assert backup_restore.restore_backup(cur, json.dumps(small["json"]).encode(), "small.json").rows["rules"] == 2


# ------------------------------------------------------------------------------------------------------- ZIP


@pytest.mark.parametrize("name", ["../athletes.parquet", "/etc/cron.d/athletes.parquet", "sub/athletes.parquet",
                                  "..\\..\\athletes.parquet", "C:athletes.parquet", "..", "dir/"])
def test_zip_slip_member_names_are_refused(cur, small, name):
    _refused(cur, rebuild(small["zip"], extra=[(name, b"x")]), "slip.zip", "not a plain file name|folder")


def test_a_symlink_member_is_refused(cur, small):
    link = zipfile.ZipInfo("tags.parquet")
    link.create_system = 3  # unix
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = zip_members(small["zip"])
    members.pop("tags.parquet")
    data = build_zip([(link, b"/etc/passwd")] + list(members.items()))
    _refused(cur, data, "symlink_member.zip", "symbolic link")


def test_a_member_stored_twice_is_refused(cur, small):
    second = zip_members(small["zip"])["athletes.parquet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we are making on purpose
        data = rebuild(small["zip"], extra=[("athletes.parquet", second)])
    _refused(cur, data, "duplicate_member.zip", "twice")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(cur, small):
    bomb = zipfile.ZipInfo("ride_samples.parquet")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    members = zip_members(small["zip"])
    members.pop("ride_samples.parquet")
    data = build_zip([(bomb, bytes(64 * 1024**2))] + list(members.items()))
    assert len(data) < 200_000  # 64 MB of zeros in a ~64 KB file
    message = _refused(cur, data, "zip_bomb.zip", "zip bomb")
    assert "ride_samples.parquet" in message


def test_members_adding_up_to_more_than_the_limit_are_refused(cur, small):
    _refused(cur, small["zip"], "big.zip", "would unpack to", backup_format.Limits(max_total_bytes=10_000))


def test_a_backup_over_the_size_limit_is_refused_unread(cur, small):
    _refused(cur, small["zip"], "huge.zip", "over the .* limit", backup_format.Limits(max_file_bytes=1000))


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_a_truncated_zip_is_refused(cur, small, cut):
    data = small["zip"][: int(len(small["zip"]) * cut)]
    _refused(cur, data, "truncated.zip", "damaged or truncated")


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + bytes(100), b"hello, this is not a backup",
                                  b"<?xml version='1.0'?><gpx/>"])
def test_bytes_that_are_not_a_backup_are_refused(cur, data):
    _refused(cur, data, "not_a_backup.bin", "neither a VeloCoach ZIP backup nor a JSON backup")


@pytest.mark.parametrize("data", [b"", b"   \n\t"])
def test_an_empty_file_is_refused(cur, data):
    _refused(cur, data, "empty.zip", "the file is empty")


def test_a_member_that_does_not_match_its_checksum_is_refused(cur, small):
    table = read_member_table(small["zip"], "athletes.parquet")
    table = table.set_column(table.column_names.index("name"), "name", pa.array(["Mallory"]))
    data = rebuild(small["zip"], replace={"athletes.parquet": parquet_bytes(table)}, fix_checksums=False)
    _refused(cur, data, "altered.zip", "athletes.parquet does not match its checksum")


def test_a_zip_without_manifest_is_refused(cur, small):
    members = zip_members(small["zip"])
    members.pop("manifest.json")
    _refused(cur, build_zip(list(members.items())), "no_manifest.zip", "no manifest.json")


def test_a_member_the_manifest_does_not_list_is_refused(cur, small):
    _refused(cur, rebuild(small["zip"], extra=[("notes.txt", b"hi")]), "extra_member.zip",
             "'notes.txt', which its manifest does not list")


def test_a_member_the_manifest_lists_but_the_zip_lacks_is_refused(cur, small):
    members = zip_members(small["zip"])
    members.pop("tags.parquet")
    _refused(cur, build_zip(list(members.items())), "missing_member.zip", "lacks tags.parquet")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda m: m.update(format_version=3), "made by a newer VeloCoach .backup format 3"),
    (lambda m: m.pop("format_version"), "does not say which format version"),
    (lambda m: m.update(format_version="one"), "format version 'one' is not one VeloCoach knows"),
    (lambda m: m.update(format="someone-elses-backup"), "not a VeloCoach backup"),
    (lambda m: m.update(schema_version=999), "newer VeloCoach .database schema 999"),
    (lambda m: m["tables"]["athletes"].update(file="../../athletes.parquet"), "expected athletes.parquet"),
    (lambda m: m["tables"]["athletes"].update(rows=5), "holds 1 rows, the manifest says 5"),
    (lambda m: m["tables"]["athletes"].update(sha256="not-a-checksum"), "no SHA-256 checksum"),
    (lambda m: m.update(tables=[]), "lists no tables"),
], ids=["newer-format", "no-format-version", "bad-format-version", "other-format", "newer-schema", "path-in-file",
        "row-count", "bad-checksum-field", "tables-not-a-dict"])
def test_a_bad_manifest_is_refused(cur, small, edit, match):
    _refused(cur, rebuild(small["zip"], manifest_edit=edit), "bad_manifest.zip", match)


def test_a_broken_manifest_is_refused(cur, small):
    members = zip_members(small["zip"])
    members["manifest.json"] = b'{"format": "velocoach-backup", "format_'
    _refused(cur, build_zip(list(members.items())), "broken_manifest.zip", "manifest.json is not valid JSON")


def test_a_member_that_is_not_parquet_is_refused_even_with_a_matching_checksum(cur, small):
    data = rebuild(small["zip"], replace={"tags.parquet": b"PAR1 this is not really parquet PAR1"})
    _refused(cur, data, "junk_member.zip", "tags.parquet is not a readable Parquet table")


def test_a_column_of_the_wrong_type_is_refused_and_named(cur, small):
    plans = read_member_table(small["zip"], "plans.parquet")
    index = plans.column_names.index("duration_weeks")
    plans = plans.set_column(index, "duration_weeks", pa.array(["four", "six"]))
    data = rebuild(small["zip"], replace={"plans.parquet": parquet_bytes(plans)})
    _refused(cur, data, "wrong_type.zip", "plans.duration_weeks holds 2 value.s. that are not integer")


def test_a_column_of_a_kind_that_cannot_be_cast_at_all_is_refused(cur, small):
    plans = read_member_table(small["zip"], "plans.parquet")
    index = plans.column_names.index("duration_weeks")
    plans = plans.set_column(index, "duration_weeks", pa.array([[1, 2], [3]]))
    data = rebuild(small["zip"], replace={"plans.parquet": parquet_bytes(plans)})
    _refused(cur, data, "list_for_number.zip", "plans.duration_weeks")


def test_text_that_is_not_json_in_a_json_column_is_refused(cur, small):
    rules = read_member_table(small["zip"], "rules.parquet")
    rules = rules.set_column(rules.column_names.index("parsed"), "parsed", pa.array(["{not json", "{}"]))
    data = rebuild(small["zip"], replace={"rules.parquet": parquet_bytes(rules)})
    _refused(cur, data, "bad_json_column.zip", "rules.parsed holds 1 value.s. that are not json")


# ------------------------------------------------------------------------------------------------------ JSON


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def _edited(doc, fn):
    doc = json.loads(json.dumps(doc))
    fn(doc)
    return _json(doc)


def test_broken_json_is_refused_with_its_position(cur, small):
    data = _json(small["json"])
    message = _refused(cur, data[: len(data) // 2], "truncated.json", "not valid JSON")
    assert "line 1" in message


def test_json_nested_without_end_is_refused(cur):
    _refused(cur, b'{"a":' * 200_000 + b"1" + b"}" * 200_000, "deep.json", "nested too deeply")


def test_json_that_is_not_utf8_is_refused(cur):
    _refused(cur, b'{"format": "\xff\xfe"}', "latin.json", "not UTF-8")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d.update(format_version=3), "made by a newer VeloCoach"),
    (lambda d: d.update(format_version=0), "format version '0' is not one VeloCoach knows"),
    (lambda d: d.pop("format_version"), "does not say which format version"),
    (lambda d: d.update(format_version=True), "is not one VeloCoach knows"),
    (lambda d: d.pop("format"), "not a VeloCoach backup"),
    (lambda d: d.update(schema_version=999), "newer VeloCoach .database schema 999"),
    (lambda d: d.pop("schema_version"), "which database schema"),
    (lambda d: d.pop("tables"), "lists no tables"),
    (lambda d: d["tables"].pop("plans"), "lacks the table.s. plans"),
    (lambda d: d["tables"].update(secrets=[]), "table 'secrets' that this VeloCoach does not back up"),
    (lambda d: d["tables"].update(tags={"name": "race"}), "table tags is not a list of records"),
    (lambda d: d["tables"]["plans"][0].update(duration_weeks="four"), "plans.duration_weeks holds 1 value"),
    (lambda d: d["tables"]["athletes"][0].update(max_hr=10**30), "athletes.max_hr"),
    (lambda d: d["tables"]["plans"][0].update(start_date="next tuesday"), "plans.start_date"),
    (lambda d: d["tables"]["athletes"][0].update(name=None), "athletes.name is empty in 1 row"),
    (lambda d: d["tables"]["athletes"][0].update(shoe_size=44), "column 'shoe_size' this VeloCoach does not know"),
    (lambda d: (d["tables"]["athletes"].append(dict(d["tables"]["athletes"][0], id=77)), d.pop("row_counts")),
     "exactly one athlete"),
    (lambda d: (d["tables"]["athletes"].clear(), d.pop("row_counts")), "exactly one athlete"),
    (lambda d: d["tables"]["plan_rules"][0].update(rule_id=99999), "plan_rules.rule_id point at rules missing"),
    (lambda d: d["tables"]["plans"][1].update(id=d["tables"]["plans"][0]["id"]), "plans uses the same id twice"),
    (lambda d: [r.pop("id") for r in d["tables"]["plans"]], "plans lacks its id column"),
    (lambda d: d["tables"]["plans"][0].pop("id"), "plans.id is empty in 1 row"),
    (lambda d: [r.pop("rule_version") for r in d["tables"]["plan_rules"]], "lacks the required column rule_version"),
    (lambda d: d["row_counts"].update(plans=3), "holds 2 records but the backup says 3"),
    (lambda d: (d["tables"]["tags"].append({}), d.pop("row_counts")), "tags.id is empty in 1 row"),
    (lambda d: d["tables"]["tags"][0].update({"bad name!": 1}), "malformed column name"),
], ids=["newer-format", "zero-format", "no-format-version", "bool-format-version", "no-format", "newer-schema",
        "no-schema", "no-tables", "missing-table", "unknown-table", "records-not-a-list", "text-for-integer",
        "integer-overflow", "bad-date", "required-null", "unknown-column", "two-athletes",
        "no-athlete", "dangling-link", "duplicate-id", "missing-id", "one-missing-id", "missing-required-column", "row-count",
        "empty-record", "bad-column-name"])
def test_a_bad_json_backup_is_refused_and_named(cur, small, edit, match):
    _refused(cur, _edited(small["json"], edit), "bad.json", match)


def test_a_json_string_in_a_json_column_round_trips_as_a_string(cur, small):
    data = _edited(small["json"], lambda d: d["tables"]["rules"][0].update(parsed="just text"))
    restored = backup_restore.restore_backup(cur, data, "string.json").athlete_id
    values = [r[0] for r in cur.execute("SELECT parsed FROM rules WHERE athlete_id = ? ORDER BY id", [restored]).fetchall()]
    assert json.loads(values[0]) == "just text"


def test_a_json_backup_over_the_size_limit_is_refused(cur, small):
    _refused(cur, _json(small["json"]), "huge.json", "over the", backup_format.Limits(max_file_bytes=100))


def test_a_json_backup_with_more_rows_than_allowed_is_refused(cur, small):
    _refused(cur, _json(small["json"]), "many.json", "more rows", backup_format.Limits(max_rows=3))


def test_reading_a_backup_registers_nothing_that_outlives_it(cur, small):
    before = table_counts(cur)
    backup_validate.read_backup(cur, small["zip"], "small.zip")
    with pytest.raises(ExportImportError):
        backup_validate.read_backup(cur, _edited(small["json"], lambda d: d["tables"]["plans"][0].update(id="x")), "b.json")
    assert table_counts(cur) == before


def test_zip_members_are_streamed_with_a_cap_whatever_their_header_says(small):
    """A member that unpacks past its declared size is cut off (the cap is enforced while reading)."""
    with zipfile.ZipFile(io.BytesIO(small["zip"])) as zf:
        info = zf.getinfo("athletes.parquet")
        with pytest.raises(ExportImportError, match="larger than allowed"):
            backup_validate._read_member(zf, info, info.file_size - 1, "capped.zip")
        assert backup_validate._read_member(zf, info, info.file_size, "capped.zip") == zf.read(info)


def test_a_parquet_member_that_decodes_past_the_budget_is_refused_while_decoding(cur, small):
    # ~2 MB of one repeated long text: a few KB in Parquet (dictionary + RLE), 2 MB once decoded
    tags = read_member_table(small["zip"], "tags.parquet")
    many = pa.table({"id": pa.array([1] * 20_000), "athlete_id": pa.array([tags["athlete_id"][0].as_py()] * 20_000),
                     "name": pa.array(["x" * 100] * 20_000)})
    data = rebuild(small["zip"], replace={"tags.parquet": parquet_bytes(many)})
    assert len(data) < 100_000
    _refused(cur, data, "parquet_bomb.zip", "tags.parquet decodes to more than",
             backup_format.Limits(max_total_bytes=1_000_000))
