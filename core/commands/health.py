"""``health [--json] [--check-ai] [--audit-action A] [--audit-entity E] [--audit-athlete ID] [--audit-since DATE]
[--audit-limit N]``: the installation's health (core/health.py). Exit 1 when a section reports an error."""

from __future__ import annotations

from datetime import UTC, date, datetime


def register(subparsers) -> None:
    health = subparsers.add_parser("health", help="database, AI service, Garmin, recent problems, audit log and "
                                                  "feature flags in one report (exit 1 when something is wrong)")
    health.add_argument("--json", action="store_true", help="one JSON object")
    health.add_argument("--check-ai", action="store_true", help="make one small call to the AI service now")
    health.add_argument("--audit-action", help="audit log: only this action (import, delete, restore …)")
    health.add_argument("--audit-entity", help="audit log: only this kind of thing (ride, route, plan …)")
    health.add_argument("--audit-athlete", type=int, help="audit log: only this athlete")
    health.add_argument("--audit-since", type=date.fromisoformat, metavar="DATE", help="audit log: from this day")
    health.add_argument("--audit-limit", type=int, default=50, help="audit log: at most this many lines (50)")
    health.set_defaults(handler=cmd_health)


def cmd_health(args, ctx) -> int:
    from core.config import load_settings
    from core.health import AuditFilter, health_report

    since = datetime(args.audit_since.year, args.audit_since.month, args.audit_since.day, tzinfo=UTC) \
        if args.audit_since else None
    audit = AuditFilter(args.audit_action, args.audit_entity, args.audit_athlete, since, args.audit_limit)
    report = health_report(ctx.cur, load_settings(db_path=ctx.db_path), check_ai=args.check_ai, audit=audit)
    if args.json:
        ctx.print_json(report)
    else:
        for name, section in report["sections"].items():
            print(f"{section.get('status', '?').upper():<8} {name}{_one_line(name, section)}")
        print(f"overall: {report['status']}")
    return 1 if report["status"] == "error" else 0


def _one_line(name: str, s: dict) -> str:
    if "error" in s and s.get("status") == "error" and len(s) == 2:
        return f": {s['error']}"
    if name == "database":
        size = f"{s['size_bytes'] / 1048576:.1f} MB" if s.get("size_bytes") else "?"
        return (f": {s['file']} ({size}), schema {s['schema_version']}/{s['known_schema_version']}, "
                f"{len(s['integrity_problems'])} link problem(s), {s['safety_copies']} safety copies")
    if name == "ai":
        return (f": {s['model']} {'on' if s['enabled'] else 'off'}, reachable {s['reachable']}, "
                f"{s['errors']} error(s) and ${s['cost_usd']:.4f} in 14 days")
    if name == "garmin":
        return f": {len(s['accounts'])} account(s), {len(s['failures_30_days'])} failed sync(s) in 30 days"
    if name == "errors":
        return f": {len(s['recent'])} recent warning(s)/error(s) in {s['log_file']}"
    if name == "audit":
        return f": {len(s['entries'])} line(s)"
    if name == "settings":
        return f": env {s['env']}, " + ", ".join(f"{f['name']} {'on' if f['on'] else 'off'}" for f in s["features"])
    return ""
