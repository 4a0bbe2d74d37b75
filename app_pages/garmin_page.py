"""Garmin sync: sign in (with a security code when asked), accounts, sync with a progress bar, the background
sync's status, sync history."""

from datetime import date, timedelta

import streamlit as st

import ui
from core.garmin import accounts as garmin_accounts
from core.garmin import client as garmin_client
from core.garmin import sync as garmin_sync
from core.garmin.schedule import background_sync_status
from core.views.syncview import schedule_headline, schedule_line
from core.views.text import md, plain

PENDING = "garmin_pending_sign_in"  # {"label": str, "attempt": garmin_accounts.SignIn} between password and code
OTHER_SPORTS = ["running", "trail_running", "hiking", "walking", "lap_swimming", "open_water_swimming",
                "strength_training", "other"]

st.title("Garmin Connect sync")
st.caption("VeloCoach keeps only Garmin's sign-in tokens (readable by you alone), never your password. "
           "Each sync imports the activities that are new since the last one.")
cur = ui.cursor()
athlete_id = ui.athlete_id()
files_dir = ui.settings().files_dir

# -- accounts ---------------------------------------------------------------------------------------------------
accounts = garmin_accounts.list_accounts(cur, athlete_id)
signed_in = [a for a in accounts if a["signed_in"]]
if accounts:
    st.subheader("Accounts")
    for account in accounts:
        left, middle, right = st.columns([3, 4, 2])
        left.markdown(f"**{md(account['label'])}** — {'signed in' if account['signed_in'] else 'signed out'}")
        last = account["last_synced_activity_at"]
        middle.caption(f"Synced up to {last:%Y-%m-%d %H:%M} UTC" if last else "Not synced yet")
        if account["signed_in"] and right.button("Sign out", key=f"garmin_sign_out_{account['id']}"):
            with ui.friendly_errors("signing out of Garmin Connect"):
                garmin_accounts.sign_out(cur, account["id"])
                st.rerun()

# -- sign in ----------------------------------------------------------------------------------------------------
pending = st.session_state.get(PENDING)
if pending:
    st.subheader("Security code")
    st.info("Garmin Connect sent a security code (by e-mail or text message). Enter it to finish signing in.")
    with st.form("garmin_mfa"):
        code = st.text_input("Security code", key="garmin_mfa_code", max_chars=12)
        send, cancel = st.columns(2)
        submitted = send.form_submit_button("Verify", type="primary")
        cancelled = cancel.form_submit_button("Cancel")
    if cancelled:
        del st.session_state[PENDING]
        st.rerun()
    if submitted:
        with ui.friendly_errors("verifying the security code"):
            garmin_accounts.submit_mfa_code(pending["attempt"], code)
            garmin_accounts.save_account(cur, athlete_id, pending["label"], pending["attempt"], files_dir)
            del st.session_state[PENDING]
            st.session_state["garmin_flash"] = f"Signed in as '{md(pending['label'])}'."
            st.rerun()
else:
    with st.expander("Sign in to a Garmin Connect account", expanded=not signed_in):
        with st.form("garmin_sign_in", clear_on_submit=True):
            label = st.text_input("Label for this account", value="Garmin", key="garmin_label",
                                  help="Several accounts per athlete are fine: the label tells them apart.")
            email = st.text_input("E-mail", key="garmin_email")
            password = st.text_input("Password", type="password", key="garmin_password")
            if st.form_submit_button("Sign in", type="primary"):
                with ui.friendly_errors("signing in to Garmin Connect"):
                    attempt = garmin_accounts.start_sign_in(email, password)
                    if attempt.needs_mfa:
                        st.session_state[PENDING] = {"label": label, "attempt": attempt}
                    else:
                        garmin_accounts.save_account(cur, athlete_id, label, attempt, files_dir)
                        st.session_state["garmin_flash"] = f"Signed in as '{md(label.strip())}'."
                    st.rerun()

if flash := st.session_state.pop("garmin_flash", None):
    st.success(flash)

# -- sync -------------------------------------------------------------------------------------------------------
if signed_in:
    st.subheader("Sync")
    by_id = {a["id"]: a for a in signed_in}
    account_id = st.selectbox("Account", list(by_id), format_func=lambda i: plain(by_id[i]["label"]),
                              key="garmin_sync_account")
    account = by_id[account_id]
    first_sync = account["last_synced_activity_at"] is None
    rescan = False if first_sync else st.toggle("Also look again at older dates", key="garmin_rescan")
    since = until = None
    if first_sync or rescan:
        left, right = st.columns(2)
        since = left.date_input("From", date.today() - timedelta(days=garmin_client.DEFAULT_FIRST_SYNC_DAYS),
                                key="garmin_since")
        until = right.date_input("To", date.today(), key="garmin_until")
    else:
        st.caption("Only activities newer than the last synced one are fetched.")
    kinds = st.multiselect("Activity types", ["cycling", *OTHER_SPORTS], default=["cycling"], key="garmin_types",
                           help="'cycling' covers road, gravel, mountain, indoor and virtual rides.")
    types = set(kinds) | (garmin_client.CYCLING_TYPES if "cycling" in kinds else set())
    if running := garmin_sync.running_sync(account_id):
        st.info(f"A {'scheduled ' if running['origin'] == 'scheduled' else ''}sync of this account is running "
                f"(started {running['started_at']:%H:%M:%S} UTC); reload the page to see when it has finished.")
    if st.button("Sync now", type="primary", key="garmin_sync", disabled=not kinds or running is not None):
        bar = st.progress(0.0, text="Asking Garmin Connect for new activities…")

        def show(done: int, total: int, message: str) -> None:
            bar.progress(done / total if total else 1.0, text=f"{done} of {total}: {md(message)}")

        with ui.friendly_errors("syncing with Garmin Connect"):
            report = garmin_sync.sync_account(cur, account_id, progress=show, since=since, until=until,
                                         activity_types=types, files_dir=files_dir)
            bar.progress(1.0, text="Done")
            st.session_state["garmin_last_report"] = report
            st.rerun()  # so the accounts above show the new watermark
    if report := st.session_state.pop("garmin_last_report", None):
        message = (f"{report.listed} new on Garmin Connect: {report.imported} imported, "
                   f"{report.skipped} skipped, {report.failed} failed.")
        (st.success if report.status == "ok" else st.warning)(message)
        for note in report.notes:
            st.caption(md(note))

# -- background sync --------------------------------------------------------------------------------------------
if accounts:
    st.subheader("Background sync")
    schedule = background_sync_status(cur, ui.settings(), athlete_id)
    st.caption(schedule_headline(schedule))
    for line in map(schedule_line, schedule["accounts"]):
        st.markdown(line)

# -- history ----------------------------------------------------------------------------------------------------
history = garmin_accounts.sync_history(cur, athlete_id)
if history:
    st.subheader("Sync history")
    st.dataframe(history, hide_index=True, placeholder="—",
                 column_order=["account", "started_at", "origin", "status", "listed", "imported", "skipped",
                               "failed", "error"])
elif not accounts:
    st.info("Sign in above to bring your Garmin rides in.")
