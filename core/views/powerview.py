"""What the Power page and the Ride page's W′ balance show, built without Streamlit: the MMP points with the
fitted curve, the table of best efforts linked to their rides, the model's tiles and proposal text, and a ride's
W′ balance (drawn as a band of the Ride page's streams chart). Nothing here writes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from core.rides import powerstore
from core.rides.metrics import power_series, timeline_seconds, w_prime_balance
from core.views import fmt

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def duration_label(seconds: int) -> str:
    """5 → '5 s', 300 → '5 min', 5400 → '1 h 30'."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "")
    return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60:02d}" if seconds % 3600 else "")


def ride_link(ride_id: int | None) -> str | None:
    return None if ride_id is None else f"/ride?id={int(ride_id)}"


def power_data(cur, athlete_id: int, date_from: date | None = None, date_to: date | None = None,
               days: int | None = None, today: date | None = None) -> dict:
    return powerstore.power_report(cur, athlete_id, days=days, date_from=date_from, date_to=date_to, today=today)


def model_tiles(report: dict) -> list[tuple[str, str, str]]:
    """(label, value, help) for CP, W′, eFTP, Pmax and the current FTP."""
    def watts(value):
        return "–" if value is None else f"{value:.0f} W"

    model = {"morton_3p": "Morton's 3-parameter model", "cp_2p": "the 2-parameter model"}.get(report["model"], "")
    return [
        ("CP", watts(report["cp_w"]), f"Critical power from {model}" if model else "No fit in this window"),
        ("W′", "–" if report["w_prime_j"] is None else f"{report['w_prime_j'] / 1000:.1f} kJ",
         "Work capacity above CP"),
        ("eFTP", watts(report["eftp_w"]), "Estimated FTP = the model's CP (GoldenCheetah's rule for CP models)"),
        ("Pmax", watts(report["pmax_w"]), "Only with sprints in the window (Morton's model)"),
        ("FTP now", watts(report["ftp_w"]), "The FTP in your profile today"),
    ]


def efforts_table(report: dict) -> pd.DataFrame:
    """The window's best effort per duration, its ride (a link to /ride?id=N) and whether the fit used it."""
    used = {e["duration_s"] for e in report["maximal_efforts"]}
    return pd.DataFrame([{
        "Duration": duration_label(p["duration_s"]), "Power (W)": round(p["power_w"]), "Date": p["date"],
        "Ride": ride_link(p["ride_id"]), "In the fit": p["duration_s"] in used} for p in report["mmp"]],
        columns=["Duration", "Power (W)", "Date", "Ride", "In the fit"])


def power_figure(report: dict):
    """MMP points (log time axis) with the fitted curve over them; each point carries its ride id as customdata
    (the page opens /ride?id=N when one is selected). None without points."""
    import plotly.graph_objects as go

    points = report["mmp"]
    if not points:
        return None
    used = {e["duration_s"] for e in report["maximal_efforts"]}
    fig = go.Figure()
    for in_fit, name, colour in ((False, "best efforts", "#8D99AE"), (True, "maximal efforts (in the fit)",
                                                                      "#E4572E")):
        chosen = [p for p in points if (p["duration_s"] in used) == in_fit]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[p["duration_s"] for p in chosen], y=[p["power_w"] for p in chosen], mode="markers", name=name,
            marker={"color": colour, "size": 9 if in_fit else 7},
            customdata=[[p["ride_id"], p["date"], fmt.duration(p["duration_s"], with_seconds=True)]
                        for p in chosen],
            hovertemplate="%{customdata[2]}: %{y:.0f} W<br>ride #%{customdata[0]} on %{customdata[1]}<extra></extra>"))
    if report["cp_w"] is not None:
        t = np.unique(np.geomspace(1 if report["pmax_w"] else 60, max(3600, points[-1]["duration_s"]), 120))
        fig.add_trace(go.Scatter(x=t, y=_curve(report, t), mode="lines", name="fitted model",
                                 line={"color": "#1D3557", "width": 2}, hoverinfo="skip"))
        fig.add_hline(y=report["cp_w"], line_dash="dot", line_color="#1D3557",
                      annotation_text=f"CP {report['cp_w']:.0f} W")
    fig.update_layout(height=420, margin=_MARGIN, title="Mean-maximal power and the fitted model",
                      xaxis=fmt.duration_axis(max(3600, points[-1]["duration_s"])), yaxis_title="power (W)",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def _curve(report: dict, t: np.ndarray) -> np.ndarray:
    from core.rides.power import cp2_power, morton3_power

    if report["pmax_w"]:
        return morton3_power(t, report["cp_w"], report["w_prime_j"], report["pmax_w"])
    return cp2_power(t, report["cp_w"], report["w_prime_j"])


def proposal_text(report: dict) -> str | None:
    """The proposal in a sentence with what approving does, or None."""
    proposal = report["proposal"]
    if not proposal:
        return None
    now = f"{proposal['current_ftp_w']:.0f} W" if proposal["current_ftp_w"] else "not set"
    change = f" ({proposal['change_pct']:+.1f} %)" if proposal["change_pct"] is not None else ""
    return (f"Your maximal efforts up to {proposal['evidence_date']} put your eFTP at {proposal['proposed_ftp_w']} W"
            f"{change}; your FTP is {now}. Approving sets FTP {proposal['proposed_ftp_w']} W from the day you choose: "
            "zones, TSS of rides stored from then on and the targets of planned workouts follow; rides already "
            "stored keep the FTP of their day until you recompute them.")


FTP_CHANGE_NOTE = ("Your new FTP counts from today: zones, TSS of rides you import from now on and the targets of "
                   "planned workouts (kept in % of FTP) follow it. Rides already stored keep the FTP of their day "
                   "until you recompute them below.")


def ride_w_prime(cur, athlete_id: int, ride: dict, streams) -> dict | None:
    """A ride's W′ balance: the stream (one value a second on the power timeline), its value at each of the
    ride's samples (``at_samples_j``), its minimum and when, with the CP and W′ used and where they come from;
    None without power or without CP."""
    if streams is None or streams.power is None:
        return None
    series = power_series(streams.t_s, streams.power, streams.lat, streams.lon)
    if series is None:
        return None
    day = ride["started_at"].date() if ride.get("started_at") else None
    params = powerstore.ride_w_prime(cur, athlete_id, day)
    if params["cp_w"] is None:
        return None
    balance = w_prime_balance(series.timeline, params["cp_w"], params["w_prime_j"])
    lowest = int(np.argmin(balance))
    at = timeline_seconds(streams.t_s)
    at_samples = np.where(at >= 0, balance[np.clip(at, 0, len(balance) - 1)], np.nan)
    source = ("from your power model of the 90 days up to this ride" if params["source"] == "model"
              else "the FTP of the ride's day and 20 kJ, as no power model fits the 90 days before it")
    return {"balance_j": balance, "at_samples_j": at_samples, "min_j": float(balance[lowest]), "min_at_s": lowest,
            "cp_w": params["cp_w"], "w_prime_j": params["w_prime_j"], "source": source}
