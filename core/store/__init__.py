"""Storage: the DuckDB connection, numbered migrations, transactions and integrity checks, Arrow bulk-insert
helpers, backups (ZIP/JSON export, validation, restore) and GPX export.

Owns: every table's shape (migrations/), how writes happen (``transaction``, ``delete_with_children``), what a
backup holds and how it is restored. Must never: know about sports science, parse user files, or import anything
above it (rides, routes, coach, garmin, views).
"""
