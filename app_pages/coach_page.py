"""Coach: training rules in plain language and the plan generator with a preview. Saved plans: the Plans page."""

from datetime import date

import streamlit as st

import ui
from core.athletes import hard_includes_sweet_spot
from core.coach.plans.generate import generate_plan
from core.coach.plans.schema import DISTRIBUTIONS, EVENT_TYPES, next_monday, parse_race_dates
from core.coach.plans.store import route_choices, save_plan
from core.coach.rules.conflicts import conflicts_with
from core.coach.rules.model import DAY_NAMES, DAYS
from core.coach.rules.parser import parse_rule
from core.coach.rules.store import edit_rule, list_rules, parse_context, rule_versions, save_rule, set_rule_enabled
from core.views.planview import (
    GENERATOR_LABELS,
    STATUS_LABELS,
    conflict_lines,
    constraint_lines,
    rule_label,
    rule_versions_caption,
)
from core.views.ruleview import alternative_lines, clause_lines
from core.views.text import md, plain

st.title("Coach")
cur = ui.cursor()
athlete = ui.athlete_id()
settings = ui.settings()
if not settings.ai_enabled:
    st.caption("No AI key configured: rules are read by the built-in parser and plans come from the built-in "
               "periodisation engine (set an AI key in .streamlit/secrets.toml to let an AI coach propose).")


@st.cache_data(show_spinner=False)
def _rules(db_path: str, athlete_id: int, data_version: int) -> list[dict]:
    return list_rules(ui.cursor(), athlete_id)


rules = _rules(str(settings.db_path), athlete, ui.current_data_version())
tab_plan, tab_rules = st.tabs(["Plan generator", "Rules"])

# --------------------------------------------------------------------------------------------------------- rules
hard_ss = hard_includes_sweet_spot(cur, athlete)
with tab_rules:
    st.subheader("Write a rule")
    text = st.text_area("Your rule, in plain words", key="rule_text",
                        placeholder="no intervals on Mondays, long ride at the weekend, max 9 hours a week")
    name = st.text_input("Name (optional)", key="rule_name")
    left, right = st.columns(2)
    preview_clicked = left.button("Preview", key="rule_preview_button")
    save_clicked = right.button("Save rule", key="rule_save_button", type="primary")
    if preview_clicked:
        st.session_state.pop("rule_confirm", None)  # a yes answers one preview, never the next
        with ui.friendly_errors("reading the rule"):
            context = parse_context(cur, athlete)
            st.session_state["rule_preview"] = (text, parse_rule(text, cur=cur, settings=settings, context=context))
    if save_clicked:  # handled before the preview is drawn, so a refused save shows what was read and asked
        with ui.friendly_errors("saving the rule"):
            preview = st.session_state.get("rule_preview")
            previewed = bool(preview) and preview[0] == text  # a confirmation answers the preview shown
            parsed = preview[1] if previewed else parse_rule(
                text, cur=cur, settings=settings, context=parse_context(cur, athlete))
            st.session_state["rule_preview"] = (text, parsed)
            rule = save_rule(cur, athlete, text, name=name, parsed=parsed,
                             confirmed=previewed and st.session_state.get("rule_confirm", False))
            st.session_state.pop("rule_preview", None)
            st.session_state["rules_flash"] = f"Saved rule “{md(rule['name'])}”: new plans follow it."
            st.rerun()  # the list below shows it; the message waits for the rerun
    preview = st.session_state.get("rule_preview")
    if preview and preview[0] == text:
        parsed = preview[1]
        st.markdown(f"**{STATUS_LABELS[parsed.status]}** ({parsed.parser} parser, confidence "
                    f"{parsed.confidence_score:.0%}):")
        st.markdown("\n".join(clause_lines(parsed, hard_includes_sweet_spot=hard_ss)))
        if parsed.alternative is not None:
            st.info("\n".join(alternative_lines(parsed, hard_includes_sweet_spot=hard_ss)))
        for item in parsed.unparsed:
            said = item.suggestion if item.text in item.suggestion else f"Not understood: “{item.text}”. {item.suggestion}"
            st.warning(md(said))
        for question in parsed.questions:
            st.warning(md(question.message))
        if parsed.questions:
            st.checkbox("Yes, that is what I mean — apply it", key="rule_confirm",
                        help="Without this the rule is not saved: reword it instead if the coach misread you.")
        for suggestion in parsed.suggestions:
            if not any(suggestion == u.suggestion for u in parsed.unparsed):
                st.warning(md(suggestion))
        clashes = parsed.conflicts + [c.message for c in conflicts_with(
            parsed.constraints, [r for r in rules if r["enabled"]], hard_includes_sweet_spot=hard_ss)]
        for conflict in clashes:
            st.error(md(conflict))
        if parsed.note:
            st.caption(md(parsed.note))

    st.subheader("Your rules")
    if "rules_flash" in st.session_state:
        st.success(st.session_state.pop("rules_flash"))
    if not rules:
        st.info("No rules yet. Write one above, e.g. “rest on Fridays”.")
    for rule in rules:
        state = "" if rule["enabled"] else " · disabled"
        with st.expander(f"{md(rule['name'])} · v{rule['version']}{state}"):
            st.text(rule["text"])
            st.markdown("\n".join(constraint_lines(rule["constraints"], hard_includes_sweet_spot=hard_ss)))
            new_text = st.text_area("Edit", rule["text"], key=f"rule_edit_{rule['id']}")
            sure = st.checkbox("Apply it even where the coach asks “is that what you mean?”",
                               key=f"rule_edit_confirm_{rule['id']}")
            b1, b2 = st.columns(2)
            if b1.button("Save as a new version", key=f"rule_edit_save_{rule['id']}"):
                with ui.friendly_errors("saving the new version"):
                    edited = edit_rule(cur, rule["id"], new_text, athlete_id=athlete, confirmed=sure,
                                       parsed=parse_rule(new_text, cur=cur, settings=settings,
                                                         context=parse_context(cur, athlete)))
                    st.session_state["rules_flash"] = (f"Saved “{md(rule['name'])}” as version "
                                                       f"{edited['version']}.")
                    st.rerun()
            toggle = "Enable" if not rule["enabled"] else "Disable"
            if b2.button(toggle, key=f"rule_toggle_{rule['id']}",
                         help="A disabled rule is kept but new plans leave it out."):
                with ui.friendly_errors(f"{toggle.lower()[:-1]}ing the rule"):
                    set_rule_enabled(cur, rule["id"], not rule["enabled"], athlete_id=athlete)
                    st.rerun()
            versions = rule_versions(cur, rule["id"])
            if len(versions) > 1:
                st.caption(rule_versions_caption(versions))

# -------------------------------------------------------------------------------------------------- generator
with tab_plan:
    routes = route_choices(cur, athlete)
    rule_names = {r["id"]: rule_label(r) for r in rules if r["enabled"]}
    with st.form("plan_form"):
        st.subheader("Plan generator")
        chosen_rules = st.multiselect("Rules to follow (enabled rules; disable one on the Rules tab)",
                                      list(rule_names), default=list(rule_names), format_func=rule_names.get,
                                      key="plan_rules")
        g1, g2, g3 = st.columns(3)
        event_date = g1.date_input("Event date (optional)", value=None, min_value=date.today(), key="plan_event_date")
        event_type = g2.selectbox("Event type", [None, *EVENT_TYPES], key="plan_event_type",
                                  format_func=lambda v: "—" if v is None else v.replace("_", " "))
        route_id = g3.selectbox("Goal route (its climbs shape the key workouts)", [None, *routes],
                                format_func=lambda v: "—" if v is None else plain(routes[v]), key="plan_route")
        g1, g2, g3 = st.columns(3)
        target_ftp = g1.number_input("Target FTP (W, 0 = none)", 0, 600, 0, key="plan_target_ftp")
        target_ctl = g2.number_input("Target CTL (0 = none)", 0, 200, 0, key="plan_target_ctl")
        hours = g3.number_input("Weekly hours (0 = from your fitness)", 0.0, 40.0, 0.0, step=0.5, key="plan_hours")
        # a row of its own: seven day chips cut off in a third of the width
        available = st.multiselect("Days you can ride", list(DAYS), default=list(DAYS), format_func=DAY_NAMES.get,
                                   key="plan_days")
        p2, p3 = st.columns(2)
        indoor = p2.radio("Where", ["both", "indoor", "outdoor"], horizontal=True, key="plan_indoor")
        long_day = p3.selectbox("Long-ride day", [None, *DAYS], key="plan_long_day",
                                format_func=lambda v: "any" if v is None else DAY_NAMES[v])
        d1, d2, d3 = st.columns(3)
        weeks = d1.number_input("Duration (weeks)", 1, 52, 12, key="plan_weeks",
                                help="Ignored when an event date is set: the plan then ends in the event's week.")
        start = d2.date_input("First week starts", next_monday(date.today()), key="plan_start")
        plan_name = d3.text_input("Plan name", key="plan_name")
        e1, e2, e3, e4 = st.columns(4)
        distribution = e1.selectbox("Intensity distribution", DISTRIBUTIONS, key="plan_distribution",
                                    format_func=lambda v: v.replace("_", " ") + (" (default)" if v == "pyramidal"
                                                                                 else ""))
        tests = e2.checkbox("FTP test after each build block", key="plan_tests")
        b_races = e3.text_input("B races (dates)", key="plan_b_races", placeholder="2027-04-11, 2027-05-02",
                                help="A short mini-taper around each.")
        c_races = e4.text_input("C races (dates)", key="plan_c_races", help="Raced as a hard training day.")
        submitted = st.form_submit_button("Generate preview", type="primary", key="plan_generate_button")
    if submitted:
        st.session_state.pop("plan_preview", None)
        with ui.friendly_errors("generating the plan"), st.spinner("Generating the plan…"):
            request = {"rule_ids": chosen_rules, "start_date": start, "name": plan_name or None,
                       "duration_weeks": None if event_date else int(weeks),
                       "goals": {"event_date": event_date, "event_type": event_type, "route_id": route_id,
                                 "target_ftp_w": target_ftp or None, "target_ctl": target_ctl or None,
                                 "weekly_hours": hours or None,
                                 "other_events": parse_race_dates(b_races, "B") + parse_race_dates(c_races, "C")},
                       "user_preferences": {"available_days": available, "indoor_outdoor": indoor,
                                            "long_ride_day": long_day, "intensity_distribution": distribution,
                                            "ftp_tests": tests}}
            st.session_state["plan_preview"] = generate_plan(cur, athlete, request, settings=settings)
    result = st.session_state.get("plan_preview")
    if result is not None:
        st.subheader("Preview")
        st.info(f"Made by the {GENERATOR_LABELS[result.generator]}. " + " ".join(md(n) for n in result.notes))
        for line in conflict_lines(result.conflicts):
            st.error(line)
        ui.show_plan(result.plan, result.projection, "preview", ftp_w=result.ftp_w, engine=result.engine)
        if result.route_pacing:
            st.markdown("**Pacing per climb of the goal route**")
            st.dataframe(result.route_pacing, hide_index=True, placeholder="—", key="preview_pacing")
        s1, s2, s3 = st.columns([1, 2, 2])
        make_active = s2.checkbox("Make it my active plan", value=True, key="plan_activate_on_save")
        accept = s3.checkbox("Keep the event on its day despite the conflict", key="plan_accept_conflicts") \
            if result.conflicts else False
        if s1.button("Save plan", type="primary", key="plan_save_button"):
            with ui.friendly_errors("saving the plan"):
                plan_id = save_plan(cur, athlete, result, activate=make_active, accept_conflicts=accept)
                st.session_state.pop("plan_preview", None)
                st.session_state["plans_selected_plan"] = plan_id
                st.session_state["coach_flash"] = f"Saved plan #{plan_id}: see it on the Plans page."
                st.rerun()
    if "coach_flash" in st.session_state:
        st.success(st.session_state.pop("coach_flash"))
        st.page_link("app_pages/plans_page.py", label="Open the saved plans", icon=":material/event_note:")
