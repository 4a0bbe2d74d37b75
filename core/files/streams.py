"""The one in-memory shape every reader (GPX, FIT, Garmin, demo) produces and every store consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

SAMPLE_COLUMNS = ("t_s", "lat", "lon", "ele", "dist_m", "speed", "hr", "cadence", "power", "temp")


@dataclass
class ActivityStreams:
    """Per-point arrays of equal length; missing values are NaN (never 0, which is a real power or cadence).

    ``t_s`` is seconds since ``started_at`` (None for an untimed route). ``lat``/``lon`` are all-NaN for an
    indoor ride. ``dist_m`` is cumulative distance along the track. ``speed`` is m/s.
    """

    lat: np.ndarray
    lon: np.ndarray
    ele: np.ndarray
    dist_m: np.ndarray
    t_s: np.ndarray | None = None
    speed: np.ndarray | None = None
    hr: np.ndarray | None = None
    cadence: np.ndarray | None = None
    power: np.ndarray | None = None
    temp: np.ndarray | None = None
    started_at: datetime | None = None  # timezone-aware UTC
    name: str = ""
    sport_type: str = "cycling"
    source_format: str = ""  # gpx | fit | garmin | demo
    laps: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # things the rider should know (flagged values, …)
    # What the file says about its altitude: 'barometric', 'gps', 'dem' or None (core.files.elevation decides)
    altitude_source: str | None = None

    def __len__(self) -> int:
        return len(self.dist_m)

    @property
    def is_timed(self) -> bool:
        # A span of a second or more, not "a time after the first": a corrupted first time (year 9999) makes every
        # other one negative, and a stopped clock (gpxpy's Mojstrovka: all in one 1901 second) times nothing.
        return self.t_s is not None and len(self.t_s) > 1 and bool(np.nanmax(self.t_s) - np.nanmin(self.t_s) >= 1)

    @property
    def has_position(self) -> bool:
        return bool(np.isfinite(self.lat).any())

    @property
    def has_elevation(self) -> bool:
        return bool(np.isfinite(self.ele).sum() >= 2)

    def column(self, name: str) -> np.ndarray:
        """A sample column as float64, all-NaN when the stream is absent."""
        value = getattr(self, name)
        if value is None:
            return np.full(len(self), np.nan)
        return np.asarray(value, dtype=np.float64)
