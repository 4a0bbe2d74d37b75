"""Health: the database, the AI service, Garmin, recent problems, the audit log and the feature flags, on one page
(the same report as ``python -m core health --json``, built by core/health.py)."""

import streamlit as st

import ui
from core.health import AuditFilter, health_report
from core.store.check import check_database
from core.views.healthview import ICONS, audit_rows, byte_size, generic_rows, variant_rows
from core.views.text import md

st.title("Health")
cur = ui.cursor()
settings = ui.settings()

with st.expander("Audit log filter", expanded=False):
    c1, c2, c3, c4 = st.columns(4)
    known = health_report(cur, settings, sections=["audit"])["sections"]["audit"]
    action = c1.selectbox("Action", ["(any)", *known.get("actions", [])], key="health_audit_action")
    entity = c2.selectbox("Entity", ["(any)", *known.get("entities", [])], key="health_audit_entity")
    athlete = c3.number_input("Athlete id", min_value=0, value=0, help="0 = any athlete", key="health_audit_athlete")
    limit = c4.selectbox("Lines", [25, 50, 200, 1000], index=1, key="health_audit_limit")
audit = AuditFilter(None if action == "(any)" else action, None if entity == "(any)" else entity,
                    int(athlete) or None, None, limit)
check_ai = st.session_state.pop("health_check_ai", False)
report = {"status": "error", "sections": {}}
with ui.friendly_errors("building the health report"):
    report = health_report(cur, settings, check_ai=check_ai, audit=audit)
st.caption(f"{ICONS[report['status']]} Overall: **{report['status']}** · generated {report.get('generated_at', '')}")
sections = report["sections"]

if "database" in sections:
    db = sections["database"]
    st.subheader(f"{ICONS[db['status']]} Database")
    if "file" in db:
        ui.metric_grid([("Size", byte_size(db["size_bytes"]), None),
                        ("Schema", f"{db['schema_version']} of {db['known_schema_version']}", None),
                        ("Link problems", str(len(db["integrity_problems"])), None),
                        ("Safety copies", str(db["safety_copies"]), None)])
        st.caption(f"{md(db['file'])} · {db['rows']['rides']:,} rides, {db['rows']['ride_samples']:,} samples")
        for problem in db["integrity_problems"]:
            st.error(md(problem))
    if st.button("Read every table now", key="health_full_check"):
        with ui.friendly_errors("checking the database"), st.spinner("Reading every table…"):
            full = check_database(cur)
            (st.success if full["ok"] else st.error)(
                f"Every table read in {full['seconds']} s: " + ("the database is whole." if full["ok"] else
                "damaged: " + md(", ".join(full["damaged_tables"] or ["links"]))))

if "ai" in sections:
    ai = sections["ai"]
    st.subheader(f"{ICONS[ai['status']]} AI service")
    if "model" in ai:
        ui.metric_grid([("Model", ai["model"] if ai["enabled"] else "off", ai["base_url"]),  # escaped for HTML there
                        ("Reachable", {True: "yes", False: "no", None: "not checked"}[ai["reachable"]], None),
                        ("Latency (mean / p95)",
                         f"{ai['mean_latency_ms'] or 0:.0f} / {ai['p95_latency_ms'] or 0:.0f} ms", None),
                        ("Errors · cost, 14 days", f"{ai['errors']} · ${ai['cost_usd']:.4f}", None)])
        if not ai["feature_on"]:
            st.caption("The AI coach is switched off (VELOCOACH_FEATURES): the built-in coach does the job.")
        if ai["by_day"]:
            st.dataframe(ai["by_day"], hide_index=True, placeholder="—", key="health_ai_days")
        rows = variant_rows(ai["variants"])
        if rows:
            st.caption("Prompt variants: how often each answered, failed, and was kept by the rider.")
            st.dataframe(rows, hide_index=True, placeholder="—", key="health_ai_variants")
    if st.button("Check the AI service now", key="health_ai_check", disabled=not settings.ai_enabled):
        st.session_state["health_check_ai"] = True
        st.rerun()

if "garmin" in sections:
    garmin = sections["garmin"]
    st.subheader(f"{ICONS[garmin['status']]} Garmin")
    if not garmin.get("feature_on", True):
        st.caption("Garmin sync is switched off (VELOCOACH_FEATURES).")
    elif garmin.get("accounts"):
        st.dataframe(garmin["accounts"], hide_index=True, placeholder="—", key="health_garmin_accounts")
    else:
        st.caption("No Garmin account signed in.")
    if garmin.get("failures_30_days"):
        st.dataframe(garmin["failures_30_days"], hide_index=True, placeholder="—", key="health_garmin_failures")

if "errors" in sections:
    errors = sections["errors"]
    st.subheader(f"{ICONS[errors['status']]} Recent problems")
    st.caption(f"Warnings and errors from {md(errors.get('log_file'))} (level {errors.get('log_level')}), newest "
               "first.")
    if errors.get("recent"):
        st.dataframe(errors["recent"], hide_index=True, placeholder="—", key="health_errors")
    else:
        st.caption("None.")

if "audit" in sections:
    st.subheader("Audit log")
    st.dataframe(audit_rows(sections["audit"].get("entries", [])), hide_index=True, placeholder="—", key="health_audit")

if "settings" in sections:
    conf = sections["settings"]
    st.subheader("Settings and feature flags")
    st.caption(f"VELOCOACH_ENV **{conf['env']}**: log level {conf['log_level']}, error details "
               f"{'shown' if conf['error_detail'] else 'hidden'}, demo seeding {'on' if conf['demo_seeding'] else 'off'}.")
    st.dataframe(conf["features"], hide_index=True, placeholder="—", key="health_features")

for name, section in sections.items():  # a section this page has no layout for (added by another subsystem)
    if name not in ("database", "ai", "garmin", "errors", "audit", "settings"):
        st.subheader(f"{ICONS.get(section.get('status'), '')} {md(name.replace('_', ' ').capitalize())}")
        st.dataframe(generic_rows(section), hide_index=True, placeholder="—", key=f"health_{name}")
