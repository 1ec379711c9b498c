"""The one Markdown renderer: useful HTML in, nothing dangerous out."""
import pytest

from lms.rendering import ALLOWED_TAGS, render_markdown, render_text, stored_html


def test_headings_lists_tables_and_code():
    html = render_markdown("## 标题\n\n- 一\n- 二\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n")
    for fragment in ("<h2>标题</h2>", "<li>一</li>", "<table>", "<td>1</td>", "<pre><code>code"):
        assert fragment in html


@pytest.mark.parametrize("evil, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ('<img src=x onerror="alert(1)">', "onerror"),
    ("[x](javascript:alert(1))", "javascript:"),
    ('<a href="#" onclick="steal()">x</a>', "onclick"),
    ("<iframe src='https://evil.example'></iframe>", "<iframe"),
    ("<style>body{display:none}</style>", "<style"),
])
def test_dangerous_markup_is_removed(evil, forbidden):
    assert forbidden not in render_markdown(evil)


def test_links_get_nofollow_and_bare_urls_become_links():
    html = render_markdown("见 https://example.com/a")
    assert 'href="https://example.com/a"' in html and 'rel="nofollow"' in html


def test_stored_html_is_markup_and_none_is_empty():
    assert stored_html(None) == "" and hasattr(stored_html("<p>x</p>"), "__html__")


# --- render_text: Moodle's four formats ---------------------------------------------------------------

FORMATS = ("markdown", "moodle", "plain", "html")
BREAKING = ("moodle", "plain")  # line breaks as typed


@pytest.mark.parametrize("text_format", FORMATS)
@pytest.mark.parametrize("placeholder", ["<客户姓名>", "<name>", "<订单号>", "<Customer Name>"])
def test_text_that_only_looks_like_a_tag_is_shown_as_typed(text_format, placeholder):
    html = render_text(f"请输入 {placeholder} 后回车", text_format)
    assert html_text(html) == f"请输入 {placeholder} 后回车"
    assert placeholder.replace("<", "&lt;").replace(">", "&gt;") in html


@pytest.mark.parametrize("text_format", FORMATS)
def test_comparisons_are_not_taken_for_tags(text_format):
    for text in ("a<b and c>d", "x <b", "1 < 2 > 0", "a </ b> c", "a <!x> b"):
        assert html_text(render_text(text, text_format)) == text, text


@pytest.mark.parametrize("text_format", FORMATS)
def test_a_placeholder_is_escaped_once(text_format):
    html = render_text("`<name>` & x", text_format)
    assert "&lt;name&gt;" in html and "&amp;lt;" not in html


def test_markdown_code_shows_its_text_as_typed():
    """bleach's linkify, skipping <code>, used to escape its entities again: `<name>` read `&lt;name&gt;`."""
    assert render_text("`<name>`", "markdown") == "<p><code>&lt;name&gt;</code></p>"
    assert render_text("```\n<b> &amp;\n```", "markdown") == "<pre><code>&lt;b&gt; &amp;amp;\n</code></pre>"


@pytest.mark.parametrize("text_format", BREAKING)
def test_plain_and_moodle_keep_every_character_markdown_would_interpret(text_format):
    html = render_text("C:\\\\temp\\new 2*3*4 _x_ # 不是标题\n1. a\n2. b", text_format)
    assert "C:\\\\temp\\new 2*3*4 _x_ # 不是标题" in html  # two backslashes stay two
    assert "<ol>" not in html and "<em>" not in html and "<h1>" not in html
    assert "1. a<br>\n2. b" in html


def test_markdown_still_interprets_them():
    assert "<em>3</em>" in render_text("2*3*4") and "<ol>" in render_text("1. a\n2. b", "markdown")


@pytest.mark.parametrize("text_format", BREAKING)
def test_line_breaks_become_br_and_blank_lines_paragraphs(text_format):
    assert render_text("第一行\n第二行\r\n\r\n第二段", text_format) == "<p>第一行<br>\n第二行</p>\n<p>第二段</p>"


def test_html_keeps_its_own_line_breaks():
    assert render_text("a\nb", "html") == "a\nb"


@pytest.mark.parametrize("text_format, bold", [("markdown", True), ("moodle", True), ("html", True), ("plain", False)])
def test_allowed_tags_work_except_in_plain_text(text_format, bold):
    html = render_text('<b>x</b> <i>y</i> <a href="https://example.com">z</a>', text_format)
    if bold:
        assert "<b>x</b>" in html and "<i>y</i>" in html and 'href="https://example.com"' in html
    else:
        assert html_text(html) == '<b>x</b> <i>y</i> <a href="https://example.com">z</a>'
        assert markup(html) == [("p", []), ("a", [("href", "https://example.com"), ("rel", "nofollow")])]


def test_plain_text_keeps_runs_of_spaces():
    assert render_text("a   b", "plain") == "<p>a&nbsp;&nbsp; b</p>"


@pytest.mark.parametrize("text_format", FORMATS)
@pytest.mark.parametrize("evil, forbidden", [
    ("<script>alert(1)</script>", "script"),
    ("<SCRIPT src='https://evil.example/x.js'></SCRIPT>", "script"),
    ('<img src=x onerror="alert(1)">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href="#" onclick="steal()">x</a>', "onclick"),
    ("<iframe src='https://evil.example'></iframe>", "iframe"),
    ("<style>body{display:none}</style>", "style"),
    ("<svg><script>alert(1)</script></svg>", "svg"),
])
def test_dangerous_markup_is_removed_or_inert_in_every_format(text_format, evil, forbidden):
    """No such element or attribute, nor a javascript: link, in the markup (plain text shows it as text)."""
    html = render_text(evil, text_format)
    for tag, attributes in markup(html):
        assert tag in ALLOWED_TAGS and forbidden not in tag
        assert not [name for name, value in attributes if forbidden in name or forbidden in (value or "")]
    if text_format != "plain":
        assert forbidden not in html.lower()


@pytest.mark.parametrize("text_format", ("moodle", "html"))
def test_disallowed_elements_are_removed_and_scripts_with_their_content(text_format):
    html = render_text("前<script>alert(1)</script><style>p{}</style><font color=red>红</font><img src=x>后", text_format)
    assert html_text(html) == "前红后"


@pytest.mark.parametrize("text_format", FORMATS)
def test_bare_urls_become_links_in_every_format(text_format):
    html = render_text("见 https://example.com/a?b=1&c=2 。", text_format)
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">' in html


def test_html_keeps_tables_and_lists_without_breaks():
    source = "<table>\n<tr><th>a</th></tr>\n<tr><td colspan=\"2\">1</td></tr>\n</table>\n<ul>\n<li>一</li>\n</ul>"
    for text_format in ("html", "moodle"):
        html = render_text(source, text_format)
        assert "<table>" in html and '<td colspan="2">1</td>' in html and "<li>一</li>" in html
        assert "<br>" not in html and "<p>" not in html


def test_moodle_leaves_pre_as_it_is():
    assert render_text("<pre>a\nb</pre>", "moodle") == "<pre>a\nb</pre>"


def test_an_unknown_format_is_shown_as_plain_text():
    assert render_text("<b>x</b>\n*y*", "rtf") == render_text("<b>x</b>\n*y*", "plain") == \
        "<p>&lt;b&gt;x&lt;/b&gt;<br>\n*y*</p>"


@pytest.mark.parametrize("text_format", FORMATS + ("nonsense",))
@pytest.mark.parametrize("text", ["", "\x00", "<", ">" * 3, "<a href='" * 50, "<div>" * 300, "[" * 200,
                                  "<!--", "<![CDATA[x", "&#0;&#xD800;", "\ud800", "<b\u3000and>x"])
def test_never_an_error(text_format, text):
    assert isinstance(render_text(text, text_format), str)
    assert render_text(None, text_format) == ""


def markup(html: str) -> list[tuple[str, list]]:
    """The start tags in `html`, with their attributes, as a browser parses them."""
    from html.parser import HTMLParser

    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(html)
    return found


def html_text(html: str) -> str:
    """What a reader sees: the tags' text, entities decoded, line breaks as newlines."""
    import html as html_lib
    import re
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html.replace("<br>\n", "\n"))).replace("\xa0", " ")
