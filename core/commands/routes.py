"""Route commands: `routes`, `sections ROUTE_ID`, `route rename|delete|resection ROUTE_ID`."""

from __future__ import annotations

# core.routes.store (numpy) is imported by the handlers only: building the parser stays light for the command
# line, which forwards the command to the running app (core.relay).


def register(subparsers) -> None:
    listing = subparsers.add_parser("routes", help="list planned routes (or --recorded ride paths)")
    listing.add_argument("--recorded", action="store_true", help="rides' recorded paths instead of planned routes")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_routes)

    sections = subparsers.add_parser("sections", help="a route's climbs, descents and flats")
    sections.add_argument("route_id", type=int, metavar="ROUTE_ID")
    sections.add_argument("--json", action="store_true")
    sections.set_defaults(handler=cmd_sections)

    route = subparsers.add_parser("route", help="rename, delete or re-section a route")
    sub = route.add_subparsers(dest="route_command", metavar="ACTION", required=True)
    rename = sub.add_parser("rename", help="give a route a new name")
    rename.add_argument("route_id", type=int, metavar="ROUTE_ID")
    rename.add_argument("name")
    rename.set_defaults(handler=cmd_rename)
    delete = sub.add_parser("delete", help="delete a route with its points and sections")
    delete.add_argument("route_id", type=int, metavar="ROUTE_ID")
    delete.set_defaults(handler=cmd_delete)
    resection = sub.add_parser("resection", help="recompute sections (after an FTP or weight change)")
    resection.add_argument("route_id", type=int, metavar="ROUTE_ID")
    resection.set_defaults(handler=cmd_resection)


def cmd_routes(args, ctx) -> int:
    from core.routes.store import list_routes

    rows = list_routes(ctx.cur, ctx.athlete_id(), "recorded" if args.recorded else "planned", limit=args.limit)
    if args.json:
        for r in rows:
            ctx.print_json({"id": r["id"], "name": r["name"], "kind": r["kind"], "file": r["source_file"],
                            "points": r["point_count"], "distance_m": round(r["distance_m"], 1),
                            "elevation_gain_m": None if r["elevation_gain_m"] is None
                            else round(r["elevation_gain_m"], 1), "created_at": r["created_at"]})
        return 0
    if not rows:
        print("No routes yet: python -m core import FILE.gpx")
    for r in rows:
        gain = "" if r["elevation_gain_m"] is None else f", +{r['elevation_gain_m']:.0f} m"
        print(f"#{r['id']:<5} {r['name'][:50]:<50} {r['distance_m'] / 1000:7.1f} km{gain}")
    return 0


def cmd_sections(args, ctx) -> int:
    from core.routes.store import format_duration, get_route, route_json

    get_route(ctx.cur, args.route_id, ctx.athlete_id())
    result = route_json(ctx.cur, args.route_id)
    if args.json:
        ctx.print_json(result)
        return 0
    for s in result["sections"]:
        grade = "" if s["avg_grade_pct"] is None else f" {s['avg_grade_pct']:5.1f} %"
        cat = f" Cat {s['category']}" if s["category"] and s["category"] != "HC" else (" HC" if s["category"] else "")
        print(f"{s['start_m'] / 1000:6.2f}–{s['end_m'] / 1000:6.2f} km  {s['kind']:<7}{grade}{cat}  "
              f"{format_duration(s['est_time_s'])}")
    return 0


def cmd_rename(args, ctx) -> int:
    from core.routes.store import rename_route

    rename_route(ctx.cur, args.route_id, args.name, ctx.athlete_id())
    print(f"Route #{args.route_id} renamed.")
    return 0


def cmd_delete(args, ctx) -> int:
    from core.routes.store import delete_route

    delete_route(ctx.cur, args.route_id, ctx.athlete_id())
    print(f"Route #{args.route_id} deleted.")
    return 0


def cmd_resection(args, ctx) -> int:
    from core.routes.store import get_route, resection_route

    get_route(ctx.cur, args.route_id, ctx.athlete_id())
    count = resection_route(ctx.cur, args.route_id)
    print(f"Route #{args.route_id}: {count} sections.")
    return 0
