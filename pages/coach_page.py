"""Coach: training rules in plain language, the plan generator with a preview, saved plans and export."""

import re
from datetime import date

import streamlit as st
from plotly.subplots import make_subplots

import ui
from core.plans import (
    EVENT_TYPES,
    activate_plan,
    calendar_frame,
    compare_plans,
    delete_plan,
    export_ics,
    export_json,
    generate_plan,
    get_plan,
    list_plans,
    next_monday,
    plan_versions,
    rollback_plan,
    route_choices,
    save_plan,
    weekly_frame,
)
from core.rules import DAY_NAMES, DAYS, edit_rule, list_rules, parse_rule, rule_versions, save_rule

st.title("Coach")
cur = ui.cursor()
athlete = ui.athlete_id()
settings = ui.settings()
if not settings.ai_enabled:
    st.caption("No AI key configured: rules are read by the built-in parser and plans come from the built-in "
               "periodisation engine (set an AI key in .streamlit/secrets.toml to let an AI coach propose).")


def _md(text: str) -> str:
    """Rider-typed text shown through Markdown: escaped, so it cannot become a link or a remote image."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~-])", r"\\\1", str(text))


def _chart(plan, weekly_ctl):
    frame = weekly_frame(plan, weekly_ctl)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=frame["start_date"], y=frame["tss"], name="Planned TSS", marker_color="#6baed6",
                customdata=frame[["phase", "hours"]], hovertemplate="%{x|%d %b}: TSS %{y:.0f}, "
                "%{customdata[1]:.1f} h (%{customdata[0]})<extra></extra>")
    fig.add_scatter(x=frame["start_date"], y=frame["hours"], name="Hours", mode="lines+markers",
                    line_color="#31a354", secondary_y=True)
    if "ctl" in frame:
        fig.add_scatter(x=frame["start_date"], y=frame["ctl"], name="Projected CTL", mode="lines",
                        line=dict(color="#e6550d", dash="dash"))
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12),
                      barmode="overlay")
    fig.update_yaxes(title_text="TSS / CTL", secondary_y=False)
    fig.update_yaxes(title_text="Hours", secondary_y=True, range=[0, max(1.0, frame["hours"].max() * 1.15)],
                     tickformat=".1~f", showgrid=False)
    fig.update_yaxes(range=[0, max(1.0, frame["tss"].max() * 1.15)], secondary_y=False)
    return fig


def _show_plan(plan, weekly_ctl, key):
    weeks = plan["weeks"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Weeks", len(weeks))
    c2.metric("Total hours", f"{sum(w['planned_hours'] for w in weeks):.0f}")
    c3.metric("Mean weekly TSS", f"{sum(w['planned_tss'] for w in weeks) / len(weeks):.0f}")
    if weekly_ctl:
        c4.metric("Projected CTL at the end", f"{weekly_ctl[-1]:.0f}", f"{weekly_ctl[-1] - weekly_ctl[0]:+.0f}")
    st.plotly_chart(_chart(plan, weekly_ctl), key=f"{key}_chart", width="stretch")
    st.dataframe(calendar_frame(plan), hide_index=True, key=f"{key}_calendar", width="stretch")




@st.cache_data(show_spinner=False)
def _rules(db_path: str, athlete_id: int, data_version: int) -> list[dict]:
    return list_rules(ui.cursor(), athlete_id)


@st.cache_data(show_spinner=False)
def _plans(db_path: str, athlete_id: int, data_version: int) -> list[dict]:
    return list_plans(ui.cursor(), athlete_id)


rules = _rules(str(settings.db_path), athlete, ui.current_data_version())
tab_plan, tab_rules, tab_saved = st.tabs(["Plan generator", "Rules", "Saved plans"])

# --------------------------------------------------------------------------------------------------------- rules
with tab_rules:
    st.subheader("Write a rule")
    text = st.text_area("Your rule, in plain words", key="rule_text",
                        placeholder="no intervals on Mondays, long ride at the weekend, max 9 hours a week")
    name = st.text_input("Name (optional)", key="rule_name")
    left, right = st.columns(2)
    if left.button("Preview", key="rule_preview_button"):
        with ui.friendly_errors("reading the rule"):
            st.session_state["rule_preview"] = (text, parse_rule(text, cur=cur, settings=settings))
    preview = st.session_state.get("rule_preview")
    if preview and preview[0] == text:
        parsed = preview[1]
        st.markdown(f"**Understood** ({parsed.parser} parser, confidence {parsed.confidence_score:.0%}):")
        for constraint in parsed.constraints:
            st.markdown(f"- {constraint.describe()}")
        for suggestion in parsed.suggestions:
            st.warning(_md(suggestion))
        for conflict in parsed.conflicts:
            st.error(_md(conflict))
        if parsed.note:
            st.caption(parsed.note)
    if right.button("Save rule", key="rule_save_button", type="primary"):
        with ui.friendly_errors("saving the rule"):
            parsed = preview[1] if preview and preview[0] == text else parse_rule(text, cur=cur, settings=settings)
            rule = save_rule(cur, athlete, text, name=name, parsed=parsed)
            st.session_state.pop("rule_preview", None)
            st.success(f"Saved rule “{_md(rule['name'])}”.")
            st.rerun()

    st.subheader("Your rules")
    if not rules:
        st.info("No rules yet. Write one above, e.g. “rest on Fridays”.")
    for rule in rules:
        with st.expander(f"{_md(rule['name'])} · v{rule['version']}"):
            st.text(rule["text"])
            for constraint in rule["constraints"]:
                st.markdown(f"- {constraint.describe()}")
            new_text = st.text_area("Edit", rule["text"], key=f"rule_edit_{rule['id']}")
            if st.button("Save as a new version", key=f"rule_edit_save_{rule['id']}"):
                with ui.friendly_errors("saving the new version"):
                    edit_rule(cur, rule["id"], new_text, parsed=parse_rule(new_text, cur=cur, settings=settings))
                    st.rerun()
            versions = rule_versions(cur, rule["id"])
            if len(versions) > 1:
                st.caption("Versions: " + " → ".join(f"v{v['version']} “{_md(v['text'][:40])}”" for v in versions))

# -------------------------------------------------------------------------------------------------- generator
with tab_plan:
    routes = route_choices(cur, athlete)
    rule_names = {r["id"]: f"{r['name']} (v{r['version']})" for r in rules}
    with st.form("plan_form"):
        st.subheader("Plan generator")
        chosen_rules = st.multiselect("Rules to follow", list(rule_names), format_func=rule_names.get,
                                      key="plan_rules")
        g1, g2, g3 = st.columns(3)
        event_date = g1.date_input("Event date (optional)", value=None, min_value=date.today(), key="plan_event_date")
        event_type = g2.selectbox("Event type", [None, *EVENT_TYPES], key="plan_event_type",
                                  format_func=lambda v: "—" if v is None else v.replace("_", " "))
        route_id = g3.selectbox("Goal route (its climbs shape the key workouts)", [None, *routes],
                                format_func=lambda v: "—" if v is None else routes[v], key="plan_route")
        g1, g2, g3 = st.columns(3)
        target_ftp = g1.number_input("Target FTP (W, 0 = none)", 0, 600, 0, key="plan_target_ftp")
        target_ctl = g2.number_input("Target CTL (0 = none)", 0, 200, 0, key="plan_target_ctl")
        hours = g3.number_input("Weekly hours (0 = from your fitness)", 0.0, 40.0, 0.0, step=0.5, key="plan_hours")
        p1, p2, p3 = st.columns(3)
        available = p1.multiselect("Days you can ride", list(DAYS), default=list(DAYS), format_func=DAY_NAMES.get,
                                   key="plan_days")
        indoor = p2.radio("Where", ["both", "indoor", "outdoor"], horizontal=True, key="plan_indoor")
        long_day = p3.selectbox("Long-ride day", [None, *DAYS], key="plan_long_day",
                                format_func=lambda v: "any" if v is None else DAY_NAMES[v])
        d1, d2, d3 = st.columns(3)
        weeks = d1.number_input("Duration (weeks)", 1, 52, 12, key="plan_weeks",
                                help="Ignored when an event date is set: the plan then ends in the event's week.")
        start = d2.date_input("First week starts", next_monday(date.today()), key="plan_start")
        plan_name = d3.text_input("Plan name", key="plan_name")
        submitted = st.form_submit_button("Generate preview", type="primary", key="plan_generate_button")
    if submitted:
        request = {"rule_ids": chosen_rules, "start_date": start, "name": plan_name or None,
                   "duration_weeks": None if event_date else int(weeks),
                   "goals": {"event_date": event_date, "event_type": event_type, "route_id": route_id,
                             "target_ftp_w": target_ftp or None, "target_ctl": target_ctl or None,
                             "weekly_hours": hours or None},
                   "user_preferences": {"available_days": available, "indoor_outdoor": indoor,
                                        "long_ride_day": long_day}}
        st.session_state.pop("plan_preview", None)
        with ui.friendly_errors("generating the plan"), st.spinner("Generating the plan…"):
            st.session_state["plan_preview"] = generate_plan(cur, athlete, request, settings=settings)
    result = st.session_state.get("plan_preview")
    if result is not None:
        st.subheader("Preview")
        label = {"engine": "built-in engine", "ai": "AI coach", "ai-repaired": "AI coach, repaired to fit your rules"}
        st.info(f"Made by the {label[result.generator]}. " + " ".join(result.notes))
        _show_plan(result.plan, result.weekly_ctl, "preview")
        if result.route_pacing:
            st.markdown("**Pacing per climb of the goal route**")
            st.dataframe(result.route_pacing, hide_index=True, key="preview_pacing")
        s1, s2 = st.columns([1, 3])
        make_active = s2.checkbox("Make it my active plan", value=True, key="plan_activate_on_save")
        if s1.button("Save plan", type="primary", key="plan_save_button"):
            with ui.friendly_errors("saving the plan"):
                plan_id = save_plan(cur, athlete, result, activate=make_active)
                st.session_state.pop("plan_preview", None)
                st.session_state["coach_selected_plan"] = plan_id
                st.session_state["coach_flash"] = f"Saved plan #{plan_id}: see it in the Saved plans tab."
                st.rerun()
    if "coach_flash" in st.session_state:
        st.success(st.session_state.pop("coach_flash"))

# ------------------------------------------------------------------------------------------------ saved plans
with tab_saved:
    plans = _plans(str(settings.db_path), athlete, ui.current_data_version())
    if not plans:
        st.info("No saved plans yet: generate one in the Plan generator tab.")
    else:
        names = {p["id"]: f"{'★ ' if p['active'] else ''}{p['name']} · v{p['version']} · {p['start_date']}"
                 for p in plans}
        ids = list(names)
        selected = st.session_state.get("coach_selected_plan")
        plan_id = st.selectbox("Plan", ids, format_func=names.get, key="saved_plan_pick",
                               index=ids.index(selected) if selected in ids else 0)
        with ui.friendly_errors("showing the plan"):
            plan = get_plan(cur, plan_id, athlete)
            st.caption(f"{plan['start_date']} → {plan['end_date']} · goal: {plan['goal_type']} · made by "
                       f"{plan['generator']} · rules: "
                       + (", ".join(f"{_md(r['name'])} (v{r['version']})" for r in plan["rules"]) or "none"))
            _show_plan(plan["plan"], None, f"saved_{plan_id}")
            b1, b2, b3, b4, b5 = st.columns(5)
            if plan["active"]:
                b1.success("Active plan")
            elif b1.button("Make active", key=f"plan_activate_{plan_id}"):
                activate_plan(cur, athlete, plan_id)
                st.rerun()
            b2.download_button("iCalendar (.ics)", export_ics(plan), file_name=f"velocoach-plan-{plan_id}.ics",
                               mime="text/calendar", key=f"plan_ics_{plan_id}")
            b3.download_button("JSON", export_json(plan), file_name=f"velocoach-plan-{plan_id}.json",
                               mime="application/json", key=f"plan_json_{plan_id}")
            if plan["parent_plan_id"] and b4.button("Roll back to the previous version", key=f"plan_rb_{plan_id}"):
                st.session_state["coach_selected_plan"] = rollback_plan(cur, athlete, plan_id)
                st.rerun()
            if b5.button("Delete", key=f"plan_delete_{plan_id}"):
                delete_plan(cur, athlete, plan_id)
                st.session_state.pop("coach_selected_plan", None)
                st.rerun()
            versions = plan_versions(cur, athlete, plan_id)
            if len(versions) > 1:
                st.caption("Versions: " + " → ".join(f"v{v['version']} (#{v['id']})" for v in versions))
                if plan["parent_plan_id"]:
                    diff = compare_plans(get_plan(cur, plan["parent_plan_id"], athlete)["plan"], plan["plan"])
                    st.markdown(f"**Changes from the previous version:** {len(diff)} week(s)")
                    st.dataframe([{k: v for k, v in d.items() if k != "changed"} | {"changed days": len(d["changed"])}
                                  for d in diff], hide_index=True, key=f"plan_diff_{plan_id}")

# ---------------------------------------------------------------------------------------------- ride analyses
from core.analysis import (  # noqa: E402 — this block is self-contained
    adjust_plan_from_performance,
    analyse_latest_rides,
    approve_analysis,
    describe_suggestion,
    list_analyses,
    reject_analysis,
)

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
for item in pending:
    with st.container(border=True, key=f"analysis_box_{item['id']}"):
        kind = "Plan adjustment" if item["kind"] == "adjustment" else f"Ride {item['ride_id']}"
        st.markdown(f"**#{item['id']} · {kind}**")
        for sentence in item["feedback"].get("sentences", []):
            st.markdown(f"- {_md(sentence)}")
        for suggestion in item["suggestions"]:
            st.markdown(f"→ {_md(describe_suggestion(suggestion))}")
        for note in item["feedback"].get("notes", []):
            st.caption(_md(note))
        y, n = st.columns(2)
        if y.button("Approve", key=f"analysis_approve_{item['id']}", type="primary"):
            with ui.friendly_errors("applying the analysis"):
                result = approve_analysis(cur, athlete, item["id"])
                st.session_state["analysis_flash"] = (
                    f"Approved: plan version v{result['version']} (#{result['plan_id']}) is now active; the previous "
                    f"version (#{result['old_plan_id']}) is kept." if result["plan_id"] else
                    "Approved: nothing in the plan needed to change.") + "".join(
                    f" Skipped: {s}." for s in result["skipped"])
                st.rerun()
        if n.button("Reject", key=f"analysis_reject_{item['id']}"):
            with ui.friendly_errors("rejecting the analysis"):
                reject_analysis(cur, athlete, item["id"])
                st.session_state["analysis_flash"] = f"Rejected analysis #{item['id']}; the plan is unchanged."
                st.rerun()
