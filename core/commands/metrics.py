"""``metrics weekly|monthly|fitness [--from DATE] [--to DATE] [--json]`` and ``compare A B [--json]``."""

from __future__ import annotations

import math
import sys
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
    if kind == "fitness":
        return [dict(zip(FITNESS_KEYS, row, strict=True)) for row in _fitness_rows(cur, athlete_id, date_from, date_to)]
    rows = _period_rows(cur, athlete_id, kind, date_from, date_to)
    return [{"period_start": row["period_start"], "rides": int(row["rides"]),
             **{k: _number(row[k]) for k in ("distance_m", "moving_time_s", "elevation_gain_m", "tss",
                                             "avg_power_w", "avg_hr")}}
            for row in rows]


FITNESS_KEYS = ("date", "ctl", "atl", "tsb", "ramp", "tss", "projected")
# One fitness day as `json.dumps` writes it: ten years are ~3,700 lines, and building a dict and running the
# encoder for each was a tenth of the command (issue 17). tests/test_cli.py checks it against json.dumps.
_FITNESS_LINE = '{"date": "%s", "ctl": %s, "atl": %s, "tsb": %s, "ramp": %s, "tss": %s, "projected": %s}\n'


def fitness_json_lines(rows) -> str:
    """``_fitness_rows`` as JSON lines, byte for byte ``json.dumps`` of each row's dict."""
    return "".join([_FITNESS_LINE % (day, _json(ctl), _json(atl), _json(tsb), _json(ramp), _json(tss),
                                     "true" if projected else "false")
                    for day, ctl, atl, tsb, ramp, tss, projected in rows])


def _json(number: float | None) -> str:
    return "null" if number is None else repr(number)  # json writes a float as its repr


def _check_window(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_to < date_from:
        raise ValidationError(f"--to {date_to} is before --from {date_from}")


def _fitness_rows(cur, athlete_id: int, date_from: date | None, date_to: date | None) -> list[tuple]:
    """(date as text, ctl, atl, tsb, ramp, tss, projected) per day, rounded to 3 decimals (None if not finite)."""
    from core.rides import totals  # plain rows from DuckDB: no pandas, numpy or scipy to import

    _check_window(date_from, date_to)
    # The fitness values are always floats: rounding inline (no call per value) keeps printing a long series a
    # small part of the command.
    return [(day.isoformat(), round(ctl, 3) if isfinite(ctl) else None, round(atl, 3) if isfinite(atl) else None,
             round(tsb, 3) if isfinite(tsb) else None, round(ramp, 3) if isfinite(ramp) else None, _number(tss),
             projected)
            for day, tss, ctl, atl, tsb, ramp, projected in totals.fitness_tuples(cur, athlete_id, date_from, date_to)]


def _period_rows(cur, athlete_id: int, kind: str, date_from: date | None, date_to: date | None) -> list[dict]:
    from core.rides import totals

    _check_window(date_from, date_to)
    return totals.period_rows(cur, athlete_id, "week" if kind == "weekly" else "month", date_from, date_to)


def cmd_metrics(args, ctx) -> int:
    if args.json and args.kind == "fitness":
        sys.stdout.write(fitness_json_lines(_fitness_rows(ctx.cur, ctx.athlete_id(), args.date_from, args.date_to)))
        return 0
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
