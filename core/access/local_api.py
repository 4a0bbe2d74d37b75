"""The running app's loopback API, seen from the command line (or any local tool): where it listens and how to
call it. The app writes ``app-api.json`` (owner-only, a new random token on every start) into the data folder
and removes it when it stops; ``call_app`` reads it and POSTs JSON with the token.

One TCP connection per call: Streamlit 1.67's listening socket leaves Nagle's algorithm on, which costs ~40 ms
per request on a kept-alive connection and nothing on a fresh one (~1 ms a call here).
No streamlit or starlette here: a CLI call stays a fast, small import.

Before the token (and any of the rider's files, for a forwarded command) is sent, the listening socket must
belong to this user (Linux: /proc/net/tcp): an API file left by a killed app must not hand them to another
user's program that took the port.
"""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.access.private_files import read_private_file
from core.errors import VeloCoachError

API_FILE = "app-api.json"
API_PATH = "/_velocoach/api/"


class AppNotRunning(VeloCoachError):
    """No app is running on this data folder (or its API cannot be trusted or reached)."""


class AppRefused(VeloCoachError):
    """The app answered the call with an error; the message is its sentence."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    token: str
    pid: int


def api_file(files_dir: Path) -> Path:
    return Path(files_dir) / API_FILE


def read_endpoint(files_dir: Path) -> Endpoint:
    path = api_file(files_dir)
    try:
        info = json.loads(read_private_file(path))
    except FileNotFoundError:
        raise AppNotRunning("The app is not running.") from None
    except PermissionError as exc:  # wrong owner or mode: do not trust (or use) the token
        raise AppNotRunning(f"Refusing the app's API file: {exc}") from None
    except ValueError:
        raise AppNotRunning(f"{path} is damaged.") from None
    if not info.get("host"):
        raise AppNotRunning("The running app listens on another address only; its local API is off.")
    return Endpoint(str(info["host"]), int(info["port"]), str(info["token"]), int(info.get("pid", 0)))


_CHECKED_LISTENERS: set[tuple[int, int]] = set()


def listener_owner(port: int, tables: tuple[str, ...] = ("/proc/net/tcp", "/proc/net/tcp6")) -> set[int] | None:
    """User ids of the sockets listening on ``port`` (any local address); None where the system does not say."""
    owners: set[int] = set()
    seen_table = False
    for table in tables:
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        seen_table = True
        for line in lines:
            fields = line.split()
            if len(fields) > 7 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                owners.add(int(fields[7]))
    return owners if seen_table else None


def _check_listener(endpoint: Endpoint) -> None:
    key = (endpoint.port, endpoint.pid)
    if key in _CHECKED_LISTENERS:
        return
    owners = listener_owner(endpoint.port)
    if owners is not None and owners and os.getuid() not in owners:
        raise AppNotRunning(f"Another user's program listens on the app's port {endpoint.port} (the API file is "
                            "left from an earlier run); nothing was sent to it.")
    _CHECKED_LISTENERS.add(key)


def call_app(files_dir: Path, name: str, payload: dict | None = None, timeout_s: float = 30.0,
             max_answer_bytes: int = 10_000_000) -> dict:
    """POST ``payload`` to the running app's API route ``name``; its JSON answer. Raises AppNotRunning when no
    app answers and AppRefused (the app's sentence) when it refuses."""
    endpoint = read_endpoint(files_dir)
    _check_listener(endpoint)
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout_s)
    try:
        conn.request("POST", API_PATH + name, body=json.dumps(payload or {}),
                     headers={"Authorization": f"Bearer {endpoint.token}", "Content-Type": "application/json",
                              "Host": f"127.0.0.1:{endpoint.port}"})
        response = conn.getresponse()
        body = response.read(max_answer_bytes)
    except ConnectionRefusedError:
        raise AppNotRunning("The app is not running (its API file is left from an earlier run).") from None
    except (OSError, http.client.HTTPException) as exc:
        raise AppRefused(f"The app did not answer ({type(exc).__name__}).") from None
    finally:
        conn.close()
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    if response.status != 200:
        raise AppRefused(str(answer.get("error") or f"The app answered {response.status}."))
    return answer
