"""core.routes.sections on synthetic profiles with known climbs, plus noise, and on real routes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.files.gpx import read_gpx
from core.routes.sections import (
    DEFAULT_PARAMS,
    SectionParams,
    climb_category,
    fiets_index,
    gear_hint,
    section_at,
    speed_for_power,
    split_into_sections,
    totals,
)

DATA = Path(__file__).resolve().parent / "data"


def profile(parts, step=5.0, start_ele=100.0):
    """Distance/elevation arrays from (length_m, grade_pct) parts."""
    dist, ele = [0.0], [start_ele]
    for length, grade in parts:
        for _ in range(int(length / step)):
            dist.append(dist[-1] + step)
            ele.append(ele[-1] + grade / 100 * step)
    return np.array(dist), np.array(ele)


def noisy(ele, sd=1.5, seed=7):
    return ele + np.random.default_rng(seed).normal(0, sd, len(ele))


def kinds(sections):
    return [s.kind for s in sections]


def assert_cover(sections, dist):
    assert sections[0].start_m == pytest.approx(dist[0])
    assert sections[-1].end_m == pytest.approx(dist[-1])
    for a, b in zip(sections, sections[1:], strict=False):
        assert a.end_m == b.start_m
    assert sum(s.distance_m for s in sections) == pytest.approx(dist[-1] - dist[0])


def test_a_known_climb_is_found_with_its_length_grade_and_category():
    dist, ele = profile([(3000, 0), (5000, 6), (3000, 0)])
    sections = split_into_sections(dist, noisy(ele))
    assert kinds(sections) == ["flat", "climb", "flat"]
    climb = sections[1]
    assert climb.distance_m == pytest.approx(5000, abs=250)
    assert climb.avg_grade_pct == pytest.approx(6.0, abs=0.4)
    assert climb.start_m == pytest.approx(3000, abs=150)
    assert climb.category == "3"  # 5000 × 6 = 30,000 > 16,000
    assert climb.elevation_gain_m == pytest.approx(300, abs=20)
    assert_cover(sections, dist)


@pytest.mark.parametrize("length, grade, category", [
    (1500, 6.0, "4"), (4000, 5.0, "3"), (8000, 5.0, "2"), (10000, 7.0, "1"), (15000, 7.0, "HC"),
])
def test_climb_categories_follow_the_strava_score(length, grade, category):
    dist, ele = profile([(2000, 0), (length, grade), (2000, 0)])
    climbs = [s for s in split_into_sections(dist, noisy(ele)) if s.kind == "climb"]
    assert len(climbs) == 1 and climbs[0].category == category


def test_a_short_dip_does_not_split_a_climb():
    dist, ele = profile([(2000, 0), (3000, 7), (180, -4), (2000, 7), (2000, 0)])
    sections = split_into_sections(dist, noisy(ele), source="barometric")  # a barometer resolves the 7 m dip
    assert kinds(sections) == ["flat", "climb", "flat"]
    assert sections[1].distance_m == pytest.approx(5150, abs=250)
    assert sections[1].elevation_loss_m > 1


def test_a_long_descent_between_two_climbs_splits_them():
    dist, ele = profile([(1000, 0), (2000, 6), (1500, -6), (2000, 6), (1000, 0)])
    assert kinds(split_into_sections(dist, noisy(ele))) == ["flat", "climb", "descent", "climb", "flat"]


def test_noise_on_a_flat_road_yields_no_climb():
    dist, ele = profile([(30_000, 0)])
    for seed in range(3):
        sections = split_into_sections(dist, noisy(ele, sd=3.0, seed=seed))
        assert kinds(sections) == ["flat"]


def test_elevation_spikes_do_not_make_climbs():
    dist, ele = profile([(10_000, 0)])
    spiky = ele.copy()
    spiky[::97] += 60  # barometer glitches, one point each
    assert kinds(split_into_sections(dist, spiky)) == ["flat"]


def test_a_gentle_or_short_rise_is_flat():
    dist, ele = profile([(2000, 0), (3000, 2.5), (2000, 0), (300, 8), (2000, 0)])
    assert kinds(split_into_sections(dist, noisy(ele, sd=0.5))) == ["flat"]


def test_sections_cover_a_real_route_without_gaps_or_overlaps():
    streams = read_gpx((DATA / "coursepointer__cptr003.gpx").read_bytes(), "cptr003.gpx")
    sections = split_into_sections(streams.dist_m, streams.ele, ftp_w=250, weight_kg=70)
    assert_cover(sections, streams.dist_m)
    climbs = [s for s in sections if s.kind == "climb"]
    # Old La Honda: ~5.4 km at ~7.3 % (Strava segment); the biggest climb found here
    biggest = max(climbs, key=lambda s: s.distance_m * s.avg_grade_pct)
    assert 4500 < biggest.distance_m < 7000 and 6 < biggest.avg_grade_pct < 8.5
    assert biggest.category == "2"
    assert 900 < totals(sections)["elevation_gain_m"] < 1300


def test_a_route_without_elevation_is_one_flat_section_by_distance():
    dist = np.linspace(0, 12_000, 300)
    sections = split_into_sections(dist, np.full(300, np.nan))
    assert len(sections) == 1 and sections[0].kind == "flat"
    assert sections[0].elevation_gain_m is None and sections[0].details["has_elevation"] is False
    assert sections[0].distance_m == 12_000 and sections[0].est_time_s > 0


def test_max_grade_is_the_steepest_100_m_not_a_single_noisy_pair():
    dist, ele = profile([(1000, 0), (1000, 5), (200, 12), (1000, 5), (1000, 0)])
    climb = [s for s in split_into_sections(dist, ele) if s.kind == "climb"][0]
    assert 9.5 < climb.max_grade_pct < 12.5


def test_fiets_index_matches_the_formula():
    # Alpe d'Huez: 1,071 m over 13.8 km to 1,850 m
    assert fiets_index(1071, 13_800, 1850) == pytest.approx(1071**2 / 138_000 + 0.85)
    assert fiets_index(100, 2000, 400) == pytest.approx(0.5)


def test_category_boundaries_are_inclusive():
    assert climb_category(2000, 4.0) == "4"  # exactly 8,000
    assert climb_category(1000, 7.99) is None
    assert climb_category(4000, 4.0) == "3"  # exactly 16,000
    assert climb_category(3999, 4.0) == "4"
    assert climb_category(8000, 4.0) == "2" and climb_category(16_000, 4.0) == "1"
    assert climb_category(10_000, 8.0) == "HC"  # exactly 80,000
    assert climb_category(10_000, 8.1) == "HC"


def test_no_category_below_three_percent_whatever_the_score():
    assert climb_category(20_000, 2.9) is None
    assert climb_category(20_000, 3.0) == "2"


def test_more_power_climbs_faster_and_a_lighter_rider_too():
    slow = speed_for_power(200, 8, mass_kg=85)
    assert speed_for_power(300, 8, mass_kg=85) > slow
    assert speed_for_power(200, 8, mass_kg=70) > slow
    # 250 W on the flat, 80 kg: about 36 km/h with CdA 0.32
    assert 33 < float(speed_for_power(250, 0, mass_kg=80)) * 3.6 < 39


def test_descending_speed_is_capped():
    assert float(speed_for_power(100, -12, mass_kg=80)) * 3.6 == pytest.approx(
        DEFAULT_PARAMS.max_descent_speed_kmh)


def test_the_estimate_uses_the_athletes_ftp():
    dist, ele = profile([(5000, 7)])
    strong = split_into_sections(dist, ele, ftp_w=330, weight_kg=70)[-1]
    weak = split_into_sections(dist, ele, ftp_w=180, weight_kg=70)[-1]
    assert strong.kind == "climb" and strong.est_time_s < weak.est_time_s * 0.7


def test_the_gear_hint_states_its_assumptions_and_asks_lower_gears_on_steeper_grades():
    easy_text, easy = gear_hint(4, 200, mass_kg=80)
    steep_text, steep = gear_hint(12, 200, mass_kg=80)
    assert steep["ratio"] < easy["ratio"]
    assert "70 rpm" in steep_text and steep["cadence_rpm"] == 70 and steep["wheel_circumference_m"] == 2.105


def test_every_parameter_can_be_changed_in_one_place():
    dist, ele = profile([(1000, 0), (800, 4), (1000, 0)])
    assert "climb" in kinds(split_into_sections(dist, ele))
    strict = SectionParams(min_climb_length_m=1000)
    assert "climb" not in kinds(split_into_sections(dist, ele, params=strict))


def test_section_at_finds_the_section_under_a_distance():
    dist, ele = profile([(3000, 0), (5000, 6), (3000, 0)])
    sections = split_into_sections(dist, ele)
    assert section_at(sections, 5000) == 1 and section_at(sections, 100) == 0
    assert section_at(sections, 1e9) is None


def test_tiny_inputs_do_not_crash():
    assert split_into_sections(np.array([0.0]), np.array([1.0])) == []
    one = split_into_sections(np.array([0.0, 5.0]), np.array([1.0, 2.0]))
    assert len(one) == 1 and one[0].distance_m == 5.0
