"""The Shell: settings, the owner password, sessions, the sign-in limiter, the API token and the two
registries later work hooks into (API routes, lifespan hooks); start-up checks and the lifespan.

Lifespan hooks are the place for background work that lives as long as the app (a Garmin sync scheduler)::

    @asynccontextmanager
    async def garmin_scheduler(shell: Shell):
        stop = threading.Event(); worker = threading.Thread(target=..., daemon=True); worker.start()
        try:
            yield
        finally:
            stop.set(); worker.join(timeout=10)

    shell.add_lifespan_hook(garmin_scheduler)        # in app.py, before the app starts

Hooks start in order after Streamlit's runtime and stop in reverse order before it; a hook that fails to start
is logged and skipped (the app still serves pages), one that fails to stop is logged.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount, Route

from core.access.local_api import api_file
from core.access.network import LOOPBACK_NAMES, is_loopback, is_wildcard
from core.access.owner import OwnerFile
from core.access.private_files import load_or_create_secret, read_private_file, write_private_file
from core.access.sessions import FailureLimiter, Sessions
from core.config import Settings, load_settings
from shell import api, login
from shell.gate import SHELL_PREFIX, GateMiddleware

log = logging.getLogger("velocoach.shell")

SESSION_SECRET_FILE = "session-secret"
LifespanHook = Callable[["Shell"], AbstractAsyncContextManager[Any]]
_current: Shell | None = None


def current_shell() -> Shell | None:
    """The running app's Shell (set while its lifespan runs); None under AppTest or the CLI."""
    return _current


def served_address() -> str | None:
    """What Streamlit binds: server.address from config.toml, the environment or --server.address."""
    from streamlit import config

    return config.get_option("server.address")


def start_problem(address: str | None, signin_configured: bool) -> str | None:
    """The one sentence that stops a start reachable from other computers without sign-in; None when safe."""
    if signin_configured or (address and (address.startswith("unix://") or is_loopback(address))):
        return None
    where = "every network interface" if is_wildcard(address) else address
    return (f"VeloCoach will not listen on {where} (server.address) without sign-in: set an owner password "
            "with `python -m core owner set-password`, or keep server.address = \"127.0.0.1\" in "
            ".streamlit/config.toml.")


def launched_by_streamlit() -> bool:
    """`streamlit run app.py` or `python app.py`: server.address is then exactly what is bound."""
    from streamlit import config

    return getattr(config, "_server_mode", None) in ("starlette-app", "starlette-app-direct")


class Shell:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.owner = OwnerFile(self.settings.files_dir)
        self.limiter = FailureLimiter()
        self.verify_slots = anyio.Semaphore(2)  # argon2: 64 MiB and ~130 ms of CPU per check
        self.api_token: str | None = None
        self.api_routes: dict[str, api.ApiHandler] = api.default_routes()
        self.api_body_limits: dict[str, int] = {}
        self.lifespan_hooks: list[LifespanHook] = []
        self.started_at: float | None = None
        self._sessions: Sessions | None = None

    # ------------------------------------------------------------------ hooks for later work
    def add_api_route(self, name: str, handler: api.ApiHandler, max_body_bytes: int | None = None) -> None:
        """POST /_velocoach/api/<name> runs ``handler(ApiCall) -> dict`` (see shell/api.py); bodies up to
        ``max_body_bytes`` (default api.MAX_BODY_BYTES)."""
        self.api_routes[api.check_route_name(name)] = handler
        if max_body_bytes is not None:
            self.api_body_limits[name] = max_body_bytes

    def add_lifespan_hook(self, hook: LifespanHook) -> None:
        """``hook(shell)`` is an async context manager entered at start-up and left at shutdown."""
        self.lifespan_hooks.append(hook)

    # ------------------------------------------------------------------ access
    def password_hash(self) -> str | None:
        return self.owner.password_hash()

    def sessions(self) -> Sessions:
        if self._sessions is None:
            secret = load_or_create_secret(self.settings.files_dir / SESSION_SECRET_FILE)
            self._sessions = Sessions(secret, int(self.settings.session_hours * 3600))
        return self._sessions

    def session_expiry(self, cookie: str | None) -> float | None:
        """When the session behind ``cookie`` ends (Unix time); None without sign-in or a valid session."""
        password_hash = self.password_hash()
        session = self.sessions().check(cookie, password_hash) if password_hash else None
        return session.expires_at if session else None

    def startup_problem(self) -> str | None:
        if not launched_by_streamlit():  # e.g. `uvicorn app:app`: its --host is unknown here; the gate still holds
            return None
        return start_problem(served_address(), self.password_hash() is not None)

    # ------------------------------------------------------------------ wiring for st.App
    def middleware(self) -> list[Middleware]:
        return [Middleware(GateMiddleware, shell=self)]

    def routes(self) -> list[Mount]:
        """Everything of ours under one Mount: an unknown path or method there gets 404/405 instead of falling
        through to Streamlit, which answers any unmatched GET with its index page."""
        def bind(endpoint):
            async def handle(request: Request):
                return await endpoint(request, self)
            return handle

        return [Mount(SHELL_PREFIX, routes=[
            Route("/login", bind(login.login_get), methods=["GET"]),
            Route("/login", bind(login.login_post), methods=["POST"]),
            Route("/logout", bind(login.logout_get), methods=["GET"]),
            Route("/logout", bind(login.logout_post), methods=["POST"]),
            Route("/api/{name:path}", bind(api.dispatch), methods=["POST"]),
        ])]

    def configure_streamlit(self) -> None:
        """Options that depend on VeloCoach's settings: error details only in development (config.toml says
        "none"), and Streamlit's own websocket Host check widened to the names the gate allows."""
        from streamlit import config, delta_generator

        # Once per process, at the first element, Streamlit checks whether it runs in a REPL (to say an app wants
        # `streamlit run`): inspect.stack() from the page script resolves the file of every loaded module, ~0.2 s
        # of the first page after each start. This process is `streamlit run`, so the check is moot; marked done.
        delta_generator._use_warning_has_been_displayed = True
        if self.settings.env == "development" and "command-line" not in str(
                config.get_where_defined("client.showErrorDetails")):
            config.set_option("client.showErrorDetails", "full")
        hosts = list(config.get_option("server.allowedHosts") or [])
        if hosts:
            address = served_address()
            extra = list(self.settings.allowed_hosts)
            if address and not is_wildcard(address):
                extra.append(address)
            elif self.password_hash() is not None:
                from streamlit import net_util  # the LAN address (a UDP socket, no packet is sent)

                extra += [ip for ip in [net_util.get_internal_ip()] if ip]
            merged = list(dict.fromkeys([*hosts, *LOOPBACK_NAMES, *extra]))
            if merged != hosts:
                config.set_option("server.allowedHosts", merged)

    # ------------------------------------------------------------------ lifespan
    def _api_host(self) -> str | None:
        address = served_address()
        return "127.0.0.1" if is_wildcard(address) or is_loopback(address) else None

    def _write_api_file(self) -> None:
        from streamlit import config

        self.api_token = secrets.token_urlsafe(32)
        write_private_file(api_file(self.settings.files_dir), json.dumps({
            "pid": os.getpid(), "host": self._api_host(), "port": int(config.get_option("server.port")),
            "token": self.api_token, "started": time.time()}).encode())

    def _remove_api_file(self) -> None:
        path = api_file(self.settings.files_dir)
        try:
            if json.loads(read_private_file(path)).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[dict[str, Any]]:
        """Runs inside st.App's lifespan, after Streamlit's runtime has started."""
        global _current
        if problem := self.startup_problem():  # second line of defence (`python app.py` checks here only)
            print(problem, file=sys.stderr, flush=True)
            raise SystemExit(1)
        self.started_at = time.time()
        self._write_api_file()
        _current = self
        try:
            async with AsyncExitStack() as stack:
                for hook in self.lifespan_hooks:
                    await stack.enter_async_context(_guarded(hook, self))
                yield {"shell": self}
                self._remove_api_file()  # no new CLI calls while the hooks stop
        finally:
            self._remove_api_file()
            _current = None


@asynccontextmanager
async def _guarded(hook: LifespanHook, shell: Shell) -> AsyncIterator[None]:
    """A hook that fails to start is logged and skipped; one that fails to stop is logged."""
    name = getattr(hook, "__name__", repr(hook))
    manager = hook(shell)
    try:
        await manager.__aenter__()
    except Exception:  # noqa: BLE001 — the app still serves; the log says what is missing
        log.exception("background task %s failed to start; the app runs without it", name)
        yield
        return
    try:
        yield
    finally:
        try:
            await manager.__aexit__(None, None, None)
        except Exception:  # noqa: BLE001
            log.exception("background task %s failed to stop cleanly", name)


def send_writes_at_once() -> None:
    """Nagle's algorithm off on every connection the app accepts, as asyncio means it to be.

    asyncio turns Nagle off for each TCP connection it accepts (``base_events._set_nodelay``), but only on sockets
    whose ``proto`` is IPPROTO_TCP. Streamlit 1.67 binds its listening socket as ``socket.socket(family)``
    (proto 0), so every accepted connection keeps Nagle on: a response written as headers then body waits for the
    browser's delayed ACK, ~40 ms per file on a kept-alive connection. The first page loads 64 script files over
    six connections (~0.25 s of each start) and every later message waits the same way. Called when app.py is
    imported, before uvicorn accepts its first connection; idempotent."""
    import asyncio.base_events as base_events
    import socket

    if getattr(base_events._set_nodelay, "velocoach", False):
        return

    def set_nodelay(sock: socket.socket) -> None:
        if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                and sock.proto in (0, socket.IPPROTO_TCP)):  # 0: the default protocol of a stream, TCP
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # a connection already reset: nothing to send on it anyway
                pass

    set_nodelay.velocoach = True
    base_events._set_nodelay = set_nodelay


def exit_if_unsafe_start(shell: Shell) -> None:
    """At import of app.py (after Streamlit bound the socket and printed its URL, before its runtime starts): one
    sentence on stderr and exit status 1, no traceback, when the app would be reachable without sign-in."""
    if problem := shell.startup_problem():
        sys.exit(problem)
