"""Sign-in and sign-out pages: /_velocoach/login (GET form, POST password) and /_velocoach/logout (GET asks,
POST signs out). Self-contained HTML with no external resources and a strict Content-Security-Policy.

A sign-in attempt is counted before the password is checked (so a burst of parallel guesses cannot slip past
the limit) and forgiven on success; argon2 runs in a worker thread, at most two at a time (64 MiB each).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import unquote

from anyio import to_thread
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core.access.owner import MAX_PASSWORD_CHARS, verify_password
from core.views.text import html_text
from shell.gate import LOGIN_PATH, SESSION_COOKIE, SHELL_PREFIX

if TYPE_CHECKING:
    from starlette.requests import Request

    from shell.server import Shell

log = logging.getLogger("velocoach.shell.login")

LOGOUT_PATH = SHELL_PREFIX + "/logout"
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VeloCoach – {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:22rem;margin:15vh auto;padding:0 1rem;color:#1F2933}}
input,button{{font-size:1rem;padding:.55rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
button{{background:#E4572E;color:#fff;border:0;border-radius:4px;cursor:pointer}}
.note{{color:#b00020}} a{{color:#1F2933}}</style></head>
<body><h1>VeloCoach</h1>{body}</body></html>"""
_LOGIN_FORM = """{message}<form method="post" action="{action}">
<input type="hidden" name="next" value="{next}">
<label for="password">Owner password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required
 maxlength="{max_chars}">
<button type="submit">Sign in</button></form>"""
_LOGOUT_FORM = """<p>Sign out of VeloCoach in this browser?</p>
<form method="post" action="{action}"><button type="submit">Sign out</button></form><p><a href="/">Back</a></p>"""


def safe_next(value: str | None) -> str:
    """Only a path on this site: no //other.host, /\\other.host, scheme or line breaks (no open redirect)."""
    value = unquote(value or "/")
    if (not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\t\\")
            or len(value) > 2000):
        return "/"
    return value


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = HTMLResponse(_PAGE.format(title=html_text(title), body=body), status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "form-action 'self'; frame-ancestors 'none'")
    response.headers["X-Frame-Options"] = "DENY"
    return response


def login_form(next_path: str, message: str = "", status: int = 200, headers: dict | None = None) -> Response:
    body = _LOGIN_FORM.format(action=LOGIN_PATH, next=html_text(next_path), max_chars=MAX_PASSWORD_CHARS,
                              message=f'<p class="note">{html_text(message)}</p>' if message else "")
    return page("sign in", body, status, headers)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"  # uvicorn applies X-Forwarded-Proto from a proxy on this computer


async def login_get(request: Request, shell: Shell) -> Response:
    if shell.password_hash() is None:
        return RedirectResponse("/", status_code=303)
    return login_form(safe_next(request.query_params.get("next")))


async def login_post(request: Request, shell: Shell) -> Response:
    password_hash = shell.password_hash()
    if password_hash is None:
        return RedirectResponse("/", status_code=303)
    client = _client(request)
    form = await request.form(max_files=0, max_fields=4, max_part_size=8192)
    next_path = safe_next(str(form.get("next") or "/"))
    wait_s = shell.limiter.retry_after_s(client)
    if wait_s > 0:
        log.warning("sign-in refused for %s: too many failed attempts", client)
        return login_form(next_path, f"Too many failed attempts. Try again in {int(wait_s) + 1} s.", 429,
                          {"Retry-After": str(int(wait_s) + 1)})
    password = str(form.get("password") or "")
    shell.limiter.failed(client)
    async with shell.verify_slots:
        ok = await to_thread.run_sync(verify_password, password_hash, password)
    if not ok:
        log.warning("failed sign-in from %s", client)
        return login_form(next_path, "Wrong password.", 401)
    shell.limiter.succeeded(client)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, shell.sessions().issue(password_hash), max_age=shell.sessions().max_age_s,
                        path="/", httponly=True, samesite="strict", secure=_is_https(request))
    response.headers["Cache-Control"] = "no-store"
    log.info("signed in from %s", client)
    return response


async def logout_get(request: Request, shell: Shell) -> Response:
    return page("sign out", _LOGOUT_FORM.format(action=LOGOUT_PATH))


async def logout_post(request: Request, shell: Shell) -> Response:
    shell.sessions().revoke(request.cookies.get(SESSION_COOKIE), shell.password_hash())
    response = RedirectResponse(LOGIN_PATH if shell.password_hash() else "/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_is_https(request))
    response.headers["Cache-Control"] = "no-store"
    return response
