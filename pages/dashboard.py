"""Dashboard: where training stands — volume by week/month, fitness (CTL/ATL/TSB), zones, season bests, plan."""

from datetime import date

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

import ui
from core import dashboard

st.title("Dashboard")
cur = ui.cursor()
athlete = ui.athlete_id()


@st.cache_data(show_spinner=False, max_entries=16)
def load(db_path: str, athlete_id: int, version: int, constants: tuple, today: date) -> dict:
    return dashboard.dashboard_data(ui.cursor(), athlete_id, today=today)


data = None
with ui.friendly_errors("loading the dashboard"):
    data = load(str(ui.database().path), athlete, ui.current_data_version(), dashboard.time_constants(cur, athlete), date.today())
if data is None:
    st.stop()

COLOUR_DOT = {"green": "🟢", "amber": "🟠", "red": "🔴", None: "⚪"}


# ---------------------------------------------------------------------------------------------- this week
st.subheader("This week")
week = data["week_vs_last"]
planned = week["planned"]
cols = st.columns(4)
for col, key in zip(cols, ("distance_m", "moving_time_s", "tss", "rides"), strict=True):
    label, factor, unit = dashboard.METRICS[key]
    now, last = week["this_week"][key] * factor, week["last_week"][key] * factor
    plan_text = ""
    if planned and key in ("moving_time_s", "tss"):
        plan_value = planned["duration_s"] * factor if key == "moving_time_s" else planned["tss"]
        plan_text = f" · plan {plan_value:.1f}{(' ' + unit) if unit else ''}"
    col.metric(f"{label}{f' ({unit})' if unit else ''}", f"{now:.1f}" if key != "rides" else f"{now:.0f}",
               delta=f"{now - last:+.1f} vs last week", delta_color="off" if key == "rides" else "normal",
               help=f"Last week: {last:.1f}{plan_text}")
if planned:
    st.caption(f"Planned this week: {planned['workouts']} workouts, {planned['duration_s'] / 3600:.1f} h, "
               f"TSS {planned['tss']:.0f}.")

# ---------------------------------------------------------------------------------------------- fitness
st.subheader("Fitness, fatigue and form")
fit: pd.DataFrame = data["fitness"]
constants = data["time_constants"]
if fit.empty:
    st.info("No rides yet: import rides (or run the demo) to see fitness.")
else:
    today_rows = fit[fit["date"] <= data["today"]]
    current = today_rows.iloc[-1] if not today_rows.empty else fit.iloc[0]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Fitness (CTL)", f"{current['ctl']:.1f}")
    c2.metric("Fatigue (ATL)", f"{current['atl']:.1f}")
    c3.metric("Form (TSB)", f"{current['tsb']:+.1f}")
    c4.metric("Ramp (CTL, 7 days)", f"{current['ramp']:+.1f}")
    figure = go.Figure()
    past, future = fit[~fit["projected"]], fit[fit["projected"]]
    for frame, dash, suffix in ((past, "solid", ""), (future, "dash", " (plan)")):
        if frame.empty:
            continue
        figure.add_scatter(x=frame["date"], y=frame["ctl"], name=f"CTL{suffix}", line=dict(color="#3A86FF", dash=dash))
        figure.add_scatter(x=frame["date"], y=frame["atl"], name=f"ATL{suffix}", line=dict(color="#E4572E", dash=dash))
        figure.add_bar(x=frame["date"], y=frame["tsb"], name=f"TSB{suffix}", marker_color="#2A9D8F",
                       opacity=0.45 if suffix else 0.7)
    figure.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"),
                         yaxis_title="TSS / day")
    st.plotly_chart(figure, width="stretch", key="fitness_chart")
    with st.expander("How these are computed"):
        st.markdown(f"Time constants: τ_CTL = **{constants['ctl_days']:g} days**, τ_ATL = "
                    f"**{constants['atl_days']:g} days** (change them in Settings).")
        st.markdown(dashboard.FORMULAS_MARKDOWN)

# ---------------------------------------------------------------------------------------------- volume
st.subheader("Volume")
left, right = st.columns([1, 3])
period = left.radio("Period", ("week", "month"), format_func=lambda p: "Weekly" if p == "week" else "Monthly",
                    key="dashboard_period", horizontal=True)
metric = left.selectbox("Metric", list(dashboard.METRICS), key="dashboard_metric",
                        format_func=lambda k: dashboard.METRICS[k][0])
totals: pd.DataFrame = data["weekly" if period == "week" else "monthly"]
with right:
    if totals.empty:
        st.info("No rides in this window.")
    else:
        label, factor, unit = dashboard.METRICS[metric]
        chart = totals.assign(value=totals[metric] * factor)
        summed = metric in dashboard.SUMMED_METRICS
        fig = px.bar(chart, x="period_start", y="value", color="sport_type", barmode="stack" if summed else "group",
                     labels={"period_start": period.capitalize(), "value": f"{label} {unit}".strip(),
                             "sport_type": "Sport"})
        if period == "week" and planned and metric in ("moving_time_s", "tss"):
            plan_value = planned["duration_s"] * factor if metric == "moving_time_s" else planned["tss"]
            fig.add_hline(y=plan_value, line_dash="dot", annotation_text="this week's plan")
        fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
        st.plotly_chart(fig, width="stretch", key="volume_chart")

# ---------------------------------------------------------------------------------------------- zones, bests
zones_col, bests_col = st.columns(2)
with zones_col:
    st.subheader("Time in zones per week")
    kind = st.radio("Zones", ("power", "hr"), format_func=lambda k: "Power" if k == "power" else "Heart rate",
                    key="dashboard_zones", horizontal=True)
    zones = data["zones_power" if kind == "power" else "zones_hr"]
    if zones.empty:
        st.info("No zone data yet.")
    else:
        zones = zones.assign(hours=zones["seconds"] / 3600, zone=("Z" + zones["zone"].astype(str)))
        fig = px.bar(zones, x="period_start", y="hours", color="zone", labels={"period_start": "Week"},
                     color_discrete_sequence=px.colors.sequential.Plasma_r)
        fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10))
        st.plotly_chart(fig, width="stretch", key="zones_chart")
with bests_col:
    st.subheader("Season bests (power curve)")
    bests: pd.DataFrame = data["season_bests"]
    if bests.empty:
        st.info("No power data this season or last.")
    else:
        year = data["today"].year
        long = bests.melt(id_vars="duration_s", value_vars=["this_season_w", "last_season_w"], var_name="season",
                          value_name="watts").dropna()
        long["season"] = long["season"].map({"this_season_w": str(year), "last_season_w": str(year - 1)})
        fig = px.line(long, x="duration_s", y="watts", color="season", markers=True, log_x=True,
                      labels={"duration_s": "Duration (s)", "watts": "Best power (W)"})
        fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10))
        st.plotly_chart(fig, width="stretch", key="bests_chart")

# ---------------------------------------------------------------------------------------------- plan
st.subheader("Plan")
plan = data["plan"]
if plan is None:
    st.info("No active training plan. Create one with the coach to see planned against done.")
    try:
        st.page_link("pages/coach.py", label="Open the coach", icon="🧭")
    except Exception:  # noqa: BLE001 — the coach page is not registered in this build
        st.caption("The coach page is not available in this build.")
else:
    progress: pd.DataFrame = data["plan_progress"]
    st.markdown(f"**{plan['name']}** · {plan['start_date']:%d %b} – {plan['end_date']:%d %b %Y}")
    table = pd.DataFrame({
        "Week": progress["period_start"],
        "": [COLOUR_DOT.get(c) for c in progress["colour"]],
        "Planned (h)": progress["planned_s"] / 3600,
        "Done (h)": progress["done_s"] / 3600,
        "Compliance (%)": progress["compliance_pct"],
        "Planned TSS": progress["planned_tss"],
        "Done TSS": progress["done_tss"],
    })
    st.dataframe(table, hide_index=True, width="stretch", key="plan_progress_table",
                 column_config={"Planned (h)": st.column_config.NumberColumn(format="%.1f"),
                                "Done (h)": st.column_config.NumberColumn(format="%.1f"),
                                "Compliance (%)": st.column_config.NumberColumn(format="%.0f"),
                                "Planned TSS": st.column_config.NumberColumn(format="%.0f"),
                                "Done TSS": st.column_config.NumberColumn(format="%.0f")})
    st.caption("🟢 within ±20 % of the planned duration · 🟠 50–79 % or 121–150 % · 🔴 otherwise · "
               "⚪ nothing planned or not started")
    st.markdown("**Upcoming workouts**")
    upcoming = data["upcoming"]
    if upcoming:
        st.dataframe(pd.DataFrame(upcoming).drop(columns=["id"]), hide_index=True, width="stretch",
                     key="upcoming_table")
    else:
        st.caption(f"Nothing planned from {data['today']:%d %b} on.")
