"""Reading and validating a backup before anything is written: format and versions, ZIP member names (zip-slip,
links, duplicates), sizes and compression ratio, checksums, columns, types, NOT NULL, unique ids and the links
inside the backup. A backup that passes is a ``Backup`` of Arrow tables, ready for ``core.store.backup_restore``."""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ExportImportError
from core.store.backup_format import (
    DEFAULT_LIMITS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ROOT_TABLE,
    Column,
    Limits,
    _links_of,
    _q,
    backup_tables,
    live_columns,
    live_schema,
    log,
)
from core.store.db import schema_version

# ------------------------------------------------------------------------------------------------------ reading


@dataclass
class Backup:
    """A backup read and validated against this database's schema, ready to preview or restore."""

    filename: str
    kind: str                                  # zip | json
    manifest: dict
    tables: dict[str, pa.Table] = field(repr=False)
    schema: dict[str, list[Column]] = field(default_factory=dict, repr=False)

    @property
    def row_counts(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}

    def summary(self) -> dict:
        athletes = self.tables[ROOT_TABLE].select(["name"]).to_pylist()
        rides = self.tables.get("rides")
        first = last = None
        if rides is not None and rides.num_rows and "started_at" in rides.column_names:
            starts = [v for v in rides.column("started_at").to_pylist() if v]
            if starts:
                first, last = str(min(starts))[:10], str(max(starts))[:10]
        return {"file": self.filename, "format": self.kind, "athlete": athletes[0]["name"],
                "exported_at": self.manifest.get("exported_at"), "app_version": self.manifest.get("app_version"),
                "schema_version": self.manifest.get("schema_version"), "first_ride": first, "last_ride": last,
                "rows": self.row_counts}


def _fail(filename: str, reason: str) -> ExportImportError:
    return ExportImportError(f"{filename}: {reason}. Nothing was restored.")


def read_backup(cur, data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> Backup:
    """Read and validate a ZIP or JSON backup. Raises ExportImportError naming the file and the reason."""
    if len(data) > limits.max_file_bytes:
        raise _fail(filename, f"the file is {len(data) / 1048576:.0f} MB, over the "
                              f"{limits.max_file_bytes / 1048576:.0f} MB limit for backups")
    if not data.strip():
        raise _fail(filename, "the file is empty")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        manifest, tables, kind = *_read_zip(data, filename, limits), "zip"
    elif data.lstrip()[:1] == b"{":
        json_columns = {t: {c.name for c in cols if c.type == "JSON"} for t, cols in live_schema(cur).items()}
        manifest, tables, kind = *_read_json(data, filename, limits, json_columns), "json"
    else:
        raise _fail(filename, "this is neither a VeloCoach ZIP backup nor a JSON backup")
    backup = Backup(filename, kind, manifest, tables)
    _validate_against_schema(cur, backup)
    return backup


def _check_manifest(manifest, filename: str, cur_schema: int | None = None) -> None:
    if not isinstance(manifest, dict):
        raise _fail(filename, "the backup's manifest is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise _fail(filename, "this is not a VeloCoach backup (its format is "
                              f"{str(manifest.get('format'))[:40]!r}, expected {FORMAT!r})")
    version = manifest.get("format_version")
    if version is None:
        raise _fail(filename, "the backup does not say which format version it uses")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(filename, f"the backup's format version {str(version)[:20]!r} is not one VeloCoach knows")
    if version > FORMAT_VERSION:
        raise _fail(filename, f"the backup was made by a newer VeloCoach (backup format {version}; this version "
                              f"reads up to {FORMAT_VERSION}). Update VeloCoach to restore it")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise _fail(filename, "the backup does not say which database schema it was made with")
    if not isinstance(manifest.get("tables"), dict):
        raise _fail(filename, "the backup lists no tables")


def _read_zip(data: bytes, filename: str, limits: Limits) -> tuple[dict, dict[str, pa.Table]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _fail(filename, "the ZIP file is damaged or truncated (its table of contents cannot be read)") from None
    with zf:
        names = [info.filename for info in infos]
        for info in infos:
            _check_member_name(info, filename)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})[0]
            raise _fail(filename, f"the ZIP holds the member {dup!r} twice (a trick to smuggle in a second copy)")
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            raise _fail(filename, f"the ZIP would unpack to {total / 1048576:.0f} MB, over the "
                                  f"{limits.max_total_bytes / 1048576:.0f} MB limit")
        for info in infos:
            if info.file_size > 1024**2 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise _fail(filename, f"the member {info.filename!r} unpacks {info.file_size / max(info.compress_size, 1):.0f}"
                                      " times its size: it looks like a zip bomb")
        if MANIFEST not in names:
            raise _fail(filename, "the ZIP has no manifest.json: it is not a VeloCoach backup")
        raw_manifest = _read_member(zf, zf.getinfo(MANIFEST), limits.max_manifest_bytes, filename)
        try:
            manifest = json.loads(raw_manifest.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _fail(filename, "manifest.json is not valid JSON") from None
        _check_manifest(manifest, filename)
        expected = {MANIFEST}
        entries = manifest["tables"]
        for table, entry in entries.items():
            if not isinstance(entry, dict) or not isinstance(table, str) or not re.fullmatch(r"[a-z_]{1,64}", table):
                raise _fail(filename, f"the manifest entry for {str(table)[:40]!r} is malformed")
            if entry.get("file") != f"{table}.parquet":
                raise _fail(filename, f"the manifest names the file {str(entry.get('file'))[:60]!r} for the table "
                                      f"{table}; expected {table}.parquet")
            if not isinstance(entry.get("rows"), int) or entry["rows"] < 0:
                raise _fail(filename, f"the manifest gives no row count for {table}")
            if not isinstance(entry.get("sha256"), str) or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
                raise _fail(filename, f"the manifest gives no SHA-256 checksum for {table}")
            expected.add(entry["file"])
        extra = sorted(set(names) - expected)
        if extra:
            raise _fail(filename, f"the ZIP holds {extra[0]!r}, which its manifest does not list")
        missing = sorted(expected - set(names))
        if missing:
            raise _fail(filename, f"the ZIP lacks {missing[0]}, which its manifest lists")
        if sum(e["rows"] for e in entries.values()) > limits.max_rows:
            raise _fail(filename, "the backup declares more rows than VeloCoach restores at once")
        budget = limits.max_total_bytes
        tables: dict[str, pa.Table] = {}
        for table, entry in entries.items():
            info = zf.getinfo(entry["file"])
            raw = _read_member(zf, info, info.file_size, filename)
            if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                raise _fail(filename, f"{entry['file']} does not match its checksum: the backup is damaged or was "
                                      "altered")
            try:
                parquet = pq.ParquetFile(pa.BufferReader(raw))
                meta = parquet.metadata
                unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
                if meta.num_rows != entry["rows"]:
                    raise _fail(filename, f"{entry['file']} holds {meta.num_rows} rows, the manifest says "
                                          f"{entry['rows']}")
                budget -= unpacked
                if budget < 0:
                    raise _fail(filename, "the tables would unpack to more than "
                                          f"{limits.max_total_bytes / 1048576:.0f} MB")
                # Decoded in batches with a running total: dictionary/RLE pages can decode far larger than their
                # declared size (a Parquet-level bomb), so the budget is enforced while decoding.
                batches, decoded = [], 0
                for batch in parquet.iter_batches(batch_size=65_536):
                    decoded += batch.nbytes
                    if decoded > limits.max_total_bytes:
                        raise _fail(filename, f"{entry['file']} decodes to more than "
                                              f"{limits.max_total_bytes / 1048576:.0f} MB")
                    batches.append(batch)
                tables[table] = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
            except ExportImportError:
                raise
            except (pa.ArrowException, OSError, ValueError):
                raise _fail(filename, f"{entry['file']} is not a readable Parquet table") from None
    return manifest, tables


def _check_member_name(info: zipfile.ZipInfo, filename: str) -> None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _fail(filename, f"the ZIP member {name!r} is a symbolic link; backups never contain links")
    if (name.startswith(("/", "\\")) or "\\" in name or "/" in name or ".." in name or ":" in name
            or name in ("", ".") or "\x00" in name):
        raise _fail(filename, f"the ZIP member name {name[:80]!r} is not a plain file name (a path that could "
                              "write outside its folder is refused)")
    if info.is_dir():
        raise _fail(filename, f"the ZIP holds a folder {name!r}; backups hold plain files only")
    if info.flag_bits & 0x1:
        raise _fail(filename, f"the ZIP member {name!r} is encrypted; VeloCoach backups are not")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, filename: str) -> bytes:
    """Stream a member with a hard cap, whatever its header declares."""
    if info.file_size > cap:
        raise _fail(filename, f"{info.filename} is larger than allowed ({info.file_size} bytes)")
    chunks, size = [], 0
    try:
        with zf.open(info) as handle:
            while chunk := handle.read(1 << 20):
                size += len(chunk)
                if size > cap or size > info.file_size:
                    raise _fail(filename, f"{info.filename} unpacks to more than its declared size: refused")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _fail(filename, f"{info.filename} cannot be unpacked: the ZIP is damaged or truncated "
                              f"({str(exc)[:80]})") from None
    return b"".join(chunks)


def _read_json(data: bytes, filename: str, limits: Limits,
               json_columns: dict[str, set[str]]) -> tuple[dict, dict[str, pa.Table]]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _fail(filename, "the file is not UTF-8 text") from None
    except RecursionError:
        raise _fail(filename, "the JSON is nested too deeply") from None
    except ValueError as exc:
        reason = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if hasattr(exc, "lineno") else str(exc)[:80]
        raise _fail(filename, f"the file is not valid JSON ({reason}); it may be truncated") from None
    _check_manifest(document, filename)
    counts = document.get("row_counts") if isinstance(document.get("row_counts"), dict) else {}
    tables: dict[str, pa.Table] = {}
    total = 0
    for table, records in document["tables"].items():
        if not isinstance(table, str) or not re.fullmatch(r"[a-z_]{1,64}", table):
            raise _fail(filename, f"the table name {str(table)[:40]!r} is malformed")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise _fail(filename, f"the table {table} is not a list of records")
        if table in counts and counts[table] != len(records):
            raise _fail(filename, f"the table {table} holds {len(records)} records but the backup says "
                                  f"{counts[table]}: it is incomplete")
        total += len(records)
        if total > limits.max_rows:
            raise _fail(filename, "the backup holds more rows than VeloCoach restores at once")
        tables[table] = _records_to_arrow(table, records, filename, json_columns.get(table, set()))
    return document, tables


def _records_to_arrow(table: str, records: list[dict], filename: str, json_columns: set[str]) -> pa.Table:
    """Records to an Arrow table. JSON columns hold JSON values in the document: each is serialised back to
    text (a string there is a JSON string). Other columns keep their JSON kind; the type check casts them.

    Arrow infers the whole table from the list of dicts in C (a struct array: ~10x faster than per-column Python
    loops); a table whose values do not share a kind per column takes the per-column path, which keeps a mixed
    column as text so that the type check can name it."""
    if not records:
        return pa.table({})
    names = set().union(*records)
    for key in names:
        if not isinstance(key, str) or not re.fullmatch(r"[a-z_][a-z0-9_]{0,63}", key):
            raise _fail(filename, f"the table {table} has a malformed column name {str(key)[:40]!r}")
    if not names:
        raise _fail(filename, f"the records of the table {table} are empty objects")
    for name in names & json_columns:
        for record in records:
            value = record.get(name)
            if value is not None:
                record[name] = json.dumps(value, ensure_ascii=False)
    try:
        return pa.Table.from_struct_array(pa.array(records))
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        pass
    columns = {}
    for name in sorted(names):
        values = [record.get(name) for record in records]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            # Mixed kinds (a text in a number column): keep them as text; the type check names the column.
            columns[name] = pa.array([None if v is None else json.dumps(v) if isinstance(v, (bool, dict, list))
                                      else str(v) for v in values], type=pa.string())
    return pa.table(columns)


# ------------------------------------------------------------------------------------------------- validation


class _Registered:
    """Register the backup's Arrow tables as temp views for the duration of a block; always unregistered."""

    def __init__(self, cur, backup: Backup):
        self.cur, self.backup, self.names = cur, backup, []

    def __enter__(self) -> dict[str, str]:
        views = {}
        for table, arrow in self.backup.tables.items():
            view = f"_backup_{table}"
            self.cur.register(view, arrow)
            self.names.append(view)
            views[table] = view
        return views

    def __exit__(self, *exc) -> None:
        for view in self.names:
            try:
                self.cur.unregister(view)
            except duckdb.Error:
                log.exception("could not unregister %s", view)


def _id_column(columns: list[Column]) -> Column | None:
    for col in columns:
        if col.name == "id" and col.default and col.default.startswith("nextval("):
            return col
    return None


def _validate_against_schema(cur, backup: Backup) -> None:
    filename = backup.filename
    current = schema_version(cur)
    backup_schema = backup.manifest["schema_version"]
    if backup_schema > current:
        raise _fail(filename, f"the backup was made by a newer VeloCoach (database schema {backup_schema}; this "
                              f"version has {current}). Update VeloCoach to restore it")
    backup.schema = live_schema(cur)
    wanted = backup_tables()
    unknown = sorted(set(backup.tables) - set(wanted))
    if unknown:
        raise _fail(filename, f"the backup holds a table {unknown[0]!r} that this VeloCoach does not back up")
    missing = [t for t in wanted if t not in backup.tables]
    if missing and backup_schema == current:
        raise _fail(filename, f"the backup lacks the table(s) {', '.join(missing)}: it is incomplete")
    for table in wanted:  # an older backup may predate a table; a JSON table without records has no columns
        if table not in backup.tables or (backup.tables[table].num_columns == 0):
            if table in backup.tables and backup.tables[table].num_rows:
                raise _fail(filename, f"the table {table} has rows without columns")
            backup.tables[table] = pa.table({c.name: pa.array([], pa.string()) for c in live_columns(cur, table, backup.schema)})
    if backup.tables[ROOT_TABLE].num_rows != 1:
        raise _fail(filename, f"a backup holds exactly one athlete; this one holds "
                              f"{backup.tables[ROOT_TABLE].num_rows}")
    with _Registered(cur, backup) as views:
        for table in wanted:
            _validate_table(cur, backup, table, views[table])
        _validate_links(cur, backup, views)


def _validate_table(cur, backup: Backup, table: str, view: str) -> None:
    filename = backup.filename
    arrow = backup.tables[table]
    present = set(arrow.column_names)
    columns = live_columns(cur, table, backup.schema)
    live_names = {c.name for c in columns}
    extra = sorted(present - live_names)
    if extra:
        raise _fail(filename, f"the table {table} has a column {extra[0]!r} this VeloCoach does not know "
                              "(was the backup made by a newer version?)")
    if arrow.num_rows == 0:
        return
    id_col = _id_column(columns)
    linked = {c for c, _p, _s in _links_of(table)}
    for col in columns:
        if col.name in present:
            continue
        if col is id_col:
            raise _fail(filename, f"the table {table} lacks its id column, needed to link its rows")
        if not col.nullable and col.default is None and col is not id_col:
            raise _fail(filename, f"the table {table} lacks the required column {col.name}")
    checks = []
    for col in columns:
        if col.name not in present:
            continue
        target = "BIGINT" if col.name in linked or col is id_col else col.type
        checks.append((col, target))
    counts = _column_problems(cur, view, checks)
    for (col, _target), (bad, nulls) in zip(checks, counts, strict=True):
        if bad:
            raise _fail(filename, f"the column {table}.{col.name} holds {bad} value(s) that are not "
                                  f"{col.type.lower()}")
        if nulls and not col.nullable:
            raise _fail(filename, f"the column {table}.{col.name} is empty in {nulls} row(s), but it is required")
    if id_col is not None and "id" in present:
        dupes = cur.execute(
            f"SELECT count(*) - count(DISTINCT CAST(id AS BIGINT)) FROM {_q(view)}").fetchall()[0][0]  # noqa: S608
        if dupes:
            raise _fail(filename, f"the table {table} uses the same id twice")


def _column_problems(cur, view: str, checks: list[tuple[Column, str]]) -> list[tuple[int, int]]:
    """(values that do not cast, NULLs) per column: one scan for the table, per column only if that fails."""
    def terms(col: Column, target: str) -> str:
        ref = _q(col.name)
        return (f"count(*) FILTER (WHERE {ref} IS NOT NULL AND TRY_CAST({ref} AS {target}) IS NULL), "
                f"count(*) FILTER (WHERE {ref} IS NULL)")

    if not checks:
        return []
    try:
        row = cur.execute(f"SELECT {', '.join(terms(c, t) for c, t in checks)} FROM {_q(view)}").fetchall()[0]  # noqa: S608
        return [(row[2 * i], row[2 * i + 1]) for i in range(len(checks))]
    except duckdb.Error:
        pass
    result = []
    for col, target in checks:  # a column of a kind that cannot be cast at all (a list where a number belongs)
        try:
            result.append(cur.execute(f"SELECT {terms(col, target)} FROM {_q(view)}").fetchall()[0])  # noqa: S608
        except duckdb.Error:
            result.append((1, 0))
    return result


def _validate_links(cur, backup: Backup, views: dict[str, str]) -> None:
    for table in backup_tables():
        present = set(backup.tables[table].column_names)
        for column, parent, soft in _links_of(table):
            if soft or column not in present or backup.tables[table].num_rows == 0:
                continue
            if "id" not in backup.tables[parent].column_names:
                dangling = cur.execute(
                    f"SELECT count(*) FROM {_q(views[table])} WHERE {_q(column)} IS NOT NULL").fetchall()[0][0]  # noqa: S608
            else:
                dangling = cur.execute(
                    f"SELECT count(*) FROM {_q(views[table])} c WHERE c.{_q(column)} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                    f"(SELECT 1 FROM {_q(views[parent])} p WHERE CAST(p.id AS BIGINT) = CAST(c.{_q(column)} AS BIGINT))"
                ).fetchall()[0][0]
            if dangling:
                raise _fail(backup.filename, f"{dangling} row(s) of {table}.{column} point at {parent} missing from "
                                             "the backup: it is inconsistent")
