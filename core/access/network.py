"""Who may talk to the app: Host names (against DNS rebinding), same-origin checks, loopback addresses.

A DNS-rebinding page makes the browser send the attacker's *name* as the Host header, so an IP literal or
``localhost`` can never be that attack; any other name must be configured (VELOCOACH_ALLOWED_HOSTS).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1, ::ffff:127.x and the names localhost / *.localhost."""
    if not host:
        return False
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    ip = _ip(name)
    return ip is not None and ip.is_loopback


def is_wildcard(address: str | None) -> bool:
    """An unset address or 0.0.0.0 / :: (Streamlit then listens on every interface)."""
    if not address:
        return True
    ip = _ip(address)
    return ip is not None and ip.is_unspecified


def split_host_header(value: str | None) -> tuple[str, int | None] | None:
    """A Host header (or an Origin's netloc) as (lower-case name, port); None when malformed."""
    if not value or len(value) > 300 or any(c in value for c in "/?#@\\ \t\r\n"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        hostname, port = parts.hostname, parts.port  # .port raises on a bad or out-of-range port
    except ValueError:
        return None
    if not hostname:
        return None
    return hostname.lower().rstrip("."), port


def host_is_allowed(host_header: str | None, extra_names: tuple[str, ...] = ()) -> bool:
    """True for an IP literal, localhost (*.localhost) or a configured name ("*.example.org" allowed)."""
    parsed = split_host_header(host_header)
    if parsed is None:
        return False
    name = parsed[0]
    if name == "localhost" or name.endswith(".localhost") or _ip(name) is not None:
        return True
    for pattern in extra_names:
        pattern = pattern.strip().lower().rstrip(".")
        suffix = pattern[1:] if pattern.startswith("*.") else None
        if pattern == name or (suffix and name.endswith(suffix) and len(name) > len(suffix)):
            return True
    return False


def origin_matches_host(origin: str | None, host_header: str | None) -> bool:
    """Same-origin test for browser requests: no Origin (not a browser) or exactly this scheme's host and port."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return False
    want, got = split_host_header(host_header), split_host_header(parts.netloc)
    if want is None or got is None:
        return False
    default = 443 if parts.scheme == "https" else 80
    return want[0] == got[0] and (want[1] or default) == (got[1] or default)
