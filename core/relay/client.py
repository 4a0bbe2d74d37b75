"""The command line's side of a forwarded command: send the command to the running app, print what it prints as
it prints it, serve its requests for the files named on the command line (core.relay.files.NamedFiles), pass
Ctrl-C on, and return the command's exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from core.errors import DatabaseLockedError, VeloCoachError
from core.relay.files import PROTOCOL, NamedFiles, schema_known

CALL_TIMEOUT_S = 60.0
MAX_ANSWER_BYTES = 32_000_000


def forward(argv: list[str], args, settings, locked: DatabaseLockedError) -> int:
    """Run ``argv`` in the app that holds the database; its exit code. Raises ``locked`` again when no app on
    this data folder answers (the database is then held by another process)."""
    from core.access.local_api import AppNotRunning, AppRefused, call_app

    payload = {"protocol": PROTOCOL, "schema": schema_known(), "argv": list(argv),
               "db": str(Path(settings.db_path).expanduser().resolve())}
    try:
        answer = call_app(settings.files_dir, "cli/run", payload, timeout_s=CALL_TIMEOUT_S,
                          max_answer_bytes=MAX_ANSWER_BYTES)
    except AppNotRunning:
        raise locked from None
    except AppRefused as exc:
        raise DatabaseLockedError(f"{locked} The running app did not take the command: {exc}") from None

    def send(name: str, body: dict) -> dict:
        return call_app(settings.files_dir, name, body, timeout_s=CALL_TIMEOUT_S, max_answer_bytes=MAX_ANSWER_BYTES)

    return follow(send, answer, NamedFiles(args))


def follow(send: Callable[[str, dict], dict], answer: dict, files: NamedFiles) -> int:
    """Print the job's output, answer its requests and poll until it is done. ``send(route, body)`` is one call
    to the app's API (``call_app``)."""
    from core.access.local_api import AppNotRunning, AppRefused

    job, ack, cancelled = answer["job"], 0, False
    while True:
        try:
            reply = None
            if answer.get("seq", 0) > ack:  # a new answer (not one already handled, sent again)
                write_output(answer.get("output") or [])
                ack = answer.get("seq", 0)
                if answer.get("done"):
                    return int(answer.get("exit_code") or 0)
                request = None if cancelled else answer.get("request")
                if request is not None:
                    reply = {"id": request.get("id"), **files.serve(request)}
            answer = send("cli/poll", {"job": job, "ack": ack, "reply": reply})
        except KeyboardInterrupt:
            if cancelled:  # a second Ctrl-C: stop waiting for the app to wind the command down
                print("error: interrupted", file=sys.stderr)
                return 1
            cancelled = True
            try:
                send("cli/cancel", {"job": job})
            except VeloCoachError:
                pass
            answer = {"job": job, "seq": ack}
        except AppNotRunning:
            raise VeloCoachError("The app stopped while it ran the command; the step under way was undone. Run "
                                 "the command again.") from None
        except AppRefused as exc:
            raise VeloCoachError(f"The app lost the command: {exc}") from None


def write_output(output: list) -> None:
    for stream, text in output:
        target = sys.stderr if stream == "stderr" else sys.stdout
        target.write(text)
        target.flush()
