"""The JSON backup: written column by column in chunks, read as a stream, so any size the app writes is restored
with bounded memory (issue 16: the old one-object-per-row document of the demo athlete was 217.6 MB, 795 MB for
two years, 4.4 GB of memory to write, and could not be restored in the app).

Layout (format 2) — one JSON document, each chunk on its own line::

    {"format": "velocoach-backup", "format_version": 2, "schema_version": 7, "exported_at": …, "app_version": …,
     "row_counts": {"athletes": 1, …},
     "tables": {
      "athletes": {"columns": ["id", "name", …], "types": ["BIGINT", "VARCHAR", …], "rows": 1, "chunks": [
       {"id": [1], "name": ["Demo Rider"], …}
      ]},
      "ride_samples": {"columns": […], "types": […], "rows": 2893100, "chunks": [
       {"ride_id": [1, 1, …], "t_s": [0.0, 1.0, …], …},
       …
      ]}
     }}

Values are plain JSON: numbers (a REAL as its shortest decimal, a DECIMAL as a number), text, true/false, null; a
JSON column holds its JSON value; dates and times are ISO text. The reader does not depend on the line breaks:
it walks the document with ``json.JSONDecoder.raw_decode`` one value at a time (a chunk at most
``Limits.max_json_value_bytes``), so a reformatted document reads too as long as the keys keep their order. The old
layout (format 1: ``"tables": {"athletes": [{row}, …]}``) is read by the same walker, a row at a time. Each table
lands in a Parquet file of its own, and from there a JSON backup is restored exactly as a ZIP one."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.store.backup_format import (
    JSON_FORMAT_VERSION,
    Column,
    Limits,
    _check_manifest,
    _export_select,
    _fail,
    _manifest_head,
    _q,
    backup_tables,
    live_schema,
)

CHUNK_ROWS = 50_000
_READ_BYTES = 1 << 20
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")


# ---------------------------------------------------------------------------------------------------- writing


def _json_select(column: Column) -> str:
    """How a column is selected for JSON: REAL through its shortest text (0.1, not 0.10000000149011612), DECIMAL as
    DOUBLE, dates and times as ISO text, NaN and infinities (not JSON) as null."""
    ref, kind = _q(column.name), column.type.upper()
    if kind in ("FLOAT", "REAL"):
        return f"CAST(CAST({ref} AS VARCHAR) AS DOUBLE)"
    if kind == "DOUBLE":
        return f"CASE WHEN isfinite({ref}) THEN {ref} END"
    if kind.startswith("DECIMAL"):
        return f"CAST({ref} AS DOUBLE)"
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "BOOLEAN", "VARCHAR", "JSON", "UBIGINT", "UINTEGER"):
        return f"CAST({ref} AS VARCHAR)" if kind == "JSON" else ref
    return f"CAST({ref} AS VARCHAR)"


def write_json(cur, athlete_id: int, out) -> dict[str, int]:
    """Write the athlete's backup to the binary file ``out``, chunk by chunk. Returns the row count per table."""
    schema = live_schema(cur)
    tables = backup_tables()
    counts = {}
    for table in tables:
        sql, params = _export_select(cur, table, athlete_id, schema)
        counts[table] = cur.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]  # noqa: S608
    head = _manifest_head(cur, JSON_FORMAT_VERSION)
    head["row_counts"] = counts
    out.write(json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8") + b',\n"tables":{\n')
    for index, table in enumerate(tables):
        columns = schema[table]
        sql, params = _export_select(cur, table, athlete_id, schema)
        select = ", ".join(f"{_json_select(c)} AS {_q(c.name)}" for c in columns)
        header = {"columns": [c.name for c in columns], "types": [c.type for c in columns], "rows": counts[table]}
        out.write((json.dumps(table) + ":" + json.dumps(header)[:-1] + ',"chunks":[').encode("utf-8"))
        json_columns = {c.name for c in columns if c.type.upper() == "JSON"}
        reader = cur.sql(f"SELECT {select} FROM ({sql})", params=params).to_arrow_reader(CHUNK_ROWS)  # noqa: S608
        first = True
        for batch in reader:
            if batch.num_rows == 0:
                continue
            parts = []
            for name in batch.schema.names:
                values = batch.column(name).to_pylist()
                if name in json_columns:  # embedded as JSON, not as a string holding JSON
                    parts.append(json.dumps(name) + ":[" + ",".join("null" if v is None else v for v in values) + "]")
                else:
                    parts.append(json.dumps(name) + ":" + json.dumps(values, ensure_ascii=False, allow_nan=False))
            out.write((("\n" if first else ",\n") + "{" + ",".join(parts) + "}").encode("utf-8"))
            first = False
        out.write(("\n]}" + (",\n" if index < len(tables) - 1 else "\n")).encode("utf-8"))
    out.write(b"}}\n")
    return counts


# ---------------------------------------------------------------------------------------------------- reading


class _Walker:
    """A JSON document read one value at a time from a file (see the module docstring)."""

    def __init__(self, path: Path, filename: str, limits: Limits):
        self.handle = path.open("rb")
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.filename = filename
        self.limits = limits
        self.json = json.JSONDecoder()
        self.lines = 0          # newlines before the buffer
        self.line_start = 0     # where the buffer's first line starts, relative to the buffer (<= 0)

    def close(self) -> None:
        self.handle.close()

    def _more(self, size: int = _READ_BYTES) -> bool:
        if self.eof:
            return False
        raw = self.handle.read(size)
        try:
            chunk = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise _fail(self.filename, "the file is not UTF-8 text") from None
        if not raw:
            self.eof = True
        self.lines += self.text.count("\n", 0, self.pos)
        self.line_start -= self.pos
        self.text = self.text[self.pos:] + chunk
        self.pos = 0
        return bool(raw) or bool(chunk)

    def where(self, offset: int | None = None) -> str:
        """'line N, column M' of ``offset`` in the buffer (default: here), counted from the file's start."""
        offset = self.pos if offset is None else offset
        line = self.lines + self.text.count("\n", 0, offset) + 1
        last = self.text.rfind("\n", 0, offset)
        column = offset - last if last >= 0 else offset - self.line_start + 1
        return f"line {line}, column {column}"

    def peek(self) -> str:
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                raise _fail(self.filename, f"the file is not valid JSON ({self.where()}: it ends too early); it "
                                           "may be truncated")

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise _fail(self.filename, f"the file is not valid JSON ({self.where()}: expected {char!r}, found "
                                       f"{found!r})")
        self.pos += 1

    def value(self):
        self.peek()
        read = _READ_BYTES
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.pos)
            except RecursionError:
                raise _fail(self.filename, "the JSON is nested too deeply") from None
            except json.JSONDecodeError as exc:
                # An incomplete value looks like a broken one: read more until the value or the file ends.
                if self.eof or len(self.text) - self.pos > self.limits.max_json_value_bytes:
                    if not self.eof:
                        raise _fail(self.filename, "one value of the JSON is larger than VeloCoach reads at once "
                                                   f"({self.limits.max_json_value_bytes // 1048576} MB)") from None
                    raise _fail(self.filename, f"the file is not valid JSON ({self.where(exc.pos)}: {exc.msg}); it "
                                               "may be truncated") from None
                self._more(read)
                read = min(read * 2, 64 << 20)
                continue
            if end == len(self.text) and not self.eof and isinstance(value, int | float):
                self._more()  # a number at the buffer's end may go on in the next read
                continue
            self.pos = end
            return value

    def end(self) -> None:
        """Only whitespace may follow the document."""
        while True:
            rest = self.text[self.pos:]
            if rest.strip(" \t\r\n"):
                raise _fail(self.filename, "there is junk after the end of the JSON document")
            self.pos = len(self.text)
            if not self._more():
                return

    def key(self) -> str:
        name = self.value()
        if not isinstance(name, str):
            raise _fail(self.filename, "the file is not valid JSON (an object key is not text)")
        self.expect(":")
        return name

    def members(self) -> Iterator[str]:
        """The keys of the object starting here; the caller reads each value."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            yield self.key()
            found = self.peek()
            self.pos += 1
            if found == "}":
                return
            if found != ",":
                raise _fail(self.filename, f"the file is not valid JSON ({self.where()}: expected ',' or '}}')")

    def items(self) -> Iterator[None]:
        """Steps through the array starting here; the caller reads each item."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield
            found = self.peek()
            self.pos += 1
            if found == "]":
                return
            if found != ",":
                raise _fail(self.filename, f"the file is not valid JSON ({self.where()}: expected ',' or ']')")


_ARROW_TYPES = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "SMALLINT": pa.int16(), "TINYINT": pa.int8(),
                "DOUBLE": pa.float64(), "FLOAT": pa.float32(), "REAL": pa.float32(), "BOOLEAN": pa.bool_()}


def _arrow_type(column: Column) -> pa.DataType:
    """The Arrow type a column is read into: numbers and booleans as themselves (DECIMAL as a double), everything
    else as text (dates, times, JSON); the type check before a restore casts text to the column's type."""
    kind = column.type.upper()
    if kind.startswith("DECIMAL"):
        return pa.float64()
    return _ARROW_TYPES.get(kind, pa.string())


def _text_array(values: list | pa.Array, json_column: bool) -> pa.Array:
    """Values as text: numbers and booleans converted by Arrow in C ("12.5", "true"), a JSON column's values as
    JSON, anything else (text among numbers, lists, objects) one by one in Python."""
    if not json_column:
        try:
            array = values if isinstance(values, pa.Array) else pa.array(values)
            if pa.types.is_string(array.type) or pa.types.is_null(array.type):
                return array.cast(pa.string())
            if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_boolean(array.type):
                return array.cast(pa.string())
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            pass
    if isinstance(values, pa.Array):
        values = values.to_pylist()
    return pa.array([_as_text(v, json_column) for v in values], type=pa.string())


def _as_text(value, json_column: bool):
    if value is None:
        return None
    if json_column or isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class _TableWriter:
    """Chunks of one table into a Parquet file with one schema for all: ``types`` per column (text when absent),
    ``json_columns`` kept as JSON text."""

    def __init__(self, path: Path, table: str, names: list, types: dict[str, pa.DataType], json_columns: set[str],
                 filename: str):
        for name in names:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise _fail(filename, f"the table {table} has a malformed column name {str(name)[:40]!r}")
        if len(set(names)) != len(names):
            raise _fail(filename, f"the table {table} names a column twice")
        self.path, self.table, self.names, self.filename = path, table, names, filename
        self.json_columns = json_columns
        self.schema = pa.schema([(name, types.get(name, pa.string())) for name in names])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd") if names else None
        self.rows = 0

    def add(self, columns: dict[str, list]) -> None:
        lengths = {len(v) if isinstance(v, list | pa.Array) else -1 for v in columns.values()} if columns else {0}
        if set(columns) != set(self.names) or len(lengths) != 1 or -1 in lengths:
            raise _fail(self.filename, f"a chunk of the table {self.table} does not hold one list per column, all "
                                       "of the same length")
        arrays = []
        for name in self.names:
            values, kind = columns[name], self.schema.field(name).type
            if kind == pa.string():
                arrays.append(_text_array(values, name in self.json_columns))
                continue
            try:
                arrays.append(pa.array(values, type=kind))
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                raise _fail(self.filename, f"the column {self.table}.{name} holds value(s) that are not "
                                           f"{_KIND_NAMES.get(str(kind), str(kind))}") from None
        if self.writer is not None:
            self.writer.write_batch(pa.record_batch(arrays, schema=self.schema))
        self.rows += lengths.pop()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


_KIND_NAMES = {"int64": "integer", "int32": "integer", "int16": "integer", "int8": "integer", "double": "number",
               "float": "number", "bool": "true or false"}


def read_json(path: Path, filename: str, folder: Path, limits: Limits,
              schema: dict[str, list[Column]]) -> tuple[dict, dict[str, tuple[list[Path] | None, int, list[str]]]]:
    """Read a JSON backup (format 1 or 2) from ``path`` into Parquet files per table in ``folder``. Returns
    (the manifest without its tables, {table: (parquet files or None, rows, column names)}). Raises
    ExportImportError naming the file and the reason."""
    walker = _Walker(path, filename, limits)
    manifest: dict = {}
    tables: dict[str, tuple[list[Path] | None, int, list[str]]] = {}
    total = 0
    try:
        for key in walker.members():
            if key != "tables":
                manifest[key] = walker.value()
                continue
            if walker.peek() != "{":
                raise _fail(filename, "the backup lists no tables")
            _check_manifest({**manifest, "tables": {}}, filename)
            manifest["tables"] = {}
            for table in walker.members():
                if not _NAME.fullmatch(table) or table in tables:
                    raise _fail(filename, f"the table name {table[:40]!r} is malformed or repeated")
                live = {c.name: c for c in schema.get(table, [])}
                reader = _read_records if walker.peek() == "[" else _read_chunks
                tables[table] = reader(walker, table, folder / f"{table}.parquet", live, limits, filename)
                total += tables[table][1]
                if total > limits.max_rows:
                    raise _fail(filename, "the backup holds more rows than VeloCoach restores at once")
                manifest["tables"][table] = {"rows": tables[table][1]}
        walker.end()
    finally:
        walker.close()
    if "tables" not in manifest:
        _check_manifest(manifest, filename)
    counts = manifest.get("row_counts") if isinstance(manifest.get("row_counts"), dict) else {}
    for table, (_path, rows, _names) in tables.items():
        if table in counts and counts[table] != rows:
            raise _fail(filename, f"the table {table} holds {rows} records but the backup says {counts[table]}: it "
                                  "is incomplete")
    return manifest, tables


def _read_chunks(walker: _Walker, table: str, path: Path, live: dict[str, Column], limits: Limits,
                 filename: str) -> tuple[list[Path] | None, int, list[str]]:
    names: list[str] | None = None
    writer = None
    try:
        for key in walker.members():
            if key == "columns":
                names = walker.value()
                if not isinstance(names, list):
                    raise _fail(filename, f"the table {table} gives no list of columns")
                types = {n: _arrow_type(live[n]) for n in names if isinstance(n, str) and n in live}
                writer = _TableWriter(path, table, names, types, _json_columns(live), filename)
            elif key == "chunks":
                if writer is None:
                    raise _fail(filename, f"the table {table} gives its chunks before its columns")
                for _ in walker.items():
                    chunk = walker.value()
                    if not isinstance(chunk, dict):
                        raise _fail(filename, f"a chunk of the table {table} is not an object of columns")
                    writer.add(chunk)
            else:
                walker.value()  # types, rows: informational; the live schema decides
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise _fail(filename, f"the table {table} is not a list of records, nor a table of columns and chunks")
    return ([path] if names else None), writer.rows, names or []


def _read_records(walker: _Walker, table: str, path: Path, live: dict[str, Column], limits: Limits,
                  filename: str) -> tuple[list[Path] | None, int, list[str]]:
    """Format 1: a list of row objects, every value read as text (the type check casts it and counts what does not
    fit). Rows go to Parquet a chunk at a time; a row with a column not seen before starts a new part file, and
    the parts are read together by name (a column a part lacks is NULL there)."""
    rows: list[dict] = []
    names: list[str] = []
    known: set[str] = set()
    parts: list[Path] = []
    writer: _TableWriter | None = None
    count = 0
    json_columns = _json_columns(live)

    def flush() -> None:
        nonlocal writer
        if not rows:
            return
        if writer is None or len(writer.names) != len(names):
            if writer is not None:
                writer.close()
            parts.append(path.with_name(f"{path.stem}.{len(parts)}.parquet"))
            writer = _TableWriter(parts[-1], table, list(names), {}, json_columns, filename)
        writer.add(_columns(rows, writer.names, json_columns))
        rows.clear()

    try:
        for _ in walker.items():
            record = walker.value()
            if not isinstance(record, dict):
                raise _fail(filename, f"the table {table} is not a list of records")
            if not record.keys() <= known:
                flush()  # the rows so far have no value for the new column(s): they go to the current part
                for name in record:
                    if name not in known:
                        if not _NAME.fullmatch(name):
                            raise _fail(filename, f"the table {table} has a malformed column name {name[:40]!r}")
                        names.append(name)
                        known.add(name)
            rows.append(record)
            count += 1
            if len(rows) >= CHUNK_ROWS:
                flush()
        flush()
    finally:
        if writer is not None:
            writer.close()
    if count and not names:
        raise _fail(filename, f"the records of the table {table} are empty objects")
    return (parts or None), count, names


def _json_columns(live: dict[str, Column]) -> set[str]:
    return {name for name, column in live.items() if column.type.upper() == "JSON"}


def _columns(rows: list[dict], names: list[str], json_columns: set[str]) -> dict[str, list | pa.Array]:
    """Rows as columns. Arrow turns the rows into a struct array in C when their values share a kind per column
    (what VeloCoach wrote: ~10x faster than Python loops); else, or for a JSON column, Python lists."""
    try:
        struct = pa.array(rows)
        fields = {struct.type.field(i).name: i for i in range(struct.type.num_fields)}
        out: dict[str, list | pa.Array] = {}
        for name in names:
            if name in json_columns or name not in fields:
                out[name] = [row.get(name) for row in rows]
            else:
                out[name] = struct.field(fields[name])
        return out
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return {name: [row.get(name) for row in rows] for name in names}
