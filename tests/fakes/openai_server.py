"""A fake OpenAI-compatible HTTP server on 127.0.0.1 for tests: the real openai client talks to it.

    with FakeOpenAI() as fake:
        fake.enqueue(content='{"ok": true}')           # a valid answer
        fake.enqueue(status=429)                       # rate limited
        fake.enqueue(delay_s=2, content="{}")          # slower than the client's timeout
        settings = load_settings(environ={}, ai_base_url=fake.url, ai_api_key="sk-test")

Answers are served in order; when the queue is empty ``default`` (a valid ``{}``) is served. Every request
body and its headers are kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.fakes import BackgroundServer


class FakeOpenAI(BackgroundServer):
    def __init__(self):
        self.queue: deque[dict] = deque()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.default = {"content": "{}", "status": 200, "delay_s": 0.0}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def enqueue(self, *, content: str | dict | None = None, status: int = 200, delay_s: float = 0.0,
                prompt_tokens: int = 120, completion_tokens: int = 40) -> None:
        if isinstance(content, dict):
            content = json.dumps(content)
        self.queue.append({"content": content if content is not None else "{}", "status": status,
                           "delay_s": delay_s, "prompt_tokens": prompt_tokens,
                           "completion_tokens": completion_tokens})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    request = json.loads(body or b"{}")
                except ValueError:
                    request = {"unparseable": body.decode(errors="replace")}
                fake.requests.append(request)
                fake.headers.append(dict(self.headers))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                answer = fake.queue.popleft() if fake.queue else dict(fake.default)
                if answer.get("delay_s"):
                    time.sleep(answer["delay_s"])
                status = answer.get("status", 200)
                if status != 200:
                    kinds = {429: "rate_limit_exceeded", 401: "invalid_api_key"}
                    self._send(status, {"error": {"message": f"fake error {status}",
                                                  "type": kinds.get(status, "server_error"), "code": None}})
                    return
                self._send(200, {
                    "id": f"chatcmpl-fake{len(fake.requests)}", "object": "chat.completion", "created": 0,
                    "model": request.get("model", "fake-model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": answer["content"]}}],
                    "usage": {"prompt_tokens": answer.get("prompt_tokens", 120),
                              "completion_tokens": answer.get("completion_tokens", 40),
                              "total_tokens": answer.get("prompt_tokens", 120) + answer.get("completion_tokens", 40)},
                })

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler), "fake-openai")
        return self


def settings_for(fake: FakeOpenAI, api_key: str, **overrides):
    """Validated VeloCoach settings pointing the real openai client at ``fake`` (no secrets file, no environment):
    short timeout, the default model; ``overrides`` win."""
    from core.config import load_settings

    values = {"ai_base_url": fake.url, "ai_api_key": api_key, "ai_timeout_s": 0.5, "ai_model": "gpt-4o-mini"}
    return load_settings(environ={}, secrets_path=Path("/nonexistent"), **{**values, **overrides})


def main() -> None:  # pragma: no cover — `python -m tests.fakes.openai_server` for manual runs / e2e
    import sys

    fake = FakeOpenAI().start()
    print(fake.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
