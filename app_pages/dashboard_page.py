"""Dashboard: where training stands — volume by week/month, fitness (CTL/ATL/TSB), zones, season bests, plan."""

from datetime import date

import pandas as pd
import streamlit as st

import ui
from core.rides import dashboard
from core.views import dashcharts, fmt, planview, ridecharts
from core.views.text import md

st.title("Dashboard")
cur = ui.cursor()
athlete = ui.athlete_id()
ui.demo_season_note(athlete)


@st.cache_data(show_spinner=False, max_entries=16)
def load(db_path: str, athlete_id: int, version: int, constants: tuple, today: date) -> dict:
    return dashboard.dashboard_data(ui.cursor(), athlete_id, today=today)


@st.cache_resource(show_spinner=False, max_entries=64)
def chart(kind: str, key: tuple, option: str = "") -> dict:
    """Vega-Lite specs, built once per data version and choice; cached as resources because Streamlit only reads
    them."""
    data = load(*key)
    if kind == "fitness":
        return dashcharts.fitness_chart(data["fitness"])
    if kind == "volume":
        period, metric = option.split(":")
        planned = data["week_vs_last"]["planned"]
        plan_value = None
        if period == "week" and planned and metric in ("moving_time_s", "tss"):
            plan_value = (planned["duration_s"] * dashboard.METRICS[metric][1] if metric == "moving_time_s"
                          else planned["tss"])
        return dashcharts.volume_chart(data["weekly" if period == "week" else "monthly"], metric, period, plan_value)
    if kind == "zones":
        return dashcharts.zones_chart(data["zones_power" if option == "power" else "zones_hr"], option)
    return dashcharts.bests_chart(data["season_bests"], data["today"].year)


def draw(spec: dict, key: str) -> None:
    with st.container(key=key):  # Streamlit marks a keyed container (.st-key-…), not a keyed Vega-Lite chart
        st.vega_lite_chart(spec=spec, width="stretch", key=f"{key}_spec")


data = None
with ui.friendly_errors("loading the dashboard"):
    cache_key = (str(ui.database().path), athlete, ui.current_data_version(), dashboard.time_constants(cur, athlete),
                 date.today())
    data = load(*cache_key)
if data is None:
    st.stop()

# ---------------------------------------------------------------------------------------------- this week
st.subheader("This week")
week = data["week_vs_last"]
planned = week["planned"]
ui.metric_grid(ridecharts.this_week_tiles(week, ui.units()))
if planned:
    st.caption(f"Planned this week: {planned['workouts']} workouts, {fmt.duration(planned['duration_s'])} h, "
               f"TSS {fmt.number(planned['tss'])}.")

# ---------------------------------------------------------------------------------------------- fitness
st.subheader("Fitness, fatigue and form")
fit: pd.DataFrame = data["fitness"]
constants = data["time_constants"]
if fit.empty:
    st.info("No rides yet: import rides (or run the demo) to see fitness.")
else:
    today_rows = fit[fit["date"] <= data["today"]]
    current = today_rows.iloc[-1] if not today_rows.empty else fit.iloc[0]
    ui.metric_grid(ridecharts.fitness_tiles(current))
    draw(chart("fitness", cache_key), "fitness_chart")
    with st.expander("How these are computed"):
        st.markdown(f"Time constants: τ_CTL = **{constants['ctl_days']:g} days**, τ_ATL = "
                    f"**{constants['atl_days']:g} days** (change them in Settings).")
        st.markdown(dashboard.FORMULAS_MARKDOWN)

# ---------------------------------------------------------------------------------------------- volume
# Each choice below reruns its own section only (a fragment), not the whole dashboard.
@st.fragment
def volume_section(data: dict, cache_key: tuple) -> None:
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
            draw(chart("volume", cache_key, f"{period}:{metric}"), "volume_chart")


@st.fragment
def zones_section(data: dict, cache_key: tuple) -> None:
    st.subheader("Time in zones per week")
    kind = st.radio("Zones", ("power", "hr"), format_func=lambda k: "Power" if k == "power" else "Heart rate",
                    key="dashboard_zones", horizontal=True)
    zones = data["zones_power" if kind == "power" else "zones_hr"]
    if zones.empty:
        st.info("No zone data yet.")
    else:
        draw(chart("zones", cache_key, kind), "zones_chart")


volume_section(data, cache_key)

# ---------------------------------------------------------------------------------------------- zones, bests
zones_col, bests_col = st.columns(2)
with zones_col:
    zones_section(data, cache_key)
with bests_col:
    st.subheader("Season bests (power curve)")
    bests: pd.DataFrame = data["season_bests"]
    if bests.empty:
        st.info("No power data this season or last.")
    else:
        draw(chart("bests", cache_key), "bests_chart")

# ---------------------------------------------------------------------------------------------- plan
st.subheader("Plan")
plan = data["plan"]
if plan is None:
    st.info("No active training plan. Create one with the coach to see planned against done.")
    try:
        st.page_link("app_pages/coach_page.py", label="Open the coach", icon="🧭")
    except Exception:  # noqa: BLE001 — the coach page is not registered in this build
        st.caption("The coach page is not available in this build.")
else:
    progress: pd.DataFrame = data["plan_progress"]
    st.markdown(f"**{md(plan['name'])}** · {plan['start_date']:%d %b} – {plan['end_date']:%d %b %Y}")
    table = planview.progress_frame(progress)
    # Static tables: a data grid here made the browser load its grid library before the first chart (issue 17)
    st.html(fmt.table_html(table, {"Status": planview.status_style}))
    st.caption(planview.STATUS_LEGEND)
    st.markdown("**Upcoming workouts**")
    upcoming = data["upcoming"]
    if upcoming:
        st.html(fmt.table_html(planview.upcoming_frame(upcoming)))
    else:
        st.caption(f"Nothing planned from {data['today']:%d %b} on.")
