"""The gate in front of everything the app serves: pages, static files, uploads, media and the /_stcore/stream
websocket. Pure ASGI (Starlette's BaseHTTPMiddleware never sees websockets); ``st.App`` puts user middleware
outside Streamlit's own, so every request meets this first.

In order:
1. Host must be allowed (IP literal, localhost, or VELOCOACH_ALLOWED_HOSTS): DNS rebinding. HTTP 400, ws 403.
2. Websockets and non-GET requests must come from this origin (or carry no Origin): cross-site requests. 403.
3. Without an owner password: only this computer (a loopback peer, not via a proxy) is served. 403.
4. With one: the sign-in session cookie is required, except for /_stcore/health and /_velocoach/* (which guard
   themselves). A page without it is sent to the sign-in form; anything else gets 401, a websocket 403.
Every HTTP answer also gets headers against framing by other sites and referrer leaks.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from core.access.network import host_is_allowed, is_loopback, origin_matches_host
from shell.api import FORWARDING_HEADERS

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from shell.server import Shell

log = logging.getLogger("velocoach.shell.gate")

SHELL_PREFIX = "/_velocoach"
LOGIN_PATH = SHELL_PREFIX + "/login"
SESSION_COOKIE = "velocoach_session"
OPEN_PATHS = frozenset({"/_stcore/health"})  # monitors and start-up probes
# Not pages: refused with 401 instead of a redirect to the sign-in form.
RESOURCE_PREFIXES = ("/_stcore/", "/static/", "/media/", "/component/", "/app/static/", SHELL_PREFIX + "/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
EXTRA_HEADERS = ((b"x-frame-options", b"SAMEORIGIN"), (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"same-origin"))


def cookie_value(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:  # a malformed header is no cookie at all
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def is_local_request(scope: Scope, headers: Headers) -> bool:
    """A peer on this computer talking directly (a reverse proxy on this computer makes remote people look local,
    so any forwarding header counts as remote)."""
    client = (scope.get("client") or ("", 0))[0]
    return is_loopback(client) and not any(h in headers for h in FORWARDING_HEADERS)


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    """HTTP: a plain answer. Websocket: an HTTP denial before the handshake (uvicorn supports the
    websocket.http.response extension), else close 1008, which uvicorn answers with 403."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-store"})(scope, receive, send)


class GateMiddleware:
    def __init__(self, app: ASGIApp, shell: Shell) -> None:
        self.app = app
        self.shell = shell

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan passes straight through
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope.get("path", "")
        host = headers.get("host")
        websocket = scope["type"] == "websocket"
        method = scope.get("method", "GET")

        if not host_is_allowed(host, self.shell.settings.allowed_hosts):
            log.warning("refused %s %s: Host %r is not an allowed name", scope["type"], path, host)
            await refuse(scope, receive, send, 403 if websocket else 400, "Invalid Host header.")
            return
        if (websocket or method not in SAFE_METHODS) and not origin_matches_host(headers.get("origin"), host):
            log.warning("refused %s %s: Origin %r is not %r", scope["type"], path, headers.get("origin"), host)
            await refuse(scope, receive, send, 403, "Cross-origin request refused.")
            return

        if websocket:
            inner_send = send
        else:
            async def inner_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *EXTRA_HEADERS]
                await send(message)

        password_hash = self.shell.password_hash()
        if password_hash is None:
            if not is_local_request(scope, headers):
                await refuse(scope, receive, send, 403, "VeloCoach answers on this computer only until an owner "
                             "password is set: python -m core owner set-password")
                return
            await self.app(scope, receive, inner_send)
            return

        if path in OPEN_PATHS or path == SHELL_PREFIX or path.startswith(SHELL_PREFIX + "/"):
            await self.app(scope, receive, inner_send)
            return
        if self.shell.sessions().check(cookie_value(headers, SESSION_COOKIE), password_hash) is not None:
            await self.app(scope, receive, inner_send)
            return

        if websocket:
            await refuse(scope, receive, send, 403, "Sign in first.")
            return
        if method in ("GET", "HEAD") and not path.startswith(RESOURCE_PREFIXES):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            response: Response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
        else:
            response = PlainTextResponse("Sign in first.", status_code=401)
        response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, inner_send)
