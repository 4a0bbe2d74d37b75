"""Backups of one athlete (ZIP of Parquet files, or one JSON document) and GPX export of a ride or route.

What a backup holds: the athletes row and every table reachable from it through ``core.store.db.LINKS`` (FTP history,
routes with points and sections, rides with samples, tags, rules, plans with their rules and workouts, analyses,
Garmin account labels and sync log). Column lists come from the live schema (information_schema) and table links
from ``core.store.db.LINKS``, so a table added to the model with its links is backed up without touching this file.
Not in a backup: ai_cache, ai_calls, prompts and audit_log (machine-wide, not the athlete's), data_version and
schema_migrations (bookkeeping). Secrets never enter one: the database holds none, and ``garmin_accounts.token_dir``
(where Garmin tokens live on this machine) is written as NULL, so a restored Garmin account must sign in again.

Restore is validated first (format, versions, ZIP member names and sizes, checksums, columns, types, NOT NULL,
unique ids, links inside the backup), then written in ONE transaction as a NEW athlete with fresh ids: a mapping
temp table (old id -> nextval of the table's own sequence) per table with ids, links rewritten through the
mappings, bulk ``INSERT ... SELECT`` per table. Any failure rolls everything back.

Restoring the same backup twice into one database: rides are stored once per database (the schema's
UNIQUE (source, account_id, external_id)), so a second restore of a backup whose rides are already present is
refused with a message naming the athlete who has them. A backup without rides restores as a second athlete.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import DuplicateError, ExportImportError, NotFoundError
from core.store.db import LINKS, audit, bump_data_version, schema_version, transaction

log = logging.getLogger(__name__)

FORMAT = "velocoach-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROOT_TABLE = "athletes"

# Written as NULL: where this machine keeps Garmin tokens is no business of a backup (and useless elsewhere).
SCRUBBED_COLUMNS = {("garmin_accounts", "token_dir")}
# Links that use 0 for "none" and so cannot be listed in core.store.db.LINKS (integrity_problems would flag them):
# remapped when the target is in the backup, kept as they are otherwise.
SOFT_LINKS = [("rides", "account_id", "garmin_accounts")]


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile file from exhausting memory or disk (zip bombs, huge uploads)."""

    max_file_bytes: int = 2 * 1024**3          # the backup file itself
    max_total_bytes: int = 4 * 1024**3         # all members uncompressed, and all Parquet pages uncompressed
    max_ratio: float = 100.0                   # uncompressed / compressed for any member over 1 MiB
    max_manifest_bytes: int = 1024**2
    max_rows: int = 200_000_000                # all tables together


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------------------------- the data model


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None


def live_schema(cur) -> dict[str, list[Column]]:
    """Every table's columns in this database, in order (one information_schema query)."""
    rows = cur.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' "
        "ORDER BY table_name, ordinal_position").fetchall()
    schema: dict[str, list[Column]] = {}
    for table, name, dtype, nullable, default in rows:
        schema.setdefault(table, []).append(Column(name, dtype, nullable == "YES", default))
    return schema


def live_columns(cur, table: str, schema: dict[str, list[Column]] | None = None) -> list[Column]:
    columns = (schema if schema is not None else live_schema(cur)).get(table)
    if not columns:
        raise ExportImportError(f"the table {table} does not exist in this database")
    return columns


def backup_tables() -> list[str]:
    """athletes, then every table reachable from it through core.store.db.LINKS, in discovery order."""
    tables = [ROOT_TABLE]
    changed = True
    while changed:
        changed = False
        for child, _column, parent in LINKS:
            if parent in tables and child not in tables:
                tables.append(child)
                changed = True
    return tables


def owner_link(table: str) -> tuple[str, str]:
    """(column, parent) of the table's first link in core.store.db.LINKS: the one that says whose row it is."""
    for child, column, parent in LINKS:
        if child == table:
            return column, parent
    raise ExportImportError(f"the table {table} has no link to an athlete")


def _links_of(table: str) -> list[tuple[str, str, bool]]:
    """(column, parent, soft) for every link of ``table``."""
    links = [(c, p, False) for t, c, p in LINKS if t == table]
    links += [(c, p, True) for t, c, p in SOFT_LINKS if t == table]
    return links


def _q(name: str) -> str:
    """Quote an identifier taken from the live schema (never from a file: file names are checked against it)."""
    return '"' + name.replace('"', '""') + '"'


def _selection(table: str) -> tuple[str, list]:
    """A WHERE clause selecting ``table``'s rows that belong to athlete ``?`` (one parameter)."""
    if table == ROOT_TABLE:
        return "id = ?", []
    column, parent = owner_link(table)
    inner, params = _selection(parent)
    return f"{_q(column)} IN (SELECT id FROM {_q(parent)} WHERE {inner})", params  # noqa: S608 — live identifiers


def _export_select(cur, table: str, athlete_id: int, schema=None) -> tuple[str, list]:
    columns = live_columns(cur, table, schema)
    cols = []
    for col in columns:
        if (table, col.name) in SCRUBBED_COLUMNS:
            cols.append(f"CAST(NULL AS {col.type}) AS {_q(col.name)}")
        else:
            cols.append(_q(col.name))
    where, _ = _selection(table)
    order = " ORDER BY id" if any(c.name == "id" for c in columns) else ""
    sql = f"SELECT {', '.join(cols)} FROM {_q(table)} WHERE {where}{order}"  # noqa: S608 — live identifiers
    return sql, [athlete_id]


def _app_version() -> str:
    try:
        from importlib.metadata import version

        return version("velocoach")
    except Exception:  # noqa: BLE001 — not installed as a package: read pyproject.toml
        import tomllib

        try:
            path = Path(__file__).resolve().parent.parent / "pyproject.toml"
            return tomllib.loads(path.read_text(encoding="utf-8"))["project"]["version"]
        except Exception:  # noqa: BLE001
            return "unknown"


def _manifest_head(cur) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": schema_version(cur),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "app_version": _app_version()}


def _check_athlete(cur, athlete_id: int) -> str:
    row = cur.execute("SELECT name FROM athletes WHERE id = ?", [athlete_id]).fetchall()
    if not row:
        raise NotFoundError(f"Athlete #{athlete_id} was not found")
    return row[0][0]


# ------------------------------------------------------------------------------------------------------- export


def export_zip(cur, athlete_id: int) -> bytes:
    """The athlete's backup as a ZIP: manifest.json + one zstd Parquet file per table (stored, not deflated)."""
    _check_athlete(cur, athlete_id)
    manifest = _manifest_head(cur)
    manifest["tables"] = {}
    schema = live_schema(cur)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for table in backup_tables():
            sql, params = _export_select(cur, table, athlete_id, schema)
            reader = cur.sql(sql, params=params).to_arrow_reader(65_536)
            sink = pa.BufferOutputStream()
            rows = 0
            with pq.ParquetWriter(sink, reader.schema, compression="zstd") as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
            data = sink.getvalue().to_pybytes()
            name = f"{table}.parquet"
            zf.writestr(_zip_info(name), data)
            manifest["tables"][table] = {"file": name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
        zf.writestr(_zip_info(MANIFEST), json.dumps(manifest, indent=2).encode("utf-8"))
    return out.getvalue()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def export_json(cur, athlete_id: int) -> bytes:
    """The athlete's backup as one JSON document (readable by people; every sample included).

    DuckDB serialises each row (``to_json``: JSON columns embedded as JSON, not as quoted text), which is ~20x
    faster than building Python dicts; the document is assembled around those row texts."""
    _check_athlete(cur, athlete_id)
    head = _manifest_head(cur)
    counts, parts = {}, []
    schema = live_schema(cur)
    for table in backup_tables():
        sql, params = _export_select(cur, table, athlete_id, schema)
        rows = [r[0] for r in cur.execute(
            f"SELECT CAST(to_json(x) AS VARCHAR) FROM ({sql}) x", params).fetchall()]  # noqa: S608
        counts[table] = len(rows)
        parts.append(json.dumps(table) + ":[\n" + ",\n".join(rows) + "]")
    head["row_counts"] = counts
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "tables":{\n' + ",\n".join(parts) + "}}"
    return text.encode("utf-8")


def export_backup(cur, athlete_id: int, fmt: str = "zip") -> bytes:
    if fmt == "zip":
        return export_zip(cur, athlete_id)
    if fmt == "json":
        return export_json(cur, athlete_id)
    raise ExportImportError(f"unknown backup format {fmt!r}: choose zip or json")


def backup_filename(cur, athlete_id: int, fmt: str, today: date | None = None) -> str:
    name = _check_athlete(cur, athlete_id)
    return f"velocoach-{_slug(name)}-{(today or date.today()).isoformat()}.{fmt}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text or "").strip("-").lower()[:60] or "athlete"


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a failure never leaves half a backup under the final name."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportImportError(f"{path} is a folder; give a file name")
    tmp = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportImportError(f"{path}: the file cannot be written ({exc.strerror or exc})") from None


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


# -------------------------------------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    athlete_id: int
    athlete_name: str
    rows: dict[str, int]
    filename: str

    def as_dict(self) -> dict:
        return {"athlete_id": self.athlete_id, "athlete": self.athlete_name, "rows": self.rows,
                "file": self.filename}


def restore_backup(cur, data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> RestoreResult:
    """Validate then restore a backup as a new athlete, in one transaction. Returns the new athlete's id."""
    return restore(cur, read_backup(cur, data, filename, limits))


def restore(cur, backup: Backup) -> RestoreResult:
    tables = backup_tables()
    maps: dict[str, str] = {}
    try:
        # Views are unregistered after the transaction ends (an aborted transaction accepts no statement); the
        # mapping temp tables are created inside it, so a rollback removes them and success drops them.
        with _Registered(cur, backup) as views, transaction(cur):
            for table in tables:
                id_col = _id_column(live_columns(cur, table, backup.schema))
                if id_col is None or backup.tables[table].num_rows == 0:
                    continue
                maps[table] = f"_backup_map_{table}"
                cur.execute(
                    f"CREATE TEMP TABLE {_q(maps[table])} AS SELECT CAST(id AS BIGINT) AS old_id, "  # noqa: S608
                    f"{id_col.default} AS new_id FROM {_q(views[table])}")
            _refuse_duplicate_rides(cur, backup, views, maps)
            rows = {table: _insert_table(cur, backup, table, views[table], maps) for table in tables}
            new_id = cur.execute(f"SELECT new_id FROM {_q(maps[ROOT_TABLE])}").fetchall()[0][0]  # noqa: S608
            name = cur.execute("SELECT name FROM athletes WHERE id = ?", [new_id]).fetchall()[0][0]
            for map_table in maps.values():
                cur.execute(f"DROP TABLE temp.main.{_q(map_table)}")
            audit(cur, "restore", "athlete", new_id, new_id, file=backup.filename[:200],
                  exported_at=backup.manifest.get("exported_at"), rows=rows)
            bump_data_version(cur)
    except (ExportImportError, DuplicateError):
        raise
    except duckdb.ConstraintException as exc:
        raise _fail(backup.filename, f"its data conflicts with data already in this database ({str(exc)[:160]})") \
            from None
    except duckdb.Error as exc:
        log.exception("restore of %s failed", backup.filename)
        raise _fail(backup.filename, f"the database refused it ({str(exc)[:160]})") from None
    log.info("restored %s as athlete %s", backup.filename, new_id)
    return RestoreResult(new_id, name, rows, backup.filename)


def _mapped(alias: str, column: str, parent: str, soft: bool, maps: dict[str, str], joins: list[str],
            view_alias: str = "s") -> str:
    src = f"CAST({view_alias}.{_q(column)} AS BIGINT)"
    if parent not in maps:
        return src if soft else "CAST(NULL AS BIGINT)"
    joins.append(f"LEFT JOIN {_q(maps[parent])} {alias} ON {alias}.old_id = {src}")
    return f"COALESCE({alias}.new_id, {src})" if soft else f"{alias}.new_id"


def _insert_table(cur, backup: Backup, table: str, view: str, maps: dict[str, str]) -> int:
    arrow = backup.tables[table]
    if arrow.num_rows == 0:
        return 0
    present = set(arrow.column_names)
    columns = live_columns(cur, table, backup.schema)
    id_col = _id_column(columns)
    links = {c: (p, soft) for c, p, soft in _links_of(table)}
    targets, exprs, joins = [], [], []
    for col in columns:
        if col.name not in present:
            continue  # the column's default applies
        if col is id_col:
            joins.append(f"JOIN {_q(maps[table])} m_id ON m_id.old_id = CAST(s.id AS BIGINT)")
            expr = "m_id.new_id"
        elif col.name in links:
            parent, soft = links[col.name]
            expr = _mapped(f"m_{len(joins)}", col.name, parent, soft, maps, joins)
        elif (table, col.name) in SCRUBBED_COLUMNS:
            expr = f"CAST(NULL AS {col.type})"
        else:
            expr = f"CAST(s.{_q(col.name)} AS {col.type})"
        targets.append(_q(col.name))
        exprs.append(expr)
    sql = (f"INSERT INTO {_q(table)} ({', '.join(targets)}) SELECT {', '.join(exprs)} "  # noqa: S608
           f"FROM {_q(view)} s {' '.join(joins)}")
    cur.execute(sql)
    return arrow.num_rows


def _refuse_duplicate_rides(cur, backup: Backup, views: dict[str, str], maps: dict[str, str]) -> None:
    rides = backup.tables.get("rides")
    if rides is None or rides.num_rows == 0 or not {"source", "external_id"} <= set(rides.column_names):
        return
    joins: list[str] = []
    account = "CAST(0 AS BIGINT)"
    if "account_id" in rides.column_names:
        account = _mapped("m_acc", "account_id", "garmin_accounts", True, maps, joins)
    row = cur.execute(
        f"SELECT count(*), min(r.athlete_id) FROM {_q(views['rides'])} s {' '.join(joins)} "  # noqa: S608
        f"JOIN rides r ON r.source = CAST(s.source AS VARCHAR) AND r.external_id = CAST(s.external_id AS VARCHAR) "
        f"AND r.account_id = {account}").fetchall()[0]
    if row[0]:
        holder = cur.execute("SELECT name FROM athletes WHERE id = ?", [row[1]]).fetchall()
        who = f"athlete #{row[1]} ({holder[0][0]})" if holder else f"athlete #{row[1]}"
        raise DuplicateError(
            f"{backup.filename}: {row[0]} of its {rides.num_rows} rides are already in this database, stored for "
            f"{who} — it was probably restored before. Rides are kept once per database; delete that athlete "
            "or restore into another database file. Nothing was restored.")


# ------------------------------------------------------------------------------------------------------------ GPX

GPXTPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"


def _gpx_filename(name: str | None, fallback: str) -> str:
    return f"{_slug(name or '') if name else fallback}.gpx"


def _gpx_document(name: str | None, sport: str | None, points: list[str], with_extensions: bool) -> bytes:
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="VeloCoach" xmlns="http://www.topografix.com/GPX/1/1"'
            + (f' xmlns:gpxtpx="{GPXTPX_NS}"' if with_extensions else "")
            + ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/'
              'GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">', "  <trk>"]
    if name:
        head.append(f"    <name>{xml_escape(name)}</name>")
    if sport:
        head.append(f"    <type>{xml_escape(sport)}</type>")
    head.append("    <trkseg>")
    tail = ["    </trkseg>", "  </trk>", "</gpx>", ""]
    return "\n".join(head + points + tail).encode("utf-8")


def ride_gpx(cur, athlete_id: int, ride_id: int) -> tuple[str, bytes]:
    """A ride as GPX 1.1: timed track points with elevation, and hr/cad/atemp in Garmin's TrackPointExtension
    plus <power> (the form Strava and core.files.gpx.read_gpx understand). Returns (file name, bytes).

    Written with plain string formatting rather than gpxpy: gpxpy built ~4,300 points/s (a 4-hour ride took
    3.7 s to download); this is ~15x faster (bench/backup.py) and the round-trip tests read every value back."""
    row = cur.execute("SELECT name, started_at, sport_type FROM rides WHERE id = ? AND athlete_id = ?",
                      [ride_id, athlete_id]).fetchall()
    if not row:
        raise NotFoundError(f"Ride #{ride_id} was not found")
    name, started_at, sport = row[0]
    samples = cur.execute(
        "SELECT t_s, CAST(lat AS DOUBLE), CAST(lon AS DOUBLE), ele, hr, cadence, power, temp FROM ride_samples "
        "WHERE ride_id = ? AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY t_s", [ride_id]).fetchall()
    if len(samples) < 2:
        raise ExportImportError(f"Ride #{ride_id} ({name or 'unnamed'}) has no GPS track (an indoor ride?): a GPX "
                                "file needs positions")
    start = started_at.astimezone(UTC) if started_at else None
    points = []
    for t_s, lat, lon, ele, hr, cad, power, temp in samples:
        parts = [f'      <trkpt lat="{lat:.6f}" lon="{lon:.6f}">']
        if ele is not None:
            parts.append(f"<ele>{ele:.2f}</ele>")
        if start is not None and t_s is not None:
            when = start + timedelta(seconds=float(t_s))
            parts.append(f"<time>{when.strftime('%Y-%m-%dT%H:%M:%S')}"
                         f"{f'.{when.microsecond // 1000:03d}' if when.microsecond else ''}Z</time>")
        ext = []
        if temp is not None or hr is not None or cad is not None:
            ext.append("<gpxtpx:TrackPointExtension>")
            if temp is not None:
                ext.append(f"<gpxtpx:atemp>{temp:.1f}</gpxtpx:atemp>")
            if hr is not None:
                ext.append(f"<gpxtpx:hr>{hr}</gpxtpx:hr>")
            if cad is not None:
                ext.append(f"<gpxtpx:cad>{cad}</gpxtpx:cad>")
            ext.append("</gpxtpx:TrackPointExtension>")
        if power is not None:
            ext.append(f"<power>{power}</power>")
        if ext:
            parts.append("<extensions>" + "".join(ext) + "</extensions>")
        parts.append("</trkpt>")
        points.append("".join(parts))
    return _gpx_filename(name, f"ride-{ride_id}"), _gpx_document(name, sport, points, True)


def route_gpx(cur, athlete_id: int, route_id: int) -> tuple[str, bytes]:
    """A route as GPX 1.1: an untimed track with elevation. Returns (file name, bytes)."""
    found = cur.execute("SELECT name FROM routes WHERE id = ? AND athlete_id = ?", [route_id, athlete_id]).fetchall()
    if not found:
        raise NotFoundError(f"Route #{route_id} was not found")
    name = found[0][0]
    rows = cur.execute(
        "SELECT CAST(lat AS DOUBLE), CAST(lon AS DOUBLE), ele FROM route_points WHERE route_id = ? ORDER BY seq",
        [route_id]).fetchall()
    if len(rows) < 2:
        raise ExportImportError(f"Route #{route_id} ({name}) has fewer than two points: nothing to export")
    points = [f'      <trkpt lat="{lat:.6f}" lon="{lon:.6f}">' + ("" if ele is None else f"<ele>{ele:.2f}</ele>")
              + "</trkpt>" for lat, lon, ele in rows]
    return _gpx_filename(name, f"route-{route_id}"), _gpx_document(name, None, points, False)


def export_gpx(cur, athlete_id: int, kind: str, item_id: int) -> tuple[str, bytes]:
    if kind == "ride":
        return ride_gpx(cur, athlete_id, item_id)
    if kind == "route":
        return route_gpx(cur, athlete_id, item_id)
    raise ExportImportError(f"unknown GPX export {kind!r}: choose ride or route")
