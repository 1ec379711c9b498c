"""Keeping media in the database: each file's bytes once per content (MediaBlob, by sha256), a course's
files by the names its lessons use (CourseMedia), and the resolver that turns those names into
`/media/<sha256>.<ext>` addresses when a lesson is rendered.

`lms sync` (lms.content.sync) and the browser editor (lms.authoring) both come through here:

    blob = store_media(session, data, "bill-call.mp3", now)      # MediaInvalid if unusable
    attach(session, course, "media/bill-call.mp3", blob)
    html = render_lesson(course, markdown_text)                   # the same renderer as lms sync

Blobs are never deleted: old lesson versions keep pointing at the files they showed.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable, Mapping

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from lms.content.errors import Message, _l
from lms.content.media import MAX_NAME_LENGTH, MediaFile, describe, limits_from_config, normalize_reference
from lms.models import Course, CourseMedia, MediaBlob
from lms.rendering import MediaRef, render_markdown

MEDIA_URL = re.compile(r"^/media/([0-9a-f]{64})\.([a-z0-9]{2,5})$")


class MediaInvalid(Exception):
    """An upload a lesson cannot use; `message` says why (a Message, translated when shown)."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message


def current_limits() -> dict[str, int]:
    return limits_from_config(current_app.config if has_app_context() else None)


def media_url(blob: MediaBlob) -> str:
    return f"/media/{blob.sha256}.{blob.extension}"


def media_name(filename: str) -> str:
    """The name a lesson uses for an uploaded file: "media/<file name>", spaces and characters that
    Markdown links cannot hold replaced by "-", the extension in lowercase ("通话 录音.MP3" ->
    "media/通话-录音.mp3"). A name already starting with media/ keeps its subfolders."""
    filename = (filename or "").replace("\\", "/").strip()
    folders = ""
    if filename.startswith("media/"):
        filename = filename[len("media/"):]
        folders, _, filename = filename.rpartition("/")
        folders = "/".join(_safe(part) for part in folders.split("/") if part not in ("", ".", ".."))
    else:
        filename = filename.rpartition("/")[2]
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem = _safe(stem) or "file"
    name = "media/" + (folders + "/" if folders else "") + stem + ("." + extension.lower() if extension else "")
    return name[:MAX_NAME_LENGTH]


def _safe(part: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[\s()\[\]<>\"'`#?%&*:|\\/]+", "-", part)).strip("-.")


def store_media(session: Session, data: bytes, filename: str, now: datetime) -> MediaBlob:
    """The MediaBlob holding `data` (a file called `filename`; its extension says what it should be):
    probed (type by extension and content, size limit of its kind), stored once per sha256 (the same
    bytes again return the same blob). Does not commit. Raises MediaInvalid with the reason."""
    file = describe(filename, data, limits=current_limits())
    if file.problem is not None:
        raise MediaInvalid(file.problem)
    return blob_for(session, file, now)


def blob_for(session: Session, file: MediaFile, now: datetime) -> MediaBlob:
    """The stored blob of a probed, usable file (one per sha256), made when new. Does not commit."""
    for pending in session.new:  # stored earlier in this transaction, not flushed yet
        if isinstance(pending, MediaBlob) and pending.sha256 == file.sha256:
            return pending
    with session.no_autoflush:
        blob = session.scalar(select(MediaBlob).options(defer(MediaBlob.data))
                              .where(MediaBlob.sha256 == file.sha256))
    if blob is None:
        blob = MediaBlob(sha256=file.sha256, kind=file.kind, content_type=file.content_type,
                         extension=file.extension, size=file.size, width=file.width, height=file.height,
                         duration_seconds=file.duration, data=file.read_bytes(), created_at=now)
        session.add(blob)
    return blob


def attach(session: Session, course: Course, name: str, blob: MediaBlob) -> CourseMedia:
    """Make `name` ("media/call.mp3", or a bare file name: see media_name) in `course` show `blob`,
    replacing what the name showed before. Does not commit. Raises MediaInvalid for a name outside
    the media folder."""
    if not name.startswith("media/"):
        name = media_name(name)
    normal, problem = normalize_reference(name)
    if problem is not None or normal != name or len(name) > MAX_NAME_LENGTH:
        raise MediaInvalid(problem or _l("'%(target)s' is not a usable file name", target=name))
    for row in course.media:
        if row.name == name:
            row.blob = blob
            return row
    row = CourseMedia(name=name, blob=blob)
    course.media.append(row)
    return row


def sync_course_media(session: Session, course: Course, files: Mapping[str, MediaFile], now: datetime
                      ) -> dict[str, MediaBlob]:
    """Make the course's media rows what its folder holds (`files`, from read_media_folder): usable
    files stored and attached, rows of files gone removed. Returns name -> blob. Does not commit."""
    blobs = {name: blob_for(session, file, now) for name, file in files.items() if file.problem is None}
    for row in list(course.media):
        if row.name not in blobs:
            course.media.remove(row)
    for name, blob in blobs.items():
        attach(session, course, name, blob)
    return blobs


Resolver = Callable[[str], "MediaRef | None"]


def resolver_for(blobs: Mapping[str, MediaBlob]) -> Resolver:
    """A renderer's resolver over name -> blob: a reference as written in Markdown -> MediaRef or None."""
    def resolve(target: str) -> MediaRef | None:
        name, problem = normalize_reference(target)
        blob = blobs.get(name) if problem is None else None
        if blob is None:
            return None
        return MediaRef(url=media_url(blob), kind=blob.kind, width=blob.width, height=blob.height,
                        content_type=blob.content_type)

    return resolve


def media_resolver(course: Course) -> Resolver:
    """The resolver of a course's media as stored (its CourseMedia rows)."""
    return resolver_for({row.name: row.blob for row in course.media})


def render_lesson(course: Course, markdown_text: str) -> str:
    """A lesson's (or the course introduction's) HTML with the course's media, as `lms sync` renders it."""
    return render_markdown(markdown_text, media=media_resolver(course))
