"""Rides: upload, a filtered and paged list, tags and bulk actions. One ride's detail is the Ride page."""

import streamlit as st

import ui
from core.rides import store as rides
from core.views.ridecharts import SORT_LABELS, page_count, ride_labels, rides_table
from core.views.text import md, plain

st.title("Rides")
cur = ui.cursor()
athlete = ui.athlete_id()

# ---------------------------------------------------------------------------------------------- upload
ui.import_zone("rides_upload", "Drop ride files here (.fit, .gpx)", types=("fit", "gpx"), as_kind=None,
               help_text=f"Several at once, up to {ui.settings().max_upload_mb} MB each. A GPX without times is "
               "stored as a planned route. A file imported before is recognised, not stored twice.")

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
    tag = c1.selectbox("Tag", ["(any)", *tags], key="rides_tag", format_func=plain)
    sort = c2.selectbox("Sort by", list(SORT_LABELS), format_func=SORT_LABELS.get, key="rides_sort")
    descending = c3.toggle("Descending", value=True, key="rides_desc")
    page_size = c4.selectbox("Rides per page", [25, 50, 100], key="rides_page_size")

filters = rides.RideFilter(
    sport=sport, date_from=date_from, date_to=date_to, text=text or None, min_distance_km=min_km,
    max_distance_km=max_km, min_duration_min=min_min, max_duration_min=max_min, min_power_w=min_w,
    max_power_w=max_w, min_hr=min_hr, max_hr=max_hr, tag=None if tag == "(any)" else tag)


@st.cache_data(show_spinner=False, max_entries=32)
def load_page(db_path: str, athlete_id: int, version: int, flt: dict, sort_by: str, desc: bool, page: int, size: int):
    return rides.search_rides(ui.cursor(), athlete_id, rides.RideFilter(**flt), sort=sort_by, page=page,
                              page_size=size, descending=desc)


rows, total = [], 0
page = int(st.session_state.get("rides_page", 1))
with ui.friendly_errors("searching rides"):
    rows, total = load_page(str(ui.database().path), athlete, ui.current_data_version(), vars(filters), sort,
                            descending, page, page_size)
    if page > page_count(total, page_size):
        st.session_state["rides_page"] = page = 1
        rows, total = load_page(str(ui.database().path), athlete, ui.current_data_version(), vars(filters), sort,
                                descending, 1, page_size)

# ---------------------------------------------------------------------------------------------- list
st.caption(f"{total} rides match")
if rows:
    st.dataframe(rides_table(rows, ui.units()), hide_index=True, placeholder="—", width="stretch", key="rides_table",
                 column_config={"Load": st.column_config.TextColumn(
                     help="TSS for rides with power, TRIMP(100) for heart rate only")})
pages = page_count(total, page_size)
c1, c2 = st.columns([1, 3])
c1.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="rides_page")

# ---------------------------------------------------------------------------------------------- bulk actions
labels = ride_labels(rows)
st.subheader("Selected rides")
if "rides_flash" in st.session_state:  # the outcome of the last bulk action, shown after its rerun
    st.success(st.session_state.pop("rides_flash"))
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
        st.session_state["rides_flash"] = f"Tagged {added} ride(s) '{md(new_tag.strip())}'"
        st.rerun()
old_tag = c2.selectbox("Remove tag", tags, key="rides_old_tag", index=None, format_func=plain)
if c2.button("Remove tag", key="rides_remove_tag", disabled=not selected or not old_tag):
    with ui.friendly_errors("removing a tag"):
        removed = rides.remove_tag(cur, athlete, selected, old_tag)
        st.session_state["rides_flash"] = f"Removed '{md(old_tag)}' from {removed} ride(s)"
        st.rerun()
if c3.button("Recompute metrics", key="rides_recompute", disabled=not selected,
             help="Recompute NP, TSS, zones… from the stored samples with the FTP in force on each ride's date"):
    with ui.friendly_errors("recomputing metrics"):
        done = rides.recompute_metrics(cur, athlete, selected)
        st.session_state["rides_flash"] = f"Recomputed {done} ride(s)"
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
            st.session_state["rides_flash"] = f"Deleted {deleted} ride(s)"
            st.rerun()
    if d2.button("Cancel", key="rides_cancel_delete"):
        st.session_state.pop("rides_pending_delete", None)
        st.rerun()

# ---------------------------------------------------------------------------------------------- open one ride
if not rows:
    st.info("No rides match. Import .fit or .gpx files above, or widen the filters.")
    st.stop()
st.divider()
o1, o2 = st.columns([3, 1], vertical_alignment="bottom")
open_id = ui.ride_picker("Ride detail", "rides_detail", wanted=selected[0] if selected else rows[0]["id"],
                         container=o1)
if open_id is not None:
    o2.page_link("app_pages/ride_page.py", label="Open ride", icon=":material/open_in_new:",
                 query_params={"id": open_id})
