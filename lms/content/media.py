"""Media files of a course (`courses/<course>/media/`) and the lessons' references to them.

A lesson shows a file with Markdown's image syntax, whatever the file is:

    ![客服中心座席布局](media/floor-plan.png)             an image (alt text for screen readers;
    ![布局](media/floor-plan.png "图 1：座席布局")          a title becomes a visible caption)
    ![通话录音：账单投诉](media/calls/bill-call.mp3)       an audio player, the alt text as its caption
    ![演示：如何转接](media/transfer.mp4)                  a video player, the same

Only files of the course's own `media/` folder (subfolders allowed): another site's address, an
absolute path, `..` out of the folder or a backslash is an error at the reference's `path:line`, as is
a missing file, a type not on the list below, a file whose content is not what its extension says
(a `.png` that is no PNG) and a file over its kind's size limit. Files nobody references are fine.

The list (and why): images png, jpg/jpeg, webp, gif (every browser shows them; no SVG: an SVG opened
directly runs its scripts in our origin); audio mp3, m4a (AAC), wav (every phone plays them), ogg and
opus (Ogg Vorbis / Opus: smaller, but older iPhones cannot play them); video mp4 with H.264 (every
phone), webm with VP8/VP9/AV1 (not on older iPhones). Content is checked by Pillow (images: format,
size in pixels, a full decode) and mutagen plus a look at the container (audio and video: format,
codec, duration; width and height of a video).

This module is shared by `lms sync` (lms.content.courses) and the browser editor (lms.authoring);
lms.media.store keeps the files in the database and lms.rendering turns references into players.
"""
from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Mapping
from urllib.parse import unquote

from lms.content.errors import ContentError, Message, _l, listed

MB = 1024 * 1024
# The default size limit of each kind, in MB (settings LMS_MEDIA_MAX_IMAGE_MB, _AUDIO_MB, _VIDEO_MB).
DEFAULT_LIMITS_MB = {"image": 5, "audio": 20, "video": 60}
MAX_IMAGE_PIXELS = 40_000_000  # larger pictures are no use on a phone and cost memory to decode
MAX_NAME_LENGTH = 200  # CourseMedia.name


@dataclass(frozen=True)
class MediaType:
    kind: str  # image, audio, video (lms.models.courses.MEDIA_KINDS)
    content_type: str


# By extension (lowercase). Order is the order the error messages list them in.
MEDIA_TYPES: dict[str, MediaType] = {
    "png": MediaType("image", "image/png"),
    "jpg": MediaType("image", "image/jpeg"),
    "jpeg": MediaType("image", "image/jpeg"),
    "webp": MediaType("image", "image/webp"),
    "gif": MediaType("image", "image/gif"),
    "mp3": MediaType("audio", "audio/mpeg"),
    "m4a": MediaType("audio", "audio/mp4"),
    "wav": MediaType("audio", "audio/wav"),
    "ogg": MediaType("audio", "audio/ogg"),
    "opus": MediaType("audio", "audio/ogg"),
    "mp4": MediaType("video", "video/mp4"),
    "webm": MediaType("video", "video/webm"),
}
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}


@dataclass(frozen=True)
class MediaFile:
    """One file of a media folder (or one upload): what it is, or `problem`, why a lesson cannot use it."""
    name: str  # as lessons write it: "media/calls/bill.mp3"
    size: int
    extension: str = ""
    kind: str = ""
    content_type: str = ""
    sha256: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    path: Path | None = None  # the file on disk (lms sync), or
    data: bytes | None = None  # its bytes (an upload)
    problem: Message | None = None

    def read_bytes(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()


class MediaProblem(Exception):
    """A file a lesson cannot use; `message` says why (translated when shown)."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message


def limits_from_config(config: Mapping[str, Any] | None) -> dict[str, int]:
    """Bytes allowed per kind: LMS_MEDIA_MAX_IMAGE_MB, LMS_MEDIA_MAX_AUDIO_MB, LMS_MEDIA_MAX_VIDEO_MB."""
    config = config or {}
    return {kind: int(float(config.get(f"LMS_MEDIA_MAX_{kind.upper()}_MB") or mb) * MB)
            for kind, mb in DEFAULT_LIMITS_MB.items()}


def extension_of(name: str) -> str:
    return posixpath.splitext(name)[1].lstrip(".").lower()


def _type_problem(extension: str) -> Message:
    if extension == "svg":
        return _l(".svg pictures cannot be shown in a lesson (a script inside one would run in this site): "
                  "save the picture as .png")
    if not extension:
        return _l("the file name has no extension: lessons show %(types)s files", types=_types())
    return _l("%(ext)s files cannot be shown in a lesson: lessons show %(types)s files", ext="." + extension,
              types=_types())


def _types() -> Message:
    return listed(("." + extension for extension in MEDIA_TYPES), style="or", quote=False)


def _too_big(size: int, limit: int, kind: str) -> Message:
    mb = f"{size / MB:.1f}"
    limit_mb = f"{limit / MB:g}"
    if kind == "image":
        return _l("the picture is %(size)s MB, over the limit of %(limit)s MB for pictures", size=mb, limit=limit_mb)
    if kind == "audio":
        return _l("the recording is %(size)s MB, over the limit of %(limit)s MB for audio", size=mb, limit=limit_mb)
    return _l("the video is %(size)s MB, over the limit of %(limit)s MB for videos", size=mb, limit=limit_mb)


def describe(name: str, data: bytes | None = None, *, path: Path | None = None,
             limits: Mapping[str, int] | None = None) -> MediaFile:
    """What the file `name` (its bytes, or the file at `path`) is; never raises: a file a lesson cannot
    use comes back with `problem` set (wrong type, content not matching the extension, too big)."""
    limits = limits or limits_from_config(None)
    extension = extension_of(name)
    size = len(data) if data is not None else path.stat().st_size
    media_type = MEDIA_TYPES.get(extension)
    if media_type is None:
        return MediaFile(name, size, extension, path=path, data=data, problem=_type_problem(extension))
    base = MediaFile(name, size, extension, media_type.kind, media_type.content_type, path=path, data=data)
    limit = limits.get(media_type.kind, DEFAULT_LIMITS_MB[media_type.kind] * MB)
    if size > limit:
        return _with(base, problem=_too_big(size, limit, media_type.kind))
    try:
        with (io.BytesIO(data) if data is not None else open(path, "rb")) as handle:
            width, height, duration = probe(handle, extension)
            handle.seek(0)
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
    except MediaProblem as problem:
        return _with(base, problem=problem.message)
    except OSError:
        return _with(base, problem=_l("the file cannot be read"))
    return _with(base, sha256=sha, width=width, height=height, duration=duration)


def _with(file: MediaFile, **changes) -> MediaFile:
    return replace(file, **changes)


# --- Probing: is the content what the extension says? -------------------------------------------------

def probe(handle: IO[bytes], extension: str) -> tuple[int | None, int | None, float | None]:
    """(width, height, duration in seconds) of a file whose extension is in MEDIA_TYPES; raises
    MediaProblem when its content is not that type."""
    kind = MEDIA_TYPES[extension].kind
    try:
        if kind == "image":
            return _probe_image(handle, extension)
        if extension == "webm":
            return _probe_webm(handle)
        if extension == "mp4":
            return _probe_mp4_video(handle)
        return None, None, _probe_audio(handle, extension)
    except MediaProblem:
        raise
    except Exception:  # noqa: BLE001 - any parser failure means the content is not what it claims
        raise MediaProblem(_not_a(extension)) from None


def _not_a(extension: str) -> Message:
    return _l("the file's content is not a %(ext)s file (it may be another kind of file renamed, or damaged)",
              ext="." + extension)


def _probe_image(handle: IO[bytes], extension: str) -> tuple[int, int, None]:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(handle, formats=[_PILLOW_FORMATS[extension]])
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise MediaProblem(_l("the picture is %(width)s x %(height)s pixels: make it smaller (at most "
                                  "%(max)s million pixels; 2000 pixels wide is plenty on any screen)",
                                  width=width, height=height, max=MAX_IMAGE_PIXELS // 1_000_000))
        orientation = image.getexif().get(0x0112, 1) if extension in ("jpg", "jpeg", "webp") else 1
        image.load()  # decodes it all: a truncated or damaged file fails here
    if orientation in (5, 6, 7, 8):  # shown turned a quarter: browsers apply the EXIF orientation
        width, height = height, width
    return width, height, None


def _probe_audio(handle: IO[bytes], extension: str) -> float:
    head = handle.read(12)
    handle.seek(0)
    if extension == "mp3":
        from mutagen.mp3 import MP3

        if not (head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)):
            raise MediaProblem(_not_a(extension))
        info = MP3(handle).info
    elif extension == "m4a":
        from mutagen.mp4 import MP4

        if head[4:8] != b"ftyp":
            raise MediaProblem(_not_a(extension))
        info = MP4(handle).info
        if not (info.codec or "").startswith("mp4a"):
            raise MediaProblem(_l("the .m4a file holds no AAC audio: export it as AAC (or as .mp3)"))
        handle.seek(0)
        if any(track == "vide" for track, _codec, _size in _mp4_tracks(handle)):
            raise MediaProblem(_l("the .m4a file holds a video: name it .mp4"))
    elif extension in ("ogg", "opus"):
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        if not head.startswith(b"OggS"):
            raise MediaProblem(_not_a(extension))
        try:
            info = OggOpus(handle).info
        except Exception:  # noqa: BLE001 - not Opus: maybe Vorbis
            handle.seek(0)
            info = OggVorbis(handle).info
    else:  # wav
        from mutagen.wave import WAVE

        if not (head.startswith(b"RIFF") and head[8:12] == b"WAVE"):
            raise MediaProblem(_not_a(extension))
        info = WAVE(handle).info
    length = float(info.length or 0)
    if length <= 0:
        raise MediaProblem(_l("the recording has no sound (its length is 0 seconds)"))
    return length


def _mp4_tracks(handle: IO[bytes]) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(handler 'vide'/'soun', codec fourcc, display (width, height) or None) of each track of an MP4."""
    from mutagen.mp4 import Atoms

    atoms = Atoms(handle)
    tracks = []
    for trak in atoms.path(b"moov")[-1].findall(b"trak"):
        def payload(*names):
            atom = trak
            for name in names:
                atom = next(atom.findall(name), None) if atom is not None else None
            if atom is None:
                return b""
            ok, data = atom.read(handle)
            return data if ok else b""

        handler = payload(b"mdia", b"hdlr")[8:12].decode("latin-1")
        stsd = payload(b"mdia", b"minf", b"stbl", b"stsd")
        codec = stsd[12:16].decode("latin-1") if len(stsd) >= 16 else ""
        size = None
        tkhd = payload(b"tkhd")
        if tkhd:
            at = 76 if tkhd[0] == 0 else 88
            if len(tkhd) >= at + 8:
                width, height = struct.unpack(">II", tkhd[at:at + 8])
                size = (width >> 16, height >> 16)
        if (not size or not all(size)) and len(stsd) >= 44:
            size = struct.unpack(">HH", stsd[40:44])
        tracks.append((handler, codec, size))
    return tracks


def _probe_mp4_video(handle: IO[bytes]) -> tuple[int | None, int | None, float]:
    from mutagen.mp4 import MP4

    if handle.read(8)[4:8] != b"ftyp":
        raise MediaProblem(_not_a("mp4"))
    handle.seek(0)
    length = float(MP4(handle).info.length or 0)
    handle.seek(0)
    videos = [(codec, size) for handler, codec, size in _mp4_tracks(handle) if handler == "vide"]
    if not videos:
        raise MediaProblem(_l("the .mp4 file holds no video: a recording goes in an .m4a or .mp3 file"))
    codec, size = videos[0]
    if codec not in ("avc1", "avc3"):
        raise MediaProblem(_l("the video is coded as '%(codec)s', which not every phone plays: export it "
                              "as H.264 (AVC) in an .mp4 file", codec=codec or "?"))
    width, height = size if size and all(size) else (None, None)
    return width, height, length


# WebM (Matroska): EBML elements, an ID then a size, each a variable-length number.
_EBML, _DOCTYPE, _SEGMENT, _INFO, _TIMESCALE, _DURATION = 0x1A45DFA3, 0x4282, 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489
_TRACKS, _TRACK, _TRACK_TYPE, _CODEC, _VIDEO = 0x1654AE6B, 0xAE, 0x83, 0x86, 0xE0
_PIXEL_W, _PIXEL_H, _DISPLAY_W, _DISPLAY_H, _CLUSTER = 0xB0, 0xBA, 0x54B0, 0x54BA, 0x1F43B675


def _vint(handle: IO[bytes], keep_marker: bool) -> tuple[int, int]:
    first = handle.read(1)
    if not first:
        raise EOFError
    byte = first[0]
    length = 1
    while length <= 8 and not byte & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("bad EBML number")
    value = byte if keep_marker else byte & (0xFF >> length)
    rest = handle.read(length - 1)
    if len(rest) != length - 1:
        raise EOFError
    for b in rest:
        value = (value << 8) | b
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return (-1 if unknown else value), length


def _elements(handle: IO[bytes], end: int | None):
    """(id, size, start of data) of each element from the handle's position up to `end`."""
    while end is None or handle.tell() < end:
        try:
            element, _ = _vint(handle, keep_marker=True)
            size, _ = _vint(handle, keep_marker=False)
        except EOFError:
            return
        start = handle.tell()
        yield element, size, start
        if size < 0:
            return  # unknown size (a live stream's segment): only its first children are read
        handle.seek(start + size)


def _probe_webm(handle: IO[bytes]) -> tuple[int | None, int | None, float]:
    elements = _elements(handle, None)
    element, size, start = next(elements, (None, 0, 0))
    if element != _EBML:
        raise MediaProblem(_not_a("webm"))
    doctype = b""
    for child, child_size, child_start in _elements(handle, start + size):
        if child == _DOCTYPE:
            doctype = handle.read(child_size)
    if doctype.rstrip(b"\0") != b"webm":
        raise MediaProblem(_not_a("webm"))
    handle.seek(start + size)
    scale, duration, width, height, codec = 1_000_000, 0.0, None, None, ""
    for element, size, start in _elements(handle, None):
        if element != _SEGMENT:
            continue
        for child, child_size, child_start in _elements(handle, None if size < 0 else start + size):
            if child == _CLUSTER:
                break
            if child == _INFO:
                for item, item_size, _ in _elements(handle, child_start + child_size):
                    raw = handle.read(item_size)
                    if item == _TIMESCALE:
                        scale = int.from_bytes(raw, "big")
                    elif item == _DURATION:
                        duration = struct.unpack(">f" if item_size == 4 else ">d", raw)[0]
            elif child == _TRACKS:
                for track, track_size, track_start in _elements(handle, child_start + child_size):
                    if track != _TRACK:
                        continue
                    fields: dict[int, Any] = {}
                    for item, item_size, item_start in _elements(handle, track_start + track_size):
                        if item == _VIDEO:
                            for dim, dim_size, _ in _elements(handle, item_start + item_size):
                                fields[dim] = int.from_bytes(handle.read(dim_size), "big")
                        else:
                            fields[item] = handle.read(item_size)
                    if int.from_bytes(fields.get(_TRACK_TYPE, b""), "big") == 1 and not codec:
                        codec = fields.get(_CODEC, b"").decode("ascii", "replace")
                        width = fields.get(_DISPLAY_W) or fields.get(_PIXEL_W)
                        height = fields.get(_DISPLAY_H) or fields.get(_PIXEL_H)
        break
    if not codec:
        raise MediaProblem(_l("the .webm file holds no video: a recording goes in an .ogg, .m4a or .mp3 file"))
    if codec not in ("V_VP8", "V_VP9", "V_AV1"):
        raise MediaProblem(_l("the video is coded as '%(codec)s', which browsers do not play: export it as "
                              "H.264 (AVC) in an .mp4 file", codec=codec))
    return width, height, duration * scale / 1e9


# --- A course's media folder ----------------------------------------------------------------------

def read_media_folder(folder: Path, *, shown: str = "", limits: Mapping[str, int] | None = None
                      ) -> tuple[dict[str, MediaFile], list[ContentError]]:
    """Every file under `folder` (a course's media/ folder) by the name lessons use ("media/x.png").

    Files a lesson cannot use come back with `problem` set: referencing one is the error (see
    check_references). Errors here are for what cannot be part of the course at all: a symbolic link
    leading out of the folder, a name too long. `shown` is the folder as error messages name it
    ("courses/x/media"); the file names are added to it."""
    files: dict[str, MediaFile] = {}
    errors: list[ContentError] = []
    if not folder.is_dir():
        return files, errors
    shown = shown or str(folder)
    course_folder = folder.parent.resolve()
    root = folder.resolve()
    if not root.is_relative_to(course_folder):
        return files, [ContentError(shown, 0, _l("the media folder is a link to a folder outside the course: "
                                                 "put the files themselves in it"))]
    for directory, subfolders, names in os.walk(folder, followlinks=False):
        subfolders.sort()
        for entry in [*subfolders, *sorted(names)]:
            path = Path(directory) / entry
            relative = path.relative_to(folder).as_posix()
            where = f"{shown}/{relative}"
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                errors.append(ContentError(where, 0, _l("a link to a file outside the media folder is refused: "
                                                        "copy the file in instead")))
                continue
            if entry in subfolders or not path.is_file() or entry.startswith("."):
                continue
            name = "media/" + relative
            if len(name) > MAX_NAME_LENGTH:
                errors.append(ContentError(where, 0, _l("the file name is longer than %(n)s characters",
                                                        n=MAX_NAME_LENGTH)))
                continue
            files[name] = describe(name, path=path, limits=limits)
    return files, errors


# --- References in lessons ------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
# ![alt](target "title") or ![alt](<target>); the alt text may hold [brackets] one level deep.
_IMAGE = re.compile(r"!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(?:<([^<>\n]*)>|([^\s()]*(?:\([^\s()]*\)[^\s()]*)*))"
                    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
# ![alt][ref] and ![alt] with a reference definition `[ref]: target`
_IMAGE_REF = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\s?\[([^\[\]]*)\])?")
_DEFINITION = re.compile(r"^ {0,3}\[([^\[\]]+)\]:\s*<?([^\s>]+)>?")


def find_references(markdown_text: str) -> list[tuple[int, str]]:
    """(line, target) of every Markdown image in the text (`![alt](target)`, `![alt][ref]`), its line
    counted from 1 at the text's first line; images inside code (fenced, indented, `spans`) are text,
    not references. Targets are as written (check_references judges them)."""
    lines = markdown_text.split("\n")
    definitions: dict[str, str] = {}
    usable: list[tuple[int, str]] = []
    fence = None
    previous_blank = True
    for number, line in enumerate(lines, start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        indented_code = previous_blank and (line.startswith("    ") or line.startswith("\t"))
        previous_blank = not line.strip() or (indented_code and previous_blank)
        if indented_code and not _in_list(lines, number - 1):
            continue
        definition = _DEFINITION.match(line)
        if definition:
            definitions.setdefault(definition.group(1).strip().lower(), definition.group(2))
            continue
        usable.append((number, _CODE_SPAN.sub(lambda span: " " * len(span.group(0)), line)))
    found: list[tuple[int, str]] = []
    for number, line in usable:
        taken = []
        for match in _IMAGE.finditer(line):
            found.append((number, match.group(1) if match.group(1) is not None else match.group(2)))
            taken.append(match.span())
        for match in _IMAGE_REF.finditer(line):
            if any(start <= match.start() < end for start, end in taken):
                continue
            after = line[match.end():match.end() + 1]
            if after == "(":
                continue
            key = (match.group(2) or match.group(1) or "").strip().lower()
            if key in definitions:
                found.append((number, definitions[key]))
    return found


def _in_list(lines: list[str], index: int) -> bool:
    """Whether an indented line continues a list item (then it is text, not code)."""
    for line in reversed(lines[:index]):
        if not line.strip():
            continue
        if line.startswith((" ", "\t")):
            continue
        return bool(re.match(r"^ {0,3}(?:[*+-]|\d+[.)])\s", line))
    return False


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def normalize_reference(target: str) -> tuple[str | None, Message | None]:
    """The media name a reference means ("media/x.png"), or None and why it cannot be one."""
    target = (target or "").strip()
    if not target:
        return None, _l("the image has no file name: write ![what it shows](media/file.png)")
    if _SCHEME.match(target) or target.startswith("//"):
        if target.lower().startswith(("http:", "https:", "//")):
            return None, _l("'%(target)s' is on another site: lessons show only files of their course's "
                            "\"media/\" folder (download it into that folder and write media/its-name)", target=target)
        return None, _l("'%(target)s' is not a file of the course: lessons show only files of their course's "
                        "\"media/\" folder", target=target[:60])
    target = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if "\\" in target:
        return None, _l("'%(target)s': write paths with / (not \\)", target=target)
    if target.startswith("/"):
        return None, _l("'%(target)s' is an absolute path: write the path inside the course folder, "
                        "like media/file.png", target=target)
    name = posixpath.normpath(target)
    if name == ".." or name.startswith("../"):
        return None, _l("'%(target)s' points outside the course folder: lessons show only files of their "
                        "course's \"media/\" folder", target=target)
    if not name.startswith("media/"):
        return None, _l("'%(target)s' is not in the course's \"media/\" folder: put the file there and write "
                        "media/its-name", target=target)
    return name, None


def check_references(text: str, path: str, first_line: int, available: Mapping[str, Any]) -> list[ContentError]:
    """Errors (at `path`, lines counted from `first_line` for the text's first line) for each reference
    of `text` a lesson cannot show. `available` maps media names ("media/x.png") to MediaFile (or
    anything with an optional `problem`, like a stored CourseMedia): a missing name, an unusable file,
    or a reference out of the media folder is an error."""
    errors: list[ContentError] = []
    lower = {name.lower(): name for name in available}
    for line, target in find_references(text):
        at = first_line + line - 1
        name, problem = normalize_reference(target)
        if problem is None:
            file = available.get(name)
            if file is None:
                if extension_of(name) not in MEDIA_TYPES:
                    problem = _type_problem(extension_of(name))
                elif name.lower() in lower:
                    problem = _l("there is no file '%(name)s' in the course (there is '%(other)s': names are "
                                 "case-sensitive)", name=name, other=lower[name.lower()])
                else:
                    problem = _l("there is no file '%(name)s' in the course", name=name)
            else:
                problem = getattr(file, "problem", None)
                if problem is not None:
                    problem = _l("'%(name)s': %(problem)s", name=name, problem=problem)
        if problem is not None:
            errors.append(ContentError(path, at, problem))
    return errors


def body_first_line(text: str, body: str) -> int:
    """The line of the file `text` on which its `body` (a suffix of it, as parse_document leaves it) starts."""
    return text.count("\n", 0, len(text) - len(body)) + 1 if text.endswith(body) else 1
