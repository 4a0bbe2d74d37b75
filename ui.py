"""The one non-page module that imports streamlit: cached connection, current athlete, error display."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.config import Settings, load_settings
from core.errors import DatabaseDamagedError, VeloCoachError
from core.store.db import Database, connect, damaged, data_version, is_damage
from core.views.text import md, plain

log = logging.getLogger("velocoach.ui")


def setup_logging(current: Settings) -> None:
    """The rotating log file in the data folder, once per process (core/logs.py)."""
    from core.logs import setup_logging as setup

    setup(current)


def settings() -> Settings:
    """Validated settings; a bad setting stops the page with a clear message."""
    try:
        return load_settings()
    except VeloCoachError as exc:
        st.error(md(exc))
        st.stop()


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    from core.setup import first_run, upgrade

    db = connect(path)
    first_run(db, load_settings(), newest_weeks_first=True)  # the rest: finish_first_start, after a page draws
    upgrade(db)  # rides stored by an older elevation/climbs method are recomputed once
    return db


def database() -> Database:
    path = str(settings().db_path)
    try:
        with st.spinner("Opening the database (the first start builds the demo season)…"):
            return _database(path)
    except VeloCoachError as exc:
        st.error(md(exc))
        st.stop()


def warm_up() -> None:
    """At server start (app.py runs this in a thread): what the first page needs, done while the browser is still
    loading Streamlit's scripts — the database opened (a first start seeds the demo's newest weeks here) and the
    Dashboard's libraries imported. A failure is only logged: the first session meets it again and says so."""
    started = time.perf_counter()
    try:
        _database(str(load_settings().db_path))
    except Exception as exc:  # noqa: BLE001 — e.g. a command line holds the file: the page names it
        log.info("the database opens with the first page instead: %s", exc)
    import core.rides.dashboard  # noqa: F401 — pandas and numpy, for the Dashboard's frames
    import core.views.planview  # noqa: F401
    import core.views.ridecharts  # noqa: F401

    log.info("ready for the first page in %.1f s", time.perf_counter() - started)


FIRST_PAGE_DRAW_S = 3.0  # the script has sent the page; the browser still lays out its charts (on the same CPUs)


@st.cache_resource(show_spinner=False)
def _demo_completion(path: str):
    from core.setup import DemoCompletion

    return DemoCompletion(_database(path), delay_s=FIRST_PAGE_DRAW_S)


def finish_first_start() -> None:
    """After the first page is drawn: the rest of a pending demo season, in a background thread (once per
    process; nothing to do after the first start)."""
    try:
        _demo_completion(str(settings().db_path)).start()
    except Exception as exc:  # noqa: BLE001 — after the page: the page already named a database problem, if any
        log.warning("the demo season is not being completed now (the next start tries again): %s", exc)


@st.fragment(run_every=3)
def _demo_season_note(athlete: int) -> None:
    from core.demo import demo_progress

    progress = demo_progress(cursor(), athlete)
    if progress is None:
        st.rerun(scope="app")  # the season is complete: draw the page with all of it
    done, total = progress
    if _demo_completion(str(settings().db_path)).error is not None:
        st.warning(f"The rest of the demo season could not be built ({done} of {total} weeks are); the next start "
                   "tries again. The Health page lists the problem.")
        return
    st.info(f"Building the rest of the demo season in the background: {done} of {total} weeks so far, newest "
            "first. Totals and fitness count only the weeks built yet; this page redraws when the season is "
            "complete.", icon=":material/hourglass_top:")


def demo_season_note(athlete: int) -> None:
    """While the athlete's demo season is still being built: how far it is (the page redraws when it is done)."""
    from core.demo import demo_progress

    if demo_progress(cursor(), athlete) is not None:
        _demo_season_note(athlete)


def cursor():
    """This thread's cursor on the process-wide connection."""
    return database().cursor()


def current_data_version() -> int:
    """Key for st.cache_data reads: bumped by every import or edit."""
    return data_version(cursor())


def athlete_id() -> int:
    """The athlete chosen in Settings (session state), else the first one."""
    from core.athletes import first_athlete_id

    chosen = st.session_state.get("athlete_id")
    if chosen is None:
        chosen = first_athlete_id(cursor())
        if chosen is None:
            st.info("No athlete yet: create one in Settings.")
            st.stop()
        st.session_state["athlete_id"] = chosen
    return chosen


def units():
    """The current athlete's units and time zone (Settings), for core.views.fmt."""
    from core.athletes import get_athlete
    from core.views.fmt import Units

    return Units.from_preferences(get_athlete(cursor(), athlete_id())["preferences"])


@st.cache_resource(show_spinner=False, max_entries=16)
def _prepared_map(key: str, version: tuple, _build) -> dict:
    """What st_folium sends for the map ``_build()`` returns, worked out once per ``key`` and ``version``: rendering
    a folium map (jinja templates, bounds over every point) cost ~55 ms of each rerun. The steps are
    streamlit-folium 0.27.4's own (``st_folium``, pinned in requirements.txt), in its order."""
    import streamlit_folium as sf

    folium_map = _build()
    folium_map.get_root().render()
    folium_map.render()
    html, header = sf._get_html(folium_map), sf._get_header(folium_map)
    script = sf._get_map_string(folium_map)
    links = list(_walk(folium_map))
    return {"script": script, "header": header, "html": html, "id": sf.get_full_id(folium_map),
            "key": sf.generate_js_hash(script, key, False),
            "css_links": list(dict.fromkeys(href for e in links for _, href in getattr(e, "default_css", []))),
            "js_links": list(dict.fromkeys(src for e in links for _, src in getattr(e, "default_js", []))),
            "simplification": getattr(folium_map, "velocoach_simplification", None)}


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def map_layer_script(layer) -> str:
    """A folium.FeatureGroup as the script streamlit-folium evaluates over a kept map (``kept_map``'s ``layer``).
    The script names its elements at random: a page that wants the browser to leave the layer alone across reruns
    keeps the script, not the layer."""
    import folium
    import streamlit_folium as sf

    return sf._get_feature_group_string(layer, folium.Map(tiles=None))  # a throwaway parent: the kept map never changes


def kept_chart(spec: dict | None, key: str, where=None) -> None:
    """A Vega-Lite chart under a stable key (nothing when ``spec`` is None). Its spec is the same from ride to ride
    but for its rows, so another choice of the same kind swaps the rows of the chart already drawn."""
    if spec is not None:
        with (where or st).container(key=key):  # Streamlit marks a keyed container (.st-key-…), not a keyed chart
            st.vega_lite_chart(spec=spec, width="stretch", key=f"{key}_vega")


def kept_map(key: str, version: tuple, build, *, layer=None, height: int = 460) -> dict:
    """An offline folium map (``build()``, core.views.mapview) built once per ``key`` and ``version`` and sent the
    same on every rerun, so the browser keeps it (and the rider's zoom and pan); ``layer``, a folium.FeatureGroup
    or its ``map_layer_script``, is drawn over it and swapped on its own (the browser redraws it when the script
    changes). Returns the prepared map (its ``simplification`` for captions)."""
    import streamlit_folium as sf

    prepared = _prepared_map(key, version, build)
    layer_script = layer if layer is None or isinstance(layer, str) else map_layer_script(layer)
    sf._component_func(
        script=prepared["script"], header=prepared["header"], html=prepared["html"], id=prepared["id"],
        key=prepared["key"], height=height, width=None, returned_objects=[], default={}, zoom=None, center=None,
        feature_group=layer_script, return_on_hover=False, layer_control=None, pixelated=False,
        css_links=prepared["css_links"], js_links=prepared["js_links"], on_change=None, wrap_longitude=False)
    return prepared


def metric_grid(tiles, per_row: int = 4) -> None:
    """Figure tiles (label, value, help[, change, change colour]) in rows of ``per_row``, as one escaped HTML element
    (core.views.tiles): at 1280 px with the sidebar open a tile is about 200 px wide, room for a value of about ten
    characters (the e2e sweep checks that none is cut off)."""
    from core.views.tiles import tiles_html

    st.html(tiles_html(list(tiles), per_row))


def ride_picker(label: str, key: str, *, wanted: int | None = None, container=None) -> int | None:
    """A search box (date, name or #id, searched in SQL with a LIMIT) and a select box of the matches; returns the
    ride id chosen (``wanted`` first when it is the athlete's ride), None when nothing matches."""
    from core.rides.find import PICKER_LIMIT, find_rides
    from core.rides.store import get_ride
    from core.views.ridecharts import ride_label

    where = container or st
    query = where.text_input(f"Find {label.lower()}", key=f"{key}_query", max_chars=200,
                             placeholder="a date (2025-03-14, 2025-03), words of its name or #id")
    rows = find_rides(cursor(), athlete_id(), query)
    labels = {r["id"]: ride_label(r) for r in rows}
    if wanted is not None and wanted not in labels and not query:
        try:
            labels = {wanted: ride_label(get_ride(cursor(), athlete_id(), wanted)), **labels}
        except VeloCoachError:
            pass
    if not labels:
        where.caption(f"No ride matches “{md(query)}”." if query else "No rides yet.")
        return None
    ids = list(labels)
    chosen = where.selectbox(label, ids, format_func=labels.get, key=key, index=ids.index(wanted) if wanted in ids
                             else 0)
    if len(rows) >= PICKER_LIMIT:
        where.caption(f"The {PICKER_LIMIT} newest matches; type a date or more of the name to find older rides.")
    return chosen


_OUTCOME_ICONS = {"success": ":green[:material/check_circle:] Stored", "info": ":blue[:material/info:] Already there",
                  "error": ":red[:material/error:] Not imported"}


def import_zone(key: str, label: str, *, types: tuple[str, ...], as_kind: str | None, help_text: str,
                shown: int = 30) -> list[dict]:
    """The one import flow: a drop zone whose new files are imported at once (each file once), a progress bar, then
    the batch in one sentence and each file's outcome (in words and colour) with a link to the ride or route it
    stored. Returns this run's new results (empty when nothing new was dropped)."""
    from core.importer import import_files
    from core.views import importview

    uploads = st.file_uploader(label, type=list(types), accept_multiple_files=True, key=key, help=help_text)
    seen = st.session_state.setdefault(f"{key}_seen", set())
    new_files = [f for f in uploads or [] if f.file_id not in seen]
    fresh: list[dict] = []
    if new_files:
        bar = st.progress(0.0, text=f"Importing {len(new_files)} file(s)…")

        def progress(done: int, total: int, name: str) -> None:
            bar.progress(done / total, text=f"Read {done} of {total}: {md(name)}")

        with friendly_errors("importing files"):
            fresh = import_files(cursor(), athlete_id(), ((f.name, f.getvalue()) for f in new_files),
                                 as_kind=as_kind, progress=progress)
            seen.update(f.file_id for f in new_files)
            st.session_state[f"{key}_results"] = fresh
        bar.empty()  # the summary below says what happened; a full bar would read as success
    results = st.session_state.get(f"{key}_results", [])
    if results:
        level, sentence = importview.summary(results)
        getattr(st, level)(sentence)
        rider_units = units()
        for result in results[:shown]:
            outcome = importview.outcome(result, rider_units)
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(f"{_OUTCOME_ICONS[outcome.level]}: {outcome.text}")
            if outcome.link_page:
                right.page_link(outcome.link_page, label=outcome.link_label, icon=":material/open_in_new:",
                                query_params={"id": outcome.link_id})
            for warning in outcome.warnings:
                left.caption(f":orange[:material/warning:] {warning}")
        if len(results) > shown:
            st.caption(f"… and {len(results) - shown} more files.")
    return fresh


def show_damage(exc: BaseException) -> None:
    """A damaged database: which file, what to do, and the way to the Backup page that saves what can be read."""
    st.session_state["database_damaged"] = True
    message = exc if isinstance(exc, DatabaseDamagedError) else damaged(settings().db_path, exc)
    st.error(md(message), icon=":material/report:")
    st.page_link("app_pages/backup_page.py", label="Check the database and save what can be read",
                 icon=":material/medical_services:")


def show_unexpected(exc: BaseException, action: str) -> None:
    """An unexpected failure, logged with context; shown with its type and message in development only
    (VELOCOACH_ENV), never as a traceback."""
    if is_damage(exc):
        show_damage(exc)
        return
    log.exception("unexpected error while %s", action)
    detail = f" ({type(exc).__name__}: {str(exc)[:200]})" if _show_detail() else ""
    st.error(f"Something went wrong while {md(action)}{md(detail)}. Nothing was changed; the details are in the "
             "app's log.")


def _show_detail() -> bool:
    try:
        return load_settings().error_detail
    except VeloCoachError:
        return False


@contextmanager
def friendly_errors(action: str) -> Iterator[None]:
    """Show a VeloCoachError as its message; anything unexpected is logged with context and shown briefly."""
    try:
        yield
    except DatabaseDamagedError as exc:
        show_damage(exc)
    except VeloCoachError as exc:
        st.error(md(exc))
    except Exception as exc:  # noqa: BLE001 — the rider never sees a traceback
        show_unexpected(exc, action)


def show_plan(plan: dict, projection: dict | None, key: str, *, ftp_w: float | None = None,
              engine: dict | None = None) -> None:
    """A plan as both plan pages show it: tiles, fitness to race day, weekly load, the weeks and why, the calendar,
    and one workout's steps in watts (with ``ftp_w``, the FTP of today)."""
    from core.views import planview

    weekly_ctl = [w["ctl_end"] for w in (projection or {}).get("weeks", [])] or None
    for tiles in (planview.plan_metrics(plan, None), planview.projection_tiles(projection or {}, engine)):
        metric_grid([(label, value, None, delta) for label, value, delta in tiles])
    if projection and projection.get("days"):
        st.plotly_chart(planview.projection_figure(projection), key=f"{key}_fitness", width="stretch")
    st.plotly_chart(planview.plan_figure(plan, weekly_ctl), key=f"{key}_chart", width="stretch")
    if projection:
        st.dataframe(planview.weeks_frame(projection), hide_index=True, placeholder="—", key=f"{key}_weeks", width="stretch")
    st.dataframe(planview.calendar_frame(plan), hide_index=True, placeholder="—", key=f"{key}_calendar", width="stretch")
    choices = planview.workout_choices(plan)
    if choices and ftp_w:
        day = st.selectbox("Workout", list(choices), format_func=choices.get, key=f"{key}_workout")
        st.caption(f"Targets in watts for your FTP of {ftp_w:.0f} W today (they follow your FTP when it changes).")
        st.dataframe(planview.steps_frame(plan, day, ftp_w), hide_index=True, placeholder="—", key=f"{key}_steps")


def session_controls() -> None:
    """With sign-in on: a Sign out link, and a reload of the page when the session ends, so the browser lands on
    the sign-in form instead of Streamlit's "Connection failed" when it next reconnects."""
    import streamlit.components.v1 as components

    from shell.gate import SESSION_COOKIE
    from shell.login import LOGOUT_PATH
    from shell.server import current_shell

    shell = current_shell()
    expires_at = shell.session_expiry(st.context.cookies.get(SESSION_COOKIE)) if shell is not None else None
    if expires_at is None:
        return
    # Markdown links open a new tab; this constant anchor signs out in this one.
    st.sidebar.markdown(f'<a href="{LOGOUT_PATH}" target="_self">Sign out</a>', unsafe_allow_html=True)
    delay_ms = min(2**31 - 1, max(0, int((expires_at - time.time()) * 1000) + 1000))
    with st.sidebar:
        components.html(f"<script>setTimeout(function () {{ window.parent.location.reload(); }}, {delay_ms});"
                        "</script>", height=0)


# ------------------------------------------------------------------------------------------------------------------
# Plans page: the calendar with its day and edits, versions and scenarios (logic and text in core/)
# ------------------------------------------------------------------------------------------------------------------

def _move_anchor(key: str, view_key: str, step: int | None, home) -> None:
    from core.views.calendarview import shift_anchor

    view = st.session_state.get(view_key, "month")
    st.session_state[key] = home if step is None else shift_anchor(view, st.session_state[key], step)


def plan_calendar(cur, athlete: int, plan: dict, *, ftp_w: float | None, today) -> None:
    """Month or week grid of the plan against the rides; a day's steps, matched rides and edits. Its own controls
    (view, Previous/Today/Next, the day) rerun the calendar alone (a fragment); a saved edit reruns the page."""
    _plan_calendar_fragment(athlete, plan, ftp_w, today)


@st.fragment
def _plan_calendar_fragment(athlete: int, plan: dict, ftp_w: float | None, today) -> None:
    with friendly_errors("showing the calendar"):  # a fragment's own rerun runs outside the page's guard
        _plan_calendar(cursor(), athlete, plan, ftp_w=ftp_w, today=today)  # this run's own cursor


def _plan_calendar(cur, athlete: int, plan: dict, *, ftp_w: float | None, today) -> None:
    from datetime import timedelta

    from core.coach.plans.calendar import plan_days, plan_span
    from core.views import calendarview as cv

    pid = plan["id"]
    # One view and one anchor for every plan: a new version keeps the month or week the rider was looking at.
    anchor_key, view_key = "cal_anchor", "cal_view"
    home = cv.default_anchor(plan, today)
    span_first, span_last = plan_span(plan)
    anchor, margin = st.session_state.get(anchor_key), timedelta(days=31)  # a month view starts on the 1st
    if anchor is None or not span_first - margin <= anchor <= span_last + margin:
        st.session_state[anchor_key] = home
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    view = c1.radio("Calendar", ["month", "week"], format_func=str.capitalize, horizontal=True, key=view_key)
    c2.button("◀ Previous", key=f"cal_prev_{pid}", on_click=_move_anchor, args=(anchor_key, view_key, -1, home))
    c3.button("Today", key=f"cal_home_{pid}", on_click=_move_anchor, args=(anchor_key, view_key, None, home))
    c4.button("Next ▶", key=f"cal_next_{pid}", on_click=_move_anchor, args=(anchor_key, view_key, 1, home))
    first, last = cv.view_span(view, st.session_state[anchor_key])
    days = plan_days(cur, athlete, plan, first, last, today=today)
    shown = [d for d in days if d["in_plan"]]
    st.markdown(f"**{cv.span_label(first, last, view)}**")
    if not shown:
        st.info("This plan has no days here: use Previous, Next or Today.")
        return
    labels = {d["date"]: cv.day_choice_label(d) for d in shown}
    dates = list(labels)
    pick = st.selectbox("Day", dates, format_func=labels.get, key=f"cal_day_{pid}_{first}",
                        index=dates.index(today) if today in dates else 0)
    st.html(cv.calendar_html(days, selected=pick, today=today, detailed=view == "week"))
    st.html(cv.legend_html())
    if view == "week":
        st.caption(cv.week_summary(days))
    day = next(d for d in shown if d["date"] == pick)
    left, right = st.columns([3, 2])
    with left:
        riding = [w for w in day["workouts"] if w["type"] != "rest"]
        for n, w in enumerate(riding):
            if w.get("steps"):
                st.plotly_chart(cv.step_figure(w["steps"], ftp_w, title=cv.workout_line(w)),
                                key=f"cal_steps_{pid}_{pick}_{n}", width="stretch")
            st.caption(md(w.get("description") or cv.workout_line(w)))
        if not riding:
            st.caption("Rest day: nothing planned.")
    with right:
        st.markdown(f"**{md(cv.status_text(day['status'], day.get('compliance_pct')))}**")
        for r in cv.ride_rows(day):
            done = f" · completes {r['completes']}" if r["completes"] else ""
            st.page_link("app_pages/ride_page.py", label=md(f"{r['name']} · {r['minutes']}′{done}", 120),
                         query_params={"id": str(r["id"])}, icon=":material/directions_bike:")
        all_days = plan_days(cur, athlete, plan, *plan_span(plan), today=today)
        _plan_edit_form(cur, athlete, plan, day, cv.editable_days(all_days, today), today)


def _plan_edit_form(cur, athlete: int, plan: dict, day: dict, editable: list[dict], today) -> None:
    from core.coach.plans.edits import edit_plan
    from core.errors import RuleBreakError
    from core.views import calendarview as cv

    pid = plan["id"]
    if day["date"] not in {d["date"] for d in editable}:
        st.caption("Days already past and the event day are not edited.")
        return
    action = st.selectbox("Change this day", list(cv.EDIT_ACTIONS), format_func=cv.EDIT_ACTIONS.get,
                          key=f"cal_action_{pid}")
    edit: dict = {"kind": action, "day": day["date"]}
    others = {d["date"]: cv.day_choice_label(d) for d in editable if d["date"] != day["date"]}
    if action in ("move", "swap") and others:
        edit["to"] = st.selectbox("To" if action == "move" else "With", list(others), format_func=others.get,
                                  key=f"cal_to_{pid}_{action}")
    elif action == "replace":
        choices = cv.library_choices()
        edit["workout_id"] = st.selectbox("Library workout", list(choices), format_func=choices.get,
                                          key=f"cal_library_{pid}")
    elif action == "duration":
        now = max((float(w["duration_min"]) for w in day["workouts"]), default=60.0)
        edit["minutes"] = st.number_input("Minutes", 20, 720, int(now) if now >= 20 else 60, step=5,
                                          key=f"cal_minutes_{pid}")
    refused = st.session_state.get(f"cal_refused_{pid}")
    override = False
    if refused and refused[0] == repr(edit):
        st.error(md(refused[1]))
        override = st.checkbox("Save anyway: I choose to break this rule (recorded in the version)",
                               key=f"cal_override_{pid}")
    if st.button("Save as a new version", key=f"cal_save_{pid}", type="primary"):
        with friendly_errors("editing the plan"):
            try:
                result = edit_plan(cur, athlete, pid, edit, override=override, today=today)
            except RuleBreakError as exc:
                st.session_state[f"cal_refused_{pid}"] = (repr(edit), str(exc))
                st.rerun()
            st.session_state.pop(f"cal_refused_{pid}", None)
            st.session_state["plans_selected_plan"] = result.plan_id
            st.session_state["plans_flash"] = cv.edit_message(result)
            st.rerun()


def plan_scenarios(cur, athlete: int, plan: dict, plans: list[dict], today) -> None:
    """Versions with what made each, roll back after a confirmation, compare any two plans or versions, branch
    into a scenario, save as a template and start a plan from one."""
    from core.coach.plans.scenarios import compare_two
    from core.coach.plans.schema import next_monday
    from core.coach.plans.store import branch_plan, list_plans, plan_from_template, plan_versions, rollback_plan
    from core.views import scenarioview as sv

    pid = plan["id"]
    st.subheader("Versions and scenarios")
    versions = plan_versions(cur, athlete, pid)
    st.dataframe(sv.version_rows(versions), hide_index=True, placeholder="—", key=f"plan_versions_{pid}", width="stretch")
    if plan["parent_plan_id"]:
        if st.button("Roll back…", key=f"plan_rb_{pid}"):
            st.session_state["plans_confirm_rollback"] = pid
        if st.session_state.get("plans_confirm_rollback") == pid:
            st.warning(sv.rollback_question(plan, versions))
            y, n = st.columns(2)
            if y.button("Yes, roll back", key=f"plan_rb_yes_{pid}", type="primary"):
                with friendly_errors("rolling back"):
                    st.session_state["plans_selected_plan"] = rollback_plan(cur, athlete, pid)
                    st.session_state["plans_flash"] = "Rolled back: saved as a new version; the others are kept."
                    st.session_state.pop("plans_confirm_rollback", None)
                    st.rerun()
            if n.button("Cancel", key=f"plan_rb_no_{pid}"):
                st.session_state.pop("plans_confirm_rollback", None)
                st.rerun()
    templates = list_plans(cur, athlete, templates=True)
    choices = sv.compare_choices(plans, templates)
    ids = list(choices)
    a_col, b_col = st.columns(2)
    default_a = plan["parent_plan_id"] if plan["parent_plan_id"] in ids else ids[-1]
    a = a_col.selectbox("Compare A", ids, index=ids.index(default_a), format_func=choices.get, key=f"cmp_a_{pid}")
    b = b_col.selectbox("with B", ids, index=ids.index(pid) if pid in ids else 0, format_func=choices.get,
                        key=f"cmp_b_{pid}")
    if a != b:
        with friendly_errors("comparing the plans"):
            result = compare_two(cur, athlete, a, b, today=today)
            st.caption(sv.compare_caption(result))
            st.dataframe(sv.summary_frame(result), hide_index=True, placeholder="—", key=f"cmp_summary_{pid}")
            st.dataframe(sv.weeks_compare_frame(result), hide_index=True, placeholder="—", key=f"cmp_weeks_{pid}")
            st.dataframe(sv.days_compare_frame(result), hide_index=True, placeholder="—", key=f"cmp_days_{pid}", width="stretch")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Name of the copy", f"{plan['name']} (scenario)"[:120], key=f"plan_copy_name_{pid}")
    if c1.button("Branch into a scenario", key=f"plan_branch_{pid}"):
        with friendly_errors("branching the plan"):
            st.session_state["plans_selected_plan"] = branch_plan(cur, athlete, pid, name)
            st.session_state["plans_flash"] = f"Saved the scenario “{name}” (version 1 of its own)."
            st.rerun()
    if c2.button("Save as a template", key=f"plan_template_{pid}", help="Keeps the weeks to start a plan from "
                                                                           "later, on other dates"):
        with friendly_errors("saving the template"):
            branch_plan(cur, athlete, pid, name, template=True)
            st.session_state["plans_flash"] = f"Saved the template “{name}”."
            st.rerun()
    tchoices = {t["id"]: plain(t["name"]) for t in templates}
    if tchoices:
        template = c3.selectbox("Template", list(tchoices), format_func=tchoices.get, key=f"plan_tpl_pick_{pid}")
        start = c3.date_input("Starting", next_monday(today), key=f"plan_tpl_start_{pid}")
        if c3.button("Start a plan from the template", key=f"plan_tpl_start_btn_{pid}"):
            with friendly_errors("starting a plan from the template"):
                st.session_state["plans_selected_plan"] = plan_from_template(cur, athlete, template, start)
                st.session_state["plans_flash"] = f"Started a plan from the template “{tchoices[template]}”."
                st.rerun()
    else:
        c3.caption("Save a plan as a template to start new plans from it.")


def address_id() -> int | None:
    """The ?id=N of the address when it is a plain positive number (hostile or odd values give None)."""
    value = st.query_params.get("id")
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 18 else None


def pick_by_address(label: str, labels: dict[int, str], *, key: str, noun: str) -> int:
    """A selectbox over ``labels`` that starts at the address's ?id=N and keeps the address in step with the
    choice (so it can be shared); an unknown id says so and falls back to the first."""
    wanted = address_id()
    given = st.query_params.get("id")
    if given and wanted not in labels:
        st.warning(f"There is no {noun} #{md(given, 120)}: pick one below.")
    ids = list(labels)
    chosen = st.selectbox(label, ids, format_func=labels.get, key=key,
                          index=ids.index(wanted) if wanted in labels else 0)
    if st.query_params.get("id") != str(chosen):
        st.query_params["id"] = str(chosen)
    return chosen
