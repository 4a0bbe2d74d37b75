"""Garmin Connect: one small interface around the real ``garminconnect`` library (client), token folders
(tokens), sign-in and accounts (accounts), incremental, resumable sync (sync), and planned workouts sent to the
rider's Garmin calendar (workouts).

Owns: ``garmin_accounts``, ``sync_log`` and ``garmin_workouts``; imports go through core.importer. Must never:
store or log a password or token, parse files itself, or put a second copy of a workout on the calendar.
"""
