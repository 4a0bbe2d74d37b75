"""The workout library: data validated on load, load computed from steps, progressions and event variants."""

from __future__ import annotations

import pytest

from core.coach.library import LIBRARY_TYPES, LibraryError, library, read_library
from core.coach.workouts import (
    STEPS,
    Repeat,
    Step,
    fit_duration,
    flatten,
    intensity_factor,
    stress_score,
    total_seconds,
)

LIB = library()


def _work_minutes(workout_id):
    """(count, minutes) of the main repeat's longest-power step."""
    rep = next(i for i in LIB.get(workout_id).steps if isinstance(i, Repeat))
    work = max(rep.steps, key=lambda s: s.mean_pct)
    return rep.count, work.duration_s / 60


def test_the_library_holds_at_least_40_workouts_of_every_type():
    assert len(LIB.workouts) >= 40
    assert {w.type for w in LIB.workouts.values()} == set(LIBRARY_TYPES)


def test_every_workout_warms_up_and_cools_down_and_has_a_load():
    for w in LIB.workouts.values():
        assert w.steps[0].kind == "warmup" and w.steps[-1].kind == "cooldown", w.id
        assert 0.4 < w.intensity_factor < 1.0, w.id
        assert w.tss == pytest.approx(w.duration_min / 60 * w.intensity_factor ** 2 * 100), w.id


def test_an_hour_at_ftp_scores_100_and_an_hour_at_half_ftp_scores_25():
    # within half a point: NP's rolling window starts from zeros (GoldenCheetah's IsoPower), as for a ride
    at_ftp = STEPS.validate_python([{"kind": "steady", "duration_s": 3600, "power_low_pct": 100,
                                     "power_high_pct": 100}])
    assert intensity_factor(at_ftp) == pytest.approx(1.0, abs=0.003)
    assert stress_score(at_ftp) == pytest.approx(100.0, abs=0.5)
    half = STEPS.validate_python([{"kind": "steady", "duration_s": 3600, "power_low_pct": 50, "power_high_pct": 50}])
    assert stress_score(half) == pytest.approx(25.0, abs=0.2)


def test_workout_load_matches_the_ride_metrics_of_its_own_power_trace():
    """Scored as a ride is: the trace in watts through core.rides.metrics gives the same IF and TSS."""
    import numpy as np

    from core.coach.workouts import power_trace
    from core.rides.metrics import intensity_factor as ride_if
    from core.rides.metrics import normalized_power, training_stress_score

    steps = LIB.get("vo2-30-30").steps
    watts = power_trace(steps) / 100 * 250
    np_w = normalized_power(watts)
    assert intensity_factor(steps) == pytest.approx(ride_if(np_w, 250), rel=1e-9)
    assert stress_score(steps) == pytest.approx(training_stress_score(len(watts), np_w, 250), rel=1e-9)
    assert np.isclose(len(watts), total_seconds(steps))


@pytest.mark.parametrize("chain, expected", [
    (["sst-3x10", "sst-3x12", "sst-2x20", "sst-3x15"], [(3, 10), (3, 12), (2, 20), (3, 15)]),
    (["vo2-5x3", "vo2-5x4", "vo2-6x4"], [(5, 3), (5, 4), (6, 4)]),
    (["threshold-3x8", "threshold-2x15", "threshold-2x20"], [(3, 8), (2, 15), (2, 20)]),
])
def test_progressions_climb_in_level_and_in_work(chain, expected):
    assert [_work_minutes(i) for i in chain] == expected
    assert [LIB.get(i).level for i in chain] == sorted(LIB.get(i).level for i in chain)
    work = [c * m for c, m in expected]
    assert work == sorted(work)


def test_long_rides_progress_from_two_to_four_hours():
    longs = [LIB.get(i) for i in ("long-2h", "long-2h30", "long-3h", "long-3h30", "long-4h")]
    assert [w.level for w in longs] == [1, 2, 3, 4, 5]
    assert [round(w.duration_min) for w in longs] == [120, 150, 180, 210, 240]


def test_climbing_events_get_low_cadence_sweet_spot_and_criteriums_get_sprints():
    climb = LIB.pick("sweet_spot", phase="build", event="climbing_event", level=2)
    assert all(s.cadence_rpm and s.cadence_rpm <= 65 for s in flatten(climb.steps) if s.kind == "work")
    generic = LIB.pick("sweet_spot", phase="build", event="road_race", level=2)
    assert generic.id == "sst-3x12"
    assert LIB.pick("sprint", phase="build", event="criterium", level=1).events
    assert LIB.pick("threshold", phase="build", event="time_trial", level=3).id == "threshold-tt-4x10"
    spin = LIB.get("endurance-spinups-60")
    assert any(s.cadence_rpm and s.cadence_rpm >= 110 for s in flatten(spin.steps))


def test_pick_prefers_the_highest_level_not_above_the_one_asked():
    assert LIB.pick("vo2max", phase="build", level=9).id == "vo2-5x5"
    assert LIB.pick("vo2max", phase="build", level=1).id == "vo2-5x3"
    assert LIB.pick("vo2max", phase="taper", level=1).id in ("vo2-taper-3x3", "vo2-5x3")
    assert LIB.pick("nothing", phase="build") is None


def test_fitting_a_workout_keeps_its_intervals():
    steps = LIB.get("sst-2x20").steps
    longer = fit_duration(steps, 120 * 60)
    assert total_seconds(longer) == 120 * 60
    assert [i for i in longer if isinstance(i, Repeat)] == [i for i in steps if isinstance(i, Repeat)]
    shorter = fit_duration(LIB.get("vo2-6x4").steps, 45 * 60)
    assert total_seconds(shorter) == 45 * 60
    assert next(i for i in shorter if isinstance(i, Repeat)).count < 6
    ride = fit_duration(LIB.get("long-2h").steps, 300 * 60)
    assert total_seconds(ride) == 300 * 60 and len(ride) == 3  # the body grew, nothing added


def test_a_workout_cannot_shrink_below_its_bare_intervals():
    steps = LIB.get("threshold-2x20").steps
    tiny = fit_duration(steps, 10 * 60)
    assert total_seconds(tiny) > 10 * 60
    assert next(i for i in tiny if isinstance(i, Repeat)).count == 1


def _write(tmp_path, text, name="bad.toml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


GOOD = '''[[workout]]
id = "x-1"
name = "X"
type = "endurance"
level = 1
phases = ["base"]
description = "d"
steps = [ { kind = "warmup", min = 5, pct = [50, 60] }, { kind = "cooldown", min = 5, pct = [60, 50] } ]
'''


@pytest.mark.parametrize("text, message", [
    ("[[workout]\nid=", "not valid TOML"),
    ("title = 'x'", "only \\[\\[workout\\]\\]"),
    (GOOD.replace('type = "endurance"', 'type = "yoga"'), "x-1 in bad.toml"),
    (GOOD.replace('{ kind = "warmup", min = 5, pct = [50, 60] }, ', ""), "starts with a warm-up"),
    (GOOD.replace("min = 5, pct = [50, 60]", "min = 5, s = 3, pct = [50, 60]"), "exactly one of min or s"),
    (GOOD.replace("pct = [50, 60]", "pct = [50, 60], watts = 300"), "unknown field"),
    (GOOD.replace("pct = [50, 60]", "pct = [50, 9000]"), "x-1"),
    (GOOD + GOOD, "appears twice"),
    (GOOD.replace('id = "x-1"', 'id = "<script>"'), "bad.toml"),
])
def test_broken_library_data_is_refused_with_the_file_and_entry(tmp_path, text, message):
    with pytest.raises(LibraryError, match=message):
        read_library(_write(tmp_path, text))


def test_an_empty_library_folder_is_refused(tmp_path):
    with pytest.raises(LibraryError, match="No workout files"):
        read_library(tmp_path)


def test_a_good_file_loads(tmp_path):
    lib = read_library(_write(tmp_path, GOOD, "ok.toml"))
    assert lib.get("x-1").duration_min == 10
    assert isinstance(lib.get("x-1").steps[0], Step)
    with pytest.raises(LibraryError, match="no workout"):
        lib.get("missing")
