"""Backup writers: a ZIP (manifest + zstd Parquet per table, with row counts and sha256) or one JSON document, and
an atomic file write (temp file in the same folder, fsync, rename)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ExportImportError
from core.store.backup_format import (
    MANIFEST,
    _check_athlete,
    _export_select,
    _manifest_head,
    backup_tables,
    live_schema,
)

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
        tmp.unlink(missing_ok=True)
        # Owner-only whatever the process umask: a backup holds the whole GPS history (home included).
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportImportError(f"{path}: the file cannot be written ({exc.strerror or exc})") from None
