"""Settings read from the environment (LMS_*), with defaults for the embedded SQLite."""
from __future__ import annotations

import json
import math
import os
import re
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
    whoever loses the race reads the winner's key. With a database server (PostgreSQL) the key must
    be given: several app servers may share that database, and each must sign with the same key.
    """
    key = os.environ.get("LMS_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if not (os.environ.get("LMS_DATABASE_URL") or "sqlite").startswith("sqlite"):
        # A database server may be shared by several app servers: each would generate its own key, and
        # a login, a form's CSRF token or a check-in code made on one would be refused by another.
        kept = f" (to keep today's logins: the key in {path})" if path.exists() else ""
        raise RuntimeError("LMS_SECRET_KEY must be set when LMS_DATABASE_URL names a database server: the same "
                           "value on every app server, e.g. the output of "
                           f"`python -c 'import secrets; print(secrets.token_hex(32))'`{kept}")
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


BAND_NAMES = ("excellent", "good")
DEFAULT_BAND_THRESHOLDS = {"excellent": 90.0, "good": 80.0}


def _number(name: str, default: float, low: float, high: float, *, whole: bool = False) -> float:
    """The environment variable `name` as a number in low..high, else RuntimeError naming it."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    kind = "a whole number" if whole else "a number"
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise RuntimeError(f"{name} must be {kind} from {low:g} to {high:g}, not {text!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise RuntimeError(f"{name} must be {kind} from {low:g} to {high:g}, not {text!r}")
    return value


def parse_band_thresholds(text: str, name: str = "LMS_BAND_THRESHOLDS") -> dict[str, float]:
    """`excellent=90,good=75` (or JSON `{"excellent": 90, "good": 75}`) as percentages of the maximum.
    Raises RuntimeError naming `name` unless both are numbers in 0..100 and excellent > good."""
    usage = f'{name} must look like "excellent=90,good=80" (or JSON), with 100 >= excellent > good >= 0'
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError:
            raise RuntimeError(f"{usage}; its JSON cannot be read: {text!r}") from None
        if not isinstance(raw, dict):
            raise RuntimeError(f"{usage}, not {text!r}")
    else:
        raw = {}
        for part in (piece.strip() for piece in re.split(r"[,;]", text)):
            if not part:
                continue
            key, separator, value = part.partition("=") if "=" in part else part.partition(":")
            if not separator:
                raise RuntimeError(f"{usage}, not {text!r}")
            raw[key.strip().lower()] = value.strip()
    unknown = sorted(set(raw) - set(BAND_NAMES))
    missing = [key for key in BAND_NAMES if key not in raw]
    if unknown or missing:
        raise RuntimeError(f"{usage}; missing {', '.join(missing) or 'nothing'}, "
                           f"unknown {', '.join(unknown) or 'nothing'}")
    limits = {}
    for key in BAND_NAMES:
        value = raw[key]
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise RuntimeError(f"{usage}; {key} is not a number: {value!r}") from None
        if not (math.isfinite(number) and 0 <= number <= 100):
            raise RuntimeError(f"{usage}; {key} is outside 0..100: {value!r}")
        limits[key] = number
    if limits["excellent"] <= limits["good"]:
        raise RuntimeError(f"{usage}; excellent ({limits['excellent']:g}) is not above good ({limits['good']:g})")
    return limits


PROXY_FIX_KEYS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def parse_proxy_fix(text: str | None) -> dict[str, int]:
    """LMS_PROXY_FIX "1,1,1" as werkzeug ProxyFix counts {x_for: 1, x_proto: 1, x_host: 1} (up to five
    numbers, in the order x_for, x_proto, x_host, x_port, x_prefix); empty or "0" is {} (trust no proxy).
    Raises RuntimeError naming the setting when it is anything else."""
    text = (text or "").strip()
    if text in ("", "0"):
        return {}
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > len(PROXY_FIX_KEYS) or not all(
            part.isascii() and part.isdigit() and int(part) <= 10 for part in parts):
        raise RuntimeError('LMS_PROXY_FIX must be up to five counts from 0 to 10 (x_for, x_proto, x_host, '
                           f'x_port, x_prefix), like "1,1,1", not {text!r}')
    return dict(zip(PROXY_FIX_KEYS, map(int, parts)))


# The embedded default keeps the login throttle's counters in the app's own database (see
# lms/auth/throttle.py); redis:// or memcached:// suit a deployment that already runs one.
DEFAULT_RATELIMIT_STORAGE = "lmsdb://"
RATELIMIT_SCHEMES = ("lmsdb", "memory", "redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel",
                     "memcached", "mongodb", "mongodb+srv")


def ratelimit_storage_uri(text: str | None, name: str = "LMS_RATELIMIT_STORAGE_URI") -> str:
    """The throttle's storage URI, else RuntimeError naming `name` and the schemes it may use."""
    uri = (text or "").strip() or DEFAULT_RATELIMIT_STORAGE
    scheme, separator, _ = uri.partition("://")
    if not separator or scheme not in RATELIMIT_SCHEMES:
        raise RuntimeError(f"{name} must start with one of {', '.join(s + '://' for s in RATELIMIT_SCHEMES)}, "
                           f"not {uri!r}")
    return uri


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options: a liveness check of pooled connections; for a database server, the
    connection pool of each app process from LMS_DB_POOL_SIZE and LMS_DB_MAX_OVERFLOW (SQLAlchemy's
    5 and 10 when unset). Every gunicorn worker has its own pool, so a database server sees up to
    app servers x workers x (pool size + overflow) connections: README "Several app servers"."""
    options: dict = {"pool_pre_ping": True}
    if not url.startswith("sqlite"):
        if os.environ.get("LMS_DB_POOL_SIZE", "").strip():
            options["pool_size"] = int(_number("LMS_DB_POOL_SIZE", 5, 1, 1000, whole=True))
        if os.environ.get("LMS_DB_MAX_OVERFLOW", "").strip():
            options["max_overflow"] = int(_number("LMS_DB_MAX_OVERFLOW", 10, 0, 1000, whole=True))
    return options


def from_environment(instance: Path) -> dict:
    language = os.environ.get("LMS_DEFAULT_LANGUAGE", "zh_CN").replace("-", "_")
    if language not in LANGUAGES:
        raise RuntimeError(f"LMS_DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("LMS_DATABASE_URL") or default_database_url(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(os.environ.get("LMS_DATABASE_URL") or "sqlite"),
        "BABEL_DEFAULT_LOCALE": language,
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("LMS_TIMEZONE", "Asia/Shanghai"),
        "LMS_COURSES_DIR": os.environ.get("LMS_COURSES_DIR", str(PROJECT_ROOT / "courses")),
        "LMS_BANKS_DIR": os.environ.get("LMS_BANKS_DIR", str(PROJECT_ROOT / "question_banks")),
        # answers arriving this long after an exam's deadline still count (slow networks)
        "LMS_EXAM_GRACE_SECONDS": int(os.environ.get("LMS_EXAM_GRACE_SECONDS", "30")),
        # a refresher course is due this many days before its completion expires
        "LMS_RECERT_LEAD_DAYS": int(_number("LMS_RECERT_LEAD_DAYS", 30, 0, 365, whole=True)),
        # result bands above the pass mark: percent of the maximum (a fail is "needs improvement")
        "LMS_BAND_THRESHOLDS": (parse_band_thresholds(os.environ["LMS_BAND_THRESHOLDS"])
                                if os.environ.get("LMS_BAND_THRESHOLDS", "").strip()
                                else dict(DEFAULT_BAND_THRESHOLDS)),
        # a customer evaluation (monthly satisfaction) passes at this percentage
        "LMS_EVALUATION_PASS_PERCENT": _number("LMS_EVALUATION_PASS_PERCENT", 90.0, 0, 100),
        # the installation's public address: xAPI statement IRIs and certificate verification links
        "LMS_BASE_URL": os.environ.get("LMS_BASE_URL", "http://localhost:5000").rstrip("/"),
        # a login session ends after this long without a request, and this long after login (an
        # exam attempt still open keeps it alive: lms/auth/sessions.py)
        "LMS_SESSION_IDLE_MINUTES": int(_number("LMS_SESSION_IDLE_MINUTES", 60, 5, 1440, whole=True)),
        "LMS_SESSION_MAX_HOURS": int(_number("LMS_SESSION_MAX_HOURS", 8, 1, 168, whole=True)),
        # failed logins before a wait: per employee number, and per client address (raise this one when a
        # whole center reaches the server through one NAT address)
        "LMS_LOGIN_FAILURES_PER_ACCOUNT": int(_number("LMS_LOGIN_FAILURES_PER_ACCOUNT", 5, 3, 100, whole=True)),
        "LMS_LOGIN_FAILURES_PER_ADDRESS": int(_number("LMS_LOGIN_FAILURES_PER_ADDRESS", 30, 5, 100000, whole=True)),
        # where the login throttle counts: shared by every worker and app server (lms/auth/throttle.py)
        "LMS_RATELIMIT_STORAGE_URI": ratelimit_storage_uri(os.environ.get("LMS_RATELIMIT_STORAGE_URI")),
        # background imports: a thread of the web process that took the upload, or `lms jobs work`
        "LMS_JOBS_WORKER": _choice("LMS_JOBS_WORKER", ("thread", "external"), "thread"),
        # files up to this many rows import at once; larger ones as a background job
        "LMS_IMPORT_INLINE_ROWS": int(_number("LMS_IMPORT_INLINE_ROWS", 200, 0, 1_000_000, whole=True)),
        "SESSION_COOKIE_SECURE": os.environ.get("LMS_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("LMS_SECURE_COOKIES", "0") == "1",
        # Strict-Transport-Security max-age on HTTPS responses; 0 sends none (set it once HTTPS works)
        "LMS_HSTS_SECONDS": int(_number("LMS_HSTS_SECONDS", 0, 0, 2 * 365 * 86400, whole=True)),
        # behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (ProxyFix); empty = none
        "LMS_PROXY_FIX": parse_proxy_fix(os.environ.get("LMS_PROXY_FIX", "")),
        # a new hire's star-0 required courses are due this many working days (Mon-Fri) after the hire date
        "LMS_ONBOARDING_WORKING_DAYS": int(_number("LMS_ONBOARDING_WORKING_DAYS", 20, 1, 250, whole=True)),
        # an assignment is "due soon" this many days before its due date (home page, reminders)
        "LMS_DUE_SOON_DAYS": int(_number("LMS_DUE_SOON_DAYS", 3, 0, 60, whole=True)),
        # the training index loses this many points (percentage points) per unexcused absence
        "LMS_KPI_ABSENCE_POINTS": _number("LMS_KPI_ABSENCE_POINTS", 5.0, 0, 100),
        # a classroom check-in code is shown this many seconds before it changes
        "LMS_CHECKIN_CODE_SECONDS": int(_number("LMS_CHECKIN_CODE_SECONDS", 60, 15, 600, whole=True)),
        # notifications also go out by email through this server (smtp://user:pass@host:port, smtps://...);
        # empty: in-app inbox only
        "LMS_SMTP_URL": os.environ.get("LMS_SMTP_URL", "").strip(),
        "LMS_MAIL_FROM": os.environ.get("LMS_MAIL_FROM", "academy@localhost").strip(),
        # queued mail is sent by a thread of the web process that queued it, or only by `lms notify send-mail`
        "LMS_MAIL_WORKER": _choice("LMS_MAIL_WORKER", ("thread", "external"), "thread"),
        "LMS_SMTP_TIMEOUT": _number("LMS_SMTP_TIMEOUT", 20.0, 1, 300),
        # the recognition board (表彰榜) ranks a month's agents by training index or by average score
        "LMS_RECOGNITION_BY": _choice("LMS_RECOGNITION_BY", ("index", "average"), "index"),
        # media in lessons (lms/content/media.py): the largest file of each kind, in MB
        "LMS_MEDIA_MAX_IMAGE_MB": _number("LMS_MEDIA_MAX_IMAGE_MB", 5, 0.1, 100),
        "LMS_MEDIA_MAX_AUDIO_MB": _number("LMS_MEDIA_MAX_AUDIO_MB", 20, 0.1, 500),
        "LMS_MEDIA_MAX_VIDEO_MB": _number("LMS_MEDIA_MAX_VIDEO_MB", 60, 0.1, 2000),
        # each app node's copy of the media it serves (the database holds the files; this is a cache)
        "LMS_MEDIA_CACHE_DIR": os.environ.get("LMS_MEDIA_CACHE_DIR", "").strip() or str(instance / "media-cache"),
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
    "LMS_BAND_THRESHOLDS": dict(DEFAULT_BAND_THRESHOLDS),  # overridden by from_environment
    "LMS_EVALUATION_PASS_PERCENT": 90.0,
    "LMS_HSTS_SECONDS": 0,
    "LMS_PROXY_FIX": {},
    "LMS_ONBOARDING_WORKING_DAYS": 20,
    "LMS_DUE_SOON_DAYS": 3,
    "LMS_KPI_ABSENCE_POINTS": 5.0,
    "LMS_CHECKIN_CODE_SECONDS": 60,
    "LMS_SMTP_URL": "",
    "LMS_MAIL_FROM": "academy@localhost",
    "LMS_MAIL_WORKER": "thread",
    "LMS_SMTP_TIMEOUT": 20.0,
    "LMS_RECOGNITION_BY": "index",
    "LMS_MEDIA_MAX_IMAGE_MB": 5,
    "LMS_MEDIA_MAX_AUDIO_MB": 20,
    "LMS_MEDIA_MAX_VIDEO_MB": 60,
}
