"""``check [--json] [--salvage FILE]``: is the database whole? Every table read fully, links, schema version."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    check = subparsers.add_parser(
        "check", help="check the database: read every table fully, check the links and the schema version "
                      "(exit 1 when something is wrong); --salvage copies what can be read into a new file")
    check.add_argument("--salvage", type=Path, metavar="FILE",
                       help="also copy every readable row into this new database file (the damaged one is only read)")
    check.add_argument("--json", action="store_true")
    # needs_db=False: the handler opens the file read-only and without migrating (a check never writes to it)
    check.set_defaults(handler=cmd_check, needs_db=False)


def cmd_check(args, ctx) -> int:
    from core.errors import DatabaseDamagedError, StorageError
    from core.store.check import check_database, salvage
    from core.store.db import connect

    try:  # read-only and without migrating: a check never writes to the file it checks
        db = connect(ctx.db_path, migrate_schema=False, read_only=True)
    except DatabaseDamagedError as exc:
        report = {"ok": False, "db": str(ctx.db_path), "error": str(exc)}
        print(ctx.dumps(report) if args.json else f"error: {exc}", file=sys.stdout if args.json else sys.stderr)
        return 1
    try:
        report = check_database(db.cursor())
        if args.salvage:
            try:
                report["salvage"] = salvage(db.cursor(), args.salvage)
            except StorageError as exc:
                report["salvage"] = {"error": str(exc)}
    finally:
        db.close()
    if args.json:
        ctx.print_json(report)
    else:
        _print(report)
    return 0 if report["ok"] and "error" not in report.get("salvage", {}) else 1


def _print(report: dict) -> None:
    size = f"{report['size_bytes'] / 1048576:.1f} MB" if report["size_bytes"] else "?"
    print(f"{report['db']}: {size}, schema {report['schema_version']} (this VeloCoach knows "
          f"{report['known_schema_version']}), every table read in {report['seconds']} s")
    for table, result in report["tables"].items():
        if not result["ok"]:
            print(f"  DAMAGED  {table}: {result['rows']:,} rows read, then {result['error']}")
    for problem in report["integrity_problems"]:
        print(f"  LINK     {problem}")
    if report.get("salvage"):
        saved = report["salvage"]
        if "error" in saved:
            print(f"  salvage failed: {saved['error']}")
        else:
            copied = sum(t["copied"] for t in saved["tables"].values())
            lost = sum(t["lost_row_groups"] for t in saved["tables"].values())
            print(f"  salvaged {copied:,} rows into {saved['file']} ({lost} unreadable row group(s) left behind)")
    print("OK: the database is whole." if report["ok"] else
          "PROBLEMS: see above. Restore your latest backup or a safety copy from the backups folder, or use "
          "--salvage NEW_FILE to keep what can be read.")
