r"""Every string from a file, a name, a tag, a URL or an AI answer, made safe for where it lands. One helper per
context; pages and views never interpolate such a string without one of them.

- ``md(value)``: Markdown (st.markdown, st.title/subheader, st.caption, st.error/warning/info/success, st.toast,
  widget and expander labels, tab and metric labels). Every ASCII punctuation character is backslash-escaped
  (CommonMark: an escaped punctuation character is literal), so nothing becomes a link, an autolink, an image,
  emphasis, a heading, a ``:red[...]`` directive, an ``:emoji:``/``:material/…:`` shortcode or ``$LaTeX$``.
  Streamlit's Markdown (remark-gfm) also turns bare ``http://…``, ``www.…`` and ``name@host`` into links *after*
  escapes are resolved, so an invisible WORD JOINER (U+2060) is put inside each: ``http⁠://``, ``www⁠.``, ``⁠@``.
- ``html_text(value)``: HTML element content or a quoted attribute value.
- ``map_text(value)``: folium tooltips and popups. folium 0.20 writes the text raw into a JavaScript template
  literal (`` `...${...}...` ``) that Leaflet then sets as innerHTML, so the text is HTML-escaped and then the
  three characters that still mean something inside a template literal become entities: ``\`` → ``&#92;``,
  backtick → ``&#96;``, ``$`` → ``&#36;``. Entities are decoded only when the HTML is displayed, after the
  script has been parsed.
- ``plot_text(value)``: Plotly titles, legend names, hover text and annotations (Plotly turns ``<a href>``,
  ``<b>`` … into markup and decodes entities, so HTML-escaping shows the text as typed).
- ``plain(value)``: the base of all of them: a string with control characters (newlines, tabs, escape codes,
  bidi overrides) shown as spaces, optionally cut to ``max_chars`` with an ellipsis.

Must never: write, read the database or import streamlit.
"""

from __future__ import annotations

import html
import re
import string

# C0/C1 controls, DEL, and the Unicode bidi controls that can make text display in a misleading order.
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_AUTOLINK_SCHEME = re.compile(r"(?i)(https?|ftp|mailto|xmpp)(?=:)")
_AUTOLINK_WWW = re.compile(r"(?i)(www)(?=\.)")
WORD_JOINER = "\u2060"
_JS_TEMPLATE = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;"})


def plain(value, max_chars: int | None = None) -> str:
    """``value`` as one line of text: control characters become spaces; longer than ``max_chars`` → cut + '…'."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(1, max_chars - 1)] + "…"
    return text


def md(value, max_chars: int | None = None) -> str:
    """Text shown literally wherever Streamlit renders Markdown."""
    text = _AUTOLINK_SCHEME.sub(r"\1" + WORD_JOINER, plain(value, max_chars))
    text = _AUTOLINK_WWW.sub(r"\1" + WORD_JOINER, text).replace("@", WORD_JOINER + "@")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_lines(value, max_chars: int | None = None) -> str:
    """Like ``md`` but keeps line breaks (an AI answer or a note of several lines), each line escaped."""
    lines = str("" if value is None else value).splitlines()
    return "  \n".join(md(line, max_chars) for line in lines)


def html_text(value, max_chars: int | None = None) -> str:
    return html.escape(plain(value, max_chars), quote=True)


def map_text(value, max_chars: int | None = None) -> str:
    """Safe inside folium's JavaScript template literal *and* as the HTML Leaflet then shows."""
    return html_text(value, max_chars).translate(_JS_TEMPLATE)


def plot_text(value, max_chars: int | None = None) -> str:
    return html.escape(plain(value, max_chars), quote=False)
