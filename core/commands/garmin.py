"""Garmin Connect commands: ``sync-garmin [--account LABEL] [--json]``, ``garmin accounts``, ``garmin login``,
``garmin logout``, ``garmin send-plan PLAN_ID``. The password is read from a prompt (or one line of stdin), never
from an argument."""

from __future__ import annotations

import sys
from datetime import date

SYNC_WAIT_S = 30 * 60  # a sync of the same account already running (the app's schedule): wait for it this long


def register(subparsers) -> None:
    sync = subparsers.add_parser("sync-garmin", help="import new activities from signed-in Garmin Connect accounts")
    sync.add_argument("--account", metavar="LABEL", help="only this account (default: every signed-in account)")
    sync.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                      help="first sync / re-scan from this date (default: new activities only; 90 days at first)")
    sync.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="with --since: up to this date")
    sync.add_argument("--all-types", action="store_true", help="import every sport, not only cycling")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(handler=cmd_sync, feature="garmin_sync")  # VELOCOACH_FEATURES can switch it off

    group = subparsers.add_parser("garmin", help="Garmin Connect accounts")
    group.set_defaults(feature="garmin_sync")
    sub = group.add_subparsers(dest="garmin_command", metavar="ACTION", required=True)
    accounts = sub.add_parser("accounts", help="list the athlete's Garmin accounts")
    accounts.add_argument("--json", action="store_true")
    accounts.set_defaults(handler=cmd_accounts)
    login = sub.add_parser("login", help="sign in (password from a prompt or stdin; asks for the MFA code)")
    login.add_argument("--label", default="Garmin", help="name for this account (default: Garmin)")
    login.add_argument("--email", required=True)
    login.add_argument("--json", action="store_true")
    login.set_defaults(handler=cmd_login, prompts=True)
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
    schedule = sub.add_parser("schedule", help="the background sync the running app does: show it, or set an "
                                                "account's interval with --every")
    schedule.add_argument("--account", metavar="LABEL", help="the account to set (default: the only one)")
    schedule.add_argument("--every", choices=("off", "1h", "3h", "12h", "daily"),
                          help="how often the app syncs the account while it runs (off by default)")
    schedule.add_argument("--json", action="store_true", help="one JSON line per account")
    schedule.set_defaults(handler=cmd_schedule)


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
            if running := garmin_sync.running_sync(account["id"]):  # in the app: the schedule or the Garmin page
                print(f"Waiting for the {'scheduled ' if running['origin'] == 'scheduled' else ''}sync of "
                      f"'{account['label']}' that is running to finish…", file=sys.stderr, flush=True)
            report = garmin_sync.sync_account(cur, account["id"], progress=progress, since=args.since, until=args.until,
                                         activity_types=None if args.all_types else garmin_client.CYCLING_TYPES,
                                         wait_s=SYNC_WAIT_S)
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
                                "last_sync_at", "auto_sync_minutes")} for a in accounts]
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

    password = ctx.files.ask_secret("Garmin Connect password: ")
    account_id = garmin_accounts.sign_in(ctx.cur, ctx.athlete_id(), args.label, args.email, password,
                                ask_code=lambda: ctx.files.ask_secret("Security code from Garmin: "))
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


def cmd_schedule(args, ctx) -> int:
    from core.config import load_settings
    from core.garmin import accounts as garmin_accounts
    from core.garmin.schedule import INTERVAL_WORDS, background_sync_status, set_auto_sync

    cur, athlete_id = ctx.cur, ctx.athlete_id()
    if args.every is not None:
        if args.account:
            account = garmin_accounts.account_by_label(cur, athlete_id, args.account)
        else:
            accounts = garmin_accounts.list_accounts(cur, athlete_id)
            if len(accounts) != 1:
                print("error: give --account LABEL (the athlete has "
                      f"{len(accounts) or 'no'} Garmin account{'s' if len(accounts) != 1 else ''})", file=sys.stderr)
                return 2
            account = accounts[0]
        set_auto_sync(cur, account["id"], INTERVAL_WORDS[args.every])
    status = background_sync_status(cur, load_settings(db_path=ctx.db_path), athlete_id)
    if args.json:
        for account in status["accounts"]:
            ctx.print_json(account | {"enabled": status["enabled"], "scheduler_running": status["running"]})
        return 0
    if not status["enabled"]:
        print("Background sync is turned off for this installation (VELOCOACH_FEATURES=-background_sync).")
    for account in status["accounts"]:
        line = f"{account['label']}: {account['interval'].lower()}"
        if account["interval_minutes"] and not account["signed_in"]:
            line += ", signed out: sign in again for it to run"
        elif account["next_run_at"] is not None:
            line += f", next around {account['next_run_at']:%Y-%m-%d %H:%M} UTC"
        elif account["interval_minutes"]:
            line += ", runs while the app is open"
        if last := account["last_scheduled_run"]:
            line += (f"; last scheduled run {last['started_at']:%Y-%m-%d %H:%M}: {last['status']}, "
                     f"{last['imported']} imported, {last['failed']} failed")
            line += f" ({last['error']})" if last["error"] else ""
        print(line)
    if not status["accounts"]:
        print("No Garmin account yet: python -m core garmin login --email you@example.com")
    return 0
