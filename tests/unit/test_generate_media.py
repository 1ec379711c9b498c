"""scripts/generate_media.py: the diagrams are PNGs of their declared size, the dialogues can be
spoken by espeak-ng, the generated files are present and within their limits, and the lessons show
the transcript the recording speaks."""
from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_media.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("generate_media", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_media"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("generate_media", None)


def _needs_font(gen):
    try:
        gen.font(20)
    except gen.MissingTool as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("name, size", [
    ("crm-customer-view.png", "CRM_SIZE"),
    ("five-step-method.png", "FIVE_STEPS_SIZE"),
])
def test_diagram_is_a_png_of_its_declared_size(gen, name, size, tmp_path):
    _needs_font(gen)
    output = next(o for o in gen.OUTPUTS if o.path.name == name)
    path = tmp_path / "x.png"
    output.make(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 0 < len(data) < gen.MAX_IMAGE_BYTES
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == getattr(gen, size)
        # Drawn, not blank: a flat diagram still has several colours.
        assert len(image.convert("RGB").getcolors(maxcolors=4096) or range(4097)) > 5


def test_drawing_is_deterministic(gen):
    _needs_font(gen)
    first = gen.draw_five_step_method().tobytes()
    assert gen.draw_five_step_method().tobytes() == first


def test_generated_files_are_present_and_small():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_check_reports_a_missing_file(gen, tmp_path):
    missing = gen.Output(gen.ROOT / "courses" / "no-such-course" / "media" / "x.png", "image",
                         lambda path: None)
    problems = gen.check((missing,))
    assert len(problems) == 1 and "missing" in problems[0]


def test_every_turn_is_speakable_hanzi(gen):
    for turns in gen.DIALOGUES.values():
        for turn in turns:
            assert not any(c.isascii() and c.isalnum() for c in turn.say), turn
    with pytest.raises(ValueError):
        gen.Turn("坐席", "工号 3021")


def test_lesson_shows_the_transcript_of_its_recording(gen):
    lesson = (ROOT / "courses" / "0-03-phone-etiquette" / "01-opening.md").read_text(encoding="utf-8")
    assert "](media/opening-call.mp3)" in lesson
    for turn in gen.OPENING_CALL:
        assert f"> {turn.speaker}：{turn.text}" in lesson, turn.text


@pytest.mark.parametrize("lesson, media", [
    ("0-04-systems-basics/01-crm-overview.md", "media/crm-customer-view.png"),
    ("1-01-complaint-handling/02-five-step-method.md", "media/five-step-method.png"),
])
def test_lessons_reference_their_diagrams(lesson, media):
    text = (ROOT / "courses" / lesson).read_text(encoding="utf-8")
    assert f"]({media})" in text


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe")),
                    reason="espeak-ng and ffmpeg are needed for the audio")
def test_dialogue_renders_to_mono_mp3_with_pauses(gen, tmp_path):
    turns = (gen.Turn("坐席", "您好。"), gen.Turn("客户", "你好。"))
    out = tmp_path / "short.mp3"
    duration = gen.render_dialogue(turns, out, "test")
    assert out.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=channels,codec_name",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "mp3,1"
    # Two short words, a pause between the turns and silence at both ends.
    assert gen.LEAD_SECONDS * 2 + gen.PAUSE_SECONDS < duration < 6
