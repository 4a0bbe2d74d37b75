"""``python -m core plan edit|versions|rollback|compare|branch|template``: a saved plan's edits as versions and its
scenarios. Added to the ``plan`` command that core.commands.coach registers (one ``plan`` command), through
``add_plan_actions``; ``plan generate --template T`` is handled by ``generate_from_template``."""

from __future__ import annotations

import sys
from datetime import date

from core.errors import RuleBreakError


def register(subparsers) -> None:
    """Nothing of its own: these are actions of ``plan`` (see add_plan_actions, called by core.commands.coach)."""


def add_plan_actions(psub) -> None:
    p = psub.add_parser("edit", help="edit a saved plan as a new version, re-checked against its rules",
                        description="move DAY TO | swap DAY OTHER | skip DAY | replace DAY LIBRARY_ID | "
                                    "duration DAY MINUTES (days YYYY-MM-DD)")
    p.add_argument("plan_id", type=int)
    p.add_argument("kind", choices=("move", "swap", "skip", "replace", "duration"))
    p.add_argument("day", help="the workout's day, YYYY-MM-DD")
    p.add_argument("value", nargs="?", help="the other day (move, swap), a library workout id (replace) or minutes "
                                            "(duration)")
    p.add_argument("--override", action="store_true",
                   help="save even if the edit breaks a rule (recorded in the new version)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_edit)
    p = psub.add_parser("versions", help="a plan's versions and what made each one")
    p.add_argument("plan_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_versions_cmd)
    p = psub.add_parser("rollback", help="a new version with the body of an earlier one (asks for --yes)")
    p.add_argument("plan_id", type=int)
    p.add_argument("--to", type=int, help="the plan id of the version to go back to (default: the previous one)")
    p.add_argument("--yes", action="store_true", help="confirm the roll back")
    p.add_argument("--override", action="store_true", help="roll back even if that version breaks a rule")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_rollback)
    p = psub.add_parser("compare", help="two plans or versions side by side (weeks, workouts, race-day CTL/TSB)")
    p.add_argument("plan_a", type=int)
    p.add_argument("plan_b", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_compare)
    p = psub.add_parser("branch", help="copy a plan or version into a new scenario (version 1)")
    p.add_argument("plan_id", type=int)
    p.add_argument("--name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=plan_branch)
    t = psub.add_parser("template", help="plan templates")
    tsub = t.add_subparsers(dest="template_command", metavar="ACTION", required=True)
    p = tsub.add_parser("save", help="save a plan as a template")
    p.add_argument("plan_id", type=int)
    p.add_argument("--name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=template_save)
    p = tsub.add_parser("list", help="saved templates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=template_list)


def _print(ctx, args, value: dict, line: str) -> None:
    if args.json:
        ctx.print_json(value)
    else:
        print(line)


def plan_edit(args, ctx) -> int:
    from core.coach.plans.edits import edit_plan, parse_edit_words
    from core.errors import ValidationError

    athlete_id = ctx.athlete_id()
    try:
        edit = parse_edit_words(args.kind, args.day, args.value)
    except ValidationError as exc:  # malformed words: a usage error
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = edit_plan(ctx.cur, athlete_id, args.plan_id, edit, override=args.override)
    except RuleBreakError as exc:
        if args.json:
            ctx.print_json({"saved": False, "plan_id": args.plan_id, "message": str(exc), "broken": exc.breaks})
        print(f"error: {exc}", file=sys.stderr)
        return 1
    view = {"saved": True} | result.public()
    check = ("saved with an override: " + "; ".join(result.broken)) if result.override else \
        f"checked against {result.rules_checked} rule(s), all kept"
    _print(ctx, args, view, f"saved plan {result.plan_id} (version {result.version}): {result.summary}; {check}")
    return 0


def plan_versions_cmd(args, ctx) -> int:
    from core.coach.plans.edits import change_line
    from core.coach.plans.store import plan_versions

    for v in plan_versions(ctx.cur, ctx.athlete_id(), args.plan_id):
        view = {k: v[k] for k in ("id", "version", "name", "parent_plan_id", "active", "created_at", "change")}
        _print(ctx, args, view, f"{'*' if v['active'] else ' '}{v['id']:>5}  v{v['version']:<3} "
                                f"{change_line(v['change'])}")
    return 0


def plan_rollback(args, ctx) -> int:
    from core.coach.plans.store import get_plan, rollback_plan

    athlete_id = ctx.athlete_id()
    current = get_plan(ctx.cur, args.plan_id, athlete_id)
    target_id = args.to or current["parent_plan_id"]
    if not args.yes:
        target = f"plan {target_id}" if target_id else "the previous version"
        print(f"error: rolling back “{current['name']}” v{current['version']} to {target} saves a new version; "
              "add --yes to confirm", file=sys.stderr)
        return 2
    new_id = rollback_plan(ctx.cur, athlete_id, args.plan_id, args.to, accept_breaks=args.override)
    new = get_plan(ctx.cur, new_id, athlete_id)
    _print(ctx, args, {"plan_id": new_id, "old_plan_id": args.plan_id, "version": new["version"],
                       "to_plan_id": target_id}, f"saved plan {new_id} (version {new['version']}), rolled back")
    return 0


def plan_compare(args, ctx) -> int:
    from core.coach.plans.scenarios import compare_two

    result = compare_two(ctx.cur, ctx.athlete_id(), args.plan_a, args.plan_b)
    if args.json:
        ctx.print_json(result)
        return 0
    for side in ("a", "b"):
        s = result[side]
        race = s["race"]
        where = "race day" if race["on_race_day"] else "end"
        print(f"{side.upper()}: plan {s['id']} v{s['version']} “{s['name']}”: {s['weeks']} weeks, {s['hours']:.1f} h, "
              f"TSS {s['tss']}; {where} {race['date']}: CTL {race['ctl']}, TSB {race['tsb']}")
    for w in result["weeks"]:
        print(f"week {w['week']:>2}  {w['hours_a'] or 0:5.1f} h / {w['hours_b'] or 0:5.1f} h   "
              f"TSS {w['tss_a'] or 0:5.0f} / {w['tss_b'] or 0:5.0f}")
    for d in result["days"]:
        print(f"week {d['week']:>2} {d['weekday']:<9}  {d['a']}  →  {d['b']}")
    return 0


def plan_branch(args, ctx) -> int:
    from core.coach.plans.store import branch_plan, get_plan

    athlete_id = ctx.athlete_id()
    old = get_plan(ctx.cur, args.plan_id, athlete_id)
    name = args.name or f"{old['name']} (scenario)"
    new_id = branch_plan(ctx.cur, athlete_id, args.plan_id, name)
    _print(ctx, args, {"plan_id": new_id, "parent_plan_id": args.plan_id, "name": name},
           f"saved scenario {new_id}: {name}")
    return 0


def template_save(args, ctx) -> int:
    from core.coach.plans.store import branch_plan, get_plan

    athlete_id = ctx.athlete_id()
    old = get_plan(ctx.cur, args.plan_id, athlete_id)
    name = args.name or f"{old['name']} (template)"
    new_id = branch_plan(ctx.cur, athlete_id, args.plan_id, name, template=True)
    _print(ctx, args, {"template_id": new_id, "parent_plan_id": args.plan_id, "name": name},
           f"saved template {new_id}: {name}")
    return 0


def template_list(args, ctx) -> int:
    from core.coach.plans.store import list_plans

    for t in list_plans(ctx.cur, ctx.athlete_id(), templates=True):
        view = {k: t[k] for k in ("id", "name", "duration_weeks", "start_date", "created_at")}
        _print(ctx, args, view, f"{t['id']:>5}  {t['duration_weeks']:>2} weeks  {t['name']}")
    return 0


def generate_from_template(args, ctx) -> int:
    """``plan generate --template T [--start D] [--name N]``: a new plan from a template (saved; it is one)."""
    from core.coach.plans.schema import next_monday
    from core.coach.plans.store import get_plan, plan_from_template

    athlete_id = ctx.athlete_id()
    start = args.start or next_monday(date.today())
    new_id = plan_from_template(ctx.cur, athlete_id, args.template, start, name=args.name)
    new = get_plan(ctx.cur, new_id, athlete_id)
    if args.json:
        ctx.print_json(new["plan"] | {"plan_id": new_id, "template_id": args.template})
    else:
        for week in new["plan"]["weeks"]:
            print(f"week {week['week']:>2} {week['start_date']} {week['phase']:<8} {week['planned_hours']:5.1f} h "
                  f"TSS {week['planned_tss']:5.0f}")
    print(f"saved plan {new_id} from template {args.template}", file=sys.stderr)
    return 0
