"""Routes: drop GPX files, see each route split into climbs, descents and flats on a map and a profile."""

import streamlit as st

import ui
from core.errors import VeloCoachError
from core.routes.sections import terrain_warnings
from core.routes.store import (
    count_routes,
    current_sections,
    delete_route,
    get_route,
    highlight_index,
    list_routes,
    rename_route,
    rider_params,
    route_points,
    section_label,
)
from core.views import fmt
from core.views.mapview import highlight_layer, highlighted_profile, profile_base, route_map
from core.views.routeview import route_table, sections_table
from core.views.text import md, plain

st.title("Routes")
cur = ui.cursor()
athlete = ui.athlete_id()
settings = ui.settings()
units = ui.units()
ROUTES_SHOWN = 200


@st.cache_data(show_spinner=False, max_entries=8)
def cached_points(db_path: str, route_id: int, version: int) -> dict:
    return route_points(ui.cursor(), route_id)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_profile(db_path: str, route_id: int, version: int) -> dict:
    return profile_base(cached_points(db_path, route_id, version))


# ---- upload: every new file is imported once, at once ------------------------------------------------
fresh = ui.import_zone("routes_upload", "Drop GPX files here", types=("gpx",), as_kind="route",
                       help_text=f"Several at once. Up to {settings.max_upload_mb} MB each. The same file again "
                       "finds the route already stored (no copy).")
if fresh:  # show the last route this drop stored; when it stored none, no older route stays on screen as if it had
    stored = [r["id"] for r in fresh if r["ok"]]
    st.session_state["routes_selected"] = stored[-1] if stored else None
    st.session_state.pop("routes_highlight", None)
linked = st.query_params.get("id")  # ?id=N, as the import links and the address share
if linked and linked.isascii() and linked.isdigit() and len(linked) < 19 and st.session_state.get(
        "routes_linked") != linked:
    st.session_state["routes_linked"] = linked
    st.session_state["routes_selected"] = int(linked)

# ---- route list ------------------------------------------------------------------------------------------
search = st.text_input("Find a route", key="routes_search", max_chars=200, placeholder="words of its name or file, or #id")
total = count_routes(cur, athlete, "planned", text=search)
if not total:
    st.info("No routes match." if search else "No routes yet: drop a GPX file above.")
    st.stop()
routes = list_routes(cur, athlete, "planned", text=search, limit=ROUTES_SHOWN)
selected_id = st.session_state.get("routes_selected")
if selected_id is not None and selected_id not in {r["id"] for r in routes}:
    try:  # an older route (past the newest shown) stays choosable
        routes.append(get_route(cur, selected_id, athlete))
    except VeloCoachError:
        st.session_state["routes_selected"] = None
st.dataframe(route_table(routes, units), hide_index=True, placeholder="—", width="stretch", height=min(38 + 35 * len(routes), 250))
if total > ROUTES_SHOWN:
    st.caption(f"The {ROUTES_SHOWN} newest of {total:,} routes; search to find older ones.")
ids = [r["id"] for r in routes]
names = {r["id"]: f"#{r['id']} {r['name']} ({fmt.distance(r['distance_m'], units)})" for r in routes}
if "routes_selected" not in st.session_state:
    st.session_state["routes_selected"] = ids[0]
route_id = st.selectbox("Route", ids, format_func=lambda i: plain(names[i]), key="routes_selected", index=None,
                        placeholder="Choose a route to see it")
if route_id is None:
    st.stop()
if st.query_params.get("id") != str(route_id):
    st.query_params["id"] = str(route_id)
    st.session_state["routes_linked"] = str(route_id)
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
sections = current_sections(cur, route_id, athlete)  # times for today's FTP, weight and riding setup
ui.metric_grid([("Distance", fmt.distance(route["distance_m"], units), None),
                ("Elevation gain", fmt.elevation(route["elevation_gain_m"], units), None),
                ("Climbs", str(sum(1 for s in sections if s["kind"] == "climb")), None),
                ("Estimated time", fmt.duration(sum(s["est_time_s"] or 0 for s in sections)), "h:mm")])
if not route["has_elevation"]:
    st.warning("This route has no elevation data: it is shown as one flat section by distance only.")
for warning in terrain_warnings(sections):
    st.warning(warning, icon=":material/hiking:")
if route["data_warnings"]:  # what core.files.plausibility repaired or left out on import
    st.warning("Repaired on import: " + md(" ".join(f"{w['message']}." for w in route["data_warnings"])),
               icon=":material/build:")



@st.fragment
def highlighted(route: dict, points: dict, sections: list[dict]) -> None:
    """Map and profile with the chosen section highlighted: choosing reruns them alone, not the route list,
    figures and sections table. The map stays the same (its key and script): the section goes to it as a layer
    of its own, so it is not built again in the browser and keeps the rider's zoom and pan."""
    with ui.friendly_errors("drawing the route"):  # a fragment's own rerun runs outside the page's guard
        labels = [section_label(i, s) for i, s in enumerate(sections)]
        choice = st.selectbox("Highlight a section", labels, index=None, placeholder="Choose a section to highlight",
                              key="routes_highlight")
        chosen = highlight_index(choice, sections)
        version = (str(ui.database().path), ui.current_data_version(), route["name"])
        kept = ui.kept_map(f"routes_map_{route['id']}", version, lambda: route_map(points, sections, name=route["name"]),
                           layer=highlight_layer(points, sections, chosen), height=460)
        simple = kept["simplification"][0]
        st.caption(f"Map line: {simple.points:,} of {simple.original_points:,} points (Douglas–Peucker, at most "
                   f"{simple.max_deviation_m:g} m from the recorded track). Map tiles need internet; the route "
                   "draws without them.")
        base = cached_profile(version[0], route["id"], version[1])
        st.plotly_chart(highlighted_profile(base, sections, chosen), width="stretch", key="routes_profile")


highlighted(route, points, sections)

st.subheader("Sections")
st.dataframe(sections_table(sections, units), hide_index=True, placeholder="—", width="stretch", key="routes_sections_table",
             column_config={"Gear": st.column_config.TextColumn(width="large")})  # the gear sentence in full
st.caption(f"Times and gears for today's FTP and weight from Settings; model: "
           f"{rider_params(cur, athlete).describe()}. Stretches steeper than 20 % for 200 m are timed at walking "
           "pace. Categories by Strava's score (length × grade ≥ 8,000 for Cat 4); FIETS = H²/(D·10) + (T − 1000)/1000.")
