"""Demo data: deterministic, realistic (HR lags power, cadence follows terrain), 3–6 rides a week."""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from core.demo import LOOPS, seed_demo, simulate_ride
from core.store.db import transaction


@pytest.fixture(scope="module")
def climbing_ride():
    return simulate_ride(np.random.default_rng(7), "threshold", 3600, 250, 168, 188, 72, LOOPS[1],
                         datetime(2026, 6, 1, 8, tzinfo=UTC), 18.0)


def test_heart_rate_lags_power(climbing_ride):
    power = np.nan_to_num(climbing_ride.power) - np.nanmean(climbing_ride.power)
    hr = climbing_ride.hr - np.mean(climbing_ride.hr)
    lags = range(0, 120)
    corr = [np.dot(power[: len(power) - lag], hr[lag:]) for lag in lags]
    assert 10 <= int(np.argmax(corr)) <= 110  # HR answers a change of power tens of seconds later


def test_cadence_drops_on_climbs(climbing_ride):
    grade = np.gradient(climbing_ride.ele, climbing_ride.dist_m + np.arange(len(climbing_ride)) * 1e-6)
    pedalling = climbing_ride.cadence > 0
    climbing = pedalling & (grade > 0.05)
    flat = pedalling & (np.abs(grade) < 0.01)
    assert climbing.sum() > 60 and flat.sum() > 60
    assert np.mean(climbing_ride.cadence[climbing]) < np.mean(climbing_ride.cadence[flat]) - 5


def test_an_indoor_ride_has_no_position_but_all_other_streams():
    ride = simulate_ride(np.random.default_rng(1), "vo2max", 3000, 250, 168, 188, 72, None,
                         datetime(2026, 1, 5, 18, tzinfo=UTC), 18.0)
    assert not ride.has_position
    assert np.isfinite(ride.power).all() and np.isfinite(ride.hr).all() and ride.dist_m[-1] > 10_000


def season_fingerprint(cur):
    return cur.execute("SELECT count(*), round(sum(distance_m)), round(sum(tss), 1), min(started_at), "
                       "max(started_at) FROM rides").fetchone()


def test_the_demo_season_is_deterministic_and_realistic(db_path, tmp_path):
    from core.store.db import connect

    fingerprints = []
    for name in ("a", "b"):
        db = connect(tmp_path / f"{name}.duckdb")
        cur = db.cursor()
        with transaction(cur):
            result = seed_demo(cur, years=0.12, end=date(2026, 6, 1))
        fingerprints.append(season_fingerprint(cur))
        weekly = [r[0] for r in cur.execute(
            "SELECT count(*) FROM rides GROUP BY date_trunc('week', started_at) ORDER BY 1").fetchall()]
        kinds = {r[0] for r in cur.execute("SELECT DISTINCT split_part(name, ' ', 1) FROM rides").fetchall()}
        active_plans, done_workouts = cur.execute(
            "SELECT count(DISTINCT p.id), count(w.completed_ride_id) FROM plans p JOIN planned_workouts w "
            "ON w.plan_id = p.id WHERE p.active").fetchone()
        samples_hz = cur.execute("SELECT sum(s.n) / sum(r.elapsed_time_s + 1) FROM rides r JOIN "
                                 "(SELECT ride_id, count(*) n FROM ride_samples GROUP BY 1) s ON s.ride_id = r.id"
                                 ).fetchone()[0]
        db.close()
    assert fingerprints[0] == fingerprints[1]
    assert result["rides"] == fingerprints[0][0] >= 12
    assert fingerprints[0][4].date() < date(2026, 6, 1)
    assert all(3 <= n <= 6 for n in weekly[1:-1])  # whole weeks (the first and last may be partial)
    assert {"Endurance", "Long", "Tempo", "VO2max"} <= kinds or {"Endurance", "Long", "Sweet", "Threshold"} <= kinds
    assert samples_hz == pytest.approx(1.0, abs=0.01)  # 1 Hz streams
    # An active demo plan whose first weeks are already ridden: plan pages and progress are never empty.
    assert active_plans == 1 and done_workouts > 0


def test_the_demo_season_has_a_real_power_curve_and_descents_that_are_not_one_fixed_speed(cur):
    """What a new user sees first: sprints well above threshold power (best 5 s ≥ 2.5× best 20 min, best 1 min
    ≥ 1.5×), and descents at speeds set by the road's bends and the wind, not a flat 60 km/h."""
    with transaction(cur):
        seed_demo(cur, years=0.2, end=date(2026, 11, 29))  # the e2e suite's season length
    best = dict(cur.execute("SELECT duration_s, max(power_w) FROM ride_mmp GROUP BY 1").fetchall())
    assert best[5] >= 2.5 * best[1200] and best[60] >= 1.5 * best[1200], best
    assert best[1] > best[120] * 2  # not "best 1 s 370 W barely above best 2 min 352 W"
    fast = np.array([r[0] for r in cur.execute("SELECT speed * 3.6 FROM ride_samples WHERE speed * 3.6 > 45")
                     .fetchall()])
    assert len(fast) > 500 and fast.max() < 85
    assert np.percentile(fast, 90) - np.percentile(fast, 10) > 10  # spread, not a plateau
    assert np.mean(np.abs(fast - 60) < 0.5) < 0.05
    speeds = [r[0] for r in cur.execute("SELECT avg_speed FROM (SELECT distance_m / moving_time_s * 3.6 AS "
                                        "avg_speed FROM rides WHERE distance_m > 0 AND route_id IS NOT NULL)")
              .fetchall()]
    assert max(speeds) - min(speeds) > 6  # varied days: wind, terrain, effort
