#!/usr/bin/env python3
"""Generate the sample courses' media: two diagrams (PNG) and two call recordings (MP3).

Every file is original: the diagrams are drawn here with Pillow, the calls are synthesized speech
(espeak-ng) from dialogues written here. Nothing is downloaded. The files it writes:

  courses/0-04-systems-basics/media/crm-customer-view.png     the CRM customer view's five regions
  courses/1-01-complaint-handling/media/five-step-method.png  the five steps 听认查解确 as a flow
  courses/0-03-phone-etiquette/media/opening-call.mp3         a standard opening, agent and customer
  courses/4-01-quality-monitoring/media/flawed-call.mp3       a billing call with deliberate mistakes

Requirements (Debian/Ubuntu package names):

  * Python with Pillow (in the project's .venv: `pip install -e .[test]`);
  * fonts-noto-cjk: Noto Sans CJK SC (SIL Open Font License 1.1), only rendered into pixels;
    another location: NOTO_CJK_DIR=/path/to/dir/with/NotoSansCJK-Bold.ttc;
  * espeak-ng (its Mandarin voice `cmn-latn-pinyin`, in espeak-ng-data) and ffmpeg (with
    libmp3lame), for the audio only.

Usage:

    python scripts/generate_media.py                 # (re)write every file
    python scripts/generate_media.py --only images   # or: audio
    python scripts/generate_media.py --check         # every file exists, within its size limits
    python scripts/generate_media.py --transcript flawed-call   # the dialogue with timestamps

The output is deterministic for given versions of Pillow, espeak-ng and ffmpeg (no timestamps or
encoder tags are written), so running it again without changes leaves the files as they are. To change
a picture or a dialogue, edit its text here, run the script, and check the lesson that shows it (its
transcript is written in the lesson by hand: keep both in step). `lms sync` then picks the new files up.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
COURSES = ROOT / "courses"

MAX_IMAGE_BYTES = 200_000
MAX_AUDIO_BYTES = 600_000

# --------------------------------------------------------------------------------------------
# Fonts and drawing helpers
# --------------------------------------------------------------------------------------------

FONT_DIRS = (
    os.environ.get("NOTO_CJK_DIR", ""),
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/local/share/fonts",
)


class MissingTool(RuntimeError):
    """A font or program the generator needs is not installed."""


def _font_file(weight: str) -> Path:
    for folder in FONT_DIRS:
        if folder:
            candidate = Path(folder) / f"NotoSansCJK-{weight}.ttc"
            if candidate.is_file():
                return candidate
    raise MissingTool(
        f"NotoSansCJK-{weight}.ttc not found (apt-get install fonts-noto-cjk, or set NOTO_CJK_DIR)"
    )


_FONT_CACHE: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC at `size` px (the SC face of the collection, found by its name)."""
    weight = "Bold" if bold else "Regular"
    key = (weight, size)
    if key not in _FONT_CACHE:
        path = _font_file(weight)
        for index in range(10):
            face = ImageFont.truetype(str(path), size, index=index)
            if face.getname()[0] == "Noto Sans CJK SC":
                break
        else:  # pragma: no cover - a collection without the SC face
            raise MissingTool(f"{path} has no Noto Sans CJK SC face")
        _FONT_CACHE[key] = face
    return _FONT_CACHE[key]


# A flat palette with enough contrast for white or dark text (WCAG AA at these sizes).
INK = "#1f2933"
MUTED = "#52606d"
PAPER = "#ffffff"
CANVAS = "#eef2f6"
BLUE = "#1d4f91"
BLUE_SOFT = "#dbe7f6"
GREEN = "#1e6b45"
GREEN_SOFT = "#dcefe3"
ORANGE = "#8a4b08"
ORANGE_SOFT = "#fbe9d0"
PURPLE = "#5b3a8c"
PURPLE_SOFT = "#e9e1f5"
TEAL = "#0f5e66"
TEAL_SOFT = "#d6eef0"
RED = "#b42318"
RED_SOFT = "#fde3e1"


def _text_center(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str,
                 size: int, fill: str, bold: bool = False) -> None:
    x0, y0, x1, y1 = box
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=font(size, bold), fill=fill, anchor="mm")


def _lines(draw: ImageDraw.ImageDraw, xy: tuple[int, int], lines: list[str], size: int, fill: str,
           spacing: float = 1.35, bold: bool = False, anchor: str = "la") -> int:
    """Draw lines downwards from xy; returns the y below the last line."""
    x, y = xy
    step = round(size * spacing)
    for line in lines:
        draw.text((x, y), line, font=font(size, bold), fill=fill, anchor=anchor)
        y += step
    return y


def _badge(draw: ImageDraw.ImageDraw, x: int, y: int, number: int, fill: str, size: int = 44) -> None:
    """A filled circle with a number: ties a region of the picture to a row of the lesson's table."""
    draw.ellipse((x, y, x + size, y + size), fill=fill)
    _text_center(draw, (x, y - 2, x + size, y + size - 2), str(number), round(size * 0.62), PAPER,
                 bold=True)


# --------------------------------------------------------------------------------------------
# 1. The CRM customer view (0-04-systems-basics/01-crm-overview.md)
# --------------------------------------------------------------------------------------------

CRM_SIZE = (1200, 720)

# region: (number as in the lesson's table, title, content lines, what to look at, colour, soft colour)
CRM_REGIONS = {
    "basic": (1, "基本信息", ["姓名（部分隐藏）", "客户等级 · 账户状态"], "看：停机？欠费？", BLUE, BLUE_SOFT),
    "product": (2, "产品信息", ["宽带速率 · 套餐 · 到期日", "手机副卡 · IPTV"], "看：优惠快到期？", GREEN,
                GREEN_SOFT),
    "history": (3, "接触历史", ["近 30 天来电", "在线会话 · 短信"], "看：是重复来电吗？", PURPLE, PURPLE_SOFT),
    "tickets": (4, "在途工单", ["未完结的报障、投诉", "和业务工单"], "看：来催同一件事？", ORANGE, ORANGE_SOFT),
}


def draw_crm_customer_view() -> Image.Image:
    """A schematic of the fictional 星云CRM customer view: the red tag bar on top, four regions."""
    width, height = CRM_SIZE
    image = Image.new("RGB", CRM_SIZE, CANVAS)
    draw = ImageDraw.Draw(image)

    # Window chrome: title bar of the (fictional) application.
    draw.rectangle((0, 0, width, 64), fill=INK)
    draw.text((28, 32), "星云CRM · 客户视图", font=font(34, bold=True), fill=PAPER, anchor="lm")
    draw.text((width - 28, 32), "示意图（培训环境）", font=font(26), fill="#cbd2d9", anchor="rm")

    # 5. The reminder tags: a bar across the top, red tags first.
    bar = (20, 80, width - 20, 170)
    draw.rounded_rectangle(bar, radius=14, fill=RED_SOFT, outline=RED, width=4)
    _badge(draw, bar[0] + 18, bar[1] + 23, 5, RED)
    draw.text((bar[0] + 76, (bar[1] + bar[3]) // 2), "提醒标签", font=font(40, bold=True), fill=RED,
              anchor="lm")
    x = bar[0] + 270
    for tag in ("区域故障", "近期投诉", "敏感客户"):
        w = round(draw.textlength(tag, font=font(32, bold=True))) + 40
        draw.rounded_rectangle((x, bar[1] + 20, x + w, bar[3] - 20), radius=25, fill=RED)
        _text_center(draw, (x, bar[1] + 20, x + w, bar[3] - 22), tag, 32, PAPER, bold=True)
        x += w + 18
    draw.text((bar[2] - 22, (bar[1] + bar[3]) // 2), "红色先看！", font=font(34, bold=True), fill=RED,
              anchor="rm")

    # The four regions: left column (1 top, 2 bottom), right column (3 top, 4 middle).
    left = (20, 190, 590, 700)
    right = (610, 190, width - 20, 700)
    gap = 20
    mid_left = left[1] + (left[3] - left[1] - gap) // 2
    boxes = {
        "basic": (left[0], left[1], left[2], mid_left),
        "product": (left[0], mid_left + gap, left[2], left[3]),
        "history": (right[0], right[1], right[2], mid_left),
        "tickets": (right[0], mid_left + gap, right[2], right[3]),
    }
    for key, box in boxes.items():
        number, title, contents, look, colour, soft = CRM_REGIONS[key]
        x0, y0, x1, y1 = box
        draw.rounded_rectangle(box, radius=16, fill=PAPER, outline=colour, width=4)
        draw.rounded_rectangle((x0 + 4, y0 + 4, x1 - 4, y0 + 84), radius=12, fill=soft)
        _badge(draw, x0 + 18, y0 + 22, number, colour)
        draw.text((x0 + 76, y0 + 44), title, font=font(44, bold=True), fill=colour, anchor="lm")
        y = _lines(draw, (x0 + 26, y0 + 102), contents, 30, INK)
        draw.text((x0 + 26, y + 4), look, font=font(30, bold=True), fill=colour)
    return image


# --------------------------------------------------------------------------------------------
# 2. The five-step method (1-01-complaint-handling/02-five-step-method.md)
# --------------------------------------------------------------------------------------------

FIVE_STEPS_SIZE = (1200, 560)

FIVE_STEPS = (
    ("听", "让客户说完", ["不插话", "记下事实"], BLUE, BLUE_SOFT),
    ("认", "理解并致歉", ["真诚道歉", "我来跟进"], GREEN, GREEN_SOFT),
    ("查", "核实后查询", ["CRM 记录", "知识库规定"], PURPLE, PURPLE_SOFT),
    ("解", "给出方案", ["谁来做", "何时完成"], ORANGE, ORANGE_SOFT),
    ("确", "复述确认", ["客户接受吗", "工单号·回访"], TEAL, TEAL_SOFT),
)


def draw_five_step_method() -> Image.Image:
    """The five steps 听、认、查、解、确 as boxes joined by arrows, left to right."""
    width, height = FIVE_STEPS_SIZE
    image = Image.new("RGB", FIVE_STEPS_SIZE, PAPER)
    draw = ImageDraw.Draw(image)

    draw.text((width // 2, 52), "投诉处理五步法", font=font(48, bold=True), fill=INK, anchor="mm")

    margin, arrow = 24, 40
    box_w = (width - 2 * margin - 4 * arrow) // 5
    top, bottom = 110, 530
    for i, (char, name, details, colour, soft) in enumerate(FIVE_STEPS):
        x0 = margin + i * (box_w + arrow)
        x1 = x0 + box_w
        draw.rounded_rectangle((x0, top, x1, bottom), radius=18, fill=soft, outline=colour, width=4)
        # Step number, then the character in a large circle.
        draw.text(((x0 + x1) // 2, top + 34), f"第 {i + 1} 步", font=font(28, bold=True), fill=colour,
                  anchor="mm")
        r = 70
        cx, cy = (x0 + x1) // 2, top + 60 + r
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.text((cx, cy - 4), char, font=font(88, bold=True), fill=PAPER, anchor="mm")
        draw.text((cx, cy + r + 40), name, font=font(34, bold=True), fill=INK, anchor="mm")
        _lines(draw, (cx, cy + r + 82), details, 28, INK, spacing=1.3, anchor="ma")
        if i < len(FIVE_STEPS) - 1:
            ax0, ax1, ay = x1 + 6, x1 + arrow - 6, cy
            draw.line((ax0, ay, ax1 - 14, ay), fill=MUTED, width=10)
            draw.polygon(((ax1 + 2, ay), (ax1 - 18, ay - 18), (ax1 - 18, ay + 18)), fill=MUTED)
    return image


# --------------------------------------------------------------------------------------------
# Audio: dialogues, synthesized turn by turn, joined with pauses, encoded to mono MP3
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice and how the line sounds: a headset, or a customer's phone."""

    espeak: str       # voice+variant, e.g. "cmn-latn-pinyin+f3"
    speed: int        # espeak-ng words per minute (a hanzi counts as a word)
    pitch: int        # 0-99, espeak-ng's default is 50
    audio_filter: str  # ffmpeg filter applied to this speaker's turns


# The voice `cmn-latn-pinyin`, not `cmn`: espeak-ng 1.51's `cmn` reads its own pinyin with English
# rules ("ni3" as "nee three"); the pinyin voice reads the same hanzi right. So the dialogues hold no
# Latin letters and no digits: numbers are written out in hanzi in `spoken`.
AGENT = Voice("cmn-latn-pinyin+f3", 245, 58, "highpass=f=120,lowpass=f=7000")
# The customer is heard through the phone network: narrow band (made up for in volume).
CUSTOMER = Voice("cmn-latn-pinyin+m3", 230, 38, "highpass=f=300,lowpass=f=3400,volume=1.25")

SPEAKERS = {"坐席": AGENT, "客户": CUSTOMER}


@dataclass(frozen=True)
class Turn:
    speaker: str   # 坐席 or 客户
    text: str      # what the transcript shows
    spoken: str = ""  # what espeak-ng reads when it differs (digits read one by one, no Latin)

    def __post_init__(self) -> None:
        if self.speaker not in SPEAKERS:
            raise ValueError(f"unknown speaker {self.speaker!r}")
        if any(c.isascii() and c.isalnum() for c in self.say):
            raise ValueError(f"write Latin letters and digits out in hanzi in `spoken`: {self.say!r}")

    @property
    def say(self) -> str:
        return self.spoken or self.text


PAUSE_SECONDS = 0.7   # between two turns
LEAD_SECONDS = 0.4    # silence before the first turn and after the last

OPENING_CALL = (
    Turn("坐席", "您好，启航宽带，工号 3021，很高兴为您服务，请问有什么可以帮您？",
         "您好，启航宽带，工号三零二幺，很高兴为您服务，请问有什么可以帮您？"),
    Turn("客户", "你好，我家的宽带从今天早上开始就上不了网了。"),
    Turn("坐席", "给您添麻烦了，我来帮您查一下。请问您贵姓？是机主本人吗？"),
    Turn("客户", "我姓王，是机主本人。"),
    Turn("坐席", "好的。为了核实身份，麻烦您说一下宽带的安装地址。"),
    Turn("客户", "江南路 18 号，3 单元 502。", "江南路十八号，三单元五零二。"),
    Turn("坐席", "谢谢王先生，身份核实好了。我现在帮您查看线路情况，大约需要一分钟，请您稍等。"),
)

# Deliberate mistakes (for the quality-monitoring listening practice): the agent discusses the bill
# and even cancels a service without verifying identity (the number on the pop-up is not proof),
# says the forbidden phrase 这个我不清楚, and hangs up without summarizing or asking whether anything
# else is needed (no ticket number, no follow-up time). The opening itself is the standard one.
FLAWED_CALL = (
    Turn("坐席", "您好，启航宽带，工号 3056，很高兴为您服务，请问有什么可以帮您？",
         "您好，启航宽带，工号三零五六，很高兴为您服务，请问有什么可以帮您？"),
    Turn("客户", "你好，我想问一下，我这个月的宽带账单怎么是 198 块？平时都是 99 块。",
         "你好，我想问一下，我这个月的宽带账单怎么是一百九十八块？平时都是九十九块。"),
    Turn("坐席", "我看一下啊。您这个月多了一笔 99 元的费用，是电视的包月费。",
         "我看一下啊。您这个月多了一笔九十九元的费用，是电视的包月费。"),
    Turn("客户", "电视包月？我从来没开过这个啊，是什么时候开的？"),
    Turn("坐席", "这个我不清楚。系统上显示是上个月开通的。"),
    Turn("客户", "我没开过，你们怎么能乱扣费呢？这钱能退给我吗？"),
    Turn("坐席", "退费要提交申请，我给您登记一下，三到五个工作日会有人联系您。"),
    Turn("客户", "那这个电视包月以后还会扣吗？"),
    Turn("坐席", "我现在帮您取消了，下个月就不扣了。"),
    Turn("客户", "那之前扣的钱退到哪里？退到我银行卡上吗？"),
    Turn("坐席", "应该是退到宽带账户里吧，到时候会有人跟您说的。"),
    Turn("客户", "那好吧。"),
    Turn("坐席", "嗯，好的，那就这样，再见。"),
)

DIALOGUES: dict[str, tuple[Turn, ...]] = {"opening-call": OPENING_CALL, "flawed-call": FLAWED_CALL}

MP3_BITRATE = "40k"
SAMPLE_RATE = 22050  # espeak-ng's own rate: no resampling


def _require(program: str) -> str:
    found = shutil.which(program)
    if not found:
        raise MissingTool(f"{program} not found (apt-get install {program})")
    return found


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()[-800:]}")


def duration_seconds(path: Path) -> float:
    """The duration of an audio file by ffprobe."""
    out = subprocess.run(
        [_require("ffprobe"), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(path)], capture_output=True, text=True, check=True,
    ).stdout.strip()
    return float(out)


def synthesize_turns(turns: tuple[Turn, ...], folder: Path) -> list[Path]:
    """One WAV per turn, by espeak-ng with the speaker's voice."""
    espeak = _require("espeak-ng")
    paths = []
    for i, turn in enumerate(turns):
        voice = SPEAKERS[turn.speaker]
        path = folder / f"turn{i:02d}.wav"
        _run([espeak, "-v", voice.espeak, "-s", str(voice.speed), "-p", str(voice.pitch),
              "-w", str(path), turn.say])
        paths.append(path)
    return paths


def render_dialogue(turns: tuple[Turn, ...], out: Path, title: str) -> float:
    """Synthesize `turns` and mix them by ffmpeg into one mono MP3 at `out`; returns its duration."""
    ffmpeg = _require("ffmpeg")
    with tempfile.TemporaryDirectory() as tmp:
        wavs = synthesize_turns(turns, Path(tmp))
        args = [ffmpeg, "-y", "-hide_banner", "-loglevel", "error"]
        for wav in wavs:
            args += ["-i", str(wav)]
        chains = []
        for i, turn in enumerate(turns):
            pad = LEAD_SECONDS if i == len(turns) - 1 else PAUSE_SECONDS
            lead = f"adelay={int(LEAD_SECONDS * 1000)}," if i == 0 else ""
            chains.append(
                f"[{i}:a]{lead}{SPEAKERS[turn.speaker].audio_filter},"
                f"apad=pad_dur={pad}[t{i}]"
            )
        joined = "".join(f"[t{i}]" for i in range(len(turns)))
        graph = ";".join(chains) + f";{joined}concat=n={len(turns)}:v=0:a=1,alimiter=limit=0.8:level=0[mix]"
        out.parent.mkdir(parents=True, exist_ok=True)
        args += [
            "-filter_complex", graph, "-map", "[mix]",
            "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "libmp3lame", "-b:a", MP3_BITRATE,
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-id3v2_version", "3", "-metadata", f"title={title}",
            "-metadata", "comment=Synthesized speech (espeak-ng), an original script; not a real call",
            str(out),
        ]
        _run(args)
    return duration_seconds(out)


def transcript(turns: tuple[Turn, ...]) -> str:
    """The dialogue with the start time of each turn, as it is in the generated recording."""
    with tempfile.TemporaryDirectory() as tmp:
        wavs = synthesize_turns(turns, Path(tmp))
        start = LEAD_SECONDS
        lines = []
        for turn, wav in zip(turns, wavs):
            minutes, seconds = divmod(int(start), 60)
            lines.append(f"[{minutes}:{seconds:02d}] {turn.speaker}：{turn.text}")
            start += duration_seconds(wav) + PAUSE_SECONDS
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The files and their makers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    path: Path
    kind: str  # image | audio
    make: Callable[[Path], None]


def _save_png(draw: Callable[[], Image.Image]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A palette image: flat colours compress to a fraction of RGB, and stay sharp.
        image = draw().quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(path, format="PNG", optimize=True)
    return make


def _save_mp3(name: str, title: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        render_dialogue(DIALOGUES[name], path, title)
    return make


OUTPUTS = (
    Output(COURSES / "0-04-systems-basics" / "media" / "crm-customer-view.png", "image",
           _save_png(draw_crm_customer_view)),
    Output(COURSES / "1-01-complaint-handling" / "media" / "five-step-method.png", "image",
           _save_png(draw_five_step_method)),
    Output(COURSES / "0-03-phone-etiquette" / "media" / "opening-call.mp3", "audio",
           _save_mp3("opening-call", "标准开场白示范")),
    Output(COURSES / "4-01-quality-monitoring" / "media" / "flawed-call.mp3", "audio",
           _save_mp3("flawed-call", "账单咨询录音（听评练习）")),
)


def check(outputs: tuple[Output, ...] = OUTPUTS) -> list[str]:
    """Problems with the generated files: missing, empty or over their size limit."""
    problems = []
    for output in outputs:
        rel = output.path.relative_to(ROOT)
        if not output.path.is_file():
            problems.append(f"{rel}: missing (run python scripts/generate_media.py)")
            continue
        size = output.path.stat().st_size
        limit = MAX_IMAGE_BYTES if output.kind == "image" else MAX_AUDIO_BYTES
        if size == 0 or size > limit:
            problems.append(f"{rel}: {size} bytes (expected 1..{limit})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the files exist; write nothing")
    parser.add_argument("--only", choices=("images", "audio"), help="generate only these files")
    parser.add_argument("--transcript", choices=sorted(DIALOGUES),
                        help="print a dialogue with the start time of each turn")
    args = parser.parse_args(argv)

    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"{len(OUTPUTS)} media files present")
        return 1 if problems else 0
    try:
        if args.transcript:
            print(transcript(DIALOGUES[args.transcript]))
            return 0
        for output in OUTPUTS:
            if args.only and output.kind != args.only.rstrip("s"):
                continue
            output.make(output.path)
            extra = ""
            if output.kind == "audio":
                extra = f", {duration_seconds(output.path):.1f} s"
            print(f"wrote {output.path.relative_to(ROOT)} ({output.path.stat().st_size:,} bytes{extra})")
    except MissingTool as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
