"""The node-local disk copy of media files, which the web server sends (with byte ranges) from.

The database is the truth (several app nodes each keep their own copy). A copy is written once,
atomically (a temporary file renamed into place), at `<cache>/<first two hex>/<sha256>.<ext>`; being
named by its content, it is never stale and never needs to be invalidated.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import defer

from lms.extensions import db
from lms.models import MediaBlob

FILENAME = re.compile(r"([0-9a-f]{64})\.([a-z0-9]{2,5})")


def cached_file(filename: str, cache_dir: str | os.PathLike) -> tuple[Path, MediaBlob] | None:
    """(path of the disk copy, blob) for "<sha256>.<ext>", or None when no blob has that hash and
    extension. Writes the copy from the database when this node has none yet."""
    match = FILENAME.fullmatch(filename)
    if match is None:
        return None
    sha, extension = match.groups()
    blob = db.session.scalar(select(MediaBlob).options(defer(MediaBlob.data)).where(MediaBlob.sha256 == sha))
    if blob is None or blob.extension != extension:
        return None
    path = Path(cache_dir) / sha[:2] / f"{sha}.{extension}"
    try:
        if path.stat().st_size == blob.size:
            return path, blob
    except FileNotFoundError:
        pass
    data = db.session.scalar(select(MediaBlob.data).where(MediaBlob.id == blob.id))
    _write_atomically(path, data)
    return path, blob


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)  # atomic: a reader sees the whole file or none
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
