"""Rides: upload, a filtered and paged list, tags and bulk actions, and one ride's detail."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

import ui
from core import rides
from core.importer import import_files

st.title("Rides")
cur = ui.cursor()
athlete = ui.athlete_id()

# ---------------------------------------------------------------------------------------------- upload
with st.expander("Import ride files (.fit, .gpx)", expanded=False):
    uploads = st.file_uploader("Ride files", type=["fit", "gpx"], accept_multiple_files=True, key="rides_upload")
    if st.button("Import", key="rides_import", disabled=not uploads, type="primary"):
        bar = st.progress(0.0, text="Importing…")
        with ui.friendly_errors("importing files"):
            st.session_state["rides_import_results"] = import_files(
                cur, athlete, [(f.name, f.getvalue()) for f in uploads],
                progress=lambda done, total, name: bar.progress(done / total, text=f"{done}/{total}: {name}"))
    for result in st.session_state.get("rides_import_results", []):
        if not result["ok"]:
            st.error(result["error"])
        elif result["kind"] == "route":
            st.info(f"{result['file']}: stored as planned route #{result['id']} (it has no times).")
        elif not result.get("created") or result.get("duplicate_of"):
            st.info(result["message"])
        else:
            st.success(f"{result['message']} — ride #{result['id']}")
        for warning in (result.get("warnings") or []) if result["ok"] else []:
            st.warning(warning)

# ---------------------------------------------------------------------------------------------- filters
sports = rides.sport_types(cur, athlete)
tags = rides.list_tags(cur, athlete)
with st.expander("Filters", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    sport = c1.selectbox("Sport", ["cycling", "all", *[s for s in sports if s not in rides.CYCLING_TYPES]],
                         key="rides_sport", help="'cycling' covers every cycling type (road, indoor, MTB…)")
    date_from = c2.date_input("From", value=None, key="rides_from")
    date_to = c3.date_input("To", value=None, key="rides_to")
    text = c4.text_input("Name contains", key="rides_text")
    c1, c2, c3, c4 = st.columns(4)
    min_km = c1.number_input("Min distance (km)", min_value=0.0, value=None, key="rides_min_km")
    max_km = c1.number_input("Max distance (km)", min_value=0.0, value=None, key="rides_max_km")
    min_min = c2.number_input("Min duration (min)", min_value=0.0, value=None, key="rides_min_min")
    max_min = c2.number_input("Max duration (min)", min_value=0.0, value=None, key="rides_max_min")
    min_w = c3.number_input("Min avg power (W)", min_value=0.0, value=None, key="rides_min_w")
    max_w = c3.number_input("Max avg power (W)", min_value=0.0, value=None, key="rides_max_w")
    min_hr = c4.number_input("Min avg HR", min_value=0.0, value=None, key="rides_min_hr")
    max_hr = c4.number_input("Max avg HR", min_value=0.0, value=None, key="rides_max_hr")
    c1, c2, c3, c4 = st.columns(4)
    tag = c1.selectbox("Tag", ["(any)", *tags], key="rides_tag")
    sort_labels = {"started_at": "Date", "distance_m": "Distance", "moving_time_s": "Moving time",
                   "tss": "TSS", "normalized_power_w": "NP", "avg_power_w": "Avg power", "avg_hr": "Avg HR",
                   "elevation_gain_m": "Elevation gain", "name": "Name", "sport_type": "Sport"}
    sort = c2.selectbox("Sort by", list(sort_labels), format_func=sort_labels.get, key="rides_sort")
    descending = c3.toggle("Descending", value=True, key="rides_desc")
    page_size = c4.selectbox("Rides per page", [25, 50, 100], key="rides_page_size")

filters = rides.RideFilter(
    sport=sport, date_from=date_from, date_to=date_to, text=text or None, min_distance_km=min_km,
    max_distance_km=max_km, min_duration_min=min_min, max_duration_min=max_min, min_power_w=min_w,
    max_power_w=max_w, min_hr=min_hr, max_hr=max_hr, tag=None if tag == "(any)" else tag)


@st.cache_data(show_spinner=False, max_entries=32)
def load_page(athlete_id: int, version: int, flt: dict, sort_by: str, desc: bool, page: int, size: int):
    return rides.search_rides(ui.cursor(), athlete_id, rides.RideFilter(**flt), sort=sort_by, page=page,
                              page_size=size, descending=desc)


rows, total = [], 0
page = int(st.session_state.get("rides_page", 1))
with ui.friendly_errors("searching rides"):
    rows, total = load_page(athlete, ui.current_data_version(), vars(filters), sort, descending, page, page_size)
    pages = max(1, -(-total // page_size))
    if page > pages:
        st.session_state["rides_page"] = page = 1
        rows, total = load_page(athlete, ui.current_data_version(), vars(filters), sort, descending, 1, page_size)

# ---------------------------------------------------------------------------------------------- list
st.caption(f"{total} rides match")
if rows:
    table = pd.DataFrame([{
        "id": r["id"], "Date": r["started_at"], "Name": r["name"], "Sport": r["sport_type"],
        "km": None if r["distance_m"] is None else round(r["distance_m"] / 1000, 1),
        "Moving": None if r["moving_time_s"] is None else f"{int(r['moving_time_s'] // 3600)}:"
                                                         f"{int(r['moving_time_s'] % 3600 // 60):02d}",
        "Avg W": r["avg_power_w"], "NP": r["normalized_power_w"], "Avg HR": r["avg_hr"], "TSS": r["tss"],
        "Load": r["load_method"], "Tags": ", ".join(r["tags"])} for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", key="rides_table",
                 column_config={"Date": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                                "Avg W": st.column_config.NumberColumn(format="%.0f"),
                                "NP": st.column_config.NumberColumn(format="%.0f"),
                                "Avg HR": st.column_config.NumberColumn(format="%.0f"),
                                "TSS": st.column_config.NumberColumn(format="%.0f")})
pages = max(1, -(-total // page_size))
c1, c2 = st.columns([1, 3])
c1.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="rides_page")

# ---------------------------------------------------------------------------------------------- bulk actions
labels = {r["id"]: f"#{r['id']} {r['started_at']:%Y-%m-%d} {r['name']}" if r["started_at"] else f"#{r['id']}"
          for r in rows}
st.subheader("Selected rides")
if st.checkbox("Select every ride on this page", key="rides_select_all"):
    selected = list(labels)
    st.caption(f"{len(selected)} rides selected")
else:
    selected = st.multiselect("Rides", list(labels), format_func=labels.get, key="rides_selected")
c1, c2, c3, c4 = st.columns(4)
new_tag = c1.text_input("Tag", key="rides_new_tag", placeholder="e.g. race")
if c1.button("Add tag", key="rides_add_tag", disabled=not selected):
    with ui.friendly_errors("tagging rides"):
        added = rides.add_tag(cur, athlete, selected, new_tag)
        st.toast(f"Tagged {added} ride(s) '{new_tag.strip()}'")
        st.rerun()
old_tag = c2.selectbox("Remove tag", tags, key="rides_old_tag", index=None)
if c2.button("Remove tag", key="rides_remove_tag", disabled=not selected or not old_tag):
    with ui.friendly_errors("removing a tag"):
        removed = rides.remove_tag(cur, athlete, selected, old_tag)
        st.toast(f"Removed '{old_tag}' from {removed} ride(s)")
        st.rerun()
if c3.button("Recompute metrics", key="rides_recompute", disabled=not selected,
             help="Recompute NP, TSS, zones… from the stored samples with the FTP in force on each ride's date"):
    with ui.friendly_errors("recomputing metrics"):
        done = rides.recompute_metrics(cur, athlete, selected)
        st.toast(f"Recomputed {done} ride(s)")
        st.rerun()
if c4.button("Delete…", key="rides_delete", disabled=not selected):
    st.session_state["rides_pending_delete"] = list(selected)
pending = st.session_state.get("rides_pending_delete")
if pending:
    st.warning(f"Delete {len(pending)} ride(s) with their samples, tags and recorded routes? This cannot be undone.")
    d1, d2 = st.columns(2)
    if d1.button(f"Yes, delete {len(pending)} ride(s)", key="rides_confirm_delete", type="primary"):
        with ui.friendly_errors("deleting rides"):
            deleted = rides.delete_rides(cur, athlete, pending)
            st.session_state.pop("rides_pending_delete", None)
            st.session_state.pop("rides_selected", None)
            st.toast(f"Deleted {deleted} ride(s)")
            st.rerun()
    if d2.button("Cancel", key="rides_cancel_delete"):
        st.session_state.pop("rides_pending_delete", None)
        st.rerun()

# ---------------------------------------------------------------------------------------------- detail
if not rows:
    st.info("No rides match. Import .fit or .gpx files above, or widen the filters.")
    st.stop()

st.divider()
detail_id = st.selectbox("Ride detail", list(labels), format_func=labels.get, key="rides_detail",
                         index=list(labels).index(selected[0]) if selected and selected[0] in labels else 0)


@st.cache_data(show_spinner=False, max_entries=8)
def load_detail(athlete_id: int, ride_id: int, version: int) -> dict:
    c = ui.cursor()
    ride = rides.get_ride(c, athlete_id, ride_id)
    ride["samples"] = rides.ride_samples(c, ride_id, max_points=4000)
    ride["sections"], ride["points"] = [], None
    if ride["route_id"] is not None:
        from core.routes import route_points, route_sections

        ride["sections"] = route_sections(c, ride["route_id"])
        ride["points"] = route_points(c, ride["route_id"])
    return ride


ride = None
with ui.friendly_errors("loading the ride"):
    ride = load_detail(athlete, detail_id, ui.current_data_version())
if ride is None:
    st.stop()


def fmt(value, pattern="{:.0f}", none="–"):
    return none if value is None else pattern.format(value)


m = ride["metrics"]
st.subheader(ride["name"])
cols = st.columns(8)
cols[0].metric("Distance", fmt(ride["distance_m"] and ride["distance_m"] / 1000, "{:.1f} km", "indoor"))
cols[1].metric("Moving", fmt(ride["moving_time_s"] and ride["moving_time_s"] / 60, "{:.0f} min"))
cols[2].metric("Avg / NP", f"{fmt(ride['avg_power_w'])} / {fmt(ride['normalized_power_w'])} W")
cols[3].metric("IF", fmt(ride["intensity_factor"], "{:.2f}"))
cols[4].metric("TSS", fmt(ride["tss"]), help="From power" if ride["load_method"] == "power" else
               "hrTSS: from heart rate against LTHR (no power)" if ride["load_method"] == "hr" else "No load")
cols[5].metric("Avg HR", fmt(ride["avg_hr"]))
cols[6].metric("VI / EF", f"{fmt(m.get('vi'), '{:.2f}')} / {fmt(m.get('ef'), '{:.2f}')}")
cols[7].metric("Pw:HR drift", fmt(m.get("decoupling_pct"), "{:.1f} %"))
for flag in m.get("flags", []):
    st.caption(f"⚠️ {flag}")
if ride["tags"]:
    st.caption("Tags: " + ", ".join(ride["tags"]))

samples: pd.DataFrame = ride["samples"]
if ride["points"] is not None and len(ride["points"]["lat"]):
    from streamlit_folium import st_folium

    from core.mapview import route_map

    with ui.friendly_errors("drawing the map"):
        st_folium(route_map(ride["points"], ride["sections"], name=ride["name"]), height=380,
                  returned_objects=[], key=f"rides_map_{detail_id}")
elif not samples.empty:
    st.caption("No GPS in this ride (indoor): no map.")

if samples.empty:
    st.info("This ride has a summary only (no samples): no charts.")
else:
    axis = st.radio("Charts against", ["time", "distance"], horizontal=True, key="rides_axis",
                    disabled=bool(samples["dist_m"].isna().all()))
    x = samples["t_s"] / 60 if axis == "time" or samples["dist_m"].isna().all() else samples["dist_m"] / 1000
    x_title = "minutes" if axis == "time" or samples["dist_m"].isna().all() else "km"
    streams = [("power", "Power (W)", "#E4572E"), ("hr", "Heart rate (bpm)", "#B3001B"),
               ("cadence", "Cadence (rpm)", "#8338EC"), ("speed", "Speed (km/h)", "#3A86FF"),
               ("ele", "Elevation (m)", "#2A9D8F")]
    for column, title, colour in streams:
        y = samples[column] * (3.6 if column == "speed" else 1)
        if y.notna().sum() < 2:
            continue
        fig = go.Figure(go.Scattergl(x=x, y=y, mode="lines", line={"color": colour, "width": 1}, name=title))
        fig.update_layout(height=180, margin={"l": 10, "r": 10, "t": 28, "b": 10}, title=title,
                          xaxis_title=x_title, showlegend=False)
        st.plotly_chart(fig, width="stretch", key=f"rides_chart_{column}")

c1, c2 = st.columns(2)
zones_p = m.get("zones_power_s") or []
if any(zones_p):
    fig = px.bar(x=[f"Z{i}" for i in range(1, 8)], y=[s / 60 for s in zones_p],
                 labels={"x": "Coggan power zone", "y": "minutes"}, title="Time in power zones")
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    c1.plotly_chart(fig, width="stretch", key="rides_zones_power")
zones_h = m.get("zones_hr_s") or []
if any(zones_h):
    fig = px.bar(x=[f"Z{i}" for i in range(1, 6)], y=[s / 60 for s in zones_h],
                 labels={"x": "HR zone", "y": "minutes"}, title="Time in heart-rate zones")
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    c2.plotly_chart(fig, width="stretch", key="rides_zones_hr")
curve = m.get("power_curve") or {}
if curve:
    seconds = sorted(int(k) for k in curve)
    fig = px.line(x=seconds, y=[curve[str(s)] for s in seconds], markers=True, log_x=True,
                  labels={"x": "duration (s)", "y": "best mean power (W)"}, title="Power curve")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(fig, width="stretch", key="rides_power_curve")

if ride["laps"]:
    st.markdown("**Laps**")
    st.dataframe(pd.DataFrame(ride["laps"]), hide_index=True, width="stretch", key="rides_laps")
climbs = [s for s in ride["sections"] if s["kind"] == "climb"]
if climbs:
    st.markdown("**Climbs**")
    st.dataframe(pd.DataFrame([{
        "from km": round(s["start_m"] / 1000, 2), "length km": round(s["distance_m"] / 1000, 2),
        "gain m": s["elevation_gain_m"], "avg %": s["avg_grade_pct"], "max %": s["max_grade_pct"],
        "category": s["category"]} for s in climbs]), hide_index=True, width="stretch", key="rides_climbs")
source = f"Source: {ride['source']} {ride['source_file'] or ''} · {ride['sample_count']:,} samples"
if ride["linked"]:
    source += " · also received as: " + ", ".join(str(link["source_file"] or link["external_id"])
                                                  for link in ride["linked"])
st.caption(source)
