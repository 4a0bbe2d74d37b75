"""Compare: two or more rides side by side — overlaid streams, A − B, both tracks on one map, differences, climbs.

Shareable: the URL carries the rides as ?a=ID&b=ID (c, d, … for more)."""

import streamlit as st
from streamlit_folium import st_folium

import ui
from core.athletes import privacy_zones
from core.rides import compare
from core.rides.find import find_rides
from core.views import bandcharts, ridecharts
from core.views.mapview import comparison_map
from core.views.text import md, plain

LETTERS = "abcdef"
COLOURS = ("#E4572E", "#3A86FF", "#2A9D8F", "#8338EC", "#F4A259", "#6C757D")  # as core.views.mapview.LINE_COLORS

st.title("Compare rides")
cur = ui.cursor()
athlete = ui.athlete_id()
units = ui.units()

url_ids = compare.parse_ride_ids([st.query_params.get(k) for k in LETTERS if st.query_params.get(k)])
if len(url_ids) > len(LETTERS):  # e.g. ?a=1,2,3,4,5,6,7: explained and cut, never a broken page
    st.warning(f"Compare shows at most {len(LETTERS)} rides at once: the address names {len(url_ids)}, so the "
               f"first {len(LETTERS)} are compared (left out: {', '.join(f'#{i}' for i in url_ids[len(LETTERS):])}).")
    url_ids = url_ids[:len(LETTERS)]
if "compare_rides" not in st.session_state:
    st.session_state["compare_rides"] = url_ids

# ---------------------------------------------------------------------------------------------- picking rides
query = st.text_input("Find rides", key="compare_query", max_chars=200,
                      placeholder="a date (2025-03-14, 2025-03), words of a name, or #id — every ride is searched")
found = []
with ui.friendly_errors("searching rides"):
    found = find_rides(cur, athlete, query)
options = compare.ride_labels(cur, athlete, st.session_state["compare_rides"])
options.update({r["id"]: compare.RideData(r["id"], r["name"] or "Ride", r["started_at"], {}, {}).label
                for r in found})
st.session_state["compare_rides"] = [i for i in st.session_state["compare_rides"] if i in options][:len(LETTERS)]
selected = st.multiselect(f"Rides to compare (up to {len(LETTERS)}): the first is A, the second B", list(options),
                          format_func=lambda i: plain(options[i]), key="compare_rides", max_selections=len(LETTERS),
                          placeholder="Pick two or more rides")

wanted = {LETTERS[i]: str(ride_id) for i, ride_id in enumerate(selected)}
if {k: st.query_params.get(k) for k in LETTERS if st.query_params.get(k)} != wanted:
    for k in LETTERS:
        if k in st.query_params and k not in wanted:
            del st.query_params[k]
    st.query_params.update(wanted)

if len(selected) < 2:
    st.info("Pick two rides (or more) to compare them. The page's address then shares this comparison.")
    st.stop()


@st.cache_resource(show_spinner="Aligning the rides…", max_entries=16)
def streams_view(db_path: str, athlete_id: int, ids: tuple, by: str, window: float, channels: tuple, version: int):
    """The comparison, its thinned streams and their chart, built once per choice and data version (a rerun that
    changes nothing else redraws from here); cached as resources because pages only read them."""
    comparison = compare.compare_rides(ui.cursor(), athlete_id, list(ids), by=by, smoothing=window)
    shown = ridecharts.comparison_shown(comparison.aligned, list(channels or compare.CHANNELS))
    chart = bandcharts.comparison_chart(shown, list(channels), ride_names(comparison), COLOURS)
    return comparison, shown, chart


@st.cache_resource(show_spinner=False, max_entries=32)
def difference_view(key: tuple, channel: str):
    return bandcharts.difference_chart(streams_view(*key)[1], channel)


# ---------------------------------------------------------------------------------------------- controls, charts
@st.fragment
def streams_section(selected: list[int]):
    """Alignment, smoothing, streams and their charts: these choices rerun this part alone, not the map and the
    tables below (the same for every alignment). Returns the comparison (None when it failed)."""
    with ui.friendly_errors("comparing the rides"):  # a fragment's own rerun runs outside the page's guard
        return streams_charts(selected)


def streams_charts(selected: list[int]):
    c1, c2, c3 = st.columns([1, 1, 2])
    axis = c1.radio("Align by", compare.AXES, index=1, key="compare_axis", horizontal=True,
                    format_func=lambda a: "Elapsed time" if a == "time" else "Distance")
    window_max, window_default, unit = (120, 10, "s") if axis == "time" else (1000, 100, "m")
    smoothing = c2.slider(f"Smoothing ({unit})", 0, window_max, window_default, key=f"compare_smoothing_{axis}")
    channels = c3.multiselect("Streams", compare.CHANNELS, default=["power", "hr", "speed", "ele"],
                              format_func=compare.CHANNEL_LABELS.get, key="compare_channels")
    key = (str(ui.database().path), athlete, tuple(selected), axis, float(smoothing), tuple(channels),
           ui.current_data_version())
    comparison = None
    with ui.friendly_errors("comparing the rides"):
        comparison, _, chart = streams_view(*key)
    if comparison is None:
        return None
    st.subheader("Streams")
    if channels:
        ui.kept_chart(chart, "compare_streams_chart")
        st.caption("Drag or scroll in the chart to pan and zoom every stream; double-click to reset.")
    else:
        st.caption("Choose at least one stream to draw.")
    difference_chart(key)
    return comparison


def ride_names(comparison) -> list[str]:
    return [f"{LETTERS[i].upper()}: {r.label}" for i, r in enumerate(comparison.rides)]


@st.fragment
def difference_chart(key: tuple) -> None:
    """A − B of one stream; choosing the stream reruns this chart alone, not the map and tables."""
    st.subheader("Difference A − B")
    channels, axis = key[5], key[3]
    delta_options = list(channels or compare.CHANNELS) + (["t_s"] if axis == "distance" else [])
    delta_channel = st.selectbox("Stream", delta_options, key="compare_delta_channel",
                                 format_func=lambda c: "Time gap (s): B behind A when negative"
                                 if c == "t_s" else compare.CHANNEL_LABELS[c])
    ui.kept_chart(difference_view(key, delta_channel), "compare_delta_chart")


comparison = streams_section(selected)
if comparison is None:
    st.stop()
names = ride_names(comparison)

# ---------------------------------------------------------------------------------------------- map
st.subheader("Tracks")
with ui.friendly_errors("drawing the map"):
    track_map = comparison_map(comparison, privacy_zones(ui.cursor(), ui.athlete_id()))  # zones left out
    if track_map is None:
        st.info("None of these rides has GPS positions (indoor rides), so there is no map.")
    else:
        st.caption(" · ".join(f"{md(name)} in {'orange' if i == 0 else 'blue' if i == 1 else 'another colour'}"
                              for i, name in enumerate(names)))
        st_folium(track_map, height=460, use_container_width=True, returned_objects=[], key="compare_map")

# ---------------------------------------------------------------------------------------------- tables
st.subheader("Differences")
table = ridecharts.differences_frame(comparison.differences,
                                    [LETTERS[i].upper() for i in range(len(comparison.rides))], units)
st.caption(" · ".join(md(name) for name in names))
st.dataframe(table, hide_index=True, placeholder="—", width="stretch", key="compare_differences")

st.subheader("Shared climbs")
climbs = comparison.climbs
if climbs.empty:
    st.info("These rides share no climb (climbs are matched by position on the road, not by name).")
else:
    weight_note = "" if comparison.weight_kg else " Add your weight in Settings to see W/kg."
    st.caption(f"A's climbs found on B by position, and B's on A: time, power, W/kg and heart rate on each.{weight_note}")
    st.dataframe(ridecharts.shared_climbs_frame(climbs, units), hide_index=True, placeholder="—", width="stretch",
                 key="compare_climbs")
