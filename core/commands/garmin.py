"""Garmin Connect commands: ``sync-garmin [--account LABEL] [--json]``, ``garmin accounts``, ``garmin login``,
``garmin logout``, ``garmin send-plan PLAN_ID``. The password is read from a prompt (or one line of stdin), never
from an argument."""

from __future__ import annotations

import sys
from datetime import date

from core.cli import read_secret


def register(subparsers) -> None:
    sync = subparsers.add_parser("sync-garmin", help="import new activities from signed-in Garmin Connect accounts")
    sync.add_argument("--account", metavar="LABEL", help="only this account (default: every signed-in account)")
    sync.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                      help="first sync / re-scan from this date (default: new activities only; 90 days at first)")
    sync.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="with --since: up to this date")
    sync.add_argument("--all-types", action="store_true", help="import every sport, not only cycling")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(handler=cmd_sync)

    group = subparsers.add_parser("garmin", help="Garmin Connect accounts")
    sub = group.add_subparsers(dest="garmin_command", metavar="ACTION", required=True)
    accounts = sub.add_parser("accounts", help="list the athlete's Garmin accounts")
    accounts.add_argument("--json", action="store_true")
    accounts.set_defaults(handler=cmd_accounts)
    login = sub.add_parser("login", help="sign in (password from a prompt or stdin; asks for the MFA code)")
    login.add_argument("--label", default="Garmin", help="name for this account (default: Garmin)")
    login.add_argument("--email", required=True)
    login.add_argument("--json", action="store_true")
    login.set_defaults(handler=cmd_login)
    logout = sub.add_parser("logout", help="sign out: delete the account's tokens")
    logout.add_argument("--account", metavar="LABEL", required=True)
    logout.set_defaults(handler=cmd_logout)
    send = sub.add_parser("send-plan", help="put a plan's riding workouts on your Garmin Connect calendar "
                                            "(sending again updates them, never duplicates)")
    send.add_argument("plan_id", type=int)
    send.add_argument("--account", metavar="LABEL", help="the Garmin account (default: the only signed-in one)")
    send.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD",
                      help="first day to send (default: today, or the plan's start if later)")
    send.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD",
                      help="last day to send (default: the plan's end)")
    send.add_argument("--json", action="store_true", help="one JSON line per workout")
    send.set_defaults(handler=cmd_send_plan)


def cmd_sync(args, ctx) -> int:
    from core.errors import GarminAuthError, GarminSyncError
    from core.garmin import accounts as garmin_accounts
    from core.garmin import client as garmin_client
    from core.garmin import sync as garmin_sync

    if args.until and not args.since:
        print("error: --until needs --since", file=sys.stderr)
        return 2
    cur, athlete_id = ctx.cur, ctx.athlete_id()
    if args.account:
        accounts = [garmin_accounts.account_by_label(cur, athlete_id, args.account)]
    else:
        accounts = [a for a in garmin_accounts.list_accounts(cur, athlete_id) if a["signed_in"]]
    if not accounts:
        raise GarminAuthError("No Garmin account is signed in: run `python -m core garmin login --email …`")

    def progress(done: int, total: int, message: str) -> None:
        if not args.json and total:
            print(f"\r{done}/{total} {message[:60]:<60}", end="", file=sys.stderr, flush=True)

    results, exit_code = [], 0
    for account in accounts:
        try:
            report = garmin_sync.sync_account(cur, account["id"], progress=progress, since=args.since, until=args.until,
                                         activity_types=None if args.all_types else garmin_client.CYCLING_TYPES)
            result = {"account": account["label"], **report.as_dict()}
            exit_code = max(exit_code, 0 if report.status == "ok" else 1)
        except GarminSyncError as exc:  # GarminAuthError too: report it, go on with the other accounts
            result = {"account": account["label"], "status": "failed", "error": str(exc)}
            exit_code = 1
        results.append(result)
        if not args.json:
            print("\r", end="", file=sys.stderr)
            if "listed" in result:
                print(f"{account['label']}: {result['status']}, {result['listed']} new, {result['imported']} "
                      f"imported, {result['skipped']} skipped, {result['failed']} failed")
                for note in result["notes"]:
                    print(f"  {note}")
            else:
                print(f"{account['label']}: {result['error']}", file=sys.stderr)
    if args.json:
        ctx.print_json(results)
    return exit_code


def cmd_accounts(args, ctx) -> int:
    from core.garmin import accounts as garmin_accounts

    accounts = garmin_accounts.list_accounts(ctx.cur, ctx.athlete_id())
    shown = [{k: a[k] for k in ("id", "label", "signed_in", "last_synced_activity_id", "last_synced_activity_at",
                                "last_sync_at")} for a in accounts]
    if args.json:
        ctx.print_json(shown)
    elif not shown:
        print("No Garmin account yet: python -m core garmin login --email you@example.com")
    else:
        for a in shown:
            when = a["last_synced_activity_at"]
            print(f"{a['label']}: {'signed in' if a['signed_in'] else 'signed out'}, "
                  f"{'synced up to ' + when.isoformat() if when else 'never synced'}")
    return 0


def cmd_login(args, ctx) -> int:
    from core.garmin import accounts as garmin_accounts

    password = read_secret("Garmin Connect password: ")
    account_id = garmin_accounts.sign_in(ctx.cur, ctx.athlete_id(), args.label, args.email, password,
                                ask_code=lambda: read_secret("Security code from Garmin: "))
    del password
    if args.json:
        ctx.print_json({"account_id": account_id, "label": args.label.strip()})
    else:
        print(f"Signed in; account '{args.label.strip()}' (#{account_id}) is ready: python -m core sync-garmin")
    return 0


def cmd_logout(args, ctx) -> int:
    from core.garmin import accounts as garmin_accounts

    account = garmin_accounts.account_by_label(ctx.cur, ctx.athlete_id(), args.account)
    garmin_accounts.sign_out(ctx.cur, account["id"])
    print(f"Signed out of '{account['label']}': its tokens are deleted.")
    return 0


def cmd_send_plan(args, ctx) -> int:
    from core.athletes import ftp_on
    from core.coach.plans.store import get_plan
    from core.garmin.workouts import send_plan, send_summary

    cur, athlete_id = ctx.cur, ctx.athlete_id()
    plan = get_plan(cur, args.plan_id, athlete_id)
    today = date.today()

    def progress(item: dict) -> None:
        if args.json:
            ctx.print_json(item)
        else:
            print(f"{item['date']}  {item['status']:<11}  {item['title'] or item['type']}", flush=True)

    results = send_plan(cur, athlete_id, plan, ftp_w=ftp_on(cur, athlete_id, today), account_label=args.account,
                        date_from=args.date_from, date_to=args.date_to, today=today, progress=progress)
    if not args.json:
        print(send_summary(results, args.account or ""), file=sys.stderr)
    return 0
