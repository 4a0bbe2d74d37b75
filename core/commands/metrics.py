"""``metrics weekly|monthly|fitness [--from DATE] [--to DATE] [--json]`` and ``compare A B [--json]``."""

from __future__ import annotations

import math
from datetime import date
from math import isfinite

from core.cli import date_arg
from core.errors import ValidationError


def register(subparsers) -> None:
    metrics = subparsers.add_parser(
        "metrics", help="weekly/monthly totals or daily fitness (CTL/ATL/TSB)",
        description="Totals of the rides between --from and --to, grouped by the calendar week (Monday) or month "
                    "they fall in (so the first and last period may be partial); or one fitness row per day "
                    "(days after today projected from the active plan).")
    metrics.add_argument("kind", choices=("weekly", "monthly", "fitness"))
    metrics.add_argument("--from", dest="date_from", type=date_arg, metavar="DATE", help="first day (YYYY-MM-DD)")
    metrics.add_argument("--to", dest="date_to", type=date_arg, metavar="DATE", help="last day (YYYY-MM-DD)")
    metrics.add_argument("--json", action="store_true", help="one JSON object per line (per period or day)")
    metrics.set_defaults(handler=cmd_metrics)

    comparison = subparsers.add_parser("compare", help="compare two rides: differences and shared climbs")
    comparison.add_argument("a", type=int, help="ride id A")
    comparison.add_argument("b", type=int, help="ride id B")
    comparison.add_argument("--json", action="store_true")
    comparison.set_defaults(handler=cmd_compare)


def _number(value):
    if value is None:
        return None
    value = float(value)
    return None if not math.isfinite(value) else round(value, 3)


def metrics_rows(cur, athlete_id: int, kind: str, date_from: date | None, date_to: date | None) -> list[dict]:
    from core.rides import totals  # plain rows from DuckDB: no pandas, numpy or scipy to import

    if date_from and date_to and date_to < date_from:
        raise ValidationError(f"--to {date_to} is before --from {date_from}")
    if kind == "fitness":
        # Ten years are ~3,700 rows: dates as text now and rounding inline (no call per value) keep printing them
        # a small part of the command (issue 17). The fitness values are always floats.
        return [{"date": day.isoformat(), "ctl": round(ctl, 3) if isfinite(ctl) else None,
                 "atl": round(atl, 3) if isfinite(atl) else None, "tsb": round(tsb, 3) if isfinite(tsb) else None,
                 "ramp": round(ramp, 3) if isfinite(ramp) else None, "tss": _number(tss), "projected": projected}
                for day, tss, ctl, atl, tsb, ramp, projected in totals.fitness_tuples(cur, athlete_id, date_from,
                                                                                       date_to)]
    rows = totals.period_rows(cur, athlete_id, "week" if kind == "weekly" else "month", date_from, date_to)
    return [{"period_start": row["period_start"], "rides": int(row["rides"]),
             **{k: _number(row[k]) for k in ("distance_m", "moving_time_s", "elevation_gain_m", "tss",
                                             "avg_power_w", "avg_hr")}}
            for row in rows]


def cmd_metrics(args, ctx) -> int:
    rows = metrics_rows(ctx.cur, ctx.athlete_id(), args.kind, args.date_from, args.date_to)
    if args.json:
        ctx.print_json_lines(rows)
        return 0
    if not rows:
        print("No rides in that window.")
    for row in rows:
        if args.kind == "fitness":
            print(f"{row['date']}  CTL {row['ctl']:6.1f}  ATL {row['atl']:6.1f}  TSB {row['tsb']:+6.1f}"
                  f"{'  (plan)' if row['projected'] else ''}")
        else:
            print(f"{row['period_start']}  {row['rides']:3d} rides  {row['distance_m'] / 1000:8.1f} km  "
                  f"{row['moving_time_s'] / 3600:6.1f} h  {row['elevation_gain_m']:7.0f} m  TSS {row['tss']:6.0f}")
    return 0


def cmd_compare(args, ctx) -> int:
    from core.rides.compare import compare_report

    report = compare_report(ctx.cur, ctx.athlete_id(), args.a, args.b)
    if args.json:
        ctx.print_json(report)
        return 0
    print(f"A: {report['a']['label']}\nB: {report['b']['label']}")
    for row in report["differences"]:
        values = [("—" if v is None else f"{v:g}") for v in (row["a"], row["b"], row["a_minus_b"])]
        print(f"{row['figure']:<18} {values[0]:>10} {values[1]:>10}  A−B {values[2]:>10} {row['unit']}")
    if report["shared_climbs"]:
        print("Shared climbs:")
        for c in report["shared_climbs"]:
            print(f"  #{c['climb']} at km {c['start_km_a']:.1f}: A {c['time_s_a']:.0f} s, B {c['time_s_b']:.0f} s")
    else:
        print("No shared climbs.")
    return 0
