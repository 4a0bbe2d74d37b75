"""Garmin Connect: one small interface around the real ``garminconnect`` library (client), token folders
(tokens), sign-in and accounts (accounts), and incremental, resumable sync (sync).

Owns: ``garmin_accounts`` and ``sync_log``; imports go through core.importer. Must never: store or log a
password or token, or parse files itself.
"""
