"""Where Garmin tokens and downloaded originals live: an owner-only folder per account under the data folder."""

from __future__ import annotations

import os
from pathlib import Path

TOKENS_FOLDER = "garmin_tokens"
TOKEN_FILE = "garmin_tokens.json"  # the name garminconnect's Client.dump()/load() use inside a folder
ORIGINALS_FOLDER = "garmin_originals"  # downloaded files, kept so the database can be rebuilt offline


def tokens_root(files_dir: Path) -> Path:
    return Path(files_dir) / TOKENS_FOLDER


def private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def protect_tokens(token_dir: Path | None) -> None:
    """Owner-only permissions on the token folder and everything in it."""
    if token_dir is None or not token_dir.is_dir():
        return
    os.chmod(token_dir, 0o700)
    for item in token_dir.iterdir():
        if item.is_file():
            os.chmod(item, 0o600)


def files_dir_or_default(files_dir: Path | None) -> Path:
    if files_dir is not None:
        return Path(files_dir)
    from core.config import load_settings

    return load_settings().files_dir
