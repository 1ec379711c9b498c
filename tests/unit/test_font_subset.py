"""The Chinese fallback font holds every character the interface and the sample content use.

When new content or translations bring a character the font lacks, a thin client without a Chinese
font shows a box for it: rebuild with `python scripts/build_font_subset.py`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # needs fonttools and brotli (WOFF2)

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "static" / "fonts" / "service-academy-sans-sc.woff2"
FONTS_CSS = ROOT / "static" / "css" / "fonts.css"
REBUILD = "run `python scripts/build_font_subset.py` (pip install fonttools brotli; apt-get install fonts-noto-cjk)"

# Ideographs, CJK symbols and punctuation, full-width forms: what the fallback face is for.
CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3200-\u32ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                 r"\ufe30-\ufe4f\uff00-\uffef]")


@pytest.fixture(scope="module")
def font():
    assert FONT.exists(), f"{FONT.relative_to(ROOT)} is missing: {REBUILD}"
    return TTFont(str(FONT))


@pytest.fixture(scope="module")
def cmap(font) -> set[str]:
    return {chr(code) for code in font.getBestCmap()}


def characters_of(paths) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): set(CJK.findall(path.read_text(encoding="utf-8"))) for path in paths}


def assert_covered(cmap: set[str], files: dict[str, set[str]]) -> None:
    lacking = {name: "".join(sorted(chars - cmap)) for name, chars in files.items() if chars - cmap}
    assert not lacking, f"characters the fallback font lacks: {lacking}; {REBUILD}"


def test_every_interface_character_is_in_the_font(cmap):
    catalogues = sorted(ROOT.glob("lms/translations/*/LC_MESSAGES/messages.po"))
    assert catalogues, "no translation catalogue found"
    files = characters_of(catalogues)
    assert sum(len(chars) for chars in files.values()) > 300  # the zh_CN catalogue really was read
    assert_covered(cmap, files)


def test_every_character_of_the_sample_content_is_in_the_font(cmap):
    paths = [path for pattern in ("courses/**/*.md", "courses/**/*.yaml", "question_banks/**/*.yaml",
                                  "templates/**/*.html", "lms/**/*demo*.py")
             for path in sorted(ROOT.glob(pattern))]
    files = characters_of(paths)
    assert len(set().union(*files.values())) > 1000  # the sample courses really were read
    assert_covered(cmap, files)


def test_gb2312_level_one_and_full_width_punctuation_are_in_the_font(cmap):
    level_one = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                level_one.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(level_one) == 3755
    assert not level_one - cmap
    assert set("，。、：；！？（）《》「」【】～０１２３") <= cmap


def test_the_face_stays_small_renamed_and_limited_to_cjk(font, cmap):
    assert FONT.stat().st_size < 900 * 1024  # a fallback, not the whole 16 MB font
    assert font.flavor == "woff2"
    names = font["name"]
    assert names.getDebugName(1) == "Service Academy Sans SC"  # a modified OFL font takes its own name
    assert "SIL Open Font License" in names.getDebugName(13)
    assert "Noto" not in names.getDebugName(4)
    assert "A" not in cmap and "a" not in cmap  # Latin text keeps the system font
    assert {char for char in cmap if not CJK.fullmatch(char)} <= {" ", "\u00a0"}


def test_fonts_css_declares_the_face_for_cjk_only():
    css = FONTS_CSS.read_text(encoding="utf-8")
    assert 'font-family: "Service Academy Sans SC"' in css
    assert "url(../fonts/service-academy-sans-sc.woff2) format(\"woff2\")" in css
    assert "font-display: swap" in css
    ranges = re.search(r"unicode-range:\s*([^;]+);", css).group(1)
    assert "U+4E00-9FFF" in ranges and "U+3000-303F" in ranges and "U+FF00-FFEF" in ranges
    for part in ranges.split(","):  # nothing Latin: a page in English never fetches the font
        low = int(part.strip()[2:].split("-")[0], 16)
        assert low >= 0x2E80, part
    assert (ROOT / "static" / "fonts" / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") == 1
    # Chromium re-shapes text laid out before the face arrived only when told (static/js/fonts.js)
    assert ".cjk-fallback-loaded body" in css
    script = (ROOT / "static" / "js" / "fonts.js").read_text(encoding="utf-8")
    assert '"Service Academy Sans SC"' in script and '"cjk-fallback-loaded"' in script
