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
    edges = np.linspace(1, len(valid) - 1, n_out - 1).astype(np.int64)  # n_out − 2 buckets over points 1..n−2
    chosen = np.empty(n_out, dtype=np.int64)
    chosen[0], chosen[-1] = 0, len(valid) - 1
    previous = 0
    for bucket in range(n_out - 2):
        start, stop = edges[bucket], max(edges[bucket + 1], edges[bucket] + 1)
        after_start, after_stop = stop, (edges[bucket + 2] if bucket + 2 < len(edges) else len(valid))
        after_x = xs[after_start:max(after_stop, after_start + 1)].mean()
        after_y = ys[after_start:max(after_stop, after_start + 1)].mean()
        px, py = xs[previous], ys[previous]
        area = np.abs((px - after_x) * (ys[start:stop] - py) - (px - xs[start:stop]) * (after_y - py))
        previous = start + int(np.argmax(area))
        chosen[bucket + 1] = previous
    return valid[chosen]


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
