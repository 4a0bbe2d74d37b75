"""``python -m core rules parse|add|list|edit|disable|enable`` and ``python -m core plan generate|replan|export|list|activate``
(the plan's edits, versions and scenarios: core.commands.plan_versions)."""

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
    p.add_argument("--yes", action="store_true",
                   help="confirm what the parse asks about (e.g. a weekly cap below your recent load)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_add)
    p = rsub.add_parser("list", help="the athlete's rules (latest versions, enabled and disabled)")
    p.add_argument("--enabled", action="store_true", help="only the rules new plans follow")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_list)
    p = rsub.add_parser("edit", help="save a new version of a rule")
    p.add_argument("rule_id", type=int)
    p.add_argument("text")
    p.add_argument("--name")
    p.add_argument("--yes", action="store_true",
                   help="confirm what the parse asks about (e.g. a weekly cap below your recent load)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=rules_edit)
    for action, helptext in (("disable", "leave a rule out of new plans (kept, can be enabled again)"),
                             ("enable", "let new plans follow a disabled rule again")):
        p = rsub.add_parser(action, help=helptext)
        p.add_argument("rule_id", type=int)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(handler=rules_enable if action == "enable" else rules_disable)

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
    p.add_argument("--template", type=int, metavar="T",
                   help="start a plan from template T on --start (saved; the other options do not apply)")
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
    from core.commands.plan_versions import add_plan_actions

    add_plan_actions(psub)


def _settings(ctx):
    from core.config import load_settings

    return load_settings(db_path=ctx.db_path)


def _parse_context(ctx):
    """The context a sentence is read in: the athlete's Settings and recent load when there is an athlete (a parse
    never creates one)."""
    from core.athletes import first_athlete_id
    from core.coach.rules.result import ParseContext
    from core.coach.rules.store import parse_context

    athlete_id = ctx.athlete_id() if ctx.athlete_option is not None else first_athlete_id(ctx.cur)
    if athlete_id is None:
        return ParseContext(today=date.today(), event_date=None, recent_weekly_hours=None, recent_weekly_tss=None,
                            recent_weekly_km=None)
    return parse_context(ctx.cur, athlete_id)


def _parse_view(result, hard_includes_sweet_spot: bool = True) -> dict:
    """The parse as JSON: the ParseResult (constraints, unparsed, confidence_score, suggestions, conflicts, status,
    …) with each constraint in words and what its groups cover."""
    from core.coach.rules.model import covers, describe

    return result.model_dump(mode="json") | {
        "description": [describe(c) for c in result.constraints],
        "covers": sorted({line for c in result.constraints
                          for line in covers(c, hard_includes_sweet_spot=hard_includes_sweet_spot)})}


def _word(word: dict) -> str:
    read_as = word.get("normalised")
    return f"{word['text']} ({word['role']}{f' = {read_as}' if read_as and read_as != word['text'] else ''})"


def _print_parse(view: dict) -> None:
    """The preview in words: each clause as the rider wrote it, the words it was understood by and what it
    became; then what is not understood, questions and conflicts."""
    print(f"{view['status']}:")
    shown: set[int] = set()
    for clause in view.get("clauses") or []:
        print(f"“{clause['span']['text']}”")
        if clause.get("words"):
            print(f"  read by: {', '.join(_word(w) for w in clause['words'])}")
        for index in clause.get("constraints") or []:
            if index < len(view["description"]):
                print(f"  - {view['description'][index]}")
                shown.add(index)
    for index, line in enumerate(view["description"]):
        if index not in shown:  # a reading without clauses (the AI's)
            print(f"- {line}")
    for line in view["covers"]:
        print(f"  ({line})")
    for item in view["unparsed"]:
        print(f"? not understood: “{item['text']}” — {item['suggestion']}")
    for line in [q["message"] for q in view["questions"]] + view["conflicts"]:
        print(f"! {line}")
    print(f"confidence {view['confidence_score']:.2f} ({view['parser']})")


def rules_parse(args, ctx) -> int:
    from core.coach.rules.parser import parse_rule

    context = _parse_context(ctx)
    result = parse_rule(args.text, cur=ctx.cur, settings=_settings(ctx), context=context)
    view = _parse_view(result, context.hard_includes_sweet_spot)
    if args.json:
        ctx.print_json(view)
    else:
        _print_parse(view)
    return 0 if result.constraints else 1


def _saved_view(rule: dict, parsed, hard_includes_sweet_spot: bool) -> dict:
    from core.coach.rules.store import rule_public

    return rule_public(rule, hard_includes_sweet_spot=hard_includes_sweet_spot) | {
        "suggestions": parsed.suggestions, "conflicts": parsed.conflicts, "confidence_score": parsed.confidence_score,
        "unparsed": [u.model_dump() for u in parsed.unparsed], "questions": [q.model_dump() for q in parsed.questions]}


def rules_add(args, ctx) -> int:
    from core.coach.rules.parser import parse_rule
    from core.coach.rules.store import save_rule

    athlete_id = ctx.athlete_id()
    context = _parse_context(ctx)
    parsed = parse_rule(args.text, cur=ctx.cur, settings=_settings(ctx), context=context)
    rule = save_rule(ctx.cur, athlete_id, args.text, name=args.name, parsed=parsed, confirmed=args.yes)
    if args.json:
        ctx.print_json(_saved_view(rule, parsed, context.hard_includes_sweet_spot))
    else:
        print(f"saved rule {rule['id']} (version {rule['version']}, {parsed.status}): {rule['name']}")
    return 0


def rules_edit(args, ctx) -> int:
    from core.coach.rules.parser import parse_rule
    from core.coach.rules.store import edit_rule

    athlete_id = ctx.athlete_id()
    context = _parse_context(ctx)
    parsed = parse_rule(args.text, cur=ctx.cur, settings=_settings(ctx), context=context)
    rule = edit_rule(ctx.cur, args.rule_id, args.text, name=args.name, parsed=parsed, athlete_id=athlete_id,
                     confirmed=args.yes)
    if args.json:
        ctx.print_json(_saved_view(rule, parsed, context.hard_includes_sweet_spot))
    else:
        print(f"saved rule {rule['id']} as version {rule['version']} of rule {rule['parent_rule_id']}: {rule['name']}")
    return 0


def _set_enabled(args, ctx, enabled: bool) -> int:
    from core.coach.rules.store import rule_public, set_rule_enabled

    rule = set_rule_enabled(ctx.cur, args.rule_id, enabled, athlete_id=ctx.athlete_id())
    if args.json:
        ctx.print_json(rule_public(rule))
    else:
        print(f"rule {rule['id']} (v{rule['version']}) is now {'enabled' if enabled else 'disabled'}: {rule['name']}")
    return 0


def rules_disable(args, ctx) -> int:
    return _set_enabled(args, ctx, False)


def rules_enable(args, ctx) -> int:
    return _set_enabled(args, ctx, True)


def rules_list(args, ctx) -> int:
    from core.coach.rules.store import list_rules, rule_public

    rules = [rule_public(r) for r in list_rules(ctx.cur, ctx.athlete_id(), enabled_only=args.enabled)]
    if args.json:
        ctx.print_json(rules)
    else:
        for r in rules:
            state = "" if r["enabled"] else "  (disabled)"
            print(f"{r['id']:>4}  v{r['version']}  {r['name']}{state}")
            for line in r["description"]:
                print(f"        - {line}")
    return 0


def plan_generate(args, ctx) -> int:
    from core.coach.plans.generate import generate_plan
    from core.coach.plans.store import save_plan

    if args.template is not None:
        from core.commands.plan_versions import generate_from_template

        return generate_from_template(args, ctx)
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
