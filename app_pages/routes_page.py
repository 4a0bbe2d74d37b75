"""Routes: drop GPX files, see each route split into climbs, descents and flats on a map and a profile."""

import streamlit as st
from streamlit_folium import st_folium

import ui
from core.importer import import_files
from core.routes.sections import DEFAULT_PARAMS
from core.routes.store import (
    delete_route,
    get_route,
    highlight_index,
    list_routes,
    rename_route,
    route_points,
    route_sections,
    section_label,
)
from core.views import fmt
from core.views.mapview import profile_figure, route_map
from core.views.routeview import route_table, sections_table
from core.views.text import md, plain

st.title("Routes")
cur = ui.cursor()
athlete = ui.athlete_id()
settings = ui.settings()
units = ui.units()


@st.cache_data(show_spinner=False, max_entries=8)
def cached_points(db_path: str, route_id: int, version: int) -> dict:
    return route_points(ui.cursor(), route_id)


# ---- upload: every new file is imported once, at once ------------------------------------------------
uploads = st.file_uploader("Drop GPX files here", type=["gpx"], accept_multiple_files=True, key="routes_upload",
                           help=f"Several at once. Up to {settings.max_upload_mb} MB each.")
seen = st.session_state.setdefault("routes_imported_file_ids", set())
new_files = [f for f in uploads or [] if f.file_id not in seen]
if new_files:
    bar = st.progress(0.0, text=f"Importing {len(new_files)} file(s)…")

    def progress(done: int, total: int, name: str) -> None:
        bar.progress(done / total, text=f"Imported {done} of {total}: {md(name)}")

    with ui.friendly_errors("importing routes"):
        results = import_files(cur, athlete, ((f.name, f.getvalue()) for f in new_files), as_kind="route",
                               progress=progress)
        seen.update(f.file_id for f in new_files)
        st.session_state["routes_results"] = results
        stored = [r["id"] for r in results if r["ok"]]
        if stored:
            st.session_state["routes_selected"] = stored[-1]
            st.session_state.pop("routes_highlight", None)
for result in st.session_state.get("routes_results", []):
    if result["ok"]:
        climbs = sum(1 for s in result["sections"] if s["kind"] == "climb")
        st.success(f"{md(result['file'])}: {fmt.distance(result['distance_m'], units)}, {result['points']:,} points, "
                   f"{len(result['sections'])} sections ({climbs} climb{'s' if climbs != 1 else ''})")
    else:
        st.error(md(result["error"]))

# ---- route list ------------------------------------------------------------------------------------------
routes = list_routes(cur, athlete, "planned")
if not routes:
    st.info("No routes yet: drop a GPX file above.")
    st.stop()
st.dataframe(route_table(routes, units), hide_index=True, width="stretch", height=min(38 + 35 * len(routes), 250))
ids = [r["id"] for r in routes]
names = {r["id"]: f"{r['name']} ({fmt.distance(r['distance_m'], units)})" for r in routes}
if st.session_state.get("routes_selected") not in ids:
    st.session_state["routes_selected"] = ids[0]
route_id = st.selectbox("Route", ids, format_func=lambda i: plain(names[i]), key="routes_selected")
route = get_route(cur, route_id, athlete)

with st.expander("Rename or delete"):
    left, right = st.columns(2)
    new_name = left.text_input("New name", route["name"], key=f"routes_rename_{route_id}")
    if left.button("Rename", key="routes_rename_button"):
        with ui.friendly_errors("renaming the route"):
            rename_route(cur, route_id, new_name, athlete)
            st.rerun()
    sure = right.checkbox("Yes, delete this route", key=f"routes_delete_sure_{route_id}")
    if right.button("Delete route", disabled=not sure, key="routes_delete_button"):
        with ui.friendly_errors("deleting the route"):
            delete_route(cur, route_id, athlete)
            st.session_state.pop("routes_selected", None)
            st.rerun()

# ---- the chosen route ------------------------------------------------------------------------------------
points = cached_points(str(ui.database().path), route_id, ui.current_data_version())
sections = route_sections(cur, route_id)
cols = st.columns(4)
cols[0].metric("Distance", fmt.distance(route["distance_m"], units))
cols[1].metric("Elevation gain", fmt.elevation(route["elevation_gain_m"], units))
cols[2].metric("Climbs", sum(1 for s in sections if s["kind"] == "climb"))
cols[3].metric("Estimated time", fmt.duration(sum(s["est_time_s"] or 0 for s in sections)), help="h:mm")
if not route["has_elevation"]:
    st.warning("This route has no elevation data: it is shown as one flat section by distance only.")

labels = [section_label(i, s) for i, s in enumerate(sections)]
choice = st.selectbox("Highlight a section", labels, index=None, placeholder="Choose a section to highlight",
                      key="routes_highlight")
chosen = highlight_index(choice, sections)

folium_map = route_map(points, sections, chosen, name=route["name"])
simple = folium_map.velocoach_simplification[0]
st_folium(folium_map, height=460, width=None, returned_objects=[], key=f"routes_map_{route_id}_{chosen}")
st.caption(f"Map line: {simple.points:,} of {simple.original_points:,} points (Douglas–Peucker, at most "
           f"{simple.max_deviation_m:g} m from the recorded track). Map tiles need internet; the route draws "
           "without them.")
st.plotly_chart(profile_figure(points, sections, chosen), width="stretch", key="routes_profile")

st.subheader("Sections")
st.dataframe(sections_table(sections, units), hide_index=True, width="stretch", key="routes_sections_table")
st.caption(f"Times and gears for FTP and weight from Settings; model: {DEFAULT_PARAMS.describe()}. "
           "Categories by Strava's score (length × grade); FIETS = H²/(D·10) + (T − 1000)/1000.")
