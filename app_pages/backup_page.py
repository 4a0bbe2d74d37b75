"""Backup: download the athlete's data (ZIP or JSON), a ride or route as GPX; restore a backup after a preview."""

import streamlit as st

import ui
from core.errors import VeloCoachError
from core.routes.store import list_routes
from core.store.backup_export import backup_filename, export_backup
from core.store.backup_restore import restore
from core.store.backup_validate import read_backup
from core.store.gpx_export import export_gpx
from core.views.fmt import counts_sentence, counts_table
from core.views.text import md, plain

MIME = {"zip": "application/zip", "json": "application/json", "gpx": "application/gpx+xml"}

st.title("Backup")
cur = ui.cursor()
athlete_id = ui.athlete_id()

st.subheader("Download a backup")
st.caption("Everything of the current athlete: profile and FTP history, routes, rides with every sample, tags, "
           "rules, plans, analyses and Garmin account names. Never passwords, Garmin tokens or API keys (restored "
           "Garmin accounts must sign in again); not the AI cache or the audit log.")
fmt = st.radio("Format", ["zip", "json"], horizontal=True, key="backup_format",
               format_func={"zip": "ZIP (compact, recommended)", "json": "JSON (readable, larger)"}.get)
if st.button("Prepare backup", key="backup_prepare"):
    with ui.friendly_errors("preparing the backup"), st.spinner("Collecting your data…"):
        st.session_state["backup_file"] = (backup_filename(cur, athlete_id, fmt), export_backup(cur, athlete_id, fmt),
                                           fmt, athlete_id)
prepared = st.session_state.get("backup_file")
if prepared and prepared[3] == athlete_id:
    name, data, kind, _ = prepared
    st.download_button(f"Download {md(name)} ({len(data) / 1048576:.1f} MB)", data, file_name=name, mime=MIME[kind],
                       key="backup_download", type="primary", on_click="ignore")

st.subheader("Export a ride or route as GPX")
left, right = st.columns([1, 3])
kind = left.radio("What", ["ride", "route"], key="gpx_kind", format_func=str.capitalize)
if kind == "ride":  # any ride, found by date, name or #id (a select box of the latest 200 would stop there)
    item = ui.ride_picker("Ride", "gpx_item", container=right)
else:
    search = right.text_input("Find a route", key="gpx_route_query", placeholder="words of its name, or #id")
    choices = {r["id"]: f"#{r['id']} {r['name']} ({r['kind']}, {r['distance_m'] / 1000:.1f} km)"
               for r in list_routes(cur, athlete_id, kind=None, text=search, limit=100)}
    item = right.selectbox("Route", list(choices), format_func=lambda i: plain(choices[i]), key="gpx_route_item",
                           index=None if not choices else 0, placeholder="No route matches")
if item is not None:
    if right.button("Prepare GPX", key="gpx_prepare"):
        with ui.friendly_errors(f"exporting the {kind}"):
            st.session_state["gpx_file"] = export_gpx(cur, athlete_id, kind, item)
    if st.session_state.get("gpx_file"):
        gpx_name, gpx_data = st.session_state["gpx_file"]
        right.download_button(f"Download {md(gpx_name)}", gpx_data, file_name=gpx_name, mime=MIME["gpx"],
                              key="gpx_download", on_click="ignore")

st.subheader("Restore a backup")
st.caption("A backup is restored as a new athlete, next to the existing ones. It is checked completely first; "
           "if anything is wrong, nothing is written.")
upload = st.file_uploader("Backup file (.zip or .json)", type=["zip", "json"], key="backup_upload")
if upload is None:
    st.session_state.pop("backup_checked", None)
else:
    checked = st.session_state.get("backup_checked")
    if checked is None or checked["file_id"] != upload.file_id:
        # Checked once per uploaded file; the outcome (a preview or the reason) stays on screen across reruns.
        checked = {"file_id": upload.file_id, "backup": None, "error": None, "result": None}
        with ui.friendly_errors(f"reading {upload.name}"), st.spinner(f"Checking {md(upload.name)}…"):
            try:
                checked["backup"] = read_backup(cur, upload.getvalue(), upload.name)
            except VeloCoachError as exc:
                checked["error"] = str(exc)
        st.session_state["backup_checked"] = checked
    parsed = checked["backup"]
    if checked["error"]:
        st.error(md(checked["error"]))
    elif checked["result"] is not None:
        result = checked["result"]
        st.success(f"{md(result.filename)}: restored as athlete #{result.athlete_id} ({md(result.athlete_name)}) with "
                   f"{result.rows.get('rides', 0)} rides. Choose this athlete in Settings.")
    elif parsed is not None:
        summary = parsed.summary()
        st.markdown(f"**{md(summary['file'])}** — athlete **{md(summary['athlete'])}**, exported "
                    f"{md(summary['exported_at'] or 'at an unknown time')} by VeloCoach "
                    f"{md(summary['app_version'] or '?')}"
                    + f": {counts_sentence(summary['rows'])}"
                    + (f"; rides from {md(summary['first_ride'])} to {md(summary['last_ride'])}"
                       if summary["first_ride"] else ""))
        st.dataframe(counts_table(summary["rows"]), hide_index=True, key="backup_preview")
        if st.button("Restore as a new athlete", type="primary", key="backup_restore"):
            with ui.friendly_errors(f"restoring {upload.name}"), st.spinner("Restoring…"):
                try:
                    checked["result"] = restore(cur, parsed)
                except VeloCoachError as exc:
                    checked["error"] = str(exc)
                st.rerun()
