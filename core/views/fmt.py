"""The one formatting layer of the pages: every number a rider reads goes through here, in the rider's units and time
zone, with the unit named once (in the value or the column header) and "–" where a figure is missing.

- Values: ``distance`` (km with one decimal, or mi), ``duration`` (h:mm or h:mm:ss), ``power`` (W), ``pct``,
  ``elevation`` (m or ft), ``energy`` (kJ), ``heart_rate`` (bpm), ``speed`` (km/h or mph), ``day``/``moment``
  (dates and times in the athlete's zone), ``number``.
- Tables: ``table(rows, columns)`` builds a frame of display strings from raw rows and a list of ``Column``
  (key, header, formatter); headers carry the unit (``Distance (km)``), never a snake_case name.
- Text from a file or a user is made plain (``core.views.text``) before it reaches a table cell.

The rider's choices (metric/imperial, time zone) live in the athlete's preferences and arrive as ``Units``.

Must never: write, read the database or import streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from core.views.text import html_text, plain

MISSING = "–"
KM_PER_MILE = 1.609344
FT_PER_M = 3.280839895
SYSTEMS = ("metric", "imperial")


@dataclass(frozen=True)
class Units:
    """How one rider reads numbers: ``system`` metric or imperial, ``tz`` an IANA zone name (e.g. Europe/Paris)."""

    system: str = "metric"
    tz: str = "UTC"

    @classmethod
    def from_preferences(cls, prefs: dict | None) -> Units:
        prefs = prefs or {}
        system = prefs.get("units") if prefs.get("units") in SYSTEMS else "metric"
        tz = prefs.get("timezone") if valid_timezone(prefs.get("timezone")) else "UTC"
        return cls(system, tz)

    @property
    def imperial(self) -> bool:
        return self.system == "imperial"

    @property
    def distance_unit(self) -> str:
        return "mi" if self.imperial else "km"

    @property
    def elevation_unit(self) -> str:
        return "ft" if self.imperial else "m"

    @property
    def speed_unit(self) -> str:
        return "mph" if self.imperial else "km/h"

    @property
    def zone(self):
        return ZoneInfo(self.tz)


METRIC = Units()


def valid_timezone(name) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zones() -> list[str]:
    """IANA zone names for a picker, UTC first."""
    from zoneinfo import available_timezones

    return ["UTC", *sorted(z for z in available_timezones() if z != "UTC" and "/" in z and
                           not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))]


def missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | int) and not isinstance(value, bool) and math.isnan(value))
    except TypeError:
        return False


def number(value, decimals: int = 0, unit: str = "") -> str:
    """1234.5 → '1,235' (thousands separated); ``unit`` appended after a thin space when given."""
    if missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "" and text.startswith("-"):
        text = text[1:]  # "-0" reads as a sign error
    return f"{text} {unit}" if unit else text


def signed(value, decimals: int = 0, unit: str = "") -> str:
    """A difference: '+12 W', '−3.5 km' (a real minus sign), '0 W'."""
    if missing(value):
        return MISSING
    rounded = round(float(value), decimals)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else ""
    return sign + number(abs(rounded), decimals, unit)


def distance(distance_m, units: Units = METRIC, *, unit: bool = True, decimals: int = 1) -> str:
    """34133.2 m → '34.1 km' (or '21.2 mi')."""
    if missing(distance_m):
        return MISSING
    value = float(distance_m) / 1000 / (KM_PER_MILE if units.imperial else 1)
    return number(value, decimals, units.distance_unit if unit else "")


def elevation(metres, units: Units = METRIC, *, unit: bool = True) -> str:
    """350.9487 m → '351 m' (or '1,151 ft')."""
    if missing(metres):
        return MISSING
    return number(float(metres) * (FT_PER_M if units.imperial else 1), 0, units.elevation_unit if unit else "")


def speed(metres_per_s, units: Units = METRIC, *, unit: bool = True) -> str:
    """7.91 m/s → '28.5 km/h' (or '17.7 mph')."""
    if missing(metres_per_s):
        return MISSING
    value = float(metres_per_s) * 3.6 / (KM_PER_MILE if units.imperial else 1)
    return number(value, 1, units.speed_unit if unit else "")


def duration(seconds, *, with_seconds: bool = False) -> str:
    """3725 s → '1:02' (h:mm) or '1:02:05'; under an hour with seconds: '12:05' (m:ss); negative → '−0:02'."""
    if missing(seconds):
        return MISSING
    total = int(round(abs(float(seconds))))
    sign = "−" if float(seconds) < 0 and total else ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if with_seconds:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"
    minutes = int(round(abs(float(seconds)) / 60))
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def power(watts, *, unit: bool = True) -> str:
    return number(watts, 0, "W" if unit else "")


def heart_rate(bpm, *, unit: bool = True) -> str:
    return number(bpm, 0, "bpm" if unit else "")


def energy(kilojoules, *, unit: bool = True) -> str:
    return number(kilojoules, 0, "kJ" if unit else "")


def pct(value, decimals: int = 1, *, unit: bool = True) -> str:
    """7.25 → '7.3 %'."""
    return number(value, decimals, "%" if unit else "")


def ratio(value, decimals: int = 2) -> str:
    """IF, VI, EF: '0.87'."""
    return number(value, decimals)


def _aware(moment: datetime) -> datetime:
    # Timestamps are stored in UTC; a naive one from DuckDB's TIMESTAMP columns is UTC too.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day(value, units: Units = METRIC) -> str:
    """A date (or the date of a moment in the rider's zone): 'Mon 2026-05-04'."""
    if missing(value):
        return MISSING
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        value = _aware(value).astimezone(units.zone).date()
    if not isinstance(value, date):
        return plain(value)
    return f"{value:%a %Y-%m-%d}"


def moment(value, units: Units = METRIC) -> str:
    """A point in time in the rider's zone: '2026-05-04 07:12'."""
    if missing(value):
        return MISSING
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        return day(value, units)
    return f"{_aware(value).astimezone(units.zone):%Y-%m-%d %H:%M}"


def text(value, max_chars: int | None = 80) -> str:
    """A name, type or note from a file or a user, as one plain line; '–' when empty."""
    return MISSING if missing(value) or value == "" else plain(value, max_chars)


def label(name: str) -> str:
    """'avg_speed_ms' → 'Avg speed ms' (for a key no Column names; prefer naming the column)."""
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Column:
    """One table column: the row's ``key``, the ``header`` shown (unit included) and how a value is shown."""

    key: str
    header: str
    show: Callable[[object], str] = text


def table(rows: Iterable[dict], columns: list[Column]) -> pd.DataFrame:
    """Display strings, one column per ``Column`` in order; an empty frame keeps its headers."""
    data = [{c.header: c.show(row.get(c.key)) for c in columns} for row in rows]
    return pd.DataFrame(data, columns=[c.header for c in columns])


# A short table drawn as static HTML, the look of Streamlit's own tables; figures (digits, h:mm, %) align right.
_TABLE_CSS = """<style>
table.vc-table{border-collapse:collapse;width:100%;font-size:0.875rem;margin-bottom:0.5rem}
table.vc-table th{text-align:left;font-weight:600;padding:0.4rem 0.6rem;border-bottom:1px solid rgba(49,51,63,0.25)}
table.vc-table td{padding:0.4rem 0.6rem;border-bottom:1px solid rgba(49,51,63,0.1);vertical-align:top}
table.vc-table .vc-figure{text-align:right;white-space:nowrap}
</style>"""
_FIGURE = frozenset("0123456789.,:%+-−–  ")
_FIGURE_CLASS = ' class="vc-figure"'


def table_html(frame: pd.DataFrame, cell_style: dict[str, Callable[[str], str]] | None = None) -> str:
    """``table``'s display strings as one static HTML table, every header and cell escaped; ``cell_style`` gives
    a column's cells their CSS (a status in colour). For the few rows of a summary, where an interactive data grid
    made the browser load and start its whole grid library before the page's first chart (issue 17)."""
    styles = cell_style or {}
    texts = [["" if value is None else str(value) for value in row] for row in frame.itertuples(index=False)]
    figures = [bool(texts) and all(set(row[i]) <= _FIGURE for row in texts) for i in range(len(frame.columns))]
    head = "".join(f"<th{_FIGURE_CLASS if figure else ''}>{html_text(column)}</th>"
                   for column, figure in zip(frame.columns, figures, strict=True))
    body = []
    for row in texts:
        cells = []
        for column, text, figure_column in zip(frame.columns, row, figures, strict=True):
            css = styles[column](text) if column in styles else ""
            figure = _FIGURE_CLASS if figure_column or (text and set(text) <= _FIGURE) else ""
            style = f' style="{html_text(css)}"' if css else ""
            cells.append(f"<td{figure}{style}>{html_text(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'{_TABLE_CSS}<table class="vc-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


# Durations a rider names, for power-curve axes on a log scale.
DURATION_TICKS = ((1, "1 s"), (5, "5 s"), (15, "15 s"), (30, "30 s"), (60, "1 min"), (120, "2 min"),
                  (300, "5 min"), (600, "10 min"), (1200, "20 min"), (3600, "1 h"), (7200, "2 h"), (18000, "5 h"))


def duration_axis(longest_s: float, title: str = "duration") -> dict:
    """A Plotly log x-axis labelled at 1 s, 5 s, … 1 min, 5 min, 20 min, 1 h … up to ``longest_s``."""
    ticks = [(s, text) for s, text in DURATION_TICKS if s <= max(float(longest_s), 1.0)]
    return {"type": "log", "tickvals": [s for s, _ in ticks], "ticktext": [t for _, t in ticks], "title": title}


def counts_table(counts: dict[str, int]) -> pd.DataFrame:
    """Rows per table of a backup or an export: 'What' in words ('Ride samples'), 'Rows' with thousands marked;
    tables with no row are left out."""
    return pd.DataFrame([{"What": label(name), "Rows": number(n)} for name, n in counts.items() if n],
                        columns=["What", "Rows"])


def counts_sentence(counts: dict[str, int], names: tuple[str, ...] = ("rides", "routes", "plans")) -> str:
    """'42 rides, 3 routes, 1 plan' from a rows-per-table dict."""
    return ", ".join(f"{number(counts.get(n, 0))} {n if counts.get(n, 0) != 1 else n[:-1]}" for n in names)
