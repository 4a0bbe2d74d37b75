"""Foundation commands: init, demo, athletes."""

from __future__ import annotations

from datetime import date, timedelta

from core.store.db import transaction


def register(subparsers) -> None:
    init = subparsers.add_parser("init", help="create or migrate the database (adds a default athlete)")
    init.add_argument("--json", action="store_true")
    init.set_defaults(handler=cmd_init)

    demo = subparsers.add_parser("demo", help="add the deterministic demo athlete, route and rides")
    demo.add_argument("--years", type=float, default=0.5, help="length of the season (default 0.5)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--end", type=date.fromisoformat, help="the season ends the day before (default today)")
    demo.add_argument("--rides-per-week", type=int, choices=range(1, 15), metavar="1-14",
                      help="fixed rides per week (default: 3–6 varying)")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=cmd_demo)

    athletes = subparsers.add_parser("athletes", help="list athletes")
    athletes.add_argument("--json", action="store_true")
    athletes.set_defaults(handler=cmd_athletes)

    delete = subparsers.add_parser("delete-athlete", help="delete an athlete and all their data (asks for the name)")
    delete.add_argument("athlete", type=int, help="the athlete's id (see `athletes`)")
    delete.add_argument("--confirm-name", help="the athlete's exact name; without it the name is asked for")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(handler=cmd_delete_athlete, prompts=True)


def cmd_init(args, ctx) -> int:
    from core.store.db import schema_version

    athlete_id = ctx.athlete_id()
    result = {"db": str(ctx.db_path), "schema_version": schema_version(ctx.cur), "athlete_id": athlete_id}
    print(ctx.dumps(result) if args.json else f"Database ready at {ctx.db_path} (schema {result['schema_version']})")
    return 0


def cmd_demo(args, ctx) -> int:
    import sys

    from core.demo import seed_demo

    if not 0 < args.years <= 30:
        print("error: --years must be between 0 and 30", file=sys.stderr)
        return 2
    if args.end and not date(1990, 1, 1) <= args.end <= date.today() + timedelta(days=366):
        print("error: --end must be a date between 1990 and a year from now", file=sys.stderr)
        return 2

    def progress(fraction: float, label: str) -> None:
        if not args.json:
            print(f"\r{fraction:6.1%} {label[:60]:<60}", end="", file=sys.stderr, flush=True)

    cur = ctx.cur
    with transaction(cur):
        result = seed_demo(cur, years=args.years, end=args.end, seed=args.seed,
                           rides_per_week=args.rides_per_week, progress=progress)
    if args.json:
        ctx.print_json(result)
    else:
        print(f"\rDemo athlete #{result['athlete_id']}: {result['rides']} rides from {result['first_day']} "
              f"to {result['last_day']}, demo route #{result['route_id']}.", file=sys.stderr)
    return 0


def cmd_athletes(args, ctx) -> int:
    from core.athletes import athlete_table, list_athletes

    if args.json:
        for athlete in list_athletes(ctx.cur):
            ctx.print_json(athlete)
    else:
        for a in athlete_table(ctx.cur):
            print(f"{a['id']:>4}  {a['name']:<24} FTP {a['ftp_w'] or '-':>5}  max HR {a['max_hr'] or '-':>4}  "
                  f"{a['fitness_level']}")
    return 0


def cmd_delete_athlete(args, ctx) -> int:
    from core.athletes import get_athlete
    from core.garmin.accounts import delete_athlete_with_accounts

    athlete = get_athlete(ctx.cur, args.athlete)
    name = args.confirm_name
    if name is None:
        name = ctx.files.ask_secret(f"Delete athlete #{athlete['id']} “{athlete['name']}” and all their rides, "
                                    "routes, plans and rules? Type their name to confirm: ")
    deleted = delete_athlete_with_accounts(ctx.cur, args.athlete, confirm_name=name)
    if args.json:
        ctx.print_json({"deleted_athlete_id": args.athlete, "rows": deleted})
    else:
        print(f"Deleted athlete #{args.athlete} with {deleted.get('rides', 0)} rides, {deleted.get('routes', 0)} "
              f"routes and {deleted.get('plans', 0)} plans.")
    return 0
