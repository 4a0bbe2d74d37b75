"""Climbs: every climb the rider knows (from their routes and rides) and every effort on it, fastest first.

The climb comes from the address (?id=N, as linked from the Ride page); without one, pick it here."""

import streamlit as st

import ui
from core.rides.efforts import list_climbs
from core.rides.terrain import refresh_terrain, stale_counts
from core.routes.climbs import rename_climb
from core.views import climbview
from core.views.text import md

st.title("Climbs")
cur = ui.cursor()
athlete = ui.athlete_id()


@st.cache_data(show_spinner=False, max_entries=8)
def load_climbs(db_path: str, athlete_id: int, version: int) -> list[dict]:
    return list_climbs(ui.cursor(), athlete_id)


@st.cache_data(show_spinner=False, max_entries=16)
def load_climb(db_path: str, athlete_id: int, climb_id: int, version: int) -> dict:
    return climbview.climb_detail(ui.cursor(), athlete_id, climb_id)


stale = stale_counts(cur, athlete)
if stale["rides"] or stale["routes"]:
    st.info(f"{stale['rides']} older ride(s) and {stale['routes']} route(s) still carry figures from the previous "
            "elevation method and have not been matched to your climbs yet.")
    if st.button("Update them now", key="climbs_refresh"):
        with st.spinner("Recomputing elevation, sections, climbs and intervals…"), \
                ui.friendly_errors("updating your rides"):
            refresh_terrain(cur, athlete)
            st.rerun()

climbs = []
with ui.friendly_errors("listing your climbs"):
    climbs = load_climbs(str(ui.database().path), athlete, ui.current_data_version())
if not climbs:
    st.info("No climbs yet. Climbs come from your routes' climb sections and from climbs found in your rides: "
            "import a ride or a route with a climb.")
    st.stop()

st.dataframe(climbview.climbs_table(climbs), hide_index=True, placeholder="—", width="stretch", key="climbs_table",
             height=min(38 + 35 * len(climbs), 300))
labels = {c["climb_id"]: climbview.climb_label(c) for c in climbs}


@st.fragment
def climb_section(labels: dict[int, str]) -> None:
    """The picker and the chosen climb: picking another climb reruns this part alone, not the list above it."""
    with ui.friendly_errors("showing the climb"):  # a fragment's own rerun runs outside the page's guard
        climb_detail(labels)


def climb_detail(labels: dict[int, str]) -> None:
    climb_id = ui.pick_by_address("Climb", labels, key="climbs_pick", noun="climb")
    climb = None
    with ui.friendly_errors("loading the climb"):
        climb = load_climb(str(ui.database().path), athlete, climb_id, ui.current_data_version())
    if climb is None:
        return
    st.subheader(md(climb["name"]))
    ui.metric_grid([("Length", f"{climb['length_m'] / 1000:.2f} km", None),
                    ("Average grade", f"{climb['avg_grade_pct']:.1f} %", None), ("Gain", f"{climb['gain_m']:.0f} m", None),
                    ("Category", climbview.category_label(climb["category"]) or "–", None),
                    ("Efforts", str(len(climb["efforts"])), None)], per_row=5)
    if climb["efforts"]:
        st.markdown("**Efforts, fastest first**")
        st.dataframe(climb["efforts_table"], hide_index=True, placeholder="—", width="stretch", key="climb_efforts")
        if climb["efforts_chart"] is not None:  # one spec for every climb: the browser swaps the rows only
            rows, spec = climb["efforts_chart"]
            st.container(key="climb_efforts_chart").vega_lite_chart(rows, spec, width="stretch")
        best = climb["efforts"][0]
        st.page_link("app_pages/ride_page.py", label=f"Open the record ride (#{best['ride_id']})",
                     icon=":material/pedal_bike:", query_params={"id": best["ride_id"]})
    else:
        st.info("No effort on this climb yet: it comes from a planned route you have not ridden.")
    st.caption("Times run from the exact moment you crossed the climb's start line to the moment you crossed its top "
               "line (interpolated between samples). W/kg uses your weight from Settings; VAM = climb gain / time.")

    with st.expander("Rename this climb"):
        with st.form("climb_rename"):
            new_name = st.text_input("Name", climb["name"], max_chars=200)
            if st.form_submit_button("Rename"):
                with ui.friendly_errors("renaming the climb"):
                    rename_climb(ui.cursor(), athlete, climb_id, new_name)
                    st.rerun()


climb_section(labels)
