#!/usr/bin/env python3
"""Build the Chinese fallback font: static/fonts/service-academy-sans-sc.woff2.

Thin clients without a Chinese font show every character as a box. The app therefore serves a
subset of Noto Sans CJK SC Regular (SIL Open Font License 1.1) as the LAST face of its font stack,
limited by `unicode-range` to CJK code points (static/css/fonts.css), so a browser with a system
Chinese font never downloads it.

The subset holds, within the CJK ranges below:
  * every character of the interface (the zh_CN catalogue, translations still pending merge),
  * every character of the sample content and pages (courses/, question_banks/, templates/, lms/),
  * the 3,755 GB2312 level-1 hanzi (the everyday characters: content written later mostly fits),
  * CJK symbols and punctuation and the full-width forms.

Run it again after adding content with new characters (tests/unit/test_font_subset.py says so):

    pip install fonttools brotli
    python scripts/build_font_subset.py            # Debian/Ubuntu: apt-get install fonts-noto-cjk
    python scripts/build_font_subset.py --source NotoSansCJKsc-Regular.otf

The font is renamed (Service Academy Sans SC): a modified version under the OFL does not carry the
original's name. Licence: static/fonts/OFL.txt.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUTPUT = ROOT / "static" / "fonts" / "service-academy-sans-sc.woff2"
FAMILY = "Service Academy Sans SC"
POSTSCRIPT_NAME = "ServiceAcademySansSC-Regular"

# The code points the face is for; static/css/fonts.css declares the same list as its unicode-range.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # CJK radicals supplement, Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。「」《》【】〔〕
    (0x3200, 0x32FF),  # enclosed CJK letters and months
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms: ，：；！？（）０-９
)
WHOLE_BLOCKS = ((0x3000, 0x303F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))  # always in, whatever is used

CONTENT_GLOBS = (
    "lms/translations/*/LC_MESSAGES/messages.po",
    ".i18n-pending/*.json",
    "courses/**/*.md", "courses/**/*.yaml", "courses/**/*.yml",
    "question_banks/**/*",
    "templates/**/*.html", "templates/**/*.txt",
    "lms/**/*.py",  # the demo builders (lms/demo.py, lms/**/*demo*.py) and any literal text
)


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in CJK_RANGES)


def cjk_in(text: str) -> set[str]:
    return {char for char in text if is_cjk(char)}


def content_characters(root: Path = ROOT) -> dict[str, set[str]]:
    """The CJK characters of each scanned file, by path relative to `root`."""
    found: dict[str, set[str]] = {}
    for pattern in CONTENT_GLOBS:
        for path in sorted(root.glob(pattern)):
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # a binary sheet or an unreadable file holds no text of ours
            chars = cjk_in(text)
            if chars:
                found[str(path.relative_to(root))] = chars
    return found


def gb2312_level1() -> set[str]:
    """The 3,755 level-1 hanzi: GB2312 rows 16-55 (bytes 0xB0A1-0xD7F9; 0xD7FA-0xD7FE are empty)."""
    chars = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_characters(root: Path = ROOT) -> set[str]:
    """GB2312 level 1 and every CJK character of the interface and the content."""
    chars = gb2312_level1()
    for file_chars in content_characters(root).values():
        chars |= file_chars
    return chars


def whole_blocks() -> set[str]:
    return {chr(code) for low, high in WHOLE_BLOCKS for code in range(low, high + 1)}


def unicode_range_css() -> str:
    return ", ".join(f"U+{low:04X}-{high:04X}" for low, high in CJK_RANGES)


def _open_source(path: Path):
    """The Simplified Chinese face of a Noto Sans CJK file (a .ttc collection or a single .otf)."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=False)
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(4) == "Noto Sans CJK SC":
                return TTFont(str(path), fontNumber=index, lazy=False, recalcTimestamp=False)
        raise SystemExit(f"{path}: no 'Noto Sans CJK SC' face in this collection")
    return TTFont(str(path), lazy=False, recalcTimestamp=False)  # the same input gives the same file


def _rename(font, version: str) -> None:
    """A modified OFL font takes its own name; the copyright and licence records stay."""
    name = font["name"]
    keep = {0, 7, 8, 9, 10, 11, 12, 13, 14}
    name.names = [record for record in name.names if record.nameID in keep]
    for name_id, value in ((1, FAMILY), (2, "Regular"), (3, f"{version};{POSTSCRIPT_NAME}"), (4, FAMILY),
                           (5, f"Version {version}; subset of Noto Sans CJK SC for the Service Academy LMS"),
                           (6, POSTSCRIPT_NAME)):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:  # the CFF table carries the PostScript name too
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT_NAME]
        top = cff.topDictIndex[0]
        for attribute in ("FullName", "FamilyName"):
            if hasattr(top, attribute):
                setattr(top, attribute, FAMILY)


def build(source: Path, output: Path, root: Path = ROOT) -> tuple[int, int, list[str]]:
    """Write the subset; returns (glyph count, file size in bytes, wanted characters the font lacks)."""
    from fontTools import subset

    font = _open_source(source)
    version = font["name"].getDebugName(5).split(";")[0].replace("Version ", "").strip()
    cmap = font.getBestCmap()
    wanted = wanted_characters(root)
    missing = sorted(char for char in wanted if ord(char) not in cmap)
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # CFF hints cost a fifth of the size; screens render CJK well without them
    options.desubroutinize = True  # compresses better under Brotli
    options.layout_features = ["kern"]  # no locl (JP/KR/TC shapes), no vertical or width variants
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE"]  # horizontal text only
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(char) for char in wanted | whole_blocks() if ord(char) in cmap))
    subsetter.subset(font)
    _rename(font, version)
    output.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(output), options)
    return len(font.getGlyphOrder()), output.stat().st_size, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help=f"Noto Sans CJK SC Regular, .ttc or .otf (default: {DEFAULT_SOURCE})")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"{args.source} not found: apt-get install fonts-noto-cjk, or give --source "
              "NotoSansCJKsc-Regular.otf (https://github.com/notofonts/noto-cjk)", file=sys.stderr)
        return 1
    glyphs, size, missing = build(args.source, args.output)
    print(f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}: "
          f"{glyphs} glyphs, {size / 1024:.0f} KiB")
    if missing:
        print(f"Not in the font (shown by the system's fonts instead): {''.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
