"""Ride: one ride's detail — metrics, map, stream charts, zones, power curve, laps, climbs.

The ride comes from the address (?id=N, as linked from the Rides page); without one, pick it here."""

import json

import pandas as pd
import streamlit as st

import ui
from core.rides.store import RPE_WORDS, SPORT_TYPES, edit_ride
from core.views import climbview, ridecharts
from core.views.text import md, md_lines, plain

st.title("Ride")
cur = ui.cursor()
athlete = ui.athlete_id()


@st.cache_data(show_spinner=False, max_entries=8)
def load_detail(db_path: str, athlete_id: int, ride_id: int, version: int) -> dict:
    return ridecharts.load_ride_detail(ui.cursor(), athlete_id, ride_id)


@st.cache_resource(show_spinner=False, max_entries=64)
def chart(kind: str, key: tuple, option: str = "") -> dict | None:
    """The ride's charts as Vega-Lite specs carrying their rows, built once per ride, data version (an FTP change
    is a new one: W′ balance and zones follow it) and choice; cached as resources because Streamlit only reads
    them."""
    ride = load_detail(*key)
    if kind == "streams":
        return ridecharts.streams_chart(ride["samples"], option)
    if kind == "zones":
        return ridecharts.zones_chart(ride["metrics"].get(f"zones_{option}_s"), option)
    return ridecharts.power_curve_chart(ride["metrics"].get("power_curve"))


@st.cache_resource(show_spinner=False, max_entries=16)
def map_layer(key: tuple, zones_key: str, _zones: list) -> str:
    """The ride's track, sections and climb markers as a layer script, kept per ride, data version and privacy
    zones: the same script on every rerun leaves the rider's zoom and pan alone."""
    from core.views.mapview import route_layer

    ride = load_detail(*key)
    return ui.map_layer_script(route_layer(ride["points"], ride["sections"], name=ride["name"], zones=_zones))


url_id = st.query_params.get("id")
wanted = ui.address_id()
ride_id = None
with ui.friendly_errors("finding the ride"):
    if url_id and (wanted is None or not ridecharts.is_athletes_ride(cur, athlete, wanted)):
        st.warning(f"There is no ride #{md(url_id, 120)}: pick one below.")
        wanted = None
    ride_id = ui.ride_picker("Ride", "ride_pick", wanted=wanted)
if ride_id is None:
    if not st.session_state.get("ride_pick_query"):
        st.info("No rides yet. Import .fit or .gpx files on the Rides page.")
        st.page_link("app_pages/rides_page.py", label="Go to Rides", icon=":material/directions_bike:")
    st.stop()
if st.query_params.get("id") != str(ride_id):
    st.query_params["id"] = str(ride_id)  # the address shares this ride

ride = None
with ui.friendly_errors("loading the ride"):
    key = (str(ui.database().path), athlete, ride_id, ui.current_data_version())
    ride = load_detail(*key)
if ride is None:
    st.stop()

st.subheader(md(ride["name"]))
units = ui.units()
ui.metric_grid(ridecharts.detail_metrics(ride, units))
if ride.get("data_warnings"):  # what core.files.plausibility repaired or left out on import
    st.warning("Repaired on import: " + md(" ".join(f"{w['message']}." for w in ride["data_warnings"])),
               icon=":material/build:")
for flag in ride["metrics"].get("flags", []):
    st.caption(f"⚠️ {md(flag)}")
if ride["tags"]:
    st.caption("Tags: " + ", ".join(md(tag) for tag in ride["tags"]))
if ride["rpe"] or ride["notes"]:
    st.markdown((f"**RPE {ride['rpe']}/10** ({RPE_WORDS[ride['rpe']]}) " if ride["rpe"] else "")
                + (f"  \n{md_lines(ride['notes'], 500)}" if ride["notes"] else ""))


def editing(ride_id: int | None) -> None:
    st.session_state["ride_editing"] = ride_id


@st.dialog("Name, type, RPE and notes", on_dismiss=lambda: editing(None))
def edit_dialog(ride: dict) -> None:
    """The edit form, drawn only while the rider edits (open across reruns until saved or dismissed): on the page
    it was redrawn with every pick."""
    with st.form(f"ride_edit_{ride['id']}", border=False):
        e1, e2 = st.columns(2)
        new_name = e1.text_input("Name", ride["name"], max_chars=120)
        types = list(dict.fromkeys([ride["sport_type"], *SPORT_TYPES]))
        new_type = e2.selectbox("Type", types, index=0, format_func=lambda t: plain(t).replace("_", " ").capitalize())
        new_rpe = st.select_slider("RPE: how hard it felt", [0, *RPE_WORDS], value=ride["rpe"] or 0,
                                   format_func=lambda r: "not set" if r == 0 else f"{r} {RPE_WORDS[r]}")
        new_notes = st.text_area("Notes", ride["notes"] or "", max_chars=5000,
                                 placeholder="How it went, weather, kit…")
        if st.form_submit_button("Save", type="primary"):
            with ui.friendly_errors("saving the ride"):
                edit_ride(ui.cursor(), athlete, ride["id"], name=new_name, sport_type=new_type, notes=new_notes,
                          rpe=new_rpe or None, clear_rpe=new_rpe == 0)
                editing(None)
                st.rerun()


st.button("Edit name, type, RPE and notes", icon=":material/edit:", key="ride_edit_open", on_click=editing,
          args=(ride_id,))
if st.session_state.get("ride_editing") == ride_id:
    edit_dialog(ride)

samples: pd.DataFrame = ride["samples"]
if ride["points"] is not None and len(ride["points"]["lat"]):
    from core.athletes import privacy_zones
    from core.views.mapview import offline_map

    with ui.friendly_errors("drawing the map"):
        zones = privacy_zones(cur, athlete)
        # One Leaflet map for every ride; the ride's track is a layer the browser swaps when another ride is picked.
        ui.kept_map("ride_map", (), offline_map, height=380,
                    layer=map_layer(key, json.dumps([z.model_dump() for z in zones]), zones))
        if zones:
            st.caption("Your privacy zones are left out of this map (Settings).")
elif not samples.empty:
    st.caption("No GPS in this ride (indoor): no map.")


@st.fragment
def stream_charts(key: tuple, distance: bool) -> None:
    """The stream charts; their axis choice reruns them alone, not the map and tables of the whole page."""
    axis = st.radio("Charts against", ["time", "distance"], horizontal=True, key="ride_axis", disabled=not distance)
    ui.kept_chart(chart("streams", key, axis), "ride_streams_chart")
    st.caption("Drag or scroll in the chart to pan and zoom every stream; double-click to reset.")


if samples.empty:
    st.info("This ride has a summary only (no samples): no charts.")
else:
    stream_charts(key, ridecharts.has_distance(samples))

if ride["w_prime"] is not None:
    wbal = ride["w_prime"]
    st.caption(f"Lowest W′ balance {wbal['min_j'] / 1000:.1f} kJ, marked on its band. Skiba's "
               f"differential model, with CP {wbal['cp_w']:.0f} W and W′ {wbal['w_prime_j'] / 1000:.1f} kJ: "
               f"{wbal['source']}.")

c1, c2 = st.columns(2)
for col, kind in ((c1, "power"), (c2, "hr")):
    ui.kept_chart(chart("zones", key, kind), f"ride_zones_{kind}", col)
ui.kept_chart(chart("power_curve", key), "ride_power_curve")

if ride["laps"]:
    st.markdown("**Laps**")
    st.dataframe(ridecharts.laps_table(ride["laps"], units), hide_index=True, placeholder="—", width="stretch", key="ride_laps")
if ride["metrics"].get("intervals"):
    st.markdown("**Intervals** (work bouts found in the ride)")
    st.dataframe(climbview.intervals_table(ride["metrics"]["intervals"]), hide_index=True, placeholder="—", width="stretch",
                 key="ride_intervals")
if ride["compliance"]:
    st.markdown(f"**Planned workout, interval by interval** — {md(ride['compliance']['summary'])}")
if ride["compliance"] and ride["compliance"]["steps"]:  # an endurance ride has no interval to list
    st.dataframe(climbview.compliance_table(ride["compliance"]), hide_index=True, placeholder="—", width="stretch",
                 key="ride_compliance")
climbs = ridecharts.climbs_table(ride["sections"], units)
if not climbs.empty:
    total, climbing = ridecharts.sections_gain(ride["sections"])
    st.markdown("**Climbs**")
    st.dataframe(climbs, hide_index=True, placeholder="—", width="stretch", key="ride_climbs")
    if total is not None:
        st.caption(f"Elevation gain of the whole ride: {total:.0f} m, {climbing:.0f} m of it on these climbs.")
if ride["efforts"]:
    st.markdown("**Efforts on your climbs**")
    st.dataframe(climbview.ride_efforts_table(ride["efforts"]), hide_index=True, placeholder="—", width="stretch",
                 key="ride_efforts")
    for climb_id, climb_name in dict((e["climb_id"], e["climb_name"]) for e in ride["efforts"]).items():
        st.page_link("app_pages/climbs_page.py", label=f"All efforts on {md(climb_name)}", icon=":material/landscape:",
                     query_params={"id": climb_id})
st.caption(md(ridecharts.source_caption(ride)))
