"""The loopback API: POST /_velocoach/api/<name> with a JSON body, for the CLI and local tools (and, later, for
CLI commands that must go through the running app because it holds DuckDB's single-writer lock).

Who may call (``refusal``): a peer on this computer, not through a proxy, not a browser (no Origin header; JSON
content type, which a browser cannot send cross-site without a preflight we never answer), with the per-start
token from the owner-only ``app-api.json``. The browser's sign-in cookie is neither needed nor accepted.

Adding a route (the hook for later work)::

    def rides_count(call: ApiCall) -> dict:          # runs in a worker thread, never on the event loop
        return {"rides": ...}                          # JSON-able answer; raise VeloCoachError for a refusal

    shell.add_api_route("rides/count", rides_count)    # in app.py, before the app starts

A VeloCoachError becomes 422 {"error": its sentence}; any other exception is logged and becomes 500 with a
generic sentence (never a traceback).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from starlette.responses import JSONResponse, Response

from core.access.network import is_loopback
from core.errors import VeloCoachError

if TYPE_CHECKING:
    from starlette.requests import Request

    from core.config import Settings
    from shell.server import Shell

log = logging.getLogger("velocoach.shell.api")

MAX_BODY_BYTES = 1_000_000
ROUTE_NAME = re.compile(r"[a-z][a-z0-9_-]*(/[a-z][a-z0-9_-]*)*")
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host")


@dataclass(frozen=True)
class ApiCall:
    """What a handler gets: the parsed JSON body and the app's settings."""

    name: str
    body: dict[str, Any]
    settings: Settings
    received_at: float = field(default_factory=time.time)


ApiHandler = Callable[[ApiCall], dict]


def check_route_name(name: str) -> str:
    if not ROUTE_NAME.fullmatch(name):
        raise ValueError(f"API route names are lower-case words separated by '/': {name!r}")
    return name


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})


def refusal(request: Request, token: str | None) -> Response | None:
    """None when the caller may use the API; else the response that says why not."""
    client = request.client.host if request.client else None
    if not is_loopback(client) or any(h in request.headers for h in FORWARDING_HEADERS):
        return _error(403, "The API answers programs on this computer only.")
    if "origin" in request.headers:  # browsers send Origin on every POST; the CLI never does
        return _error(403, "The API is not for browsers.")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return _error(415, "The API takes application/json.")
    offered = request.headers.get("authorization", "")
    if token is None or not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return _error(401, "Wrong or missing API token (it is new on every start of the app).")
    return None


async def dispatch(request: Request, shell: Shell) -> Response:
    """POST /_velocoach/api/{name}: guard, parse, run the handler in a worker thread, answer JSON."""
    if (refused := refusal(request, shell.api_token)) is not None:
        return refused
    name = request.path_params["name"]
    handler = shell.api_routes.get(name)
    if handler is None:
        return _error(404, f"There is no API route {name!r}.")
    limit = shell.api_body_limits.get(name, MAX_BODY_BYTES)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _error(413, "The request is too large.")
    raw = await request.body()
    if len(raw) > limit:
        return _error(413, "The request is too large.")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _error(400, "The request body is not JSON.")
    if not isinstance(body, dict):
        return _error(400, "The request body must be a JSON object.")
    call = ApiCall(name, body, shell.settings)
    try:
        answer = await to_thread.run_sync(handler, call)
    except VeloCoachError as exc:
        return _error(422, str(exc))
    except Exception:  # noqa: BLE001 — logged with its traceback; the caller gets a sentence
        log.exception("API route %s failed", name)
        return _error(500, f"The app could not complete {name!r}; the details are in its log.")
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def ping(call: ApiCall) -> dict:
    """Is the app up, and which process is it."""
    return {"ok": True, "pid": os.getpid()}


def default_routes() -> dict[str, ApiHandler]:
    return {"ping": ping}
