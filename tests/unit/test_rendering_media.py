"""The renderer with a course's media: images and players for the course's own files, and an allow-list
that lets nothing else through (no other origin, no data: or javascript:, no event handlers)."""
from __future__ import annotations

import re

import pytest

from lms.rendering import MediaRef, render_markdown, render_text

SHA = "ab" * 32
OTHER = "cd" * 32
REFS = {
    "media/floor.png": MediaRef(f"/media/{SHA}.png", "image", 640, 360, "image/png"),
    "media/calls/bill.mp3": MediaRef(f"/media/{SHA}.mp3", "audio", None, None, "audio/mpeg"),
    "media/demo.mp4": MediaRef(f"/media/{OTHER}.mp4", "video", 1280, 720, "video/mp4"),
}


def resolve(target: str):
    return REFS.get(target)


def render(text: str) -> str:
    return render_markdown(text, media=resolve)


def test_an_image_gets_its_address_size_and_lazy_loading():
    html = render("![座席布局](media/floor.png)")
    assert html == (f'<p><img alt="座席布局" decoding="async" height="360" loading="lazy" src="/media/{SHA}.png" '
                    'width="640"></p>')


def test_an_image_with_a_title_is_a_figure_with_a_caption():
    html = render('![座席布局](media/floor.png "图 1：座席布局")')
    assert '<figure class="lesson-media image"><img alt="座席布局"' in html
    assert "<figcaption>图 1：座席布局</figcaption>" in html


def test_audio_is_a_player_with_the_alt_text_as_caption():
    html = render("## 录音\n\n![通话录音：账单投诉](media/calls/bill.mp3)\n")
    assert (f'<figure class="lesson-media audio"><audio aria-label="通话录音：账单投诉" controls preload="metadata" '
            f'src="/media/{SHA}.mp3"></audio><figcaption>通话录音：账单投诉</figcaption>') in html
    assert "<p><figure" not in html


def test_video_plays_inline_with_its_size():
    html = render("![演示](media/demo.mp4)")
    video = re.search(r"<video[^>]*>", html).group(0)
    for attribute in ("controls", 'preload="metadata"', "playsinline", 'width="1280"', 'height="720"',
                      f'src="/media/{OTHER}.mp4"'):
        assert attribute in video


def test_a_player_in_a_sentence_follows_the_paragraph():
    html = render("听这段 ![录音](media/calls/bill.mp3) 然后回答。")
    assert html.startswith("<p>听这段  然后回答。</p>")
    assert '<figure class="lesson-media audio">' in html


def test_an_unknown_file_is_removed_with_the_text_kept():
    assert render("前 ![不存在](media/nothing.png) 后") == "<p>前  后</p>"


@pytest.mark.parametrize("target", ["https://evil.example/x.png", "http://evil.example/x.mp3", "//evil.example/x.png",
                                    "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)",
                                    f"/media/{SHA}.png"])
def test_markdown_images_from_anywhere_else_are_removed(target):
    html = render(f"看 ![图]({target}) 完")
    assert "<img" not in html and "evil" not in html and "javascript" not in html and "data:" not in html


@pytest.mark.parametrize("raw", [
    '<img src="https://evil.example/x.png">',
    '<img src="//evil.example/x.png" width="10">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img src="javascript:alert(1)">',
    f'<img src="/media/{SHA}.svg">',
    f'<img src="/media/{SHA[:40]}.png">',
    f'<img src="/media/{SHA}.png?x=1">',
    f'<img src="/media/{SHA}.png/../../x">',
    f'<img src="https://evil.example/media/{SHA}.png">',
    '<audio src="//evil.example/a.mp3" controls>fallback</audio>',
    '<audio src="https://evil.example/a.mp3" controls></audio>',
    f'<audio src="/media/{SHA}.png" controls></audio>',
    '<video src="javascript:alert(1)" controls></video>',
    '<video controls><source src="https://evil.example/v.mp4"></video>',
    f'<video poster="https://evil.example/p.png" src="/media/{SHA}.exe"></video>',
])
def test_raw_media_tags_without_a_same_origin_media_address_are_removed(raw):
    html = render(f"文字\n\n{raw}\n\n之后")
    assert not re.search(r"<(img|audio|video|source)\b", html), html
    assert "evil" not in html and "fallback" not in html
    assert "文字" in html and "之后" in html


def test_event_handlers_and_other_attributes_are_stripped_from_allowed_media():
    html = render(f'<img src="/media/{SHA}.png" onerror="alert(1)" style="position:fixed" class="x" '
                  f'width="100%" alt="a"> <audio src="/media/{SHA}.mp3" autoplay loop onplay="alert(1)" controls '
                  'preload="auto"></audio>')
    assert f'<img src="/media/{SHA}.png" alt="a">' in html
    assert f'<audio src="/media/{SHA}.mp3" controls></audio>' in html
    for bad in ("onerror", "onplay", "style", "class=", "autoplay", "loop", "100%", "auto"):
        assert bad not in html


def test_a_figure_may_only_carry_the_media_classes():
    html = render('<figure class="lesson-media audio evil">x</figure><figure class="lesson-media video">y</figure>')
    assert html.count("<figure>") == 1 and '<figure class="lesson-media video">' in html


def test_without_a_resolver_no_media_survives_as_before():
    for text in ("![座席布局](media/floor.png)", f'<img src="/media/{SHA}.png">', f'<audio src="/media/{SHA}.mp3" controls>'
                 "</audio>", '<figure class="lesson-media audio">x</figure>'):
        html = render_markdown(text)
        assert not re.search(r"<(img|audio|video|figure)\b", html), html
    assert "<img" not in render_text(f'<img src="/media/{SHA}.png">', "html")


def test_a_failing_resolver_removes_the_image_and_keeps_the_lesson():
    def broken(target):
        raise RuntimeError("database gone")

    assert render_markdown("前 ![x](media/a.png) 后", media=broken) == "<p>前  后</p>"


def test_text_that_looks_like_a_tag_still_reads_as_typed_with_media():
    html = render("请核对 <订单号> 和 <name>\n\n![座席布局](media/floor.png)")
    assert "&lt;订单号&gt;" in html and "&lt;name&gt;" in html and "<img" in html
