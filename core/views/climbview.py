"""What the Climbs page and the Ride page's terrain panels show, built without Streamlit: the climbs list, a
climb's efforts (fastest first, PR marked), its times over the months, a ride's efforts, intervals and
per-interval compliance. Nothing here writes."""

from __future__ import annotations

import pandas as pd

from core.rides import efforts as climb_efforts_store
from core.routes.climbs import get_climb


def clock(seconds: float | None) -> str:
    """754.3 → '12:34'; 3725 → '1:02:05'."""
    if seconds is None or seconds != seconds:
        return "–"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _num(value, digits: int = 0):
    return None if value is None else round(float(value), digits)


def category_label(category: str | None) -> str:
    return "" if not category else ("HC" if category == "HC" else f"Cat {category}")


def climb_label(row: dict) -> str:
    """'#3 Col de la Croix · 5.2 km at 7.1 % · Cat 2 · 4 efforts'."""
    text = f"#{row['climb_id']} {row['name']} · {row['length_m'] / 1000:.1f} km at {row['avg_grade_pct']:.1f} %"
    if row.get("category"):
        text += f" · {category_label(row['category'])}"
    return text + f" · {row['effort_count']} effort{'s' if row['effort_count'] != 1 else ''}"


def climbs_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "id": r["climb_id"], "Climb": r["name"], "km": round(r["length_m"] / 1000, 2),
        "Avg %": _num(r["avg_grade_pct"], 1), "Max %": _num(r["max_grade_pct"], 1), "Cat": category_label(r["category"]),
        "Gain m": _num(r["gain_m"]), "Efforts": r["effort_count"], "PR": clock(r["record_time_s"]),
        "Last ridden": r["last_ridden_at"].strftime("%Y-%m-%d") if r["last_ridden_at"] else ""} for r in rows])


def efforts_table(efforts: list[dict]) -> pd.DataFrame:
    """A climb's efforts as listed (fastest first): rank with the PR marked, date, time and the figures."""
    return pd.DataFrame([{
        "Rank": f"{e['rank']} ★ PR" if e["pr"] else str(e["rank"]), "Date": e["date"], "Time": clock(e["time_s"]),
        "Avg W": _num(e["avg_power_w"]), "W/kg": _num(e["w_per_kg"], 2), "VAM m/h": _num(e["vam_m_h"]),
        "Avg HR": _num(e["avg_hr"]), "km/h": _num(e["avg_speed_kmh"], 1), "Ride": f"#{e['ride_id']} {e['ride_name']}"}
        for e in efforts])


def efforts_chart(efforts: list[dict]) -> tuple[pd.DataFrame, dict] | None:
    """Each effort's time by date (lower is faster), the PR marked, as rows and a Vega-Lite spec; None with fewer
    than two efforts. The spec is the same for every climb (only the rows differ), so the browser keeps the chart
    and swaps its data when the rider picks another climb instead of drawing a new chart."""
    if len(efforts) < 2:
        return None
    ordered = sorted(efforts, key=lambda e: e["started_at"])
    rows = pd.DataFrame({
        "date": pd.to_datetime([e["started_at"] for e in ordered], utc=True).tz_localize(None),
        "minutes": [e["time_s"] / 60 for e in ordered], "time": [clock(e["time_s"]) for e in ordered],
        "effort": ["PR" if e["pr"] else "effort" for e in ordered]})
    x = {"field": "date", "type": "temporal", "title": None}
    y = {"field": "minutes", "type": "quantitative", "title": "minutes", "scale": {"zero": False}}
    spec = {"height": 260, "title": "Time on the climb", "layer": [
        {"mark": {"type": "line", "color": "#3A86FF"}, "encoding": {"x": x, "y": y}},
        {"mark": {"type": "point", "filled": True, "opacity": 1},
         "encoding": {"x": x, "y": y,
                      "color": {"field": "effort", "type": "nominal", "legend": None,
                                "scale": {"domain": ["effort", "PR"], "range": ["#3A86FF", "#E4572E"]}},
                      "size": {"field": "effort", "type": "nominal", "legend": None,
                               "scale": {"domain": ["effort", "PR"], "range": [50, 180]}},
                      "tooltip": [{"field": "date", "type": "temporal", "format": "%d %b %Y", "title": "Date"},
                                  {"field": "time", "type": "nominal", "title": "Time"}]}}]}
    return rows, spec


def climb_detail(cur, athlete_id: int, climb_id: int) -> dict:
    """The climb and its efforts (fastest first) for the Climbs page, with what it shows of them: the efforts
    table and the chart (``efforts_chart``), built once per climb so a page can keep them per data version."""
    climb = get_climb(cur, athlete_id, climb_id)
    climb["efforts"] = climb_efforts_store.climb_efforts(cur, athlete_id, climb_id)
    climb["efforts_table"] = efforts_table(climb["efforts"])
    climb["efforts_chart"] = efforts_chart(climb["efforts"])
    return climb


def ride_efforts_table(efforts: list[dict]) -> pd.DataFrame:
    """A ride's climb efforts, with the rank among every effort on that climb."""
    return pd.DataFrame([{
        "Climb": e["climb_name"], "Time": clock(e["time_s"]), "Avg W": _num(e["avg_power_w"]),
        "W/kg": _num(e["w_per_kg"], 2), "VAM m/h": _num(e["vam_m_h"]), "Avg HR": _num(e["avg_hr"]),
        "Rank": f"{e['rank']} of {e['efforts']}" + (" ★ PR" if e["pr"] and e["efforts"] > 1 else "")}
        for e in efforts])


def intervals_table(intervals: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Start": clock(i["start_s"]), "Duration": clock(i["duration_s"]), "Avg W": _num(i.get("avg_power_w")),
        "NP": _num(i.get("np_w")), "% FTP": _num(i.get("pct_ftp")), "Zone": i.get("zone") or "",
        "Avg HR": _num(i.get("avg_hr")), "Cadence": _num(i.get("avg_cadence")),
        "km/h": _num(i.get("avg_speed_kmh"), 1), "Found by": i.get("basis", "")} for i in intervals])


def compliance_table(compliance: dict) -> pd.DataFrame:
    rows = []
    for s in compliance["steps"]:
        bout = s["interval"] or {}
        target = f"{s['target_low_pct']:.0f}–{s['target_high_pct']:.0f} % FTP"
        if s["target_w"]:
            target += f" ({s['target_w'][0]}–{s['target_w'][1]} W)"
        rows.append({"Step": s["step"], "Target": target, "Planned": clock(s["planned_s"]),
                     "Ridden": clock(bout.get("duration_s")), "Held % FTP": _num(s["achieved_pct"]),
                     "Avg W": _num(bout.get("avg_power_w")), "Power": s["power"], "Duration": s["duration"]})
    return pd.DataFrame(rows)
