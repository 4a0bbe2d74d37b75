"""Reading and validating a backup before anything is written: format and versions, ZIP member names (zip-slip,
links, duplicates), sizes and compression ratio, checksums, columns, types, NOT NULL, unique ids and the links
inside the backup.

Bounded memory whatever the backup's size (issue 16: the CLI needed 1.6 GB for a two-year backup and the app could
not restore what it wrote): a backup is read from a file on disk (an upload is written to one first); each table
ends up as a Parquet file in an owner-only work folder next to the database (ZIP members are streamed there with
a cap and their checksum; JSON is parsed a chunk at a time, core/store/backup_json.py), and every check and the
restore itself are SQL over ``read_parquet`` views, which DuckDB streams. A backup that passes is a ``Backup``,
ready for core.store.backup_restore; ``close()`` removes its files (so does garbage collection)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import uuid
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from core.errors import ExportImportError
from core.store.backup_format import (
    DEFAULT_LIMITS,
    MANIFEST,
    ROOT_TABLE,
    Column,
    Limits,
    _check_manifest,
    _fail,
    _links_of,
    _q,
    backup_tables,
    live_columns,
    live_schema,
    log,
    work_dir,
)
from core.store.backup_json import read_json
from core.store.db import schema_version

# ------------------------------------------------------------------------------------------------------ reading


@dataclass
class TableSource:
    """One table of a backup: Parquet files in the work folder, read together by column name (None: no rows and
    no columns were given)."""

    paths: list[Path] | None
    num_rows: int
    column_names: list[str]

    def column(self, name: str) -> list:
        """One column's values (for a preview of small tables)."""
        values = []
        for path in self.paths or []:
            if name in pq.ParquetFile(path).schema_arrow.names:
                values += pq.read_table(path, columns=[name]).column(0).to_pylist()
        return values


@dataclass
class Backup:
    """A backup read and validated against this database's schema, ready to preview or restore."""

    filename: str
    kind: str                                  # zip | json
    manifest: dict
    tables: dict[str, TableSource] = field(repr=False)
    folder: Path | None = field(default=None, repr=False)
    schema: dict[str, list[Column]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.folder is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def close(self) -> None:
        """Remove the backup's working files (it cannot be restored after this)."""
        if self.folder is not None:
            self._cleanup()

    @property
    def row_counts(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}

    def summary(self) -> dict:
        name = self.tables[ROOT_TABLE].column("name")[0]
        rides = self.tables.get("rides")
        first = last = None
        if rides is not None and rides.num_rows and "started_at" in rides.column_names:
            starts = [str(v) for v in rides.column("started_at") if v]
            if starts:
                first, last = min(starts)[:10], max(starts)[:10]
        return {"file": self.filename, "format": self.kind, "athlete": name,
                "exported_at": self.manifest.get("exported_at"), "app_version": self.manifest.get("app_version"),
                "schema_version": self.manifest.get("schema_version"), "first_ride": first, "last_ride": last,
                "rows": self.row_counts}


def read_backup(cur, data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> Backup:
    """Read and validate a backup held in memory (an upload): written to the work folder, then open_backup."""
    if len(data) > limits.max_file_bytes:
        raise _too_big(filename, len(data), limits)
    folder = work_dir(cur, "restore")
    try:
        path = folder / "upload"
        path.write_bytes(data)
        return open_backup(cur, path, filename, limits, folder=folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _too_big(filename: str, size: int, limits: Limits) -> ExportImportError:
    return _fail(filename, f"the file is {size / 1048576:.0f} MB, over the {limits.max_file_bytes / 1048576:.0f} MB "
                           "limit for backups")


def open_backup(cur, path: Path, filename: str | None = None, limits: Limits = DEFAULT_LIMITS, *,
                folder: Path | None = None) -> Backup:
    """Read and validate a ZIP or JSON backup from a file on disk, with bounded memory. Raises ExportImportError
    naming the file and the reason; nothing is written to the database."""
    path = Path(path).expanduser()
    filename = filename or path.name
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise _fail(filename, "this is a folder, not a backup file")
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise _fail(filename, f"there is no such file ({path})") from None
    except OSError as exc:
        raise _fail(filename, f"the file cannot be read ({exc.strerror or exc})") from None
    if size > limits.max_file_bytes:
        raise _too_big(filename, size, limits)
    if not head.strip() and size <= len(head):
        raise _fail(filename, "the file is empty")
    own_folder = folder is None
    folder = folder or work_dir(cur, "restore")
    try:
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            manifest, tables, kind = *_read_zip(path, filename, limits, folder), "zip"
        elif head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
            manifest, found = read_json(path, filename, folder, limits, live_schema(cur))
            tables, kind = {t: TableSource(*entry) for t, entry in found.items()}, "json"
        else:
            raise _fail(filename, "this is neither a VeloCoach ZIP backup nor a JSON backup")
        if (folder / "upload").exists():
            (folder / "upload").unlink()  # an upload's bytes are no longer needed
        backup = Backup(filename, kind, manifest, tables, folder)
        _validate_against_schema(cur, backup)
        return backup
    except BaseException:
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _read_zip(path: Path, filename: str, limits: Limits, folder: Path) -> tuple[dict, dict[str, TableSource]]:
    try:
        zf = zipfile.ZipFile(path)
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
        tables: dict[str, TableSource] = {}
        for table, entry in entries.items():
            info = zf.getinfo(entry["file"])
            target = folder / entry["file"]
            if _extract_member(zf, info, info.file_size, target, filename) != entry["sha256"]:
                raise _fail(filename, f"{entry['file']} does not match its checksum: the backup is damaged or was "
                                      "altered")
            budget = _check_parquet(target, entry, budget, limits, filename)
            columns = pq.ParquetFile(target).schema_arrow.names
            tables[table] = TableSource([target], entry["rows"], columns)
    return manifest, tables


def _check_parquet(path: Path, entry: dict, budget: int, limits: Limits, filename: str) -> int:
    """Rows as the manifest says, and the decoded size within the budget — enforced while decoding, one batch at
    a time: dictionary/RLE pages can decode far larger than their declared size (a Parquet-level bomb)."""
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        if meta.num_rows != entry["rows"]:
            raise _fail(filename, f"{entry['file']} holds {meta.num_rows} rows, the manifest says {entry['rows']}")
        budget -= sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if budget < 0:
            raise _fail(filename, f"the tables would unpack to more than {limits.max_total_bytes / 1048576:.0f} MB")
        decoded = 0
        for batch in parquet.iter_batches(batch_size=65_536):
            decoded += batch.nbytes
            if decoded > limits.max_total_bytes:
                raise _fail(filename, f"{entry['file']} decodes to more than "
                                      f"{limits.max_total_bytes / 1048576:.0f} MB")
        return budget
    except ExportImportError:
        raise
    except Exception:  # noqa: BLE001 — pyarrow raises many kinds for a damaged file
        raise _fail(filename, f"{entry['file']} is not a readable Parquet table") from None


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


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, target: Path, filename: str) -> str:
    """Stream a member to ``target`` with a hard cap, whatever its header declares; returns its sha256."""
    if info.file_size > cap:
        raise _fail(filename, f"{info.filename} is larger than allowed ({info.file_size} bytes)")
    digest, size = hashlib.sha256(), 0
    try:
        with zf.open(info) as handle, target.open("wb") as out:
            while chunk := handle.read(1 << 20):
                size += len(chunk)
                if size > cap or size > info.file_size:
                    raise _fail(filename, f"{info.filename} unpacks to more than its declared size: refused")
                digest.update(chunk)
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _fail(filename, f"{info.filename} cannot be unpacked: the ZIP is damaged or truncated "
                              f"({str(exc)[:80]})") from None
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------- validation


class _Registered:
    """The backup's tables as temporary views over their Parquet files (DuckDB reads them as it goes) for the
    duration of a block; always dropped. Names are unique: two sessions may check backups at once."""

    def __init__(self, cur, backup: Backup):
        self.cur, self.backup, self.names = cur, backup, []

    def __enter__(self) -> dict[str, str]:
        views = {}
        token = uuid.uuid4().hex[:8]
        for table, source in self.backup.tables.items():
            view = f"_backup_{token}_{table}"
            if source.paths:
                self.cur.read_parquet([str(p) for p in source.paths], union_by_name=True).create_view(view)
            else:  # no rows and no columns given: the live columns, empty
                columns = live_columns(self.cur, table, self.backup.schema)
                self.cur.sql("SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {_q(c.name)}" for c in columns)
                             + " WHERE false").create_view(view)
            self.names.append(view)
            views[table] = view
        return views

    def __exit__(self, *exc) -> None:
        for view in self.names:
            try:
                self.cur.execute(f"DROP VIEW IF EXISTS {_q(view)}")
            except duckdb.Error:
                log.exception("could not drop %s", view)


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
        if table not in backup.tables or not backup.tables[table].column_names:
            if table in backup.tables and backup.tables[table].num_rows:
                raise _fail(filename, f"the table {table} has rows without columns")
            backup.tables[table] = TableSource(None, 0, [c.name for c in live_columns(cur, table, backup.schema)])
    if backup.tables[ROOT_TABLE].num_rows != 1:
        raise _fail(filename, f"a backup holds exactly one athlete; this one holds "
                              f"{backup.tables[ROOT_TABLE].num_rows}")
    with _Registered(cur, backup) as views:
        for table in wanted:
            _validate_table(cur, backup, table, views[table])
        _validate_links(cur, backup, views)


def _validate_table(cur, backup: Backup, table: str, view: str) -> None:
    filename = backup.filename
    arrow = backup.tables[table]  # a TableSource
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
