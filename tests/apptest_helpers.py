"""Shared AppTest helpers: run a page through navigation.py, the page script (its links need the app's navigation) and read the database
the page wrote. AppTest shares the test process, so the cached connection is released first each time."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store.db import connect, integrity_problems

APP = str(Path(__file__).resolve().parent.parent / "navigation.py")


def shown(markdown: str) -> str:
    """What the rider reads from a Markdown string the app escaped (core.views.text.md): backslashes before
    punctuation and the invisible word joiners that keep URLs from becoming links removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def _release_cached_connection() -> None:
    from ui import _database, _demo_completion

    _database.clear()
    _demo_completion.clear()


def run_app_page(page: str, timeout: float = 60, **query) -> AppTest:
    """``page`` as the app runs it (through the page script's navigation and error guard); ``query`` becomes the
    address's ?k=v."""
    _release_cached_connection()
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.query_params.update({k: str(v) for k, v in query.items()})
    at.switch_page(page).run()
    return at


def read_db(db_path, sql: str) -> tuple[list[tuple], list[str]]:
    """Rows of ``sql`` and the integrity problems of the database, read on a fresh connection."""
    _release_cached_connection()
    db = connect(db_path)
    try:
        return db.cursor().execute(sql).fetchall(), integrity_problems(db.cursor())
    finally:
        db.close()


def tiles(at: AppTest) -> dict[str, str]:
    """{label: value} of the page's figure tiles (``ui.metric_grid``: one HTML grid each, ``core.views.tiles``) and
    of any Streamlit metric card, as the browser shows them."""
    from html.parser import HTMLParser

    found = {m.label: m.value for m in at.metric}

    class Grid(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cell, self.label = None, None

        def handle_starttag(self, tag, attrs):
            self.cell = tag if tag == "dt" or (tag == "dd" and ("class", "vc-value") in attrs) else None

        def handle_data(self, data):
            if self.cell == "dt":
                self.label = data
            elif self.cell == "dd" and self.label is not None:
                found[self.label] = data

    for element in at.get("html"):
        if 'class="vc-tiles"' in element.proto.body:
            Grid().feed(element.proto.body)
    return found


def html_tables(at: AppTest) -> list:
    """The page's static HTML tables (``fmt.table_html``) as frames of their display strings, in page order."""
    from html.parser import HTMLParser

    import pandas as pd

    tables: list = []

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.head, self.rows, self.cell = [], [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("th", "td"):
                self.cell = tag
                (self.head if tag == "th" else self.rows[-1]).append("")

        def handle_endtag(self, tag):
            if tag in ("th", "td"):
                self.cell = None
            elif tag == "table":
                tables.append(pd.DataFrame([r for r in self.rows if r], columns=self.head))
                self.head, self.rows = [], []

        def handle_data(self, data):
            if self.cell == "th":
                self.head[-1] += data
            elif self.cell == "td":
                self.rows[-1][-1] += data

    for element in at.get("html"):
        if 'class="vc-table"' in element.proto.body:
            Tables().feed(element.proto.body)
    return tables

