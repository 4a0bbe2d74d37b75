"""Plan quality benchmark: what the periodisation engine does to riders at CTL 0/30/60/90 × 8/12/24 weeks ×
6/10/14 h a week, before a road race on the plan's last Sunday. Prints figures, asserts nothing (the properties are
asserted in tests/test_engine_quality.py).

    python bench/plan_quality.py [--event road_race] [--distribution pyramidal]

Columns:
- sust: the CTL the hours can sustain over a loading/recovery cycle (hours × the plan's TSS per hour / 7);
- target: the race-day CTL the engine aimed at; CTL gain and TSB on race day (form on the morning of the race);
- wk1: week 1 against the current weekly load; ramp: the largest rise over the last loading week (the event itself
  not counted); run: the longest run of loading weeks; rec: recovery weeks' load as a share of the loading week
  before; taper: the taper weeks' drop in riding time;
- low/mid/high: time in Seiler's three zones from the workouts' steps (≤ 75 % FTP, 76–105 %, > 105 %) and the shape;
- flat: a baseline measured in the same run — the same hours ridden at the loading week's load every week, no
  recovery week, no taper — race-day CTL gain and TSB.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.coach.plans.engine import plan_engine  # noqa: E402
from core.coach.plans.periodisation import Fitness, advance  # noqa: E402
from core.coach.plans.projection import quality  # noqa: E402
from core.coach.plans.schema import UserPreferences  # noqa: E402

START = date(2027, 1, 4)


def flat_baseline(ctl: float, weeks: int, weekly_tss: float) -> tuple[float, float]:
    """Race-day CTL gain and TSB when the same weekly load is ridden every day of every week, race included."""
    days = weeks * 7 - 1
    c, a = advance(ctl, ctl, [weekly_tss / 7] * days, 42.0, 7.0)
    return float(c[-1] - ctl), float(c[-1] - a[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--event", default="road_race")
    parser.add_argument("--distribution", default="pyramidal", choices=("pyramidal", "polarised", "sweet_spot"))
    args = parser.parse_args(argv)
    prefs = UserPreferences(intensity_distribution=args.distribution)
    print(f"event {args.event}, {args.distribution}; plan starts {START}, race on the last Sunday\n")
    header = (f"{'CTL':>4} {'wk':>3} {'h':>3} | {'sust':>5} {'target':>6} {'gain':>6} {'TSB':>6} | {'wk1':>6} "
              f"{'ramp':>6} {'run':>3} {'rec':>10} {'taper':>10} | {'low':>4} {'mid':>4} {'high':>4} {'shape':<9} | "
              f"{'flat gain':>9} {'flat TSB':>8} | {'ms':>5}")
    print(header)
    print("-" * len(header))
    worst = {"tsb_min": 99.0, "tsb_max": -99.0, "ramp": 0.0, "wk1": -99.0, "run": 0, "drop": 1.0}
    for ctl in (0, 30, 60, 90):
        for weeks in (8, 12, 24):
            for hours in (6, 10, 14):
                fitness = Fitness.steady(ctl)
                t0 = time.perf_counter()
                result = plan_engine(START, weeks, [], fitness=fitness, weekly_hours=hours, preferences=prefs,
                                     event_date=START + timedelta(weeks=weeks, days=-1), event_type=args.event)
                ms = (time.perf_counter() - t0) * 1000
                s = result.summary
                q = quality(result.plan, fitness, current_weekly_tss=s["current_weekly_tss"])
                flat_gain, flat_tsb = flat_baseline(ctl, weeks, s["loading_week_tss"])
                rec = "/".join(f"{r:.2f}" for r in q["recovery_shares"][:3]) or "-"
                taper = "/".join(f"{d:.2f}" for d in q["taper_drops"]) or "-"
                print(f"{ctl:>4} {weeks:>3} {hours:>3} | {s['sustainable_ctl']:>5.1f} {s['target_ctl'] or 0:>6.1f} "
                      f"{q['ctl_gain']:>+6.1f} {q['race_tsb']:>+6.1f} | {q['week1_pct']:>+5.1f}% "
                      f"{q['max_ramp_pct']:>+5.1f}% {q['max_loading_run']:>3} {rec:>10} {taper:>10} | "
                      f"{q['zone_low']:>4.2f} {q['zone_mid']:>4.2f} {q['zone_high']:>4.2f} {q['shape']:<9} | "
                      f"{flat_gain:>+9.1f} {flat_tsb:>+8.1f} | {ms:>5.0f}")
                worst["tsb_min"] = min(worst["tsb_min"], q["race_tsb"])
                worst["tsb_max"] = max(worst["tsb_max"], q["race_tsb"])
                worst["ramp"] = max(worst["ramp"], q["max_ramp_pct"])
                worst["wk1"] = max(worst["wk1"], q["week1_pct"])
                worst["run"] = max(worst["run"], q["max_loading_run"])
                worst["drop"] = min([worst["drop"], *q["taper_drops"]])
    print(f"\nrace-day TSB {worst['tsb_min']:+.1f} … {worst['tsb_max']:+.1f}; largest ramp {worst['ramp']:+.1f} %; "
          f"week 1 at most {worst['wk1']:+.1f} %; longest loading run {worst['run']} weeks; smallest taper drop "
          f"{worst['drop'] * 100:.0f} %")


if __name__ == "__main__":
    main()
