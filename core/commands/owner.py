"""The owner account that guards the app when it is served beyond this computer: ``owner set-password`` (from a
prompt, or one line of stdin; never an argument), ``owner status [--json]``, ``owner remove-password``.

The hash lives in an owner-only file in the data folder, never in the database or a backup. A running app picks up
a change within a second; a new password ends every signed-in session.
"""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    owner = subparsers.add_parser("owner", help="the owner password that guards the app beyond this computer")
    sub = owner.add_subparsers(dest="owner_command", metavar="ACTION", required=True)
    set_password = sub.add_parser("set-password", help="set or change the owner password (asked twice)")
    set_password.set_defaults(handler=cmd_set_password, needs_db=False)  # the data folder only, never forwarded
    status = sub.add_parser("status", help="is a password set, since when, and where is it kept")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status, needs_db=False)
    remove = sub.add_parser("remove-password", help="turn sign-in off (the app then answers this computer only)")
    remove.set_defaults(handler=cmd_remove, needs_db=False)


def _files_dir(ctx):
    from core.config import load_settings

    return load_settings(db_path=ctx.db_path).files_dir


def cmd_set_password(args, ctx) -> int:
    from core.access.owner import check_new_password, set_password
    from core.cli import read_secret

    password = read_secret("New owner password: ")
    check_new_password(password)
    if read_secret("The same password again: ") != password:
        print("error: the two passwords differ; nothing was changed", file=sys.stderr)
        return 1
    path = set_password(_files_dir(ctx), password)
    print(f"Owner password set (hash in {path}, readable by you only). Sign-in is now required in the browser; "
          "existing sign-ins have ended.")
    return 0


def cmd_status(args, ctx) -> int:
    from core.access.owner import owner_status

    status = owner_status(_files_dir(ctx))
    if args.json:
        ctx.print_json({"password_set": status.password_set, "set_at": status.set_at, "path": str(status.path)})
    elif status.password_set:
        print(f"Owner password set on {status.set_at or 'an unknown date'} ({status.path}). The browser must sign in.")
    else:
        print("No owner password: the app serves this computer only (server.address 127.0.0.1). "
              "Set one with: python -m core owner set-password")
    return 0


def cmd_remove(args, ctx) -> int:
    from core.access.owner import remove_password

    if remove_password(_files_dir(ctx)):
        print("Owner password removed: sign-in is off and the app answers this computer only.")
    else:
        print("There was no owner password.")
    return 0
