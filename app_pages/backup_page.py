"""Backup: download the athlete's data (ZIP or JSON), a ride or route as GPX; restore a backup after a preview."""

from pathlib import Path

import streamlit as st

import ui
from core.athletes import shared_gpx
from core.errors import VeloCoachError
from core.routes.store import list_routes
from core.store.backup_export import save_backup
from core.store.backup_restore import restore
from core.store.backup_validate import open_backup, read_backup
from core.store.check import check_database, salvage, salvage_path
from core.store.snapshots import list_snapshots
from core.views.fmt import counts_sentence, counts_table
from core.views.text import md, plain

MIME = {"zip": "application/zip", "json": "application/json", "gpx": "application/gpx+xml"}

st.title("Backup")
cur = ui.cursor()

with st.expander("Check the database, or save what a damaged one still holds",
                 expanded=bool(st.session_state.get("database_damaged"))):
    st.caption("Reads every table to the end and checks the links between them (the same as `python -m core check`). "
               "If a part is damaged, everything else can be copied into a new database file.")
    if st.button("Check the database", key="backup_db_check"):
        with ui.friendly_errors("checking the database"), st.spinner("Reading every table…"):
            st.session_state["backup_db_report"] = check_database(cur)
    report = st.session_state.get("backup_db_report")
    if report and report["ok"]:
        st.success(f"The database is whole: every table read in {report['seconds']} s.")
    elif report:
        damaged = [f"{t} ({report['tables'][t]['rows']:,} rows read)" for t in report["damaged_tables"]]
        st.error("Damaged: " + md(", ".join(damaged + report["integrity_problems"])))
        if st.button("Save what can be read to a new database file", key="backup_salvage", type="primary"):
            with ui.friendly_errors("saving what can be read"), st.spinner("Copying every readable row…"):
                saved = salvage(cur, salvage_path(ui.database().path))
                copied = sum(t["copied"] for t in saved["tables"].values())
                st.success(f"{copied:,} rows saved to {md(saved['file'])}. Stop VeloCoach, keep the damaged file "
                           "aside, and start it with VELOCOACH_DB set to the saved file (or copy it over the old "
                           "name).")

athlete_id = ui.athlete_id()

st.subheader("Download a backup")
st.caption("Everything of the current athlete: profile and FTP history, routes, rides with every sample, tags, "
           "rules, plans, analyses and Garmin account names. Never passwords, Garmin tokens or API keys (restored "
           "Garmin accounts must sign in again); not the AI cache or the audit log.")
fmt = st.radio("Format", ["zip", "json"], horizontal=True, key="backup_format",
               format_func={"zip": "ZIP (compact, recommended)", "json": "JSON (readable, larger)"}.get)
if st.button("Prepare backup", key="backup_prepare"):
    with ui.friendly_errors("preparing the backup"), st.spinner("Collecting your data…"):
        saved = save_backup(cur, athlete_id, fmt, ui.database().path)  # streamed to a file: any size
        st.session_state["backup_file"] = (saved["file"], saved["bytes"], fmt, athlete_id)
prepared = st.session_state.get("backup_file")
if prepared and prepared[3] == athlete_id and Path(prepared[0]).is_file():
    path, size, kind, _ = Path(prepared[0]), prepared[1], prepared[2], prepared[3]
    st.download_button(f"Download {md(path.name)} ({size / 1048576:.1f} MB)", path.read_bytes, file_name=path.name,
                       mime=MIME[kind], key="backup_download", type="primary", on_click="ignore")
    st.caption(f"Also saved on this computer: {md(path)}")

st.subheader("Export a ride or route as GPX")
left, right = st.columns([1, 3])
kind = left.radio("What", ["ride", "route"], key="gpx_kind", format_func=str.capitalize)
item = None
with ui.friendly_errors(f"listing the {kind}s"):  # a damaged table must not take the rest of the page with it
    if kind == "ride":  # any ride, found by date, name or #id (a select box of the latest 200 would stop there)
        item = ui.ride_picker("Ride", "gpx_item", container=right)
    else:
        search = right.text_input("Find a route", key="gpx_route_query", placeholder="words of its name, or #id")
        choices = {r["id"]: f"#{r['id']} {r['name']} ({r['kind']}, {r['distance_m'] / 1000:.1f} km)"
                   for r in list_routes(cur, athlete_id, kind=None, text=search, limit=100)}
        item = right.selectbox("Route", list(choices), format_func=lambda i: plain(choices[i]),
                               key="gpx_route_item", index=None if not choices else 0, placeholder="No route matches")
if item is not None:
    if right.button("Prepare GPX", key="gpx_prepare"):
        with ui.friendly_errors(f"exporting the {kind}"):
            st.session_state["gpx_file"] = shared_gpx(cur, athlete_id, kind, item)  # privacy zones left out
    if st.session_state.get("gpx_file"):
        gpx_name, gpx_data = st.session_state["gpx_file"]
        right.download_button(f"Download {md(gpx_name)}", gpx_data, file_name=gpx_name, mime=MIME["gpx"],
                              key="gpx_download", on_click="ignore")

st.subheader("Restore a backup")
st.caption("A backup is restored as a new athlete, next to the existing ones. It is checked completely first; "
           "if anything is wrong, nothing is written. A safety copy of the whole database is kept in the "
           "`backups` folder before every restore.")
upload = st.file_uploader("Backup file (.zip or .json)", type=["zip", "json"], key="backup_upload")
local = st.text_input("…or the path of a backup file on this computer (any size)", key="backup_path",
                      placeholder="/home/me/velocoach-rider-2026-01-01.zip")
source = None
if upload is not None:
    source = ("upload", upload.file_id, upload.name)
elif local.strip():
    source = ("path", local.strip(), Path(local.strip()).name)
checked = st.session_state.get("backup_checked")
if source is None:
    if checked and checked.get("backup"):
        checked["backup"].close()
    st.session_state.pop("backup_checked", None)
elif source[0] == "upload" or st.button("Check this file", key="backup_check_path") or \
        (checked and checked["source"] == source):
    if checked is None or checked["source"] != source:
        # Checked once per file; the outcome (a preview or the reason) stays on screen across reruns.
        if checked and checked.get("backup"):
            checked["backup"].close()
        checked = {"source": source, "backup": None, "error": None, "result": None}
        with ui.friendly_errors(f"reading {source[2]}"), st.spinner(f"Checking {md(source[2])}…"):
            try:
                checked["backup"] = (read_backup(cur, upload.getvalue(), upload.name) if source[0] == "upload"
                                     else open_backup(cur, Path(source[1])))
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
        st.dataframe(counts_table(summary["rows"]), hide_index=True, placeholder="—", key="backup_preview")
        if st.button("Restore as a new athlete", type="primary", key="backup_restore"):
            with ui.friendly_errors(f"restoring {source[2]}"), st.spinner("Restoring…"):
                try:
                    checked["result"] = restore(cur, parsed)
                    parsed.close()
                except VeloCoachError as exc:
                    checked["error"] = str(exc)
                st.rerun()

copies = list_snapshots(ui.database().path)
if copies:
    with st.expander(f"Safety copies of the database ({len(copies)})"):
        st.caption("Made automatically before every restore and every database upgrade (the newest three of each). "
                   "To go back to one, stop VeloCoach and copy it over the database file.")
        st.dataframe([{"taken before": c["kind"], "when (UTC)": f"{c['taken_at']:%Y-%m-%d %H:%M}",
                       "size (MB)": round(c["bytes"] / 1048576, 1), "file": c["file"]} for c in copies],
                     hide_index=True, placeholder="—", key="backup_snapshots")
