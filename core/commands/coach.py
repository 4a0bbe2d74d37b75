"""``python -m core rules parse|add|list`` and ``python -m core plan generate|replan|export|list|activate``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from core.errors import ValidationError


def register(subparsers) -> None:
    rules = subparsers.add_parser("rules", help="training rules in plain language")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    p = rsub.add_parser("parse", help="preview how a rule is understood (saves nothing)")
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_parse)
    p = rsub.add_parser("add", help="parse and save a rule")
    p.add_argument("text")
    p.add_argument("--name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_add)
    p = rsub.add_parser("list", help="the athlete's rules (latest versions)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_list)

    plan = subparsers.add_parser("plan", help="training plans")
    psub = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    p = psub.add_parser("generate", help="generate a plan (and save it with --save)")
    p.add_argument("--weeks", type=int, help="1–52 (default 12, or up to the goal date)")
    p.add_argument("--goal-date", type=date.fromisoformat, help="event date YYYY-MM-DD")
    p.add_argument("--event-type")
    p.add_argument("--route", type=int, help="a saved route id whose climbs shape the key workouts")
    p.add_argument("--rule", type=int, action="append", default=[], help="rule id (repeatable)")
    p.add_argument("--hours", type=float, help="weekly hours")
    p.add_argument("--start", type=date.fromisoformat, help="first Monday (default next Monday)")
    p.add_argument("--distribution", choices=("pyramidal", "polarised", "sweet_spot"),
                   help="intensity distribution (default pyramidal)")
    p.add_argument("--tests", action="store_true", help="an FTP test after each build block")
    p.add_argument("--b-race", type=date.fromisoformat, action="append", default=[],
                   help="a B race inside the plan, YYYY-MM-DD (repeatable): a mini-taper around it")
    p.add_argument("--c-race", type=date.fromisoformat, action="append", default=[],
                   help="a C race inside the plan, YYYY-MM-DD (repeatable): raced as a hard training day")
    p.add_argument("--save", action="store_true", help="store the plan")
    p.add_argument("--accept-conflicts", action="store_true",
                   help="save even when a rule forbids the event day (the event stays on its day)")
    p.add_argument("--name")
    p.add_argument("--json", action="store_true", help="print the plan JSON (weeks with steps, and projection)")
    p.set_defaults(handler=plan_generate)
    p = psub.add_parser("replan", help="re-plan a saved plan from today (keeps the weeks done; a new version)")
    p.add_argument("plan_id", type=int)
    p.add_argument("--json", action="store_true", help="print the new version's weeks and projection")
    p.set_defaults(handler=plan_replan)
    p = psub.add_parser("export", help="export a saved plan (calendar, JSON, or one device file per ride)")
    p.add_argument("plan_id", type=int)
    p.add_argument("--format", choices=("ics", "json", "zwo", "fit", "mrc", "erg"), default="json",
                   help="ics/json: one file; zwo/fit/mrc/erg: one file per riding workout into the --output folder")
    p.add_argument("--output", type=Path, help="file (ics/json, default standard output) or folder (device formats)")
    p.add_argument("--week", type=int, help="only this week of the plan (device formats)")
    p.add_argument("--json", action="store_true", help="print one JSON line per file written")
    p.set_defaults(handler=plan_export, local_outputs=("output",))
    p = psub.add_parser("list", help="saved plans")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_list)
    p = psub.add_parser("activate", help="make a plan the active one")
    p.add_argument("plan_id", type=int)
    p.set_defaults(handler=plan_activate)


def _settings(ctx):
    from core.config import load_settings

    return load_settings(db_path=ctx.db_path)


def _parse_view(result) -> dict:
    return result.model_dump(mode="json") | {"description": [c.describe() for c in result.constraints]}


def rules_parse(args, ctx) -> int:
    from core.coach.rules import parse_rule

    result = parse_rule(args.text, cur=ctx.cur, settings=_settings(ctx))
    if args.json:
        ctx.print_json(_parse_view(result))
    else:
        for line in _parse_view(result)["description"]:
            print(f"- {line}")
        for line in result.suggestions + result.conflicts:
            print(f"! {line}")
        print(f"confidence {result.confidence_score:.2f} ({result.parser})")
    return 0 if result.constraints else 1


def rules_add(args, ctx) -> int:
    from core.coach.rules import parse_rule, rule_public, save_rule

    athlete_id = ctx.athlete_id()
    parsed = parse_rule(args.text, cur=ctx.cur, settings=_settings(ctx))
    rule = save_rule(ctx.cur, athlete_id, args.text, name=args.name, parsed=parsed)
    view = rule_public(rule) | {"suggestions": parsed.suggestions, "conflicts": parsed.conflicts,
                                "confidence_score": parsed.confidence_score}
    if args.json:
        ctx.print_json(view)
    else:
        print(f"saved rule {rule['id']} (version {rule['version']}): {rule['name']}")
    return 0


def rules_list(args, ctx) -> int:
    from core.coach.rules import list_rules, rule_public

    rules = [rule_public(r) for r in list_rules(ctx.cur, ctx.athlete_id())]
    if args.json:
        ctx.print_json(rules)
    else:
        for r in rules:
            print(f"{r['id']:>4}  v{r['version']}  {r['name']}")
    return 0


def plan_generate(args, ctx) -> int:
    from core.coach.plans.generate import generate_plan
    from core.coach.plans.store import save_plan

    if args.weeks is not None and not 1 <= args.weeks <= 52:
        raise ValidationError(f"--weeks must be between 1 and 52 (got {args.weeks})")
    athlete_id = ctx.athlete_id()
    goals = {k: v for k, v in {"event_date": args.goal_date, "event_type": args.event_type,
                               "route_id": args.route, "weekly_hours": args.hours}.items() if v is not None}
    goals["other_events"] = [{"date": d, "priority": "B"} for d in args.b_race] + \
        [{"date": d, "priority": "C"} for d in args.c_race]
    prefs = {"ftp_tests": args.tests} | ({"intensity_distribution": args.distribution} if args.distribution else {})
    request = {"rule_ids": args.rule, "goals": goals, "duration_weeks": args.weeks, "start_date": args.start,
               "name": args.name, "user_preferences": prefs}
    result = generate_plan(ctx.cur, athlete_id, request, settings=_settings(ctx))
    for line in result.notes + result.conflicts:
        print(line, file=sys.stderr)
    plan_id = save_plan(ctx.cur, athlete_id, result, accept_conflicts=args.accept_conflicts) if args.save else None
    if args.json:
        ctx.print_json(result.plan | {"projection": result.projection})
    else:
        for week in result.plan["weeks"]:
            print(f"week {week['week']:>2} {week['start_date']} {week['phase']:<8} {week['planned_hours']:5.1f} h "
                  f"TSS {week['planned_tss']:5.0f}")
    if plan_id is not None:
        print(f"saved plan {plan_id}", file=sys.stderr)
    return 0


def plan_replan(args, ctx) -> int:
    from core.coach.plans.replan import replan_from_today

    result = replan_from_today(ctx.cur, ctx.athlete_id(), args.plan_id)
    for line in result.notes + result.conflicts:
        print(line, file=sys.stderr)
    if args.json:
        ctx.print_json(result.public())
    else:
        race = result.projection.get("race_day") or result.projection.get("end") or {}
        print(f"saved plan {result.plan_id} (version {result.version}); {result.kept_weeks} week(s) kept; "
              f"projected CTL {race.get('ctl', 0):.0f}, TSB {race.get('tsb', 0):+.0f} on {race.get('date', '')}")
    return 0


def plan_export(args, ctx) -> int:
    from core.athletes import ftp_on
    from core.coach.device_files import DEVICE_FORMATS, device_files
    from core.coach.plans.export import export_ics, export_json
    from core.coach.plans.store import get_plan

    athlete_id = ctx.athlete_id()
    plan = get_plan(ctx.cur, args.plan_id, athlete_id)
    today = date.today()
    ftp_w = ftp_on(ctx.cur, athlete_id, today)
    if args.format in DEVICE_FORMATS:
        if args.output is None:
            print(f"error: --output FOLDER is needed: .{args.format} files are one per riding workout",
                  file=sys.stderr)
            return 2
        files = device_files(plan, args.format, ftp_w=ftp_w, week=args.week)
        if not files:
            where = f"week {args.week} of plan {args.plan_id}" if args.week else f"plan {args.plan_id}"
            raise ValidationError(f"There is no riding workout in {where} to export.")
        written = ctx.files.write_files_into(args.output, [(f.name, f.data) for f in files])
        for f, path in zip(files, written, strict=True):
            if args.json:
                ctx.print_json({"file": str(path), "date": f.date, "type": f.type})
            else:
                print(f"{f.date}  {f.type:<10}  {path}")
        return 0
    if args.week is not None:
        print("error: --week applies to device formats (zwo, fit, mrc, erg)", file=sys.stderr)
        return 2
    data = export_ics(plan, ftp_w=ftp_w, export_day=today) if args.format == "ics" else export_json(plan).encode()
    if args.output:
        ctx.files.write_atomically(args.output, data)
        if args.json:
            ctx.print_json({"file": str(args.output), "format": args.format})
        else:
            print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode())
        if not data.endswith(b"\n"):
            sys.stdout.write("\n")
    return 0


def plan_list(args, ctx) -> int:
    from core.coach.plans.store import list_plans

    plans = list_plans(ctx.cur, ctx.athlete_id())
    if args.json:
        ctx.print_json(plans)
    else:
        for p in plans:
            flag = "*" if p["active"] else " "
            print(f"{flag}{p['id']:>4}  v{p['version']}  {p['start_date']} → {p['end_date']}  {p['name']}")
    return 0


def plan_activate(args, ctx) -> int:
    from core.coach.plans.store import activate_plan

    activate_plan(ctx.cur, ctx.athlete_id(), args.plan_id)
    print(f"plan {args.plan_id} is now active")
    return 0
