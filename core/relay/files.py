"""The rider's files as a command sees them (``ctx.files``): this process's file system in a direct run
(``LocalFiles``), requests back to the command line in a forwarded one (``ForwardedFiles``), and the command
line's guard that serves those requests for the files it named only (``NamedFiles``).

Errors cross the wire as what they were: an ``OSError`` comes back with its errno (so a missing file is a
``FileNotFoundError`` again and the command words it exactly as in a direct run) and a ``VeloCoachError`` with
its class and sentence.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core import errors as velocoach_errors
from core.errors import ExportImportError, VeloCoachError

PROTOCOL = 1
# Bytes per request or answer: a 4 MiB chunk is ~5.6 MB of base64, under the API's body limit for these routes.
CHUNK_BYTES = 4 * 1024 * 1024
MAX_STAGED_BYTES = 4 * 1024**3  # output bytes held for writing at once (a backup is at most 2 GiB)


def schema_known() -> int:
    """The newest migration this code knows: the command line and the app must agree on it."""
    from core.store.db import available_migrations

    return max((m.version for m in available_migrations()), default=0)


def read_secret(prompt: str) -> str:
    """A password from a hidden prompt, or one line of stdin when it is not a terminal; never an argument."""
    if sys.stdin.isatty():
        import getpass  # here: it imports termios, and few commands ask

        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


@dataclass(frozen=True)
class FileInfo:
    size: int
    is_dir: bool


class LocalFiles:
    """This process's files: what a direct run uses, and what the command line uses to serve a forwarded one."""

    local = True  # a command may then stream to and from the path itself (large backups, bounded memory)

    def stat(self, path: Path) -> FileInfo:
        result = Path(path).expanduser().stat()
        return FileInfo(result.st_size, os.path.isdir(Path(path).expanduser()))

    def read_bytes(self, path: Path, offset: int = 0, length: int | None = None) -> bytes:
        path = Path(path).expanduser()
        if offset == 0 and length is None:
            return path.read_bytes()
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(-1 if length is None else length)

    def expand(self, paths: Iterable[Path], suffixes: Iterable[str]) -> list[Path]:
        """Each path, or for a folder every file in it (recursively, sorted) whose suffix is one of ``suffixes``."""
        wanted = {s.lower() for s in suffixes}
        files: list[Path] = []
        for path in map(Path, paths):
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted))
            else:
                files.append(path)
        return files

    def write_atomically(self, path: Path, data: bytes) -> None:
        from core.store.backup_export import write_file_atomically

        write_file_atomically(Path(path), data)

    def write_files_into(self, folder: Path, files: list[tuple[str, bytes]]) -> list[Path]:
        """Write every file into ``folder`` (created if missing) or none: each goes to a temporary name first and
        all are renamed once all are written."""
        folder = Path(folder).expanduser()
        if folder.exists() and not folder.is_dir():
            raise ExportImportError(f"{folder} is a file; give a folder for the workout files")
        partials: list[Path] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in files:
                tmp = folder / f".{name}.partial"
                partials.append(tmp)
                tmp.write_bytes(data)
            for tmp, (name, _) in zip(partials, files, strict=True):
                tmp.replace(folder / name)
        except OSError as exc:
            for tmp in partials:
                tmp.unlink(missing_ok=True)
            raise ExportImportError(f"{folder}: the workout files cannot be written ({exc.strerror or exc})") from None
        return [folder / name for name, _ in files]

    def ask_secret(self, prompt: str) -> str:
        return read_secret(prompt)


# ------------------------------------------------------------------------------------------------ the wire format
def encode_error(exc: BaseException) -> dict:
    if isinstance(exc, OSError):
        return {"kind": "os", "errno": exc.errno, "strerror": exc.strerror or str(exc),
                "filename": None if exc.filename is None else str(exc.filename)}
    if isinstance(exc, VeloCoachError):
        return {"kind": "velocoach", "type": type(exc).__name__, "message": str(exc)}
    return {"kind": "other", "message": f"{type(exc).__name__}: {exc}"}


def decode_error(error: dict) -> BaseException:
    """The exception ``encode_error`` described: OSError subclasses by errno, VeloCoachError subclasses by name
    (only those of core.errors; anything else becomes a plain VeloCoachError)."""
    kind = error.get("kind")
    if kind == "os":
        if error.get("errno") is None:
            return OSError(str(error.get("strerror")))
        return OSError(int(error["errno"]), str(error.get("strerror")), error.get("filename"))
    if kind == "velocoach":
        cls = getattr(velocoach_errors, str(error.get("type")), None)
        if not (isinstance(cls, type) and issubclass(cls, VeloCoachError)):
            cls = VeloCoachError
        return cls(str(error.get("message")))
    return VeloCoachError(str(error.get("message") or "The command line could not do what the app asked."))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# ---------------------------------------------------------------------------------------- the app's side of it
class ForwardedFiles:
    """``ctx.files`` of a forwarded command: every operation is a request to the command line (``call(op)`` sends
    one and returns its answer, or raises the error the command line met)."""

    local = False

    def __init__(self, call: Callable[[dict], dict]):
        self._call = call
        self._staged = 0

    def stat(self, path: Path) -> FileInfo:
        answer = self._call({"op": "stat", "path": str(path)})
        return FileInfo(int(answer["size"]), bool(answer["is_dir"]))

    def read_bytes(self, path: Path, offset: int = 0, length: int | None = None) -> bytes:
        parts: list[bytes] = []
        position, remaining = offset, length
        while remaining is None or remaining > 0:
            want = CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining)
            chunk = unb64(self._call({"op": "read", "path": str(path), "offset": position, "length": want})["data"])
            parts.append(chunk)
            position += len(chunk)
            remaining = None if remaining is None else remaining - len(chunk)
            if len(chunk) < want:
                break
        return b"".join(parts)

    def expand(self, paths: Iterable[Path], suffixes: Iterable[str]) -> list[Path]:
        answer = self._call({"op": "expand", "paths": [str(p) for p in paths], "suffixes": sorted(suffixes)})
        return [Path(p) for p in answer["paths"]]

    def _stage(self, data: bytes) -> str:
        """Send ``data`` in chunks; the command line keeps it under the returned key until a write uses it."""
        self._staged += 1
        key = f"s{self._staged}"
        for start in range(0, max(len(data), 1), CHUNK_BYTES):
            self._call({"op": "stage", "key": key, "data": b64(data[start:start + CHUNK_BYTES])})
        return key

    def write_atomically(self, path: Path, data: bytes) -> None:
        self._call({"op": "write", "path": str(path), "key": self._stage(data)})

    def write_files_into(self, folder: Path, files: list[tuple[str, bytes]]) -> list[Path]:
        staged = [[name, self._stage(data)] for name, data in files]
        answer = self._call({"op": "write_files", "folder": str(folder), "files": staged})
        return [Path(p) for p in answer["paths"]]

    def ask_secret(self, prompt: str) -> str:
        return str(self._call({"op": "secret", "prompt": prompt})["text"])


# ------------------------------------------------------------------------------- the command line's side of it
def _normal(path: str | Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _plain_name(name: str) -> bool:
    """One path component, not hidden, not '..': a name a folder can hold and nothing else."""
    return bool(name) and name == os.path.basename(name) and not name.startswith(".") and "\x00" not in name


class NamedFiles:
    """Serves a forwarded command's requests for the files named on this command line, and nothing else.

    Reads (stat, read, expand): a path named as an input (``local_inputs``), or inside an input folder. Writes: a
    path named as an output (``local_outputs``), a plain file name inside an output folder, or, for a command
    that has a default output (``default_output`` suffixes), a plain file name with one of those suffixes in this
    folder. Prompts: only for a command that declares ``prompts``. Anything else is refused with EACCES.
    """

    def __init__(self, args, files: LocalFiles | None = None):
        self.files = files or LocalFiles()
        self.inputs = [_normal(p) for p in _values(args, getattr(args, "local_inputs", ()))]
        self.outputs = [_normal(p) for p in _values(args, getattr(args, "local_outputs", ()))]
        self.default_suffixes = tuple(getattr(args, "default_output", ()) or ())
        self.prompts = bool(getattr(args, "prompts", False))
        self._staged: dict[str, bytearray] = {}
        self._last: tuple[object, dict] | None = None  # (request id, answer): a request sent again is not redone

    # -- policy -------------------------------------------------------------------------------------------------
    def _refuse(self, path: str, why: str) -> OSError:
        import errno

        return PermissionError(errno.EACCES, why, path)

    def _check_read(self, path: str) -> None:
        normal = _normal(path)
        if not any(_inside(normal, named) for named in self.inputs):
            raise self._refuse(path, "not named on the command line")

    def _check_write(self, path: str) -> None:
        normal = _normal(path)
        if normal in self.outputs:
            return
        parent, name = os.path.split(normal)
        if parent in self.outputs and _plain_name(name):
            return
        if (self.default_suffixes and str(path) == name and _plain_name(name) and parent == os.getcwd()
                and name.lower().endswith(self.default_suffixes)):
            return
        raise self._refuse(path, "not an output named on the command line")

    # -- serving ------------------------------------------------------------------------------------------------
    def serve(self, request: dict) -> dict:
        """The answer to one request: ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``. The same request
        (its id) asked again, because an answer was lost, gets the same answer without being done twice."""
        if self._last is not None and request.get("id") is not None and self._last[0] == request.get("id"):
            return self._last[1]
        try:
            answer = {"ok": True, **self._serve(request)}
        except Exception as exc:  # noqa: BLE001 — every failure goes back to the app as what it was
            answer = {"ok": False, "error": encode_error(exc)}
        self._last = (request.get("id"), answer)
        return answer

    def _serve(self, request: dict) -> dict:
        op = request.get("op")
        if op == "stat":
            self._check_read(request["path"])
            info = self.files.stat(Path(request["path"]))
            return {"size": info.size, "is_dir": info.is_dir}
        if op == "read":
            self._check_read(request["path"])
            length = max(0, min(int(request["length"]), CHUNK_BYTES))
            return {"data": b64(self.files.read_bytes(Path(request["path"]), int(request["offset"]), length))}
        if op == "expand":
            for path in request["paths"]:
                self._check_read(path)
            return {"paths": [str(p) for p in self.files.expand(map(Path, request["paths"]), request["suffixes"])]}
        if op == "stage":
            data = unb64(request["data"])
            if sum(map(len, self._staged.values())) + len(data) > MAX_STAGED_BYTES:
                raise VeloCoachError("The app sent more output than any command writes; nothing was written.")
            self._staged.setdefault(str(request["key"]), bytearray()).extend(data)
            return {}
        if op == "write":
            self._check_write(request["path"])
            self.files.write_atomically(Path(request["path"]), bytes(self._staged.pop(str(request["key"]), b"")))
            return {}
        if op == "write_files":
            folder = request["folder"]
            if _normal(folder) not in self.outputs:
                raise self._refuse(folder, "not an output folder named on the command line")
            names = [str(name) for name, _ in request["files"]]
            if bad := [n for n in names if not _plain_name(n)]:
                raise self._refuse(bad[0], "not a plain file name")
            data = [bytes(self._staged.pop(str(key), b"")) for _, key in request["files"]]
            return {"paths": [str(p) for p in self.files.write_files_into(Path(folder), list(zip(names, data,
                                                                                              strict=True)))]}
        if op == "secret":
            if not self.prompts:
                raise self._refuse("prompt", "this command asks nothing")
            return {"text": self.files.ask_secret(str(request["prompt"]))}
        raise VeloCoachError(f"The app asked for something the command line does not do ({str(op)[:40]!r}).")


def _values(args, dests: Iterable[str]) -> list[str]:
    values: list[str] = []
    for dest in dests:
        value = getattr(args, dest, None)
        if value is None:
            continue
        values.extend(str(v) for v in (value if isinstance(value, list | tuple) else [value]))
    return values
