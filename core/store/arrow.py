"""Numeric numpy arrays as Arrow arrays for bulk inserts into DuckDB (ride samples, route points)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_ARROW_TYPES = {np.dtype(np.float64): pa.float64(), np.dtype(np.float32): pa.float32(),
                np.dtype(np.int64): pa.int64(), np.dtype(np.int32): pa.int32(), np.dtype(np.int16): pa.int16()}


def numpy_to_arrow(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A numeric numpy array as an Arrow array without a copy (``mask`` True = NULL). Built from buffers
    rather than ``pa.array``, which imports pandas (~0.3 s of the command line's start-up) to check its
    argument."""
    values = np.ascontiguousarray(values)
    validity = None
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(mask, dtype=bool), bitorder="little"))
    return pa.Array.from_buffers(_ARROW_TYPES[values.dtype], len(values), [validity, pa.py_buffer(values)])
