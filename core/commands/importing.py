"""``python -m core import FILE... [--as route|ride] [--json]``: rides (.fit, timed .gpx) and routes (.gpx)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.importer import EXTENSIONS, import_path


def register(subparsers) -> None:
    parser = subparsers.add_parser("import", help="import .fit/.gpx files (a folder imports every such file in it)")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--as", dest="as_kind", choices=("route", "ride"),
                        help="force the kind (default: .fit and timed .gpx are rides, untimed .gpx routes)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file")
    parser.set_defaults(handler=cmd_import, local_inputs=("files",))


def _describe(result: dict) -> str:
    if not result["ok"]:
        return f"failed   {result['error']}"
    if result["kind"] == "route":
        return (f"route #{result['id']}  {result['file']}: {result['distance_m'] / 1000:.1f} km, "
                f"{len(result['sections'])} sections")
    km = f"{result['distance_m'] / 1000:.1f} km" if result.get("distance_m") else "indoor"
    text = f"ride #{result['id']}  {result['message']} ({km})"
    for warning in result.get("warnings", []):
        text += f"\n         note: {warning}"
    return text


def cmd_import(args, ctx) -> int:
    cur = ctx.cur
    athlete_id = ctx.athlete_id()
    failed = 0
    for path in ctx.files.expand(args.files, EXTENSIONS):  # the command line's files, also when forwarded
        result = import_path(cur, athlete_id, path, as_kind=args.as_kind, files=ctx.files)  # never raises
        failed += not result["ok"]
        if args.json:
            ctx.print_json(result)
        else:
            print(_describe(result), file=sys.stdout if result["ok"] else sys.stderr, flush=True)
    return 1 if failed else 0
