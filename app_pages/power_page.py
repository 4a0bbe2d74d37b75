"""Power: mean-maximal power over a window with the fitted CP model, eFTP and the FTP proposal."""

from datetime import date, timedelta

import streamlit as st

import ui
from core.rides import powerstore
from core.views import powerview

st.title("Power")
cur = ui.cursor()
athlete = ui.athlete_id()

with ui.friendly_errors("preparing your power data"):
    powerstore.ensure_ride_mmp(cur, athlete)  # rides stored before the power model existed


@st.cache_data(show_spinner=False, max_entries=16)
def load(db_path: str, athlete_id: int, version: int, date_from: date | None, date_to: date | None) -> dict:
    return powerview.power_data(ui.cursor(), athlete_id, date_from, date_to)


default_from, default_to = powerstore.default_window(cur, athlete)
picked = st.date_input("Window", (default_from, default_to), key="power_window", format="YYYY-MM-DD",
                       help="Default: the 90 days up to your latest ride with power")
if not isinstance(picked, (tuple, list)) or len(picked) != 2:
    st.info("Pick the last day of the window too.")
    st.stop()
date_from, date_to = picked
custom = (date_from, date_to) != (default_from, default_to)
report = None
with ui.friendly_errors("fitting your power model"):
    report = load(str(ui.database().path), athlete, ui.current_data_version(),
                  date_from if custom else None, date_to if custom else None)
if report is None:
    st.stop()

ui.metric_grid(powerview.model_tiles(report), per_row=5)
if not report["mmp"]:
    st.warning("No rides with power in this window.")
elif report["cp_w"] is None:
    st.warning("No model in this window. Missing: " + "; ".join(report["missing_efforts"] + report["problems"]) + ".")

proposal = powerview.proposal_text(report)
if proposal:
    with st.container(border=True):
        st.markdown(f"**FTP proposal: {report['proposal']['proposed_ftp_w']} W**")
        st.write(proposal)
        left, middle, right = st.columns([2, 1, 1])
        effective = left.date_input("New FTP from", date.today(), max_value=date.today(),
                                    min_value=date.today() - timedelta(days=365), key="power_effective")
        if middle.button("Approve", type="primary", key="power_approve"):
            with ui.friendly_errors("approving the FTP"):
                result = powerstore.approve_proposal(cur, athlete, effective_from=effective,
                                                     expected_ftp_w=report["proposal"]["proposed_ftp_w"])
                st.session_state["power_done"] = (
                    f"FTP {result['ftp_w']} W from {result['effective_from']}. "
                    f"{result['rides_to_recompute']} ride(s) since then keep their old figures until you recompute "
                    "them in Settings.")
                st.rerun()
        if right.button("Dismiss", key="power_dismiss"):
            with ui.friendly_errors("dismissing the proposal"):
                powerstore.dismiss_proposal(cur, athlete, expected_ftp_w=report["proposal"]["proposed_ftp_w"])
                st.session_state["power_done"] = "Proposal dismissed until a newer maximal effort."
                st.rerun()
else:
    st.caption(f"No FTP proposal: {report['proposal_note']}.")
if st.session_state.get("power_done"):
    st.success(st.session_state.pop("power_done"))

fig = powerview.power_figure(report)
if fig is not None:
    event = st.plotly_chart(fig, key="power_curve", on_select="rerun", selection_mode="points")
    selected = (event.selection.points if event and event.selection else []) or []
    if selected and selected[0].get("customdata"):
        st.switch_page("app_pages/ride_page.py", query_params={"id": selected[0]["customdata"][0]})
    st.caption("Select a point to open its ride.")
    st.dataframe(powerview.efforts_table(report), hide_index=True, placeholder="—", key="power_efforts",
                 column_config={"Ride": st.column_config.LinkColumn("Ride", display_text=r"ride\?id=(\d+)")})
st.caption(f"Window {report['date_from']} – {report['date_to']}. Maximal efforts: sustained best efforts of 3–20 "
           "minutes on the fitted curve; see docs/COACHING.md (Power) for the rules.")
