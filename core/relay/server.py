"""The app's side of forwarded commands: one job (a worker thread) per command, its output captured in order,
the command line's files reached through requests it answers, and three API routes::

    cli/run     {"protocol", "schema", "db", "argv"} -> starts the job; its first events
    cli/poll    {"job", "reply"?}                     -> answers the pending request; the next events
    cli/cancel  {"job"}                               -> Ctrl-C on the command line: interrupts the command

Events: ``{"job", "output": [[stream, text], ...], "request": {...} | null, "done", "exit_code"?}``. A poll
waits up to a second for something to happen, so a quick command is one round trip and a long one (a sync, a
restore) streams its progress.

The handler runs exactly as ``python -m core`` runs it (``core.cli.execute``) with ``ctx.files`` sending every
file operation back to the command line (core.relay.files.ForwardedFiles) and ``sys.stdout``/``sys.stderr``
routed, for this thread only, into the job. Ctrl-C arrives as KeyboardInterrupt in the worker, as it would in a
direct run, so an open transaction rolls back.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import VeloCoachError
from core.relay.files import PROTOCOL, ForwardedFiles, decode_error, schema_known
from core.store.db import Database

log = logging.getLogger(__name__)

FIRST_WAIT_S = 2.0           # cli/run waits this long for a quick command to finish
POLL_WAIT_S = 1.0            # a poll's longest wait when nothing happens
COALESCE_S = 0.1             # output waits this long for more before it is sent
OUTPUT_BUDGET = 2_000_000    # characters of output per answer (≤ 8 MB of UTF-8)
OUTBOX_LIMIT = 8_000_000     # characters held for a command line that does not read: the command waits
REPLY_TIMEOUT_S = 120.0      # a command line that stops answering for this long ends the command
DONE_KEEP_S = 60.0           # a finished job is forgotten this long after its last answer
VANISHED_S = 600.0           # a running job nobody asked about for this long is stopped
MAX_JOBS = 16
MAX_ARGV = 1000


class CommandLineGone(VeloCoachError):
    """The command line that started a forwarded command stopped answering."""


# ------------------------------------------------------------------------------------------ output per thread
_current = threading.local()


class _ThreadRoutedStream:
    """Stands in for sys.stdout / sys.stderr: a job's worker thread writes into its job, every other thread into
    the original stream."""

    def __init__(self, original, name: str):
        self._original = original
        self._name = name

    def write(self, text: str) -> int:
        job = getattr(_current, "job", None)
        if job is None:
            return self._original.write(text)
        job.emit(self._name, str(text))
        return len(text)

    def flush(self) -> None:
        if getattr(_current, "job", None) is None:
            self._original.flush()

    def isatty(self) -> bool:
        return False if getattr(_current, "job", None) is not None else self._original.isatty()

    def __getattr__(self, name: str):
        return getattr(self._original, name)


def install_output_routing() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _ThreadRoutedStream):
            setattr(sys, name, _ThreadRoutedStream(stream, name))


def remove_output_routing() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _ThreadRoutedStream):
            setattr(sys, name, stream._original)


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in another thread at its next Python instruction (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               None if exc is None else ctypes.py_object(exc))


@functools.cache
def _parser():
    """The command line's parser, built once (~20 ms): parsing only reads it, so jobs share it."""
    from core.cli import build_parser

    return build_parser()


# ------------------------------------------------------------------------------------------------------- a job
class Job:
    def __init__(self, argv: list[str], db_path: Path, database: Callable[[], Database], *,
                 reply_timeout_s: float = REPLY_TIMEOUT_S):
        self.id = secrets.token_urlsafe(16)
        self.argv = argv
        self._db_path = db_path
        self._database = database
        self._reply_timeout_s = reply_timeout_s
        self._cond = threading.Condition()
        self._outbox: list[list[str]] = []
        self._outbox_chars = 0
        self._request: dict | None = None
        self._reply: dict | None = None
        self._seq = 0
        self.done = False
        self.exit_code: int | None = None
        self.cancelled = False
        self._gone = False
        self._last_answer: dict | None = None
        self.last_seen = time.monotonic()
        self._interrupt_lock = threading.Lock()
        self._interruptible = False
        self.thread = threading.Thread(target=self._work, name=f"velocoach-cli-{self.id[:6]}", daemon=True)

    # -- the worker ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def _work(self) -> None:
        code = 1
        _current.job = self
        try:
            try:
                with self._interrupt_lock:
                    self._interruptible = not self.cancelled
                code = self._execute()
            finally:
                self._stop_interrupts()
        except KeyboardInterrupt:  # a cancel that landed after the command had finished
            pass
        except BaseException:  # noqa: BLE001 — never leaves a command line waiting
            log.exception("forwarded command failed outside its handler")
        finally:
            _current.job = None
            with self._cond:
                self.done, self.exit_code = True, code
                self._cond.notify_all()

    def _execute(self) -> int:
        from core.cli import Context, execute

        try:
            args = _parser().parse_args(self.argv)
        except SystemExit as exc:  # argparse printed the usage error (or the help) into this job's stderr
            return exc.code if isinstance(exc.code, int) else 2
        ctx = Context(self._db_path, args.athlete, files=ForwardedFiles(self.call), open_db=self._database)
        try:
            return execute(args, ctx)
        finally:
            ctx.close()

    def _stop_interrupts(self) -> None:
        """No Ctrl-C may land after this: stop accepting them, then drop one already on its way."""
        while True:
            try:
                with self._interrupt_lock:
                    self._interruptible = False
                _set_async_exc(threading.get_ident(), None)
                return
            except KeyboardInterrupt:
                continue

    def cancel(self) -> None:
        with self._interrupt_lock:
            if self._interruptible and not self.cancelled and self.thread.ident is not None:
                _set_async_exc(self.thread.ident, KeyboardInterrupt)
        with self._cond:
            self.cancelled = True
            self._cond.notify_all()

    # -- from the worker: output and requests -------------------------------------------------------------------
    def emit(self, stream: str, text: str) -> None:
        if not text or self._gone:
            return
        with self._cond:
            if self._outbox_chars > OUTBOX_LIMIT and not self._cond.wait_for(
                    lambda: self._outbox_chars <= OUTBOX_LIMIT or self.cancelled, self._reply_timeout_s):
                self._gone = True  # what the command prints from now on has no reader
                raise CommandLineGone("The command line stopped reading this command's output; it was stopped.")
            if self._outbox and self._outbox[-1][0] == stream:
                self._outbox[-1][1] += text
            else:
                self._outbox.append([stream, text])
            self._outbox_chars += len(text)
            self._cond.notify_all()

    def call(self, op: dict) -> dict:
        """Send one request to the command line and wait for its answer (ForwardedFiles' transport)."""
        with self._cond:
            self._seq += 1
            self._request, self._reply = {**op, "id": self._seq}, None
            self._cond.notify_all()
            try:
                answered = self._cond.wait_for(lambda: self._reply is not None or self.cancelled,
                                               self._reply_timeout_s)
                reply = self._reply
            finally:  # also when Ctrl-C lands while waiting: no request stays open
                self._request, self._reply = None, None
        if self.cancelled:
            raise KeyboardInterrupt
        if not answered or reply is None:
            raise CommandLineGone("The command line stopped answering; the command was stopped and changed "
                                  "nothing more.")
        if not reply.get("ok"):
            raise decode_error(reply.get("error") or {})
        return reply

    # -- from the API: answers and events -----------------------------------------------------------------------
    def answer(self, reply: Any) -> None:
        with self._cond:
            if (isinstance(reply, dict) and self._request is not None and self._reply is None
                    and reply.get("id") == self._request["id"]):
                self._reply = reply
                self._cond.notify_all()

    def _request_open(self) -> bool:
        return self._request is not None and self._reply is None

    def events(self, wait_s: float, ack: int = 0) -> dict:
        """The next answer: what the command printed since the last one, the open request, whether it is done.
        ``ack`` is the last answer the command line handled: a lost answer (Ctrl-C during a poll) is sent again."""
        with self._cond:
            if self._last_answer is not None and ack < self._last_answer["seq"]:
                return self._last_answer
        started = time.monotonic()
        deadline = started + wait_s
        with self._cond:
            while not (self.done or (self._request_open() and not self._outbox)):
                now = time.monotonic()
                if self._outbox and now - started >= COALESCE_S or now >= deadline:
                    break
                until = min(deadline, started + COALESCE_S) if self._outbox else deadline
                self._cond.wait(max(until - now, 0.001))
            output, budget = [], OUTPUT_BUDGET
            while self._outbox and budget > 0:
                stream, text = self._outbox[0]
                if len(text) > budget:
                    output.append([stream, text[:budget]])
                    self._outbox[0][1] = text[budget:]
                    budget = 0
                else:
                    output.append(self._outbox.pop(0))
                    budget -= len(text)
            self._outbox_chars = sum(len(text) for _, text in self._outbox)
            self.last_seen = time.monotonic()
            self._cond.notify_all()  # a worker waiting for room
            seq = (self._last_answer or {"seq": 0})["seq"] + 1
            answer: dict[str, Any] = {"job": self.id, "seq": seq, "output": output,
                                      "done": self.done and not self._outbox,
                                      "request": self._request if self._request_open() and not self._outbox else None}
            if answer["done"]:
                answer["exit_code"] = self.exit_code
            self._last_answer = answer
            return answer


# --------------------------------------------------------------------------------------------------- the relay
class CommandRelay:
    """The app's forwarded-command service: ``routes()`` for shell.add_api_route, ``close()`` at shutdown."""

    def __init__(self, database: Callable[[], Database], db_path: Path, *,
                 reply_timeout_s: float = REPLY_TIMEOUT_S):
        self._database = database
        self.db_path = Path(db_path)
        self._reply_timeout_s = reply_timeout_s
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def routes(self) -> dict[str, Callable[[Any], dict]]:
        return {"cli/run": self.run, "cli/poll": self.poll, "cli/cancel": self.cancel}

    def _same_database(self, path_text: str) -> bool:
        try:
            return os.path.samefile(path_text, self.db_path)
        except OSError:
            return Path(path_text).resolve() == self.db_path.resolve()

    def run(self, call) -> dict:
        body = call.body
        argv = body.get("argv")
        if body.get("protocol") != PROTOCOL:
            raise VeloCoachError("The running app speaks another version of the command protocol: restart the app.")
        if not (isinstance(argv, list) and len(argv) <= MAX_ARGV and all(isinstance(a, str) for a in argv)):
            raise VeloCoachError("The command is not a list of arguments.")
        if not isinstance(body.get("db"), str) or not self._same_database(body["db"]):
            raise VeloCoachError(f"The running app uses another database ({self.db_path}).")
        if body.get("schema") != schema_known():
            raise VeloCoachError(f"The running app is another version of VeloCoach (database schema "
                                 f"{schema_known()}, this command line {body.get('schema')}): restart the app.")
        self._sweep()
        job = Job(argv, self.db_path, self._database, reply_timeout_s=self._reply_timeout_s)
        with self._lock:
            if sum(not j.done for j in self._jobs.values()) >= MAX_JOBS:
                raise VeloCoachError(f"The app is already running {MAX_JOBS} commands; try again when one ends.")
            for old in sorted((j for j in self._jobs.values() if j.done), key=lambda j: j.last_seen)[:-MAX_JOBS]:
                self._jobs.pop(old.id, None)  # finished ones are kept a while for a lost answer, not forever
            self._jobs[job.id] = job
        install_output_routing()
        job.start()
        return job.events(FIRST_WAIT_S)

    def poll(self, call) -> dict:
        job = self._job(call.body)
        if call.body.get("reply") is not None:
            job.answer(call.body["reply"])
        ack = call.body.get("ack")
        return job.events(POLL_WAIT_S, ack if isinstance(ack, int) else 0)

    def cancel(self, call) -> dict:
        self._job(call.body).cancel()
        return {"ok": True}

    def _job(self, body: dict) -> Job:
        with self._lock:
            job = self._jobs.get(str(body.get("job")))
        if job is None:
            raise VeloCoachError("The app knows no such command (it ended long ago, or the app restarted).")
        return job

    def _sweep(self) -> None:
        """Forget finished jobs a while after their last answer (one lost to Ctrl-C can still be asked for
        again); stop those whose command line vanished."""
        now = time.monotonic()
        with self._lock:
            for job in [j for j in self._jobs.values() if j.done and now - j.last_seen > DONE_KEEP_S]:
                self._jobs.pop(job.id, None)
            vanished = [j for j in self._jobs.values() if not j.done and now - j.last_seen > VANISHED_S]
        for job in vanished:
            job.cancel()

    def running(self) -> int:
        with self._lock:
            return sum(not j.done for j in self._jobs.values())

    def close(self, wait_s: float = 10.0) -> None:
        """At shutdown: interrupt every running command (its transaction rolls back) and wait for them."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if not job.done:
                job.cancel()
        deadline = time.monotonic() + wait_s
        for job in jobs:
            job.thread.join(max(0.0, deadline - time.monotonic()))
        remove_output_routing()
