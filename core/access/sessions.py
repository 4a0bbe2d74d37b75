"""Signed, expiring sign-in sessions (itsdangerous) and the rate limit on failed sign-ins.

A session value is ``{"sid": random}`` signed with a key derived from a secret (an owner-only file, so sessions
survive a restart) *and* the current password hash, so changing the password ends every session. Expiry is
checked on every use (``max_age``); signing out revokes the session id in memory until it would have expired.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

_SALT = "velocoach-session-v1"


@dataclass(frozen=True)
class Session:
    sid: str
    issued_at: float   # Unix time
    expires_at: float  # Unix time


class Sessions:
    def __init__(self, secret: bytes, max_age_s: int) -> None:
        self.max_age_s = int(max_age_s)
        self._secret = secret
        self._revoked: dict[str, float] = {}  # sid -> when it would have expired anyway
        self._lock = threading.Lock()

    def _serializer(self, password_hash: str):
        from itsdangerous import URLSafeTimedSerializer

        key = hashlib.sha256(self._secret + b"\0" + password_hash.encode()).digest()
        return URLSafeTimedSerializer(key, salt=_SALT)

    def issue(self, password_hash: str) -> str:
        return self._serializer(password_hash).dumps({"sid": secrets.token_urlsafe(16)})

    def check(self, value: str | None, password_hash: str | None) -> Session | None:
        """The session a cookie value stands for, or None (absent, forged, expired, revoked, other password)."""
        from itsdangerous import BadSignature

        if not value or not password_hash or len(value) > 512:
            return None
        try:
            data, signed_at = self._serializer(password_hash).loads(value, max_age=self.max_age_s,
                                                                     return_timestamp=True)
        except BadSignature:  # includes SignatureExpired
            return None
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str):
            return None
        with self._lock:
            if sid in self._revoked:
                return None
        issued = signed_at.timestamp()
        return Session(sid, issued, issued + self.max_age_s)

    def revoke(self, value: str | None, password_hash: str | None) -> None:
        session = self.check(value, password_hash)
        if session is None:
            return
        now = time.time()
        with self._lock:
            self._revoked = {sid: until for sid, until in self._revoked.items() if until > now}
            self._revoked[session.sid] = session.expires_at


@dataclass
class FailureLimiter:
    """Sliding window on *failed* sign-ins, per client address and for everyone together (behind a reverse proxy
    every client has the proxy's address, so the overall bound is what holds)."""

    per_client: int = 5
    overall: int = 50
    window_s: float = 15 * 60
    _by_client: dict[str, deque[float]] = field(default_factory=dict)
    _everyone: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _trim(self, queue: deque[float], now: float) -> None:
        while queue and queue[0] <= now - self.window_s:
            queue.popleft()

    def retry_after_s(self, client: str, now: float | None = None) -> float:
        """Seconds before ``client`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            mine = self._by_client.get(client, deque())
            self._trim(mine, now)
            self._trim(self._everyone, now)
            waits = [0.0]
            if len(mine) >= self.per_client:
                waits.append(mine[0] + self.window_s - now)
            if len(self._everyone) >= self.overall:
                waits.append(self._everyone[0] + self.window_s - now)
            return max(waits)

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._by_client) > 10_000:  # bounded memory against a flood of spoofed addresses
                self._by_client.clear()
            self._by_client.setdefault(client, deque()).append(now)
            self._everyone.append(now)

    def succeeded(self, client: str) -> None:
        """A right password clears the client's own count (not the overall one)."""
        with self._lock:
            self._by_client.pop(client, None)
            if self._everyone:
                self._everyone.pop()  # the attempt counted before verifying was not a failure
