"""Plan generation benchmark: prints figures and ratios, asserts nothing.

    python bench/plan_generate.py [--repeat 20]

Measured in one run (median of --repeat runs each):
1. the pure engine (core.coach.plans.engine.build_plan) for 12 and 52 weeks, without rules and with the eight rules of the
   issue's example sentence; target for 52 weeks with rules: well under a second;
2. the rule checker (violations) on the 52-week plan;
3. the whole path through a database (generate_plan: athlete, rules, CTL from 3 years of rides) for 52 weeks,
   and save_plan (364 planned workouts through one DataFrame insert);
4. baseline: the deterministic rule parser on the example sentence (the cheapest step), to give ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.athletes import AthleteProfile, create_athlete  # noqa: E402
from core.coach.plans.check import violations  # noqa: E402
from core.coach.plans.engine import build_plan  # noqa: E402
from core.coach.plans.generate import generate_plan  # noqa: E402
from core.coach.plans.store import save_plan  # noqa: E402
from core.coach.rules.parser import DeterministicParser  # noqa: E402
from core.coach.rules.store import save_rule  # noqa: E402
from core.store.db import connect  # noqa: E402

TEXT = ("no intervals on Mondays, long ride at the weekend, max 9 hours a week, rest on Fridays, no more than 2 hard "
        "sessions per week, rest day after 2 hard days, ramp no more than 8% per week, indoor only on Tuesdays and "
        "Thursdays")


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    start = date.today() + timedelta(days=(-date.today().weekday()) % 7 or 7)
    constraints = DeterministicParser().parse(TEXT).constraints

    parse_s = median_s(lambda: DeterministicParser().parse(TEXT), args.repeat)
    print(f"baseline: parse the 8-rule sentence           {parse_s * 1000:8.2f} ms")
    rows = []
    for weeks in (12, 52):
        for label, cs in (("no rules", []), ("8 rules", constraints)):
            t = median_s(lambda w=weeks, c=cs: build_plan(start, w, c, ftp_w=250, ctl=45, weekly_hours=9),
                         args.repeat)
            rows.append((weeks, label, t))
            print(f"engine: {weeks:>2} weeks, {label:<8}                {t * 1000:8.2f} ms   "
                  f"({t / parse_s:6.1f}× the parse)")
    plan = build_plan(start, 52, constraints, ftp_w=250, ctl=45, weekly_hours=9)
    check_s = median_s(lambda: violations(plan, constraints), args.repeat)
    print(f"checker: violations() on 52 weeks, 8 rules   {check_s * 1000:8.2f} ms   "
          f"(violations found: {len(violations(plan, constraints))})")

    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.duckdb")
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Bench", ftp_w=250))
        cur.execute("INSERT INTO rides (athlete_id, source, external_id, started_at, tss) "
                    "SELECT ?, 'file', 'r' || i, current_date - CAST(i AS INTEGER) + TIME '08:00', 60 + (i % 50) "
                    "FROM range(1, 1100) t(i)", [athlete])
        rule = save_rule(cur, athlete, TEXT)
        request = {"rule_ids": [rule["id"]], "duration_weeks": 52, "start_date": start}
        gen_s = median_s(lambda: generate_plan(cur, athlete, request), max(3, args.repeat // 4))
        result = generate_plan(cur, athlete, request)
        save_s = median_s(lambda: save_plan(cur, athlete, result), max(3, args.repeat // 4))
        db.close()
    print(f"full path: generate_plan 52 weeks (DB, CTL)  {gen_s * 1000:8.2f} ms")
    print(f"full path: save_plan 52 weeks (364 rows)     {save_s * 1000:8.2f} ms")
    engine_52 = next(t for w, label, t in rows if w == 52 and label == "8 rules")
    verdict = "well under a second" if engine_52 < 0.1 else ("under a second" if engine_52 < 1 else "TOO SLOW")
    print(f"\n52-week deterministic plan with 8 rules: {engine_52 * 1000:.1f} ms — {verdict} "
          f"({1 / engine_52:.0f} plans per second)")


if __name__ == "__main__":
    main()
