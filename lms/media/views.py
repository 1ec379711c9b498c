"""Media in lessons: images, call recordings and videos from course folders or uploads, stored once per
content (sha256) and served by the app with caching headers and byte ranges.

GET /media/<sha256>.<ext> (any logged-in user; the address is only ever written into lesson pages):
the file from this node's disk cache (LMS_MEDIA_CACHE_DIR), written from the database on first
request. Content-addressed, so a cached file is never stale and may be cached by the browser for a
year. Range requests (seeking in a recording) get 206 with Content-Range, or 416 outside the file.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask_login import login_required

from lms.media import serving

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<string(length=64):sha256>.<string:extension>")
@login_required
def file(sha256: str, extension: str):
    found = serving.cached_file(f"{sha256}.{extension}", current_app.config.get("LMS_MEDIA_CACHE_DIR")
                                or f"{current_app.instance_path}/media-cache")
    if found is None:
        abort(404)
    path, blob = found
    response = send_file(path, mimetype=blob.content_type, conditional=True, etag=blob.sha256,
                         max_age=ONE_YEAR, last_modified=None)
    response.headers["Cache-Control"] = f"private, max-age={ONE_YEAR}, immutable"
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Accept-Ranges"] = "bytes"
    return response
