"""Media references in lessons: every problem found by `lms sync` (and the editor) at its path:line."""
from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import pytest
from PIL import Image

from lms.content.courses import load_course_tree
from lms.content.media import (MB, check_references, describe, find_references, normalize_reference,
                               read_media_folder)
from tests.conftest import write_course


def png(width=64, height=32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 90, 160)).save(out, "PNG")
    return out.getvalue()


def jpeg_turned(width=80, height=40) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 90, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # shown turned a quarter
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def wav(seconds=1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(8000)
        clip.writeframes(b"\x01\x00" * int(8000 * seconds))
    return out.getvalue()


def course_with(tmp_path: Path, lesson_body: str, files: dict[str, bytes], front_matter_extra: str = "") -> Path:
    root = tmp_path / "courses"
    course = write_course(root, "0-01-m", slug="media-m", lessons=("plain",))
    media = course / "media"
    media.mkdir(exist_ok=True)
    for name, data in files.items():
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(data)
    (course / "02-listen.md").write_text(f"---\ntitle: 听录音\n{front_matter_extra}minutes: 4\n---\n{lesson_body}",
                                         encoding="utf-8")
    return root


def errors_of(root: Path) -> list[str]:
    return [str(error) for error in load_course_tree(root)[1]]


LESSON = "courses/0-01-m/02-listen.md"


def test_valid_references_including_subfolders(tmp_path):
    root = course_with(tmp_path, "## 图\n\n![图](media/a.png)\n\n![录音](media/calls/2024/bill.wav)\n",
                       {"a.png": png(), "calls/2024/bill.wav": wav(), "notes.txt": b"unused is fine"})
    specs, errors = load_course_tree(root)
    assert errors == []
    media = specs[0].media
    assert media["media/a.png"].kind == "image" and (media["media/a.png"].width, media["media/a.png"].height) == (64, 32)
    bill = media["media/calls/2024/bill.wav"]
    assert bill.kind == "audio" and bill.content_type == "audio/wav" and bill.duration == pytest.approx(1.0)


def test_a_missing_file_is_named_at_its_line_after_the_front_matter(tmp_path):
    # front matter: lines 1-4; body starts on line 5
    root = course_with(tmp_path, "第一行\n\n![录音](media/nothere.mp3)\n", {})
    assert errors_of(root) == [f"{LESSON}:7: there is no file 'media/nothere.mp3' in the course"]


def test_lines_follow_longer_front_matter_and_blank_lines(tmp_path):
    root = course_with(tmp_path, "\n\n文字\n\n```\n![代码里的不是引用](media/code.png)\n```\n\n`![也不是](media/x.png)`\n\n"
                       "![缺](media/gone.png)\n", {}, front_matter_extra="# comment\n")
    assert errors_of(root) == [f"{LESSON}:16: there is no file 'media/gone.png' in the course"]


def test_a_name_differing_in_case_says_so(tmp_path):
    root = course_with(tmp_path, "![图](media/A.png)\n", {"a.png": png()})
    assert "names are case-sensitive" in errors_of(root)[0]


def test_wrong_type_svg_and_no_extension(tmp_path):
    root = course_with(tmp_path, "![文档](media/doc.pdf)\n\n![图](media/logo.svg)\n\n![无](media/noext)\n",
                       {"doc.pdf": b"%PDF-1.4", "logo.svg": b"<svg onload=alert(1)>", "noext": png()})
    errors = errors_of(root)
    assert len(errors) == 3
    assert errors[0].startswith(f"{LESSON}:5: 'media/doc.pdf': .pdf files cannot be shown in a lesson")
    assert errors[1].startswith(f"{LESSON}:7: 'media/logo.svg': .svg pictures cannot be shown")
    assert errors[2].startswith(f"{LESSON}:9: 'media/noext': the file name has no extension")


@pytest.mark.parametrize("name, data", [("fake.png", b"GIF89a not a png at all"), ("fake.png", wav()),
                                        ("fake.jpg", png()), ("fake.mp3", png()), ("fake.wav", b"RIFF1234WAVX"),
                                        ("fake.m4a", b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 40),
                                        ("fake.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40),
                                        ("fake.webm", png()), ("fake.ogg", b"OggS" + b"\x00" * 60),
                                        ("truncated.png", png()[:60])])
def test_content_that_is_not_what_the_extension_says(tmp_path, name, data):
    root = course_with(tmp_path, f"![x](media/{name})\n", {name: data})
    errors = errors_of(root)
    assert len(errors) == 1 and errors[0].startswith(f"{LESSON}:5: 'media/{name}': the file's content is not a"), errors


def test_too_big_per_kind_with_configurable_limits(tmp_path):
    root = course_with(tmp_path, "![图](media/a.png)\n\n![录音](media/b.wav)\n", {"a.png": png(), "b.wav": wav(3)})
    limits = {"image": 100, "audio": 20 * MB, "video": 60 * MB}
    errors = [str(error) for error in load_course_tree(root, media_limits=limits)[1]]
    assert len(errors) == 1
    assert errors[0].startswith(f"{LESSON}:5: 'media/a.png': the picture is 0.0 MB, over the limit of")
    limits = {"image": 5 * MB, "audio": 1000, "video": 60 * MB}
    errors = [str(error) for error in load_course_tree(root, media_limits=limits)[1]]
    assert len(errors) == 1 and "over the limit" in errors[0] and "audio" in errors[0]


@pytest.mark.parametrize("target, says", [
    ("../../secret", "points outside the course folder"),
    ("media/../../secret.png", "points outside the course folder"),
    ("../0-02-other/media/a.png", "points outside the course folder"),
    ("/etc/passwd", "is an absolute path"),
    ("media\\a.png", "write paths with /"),
    ("http://example.com/a.png", "is on another site"),
    ("https://cdn.example.com/call.mp3", "is on another site"),
    ("//evil.example/a.png", "is on another site"),
    ("data:image/png;base64,iVBORw0KGgo=", "is not a file of the course"),
    ("javascript:alert(1)", "is not a file of the course"),
    ("a.png", "is not in the course's \"media/\" folder"),
])
def test_references_outside_the_media_folder(tmp_path, target, says):
    root = course_with(tmp_path, f"正文\n\n![x]({target})\n", {"a.png": png()})
    errors = errors_of(root)
    assert len(errors) == 1 and errors[0].startswith(f"{LESSON}:7: ") and says in errors[0], errors


def test_a_symlink_out_of_the_media_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    root = course_with(tmp_path, "![x](media/link.png)\n", {})
    os.symlink(secret, root / "0-01-m" / "media" / "link.png")
    errors = errors_of(root)
    assert errors == [f"{LESSON}:5: there is no file 'media/link.png' in the course",
                      "courses/0-01-m/media/link.png:0: a link to a file outside the media folder is refused: "
                      "copy the file in instead"]


def test_a_media_folder_linked_from_elsewhere_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.png").write_bytes(png())
    root = course_with(tmp_path, "正文\n", {})
    (root / "0-01-m" / "media").rmdir()
    os.symlink(elsewhere, root / "0-01-m" / "media")
    assert any("media folder is a link to a folder outside the course" in error for error in errors_of(root))


def test_the_course_introduction_is_checked_too(tmp_path):
    root = course_with(tmp_path, "正文\n", {})
    course_md = root / "0-01-m" / "course.md"
    course_md.write_text(course_md.read_text(encoding="utf-8") + "\n![封面](media/cover.png)\n", encoding="utf-8")
    errors = errors_of(root)
    assert errors == ["courses/0-01-m/course.md:12: there is no file 'media/cover.png' in the course"]


FORMS = ("![a](media/a.png)  ![b](<media/b c.png> \"标题\")\n"
         "    ![lazy continuation, not code](media/lazy.png)\n\n"
         "- 列表\n\n    ![in a list item](media/li.png)\n\n"
         "![ref][r] and ![r]\n\n[r]: media/r.png\n\n"
         "~~~\n![fenced](media/f.png)\n~~~\n"
         "[![linked picture](media/l.png)](https://example.com)\n\n    ![indented code](media/ic.png)\n\n"
         "text `![span](media/s.png)` ![x](media/x(1).png)\n")


def test_find_references_knows_markdowns_forms():
    assert find_references(FORMS) == [(1, "media/a.png"), (1, "media/b c.png"), (2, "media/lazy.png"),
                                      (6, "media/li.png"), (8, "media/r.png"), (8, "media/r.png"),
                                      (15, "media/l.png"), (19, "media/x(1).png")]


def test_find_references_finds_what_the_renderer_shows():
    import re

    import markdown

    from lms.rendering import EXTENSIONS

    shown = re.findall(r'<img alt="[^"]*" src="([^"]*)"', markdown.markdown(FORMS, extensions=EXTENSIONS))
    assert [target for _line, target in find_references(FORMS)] == shown


def test_normalize_reference():
    assert normalize_reference("media/./calls/a.mp3") == ("media/calls/a.mp3", None)
    assert normalize_reference("media/%E5%BD%95%E9%9F%B3.mp3") == ("media/录音.mp3", None)
    assert normalize_reference("media/a.png#x")[0] == "media/a.png"


def test_an_exif_turned_photo_reports_its_shown_size(tmp_path):
    assert (describe("media/p.jpg", jpeg_turned()).width, describe("media/p.jpg", jpeg_turned()).height) == (40, 80)


def test_a_huge_picture_in_pixels_is_refused():
    out = io.BytesIO()
    Image.new("1", (9000, 5000)).save(out, "PNG")
    assert "make it smaller" in str(describe("media/big.png", out.getvalue()).problem)


def test_check_references_accepts_stored_media_rows():
    class Row:
        problem = None

    assert check_references("![x](media/a.png)\n\n![y](media/b.png)", "lesson", 3, {"media/a.png": Row()}) and \
        [str(e) for e in check_references("![y](media/b.png)", "lesson", 3, {"media/a.png": Row()})] == \
        ["lesson:3: there is no file 'media/b.png' in the course"]
    assert check_references("![x](media/a.png)", "lesson", 3, {"media/a.png": Row()}) == []


def test_read_media_folder_skips_hidden_files(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "media" / "a.png").write_bytes(png())
    files, errors = read_media_folder(tmp_path / "media")
    assert list(files) == ["media/a.png"] and errors == []
    assert files["media/a.png"].sha256 and files["media/a.png"].problem is None
