"""Folium maps that work offline: Leaflet comes from the app (/app/static/leaflet), nothing from a CDN.

How streamlit-folium 0.27.4 loads its JavaScript (read in site-packages/streamlit_folium/__init__.py and its
frontend bundle): ``st_folium`` renders in a component iframe whose bundle has no Leaflet of its own; it
collects ``default_js``/``default_css`` from every folium element (folium.Map's defaults are Leaflet, jQuery,
Bootstrap and awesome-markers from jsdelivr/cdnjs/code.jquery.com) and loads them one by one with <script>
tags, awaiting each ``onload`` — so offline the first CDN script never loads and no map is drawn. Here the map's
``default_js``/``default_css`` are replaced by Leaflet 1.9.4 served by Streamlit's static file serving
(``server.enableStaticServing``; files in ./static, from the PyPI package django-js-lib-leaflet 1.9.4.1), and
only elements that need no further JS/CSS are used (PolyLine, CircleMarker, Tooltip). Every tooltip's text is
escaped for folium's JavaScript template literal and Leaflet's HTML (``_tooltip``, core.views.text.map_text). Tiles come from
OpenStreetMap when online; without them the lines still draw on the map's plain background.

Lines are simplified before they reach the browser (Douglas–Peucker from the ``simplification`` package, on
local metric coordinates) to at most ``max_points`` per line; the maximum deviation from the recorded line is
the final tolerance, reported in ``SimplifiedLine.max_deviation_m``.

A chosen section is not part of the map: ``st_folium`` keys its component on a hash of the map's script, so any
change to the map (a thicker line, new bounds) makes the browser load and draw a new Leaflet map, losing the rider's
zoom. ``highlight_layer`` is a FeatureGroup passed as ``feature_group_to_add``, which the component swaps on the map
it already has (streamlit-folium 0.27.4's frontend: the previous groups removed, the new one evaluated). The Ride
page goes further: one empty map for every ride, the ride's track a layer (``route_layer``) the map moves to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import folium
import numpy as np
from folium.template import Template
from simplification.cutil import simplify_coords_idx

from core.views.text import map_text

LEAFLET_JS = "/app/static/leaflet/leaflet.js"
LEAFLET_CSS = "/app/static/leaflet/leaflet.css"
MAX_POINTS_PER_LINE = 2000
TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'

KIND_COLORS = {"flat": "#2A9D8F", "descent": "#3A86FF"}
# Climbs by average grade: (lowest grade %, colour)
CLIMB_COLORS = ((11.0, "#6A040F"), (8.0, "#B3001B"), (5.0, "#E4572E"), (0.0, "#F4A259"))
LINE_COLORS = ("#E4572E", "#3A86FF", "#2A9D8F", "#8338EC")  # distinct colours for several lines


def section_color(kind: str, avg_grade_pct: float | None = None) -> str:
    """Colour of a section: flats teal, descents blue, climbs from orange to dark red as they steepen."""
    if kind == "climb":
        grade = avg_grade_pct or 0.0
        for lowest, color in CLIMB_COLORS:
            if grade >= lowest:
                return color
    return KIND_COLORS.get(kind, "#6C757D")


@dataclass
class MapLine:
    """One track to draw. ``dist_m`` (cumulative, same length) lets sections be cut out of it."""

    lat: np.ndarray
    lon: np.ndarray
    color: str = LINE_COLORS[0]
    name: str = ""
    dist_m: np.ndarray | None = None
    weight: int = 4
    hidden: np.ndarray | None = None  # points inside a privacy zone: left out, the line broken around them


@dataclass(frozen=True)
class MapSection:
    """A stretch of the first line, by distance, drawn in its own colour with a tooltip."""

    start_m: float
    end_m: float
    color: str
    tooltip: str = ""
    kind: str = "flat"


@dataclass(frozen=True)
class MapMarker:
    lat: float
    lon: float
    tooltip: str
    color: str = "#1F2933"
    radius: int = 6


@dataclass
class SimplifiedLine:
    index: np.ndarray          # indices into the original arrays that were kept
    max_deviation_m: float     # Douglas–Peucker tolerance: no original point is farther from the line
    original_points: int
    kept: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        return len(self.index)


def _local_metres(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lat0 = math.radians(float(np.nanmean(lat)))
    return np.column_stack([np.asarray(lon) * 111_320.0 * math.cos(lat0), np.asarray(lat) * 110_540.0])


def simplify_line(lat, lon, max_points: int = MAX_POINTS_PER_LINE, start_tolerance_m: float = 1.0) -> SimplifiedLine:
    """Douglas–Peucker with the smallest tolerance (doubling from ``start_tolerance_m``) that keeps at most
    ``max_points`` points. First and last points are always kept."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(ok) <= max_points:
        return SimplifiedLine(ok, 0.0, len(lat))
    coords = np.ascontiguousarray(_local_metres(lat[ok], lon[ok]))
    tolerance = start_tolerance_m
    while True:
        kept = np.asarray(simplify_coords_idx(coords, tolerance), dtype=np.int64)
        if len(kept) <= max_points:
            return SimplifiedLine(ok[kept], tolerance, len(lat))
        tolerance *= 2.0


def _runs(index: np.ndarray, hidden: np.ndarray | None) -> list[np.ndarray]:
    """``index`` (kept points, ascending) cut wherever a hidden point lies between two neighbours."""
    if hidden is None or not hidden.any() or len(index) < 2:
        return [index]
    before = np.concatenate([[0], np.cumsum(hidden)])  # before[i]: hidden points among the first i
    gap = before[index[1:]] - before[index[:-1] + 1] > 0
    return [run for run in np.split(index, np.flatnonzero(gap) + 1) if len(run) >= 2]


def _locations(lat: np.ndarray, lon: np.ndarray) -> list[list[float]]:
    return np.round(np.column_stack([lat, lon]), 5).tolist()


def _tooltip(text: str | None) -> folium.Tooltip | None:
    """Every map string goes through here: folium puts tooltip text raw into a JavaScript template literal that
    Leaflet then shows as HTML (core.views.text.map_text)."""
    return folium.Tooltip(map_text(text, 400)) if text else None


def offline_map(**kwargs) -> folium.Map:
    """A folium.Map that loads Leaflet from the app only (no jQuery, Bootstrap or awesome-markers)."""
    m = folium.Map(tiles=None, control_scale=True, **kwargs)
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    folium.TileLayer(TILES_URL, attr=TILES_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(m)
    return m


def _shown(line: MapLine) -> tuple[np.ndarray, np.ndarray]:
    """The line's positions with those inside a privacy zone blanked (NaN): what is simplified and drawn."""
    lat, lon = np.asarray(line.lat, dtype=np.float64), np.asarray(line.lon, dtype=np.float64)
    if line.hidden is not None and line.hidden.any():
        lat, lon = np.where(line.hidden, np.nan, lat), np.where(line.hidden, np.nan, lon)
    return lat, lon


def build_map(lines: list[MapLine], sections: list[MapSection] | None = None,
              markers: list[MapMarker] | None = None, *, max_points: int = MAX_POINTS_PER_LINE) -> folium.Map:
    """A map of one or more lines (each simplified to ≤ ``max_points``), with optional coloured sections of
    the first line and markers, fitted to every line. A chosen section is drawn by ``highlight_layer`` on top.

    ``m.velocoach_simplification`` lists a SimplifiedLine per line (points kept, maximum deviation)."""
    m = offline_map()
    simplified, bounds = _draw(m, lines, sections, markers, max_points)
    if bounds:
        m.fit_bounds(bounds)
    m.velocoach_simplification = simplified
    return m


def _draw(parent, lines: list[MapLine], sections: list[MapSection] | None, markers: list[MapMarker] | None,
          max_points: int) -> tuple[list[SimplifiedLine], list[list[float]] | None]:
    """The lines, sections and markers drawn on ``parent`` (a map or a layer); each line's simplification and the
    bounds of everything drawn (None when nothing is)."""
    simplified: list[SimplifiedLine] = []
    bounds: list[list[float]] = []
    for i, line in enumerate(lines):
        lat, lon = _shown(line)
        simple = simplify_line(lat, lon, max_points)
        simplified.append(simple)
        runs = _runs(simple.index, line.hidden)
        if simple.points < 2 or not runs:
            continue
        la, lo = lat[simple.index], lon[simple.index]
        bounds += [[float(la.min()), float(lo.min())], [float(la.max()), float(lo.max())]]
        tooltip = f"{line.name} ({simple.points} of {simple.original_points} points, ≤ {simple.max_deviation_m:g} m " \
                  "from the recorded line)" if line.name else None
        show_base = not (i == 0 and sections)
        where = _locations(la, lo) if len(runs) == 1 else [_locations(lat[r], lon[r]) for r in runs]
        folium.PolyLine(where, color=line.color if show_base else "#1F2933",
                        weight=line.weight if show_base else line.weight + 3, opacity=0.9 if show_base else 0.35,
                        tooltip=_tooltip(tooltip)).add_to(parent)
    if sections and lines and simplified:
        for section in sections:
            where = _section_locations(lines[0], simplified[0], section)
            if where is not None:
                folium.PolyLine(where, color=section.color, weight=5, opacity=1.0,
                                tooltip=_tooltip(section.tooltip)).add_to(parent)
    for marker in markers or []:
        folium.CircleMarker([marker.lat, marker.lon], radius=marker.radius, color=marker.color, fill=True,
                            fill_color="#FFFFFF", fill_opacity=1.0, weight=3, tooltip=_tooltip(marker.tooltip)
                            ).add_to(parent)
    if not bounds:
        return simplified, None
    arr = np.asarray(bounds)
    return simplified, [[float(arr[:, 0].min()), float(arr[:, 1].min())], [float(arr[:, 0].max()), float(arr[:, 1].max())]]


def _section_locations(line: MapLine, simple: SimplifiedLine, section: MapSection):
    """A section of ``line`` as drawn on the map: its simplified points (a list of runs when broken around privacy
    gaps); None when nothing of it is drawn."""
    if line.dist_m is None or simple.points < 2:
        return None
    lat, lon = np.asarray(line.lat, dtype=np.float64), np.asarray(line.lon, dtype=np.float64)
    dist = np.asarray(line.dist_m, dtype=np.float64)
    pieces = [_cut(lat[r], lon[r], dist[r], section.start_m, section.end_m) for r in _runs(simple.index, line.hidden)]
    pieces = [p for p in pieces if len(p[0]) >= 2]
    if not pieces:
        return None
    return _locations(*pieces[0]) if len(pieces) == 1 else [_locations(p[0], p[1]) for p in pieces]


class BringIntoView(folium.MacroElement):
    """Moves the map to its parent layer (a feature group on the map) only when that layer is not wholly in view
    already: choosing a section shows it without throwing away the rider's own zoom and pan. ``always``: fitted
    to the layer whatever is in view (a new ride's track on a kept map)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (layer, map) {
            var bounds = layer.getBounds();
            if (bounds.isValid() && ({{ this.always|tojson }} || !map.getBounds().contains(bounds))) {
                map.fitBounds(bounds, {{ this.options|tojson }});
            }
        })({{ this._parent.get_name() }}, {{ this._parent._parent.get_name() }});
        {% endmacro %}
        """)

    def __init__(self, max_zoom: int = 16, *, always: bool = False):
        super().__init__()
        self._name = "BringIntoView"
        self.options = {"padding": [24, 24], "maxZoom": max_zoom}
        self.always = bool(always)


def _cut(lat, lon, dist, start_m, end_m) -> tuple[np.ndarray, np.ndarray]:
    """The part of a line between two distances, with interpolated end points so sections join (none when the
    section lies outside the line: a piece between two privacy gaps)."""
    if len(dist) < 2 or end_m <= dist[0] or start_m >= dist[-1]:
        return np.empty(0), np.empty(0)
    start_m, end_m = max(start_m, float(dist[0])), min(end_m, float(dist[-1]))
    inside = (dist > start_m) & (dist < end_m)
    a_lat, a_lon = np.interp(start_m, dist, lat), np.interp(start_m, dist, lon)
    b_lat, b_lon = np.interp(end_m, dist, lat), np.interp(end_m, dist, lon)
    return (np.concatenate([[a_lat], lat[inside], [b_lat]]), np.concatenate([[a_lon], lon[inside], [b_lon]]))


def point_at(lat, lon, dist, distance_m: float) -> tuple[float, float]:
    """Position at a distance along a line (for climb start/summit markers)."""
    return float(np.interp(distance_m, dist, lat)), float(np.interp(distance_m, dist, lon))


def section_tooltip(section: dict) -> str:
    """One line describing a section: kind, length, grade, category."""
    km = section["distance_m"] / 1000
    text = f"{section['kind'].capitalize()} {km:.1f} km"
    if section.get("avg_grade_pct") is not None:
        text += f" at {section['avg_grade_pct']:.1f} %"
    if section.get("max_grade_pct") is not None and section["kind"] != "flat":
        text += f" (max {section['max_grade_pct']:.1f} %)"
    if section.get("category"):
        text += f", {'HC' if section['category'] == 'HC' else 'Cat ' + section['category']}"
    return text


def _route_line(points: dict, zones: list | None, name: str = "") -> MapLine:
    from core.athletes import private_points

    lat, lon = points["lat"], points["lon"]
    hidden = private_points(lat, lon, zones) if zones else None
    return MapLine(lat, lon, LINE_COLORS[0], name, points["dist_m"], hidden=hidden)


def _map_section(section: dict) -> MapSection:
    return MapSection(section["start_m"], section["end_m"], section_color(section["kind"], section.get("avg_grade_pct")),
                      section_tooltip(section), section["kind"])


def _climb_markers(points: dict, sections: list[dict], zones: list | None) -> list[MapMarker]:
    """Start and summit markers of every climb, none inside a privacy zone."""
    from core.athletes import private_points

    lat, lon, dist = points["lat"], points["lon"], points["dist_m"]
    markers = []
    for s in sections:
        if s["kind"] == "climb":
            label = section_tooltip(s)
            markers.append(MapMarker(*point_at(lat, lon, dist, s["start_m"]), f"Start: {label}", "#2A9D8F", 5))
            top = s.get("details", {}).get("top_ele_m")
            summit = f"Summit{f' {top:.0f} m' if top is not None else ''}: {label}"
            markers.append(MapMarker(*point_at(lat, lon, dist, s["end_m"]), summit, "#B3001B", 6))
    if zones:
        markers = [mk for mk in markers if not private_points([mk.lat], [mk.lon], zones)[0]]
    return markers


def route_map(points: dict, sections: list[dict], *, name: str = "", max_points: int = MAX_POINTS_PER_LINE,
              zones: list | None = None) -> folium.Map:
    """The Routes page map: the route's points (``core.routes.store.route_points``) with its stored sections
    coloured by kind and grade, and start/summit markers on every climb. ``zones`` (a ride's map: the athlete's
    privacy zones, core.athletes) leave out every point and marker inside them. The same route gives the same
    map whatever section is chosen: ``highlight_layer`` draws that one over it."""
    return build_map([_route_line(points, zones, name)], [_map_section(s) for s in sections],
                     _climb_markers(points, sections, zones), max_points=max_points)


def route_layer(points: dict, sections: list[dict], *, name: str = "", max_points: int = MAX_POINTS_PER_LINE,
                zones: list | None = None) -> folium.FeatureGroup:
    """``route_map``'s lines, sections and markers as a layer over a kept empty map (``offline_map``), the map
    moved to it when it is drawn: the Ride page keeps one Leaflet map and swaps the track when the rider picks
    another ride, where a new map per ride made the browser load and start Leaflet again (issue 17).
    ``layer.velocoach_simplification`` as on ``build_map``'s map."""
    layer = folium.FeatureGroup(name="Ride", control=False)
    simplified, bounds = _draw(layer, [_route_line(points, zones, name)], [_map_section(s) for s in sections],
                               _climb_markers(points, sections, zones), max_points)
    if bounds:
        BringIntoView(always=True).add_to(layer)
    layer.velocoach_simplification = simplified
    return layer


def highlight_layer(points: dict, sections: list[dict], highlight: int | None, *,
                    max_points: int = MAX_POINTS_PER_LINE, zones: list | None = None) -> folium.FeatureGroup | None:
    """The chosen section of ``route_map``'s map as a layer to draw over it: a dark casing under the section's own
    colour, thicker, on the same simplified points, brought into view when it is not in view already. Sent apart
    from the map (st_folium's ``feature_group_to_add``), so choosing a section neither rebuilds nor redraws the
    map. None for no choice, an index out of range or a section with nothing drawn (inside a privacy zone)."""
    if highlight is None or not 0 <= highlight < len(sections):
        return None
    line = _route_line(points, zones)
    section = _map_section(sections[highlight])
    drawn = _section_locations(line, simplify_line(*_shown(line), max_points), section)
    if drawn is None:
        return None
    layer = folium.FeatureGroup(name="Highlighted section", control=False)
    folium.PolyLine(drawn, color="#111111", weight=11, opacity=0.8).add_to(layer)
    folium.PolyLine(drawn, color=section.color, weight=7, opacity=1.0, tooltip=_tooltip(section.tooltip)
                    ).add_to(layer)
    BringIntoView().add_to(layer)
    return layer


def map_html_size(m: folium.Map) -> int:
    """Bytes of the map's HTML payload (what reaches the browser on each rerun)."""
    return len(m.get_root().render().encode("utf-8"))


# ------------------------------------------------------------------------------------------- profile

# Grade bands for the profile line: (upper bound %, colour, label)
GRADE_BANDS = ((-6.0, "#1D4ED8", "< −6 %"), (-3.0, "#3A86FF", "−6…−3 %"), (3.0, "#2A9D8F", "−3…3 %"),
               (6.0, "#F4A259", "3…6 %"), (9.0, "#E4572E", "6…9 %"), (12.0, "#B3001B", "9…12 %"),
               (float("inf"), "#6A040F", "> 12 %"))


def profile_figure(points: dict, sections: list[dict], highlight: int | None = None, *, max_points: int = 1500):
    """Plotly elevation profile: the line coloured by grade (per 100 m), sections shaded by kind, the chosen
    section outlined. ``points`` as from ``core.routes.store.route_points``. Without elevation: a note, no line."""
    return highlighted_profile(profile_base(points, max_points=max_points), sections, highlight)


def profile_base(points: dict, *, max_points: int = 1500) -> dict:
    """The profile without its section bands, as plain figure data: what stays the same whichever section is
    chosen, so a page can keep it per route and add the bands (``highlighted_profile``) on each choice."""
    import plotly.graph_objects as go

    from core.routes.sections import smooth_profile

    fig = go.Figure()
    dist = np.asarray(points["dist_m"], dtype=np.float64)
    grid, elev = smooth_profile(dist, points["ele"])
    if len(grid) >= 2:
        step = max(1, int(math.ceil(len(grid) / max_points)))
        x, y = grid[::step], elev[::step]
        if x[-1] != grid[-1]:
            x, y = np.append(x, grid[-1]), np.append(y, elev[-1])
        dx = np.diff(x)
        grade = np.divide(np.diff(y), dx, out=np.zeros_like(dx), where=dx > 0) * 100.0
        band = np.searchsorted([b[0] for b in GRADE_BANDS], grade, side="left")
        km = x / 1000.0
        fig.add_trace(go.Scatter(x=km, y=y, mode="lines", line={"width": 0}, fill="tozeroy",
                                 fillcolor="rgba(31,41,51,0.08)", hoverinfo="skip", showlegend=False))
        for b, (_, color, label) in enumerate(GRADE_BANDS):
            seg = band == b
            if not seg.any():
                continue
            mask = np.zeros(len(x), dtype=bool)
            mask[:-1] |= seg
            mask[1:] |= seg
            ys = np.where(mask, y, np.nan)
            # break the line where a run of this band ends so separate runs are not joined
            breaks = np.flatnonzero(~mask)
            ys[breaks] = np.nan
            fig.add_trace(go.Scatter(x=km, y=ys, mode="lines", line={"color": color, "width": 3}, name=label,
                                     connectgaps=False, hovertemplate="%{x:.2f} km · %{y:.0f} m<extra>" + label +
                                     "</extra>"))
        low, high = float(np.min(elev)), float(np.max(elev))
        pad = max(10.0, (high - low) * 0.1)
        fig.update_yaxes(range=[low - pad, high + pad], title="elevation (m)")
    else:
        fig.add_annotation(text="This route has no elevation: sections are by distance only", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(height=300, margin={"l": 50, "r": 10, "t": 10, "b": 40}, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.25, "title": {"text": "grade"}}, plot_bgcolor="#FFFFFF")
    fig.update_xaxes(title="distance (km)", range=[dist[0] / 1000, dist[-1] / 1000] if len(dist) else None)
    return fig.to_plotly_json()


def highlighted_profile(base: dict, sections: list[dict], highlight: int | None = None):
    """``profile_base``'s figure with every section's band, the chosen one outlined and darker. The base was
    validated when it was built and the bands are plain shapes, so the figure is put together unvalidated: a
    validated copy of the whole figure costs more than drawing it anew."""
    import plotly.graph_objects as go

    # The section bands as add_vrect draws them, given as one list: add_vrect per section cost ~50 ms each.
    shapes = [{"type": "rect", "xref": "x", "yref": "y domain", "x0": s["start_m"] / 1000, "x1": s["end_m"] / 1000,
               "y0": 0, "y1": 1, "fillcolor": section_color(s["kind"], s.get("avg_grade_pct")), "layer": "below",
               "opacity": 0.35 if i == highlight else (0.12 if s["kind"] != "flat" else 0.0),
               "line": {"width": 2 if i == highlight else 0, "color": "#111111"}}
              for i, s in enumerate(sections)]
    return go.Figure(data=base["data"], layout={**base["layout"], "shapes": shapes}, _validate=False)


def comparison_map(comparison, zones: list | None = None):
    """Every compared ride's track on one offline map (core.views.mapview), in distinct colours, with the shared
    climbs' starts marked; nothing inside the athlete's privacy ``zones``. None when no ride has positions."""
    from core.athletes import private_points
    from core.rides.compare import position_at

    lines = []
    for i, ride in enumerate(comparison.rides):
        if ride.has_position:
            lines.append(MapLine(ride.samples["lat"], ride.samples["lon"], LINE_COLORS[i % len(LINE_COLORS)],
                                 f"{'ABCDEF'[i] if i < 6 else i + 1}: {ride.label}", ride.samples["dist_m"],
                                 weight=5 if i == 0 else 3,
                                 hidden=private_points(ride.samples["lat"], ride.samples["lon"], zones) if zones
                                 else None))
    if not lines:
        return None
    markers = []
    first = comparison.rides[0]
    if first.has_position and not comparison.climbs.empty:
        for row in comparison.climbs.to_dict("records"):
            lat, lon = position_at(first.samples["lat"], first.samples["lon"], first.samples["dist_m"],
                                   row["start_km_a"] * 1000)
            if not (zones and private_points([lat], [lon], zones)[0]):
                markers.append(MapMarker(lat, lon, f"Shared climb {row['climb']}: {row['length_m'] / 1000:.1f} km",
                                         "#1F2933", 5))
    return build_map(lines, markers=markers)
