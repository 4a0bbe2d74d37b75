"""Health of an installation in one report, for the Health page and ``python -m core health --json``: the database
(size, schema version, links, safety copies), the AI service (reachable, latency, errors and cost by day, prompt
variants and whether the rider kept their answers), Garmin (accounts, last sync, failures), recent problems from
the log, the audit log (filterable) and the settings that shape the app (feature flags, VELOCOACH_ENV).

The report is a list of sections built by functions registered in ``SECTIONS`` (name -> builder(HealthContext)
-> dict with at least ``status``: ok | warning | error | off). A new subsystem adds its own section with
``register_section`` (the background Garmin sync will add "background_sync"); the page shows any section it has no
special layout for as figures. Reading a report never writes, except ``check_ai=True``, which makes one small AI
call (recorded like any other). Never imports streamlit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.config import FEATURES, Settings
from core.logs import log_path, recent_problems
from core.store.db import (
    available_migrations,
    data_version,
    database_bytes,
    database_file,
    integrity_problems,
    schema_version,
)

STATUSES = ("ok", "warning", "error", "off")


@dataclass
class AuditFilter:
    """Which audit-log lines to show: any field None means any value."""

    action: str | None = None
    entity: str | None = None
    athlete_id: int | None = None
    since: datetime | None = None
    limit: int = 50


@dataclass
class HealthContext:
    cur: object
    settings: Settings
    check_ai: bool = False
    audit: AuditFilter = field(default_factory=AuditFilter)
    days: int = 14


Builder = Callable[[HealthContext], dict]
SECTIONS: list[tuple[str, Builder]] = []


def register_section(name: str, builder: Builder, *, after: str | None = None) -> None:
    """Add (or replace) a section of the report; ``after`` places it after another one (default: at the end)."""
    existing = [n for n, _ in SECTIONS]
    if name in existing:
        SECTIONS[existing.index(name)] = (name, builder)
        return
    index = existing.index(after) + 1 if after in existing else len(SECTIONS)
    SECTIONS.insert(index, (name, builder))


def health_report(cur, settings: Settings, *, check_ai: bool = False, audit: AuditFilter | None = None,
                  sections: list[str] | None = None) -> dict:
    """{"status", "generated_at", "sections": {name: {...}}}. A section that fails says so in its own entry
    (status error) instead of failing the report."""
    context = HealthContext(cur, settings, check_ai, audit or AuditFilter())
    out: dict[str, dict] = {}
    for name, builder in SECTIONS:
        if sections is not None and name not in sections:
            continue
        try:
            out[name] = builder(context)
        except Exception as exc:  # noqa: BLE001 — one broken subsystem must not hide the others
            out[name] = {"status": "error", "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    worst = max((STATUSES.index(s.get("status", "ok")) for s in out.values() if s.get("status") != "off"),
                default=0)
    return {"status": STATUSES[worst], "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sections": out}


# --------------------------------------------------------------------------------------------------- sections


def database_section(ctx: HealthContext) -> dict:
    from core.store.snapshots import list_snapshots

    cur = ctx.cur
    path = database_file(cur)
    size = database_bytes(path)
    version, known = schema_version(cur), max(m.version for m in available_migrations())
    problems = integrity_problems(cur)
    counts = {table: cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 — constant names
              for table in ("athletes", "rides", "ride_samples", "routes", "plans")}
    copies = list_snapshots(path) if path else []
    status = "error" if problems or version != known else "ok"
    return {"status": status, "file": str(path) if path else None, "size_bytes": size, "schema_version": version,
            "known_schema_version": known, "integrity_problems": problems, "rows": counts,
            "data_version": data_version(cur), "safety_copies": len(copies),
            "latest_safety_copy": copies[0] if copies else None,
            "full_check": "python -m core check reads every table (the Health page has a button for it)"}


def ai_section(ctx: HealthContext) -> dict:
    from core.coach.ai import health_check, variant_stats

    cur, settings = ctx.cur, ctx.settings
    live = health_check(cur, settings) if ctx.check_ai and settings.ai_enabled else None  # counted below too
    since = datetime.now(UTC) - timedelta(days=ctx.days)
    by_day = [dict(zip(("day", "calls", "errors", "cost_usd", "mean_latency_ms"), row, strict=True)) for row in cur.execute(
        "SELECT CAST(called_at AS DATE), count(*), count(*) FILTER (WHERE status <> 'ok'), "
        "round(coalesce(sum(cost_usd), 0), 6), round(avg(latency_ms) FILTER (WHERE NOT cached), 1) "
        "FROM ai_calls WHERE called_at >= ? GROUP BY 1 ORDER BY 1 DESC", [since]).fetchall()]
    latency = cur.execute(
        "SELECT round(avg(latency_ms), 1), round(quantile_cont(latency_ms, 0.95), 1) FROM ai_calls "
        "WHERE NOT cached AND status = 'ok' AND called_at >= ?", [since]).fetchone()
    last_check = cur.execute(
        "SELECT called_at, status, latency_ms, error FROM ai_calls WHERE action = 'health' ORDER BY id DESC "
        "LIMIT 1").fetchone()
    actions = [r[0] for r in cur.execute("SELECT DISTINCT action FROM ai_calls WHERE action <> 'health' "
                                         "ORDER BY 1").fetchall()]
    variants = {action: variant_stats(cur, action) for action in actions}
    errors = sum(day["errors"] for day in by_day)
    if not settings.ai_enabled:
        status = "off"
    elif (live and not live["ok"]) or (last_check and last_check[1] != "ok"):
        status = "error"
    else:
        status = "warning" if errors else "ok"
    return {"status": status, "enabled": settings.ai_enabled, "feature_on": settings.feature("ai_coach"),
            "key_configured": settings.ai_api_key is not None, "model": settings.ai_model,
            "base_url": settings.ai_base_url or "https://api.openai.com/v1",
            "reachable": live["ok"] if live else (last_check[1] == "ok" if last_check else None),
            "last_check": live or (dict(zip(("at", "status", "latency_ms", "error"), last_check, strict=True))
                                   if last_check else None),
            "mean_latency_ms": latency[0], "p95_latency_ms": latency[1], "errors": errors, "by_day": by_day,
            "cost_usd": round(sum(day["cost_usd"] for day in by_day), 6), "variants": variants}


def garmin_section(ctx: HealthContext) -> dict:
    cur, settings = ctx.cur, ctx.settings
    accounts = [dict(zip(("id", "athlete_id", "label", "last_sync_at", "last_status", "last_error", "last_imported"),
                         row, strict=True)) for row in cur.execute(
        "SELECT a.id, a.athlete_id, a.label, a.last_sync_at, s.status, s.error, s.imported FROM garmin_accounts a "
        "LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY id DESC) AS n FROM sync_log) s "
        "ON s.account_id = a.id AND s.n = 1 ORDER BY a.id").fetchall()]
    failures = [dict(zip(("account", "started_at", "status", "error"), row, strict=True)) for row in cur.execute(
        "SELECT a.label, s.started_at, s.status, s.error FROM sync_log s JOIN garmin_accounts a ON a.id = s.account_id "
        "WHERE s.status IN ('failed', 'partial') AND s.started_at >= ? ORDER BY s.id DESC LIMIT 20",
        [datetime.now(UTC) - timedelta(days=30)]).fetchall()]
    if not settings.feature("garmin_sync"):
        status = "off"
    elif any(a["last_status"] == "failed" for a in accounts):
        status = "error"
    else:
        status = "warning" if failures else "ok"
    return {"status": status, "feature_on": settings.feature("garmin_sync"), "accounts": accounts,
            "failures_30_days": failures}


def errors_section(ctx: HealthContext) -> dict:
    problems = recent_problems(ctx.settings, 50)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    recent = [p for p in problems if p["level"] != "WARNING" and p["at"] >= day_ago]
    return {"status": "warning" if recent else "ok", "log_file": str(log_path(ctx.settings)),
            "log_level": ctx.settings.log_level, "recent": problems}


def audit_section(ctx: HealthContext) -> dict:
    f = ctx.audit
    clauses, params = ["1 = 1"], []
    for column, value in (("action", f.action), ("entity", f.entity), ("athlete_id", f.athlete_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.since is not None:
        clauses.append("logged_at >= ?")
        params.append(f.since)
    where = " AND ".join(clauses)
    rows = ctx.cur.execute(f"SELECT logged_at, athlete_id, action, entity, entity_id, detail FROM audit_log "  # noqa: S608
                           f"WHERE {where} ORDER BY id DESC LIMIT ?", [*params, max(1, min(f.limit, 1000))]).fetchall()
    entries = []
    for logged_at, athlete_id, action, entity, entity_id, detail in rows:
        entries.append({"at": logged_at, "athlete_id": athlete_id, "action": action, "entity": entity,
                        "entity_id": entity_id, "detail": json.loads(detail) if detail else {}})
    choices = {name: [r[0] for r in ctx.cur.execute(f"SELECT DISTINCT {name} FROM audit_log ORDER BY 1").fetchall()]  # noqa: S608
               for name in ("action", "entity")}
    return {"status": "ok", "entries": entries, "actions": choices["action"], "entities": choices["entity"],
            "filter": {"action": f.action, "entity": f.entity, "athlete_id": f.athlete_id,
                       "since": f.since, "limit": f.limit}}


def settings_section(ctx: HealthContext) -> dict:
    s = ctx.settings
    return {"status": "ok", "env": s.env, "log_level": s.log_level, "error_detail": s.error_detail,
            "demo_seeding": s.demo_seeding, "features": [{"name": name, "on": s.feature(name), "default": default}
                                                         for name, default in FEATURES.items()],
            "data_folder": str(s.files_dir), "max_upload_mb": s.max_upload_mb}


for _name, _builder in (("database", database_section), ("ai", ai_section), ("garmin", garmin_section),
                        ("errors", errors_section), ("audit", audit_section), ("settings", settings_section)):
    register_section(_name, _builder)
