"""core.views.text: one escape per context (Markdown, HTML, folium's JavaScript template literal, Plotly) holds
against hostile names, and the maps, captions and labels built by core/views use it."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from core.views.mapview import MapLine, MapMarker, MapSection, build_map
from core.views.planview import plan_caption, rule_versions_caption
from core.views.text import html_text, map_text, md, md_lines, plain, plot_text
from tests.apptest_helpers import shown
from tests.hostile import CONTROL, MD_IMAGE, MD_LINK, NAMES

MD_PUNCTUATION = re.compile(r"(?<!\\)[!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~]")


@pytest.mark.parametrize("name", NAMES)
def test_markdown_escaping_leaves_no_live_punctuation_and_reads_back_as_typed(name):
    escaped = md(name)
    assert not MD_PUNCTUATION.search(escaped.replace("\\\\", ""))
    assert shown(escaped) == plain(name)


@pytest.mark.parametrize("text", ["http://evil.test", "see_https://evil.test/x", "WWW.evil.test", "mail me@evil.test",
                                  "mailto:me@evil.test", "xmpp:me@evil.test", "ftp://evil.test"])
def test_bare_urls_and_addresses_cannot_become_autolinks(text):
    """remark-gfm links bare URLs in the text left after escapes are resolved: a word joiner breaks each one."""
    readable = md(text).replace("\\", "")
    assert not re.search(r"(?i)(https?|ftp|mailto|xmpp):|www\.|[\w.+-]@", readable)
    assert shown(md(text)) == text


def test_control_and_bidi_characters_become_spaces():
    assert plain(CONTROL) == "ctl [31m   evil  name "
    assert "\n" not in md("a\n# heading\n- item") and md("a\n# heading").startswith("a \\#")


def test_long_text_can_be_cut_with_an_ellipsis():
    assert plain("x" * 500, 100) == "x" * 99 + "…" and plain("short", 100) == "short"


def test_several_lines_stay_lines_each_escaped():
    assert md_lines("one [a](b)\ntwo *x*") == "one \\[a\\]\\(b\\)  \ntwo \\*x\\*"


@pytest.mark.parametrize("name", NAMES)
def test_html_and_plotly_text_hold_no_markup(name):
    for escaped in (html_text(name), plot_text(name)):
        assert "<" not in escaped and ">" not in escaped
        assert html.unescape(escaped) == plain(name)
    assert '"' not in html_text(name)


@pytest.mark.parametrize("name", NAMES)
def test_map_text_is_inert_inside_a_javascript_template_literal_and_reads_back_as_html(name):
    escaped = map_text(name)
    assert not set(escaped) & set("`\\$<>")
    assert html.unescape(escaped) == plain(name)


def _template_literals(folium_map) -> list[str]:
    script = folium_map.get_root().render()
    # folium's own template: bindTooltip(`<div ...> TEXT </div>`, {...}); TEXT is ours
    return re.findall(r"bindTooltip\(\s*`<div[^>]*>(.*?)</div>`,", script, flags=re.S)


def _hostile_map(name: str):
    lat, lon = np.linspace(45.0, 45.1, 50), np.linspace(6.0, 6.1, 50)
    dist = np.linspace(0, 10_000, 50)
    return build_map([MapLine(lat, lon, name=name, dist_m=dist)], [MapSection(1000, 5000, "#E4572E", name)],
                     markers=[MapMarker(45.05, 6.05, name)])


@pytest.mark.parametrize("name", NAMES)
def test_every_map_tooltip_is_escaped_for_javascript_and_html(name):
    literals = _template_literals(_hostile_map(name))
    assert len(literals) == 3  # the line, the section and the marker
    for literal in literals:
        assert not set(literal) & set("\\$<>")  # the literal cannot end early, interpolate or open a tag
        assert plain(name) in html.unescape(literal)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_tooltip_scripts_run_in_a_javascript_engine_without_side_effects():
    """The literals as folium writes them, evaluated by node with a window that records any access."""
    literals = [lit for name in NAMES for lit in _template_literals(_hostile_map(name))]
    program = ("const window = {parent: {}}; const alert = () => { window.alerted = true; }; const out = [];\n"
               + "".join(f"out.push(`{lit}`);\n" for lit in literals)
               + "console.log(JSON.stringify({out, xss: window.parent.__xss ?? null, alerted: !!window.alerted}));")
    result = json.loads(subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=60,
                                       check=True).stdout)
    assert result["xss"] is None and result["alerted"] is False
    assert [html.unescape(text).strip() for text in result["out"]][:1] == [html.unescape(literals[0]).strip()]


def test_plan_and_rule_captions_escape_rider_text():
    caption = plan_caption({"start_date": "2027-01-04", "end_date": "2027-02-01", "goal_type": MD_IMAGE,
                            "generator": "engine", "rules": [{"name": MD_LINK, "version": 1}]})
    assert "](http" not in caption and shown(caption).endswith(f"rules: {MD_LINK} (v1)")
    assert "](" not in rule_versions_caption([{"version": 1, "text": MD_LINK}])
