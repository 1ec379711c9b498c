"""The one Markdown renderer: useful HTML in, nothing dangerous out."""
import pytest

from lms.rendering import render_markdown, stored_html


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
