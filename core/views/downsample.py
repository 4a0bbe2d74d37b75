"""Long streams thinned for charts: Largest-Triangle-Three-Buckets (Steinarsson 2013, "Downsampling Time Series
for Visual Representation", MSc thesis, University of Iceland) in numpy, plus each stream's highest and lowest
value, so a short sprint or the top of a climb stays on the chart however long the ride. Pure; reads nothing.
"""

from __future__ import annotations

import numpy as np


def lttb_indices(x, y, n_out: int) -> np.ndarray:
    """Indices (ascending) of at most ``n_out`` points of (x, y) chosen by LTTB: the first and last point, and in
    each of n_out − 2 equal buckets between them the point making the largest triangle with the point kept in
    the bucket before and the mean of the bucket after. Points with a NaN in x or y are never chosen."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if n_out >= len(valid) or len(valid) < 3:
        return valid
    n_out = max(int(n_out), 3)
    xs, ys = x[valid], y[valid]
    n = len(valid)
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)  # n_out − 2 buckets over points 1..n−2
    starts = edges[:-1]
    stops = np.maximum(edges[1:], starts + 1)
    # Each bucket's next bucket [stops, after_stops) and its mean point, all at once from cumulative sums; the
    # loop below is left with what depends on the point chosen before (a ride page's four streams: 3× faster).
    after_stops = np.maximum(np.append(edges[2:], n), stops + 1)
    counts = after_stops - stops
    sum_x, sum_y = _cumsum0(xs), _cumsum0(ys)
    after_x = ((sum_x[after_stops] - sum_x[stops]) / counts).tolist()
    after_y = ((sum_y[after_stops] - sum_y[stops]) / counts).tolist()
    chosen = np.empty(n_out, dtype=np.int64)
    chosen[0], chosen[-1] = 0, n - 1
    previous = 0
    for bucket, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        px, py = xs[previous], ys[previous]
        # twice the triangle's area (previous point, a point of the bucket, the next bucket's mean), up to sign
        area = np.abs((px - after_x[bucket]) * (ys[start:stop] - py) - (px - xs[start:stop]) * (after_y[bucket] - py))
        previous = start + int(area.argmax())
        chosen[bucket + 1] = previous
    return valid[chosen]


def _cumsum0(values: np.ndarray) -> np.ndarray:
    """Cumulative sums with a leading 0: the sum of values[a:b] is out[b] − out[a]."""
    out = np.empty(len(values) + 1)
    out[0] = 0.0
    np.cumsum(values, out=out[1:])
    return out


def chart_rows(x, streams: dict[str, object], max_points: int) -> np.ndarray:
    """Row indices (ascending, unique) that draw every stream in ``streams`` faithfully against ``x`` with about
    ``max_points`` rows in all (never more unless ``max_points`` < 5 per stream): the union of each stream's LTTB choice (its share of ``max_points``) and its
    highest and lowest value. All rows when there are no more than ``max_points``."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) <= max_points:
        return np.arange(len(x))
    columns = [np.asarray(values, dtype=np.float64) for values in streams.values()]
    columns = [values for values in columns if np.isfinite(values).sum() >= 2]
    if not columns:
        return np.unique(np.linspace(0, len(x) - 1, max_points).astype(np.int64))
    share = max((max_points - 2 * len(columns)) // len(columns), 3)  # room for the highs and lows
    keep = [lttb_indices(x, values, share) for values in columns]
    for values in columns:
        finite = np.where(np.isfinite(values), values, np.nan)
        keep.append(np.array([np.nanargmax(finite), np.nanargmin(finite)]))
    return np.unique(np.concatenate(keep))


def envelope_rows(values, buckets: int) -> np.ndarray:
    """Row indices (ascending) that draw one stream's line at a chart's width: in each of ``buckets`` equal runs of
    rows its lowest and highest value (the M4 idea, Jugel et al. 2014, "M4: A Visualization-Oriented Time Series
    Data Aggregation", VLDB: a line drawn through each pixel column's extremes looks like the whole series), the
    first and last value, and the first missing row after each run of values, so a gap stays a gap. All rows
    when there are no more than 2 × ``buckets``."""
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n <= 2 * buckets:
        return np.arange(n)
    finite = np.isfinite(y)
    present = np.flatnonzero(finite)
    if not len(present):
        return np.empty(0, dtype=np.int64)
    size = -(-n // buckets)
    padded = np.full(size * buckets, np.nan)
    padded[:n] = y
    grid = padded.reshape(buckets, size)
    has = np.isfinite(grid).any(axis=1)
    starts = np.arange(buckets) * size
    highs = starts + np.where(np.isfinite(grid), grid, -np.inf).argmax(axis=1)
    lows = starts + np.where(np.isfinite(grid), grid, np.inf).argmin(axis=1)
    breaks = np.flatnonzero(finite[:-1] & ~finite[1:]) + 1
    return np.unique(np.concatenate([highs[has], lows[has], breaks, present[[0, -1]]]))
