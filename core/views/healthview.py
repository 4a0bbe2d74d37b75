"""The Health page's labels and rows, from core.health's report (reads and formats, never writes)."""

from __future__ import annotations

import json

# Streamlit's bundled Material Symbols (they need no emoji font and no internet).
ICONS = {"ok": ":green[:material/check_circle:]", "warning": ":orange[:material/warning:]",
         "error": ":red[:material/error:]", "off": ":gray[:material/do_not_disturb_on:]"}


def byte_size(size: int | None) -> str:
    if size is None:
        return "–"
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.0f} KB"


def variant_rows(variants: dict[str, list[dict]]) -> list[dict]:
    """One row per AI action and prompt variant, with the rider's verdicts."""
    rows = []
    for action, items in variants.items():
        for v in items:
            rate = v.get("acceptance_rate")
            rows.append({"action": action, "variant": v["variant"], "calls": v["calls"], "failed": v["failed"],
                         "answered": v["answered"], "kept by the rider": v["accepted"],
                         "kept %": None if rate is None else round(100 * rate),
                         "mean latency (ms)": None if v["mean_latency_ms"] is None else round(v["mean_latency_ms"])})
    return rows


def audit_rows(entries: list[dict]) -> list[dict]:
    return [{"when": e["at"], "athlete": e["athlete_id"], "action": e["action"], "entity": e["entity"],
             "id": e["entity_id"], "detail": json.dumps(e["detail"], ensure_ascii=False, default=str)[:200]}
            for e in entries]


def generic_rows(section: dict) -> list[dict]:
    """Any section as name/value rows (a subsystem without a layout of its own on the page)."""
    return [{"item": key.replace("_", " "), "value": json.dumps(value, default=str)[:300]
             if isinstance(value, dict | list) else str(value)} for key, value in section.items()]
