"""Settings read from the environment (LMS_*), with defaults for the embedded SQLite."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("zh_CN", "en")


def instance_path() -> Path:
    return Path(os.environ.get("LMS_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()


def default_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'lms.sqlite3'}"


def load_secret_key(instance: Path) -> str:
    """LMS_SECRET_KEY, else a key generated once and kept in instance/secret_key.

    Several gunicorn workers may start at once: the file is created exclusively, and
    whoever loses the race reads the winner's key.
    """
    key = os.environ.get("LMS_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance: Path) -> dict:
    language = os.environ.get("LMS_DEFAULT_LANGUAGE", "zh_CN").replace("-", "_")
    if language not in LANGUAGES:
        raise RuntimeError(f"LMS_DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("LMS_DATABASE_URL") or default_database_url(instance),
        "BABEL_DEFAULT_LOCALE": language,
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("LMS_TIMEZONE", "Asia/Shanghai"),
        "LMS_COURSES_DIR": os.environ.get("LMS_COURSES_DIR", str(PROJECT_ROOT / "courses")),
        "LMS_BANKS_DIR": os.environ.get("LMS_BANKS_DIR", str(PROJECT_ROOT / "question_banks")),
        # answers arriving this long after an exam's deadline still count (slow networks)
        "LMS_EXAM_GRACE_SECONDS": int(os.environ.get("LMS_EXAM_GRACE_SECONDS", "30")),
        # a refresher course is due this many days before its completion expires
        "LMS_RECERT_LEAD_DAYS": int(os.environ.get("LMS_RECERT_LEAD_DAYS", "30")),
        "SESSION_COOKIE_SECURE": os.environ.get("LMS_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("LMS_SECURE_COOKIES", "0") == "1",
    }


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: a long exam must not expire it
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "USERS_PER_PAGE": 50,
    # result bands above the pass mark: percent of the maximum (a fail is "needs improvement")
    "LMS_BAND_THRESHOLDS": {"excellent": 90.0, "good": 80.0},
}
