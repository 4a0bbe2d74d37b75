"""Long streams thinned for charts keep their peaks (core.views.downsample)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.rides.store import store_ride
from core.views import ridecharts
from core.views.downsample import chart_rows, lttb_indices
from tests.test_ridecharts import START
from tests.test_rides import make_ride


def test_lttb_keeps_the_ends_and_a_short_spike_and_returns_the_asked_count():
    t = np.arange(20_000, dtype=float)
    power = 200 + 20 * np.sin(t / 300)
    power[12_345:12_350] = 1_400  # a five-second sprint
    chosen = lttb_indices(t, power, 500)
    assert len(chosen) == 500 and chosen[0] == 0 and chosen[-1] == 19_999
    assert np.all(np.diff(chosen) > 0)
    assert power[chosen].max() == 1_400


def test_lttb_never_picks_a_missing_value_and_returns_everything_when_short():
    y = np.array([1.0, np.nan, 3.0, 2.0, np.nan, 5.0])
    assert list(lttb_indices(np.arange(6), y, 10)) == [0, 2, 3, 5]
    long_y = np.where(np.arange(5000) % 7 == 0, np.nan, np.cos(np.arange(5000) / 50))
    chosen = lttb_indices(np.arange(5000), long_y, 200)
    assert not np.isnan(long_y[chosen]).any()


def test_chart_rows_keep_every_streams_highest_and_lowest_value_within_the_budget():
    rng = np.random.default_rng(1)
    n = 50_000
    t = np.arange(n, dtype=float)
    streams = {"power": rng.normal(220, 30, n), "hr": 140 + 10 * np.sin(t / 2_000), "ele": np.cumsum(rng.normal(0, 1, n))}
    streams["power"][41_000] = 1_600
    streams["hr"][100] = 99
    rows = chart_rows(t, streams, 1_000)
    assert len(rows) <= 1_000 and np.all(np.diff(rows) > 0)
    for values in streams.values():
        assert values[rows].max() == values.max() and values[rows].min() == values.min()
    assert list(chart_rows(t[:800], {k: v[:800] for k, v in streams.items()}, 1_000)) == list(range(800))


def test_the_ride_page_charts_show_a_sprint_of_a_long_ride(cur, athlete_id):
    ride = make_ride(4 * 3600, 180, 135, started_at=START, name="Long")
    ride.power[9_000:9_006] = 1_350.0
    ride_id = store_ride(cur, athlete_id, ride, source="file", external_id="long").id
    detail = ridecharts.load_ride_detail(cur, athlete_id, ride_id, max_points=600)
    assert len(detail["samples"]) <= 600
    assert detail["samples"]["power"].max() == 1_350


def test_compare_charts_share_about_1200_rows_and_keep_each_rides_sprint():
    from core.rides.compare import Aligned

    x = np.arange(30_000, dtype=float)
    a = {"power": 200 + 20 * np.sin(x / 300), "hr": 140 + 5 * np.cos(x / 500), "t_s": x}
    b = {"power": 190 + 20 * np.cos(x / 250), "hr": 150 + 5 * np.sin(x / 400), "t_s": x * 1.1}
    a["power"][7_001:7_004], b["power"][22_222:22_225] = 1_300, 1_100  # a sprint each, a few seconds long
    shown = ridecharts.comparison_shown(Aligned("time", x, [a, b]), ["power", "hr"])
    assert 600 < len(shown.x) <= 1_200 and np.all(np.diff(shown.x) > 0)
    assert shown.series[0]["power"].max() == 1_300 and shown.series[1]["power"].max() == 1_100
    assert all(len(s["t_s"]) == len(shown.x) for s in shown.series)  # every stream on the shared rows
    assert np.array_equal(shown.delta("power"), (a["power"] - b["power"])[np.searchsorted(x, shown.x)])
    short = Aligned("time", x[:500], [{k: v[:500] for k, v in s.items()} for s in (a, b)])
    assert ridecharts.comparison_shown(short, ["power"]) is short


def test_the_compare_chart_draws_each_rides_sprint_and_low_in_its_band_and_keeps_one_spec():
    from core.rides.compare import Aligned
    from core.views.bandcharts import comparison_chart, difference_chart
    from tests.test_ridecharts import assert_valid, panel_titles, same_but_rows

    x = np.arange(20_000, dtype=float)
    a = {"power": 200 + 20 * np.sin(x / 300), "speed": 8 + np.sin(x / 900), "t_s": x}
    b = {"power": 190 + 20 * np.cos(x / 250), "speed": 9 + np.cos(x / 700), "t_s": x}
    a["power"][5_000:5_003], b["power"][15_000] = 1_250, 0.0  # A's sprint, B's one-second stop
    shown = ridecharts.comparison_shown(Aligned("time", x, [a, b]), ["power", "speed"])
    names = ["A: <b>x</b>", "B: y"]
    spec = comparison_chart(shown, ["power", "speed"], names, ("#111", "#222"))
    frames = assert_valid(spec)
    rows = frames["band_rows"]
    by_ride = {name: rows[rows["ride"] == name] for name in names}  # names reach the legend as plain data
    assert by_ride["A: <b>x</b>"]["power"].max() == 1_250 and by_ride["B: y"]["power"].min() == 0.0
    assert len(by_ride["B: y"]) <= 1_200 and rows["x"].max() == x[-1] / 60
    assert by_ride["A: <b>x</b>"]["speed"].max() == pytest.approx(a["speed"].max(), rel=1e-3)
    assert panel_titles(spec) == ["Power (W)", "Speed (km/h)"]
    assert list(frames["band_tips"].columns) == ["x", "at", "A Power (W)", "B Power (W)", "A Speed (km/h)",
                                                 "B Speed (km/h)"]
    # other rides, other names: the same spec, other rows (the browser keeps the chart)
    other = comparison_chart(shown, ["power", "speed"], ["A: z", "B: w"], ("#111", "#222"))
    assert same_but_rows(other, spec) and "<b>x</b>" not in str({k: v for k, v in spec.items() if k != "datasets"})
    delta = difference_chart(shown, "power")
    assert np.allclose(assert_valid(delta)["band_rows"]["delta"], shown.delta("power"), equal_nan=True)
    assert panel_titles(delta) == ["A − B, Power (W)"]
    assert same_but_rows(difference_chart(shown, "speed"), delta)  # another stream: rows only


def _textbook_lttb(x, y, n_out):
    """LTTB bucket by bucket as Steinarsson writes it (each next bucket's mean computed in its turn): the
    reference the vectorised version must match point for point."""
    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if n_out >= len(valid) or len(valid) < 3:
        return valid
    xs, ys = x[valid], y[valid]
    edges = np.linspace(1, len(valid) - 1, n_out - 1).astype(np.int64)
    chosen, previous = [0], 0
    for bucket in range(n_out - 2):
        start, stop = edges[bucket], max(edges[bucket + 1], edges[bucket] + 1)
        after = slice(stop, max(edges[bucket + 2] if bucket + 2 < len(edges) else len(valid), stop + 1))
        ax, ay = xs[after].mean(), ys[after].mean()
        area = np.abs((xs[previous] - ax) * (ys[start:stop] - ys[previous])
                      - (xs[previous] - xs[start:stop]) * (ay - ys[previous]))
        previous = start + int(np.argmax(area))
        chosen.append(previous)
    return valid[np.array([*chosen, len(valid) - 1])]


def test_lttb_chooses_the_same_points_as_the_textbook_algorithm():
    rng = np.random.default_rng(7)
    for trial in range(60):
        n, n_out = int(rng.integers(50, 20_000)), int(rng.integers(3, 800))
        x = np.cumsum(rng.uniform(0.5, 1.5, n)) if trial % 2 else np.arange(n, dtype=float)
        y = [rng.normal(200, 60, n), np.cumsum(rng.normal(0, 1, n)), np.round(rng.normal(150, 20, n)),  # ties
             np.where(rng.random(n) < 0.05, np.nan, rng.normal(0, 1, n))][trial % 4]
        assert np.array_equal(lttb_indices(x, y, n_out), _textbook_lttb(x, y, n_out)), (trial, n, n_out)


def test_a_tooltip_column_with_a_dot_or_brackets_is_one_field_not_a_nested_one():
    from core.views.bandcharts import X, banded_spec, tips
    from tests.test_ridecharts import assert_valid, flat_layers

    rows = pd.DataFrame({"x": [0.0, 1.0, 2.0], "v": [1.0, 2.0, 3.0]})
    tip_rows = tips(rows["x"].to_numpy(), "km", {"v [a.b]": (rows["v"].to_numpy(), 0)})
    spec = banded_spec([("v", "V")], "km", lambda column, y: {"name": "v_line", "mark": "line",
                                                               "encoding": {"x": X, "y": y}}, rows, tip_rows)
    assert_valid(spec)
    (rules,) = [layer for layer in flat_layers(spec) if layer.get("name") == "band_hover_rules"]
    assert rules["encoding"]["tooltip"][1] == {"field": "v \\[a\\.b\\]", "type": "nominal", "title": "v [a.b]"}
    assert tip_rows["at"].tolist() == ["0.00 km", "1.00 km", "2.00 km"]
    assert tips(np.array([np.nan, 3.0]), "minutes", {})["at"].tolist() == ["–", "3.0 min"]  # a sample with no time


def test_the_envelope_keeps_each_runs_extremes_and_gap_edges_and_gives_short_or_empty_streams_whole():
    from core.views.downsample import envelope_rows

    rng = np.random.default_rng(7)
    y = rng.normal(200, 40, 9_001)
    y[3_000:3_050] = np.nan
    rows = envelope_rows(y, 300)
    assert np.all(np.diff(rows) > 0) and len(rows) <= 2 * 300 + 3
    assert np.nanmax(y[rows]) == np.nanmax(y) and np.nanmin(y[rows]) == np.nanmin(y)
    assert rows[0] == 0 and rows[-1] == 9_000 and list(rows[np.isnan(y[rows])]) == [3_000]
    size = -(-len(y) // 300)  # every run of rows keeps its own highest value
    assert all(np.nanmax(y[start:start + size]) in y[rows] for start in range(0, len(y), size)
               if np.isfinite(y[start:start + size]).any())
    assert list(envelope_rows(y[:600], 300)) == list(range(600))  # short: every row, gaps included
    assert len(envelope_rows(np.full(5_000, np.nan), 300)) == 0
