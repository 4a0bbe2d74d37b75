"""What the one import flow (Rides and Routes pages) says about each file and the whole batch, without Streamlit:
a sentence per file (stored, already there, or why not), the link to open what was stored, a one-line summary.

Must never: write, read the database or import streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.views import fmt
from core.views.fmt import METRIC, Units
from core.views.text import md

RIDE_PAGE = "app_pages/ride_page.py"
ROUTES_PAGE = "app_pages/routes_page.py"


@dataclass(frozen=True)
class FileOutcome:
    level: str                      # success | info | error (what the page shows it with)
    text: str                       # Markdown, file names escaped
    link_page: str | None = None    # where the stored ride/route opens
    link_label: str | None = None
    link_id: int | None = None
    warnings: tuple[str, ...] = ()  # escaped


def outcome(result: dict, units: Units = METRIC) -> FileOutcome:
    """One file's result from core.importer as the sentence the rider reads and the link to what it stored."""
    if not result["ok"]:
        return FileOutcome("error", md(result["error"]))
    warnings = tuple(md(w) for w in result.get("warnings") or ())
    if result["kind"] == "route":
        climbs = sum(1 for s in result.get("sections", []) if s["kind"] == "climb")
        link = (ROUTES_PAGE, f"Open route #{result['id']}", result["id"])
        if result.get("duplicate_of"):
            return FileOutcome("info", md(result["message"]), *link, warnings)
        return FileOutcome("success", f"{md(result['file'])}: route, {fmt.distance(result['distance_m'], units)}, "
                           f"{fmt.elevation(result.get('elevation_gain_m'), units)} up, {climbs} "
                           f"climb{'s' if climbs != 1 else ''}", *link, warnings)
    link = (RIDE_PAGE, f"Open ride #{result['id']}", result["id"])
    if not result.get("created") or result.get("duplicate_of"):
        return FileOutcome("info", md(result["message"]), *link, warnings)
    figures = ", ".join(x for x in (fmt.distance(result.get("distance_m"), units) if result.get("distance_m")
                                    else "indoor", fmt.duration(result.get("moving_time_s")),
                                    f"TSS {fmt.number(result['tss'])}" if result.get("tss") is not None else "")
                        if x)
    when = fmt.moment(result.get("started_at"), units)
    return FileOutcome("success", f"{md(result['file'])}: ride of {when}, {figures}", *link, warnings)


def summary(results: list[dict]) -> tuple[str, str]:
    """(level, sentence) for a batch: 'Imported 2 of 3 files (1 ride, 1 route); 1 already there; 1 failed.'"""
    stored = [r for r in results if r["ok"] and (r.get("created", True) and not r.get("duplicate_of"))]
    again = [r for r in results if r["ok"] and r not in stored]
    failed = [r for r in results if not r["ok"]]
    rides = sum(1 for r in stored if r["kind"] == "ride")
    routes = len(stored) - rides
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((rides, "ride"), (routes, "route")) if n]
    text = f"Imported {len(stored)} of {len(results)} file{'s' if len(results) != 1 else ''}" + \
        (f" ({', '.join(parts)})" if parts else "")
    if again:
        text += f"; {len(again)} already imported"
    if failed:
        text += f"; {len(failed)} could not be imported"
    level = "success" if stored and not failed else "error" if not stored and failed else \
        "info" if not failed else "warning"
    return level, text + "."
