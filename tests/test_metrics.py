"""Ride metrics against hand-computed values on short known streams."""

from __future__ import annotations

import numpy as np
import pytest

from core.rides import metrics
from core.rides.metrics import ride_metrics


def seconds(n: int, start: float = 0.0) -> np.ndarray:
    return np.arange(n, dtype=float) + start


def test_a_gap_over_ten_seconds_is_a_pause_and_a_short_gap_is_held():
    t = np.array([0, 1, 2, 5, 30, 31], dtype=float)
    power = np.array([100, 110, 120, 130, 140, 150], dtype=float)
    grid, cols = metrics.resample_1hz(t, {"power": power, "hr": None})
    assert grid.tolist() == [0, 1, 2, 3, 4, 5, 30, 31]
    assert cols["power"].tolist() == [100, 110, 120, 120, 120, 130, 140, 150]
    assert cols["hr"] is None


def test_duplicate_and_unsorted_timestamps_are_tolerated():
    t = np.array([0, 2, 1, 1, 3], dtype=float)
    grid, cols = metrics.resample_1hz(t, {"p": np.array([1, 3, 2, 9, 4], dtype=float)})
    assert grid.tolist() == [0, 1, 2, 3]
    assert cols["p"].tolist() == [1, 2, 3, 4]


def steady_np(watts: float, n: int) -> float:
    """GC's IsoPower of n samples at a constant power: the window starts full of zeros, so the first 29 rolling
    means are watts·k/30 (k = 1..29) and every later one is watts."""
    return watts * ((sum((k / 30) ** 4 for k in range(1, 30)) + (n - 29)) / n) ** 0.25


def test_normalized_power_of_a_steady_ride_counts_the_zero_padded_start_as_goldencheetah():
    assert metrics.normalized_power(np.full(120, 200.0)) == pytest.approx(steady_np(200.0, 120))
    assert metrics.normalized_power(np.full(120, 200.0)) == pytest.approx(189.4, abs=0.1)
    assert metrics.normalized_power(np.full(36000, 200.0)) == pytest.approx(200.0, rel=2e-4)


def test_normalized_power_of_a_step_matches_the_hand_computed_value():
    # 30 s at 0 W then 30 s at 400 W: the 60 rolling means are 0 (30 times) then 400·k/30 for k = 1..30.
    p = np.concatenate([np.zeros(30), np.full(30, 400.0)])
    sum_k4 = sum(k ** 4 for k in range(31))  # 5,273,999
    expected = 400 / 30 * (sum_k4 / 60) ** 0.25
    assert metrics.normalized_power(p) == pytest.approx(expected)
    assert metrics.normalized_power(p) == pytest.approx(229.6, abs=0.1)


def test_a_ride_under_thirty_seconds_has_no_normalized_power():
    assert metrics.normalized_power(np.full(29, 300.0)) is None


def test_one_hour_at_ftp_scores_if_one_and_tss_one_hundred():
    m = ride_metrics(seconds(3600), power=np.full(3600, 250.0), ftp_w=250)
    assert m.normalized_power_w == pytest.approx(steady_np(250.0, 3600))  # 249.7: the zero-padded start
    assert m.intensity_factor == pytest.approx(1.0, abs=0.002)
    assert m.tss == pytest.approx(100.0, abs=0.5)
    assert m.load_method == "power"
    assert m.vi == pytest.approx(1.0, abs=0.002)


def test_tss_formula_for_half_an_hour_at_200_w_with_ftp_250():
    # TSS = 1800 · 200 · 0.8 / (250 · 3600) · 100 = 32.0
    assert metrics.training_stress_score(1800, 200.0, 250.0) == pytest.approx(32.0)


def test_power_zones_follow_goldencheetah_bounds():
    p = np.array([100, 150, 200, 250, 280, 350, 400], dtype=float)  # 40 60 80 100 112 140 160 % of 250
    assert metrics.power_zones(p, 250) == [1, 1, 1, 1, 1, 1, 1]
    # GC Zones.cpp: lower bound int(55 % · 250) = 137 W belongs to Z2; 136.9 W is still Z1.
    assert metrics.power_zone_bounds(250) == [0, 137, 187, 225, 262, 300, 375]
    assert metrics.power_zones(np.array([136.9, 137.0, 0.0]), 250) == [2, 1, 0, 0, 0, 0, 0]


def test_hr_zones_use_lthr_and_fall_back_to_max_hr():
    hr = np.array([100, 130, 150, 165, 180], dtype=float)  # 61 79 91 100 109 % of LTHR 165
    assert metrics.hr_zones(hr, 165, 190) == [1, 1, 1, 1, 1]
    hr_max = np.array([100, 120, 140, 160, 180], dtype=float)  # 50 60 70 80 90 % of 200 → on the bounds
    assert metrics.hr_zones(hr_max, None, 200) == [2, 1, 1, 1, 0]


def test_power_curve_is_the_best_mean_over_each_duration_and_the_whole_ride():
    p = np.concatenate([np.full(10, 100.0), np.full(5, 500.0), np.full(10, 100.0)])
    curve = metrics.power_curve(p)
    assert curve["1"] == 500 and curve["5"] == 500
    assert curve["10"] == pytest.approx(300.0)  # 5 × 500 + 5 × 100
    assert curve["25"] == pytest.approx(180.0)  # the whole ride
    assert "30" not in curve


def test_decoupling_compares_power_to_hr_between_halves():
    n = 1800
    power = np.full(n, 200.0)
    hr = np.concatenate([np.full(n // 2, 130.0), np.full(n // 2, 143.0)])
    # (EF1 − EF2)/EF1 = 1 − 130/143 = 9.09 %
    assert metrics.aerobic_decoupling(power, hr, np.ones(n, bool)) == pytest.approx(9.0909, abs=1e-3)
    assert metrics.aerobic_decoupling(power[:600], hr[:600], np.ones(600, bool)) is None  # under 20 min


def test_a_ride_without_power_gets_hr_load_stated_as_hr():
    m = ride_metrics(seconds(3600), hr=np.full(3600, 165.0), speed=np.full(3600, 8.0), lthr=165, max_hr=190)
    assert m.load_method == "hr"
    assert m.tss == pytest.approx(100.0)  # one hour at LTHR
    assert m.metrics_json()["hr_load"] is True
    assert m.normalized_power_w is None


def test_hr_load_without_lthr_estimates_it_from_max_hr():
    m = ride_metrics(seconds(3600), hr=np.full(3600, 171.0), max_hr=190)  # 0.9 · 190 = 171
    assert m.tss == pytest.approx(100.0)


def test_moving_time_excludes_standing_still():
    speed = np.concatenate([np.full(500, 8.0), np.zeros(100)])
    m = ride_metrics(seconds(600), speed=speed)
    assert m.moving_time_s == 500
    assert m.recorded_time_s == 600
    assert m.elapsed_time_s == 600


def test_an_indoor_ride_counts_pedalling_seconds_as_moving():
    power = np.concatenate([np.full(300, 180.0), np.zeros(60)])
    m = ride_metrics(seconds(360), power=power, cadence=np.concatenate([np.full(300, 90.0), np.zeros(60)]))
    assert m.moving_time_s == 300
    assert m.distance_m is None
    assert m.avg_cadence == pytest.approx(90.0)  # coasting zeros excluded


def test_a_5000_w_spike_and_hr_300_are_flagged_and_ignored():
    power = np.full(600, 200.0)
    power[100] = 5000
    hr = np.full(600, 140.0)
    hr[200] = 300
    m = ride_metrics(seconds(600), power=power, hr=hr, ftp_w=250)
    assert m.max_power_w == 200
    assert m.max_hr == 140
    assert any("power" in f and "5000" in f for f in m.flags)
    assert any("hr" in f and "300" in f for f in m.flags)


def test_zero_hr_is_a_dropout_not_a_flag():
    hr = np.full(120, 150.0)
    hr[:10] = 0
    m = ride_metrics(seconds(120), hr=hr)
    assert m.avg_hr == pytest.approx(150.0)
    assert m.flags == []


def test_four_hz_data_gives_the_same_figures_as_one_hz():
    t = np.arange(0, 600, 0.25)
    m = ride_metrics(t, power=np.full(len(t), 220.0), ftp_w=250)
    one_hz = ride_metrics(seconds(600), power=np.full(600, 220.0), ftp_w=250)
    assert m.recorded_time_s == 600
    assert m.normalized_power_w == pytest.approx(one_hz.normalized_power_w)
    assert m.normalized_power_w == pytest.approx(steady_np(220.0, 600))


def test_smart_recording_every_few_seconds_keeps_the_ride_time():
    t = np.arange(0, 3600, 3.0)
    m = ride_metrics(t, power=np.full(len(t), 250.0), ftp_w=250)
    assert m.recorded_time_s == pytest.approx(3598, abs=1)
    assert m.power_samples_s == 3598  # the 2 s between samples are filled, as GoldenCheetah's FIT import does
    assert m.tss == pytest.approx(100.0 * 3598 / 3600 * (steady_np(250.0, 3598) / 250) ** 2)


def test_elevation_gain_ignores_noise_and_counts_a_climb():
    rng = np.random.default_rng(1)
    t = seconds(700)
    dist = t * 6.0
    flat = 100 + rng.uniform(-1, 1, 700)
    assert ride_metrics(t, dist_m=dist, ele=flat).elevation_gain_m == pytest.approx(0.0, abs=2.0)
    climb = np.concatenate([np.linspace(100, 200, 500), np.linspace(200, 150, 200)])
    m = ride_metrics(t, dist_m=dist, ele=climb)
    assert m.elevation_gain_m == pytest.approx(100.0, abs=1.0) and m.altitude_source == "barometric"
    assert ride_metrics(t, dist_m=dist, ele=np.full(700, np.nan)).elevation_gain_m is None


def test_metrics_json_has_the_keys_the_dashboard_reads():
    m = ride_metrics(seconds(4000), power=np.full(4000, 200.0), hr=np.full(4000, 140.0), ftp_w=250, lthr=165)
    data = m.metrics_json()
    assert {"zones_power_s", "zones_hr_s", "power_curve", "vi", "ef", "decoupling_pct", "hr_load",
            "flags"} <= set(data)
    assert len(data["zones_power_s"]) == 7 and len(data["zones_hr_s"]) == 5
    assert set(data["power_curve"]) >= {"1", "5", "60", "300", "1200", "3600", "4000"}
    assert data["ef"] == pytest.approx(steady_np(200.0, 4000) / 140)
    assert data["work_kj"] == pytest.approx(800.0)


def test_an_empty_stream_gives_empty_metrics_without_crashing():
    m = ride_metrics(np.array([]))
    assert m.recorded_time_s == 0 and m.tss is None
