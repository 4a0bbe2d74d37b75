"""``python -m core analyze RIDE_ID``, ``analyses [--pending]``, ``analysis approve|reject ID``, ``analysis adjust``."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="compare a ride with its planned workout (proposes, changes nothing)")
    p.add_argument("ride_id", type=int)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=analyze)

    p = subparsers.add_parser("analyses", help="ride analyses and plan adjustment proposals")
    p.add_argument("--pending", action="store_true", help="only those awaiting approval")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=analyses)

    p = subparsers.add_parser("analysis", help="approve or reject an analysis, or propose adjustments")
    sub = p.add_subparsers(dest="analysis_command", metavar="ACTION", required=True)
    a = sub.add_parser("approve", help="apply its suggestions as a new version of the active plan")
    a.add_argument("analysis_id", type=int)
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=approve)
    a = sub.add_parser("reject", help="reject it; the plan is not changed")
    a.add_argument("analysis_id", type=int)
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=reject)
    a = sub.add_parser("adjust", help="propose adjustments from the last weeks' compliance (for approval)")
    a.add_argument("--weeks", type=int, default=3, help="finished weeks to look at (2–4)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=adjust)


def _settings(ctx):
    from core.config import load_settings

    return load_settings(db_path=ctx.db_path)


def _print(analysis: dict) -> None:
    from core.coach.suggestions import describe_suggestion

    print(f"#{analysis['id']} {analysis['kind']} · ride {analysis['ride_id']} · {analysis['status']}")
    for sentence in analysis["feedback"].get("sentences", []):
        print(f"  {sentence}")
    for s in analysis["suggestions"]:
        print(f"  → {describe_suggestion(s)}")
    for note in analysis["feedback"].get("notes", []):
        print(f"  ({note})")


def analyze(args, ctx) -> int:
    from core.coach.analysis import analyze_ride

    analysis = analyze_ride(ctx.cur, ctx.athlete_id(), args.ride_id, settings=_settings(ctx))
    ctx.print_json(analysis) if args.json else _print(analysis)
    return 0


def analyses(args, ctx) -> int:
    from core.coach.analysis import list_analyses

    rows = list_analyses(ctx.cur, ctx.athlete_id(), pending=args.pending)
    if args.json:
        ctx.print_json(rows)
    elif not rows:
        print("No analyses" + (" awaiting approval." if args.pending else " yet."))
    else:
        for row in rows:
            _print(row)
    return 0


def approve(args, ctx) -> int:
    from core.coach.approval import approve_analysis

    result = approve_analysis(ctx.cur, ctx.athlete_id(), args.analysis_id)
    if args.json:
        ctx.print_json(result)
    else:
        if result["plan_id"]:
            print(f"Approved: plan version {result['version']} (#{result['plan_id']}) is now active; "
                  f"the previous version (#{result['old_plan_id']}) is kept.")
        else:
            print("Approved: nothing in the plan needed to change.")
        for line in result["applied"]:
            print(f"  applied: {line}")
        for line in result["skipped"]:
            print(f"  skipped: {line}", file=sys.stderr)
    return 0


def reject(args, ctx) -> int:
    from core.coach.approval import reject_analysis

    result = reject_analysis(ctx.cur, ctx.athlete_id(), args.analysis_id)
    ctx.print_json(result) if args.json else print(f"Rejected analysis #{result['id']}; the plan is unchanged.")
    return 0


def adjust(args, ctx) -> int:
    from core.coach.analysis import adjust_plan_from_performance

    proposal = adjust_plan_from_performance(ctx.cur, ctx.athlete_id(), weeks=args.weeks, settings=_settings(ctx))
    ctx.print_json(proposal) if args.json else _print(proposal)
    return 0
