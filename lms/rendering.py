"""Markdown -> bleach allow-list -> HTML. The only place that marks HTML safe.

Content is rendered once, when it is imported or saved; pages show the stored result through
the `stored_html` filter.
"""
from __future__ import annotations

import bleach
import markdown
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "th": ["align", "colspan", "rowspan"],
    "td": ["align", "colspan", "rowspan"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list"]


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to store and show: scripts, styles, event handlers
    and unknown protocols are removed, links open nothing but http(s) and mail."""
    html = markdown.markdown(text, extensions=EXTENSIONS, output_format="html")
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return bleach.linkify(cleaned, callbacks=[bleach.callbacks.nofollow], skip_tags={"pre", "code"})


def stored_html(html: str | None) -> Markup:
    """Jinja filter for HTML that render_markdown produced and the database stored."""
    return Markup(html or "")
