"""``python -m core rides [--json] [filters]`` and ``python -m core ride ID [--json]``."""

from __future__ import annotations

from datetime import date

from core.rides.columns import SORTABLE  # light: the rest of core.rides is imported by the handlers


def register(subparsers) -> None:
    rides = subparsers.add_parser("rides", help="list rides (same filters as the Rides page)")
    rides.add_argument("--sport", default="cycling", help="'cycling' (default), 'all' or a sport type")
    rides.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    rides.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD")
    rides.add_argument("--min-km", type=float)
    rides.add_argument("--max-km", type=float)
    rides.add_argument("--min-minutes", type=float)
    rides.add_argument("--max-minutes", type=float)
    rides.add_argument("--min-power", type=float, help="average power, W")
    rides.add_argument("--max-power", type=float)
    rides.add_argument("--min-hr", type=float, help="average heart rate, bpm")
    rides.add_argument("--max-hr", type=float)
    rides.add_argument("--tag")
    rides.add_argument("--text", help="part of the name")
    rides.add_argument("--sort", default="started_at", choices=sorted(SORTABLE))
    rides.add_argument("--asc", action="store_true", help="ascending (default: descending)")
    rides.add_argument("--page", type=int, default=1)
    rides.add_argument("--page-size", type=int, default=50)
    rides.add_argument("--json", action="store_true")
    rides.set_defaults(handler=cmd_rides)

    ride = subparsers.add_parser("ride", help="one ride's summary and metrics")
    ride.add_argument("ride_id", type=int, metavar="ID")
    ride.add_argument("--json", action="store_true")
    ride.set_defaults(handler=cmd_ride)


def filters_from_args(args):
    """The Rides page's filters (core.rides.store.RideFilter) from the command line's options."""
    from core.rides.queries import RideFilter

    return RideFilter(sport=args.sport, date_from=args.date_from, date_to=args.date_to,
                      min_distance_km=args.min_km, max_distance_km=args.max_km,
                      min_duration_min=args.min_minutes, max_duration_min=args.max_minutes,
                      min_power_w=args.min_power, max_power_w=args.max_power, min_hr=args.min_hr,
                      max_hr=args.max_hr, tag=args.tag, text=args.text)


def cmd_rides(args, ctx) -> int:
    from core.rides.queries import search_rides

    rows, total = search_rides(ctx.cur, ctx.athlete_id(), filters_from_args(args), sort=args.sort,
                               page=args.page, page_size=args.page_size, descending=not args.asc)
    if args.json:
        ctx.print_json({"total": total, "page": args.page, "page_size": args.page_size, "rides": rows})
        return 0
    for r in rows:
        km = f"{r['distance_m'] / 1000:6.1f} km" if r["distance_m"] else "  indoor "
        label = "TRIMP" if r["load_method"] == "hr" else "TSS"  # TRIMP(100): from heart rate, no power
        tss = f"{label:>5} {r['tss']:5.0f}" if r["tss"] is not None else "  TSS     -"
        when = f"{r['started_at']:%Y-%m-%d %H:%M}" if r["started_at"] else "????-??-?? ??:??"
        print(f"#{r['id']:<6} {when}  {km}  {tss}  {r['name']}")
    print(f"{len(rows)} of {total} rides (page {args.page})")
    return 0


def cmd_ride(args, ctx) -> int:
    from core.coach.compliance import ride_compliance
    from core.rides.queries import ride_efforts, ride_report

    athlete = ctx.athlete_id()
    report = ride_report(ctx.cur, athlete, args.ride_id)
    report["climbs"] = [{k: e[k] for k in ("climb_id", "climb_name", "time_s", "avg_power_w", "w_per_kg", "vam_m_h",
                                           "avg_hr", "rank", "efforts", "pr")}
                        for e in ride_efforts(ctx.cur, athlete, args.ride_id)]
    report["compliance"] = ride_compliance(ctx.cur, athlete, args.ride_id)
    if args.json:
        ctx.print_json(report)
        return 0
    for key in ("name", "started_at", "sport_type", "distance_m", "moving_time_s", "avg_power_w", "np_w", "if",
                "tss", "load_method", "vi", "ef", "avg_hr", "decoupling_pct"):
        value = report[key]
        print(f"{key:>15}: {round(value, 2) if isinstance(value, float) else value}")
    for bout in report["intervals"]:
        power = "" if bout.get("avg_power_w") is None else f" {bout['avg_power_w']:.0f} W ({bout['pct_ftp']:.0f} % FTP)"
        print(f"  interval at {bout['start_s'] / 60:5.1f} min: {bout['duration_s']:.0f} s{power}")
    if report["compliance"]:
        print(report["compliance"]["summary"])
    return 0
