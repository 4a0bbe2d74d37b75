"""``power [show|approve|dismiss] [--days N | --from D --to D] [--json]`` and ``recompute --from D [--to D]``."""

from __future__ import annotations

import sys

from core.cli import date_arg


def register(subparsers) -> None:
    power = subparsers.add_parser(
        "power", help="power-duration model: MMP, CP, W′, eFTP and the FTP proposal",
        description="The mean-maximal power of your cycling rides over a window (default: the 90 days up to your "
                    "latest ride), the CP/W′ fit on your maximal efforts, eFTP, and the FTP proposal. 'approve' "
                    "sets the proposed FTP from today (or --effective DATE); 'dismiss' hides the proposal until a "
                    "newer maximal effort. Past rides keep the FTP of their day until 'recompute'.")
    power.add_argument("action", nargs="?", default="show", choices=("show", "approve", "dismiss"))
    power.add_argument("--days", type=int, help="window length ending at the latest ride (default 90)")
    power.add_argument("--from", dest="date_from", type=date_arg, metavar="DATE", help="window start (YYYY-MM-DD)")
    power.add_argument("--to", dest="date_to", type=date_arg, metavar="DATE", help="window end (YYYY-MM-DD)")
    power.add_argument("--effective", type=date_arg, metavar="DATE", help="approve: first day of the new FTP")
    power.add_argument("--json", action="store_true", help="one JSON object")
    power.set_defaults(handler=cmd_power)

    recompute = subparsers.add_parser(
        "recompute", help="recompute past rides' figures with the FTP of each ride's day",
        description="Recompute NP, IF, TSS, zones and mean-maximal power of your rides from --from (to --to) with "
                    "the FTP history, e.g. after approving a new FTP from an earlier day.")
    recompute.add_argument("--from", dest="date_from", type=date_arg, metavar="DATE", required=True)
    recompute.add_argument("--to", dest="date_to", type=date_arg, metavar="DATE")
    recompute.add_argument("--json", action="store_true")
    recompute.set_defaults(handler=cmd_recompute)


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_power(args, ctx) -> int:
    from core.rides import powerstore

    if args.action == "show":
        if args.days is not None and (args.date_from or args.date_to):
            return _usage("give either --days or --from/--to, not both")
        if bool(args.date_from) != bool(args.date_to):
            return _usage("--from and --to go together")
        if args.effective:
            return _usage("--effective is for 'power approve'")
    elif args.days is not None or args.date_from or args.date_to:
        return _usage(f"'power {args.action}' takes no window: it decides on the current proposal")
    cur, athlete_id = ctx.cur, ctx.athlete_id()
    powerstore.ensure_ride_mmp(cur, athlete_id)
    if args.action == "approve":
        result = powerstore.approve_proposal(cur, athlete_id, effective_from=args.effective)
        message = (f"FTP set to {result['ftp_w']} W from {result['effective_from']}. Past rides keep the FTP of "
                   f"their day; {result['rides_to_recompute']} ride(s) since then can be updated with "
                   f"`python -m core recompute --from {result['effective_from']}`.")
    elif args.action == "dismiss":
        result = powerstore.dismiss_proposal(cur, athlete_id)
        message = (f"Dismissed the proposal of {result['dismissed_ftp_w']} W; it comes back with a newer maximal "
                   "effort.")
    else:
        result = powerstore.power_report(cur, athlete_id, days=args.days, date_from=args.date_from,
                                         date_to=args.date_to)
        message = _describe(result)
    if args.json:
        ctx.print_json(result)
    else:
        print(message)
    return 0


def _describe(report: dict) -> str:
    lines = [f"Window {report['date_from']} – {report['date_to']} ({report['window_days']} days), "
             f"{len(report['mmp'])} MMP points."]
    if report["cp_w"] is not None:
        pmax = f", Pmax {report['pmax_w']:.0f} W" if report["pmax_w"] else ""
        lines.append(f"CP {report['cp_w']:.0f} W, W′ {report['w_prime_j'] / 1000:.1f} kJ{pmax}, "
                     f"eFTP {report['eftp_w']:.0f} W ({report['model']}).")
    else:
        lines.append("No fit: missing " + "; ".join(report["missing_efforts"] + report["problems"]) + ".")
    for point in report["mmp"]:
        if point["duration_s"] in (5, 60, 300, 1200, 3600):
            lines.append(f"  {point['duration_s']:>5} s  {point['power_w']:6.0f} W  ride #{point['ride_id']} "
                         f"{point['date']}")
    proposal = report["proposal"]
    if proposal:
        lines.append(f"Proposal: FTP {proposal['current_ftp_w'] or '–'} → {proposal['proposed_ftp_w']} W "
                     "(`python -m core power approve` or `dismiss`).")
    else:
        lines.append(f"No FTP proposal: {report['proposal_note']}.")
    return "\n".join(lines)


def cmd_recompute(args, ctx) -> int:
    from core.rides import powerstore

    count = powerstore.recompute_rides(ctx.cur, ctx.athlete_id(), args.date_from, args.date_to)
    if args.json:
        ctx.print_json({"recomputed": count, "date_from": args.date_from, "date_to": args.date_to})
    else:
        print(f"Recomputed {count} ride(s) with the FTP of each ride's day.")
    return 0
