"""A course as its folder (the format `lms sync` reads), zipped: course.md, NN-<lesson>.md, media/.

So a course made or edited in the browser can be put under version control: unzip it into
courses/ and `lms sync` gives the same course back (title, settings, lessons, Markdown, media bytes).
"""
from __future__ import annotations

import io
import zipfile

from lms.authoring.services import COURSE_FILE, compose, course_document, fields_of, lesson_file_name, lesson_text
from lms.models import Course


def folder_name(course: Course, number: int) -> str:
    """The course's folder: its own for a course from files, else `<star>-<nn>-<slug>`."""
    return course.source_path or f"{course.star_level}-{number:02d}-{course.slug}"


def course_files(course: Course) -> dict[str, bytes]:
    """Every file of the course's folder by its path inside the folder."""
    meta = course_document(fields_of(course), practicals=course.practicals or (),
                           evaluation_threshold=course.evaluation_threshold)
    files = {COURSE_FILE: compose(meta, course.intro_md or "").encode("utf-8")}
    for position, lesson in enumerate(course.live_lessons):
        files[lesson_file_name(position, lesson.slug)] = lesson_text(lesson.title, lesson.minutes,
                                                                      lesson.body_md).encode("utf-8")
    for item in course.media:
        files[item.name] = item.blob.data
    return files


def export_zip(course: Course, number: int = 99) -> tuple[str, bytes]:
    """(folder name, zip bytes): the folder at the zip's top level."""
    folder = folder_name(course, number)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in course_files(course).items():
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return folder, buffer.getvalue()
