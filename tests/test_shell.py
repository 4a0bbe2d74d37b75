"""The app shell at the ASGI level (crafted requests, no network): the gate, sign-in and sign-out, the loopback
API and its registry, the lifespan and its hooks, the start-up refusal and the Streamlit options it sets.

Streamlit itself is replaced by a stand-in app (a page, health, and the /_stcore/stream websocket) behind the
real gate and routes; tests/e2e/test_access_e2e.py checks the same rules against the real server."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from core.access.local_api import api_file
from core.access.owner import set_password
from core.access.private_files import file_mode
from core.config import load_settings
from core.errors import NotFoundError
from shell.server import Shell, current_shell, send_writes_at_once, start_problem

PASSWORD = "correct horse battery"
HOST = "127.0.0.1:8501"
ORIGIN = f"http://{HOST}"


async def _page(request):
    return PlainTextResponse("the app")


async def _stream(websocket):
    await websocket.accept(subprotocol="streamlit")
    await websocket.close()


def make_app(shell: Shell) -> Starlette:
    """Our routes and gate around a stand-in for Streamlit, ordered as st.App orders them."""
    inner = [Route("/", _page), Route("/rides", _page), Route("/_stcore/health", _page),
             Route("/_stcore/host-config", _page), Route("/static/js/app.js", _page),
             WebSocketRoute("/_stcore/stream", _stream)]
    return Starlette(routes=[*shell.routes(), *inner], middleware=shell.middleware())


def request(app, method="GET", path="/", *, host=HOST, client="127.0.0.1", headers=None, body=b"", query=""):
    """(status, headers, body) of one HTTP request."""
    raw_headers = [(b"host", host.encode())] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "http_version": "1.1", "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query.encode(), "headers": raw_headers,
             "client": (client, 50000), "server": ("127.0.0.1", 8501), "root_path": ""}
    sent, body_sent = [], [False]

    async def receive():
        if body_sent[0]:
            return {"type": "http.disconnect"}
        body_sent[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    out_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    if any(k == b"set-cookie" for k, _ in start["headers"]):
        out_headers["set-cookie"] = next(v.decode() for k, v in start["headers"] if k == b"set-cookie")
    return start["status"], out_headers, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def websocket(app, *, host=HOST, origin: str | None = ORIGIN, cookie=None, client="127.0.0.1") -> int:
    """The handshake's outcome as an HTTP status: 101 accepted, else the refusal's status."""
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "websocket", "path": "/_stcore/stream", "raw_path": b"/_stcore/stream", "query_string": b"",
             "headers": headers, "client": (client, 50000), "server": ("127.0.0.1", 8501), "scheme": "ws",
             "subprotocols": ["streamlit"], "extensions": {"websocket.http.response": {}}, "root_path": ""}
    sent, messages = [], iter([{"type": "websocket.connect"}])

    async def receive():
        return next(messages, {"type": "websocket.disconnect", "code": 1000})

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    first = sent[0]
    if first["type"] == "websocket.accept":
        return 101
    if first["type"] == "websocket.http.response.start":
        return first["status"]
    return 403  # websocket.close before accept: uvicorn answers 403


@pytest.fixture
def settings(tmp_path):
    return load_settings({"VELOCOACH_DB": str(tmp_path / "db.duckdb"), "VELOCOACH_ALLOWED_HOSTS": "velocoach.lan"},
                         tmp_path / "no-secrets.toml")


@pytest.fixture
def open_shell(settings):
    return Shell(settings)


@pytest.fixture
def signin_shell(settings):
    set_password(settings.files_dir, PASSWORD)
    shell = Shell(settings)
    shell.owner._check_every_s = 0  # see password changes at once
    return shell


def sign_in(app, password=PASSWORD, next_path="/", client="127.0.0.1"):
    return request(app, "POST", "/_velocoach/login", client=client, body=urlencode(
        {"password": password, "next": next_path}).encode(), headers={
        "content-type": "application/x-www-form-urlencoded", "origin": ORIGIN})


def session_cookie(headers) -> str:
    return headers["set-cookie"].split(";")[0]


# ----------------------------------------------------------------------------------------------------- the gate
def test_a_foreign_host_is_refused_for_pages_and_the_websocket(open_shell):
    app = make_app(open_shell)
    assert request(app)[0] == 200
    assert request(app, host="evil.test:8501")[0] == 400
    assert request(app, host="127.0.0.1.nip.io")[0] == 400
    assert websocket(app, host="evil.test:8501", origin="http://evil.test:8501") == 403  # DNS rebinding
    assert websocket(app, host="velocoach.lan:8501", origin="http://velocoach.lan:8501") == 101  # configured
    assert websocket(app) == 101


def test_a_foreign_origin_is_refused_for_the_websocket_and_for_posts(open_shell):
    app = make_app(open_shell)
    assert websocket(app, origin="http://evil.test") == 403
    assert websocket(app, host="localhost:8501", origin="http://localhost:9999") == 403  # Streamlit would accept
    assert request(app, "POST", "/_velocoach/logout", headers={"origin": "http://evil.test"})[0] == 403


def test_without_a_password_only_this_computer_is_served(open_shell):
    app = make_app(open_shell)
    assert request(app, client="::1", host="[::1]:8501")[0] == 200
    status, _, body = request(app, client="192.0.2.10", host="192.0.2.2:8501")
    assert status == 403 and b"owner set-password" in body
    assert websocket(app, client="192.0.2.10", host="192.0.2.2:8501", origin="http://192.0.2.2:8501") == 403
    assert request(app, headers={"x-forwarded-for": "198.51.100.7"})[0] == 403  # a proxy on this computer


def test_every_answer_forbids_framing_by_other_sites_and_referrers(open_shell):
    _, headers, _ = request(make_app(open_shell))
    assert headers["x-frame-options"] == "SAMEORIGIN" and headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"


def test_with_a_password_pages_lead_to_the_sign_in_form_and_everything_else_is_closed(signin_shell):
    app = make_app(signin_shell)
    status, headers, _ = request(app, path="/rides", query="id=3&x=%3Cb%3E")
    assert status == 303
    target = urlsplit(headers["location"])
    assert target.path == "/_velocoach/login" and parse_qs(target.query)["next"] == ["/rides?id=3&x=%3Cb%3E"]
    assert request(app, path="/static/js/app.js")[0] == 401
    assert request(app, path="/_stcore/host-config")[0] == 401
    assert request(app, path="/_stcore/health")[0] == 200
    assert websocket(app) == 403
    assert websocket(app, cookie="velocoach_session=forged.value.x") == 403


def test_signing_in_opens_pages_and_the_websocket_from_anywhere_allowed(signin_shell):
    app = make_app(signin_shell)
    status, headers, _ = sign_in(app, next_path="/rides?id=3")
    assert status == 303 and headers["location"] == "/rides?id=3"
    cookie = session_cookie(headers)
    flags = headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "max-age=43200" in flags
    assert request(app, headers={"cookie": cookie})[0] == 200
    assert websocket(app, cookie=cookie) == 101
    assert websocket(app, cookie=cookie, origin="http://evil.test") == 403
    assert request(app, client="192.0.2.10", host="velocoach.lan", headers={"cookie": cookie})[0] == 200


def test_a_wrong_password_is_refused_and_the_form_escapes_what_it_echoes(signin_shell):
    app = make_app(signin_shell)
    status, headers, body = sign_in(app, password="nope", next_path='/x"><script>alert(1)</script>')
    assert status == 401 and b"Wrong password." in body and b"<script>alert" not in body
    assert "set-cookie" not in headers and "default-src 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("next_path", ["//evil.test", "http://evil.test", "/\\evil.test", "javascript:alert(1)",
                                       "%2F%2Fevil.test"])
def test_signing_in_never_redirects_to_another_site(signin_shell, next_path):
    status, headers, _ = sign_in(make_app(signin_shell), next_path=next_path)
    assert status == 303 and headers["location"] == "/"


def test_repeated_failures_are_rate_limited_even_for_the_right_password(signin_shell):
    signin_shell.limiter.per_client = 3
    app = make_app(signin_shell)
    assert [sign_in(app, password="bad")[0] for _ in range(4)] == [401, 401, 401, 429]
    status, headers, body = sign_in(app)
    assert status == 429 and int(headers["retry-after"]) > 0 and b"Too many failed attempts" in body
    assert sign_in(app, client="127.0.0.2")[0] == 303  # another client is not locked out by this one


def test_signing_out_ends_the_session(signin_shell):
    app = make_app(signin_shell)
    cookie = session_cookie(sign_in(app)[1])
    assert request(app, path="/_velocoach/logout", headers={"cookie": cookie})[0] == 200  # asks first
    status, headers, _ = request(app, "POST", "/_velocoach/logout", headers={"cookie": cookie, "origin": ORIGIN})
    assert status == 303 and "max-age=0" in headers["set-cookie"].lower()
    assert request(app, headers={"cookie": cookie})[0] == 303
    assert websocket(app, cookie=cookie) == 403


def test_a_new_password_ends_every_session(signin_shell, settings):
    app = make_app(signin_shell)
    cookie = session_cookie(sign_in(app)[1])
    assert signin_shell.session_expiry(cookie.split("=", 1)[1]) is not None
    set_password(settings.files_dir, "a brand new password")
    assert request(app, headers={"cookie": cookie})[0] == 303
    assert signin_shell.session_expiry(cookie.split("=", 1)[1]) is None


def test_our_paths_answer_404_or_405_instead_of_falling_through_to_streamlit(signin_shell):
    app = make_app(signin_shell)
    assert request(app, path="/_velocoach/nothing")[0] == 404
    assert request(app, "PUT", "/_velocoach/login", headers={"origin": ORIGIN})[0] == 405
    assert request(app, path="/_velocoach/api/ping")[0] == 405


def test_without_a_password_the_sign_in_form_goes_home(open_shell):
    status, headers, _ = request(make_app(open_shell), path="/_velocoach/login")
    assert status == 303 and headers["location"] == "/"


# ----------------------------------------------------------------------------------------------------- the API
def api(app, name="ping", payload=None, token="t" * 43, **overrides):
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    headers.update({k.replace("_", "-"): v for k, v in overrides.items() if k != "client"})
    status, _, body = request(app, "POST", f"/_velocoach/api/{name}", headers=headers,
                              body=json.dumps(payload or {}).encode(), client=overrides.get("client", "127.0.0.1"))
    try:
        return status, json.loads(body or b"{}")
    except ValueError:  # the gate's plain-text refusal
        return status, {"error": body.decode()}


@pytest.mark.parametrize("shell_name", ["open_shell", "signin_shell"])
def test_the_api_answers_local_programs_with_the_token_and_refuses_everyone_else(shell_name, request_fixture):
    shell = request_fixture.getfixturevalue(shell_name)
    shell.api_token = "t" * 43
    app = make_app(shell)
    status, answer = api(app)
    assert status == 200 and answer["ok"] is True
    assert api(app, token="x" * 43)[0] == 401
    assert api(app, origin=ORIGIN)[0] == 403
    assert api(app, content_type="text/plain")[0] == 415
    assert api(app, client="192.0.2.10", host="192.0.2.2")[0] == 403
    assert api(app, x_forwarded_for="198.51.100.7")[0] == 403
    shell.api_token = None  # the app has not started its lifespan: no token, no API
    assert api(app)[0] == 401


@pytest.fixture
def request_fixture(request):
    return request


def test_a_registered_api_route_runs_off_the_event_loop_and_errors_become_sentences(open_shell):
    calls = []

    def echo(call):
        calls.append(call)
        return {"name": call.body.get("name"), "db": str(call.settings.db_path)}

    def missing(call):
        raise NotFoundError("Ride 7 was not found")

    def broken(call):
        raise RuntimeError("internal detail")

    open_shell.add_api_route("rides/echo", echo)
    open_shell.add_api_route("rides/missing", missing)
    open_shell.add_api_route("broken", broken)
    open_shell.api_token = "t" * 43
    app = make_app(open_shell)
    assert api(app, "rides/echo", {"name": "x"}) == (200, {"name": "x", "db": str(open_shell.settings.db_path)})
    assert api(app, "rides/missing") == (422, {"error": "Ride 7 was not found"})
    status, answer = api(app, "broken")
    assert status == 500 and "internal detail" not in answer["error"]
    assert api(app, "nothing")[0] == 404
    status, _, _ = request(app, "POST", "/_velocoach/api/rides/echo", body=b"[1, 2]",
                           headers={"authorization": "Bearer " + "t" * 43, "content-type": "application/json"})
    assert status == 400 and len(calls) == 1
    with pytest.raises(ValueError):
        open_shell.add_api_route("../up", echo)


# ----------------------------------------------------------------------------------------------------- lifespan
def run_lifespan(shell, during=None):
    async def main():
        async with shell.lifespan(None) as state:
            assert state["shell"] is shell
            if during:
                during()
    asyncio.run(main())


def test_the_lifespan_writes_an_owner_only_token_file_runs_the_hooks_and_cleans_up(open_shell, settings):
    events = []

    @asynccontextmanager
    async def scheduler(shell):
        events.append("start scheduler")
        yield
        events.append("stop scheduler")

    @asynccontextmanager
    async def fails_to_start(shell):
        raise RuntimeError("no network")
        yield  # pragma: no cover

    @asynccontextmanager
    async def second(shell):
        events.append("start second")
        yield
        events.append("stop second")

    for hook in (scheduler, fails_to_start, second):
        open_shell.add_lifespan_hook(hook)
    path = api_file(settings.files_dir)

    def during():
        info = json.loads(path.read_text())
        assert file_mode(path) == 0o600 and info["token"] == open_shell.api_token and len(info["token"]) >= 40
        assert info["host"] == "127.0.0.1" and current_shell() is open_shell
        events.append("serving")

    run_lifespan(open_shell, during)
    assert events == ["start scheduler", "start second", "serving", "stop second", "stop scheduler"]
    assert not path.exists() and current_shell() is None


def test_each_start_has_a_new_api_token(open_shell, settings):
    tokens = []
    for _ in range(2):
        run_lifespan(open_shell, lambda: tokens.append(json.loads(api_file(settings.files_dir).read_text())["token"]))
    assert tokens[0] != tokens[1]


# ----------------------------------------------------------------------------------------------------- start-up
@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.0.2.2"])
def test_serving_beyond_this_computer_without_a_password_is_refused_in_one_sentence(address):
    problem = start_problem(address, signin_configured=False)
    assert problem and "server.address" in problem and "owner set-password" in problem
    assert problem.count(". ") == 0 and "\n" not in problem
    assert start_problem(address, signin_configured=True) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_addresses_need_no_password(address):
    assert start_problem(address, signin_configured=False) is None


def test_streamlit_shows_error_details_in_development_only(tmp_path):
    from streamlit import config

    saved = {key: config.get_option(key) for key in ("client.showErrorDetails", "server.allowedHosts")}
    try:
        config.set_option("client.showErrorDetails", "none")
        config.set_option("server.allowedHosts", ["localhost"])
        Shell(load_settings({"VELOCOACH_ENV": "production", "VELOCOACH_DB": str(tmp_path / "a.duckdb")},
                            tmp_path / "none.toml")).configure_streamlit()
        assert config.get_option("client.showErrorDetails") == "none"
        shell = Shell(load_settings({"VELOCOACH_ENV": "development", "VELOCOACH_DB": str(tmp_path / "a.duckdb"),
                                     "VELOCOACH_ALLOWED_HOSTS": "velocoach.lan"}, tmp_path / "none.toml"))
        shell.configure_streamlit()
        assert config.get_option("client.showErrorDetails") == "full"
        assert {"localhost", "127.0.0.1", "::1", "velocoach.lan"} <= set(config.get_option("server.allowedHosts"))
    finally:
        for key, value in saved.items():
            config.set_option(key, value)


def test_the_shipped_streamlit_config_is_local_quiet_and_closed():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert set(config["server"]["allowedHosts"]) == {"localhost", "127.0.0.1", "::1"}
    assert config["server"]["enableAgentApi"] is False and config["server"]["enableCORS"] is True
    assert config["server"]["enableXsrfProtection"] is True and config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none" and config["client"]["showErrorLinks"] is False


def test_the_first_page_skips_streamlits_repl_check(tmp_path, monkeypatch):
    """Streamlit's once-per-process "are we in a REPL?" check walks inspect.stack() at the first element (~0.2 s of
    the first page); the app marks it done. If an upgrade renames the flag, this fails and the cost is back."""
    import inspect

    from streamlit import delta_generator

    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    Shell(load_settings({"VELOCOACH_DB": str(tmp_path / "a.duckdb")}, tmp_path / "none.toml")).configure_streamlit()
    assert delta_generator._use_warning_has_been_displayed is True
    check = inspect.getsource(delta_generator._maybe_print_use_warning)
    assert "if not _use_warning_has_been_displayed:" in check and "is_repl()" in check


def _nodelay_of_an_accepted_connection(listener) -> int:
    """TCP_NODELAY of a connection an asyncio server accepts on ``listener`` (as uvicorn does)."""
    import asyncio
    import socket

    async def serve() -> int:
        seen = asyncio.get_running_loop().create_future()

        async def on_connect(reader, writer):
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _, client = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            client.close()
            server.close()

    return asyncio.run(serve())


def test_the_apps_connections_send_each_write_at_once(monkeypatch):
    """Streamlit binds its socket with proto 0, so asyncio leaves Nagle on for every connection (~40 ms per
    response on a kept-alive connection); app.py turns it off before the first connection is accepted."""
    import asyncio.base_events as base_events

    from streamlit.web.server.starlette import starlette_server

    monkeypatch.setattr(base_events, "_set_nodelay", base_events._set_nodelay)  # put back after the test
    as_streamlit_binds = starlette_server._bind_socket("127.0.0.1", 0, 8)
    assert as_streamlit_binds.proto == 0  # the cause (Streamlit 1.67): if this fails, the work-around can go
    assert _nodelay_of_an_accepted_connection(as_streamlit_binds) == 0
    send_writes_at_once()
    send_writes_at_once()  # idempotent
    assert _nodelay_of_an_accepted_connection(starlette_server._bind_socket("127.0.0.1", 0, 8)) != 0
