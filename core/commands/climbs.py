"""``python -m core climbs [--json]``, ``climb ID [--json]``, ``climb rename ID NAME``, ``terrain refresh``."""

from __future__ import annotations


def register(subparsers) -> None:
    listing = subparsers.add_parser("climbs", help="the rider's climbs with every effort, fastest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per climb")
    listing.set_defaults(handler=cmd_climbs)

    climb = subparsers.add_parser("climb", help="one climb's efforts, or rename it")
    climb.add_argument("climb_id", type=int, metavar="ID")
    climb.add_argument("--rename", metavar="NAME", help="give the climb a name")
    climb.add_argument("--json", action="store_true")
    climb.set_defaults(handler=cmd_climb)

    terrain = subparsers.add_parser("terrain", help="recompute elevation, sections, climbs and intervals")
    sub = terrain.add_subparsers(dest="terrain_command", metavar="ACTION", required=True)
    refresh = sub.add_parser("refresh", help="bring rides and routes computed by an older method up to date")
    refresh.add_argument("--json", action="store_true")
    refresh.set_defaults(handler=cmd_refresh)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(round(seconds % 60)):02d}"


def cmd_climbs(args, ctx) -> int:
    from core.rides.queries import climbs_report  # SQL only: no metrics stack

    report = climbs_report(ctx.cur, ctx.athlete_id())
    if args.json:
        for climb in report:
            ctx.print_json(climb)
        return 0
    if not report:
        print("No climbs yet: import rides or routes with climbs.")
    for c in report:
        best = c["efforts"][0] if c["efforts"] else None
        record = f"PR {_minutes(best['time_s'])} on {best['date']}" if best else "not ridden yet"
        print(f"#{c['climb_id']:<5} {c['name'][:48]:<48} {c['length_m'] / 1000:5.1f} km {c['avg_grade_pct']:5.1f} %  "
              f"{len(c['efforts']):3d} efforts  {record}")
    return 0


def cmd_climb(args, ctx) -> int:
    from core.rides.efforts import climb_efforts
    from core.routes.climbs import get_climb, rename_climb

    athlete = ctx.athlete_id()
    if args.rename is not None:
        rename_climb(ctx.cur, athlete, args.climb_id, args.rename)
    climb = get_climb(ctx.cur, athlete, args.climb_id)
    efforts = climb_efforts(ctx.cur, athlete, args.climb_id)
    if args.json:
        ctx.print_json({"climb_id": climb["id"], "name": climb["name"], "length_m": round(climb["length_m"], 1),
                        "avg_grade_pct": round(climb["avg_grade_pct"], 2), "category": climb["category"],
                        "efforts": [{k: e[k] for k in ("ride_id", "date", "time_s", "avg_power_w", "w_per_kg",
                                                       "vam_m_h", "avg_hr", "rank", "pr")} for e in efforts]})
        return 0
    print(f"{climb['name']}: {climb['length_m'] / 1000:.1f} km at {climb['avg_grade_pct']:.1f} %")
    for e in efforts:
        power = "" if e["avg_power_w"] is None else f" {e['avg_power_w']:4.0f} W"
        print(f"{e['rank']:3d}. {_minutes(e['time_s']):>7} {e['date']}{power}  ride #{e['ride_id']}"
              + ("  PR" if e["pr"] else ""))
    return 0


def cmd_refresh(args, ctx) -> int:
    from core.rides.terrain import refresh_terrain

    result = refresh_terrain(ctx.cur, ctx.athlete_id())
    if args.json:
        ctx.print_json(result)
    else:
        print(f"Recomputed {result['routes']} route(s) and {result['rides']} ride(s).")
    return 0
