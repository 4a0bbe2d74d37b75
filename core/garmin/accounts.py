"""Garmin accounts: sign in (with MFA) through the library, keep only its tokens in an owner-only folder, sign out
(deleting them), list accounts and the sync history. The password is used once and never stored or logged."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import (
    GarminAuthError,
    GarminSyncError,
    ValidationError,
    VeloCoachError,
)
from core.garmin.tokens import TOKEN_FILE, TOKENS_FOLDER, files_dir_or_default, private_dir, protect_tokens, tokens_root
from core.store.db import audit, delete_with_children, get_one, transaction

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# Sign in / sign out / accounts
# ----------------------------------------------------------------------------------------------------------------
class SignIn:
    """A sign-in in progress: the library's client between the password step and the MFA step.

    Keeps no password (it is dropped as soon as the library has used it). ``needs_mfa`` says a code is expected.
    """

    def __init__(self, api: Any, needs_mfa: bool):
        self._api = api
        self.needs_mfa = needs_mfa

    @property
    def complete(self) -> bool:
        return not self.needs_mfa and self._api.client.is_authenticated

    def __repr__(self) -> str:
        return f"SignIn(needs_mfa={self.needs_mfa})"


def _login_error(exc: Exception, step: str) -> VeloCoachError:
    from garminconnect import GarminConnectAuthenticationError, GarminConnectTooManyRequestsError

    if isinstance(exc, GarminConnectAuthenticationError):
        if step == "mfa":
            return GarminAuthError("Garmin Connect did not accept that code: check the latest code and try again")
        if "MFA" in str(exc):
            return GarminAuthError("Garmin Connect asks for a security code: enter the code it sent you")
        return GarminAuthError("Garmin Connect refused the e-mail or password")
    if isinstance(exc, GarminConnectTooManyRequestsError) or "429" in str(exc):
        return GarminSyncError("Garmin Connect is limiting sign-ins from this network (HTTP 429): "
                               "wait a few minutes and try again")
    return GarminSyncError("Garmin Connect could not be reached to sign in: check the connection and try again")


def start_sign_in(email: str, password: str) -> SignIn:
    """Send e-mail and password to Garmin Connect. ``result.needs_mfa``: call ``submit_mfa_code`` next."""
    from garminconnect import Garmin

    email, password = (email or "").strip(), password or ""
    if not email or "@" not in email:
        raise ValidationError("Enter the e-mail address of your Garmin Connect account")
    if not password:
        raise ValidationError("Enter your Garmin Connect password")
    api = Garmin(email, password, return_on_mfa=True)
    try:
        status, _ = api.login()
    except Exception as exc:  # noqa: BLE001 — mapped to the rider's sentence; the library logged the details
        raise _login_error(exc, "password") from None
    finally:
        api.password = None  # the library keeps it on the object; nothing of ours needs it again
        del password
    log.info("garmin sign-in: %s", "security code requested" if status == "needs_mfa" else "signed in")
    return SignIn(api, needs_mfa=status == "needs_mfa")


def submit_mfa_code(sign_in: SignIn, code: str) -> None:
    """Finish a sign-in that asked for a security code (the library's ``resume_login``)."""
    code = (code or "").strip()
    if not code:
        raise ValidationError("Enter the security code Garmin Connect sent you")
    if not sign_in.needs_mfa:
        return
    try:
        sign_in._api.resume_login(None, code)
    except Exception as exc:  # noqa: BLE001
        raise _login_error(exc, "mfa") from None
    sign_in.needs_mfa = False
    log.info("garmin sign-in: security code accepted")


def _check_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError("Give the account a label (for example 'Garmin' or 'Edge 530')")
    if len(label) > 40:
        raise ValidationError("The account label is longer than 40 characters")
    return label


def save_account(cur, athlete_id: int, label: str, sign_in: SignIn, files_dir: Path | None = None) -> int:
    """Store the signed-in account under ``label`` (re-using a signed-out account with that label) and write the
    library's token file, owner-only. Returns the account id."""
    label = _check_label(label)
    if not sign_in.complete:
        raise GarminAuthError("The Garmin sign-in is not finished: enter the security code first")
    root = tokens_root(files_dir_or_default(files_dir))
    token_dir: Path | None = None
    try:
        with transaction(cur):
            row = cur.execute("SELECT id FROM garmin_accounts WHERE athlete_id = ? AND label = ?",
                              [athlete_id, label]).fetchone()
            if row is None:
                account_id = cur.execute("INSERT INTO garmin_accounts (athlete_id, label) VALUES (?, ?) RETURNING id",
                                         [athlete_id, label]).fetchone()[0]
            else:
                account_id = row[0]
            token_dir = root / str(account_id)
            private_dir(root)
            private_dir(token_dir)
            token_file = token_dir / TOKEN_FILE
            os.close(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600))  # exists 0600 before the library writes
            sign_in._api.client.dump(str(token_dir))
            protect_tokens(token_dir)
            cur.execute("UPDATE garmin_accounts SET token_dir = ? WHERE id = ?", [str(token_dir), account_id])
            audit(cur, "sign_in", "garmin_account", account_id, athlete_id, label=label)
    except BaseException:
        if token_dir is not None:
            shutil.rmtree(token_dir, ignore_errors=True)
        raise
    log.info("garmin account %s saved", account_id)
    return account_id


def sign_in(cur, athlete_id: int, label: str, email: str, password: str,
            ask_code: Callable[[], str] | None = None, files_dir: Path | None = None) -> int:
    """One-call sign-in for the CLI: password, then ``ask_code()`` if Garmin wants a security code."""
    attempt = start_sign_in(email, password)
    if attempt.needs_mfa:
        if ask_code is None:
            raise GarminAuthError("Garmin Connect asks for a security code: sign in interactively")
        submit_mfa_code(attempt, ask_code())
    return save_account(cur, athlete_id, label, attempt, files_dir)


def _safe_token_dir(token_dir: str | None) -> Path | None:
    """The stored token folder, only if it has the shape we create (never delete an arbitrary path)."""
    if not token_dir:
        return None
    path = Path(token_dir)
    return path if path.parent.name == TOKENS_FOLDER and path.name.isdigit() else None


def sign_out(cur, account_id: int) -> None:
    """Delete the account's tokens; the account, its history and its rides stay (sign in again to resume)."""
    account = get_account(cur, account_id)
    with transaction(cur):
        cur.execute("UPDATE garmin_accounts SET token_dir = NULL WHERE id = ?", [account_id])
        audit(cur, "sign_out", "garmin_account", account_id, account["athlete_id"], label=account["label"])
        path = _safe_token_dir(account["token_dir"])
        if path is not None and path.exists():
            shutil.rmtree(path)
    log.info("garmin account %s signed out", account_id)


def remove_account(cur, account_id: int) -> None:
    """Sign out and forget the account and its sync history. Rides already imported stay."""
    sign_out(cur, account_id)
    with transaction(cur):
        delete_with_children(cur, "garmin_accounts", [account_id])


def delete_athlete_with_accounts(cur, athlete_id: int, *, confirm_name: str) -> dict:
    """core.athletes.delete_athlete, after checking the name, with the athlete's Garmin tokens removed from disk
    first (tokens are files, not rows). Returns rows deleted per table."""
    from core.athletes import delete_athlete, get_athlete

    if (confirm_name or "").strip() == get_athlete(cur, athlete_id)["name"]:
        for account in list_accounts(cur, athlete_id):
            sign_out(cur, account["id"])
    return delete_athlete(cur, athlete_id, confirm_name=confirm_name)


_ACCOUNT_COLUMNS = ("id", "athlete_id", "label", "token_dir", "last_synced_activity_id", "last_synced_activity_at",
                    "last_sync_at", "created_at", "auto_sync_minutes")
_SELECT_ACCOUNT = ("SELECT id, athlete_id, label, token_dir, last_synced_activity_id, last_synced_activity_at, "
                   "last_sync_at, created_at, auto_sync_minutes FROM garmin_accounts ")


def _account(row) -> dict:
    account = dict(zip(_ACCOUNT_COLUMNS, row, strict=True))
    token_dir = account["token_dir"]
    account["signed_in"] = bool(token_dir) and (Path(token_dir) / TOKEN_FILE).is_file()
    return account


def get_account(cur, account_id: int) -> dict:
    return _account(get_one(cur, _SELECT_ACCOUNT + "WHERE id = ?",
                            [account_id], f"Garmin account {account_id}"))


def list_accounts(cur, athlete_id: int) -> list[dict]:
    """The athlete's Garmin accounts with ``signed_in`` (a token file is present)."""
    rows = cur.execute(_SELECT_ACCOUNT + "WHERE athlete_id = ? ORDER BY label", [athlete_id]).fetchall()
    return [_account(r) for r in rows]


def account_by_label(cur, athlete_id: int, label: str) -> dict:
    row = get_one(cur, _SELECT_ACCOUNT + "WHERE athlete_id = ? AND label = ?", [athlete_id, label], f"The Garmin account labelled '{label}'")
    return _account(row)


def sync_history(cur, athlete_id: int, limit: int = 20) -> list[dict]:
    """Latest sync_log rows of the athlete's accounts, newest first."""
    rows = cur.execute(
        "SELECT l.id, a.label, l.started_at, l.finished_at, l.origin, l.status, l.listed, l.imported, l.skipped, "
        "l.failed, l.error FROM sync_log l JOIN garmin_accounts a ON a.id = l.account_id WHERE a.athlete_id = ? "
        "ORDER BY l.started_at DESC, l.id DESC LIMIT ?", [athlete_id, limit]).fetchall()
    keys = ("id", "account", "started_at", "finished_at", "origin", "status", "listed", "imported", "skipped",
            "failed", "error")
    return [dict(zip(keys, r, strict=True)) for r in rows]
