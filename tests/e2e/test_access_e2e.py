"""Access against the real server (`streamlit run app.py`, all traffic on 127.0.0.1; foreign names are only
strings in Host and Origin headers): DNS rebinding and cross-site websockets are refused, the app refuses to
listen beyond this computer without a password, sign-in works end to end in Chromium (and an expired session
lands on the sign-in form), the loopback API answers the CLI, and the files the app creates are owner-only."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

from core.access.local_api import api_file, call_app
from core.access.owner import set_password
from tests.e2e.conftest import ROOT, _free_port, screenshot, wait_for_app

PASSWORD = "correct horse battery"


def ws_handshake(port: int, host: str, origin: str | None = None, cookie: str | None = None) -> int:
    """The status of a websocket upgrade sent to 127.0.0.1:port with these headers (101 = accepted)."""
    lines = ["GET /_stcore/stream HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: streamlit"]
    lines += [f"Origin: {origin}"] if origin else []
    lines += [f"Cookie: {cookie}"] if cookie else []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(4096)):
            data += chunk
    return int(data.split(b" ", 2)[1])


def http_request(port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_non_loopback_address_without_a_password_refuses_to_start_with_one_sentence(tmp_path):
    env = {**os.environ, "VELOCOACH_DB": str(tmp_path / "v.duckdb"), "VELOCOACH_ENV": "test"}
    # browser.serverAddress keeps Streamlit's start-up banner from looking up this machine's public address.
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "0.0.0.0",
         "--server.port", str(_free_port()), "--server.headless", "true", "--browser.serverAddress", "localhost",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    refusal = [line for line in result.stderr.splitlines() if "VeloCoach" in line]
    assert len(refusal) == 1 and "server.address" in refusal[0] and "owner set-password" in refusal[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "v.duckdb").exists() and not api_file(tmp_path).exists()


def test_rebinding_and_cross_site_requests_are_refused_and_the_app_creates_owner_only_files(
        tmp_path, start_app, browser_page):
    data = tmp_path / "data"  # made by the app, with the database and (in files/) the API token file
    server = start_app(data / "v.duckdb", VELOCOACH_SEED_DEMO="0")
    files = data / "files"
    port, me = server.port, f"127.0.0.1:{server.port}"
    assert http_request(port, "GET", "/")[0] == 200
    assert http_request(port, "GET", "/", {"Host": "evil.test"})[0] == 400
    assert http_request(port, "GET", "/_stcore/host-config", {"Host": f"evil.test:{port}"})[0] == 400
    assert ws_handshake(port, f"evil.test:{port}", f"http://evil.test:{port}") == 403  # DNS rebinding
    assert ws_handshake(port, f"evil.test:{port}") == 403
    assert ws_handshake(port, me, "http://evil.test") == 403
    assert ws_handshake(port, f"localhost:{port}", "http://localhost:1") == 403  # another local site
    assert ws_handshake(port, me, f"http://{me}") == 101
    headers = http_request(port, "GET", "/")[1]
    assert headers["x-frame-options"] == "SAMEORIGIN" and headers["referrer-policy"] == "same-origin"

    # the loopback API, as the CLI calls it
    answer = call_app(files, "ping")
    assert answer["ok"] is True and answer["pid"] == server.process.pid
    assert mode(api_file(files)) == 0o600 and mode(files) == 0o700
    status, _, _ = http_request(port, "POST", "/_velocoach/api/ping", {"Authorization": "Bearer wrong",
                                                               "Content-Type": "application/json"}, b"{}")
    assert status == 401

    # a session opens the database: the app creates it (and its folder) owner-only
    browser_page.goto(server.url)
    wait_for_app(browser_page)
    browser_page.get_by_role("heading", name="Dashboard").wait_for()
    created = [p for p in data.iterdir() if p.is_file()]
    assert (data / "v.duckdb") in created and mode(data) == 0o700
    assert {p.name: mode(p) for p in created} == {p.name: 0o600 for p in created}
    server.stop()
    assert not api_file(files).exists()  # the lifespan removed the token file


def test_with_a_password_the_browser_signs_in_signs_out_and_an_expired_session_returns_to_the_form(
        tmp_path, start_app, browser_page):
    set_password(tmp_path / "data" / "files", PASSWORD)
    server = start_app(tmp_path / "data" / "v.duckdb", VELOCOACH_SEED_DEMO="0", VELOCOACH_SESSION_HOURS="0.01")
    port, me = server.port, f"127.0.0.1:{server.port}"
    status, headers, _ = http_request(port, "GET", "/compare?a=1")
    assert status == 303 and headers["location"] == "/_velocoach/login?next=%2Fcompare%3Fa%3D1"
    assert ws_handshake(port, me, f"http://{me}") == 403
    assert http_request(port, "GET", "/_stcore/health")[0] == 200

    page = browser_page
    page.goto(f"{server.url}/settings")
    page.get_by_label("Owner password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong password.").wait_for()
    screenshot(page, "access-sign-in-wrong")
    page.get_by_label("Owner password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/settings")
    wait_for_app(page)
    page.get_by_role("heading", name="Settings").wait_for()
    cookie = next(c for c in page.context.cookies() if c["name"] == "velocoach_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "velocoach_session" not in page.evaluate("document.cookie")
    assert ws_handshake(port, me, f"http://{me}", f"velocoach_session={cookie['value']}") == 101
    screenshot(page, "access-signed-in")
    assert mode(tmp_path / "data" / "v.duckdb") == 0o600

    # sign out through the sidebar link and its confirmation
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/_velocoach/logout")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/_velocoach/login")
    assert ws_handshake(port, me, f"http://{me}", f"velocoach_session={cookie['value']}") == 403
    page.goto(f"{server.url}/settings")
    assert "/_velocoach/login" in page.url

    # The session lasts 0.01 h (36 s: long enough to sign out first on a loaded machine): the page reloads itself
    # onto the sign-in form, not a connection error.
    page.get_by_label("Owner password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/settings")
    wait_for_app(page)
    page.wait_for_url("**/_velocoach/login?next=*", timeout=90_000)
    page.get_by_label("Owner password").wait_for()
    assert [u for u in page.blocked_requests if "tile.openstreetmap.org" not in u] == []
