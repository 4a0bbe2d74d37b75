"""Settings: athlete profile, athletes, fitness time constants, data summary."""

from datetime import date, timedelta

import streamlit as st

import ui
from core.athletes import (
    FITNESS_LEVELS,
    RIDING_SETTINGS,
    create_athlete,
    data_summary,
    get_athlete,
    hard_includes_sweet_spot,
    list_athletes,
    privacy_zones,
    set_hard_includes_sweet_spot,
    set_privacy_zones,
    update_athlete,
    validate_profile,
)
from core.coach.ai import health_check as ai_health_check
from core.coach.ai import usage_totals as ai_usage_totals
from core.coach.rules.model import group_coverage
from core.errors import ValidationError, VeloCoachError
from core.garmin.accounts import delete_athlete_with_accounts, list_accounts
from core.garmin.schedule import INTERVALS, interval_label, set_auto_sync
from core.rides.powerstore import recompute_rides
from core.views import fmt
from core.views.powerview import FTP_CHANGE_NOTE
from core.views.text import md, plain

st.title("Settings")
cur = ui.cursor()
athletes = list_athletes(cur)
current_id = ui.athlete_id()

names = {a["id"]: f"{a['name']} (#{a['id']})" for a in athletes}


def _switch_athlete() -> None:
    st.session_state["athlete_id"] = st.session_state["settings_athlete"]


# The picker follows the current athlete (also when it changed elsewhere, e.g. "Create athlete" below); only the
# rider's own choice in it switches athletes.
st.session_state["settings_athlete"] = current_id
st.selectbox("Athlete", options=list(names), format_func=lambda i: plain(names[i]), key="settings_athlete",
             on_change=_switch_athlete)

if "settings_flash" in st.session_state:
    st.success(md(st.session_state.pop("settings_flash")))
athlete = get_athlete(cur, current_id)
prefs = athlete["preferences"]
units = fmt.Units.from_preferences(prefs)
with st.form("athlete_profile"):
    st.subheader("Profile")
    left, right = st.columns(2)
    name = left.text_input("Name", athlete["name"])
    email = right.text_input("E-mail", athlete["email"] or "")
    level = left.selectbox("Fitness level", FITNESS_LEVELS, index=FITNESS_LEVELS.index(athlete["fitness_level"]))
    ftp = right.number_input("FTP (W)", 0, 600, int(athlete["ftp_w"] or 0), help="0 = unknown", key="profile_ftp")
    max_hr = left.number_input("Max HR (bpm)", 0, 230, int(athlete["max_hr"] or 0), help="0 = unknown", key="profile_max_hr")
    lthr = right.number_input("Threshold HR, LTHR (bpm)", 0, 220, int(athlete["lthr"] or 0), help="0 = unknown", key="profile_lthr")
    weight = right.number_input("Weight (kg)", 0.0, 200.0, float(athlete["weight_kg"] or 0.0), step=0.5, key="profile_weight")
    st.markdown("**Training load preferences**")
    left, right = st.columns(2)
    ctl_days = left.number_input("Fitness (CTL) time constant, days", 7, 90, int(prefs.get("ctl_days", 42)))
    atl_days = right.number_input("Fatigue (ATL) time constant, days", 2, 30, int(prefs.get("atl_days", 7)))
    indoor = left.toggle("I ride indoors too (trainer)", bool(prefs.get("indoor_ok", True)))
    gap_methods = {"pauses": "Leave pauses out (GoldenCheetah's default, head units)",
                   "fix_gaps": "Count pauses over 90 s as 0 W (GoldenCheetah's Fix Gaps)"}
    gap_method = right.radio("Pauses in a recording (NP, TSS, zones)", list(gap_methods), format_func=gap_methods.get,
                             index=list(gap_methods).index(prefs.get("gap_method", "pauses"))
                             if prefs.get("gap_method", "pauses") in gap_methods else 0, key="profile_gap_method")
    st.markdown("**Riding setup** (route time estimates and gear hints)")
    left, middle, right = st.columns(3)
    riding = {key: prefs.get(key, default) for key, (_, _, default) in RIDING_SETTINGS.items()}
    cda = left.number_input("CdA (m²)", 0.15, 0.6, float(riding["cda_m2"]), step=0.01, format="%.2f",
                            help="Drag area: ~0.25 drops, 0.32 hoods, 0.40 upright", key="profile_cda")
    crr = middle.number_input("Rolling resistance Crr", 0.002, 0.02, float(riding["crr"]), step=0.001,
                              format="%.3f", help="~0.004 race tyres, 0.005 road, 0.008+ gravel", key="profile_crr")
    bike = right.number_input("Bike and kit (kg)", 4.0, 40.0, float(riding["bike_kg"]), step=0.5,
                              key="profile_bike")
    st.caption("CTL and ATL follow x = x·e^(−1/τ) + TSS·(1 − e^(−1/τ)); form (TSB) = yesterday's CTL − ATL.")
    st.markdown("**Display**")
    left, right = st.columns(2)
    unit_system = left.radio("Units", fmt.SYSTEMS, horizontal=True, key="profile_units",
                             index=fmt.SYSTEMS.index(units.system),
                             format_func={"metric": "Metric (km, m, km/h)", "imperial": "Imperial (mi, ft, mph)"}.get)
    zones = fmt.time_zones()
    zone = right.selectbox("Time zone", zones, index=zones.index(units.tz) if units.tz in zones else 0,
                           key="profile_timezone", help="Ride times and dates are shown in this zone.")
    if st.form_submit_button("Save profile", type="primary"):
        try:
            profile = validate_profile(
                name=name, email=email or None, fitness_level=level, ftp_w=ftp or None, max_hr=max_hr or None,
                lthr=lthr or None, weight_kg=weight or None,
                preferences={**prefs, "ctl_days": ctl_days, "atl_days": atl_days, "indoor_ok": indoor,
                             "gap_method": gap_method, "cda_m2": cda, "crr": crr, "bike_kg": bike, "units": unit_system,
                             "timezone": zone})
            update_athlete(cur, current_id, profile)
            st.success("Profile saved.")
            if (ftp or None) != athlete["ftp_w"] and ftp:
                st.info(FTP_CHANGE_NOTE)
            elif gap_method != prefs.get("gap_method", "pauses"):
                st.info("Rides you import from now on use the new pause rule; recompute stored rides below.")
        except VeloCoachError as exc:
            st.error(md(exc))

st.subheader("What counts as hard")
sweet_spot_hard = hard_includes_sweet_spot(cur, current_id)
chosen = st.toggle("Sweet spot (88–94 % FTP) counts as hard", sweet_spot_hard, key="settings_sweet_spot_hard",
                   help="Rules about hard sessions (“no hard days back to back”, “max 2 hard sessions a week”) "
                        "then cover sweet spot too. Saved rules follow the change.")
if chosen != sweet_spot_hard:
    with ui.friendly_errors("saving the setting"):
        set_hard_includes_sweet_spot(cur, current_id, chosen)
        sweet_spot_hard = chosen
st.caption(group_coverage("hard", hard_includes_sweet_spot=sweet_spot_hard))

with st.expander("Add an athlete"):
    with st.form("new_athlete", clear_on_submit=True):
        new_name = st.text_input("Name", key="new_athlete_name")
        new_ftp = st.number_input("FTP (W)", 0, 600, 0, key="new_athlete_ftp")
        if st.form_submit_button("Create athlete"):
            with ui.friendly_errors("creating the athlete"):
                new_id = create_athlete(cur, validate_profile(name=new_name, ftp_w=new_ftp or None))
                st.session_state["athlete_id"] = new_id
                st.rerun()

with st.expander("Delete this athlete"):
    st.markdown(f":red[:material/warning: Deletes {md(athlete['name'])} with every ride, route, plan, rule and "
                "Garmin sign-in of theirs. This cannot be undone: download a backup first (Backup page).]")
    typed = st.text_input(f"Type “{md(athlete['name'])}” to confirm", key=f"delete_athlete_name_{current_id}")
    if st.button("Delete athlete", key="delete_athlete", disabled=typed.strip() != athlete["name"],
                 type="primary"):
        with ui.friendly_errors("deleting the athlete"):
            deleted = delete_athlete_with_accounts(cur, current_id, confirm_name=typed)
            st.session_state.pop("athlete_id", None)  # the first remaining athlete becomes current
            st.session_state["settings_flash"] = (f"Deleted {athlete['name']} with {deleted.get('rides', 0)} rides "
                                                  f"and {deleted.get('plans', 0)} plan versions.")
            st.rerun()

with st.expander("Recompute stored rides"):
    st.caption("Recompute NP, IF, TSS, zones and best efforts of your rides from a day on, with the FTP of each "
               "ride's day (your FTP history) and your current pause rule.")
    recompute_from = st.date_input("From", date.today() - timedelta(days=30), key="recompute_from")
    if st.button("Recompute rides", key="recompute_rides"):
        with ui.friendly_errors("recomputing rides"):
            count = recompute_rides(cur, current_id, recompute_from)
            st.success(f"Recomputed {count} ride(s) from {recompute_from}.")

with st.expander("Privacy zones: places left out of ride maps and shared GPX files"):
    st.caption("Every recorded point within the radius of a zone (home, work) is left out of ride maps, Compare "
               "and GPX exports of rides, wherever in the ride it is. Backups keep everything.")
    zones = privacy_zones(cur, current_id)
    for index, zone in enumerate(zones):
        left, right = st.columns([4, 1])
        left.write(f"{plain(zone.name)}: {zone.lat:.5f}, {zone.lon:.5f}, {zone.radius_m:.0f} m")
        if right.button("Remove", key=f"privacy_remove_{index}"):
            with ui.friendly_errors("removing the privacy zone"):
                set_privacy_zones(cur, current_id, zones[:index] + zones[index + 1:])
                st.session_state["privacy_changed"] = True
    with st.form("privacy_zone", clear_on_submit=True):
        name_col, lat_col, lon_col, radius_col = st.columns(4)
        zone_name = name_col.text_input("Name", "Home", max_chars=60)
        zone_lat = lat_col.number_input("Latitude", -90.0, 90.0, None, format="%.5f", placeholder="48.85837")
        zone_lon = lon_col.number_input("Longitude", -180.0, 180.0, None, format="%.5f", placeholder="2.29448")
        zone_radius = radius_col.number_input("Radius (m)", 100, 5000, 500, step=100)
        if st.form_submit_button("Add privacy zone"):
            with ui.friendly_errors("adding the privacy zone"):
                if zone_lat is None or zone_lon is None:
                    raise ValidationError("Give the zone's latitude and longitude (e.g. from a map's right-click)")
                set_privacy_zones(cur, current_id, [*zones, {"name": zone_name.strip() or "Zone", "lat": zone_lat,
                                                             "lon": zone_lon, "radius_m": zone_radius}])
                st.session_state["privacy_changed"] = True
    if st.session_state.pop("privacy_changed", False):
        st.rerun()  # outside friendly_errors: a rerun is Streamlit's control flow, not an error

st.subheader("Background Garmin sync")
garmin_accounts = list_accounts(cur, current_id)
if not ui.settings().feature("background_sync"):
    st.caption("Turned off for this installation (VELOCOACH_FEATURES=-background_sync).")
elif not garmin_accounts:
    st.caption("No Garmin account yet: sign in on the Garmin sync page, then choose how often the app syncs it.")
else:
    st.caption("While the app is open it syncs each account on its own at the interval you choose here (off by "
               "default); the Garmin sync page shows the next run and the last result.")


def _set_interval(account_id: int) -> None:
    with ui.friendly_errors("changing the background sync"):
        set_auto_sync(ui.cursor(), account_id, st.session_state[f"auto_sync_{account_id}"])


for garmin_account in garmin_accounts if ui.settings().feature("background_sync") else []:
    options, chosen = [None, *INTERVALS], garmin_account["auto_sync_minutes"]
    st.selectbox(md(garmin_account["label"]), options, format_func=interval_label,
                 index=options.index(chosen) if chosen in options else 0, key=f"auto_sync_{garmin_account['id']}",
                 on_change=_set_interval, args=(garmin_account["id"],))

st.subheader("Your data")
summary = data_summary(cur, current_id)
units = ui.units()  # as just saved
ui.metric_grid([("Rides", fmt.number(summary["rides"]), None),
                ("Distance", fmt.distance(summary["distance_km"] * 1000, units, decimals=0), None),
                ("Routes", fmt.number(summary["routes"]), None),
                ("Plans", fmt.number(summary["plans"]), f"{summary['plan_versions']} versions in all"),
                ("Rules", fmt.number(summary["rules"]), None)], per_row=5)
if summary["first_ride_at"]:
    st.caption(f"Rides from {fmt.day(summary['first_ride_at'], units)} to {fmt.day(summary['last_ride_at'], units)}. "
               f"Database: {md(ui.settings().db_path)}")

st.subheader("AI service")
ai_settings = ui.settings()
if ai_settings.ai_enabled:
    st.caption(f"Model {md(ai_settings.ai_model)} at {md(ai_settings.ai_base_url or 'api.openai.com')}; at most "
               f"{ai_settings.ai_calls_per_minute} calls a minute. Any failure falls back to the built-in coach.")
elif not ai_settings.feature("ai_coach"):
    st.caption("The AI coach is switched off (VELOCOACH_FEATURES): the coach uses its built-in rule parser and "
               "periodisation engine, and the AI key is not used.")
else:
    st.caption("No AI key configured: the coach uses its built-in rule parser and periodisation engine. Set "
               "`ai_api_key` (and optionally `ai_base_url`, `ai_model`) in .streamlit/secrets.toml or VELOCOACH_AI_KEY.")
ai_totals = ai_usage_totals(cur)
ui.metric_grid([("AI calls", fmt.number(ai_totals["calls"]),
                 f"{ai_totals['cached']} answered from the cache, {ai_totals['failed']} failed or fell back"),
                ("Tokens in", f"{ai_totals['tokens_in']:,}", None), ("Tokens out", f"{ai_totals['tokens_out']:,}", None),
                ("AI cost", f"${ai_totals['cost_usd']:.4f}", None)])
if st.button("Check the AI service", key="ai_health_check"):
    with ui.friendly_errors("checking the AI service"):
        report = ai_health_check(cur, ai_settings)
        (st.success if report["ok"] else st.warning)(md(report["message"]))
