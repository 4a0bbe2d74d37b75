"""Figure tiles (a label, a large value, its help on hover, a change below it) as one escaped HTML element for every
page. Pure string building: no pandas, no Streamlit.

Must never: read the database, import streamlit, or put a string into the HTML unescaped.
"""

from __future__ import annotations

from core.views.text import html_text

# Figure tiles as one HTML element, drawn as Streamlit draws a metric (label above a large value, the help on
# hover, a change below in colour *and* with its sign and arrow): a Ride page pick redrew 11 metric elements in 3
# rows of 4 columns, a third of the browser's work on that page (bench/app_pages.py, issue 17).
_TILES_STYLE = """<style>
.vc-tiles{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:1rem;margin:0 0 0.5rem 0}
.vc-tiles .vc-tile{min-width:0;margin:0;padding:0}
.vc-tiles .vc-tile dt{font-size:0.875rem;line-height:1.6;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.vc-tiles .vc-tile dt[title]{text-decoration:underline dotted;text-underline-offset:3px;cursor:help}
.vc-tiles .vc-tile dd{font-size:2.25rem;line-height:1.2;margin:0;padding-bottom:0.25rem;white-space:nowrap}
.vc-tiles .vc-tile dd.vc-delta{font-size:0.875rem;line-height:1.4;padding:0}
.vc-tiles .vc-tile dd.vc-good{color:#177233}.vc-tiles .vc-tile dd.vc-bad{color:#C0262D}
.vc-tiles .vc-tile dd.vc-plain{color:rgba(49,51,63,0.7)}
@media (max-width:640px){.vc-tiles{grid-template-columns:repeat(2,minmax(0,1fr)) !important}}
</style>"""
_ARROWS = {"up": "▲", "down": "▼"}


def tiles_html(tiles: list[tuple], per_row: int = 4) -> str:
    """(label, value, help[, change, colour]) tiles as a grid of ``per_row`` per row (two on a narrow screen), every
    string escaped for HTML; the help is the label's hover text. A change ('+12 km on last week', '−5 …') shows below the
    value with an arrow for its sign, green when it is good, red when bad: ``colour`` 'normal' (a rise is good),
    'inverse' (a fall is good) or 'off' (grey), as Streamlit's metric."""
    cells = []
    for tile in tiles:
        label, value, help_text, change, colour = (*tile, None, "normal")[:5]
        cells.append(f'<dl class="vc-tile" data-testid="vc-tile"><dt{_title(help_text)}>{html_text(label)}</dt>'
                     f'<dd class="vc-value">{html_text(value)}</dd>{_change(change, colour)}</dl>')
    columns = f' style="grid-template-columns:repeat({int(per_row)},minmax(0,1fr))"' if per_row != 4 else ""
    return f'{_TILES_STYLE}<div class="vc-tiles"{columns}>{"".join(cells)}</div>'


def _title(help_text: str | None) -> str:
    return f' title="{html_text(help_text)}"' if help_text else ""


def _change(change: str | None, colour: str) -> str:
    if not change:
        return ""
    text = str(change)
    amount = text.lstrip("+-\u2212").split(" ")[0]
    moved = any(digit in "123456789" for digit in amount)  # '+0.0 km', '+0:00': no change, no arrow, no colour
    way = None if not moved else "up" if text.startswith("+") else "down" if text.startswith(("-", "\u2212")) else None
    good = {"normal": "up", "inverse": "down"}.get(colour)
    tone = "vc-plain" if way is None or good is None else "vc-good" if way == good else "vc-bad"
    arrow = f"{_ARROWS[way]} " if way else ""
    return f'<dd class="vc-delta {tone}" data-way="{way or "none"}">{arrow}{html_text(text)}</dd>'
