"""``export --format zip|json [--out PATH]``, ``export-gpx ride|route ID [--out PATH]``, ``restore FILE [--json]``."""

from __future__ import annotations

import sys
from pathlib import Path

from core.errors import ExportImportError


def register(subparsers) -> None:
    export = subparsers.add_parser("export", help="back up the athlete (ZIP of Parquet tables, or one JSON file)")
    export.add_argument("--format", choices=["zip", "json"], default="zip")
    export.add_argument("--out", type=Path, help="file to write (default: velocoach-<name>-<date>.<format> here)")
    export.add_argument("--json", action="store_true", help="print the result as JSON")
    export.set_defaults(handler=cmd_export, local_outputs=("out",), default_output=(".zip", ".json"))

    gpx = subparsers.add_parser("export-gpx", help="write a ride or a route as GPX")
    gpx.add_argument("kind", choices=["ride", "route"])
    gpx.add_argument("item_id", type=int, metavar="ID")
    gpx.add_argument("--out", type=Path, help="file to write (default: the ride/route name .gpx here)")
    gpx.add_argument("--json", action="store_true")
    gpx.set_defaults(handler=cmd_export_gpx, local_outputs=("out",), default_output=(".gpx",))

    restore = subparsers.add_parser("restore", help="restore a backup file as a new athlete (validated, all or nothing; "
                                                    "a safety copy of the database is kept in backups/ first)")
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.add_argument("--json", action="store_true")
    restore.set_defaults(handler=cmd_restore, local_inputs=("file",))


def cmd_export(args, ctx) -> int:
    from core.store.backup_export import backup_filename, export_backup, write_backup

    athlete_id = ctx.athlete_id()
    out = args.out or Path(backup_filename(ctx.cur, athlete_id, args.format))
    if getattr(ctx.files, "local", False):  # a direct run: streamed to the file, bounded memory
        size = write_backup(ctx.cur, athlete_id, args.format, out)["bytes"]
    else:  # forwarded to the running app: the command line writes what the app sends
        data = export_backup(ctx.cur, athlete_id, args.format)
        ctx.files.write_atomically(out, data)
        size = len(data)
    result = {"file": str(out), "format": args.format, "bytes": size, "athlete_id": athlete_id}
    if args.json:
        ctx.print_json(result)
    else:
        print(f"Backup of athlete #{athlete_id} written to {out} ({size / 1048576:.1f} MB)")
    return 0


def cmd_export_gpx(args, ctx) -> int:
    from core.athletes import shared_gpx

    name, data = shared_gpx(ctx.cur, ctx.athlete_id(), args.kind, args.item_id)  # privacy zones left out
    out = args.out or Path(name)
    ctx.files.write_atomically(out, data)
    if args.json:
        ctx.print_json({"file": str(out), "kind": args.kind, "id": args.item_id, "bytes": len(data)})
    else:
        print(f"{args.kind.capitalize()} #{args.item_id} written to {out}")
    return 0


def _read_forwarded(files, path: Path) -> bytes:
    """The backup file from the command line's side (a forwarded restore), size-checked before it is read."""
    from core.store.backup_format import DEFAULT_LIMITS

    try:
        info = files.stat(path)
        if info.is_dir:
            raise IsADirectoryError(path)
        if info.size > DEFAULT_LIMITS.max_file_bytes:
            raise ExportImportError(f"{path.name}: the file is {info.size / 1048576:.0f} MB, over the backup limit")
        return files.read_bytes(path)
    except FileNotFoundError:
        raise ExportImportError(f"{path}: there is no such file") from None
    except IsADirectoryError:
        raise ExportImportError(f"{path}: this is a folder, not a backup file") from None
    except OSError as exc:
        raise ExportImportError(f"{path}: the file cannot be read ({exc.strerror or exc})") from None


def cmd_restore(args, ctx) -> int:
    from core.store.backup_restore import restore_backup, restore_file

    if getattr(ctx.files, "local", False):
        result = restore_file(ctx.cur, args.file)  # read from disk as it goes: any size, bounded memory
    else:
        result = restore_backup(ctx.cur, _read_forwarded(ctx.files, args.file.expanduser()), args.file.name)
    if args.json:
        ctx.print_json(result.as_dict())
    else:
        total = sum(result.rows.values())
        print(f"Restored {args.file.name} as athlete #{result.athlete_id} ({result.athlete_name}): "
              f"{result.rows.get('rides', 0)} rides, {total} rows in all.", file=sys.stdout)
    return 0
