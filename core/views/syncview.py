"""The background Garmin sync as the Garmin sync page shows it: one Markdown line per account (interval, the sync
running now, the next run, the schedule's last result with its error sentence) and the line above them that
says whether the schedule runs at all. Times are UTC, like the rest of the Garmin page."""

from __future__ import annotations

from datetime import datetime

from core.views.text import md


def _clock(when: datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when else "—"


def schedule_headline(status: dict) -> str:
    if not status["enabled"]:
        return ("Background sync is turned off for this installation (VELOCOACH_FEATURES=-background_sync); "
                "sync by hand below or with `python -m core sync-garmin`.")
    if not status["running"]:
        return "Background sync runs inside the app while it is open; it is not running in this process."
    if status["problem"]:
        return f"Background sync could not look at the accounts last time: {md(status['problem'])}"
    return (f"The app syncs each account at the interval chosen in Settings (it checks every "
            f"{status['check_every_s']:g} s).")


def schedule_line(account: dict) -> str:
    """One account: **label** — interval · what happens now or next · the last scheduled run."""
    parts = [f"**{md(account['label'])}** — {account['interval'].lower()}"]
    if account["running_since"] is not None:
        who = "the schedule" if account["running_origin"] == "scheduled" else "you"
        parts.append(f"syncing now (started by {who} at {_clock(account['running_since'])})")
    elif not account["interval_minutes"]:
        parts.append("choose an interval in Settings to sync it in the background")
    elif not account["signed_in"]:
        parts.append("signed out: sign in again for the schedule to run")
    elif account["next_run_at"] is not None:
        parts.append("due now" if account["due"] else f"next run around {_clock(account['next_run_at'])}")
    last = account["last_scheduled_run"]
    if last is not None:
        text = (f"last scheduled run {_clock(last['started_at'])}: {last['status']}, {last['imported']} imported, "
                f"{last['failed']} failed")
        if last["error"]:
            text += f" — {md(last['error'])}"
        parts.append(text)
    return " · ".join(parts)
