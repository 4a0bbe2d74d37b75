"""core.coach.workouts: the structured step shape shared by the library, plans and device exports."""

import pytest
from pydantic import ValidationError

from core.coach.workouts import STEPS, Repeat, Step, flatten, total_seconds

SST_3X12 = [
    {"kind": "warmup", "duration_s": 600, "power_low_pct": 50, "power_high_pct": 75},
    {"kind": "repeat", "count": 3, "steps": [
        {"kind": "work", "duration_s": 720, "power_low_pct": 88, "power_high_pct": 94, "cadence_rpm": 90},
        {"kind": "recovery", "duration_s": 300, "power_low_pct": 50, "power_high_pct": 55}]},
    {"kind": "cooldown", "duration_s": 600, "power_low_pct": 65, "power_high_pct": 45},
]


def test_repeats_expand_in_riding_order():
    steps = STEPS.validate_python(SST_3X12)
    assert isinstance(steps[1], Repeat)
    flat = flatten(steps)
    assert [s.kind for s in flat] == ["warmup"] + ["work", "recovery"] * 3 + ["cooldown"]
    assert total_seconds(steps) == 600 + 3 * (720 + 300) + 600


def test_a_ramp_averages_its_ends_and_a_free_ride_counts_half_ftp():
    assert Step(kind="cooldown", duration_s=60, power_low_pct=65, power_high_pct=45).mean_pct == 55
    assert Step(kind="free", duration_s=60).mean_pct == 50


@pytest.mark.parametrize("bad", [
    {"kind": "work", "duration_s": 60},                                               # no target
    {"kind": "work", "duration_s": 60, "power_low_pct": 100, "power_high_pct": 90},  # inverted range
    {"kind": "work", "duration_s": 2, "power_low_pct": 90, "power_high_pct": 95},    # too short
    {"kind": "work", "duration_s": 60, "power_low_pct": 90, "power_high_pct": 95, "watts": 300},  # unknown field
    {"kind": "repeat", "count": 0, "steps": [{"kind": "free", "duration_s": 60}]},
    {"kind": "sprint", "duration_s": 10, "power_low_pct": 200, "power_high_pct": 250},  # unknown kind
])
def test_malformed_steps_are_refused(bad):
    with pytest.raises(ValidationError):
        STEPS.validate_python([bad])
