"""Plans: saved plans — the calendar (planned against ridden, a day's steps and rides, edits as versions),
activation, exports, versions and scenarios (ui.plan_calendar, ui.plan_scenarios) — and ride analyses to approve."""

from datetime import date

import streamlit as st

import ui
from core.athletes import ftp_on
from core.coach.analysis import adjust_plan_from_performance, analyse_latest_rides, list_analyses
from core.coach.approval import approve_analysis, reject_analysis
from core.coach.plans.export import export_ics, export_json
from core.coach.plans.replan import replan_from_today, saved_projection
from core.coach.plans.store import activate_plan, delete_plan, get_plan, list_plans
from core.coach.suggestions import describe_suggestion
from core.garmin.accounts import list_accounts
from core.garmin.workouts import send_plan, send_summary
from core.views.planview import (
    analysis_title,
    approval_message,
    device_caption,
    device_downloads,
    export_week_label,
    export_weeks,
    garmin_send_caption,
    garmin_send_defaults,
    plan_caption,
    plan_label,
)
from core.views.text import md, plain

st.title("Plans")
cur = ui.cursor()
athlete = ui.athlete_id()
settings = ui.settings()


@st.cache_data(show_spinner=False)
def _plans(db_path: str, athlete_id: int, data_version: int) -> list[dict]:
    return list_plans(ui.cursor(), athlete_id)


# ------------------------------------------------------------------------------------------------ saved plans
plans = _plans(str(settings.db_path), athlete, ui.current_data_version())
if not plans:
    st.info("No saved plans yet: generate one on the Coach page.")
    st.page_link("app_pages/coach_page.py", label="Open the coach", icon=":material/psychology:")
else:
    names = {p["id"]: plan_label(p) for p in plans}
    ids = list(names)
    # A plan just saved (Coach) or made (roll back) is shown next: through the widget's own state, which a keyed
    # selectbox prefers over ``index`` once it has been drawn.
    # The choice is re-stated each run, so the selector shows the plan drawn below even after the list changed.
    selected = st.session_state.pop("plans_selected_plan", None)
    if selected not in ids:
        selected = st.session_state.get("saved_plan_pick")
    if selected in ids:
        st.session_state["saved_plan_pick"] = selected
    else:
        st.session_state.pop("saved_plan_pick", None)
    plan_id = st.selectbox("Plan", ids, format_func=names.get, key="saved_plan_pick")
    if "plans_flash" in st.session_state:
        st.success(md(st.session_state.pop("plans_flash")))
    with ui.friendly_errors("showing the plan"):
        plan = get_plan(cur, plan_id, athlete)
        today = date.today()
        ftp_w = ftp_on(cur, athlete, today)
        st.caption(plan_caption(plan))
        ui.plan_calendar(cur, athlete, plan, ftp_w=ftp_w, today=today)
        ui.show_plan(plan["plan"], saved_projection(cur, athlete, plan, today=today), f"saved_{plan_id}",
                     ftp_w=ftp_w, engine=(plan["goals"] or {}).get("engine"))
        b1, b2, b3, b4, b5 = st.columns(5)
        if plan["active"]:
            b1.success("Active plan")
        elif b1.button("Make active", key=f"plan_activate_{plan_id}"):
            activate_plan(cur, athlete, plan_id)
            st.rerun()
        b2.download_button("iCalendar (.ics)", export_ics(plan, ftp_w=ftp_w, export_day=today),
                           file_name=f"velocoach-plan-{plan_id}.ics", mime="text/calendar", key=f"plan_ics_{plan_id}")
        b3.download_button("JSON", export_json(plan), file_name=f"velocoach-plan-{plan_id}.json",
                           mime="application/json", key=f"plan_json_{plan_id}")
        if b4.button("Re-plan from today", key=f"plan_replan_{plan_id}",
                     help="Keeps the weeks done, plans the rest from your fitness today; saved as a new version."):
            with ui.friendly_errors("re-planning"):
                replanned = replan_from_today(cur, athlete, plan_id)
                st.session_state["plans_selected_plan"] = replanned.plan_id
                st.session_state["plans_flash"] = " ".join(replanned.notes)
                st.rerun()
        if b5.button("Delete…", key=f"plan_delete_{plan_id}"):
            st.session_state["plans_confirm_delete"] = plan_id
        if st.session_state.get("plans_confirm_delete") == plan_id:
            st.warning(f"Delete “{md(plan['name'])}” with its workouts? Other versions of it are kept.")
            d1, d2 = st.columns(2)
            if d1.button("Yes, delete this plan", key=f"plan_confirm_delete_{plan_id}", type="primary"):
                delete_plan(cur, athlete, plan_id)
                st.session_state.pop("plans_selected_plan", None)
                st.session_state.pop("plans_confirm_delete", None)
                st.rerun()
            if d2.button("Cancel", key=f"plan_cancel_delete_{plan_id}"):
                st.session_state.pop("plans_confirm_delete", None)
                st.rerun()
        with st.container(border=True, key=f"plan_devices_{plan_id}"):
            st.markdown("**Workouts for your trainer and head unit**")
            st.caption(device_caption(ftp_w, today))
            week = st.selectbox("Workouts to download", export_weeks(plan), key=f"plan_export_week_{plan_id}",
                                format_func=lambda w: export_week_label(plan, w))
            for col, item in zip(st.columns(4), device_downloads(plan, week, ftp_w), strict=True):
                col.download_button(item["label"], item["data"] or b"", file_name=item["file_name"],
                                    mime="application/zip", key=f"plan_zip_{item['fmt']}_{plan_id}",
                                    disabled=item["data"] is None, help=item["help"])
        with st.container(border=True, key=f"plan_garmin_{plan_id}"):
            st.markdown("**Send to Garmin Connect**")
            labels = [a["label"] for a in list_accounts(cur, athlete) if a["signed_in"]]
            if not labels:
                st.caption("Sign in to Garmin Connect to put these workouts on your Garmin calendar and devices.")
                st.page_link("app_pages/garmin_page.py", label="Sign in to Garmin Connect", icon=":material/sync:")
            else:
                st.caption(garmin_send_caption(ftp_w))
                first, last = garmin_send_defaults(plan, today)
                g1, g2, g3 = st.columns(3)
                account = g1.selectbox("Account", labels, key=f"plan_garmin_account_{plan_id}", format_func=plain)
                span = dict(min_value=plan["start_date"], max_value=plan["end_date"])
                send_from = g2.date_input("From", first, key=f"plan_garmin_from_{plan_id}", **span)
                send_to = g3.date_input("To", last, key=f"plan_garmin_to_{plan_id}", **span)
                if st.button("Send to Garmin Connect", key=f"plan_garmin_send_{plan_id}", disabled=not ftp_w):
                    with ui.friendly_errors("sending the plan to Garmin Connect"), st.spinner("Sending…"):
                        results = send_plan(cur, athlete, plan, ftp_w=ftp_w, account_label=account,
                                            date_from=send_from, date_to=send_to, today=today)
                        st.success(md(send_summary(results, account)))
        ui.plan_scenarios(cur, athlete, plan, plans, today)

# ---------------------------------------------------------------------------------------------- ride analyses
st.divider()
st.subheader("Ride analyses")
st.caption("Your rides compared with the plan. Suggestions change nothing until you approve them; approving saves "
           "a new plan version and keeps the old one.")
a1, a2 = st.columns(2)
if a1.button("Analyse my latest rides", key="analysis_run_button"):
    with ui.friendly_errors("analysing your rides"), st.spinner("Analysing…"):
        done = analyse_latest_rides(cur, athlete, settings=settings)
        st.session_state["analysis_flash"] = f"Analysed {len(done)} ride(s)." if done else "No new ride to analyse."
if a2.button("Propose adjustments from recent rides", key="analysis_adjust_button"):
    with ui.friendly_errors("proposing adjustments"):
        adjust_plan_from_performance(cur, athlete, settings=settings)
        st.session_state["analysis_flash"] = "Adjustment proposal ready below."
if "analysis_flash" in st.session_state:
    st.success(st.session_state.pop("analysis_flash"))
pending = list_analyses(cur, athlete, pending=True)
if not pending:
    st.info("No analysis awaiting your decision.")
for item in list_analyses(cur, athlete, feedback_only=True, limit=3):  # no change needed: nothing to approve
    st.caption(f"{analysis_title(item)}: " + " ".join(md(s) for s in item["feedback"].get("sentences", [])))
for item in pending:
    with st.container(border=True, key=f"analysis_box_{item['id']}"):
        st.markdown(analysis_title(item))
        for sentence in item["feedback"].get("sentences", []):
            st.markdown(f"- {md(sentence)}")
        for suggestion in item["suggestions"]:
            st.markdown(f"→ {md(describe_suggestion(suggestion))}")
        for note in item["feedback"].get("notes", []):
            st.caption(md(note))
        y, n = st.columns(2)
        if y.button("Approve", key=f"analysis_approve_{item['id']}", type="primary"):
            with ui.friendly_errors("applying the analysis"):
                approved = approve_analysis(cur, athlete, item["id"])
                st.session_state["analysis_flash"] = approval_message(approved)
                if approved["plan_id"]:
                    st.session_state["plans_selected_plan"] = approved["plan_id"]  # show the new version
                st.rerun()
        if n.button("Reject", key=f"analysis_reject_{item['id']}"):
            with ui.friendly_errors("rejecting the analysis"):
                reject_analysis(cur, athlete, item["id"])
                st.session_state["analysis_flash"] = f"Rejected analysis #{item['id']}; the plan is unchanged."
                st.rerun()
