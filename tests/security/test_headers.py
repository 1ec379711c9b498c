"""Security headers on every kind of response (page, login, 404, 403, 500, JSON, download, static
file, redirect), HSTS and ProxyFix by setting, no inline script or style in any template, and the
Server header of gunicorn as `lms serve` runs it."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from lms import config, create_app
from lms.config import PROJECT_ROOT
from lms.security import CONTENT_SECURITY_POLICY
from lms.extensions import db
from lms.models import ExamAttempt
from tests.exam_support import answers_for, make_bank, make_exam, right_raw, started_attempt_id

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_secured(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{name} on {response.status_code} {response.mimetype}"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP, HSTS off by default


def test_the_policy_is_strict():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "*" not in CONTENT_SECURITY_POLICY


def test_a_page_with_progress_bars(catalog, client, make_user, login_as):
    login_as(make_user())
    response = client.get("/")
    assert response.status_code == 200 and '<progress class="progress"' in response.get_data(as_text=True)
    assert_secured(response)


def test_the_login_page_and_a_redirect_to_it(client):
    login = client.get("/login")
    assert login.status_code == 200
    assert_secured(login)
    redirect = client.get("/")
    assert redirect.status_code == 302 and redirect.location.startswith("/login")
    assert_secured(redirect)


def test_not_found_and_forbidden(client, make_user, login_as):
    login_as(make_user())
    missing = client.get("/no/such/page")
    forbidden = client.get("/admin/users")
    assert (missing.status_code, forbidden.status_code) == (404, 403)
    assert_secured(missing)
    assert_secured(forbidden)


def test_a_server_error(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # TESTING re-raises; production answers the 500 page

    @app.get("/__boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/__boom")
    assert response.status_code == 500 and "<html" in response.get_data(as_text=True)
    assert_secured(response)


def test_the_exam_save_json(client, make_user, login_as):
    login_as(make_user())
    exam = make_exam([(make_bank("kb", per_type=1, types=("single",)), 1)])
    started = client.post(f"/exams/{exam.slug}/start")
    attempt = db.session.get(ExamAttempt, started_attempt_id(started))
    slot, raw = next(iter(answers_for(attempt, right_raw).items()))
    response = client.post(f"/exams/attempts/{attempt.id}/save", json={"slot": slot, "response": raw, "seq": 1})
    assert response.status_code == 200 and response.is_json
    assert_secured(response)


def test_a_download_and_a_static_file(client, make_user, login_as):
    login_as(make_user(roles=("admin",)))
    download = client.get("/admin/users/import/template.csv")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert_secured(download)
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and static.mimetype == "text/css"
    assert_secured(static)
    static.close()


# --- HTTPS: HSTS, proxies, cookies ----------------------------------------------------------------

@pytest.fixture
def https_app(database_url):
    def make(**settings):
        from tests.conftest import TEST_CONFIG

        return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **settings})

    return make


def test_hsts_only_over_https_and_only_when_set(https_app):
    on = https_app(LMS_HSTS_SECONDS=31536000).test_client()
    assert on.get("/login", base_url="https://lms.example").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in on.get("/login").headers
    off = https_app().test_client()
    assert "Strict-Transport-Security" not in off.get("/login", base_url="https://lms.example").headers


def test_forwarded_headers_count_only_with_proxy_fix(https_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "lms.example"}
    trusting = https_app(LMS_HSTS_SECONDS=600, LMS_PROXY_FIX="1,1,1")
    seen = {}

    @trusting.get("/__where")
    def where():
        from flask import request

        seen.update(addr=request.remote_addr, host=request.host, secure=request.is_secure)
        return "ok"

    response = trusting.test_client().get("/__where", headers=forwarded)
    assert response.headers["Strict-Transport-Security"] == "max-age=600"
    assert seen == {"addr": "203.0.113.9", "host": "lms.example", "secure": True}
    # without the setting a client cannot claim HTTPS (or another address) by sending the headers
    plain = https_app(LMS_HSTS_SECONDS=600).test_client().get("/login", headers=forwarded)
    assert "Strict-Transport-Security" not in plain.headers


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_HSTS_SECONDS", "31536000")
    monkeypatch.setenv("LMS_PROXY_FIX", "1,1,1")
    monkeypatch.setenv("LMS_SECURE_COOKIES", "1")
    settings = config.from_environment(tmp_path)
    assert settings["LMS_HSTS_SECONDS"] == 31536000
    assert settings["LMS_PROXY_FIX"] == {"x_for": 1, "x_proto": 1, "x_host": 1}
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    for env, bad in (("LMS_PROXY_FIX", "yes"), ("LMS_PROXY_FIX", "1,1,1,1,1,1"), ("LMS_HSTS_SECONDS", "-1")):
        monkeypatch.setenv(env, bad)
        with pytest.raises(RuntimeError, match=env):
            config.from_environment(tmp_path)
        monkeypatch.delenv(env)
    assert config.from_environment(tmp_path)["LMS_PROXY_FIX"] == {}
    assert config.from_environment(tmp_path)["LMS_HSTS_SECONDS"] == 0


def test_secure_cookies_over_https(https_app, app, make_user):
    user = make_user()
    client = https_app(SESSION_COOKIE_SECURE=True).test_client()
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"},
                           base_url="https://lms.example")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies)


# --- templates ------------------------------------------------------------------------------------

INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def inline_code(text: str) -> list[str]:
    return [f"line {text.count(chr(10), 0, match.start()) + 1}: {what}"
            for pattern, what in INLINE for match in pattern.finditer(text)]


def test_the_scan_finds_what_the_policy_blocks():
    found = inline_code('<p style="x"></p><script>alert(1)</script><a onclick="x()"></a>'
                        '<style>p{}</style><a href="javascript:x()">')
    assert len(found) == 5
    assert not inline_code('<script src="/static/js/exam.js" defer></script>'
                           '<script type="application/json" id="data">{}</script><option value="x">')


def test_no_template_holds_inline_script_style_or_handler():
    problems = {str(path.relative_to(PROJECT_ROOT)): found
                for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
                if (found := inline_code(path.read_text(encoding="utf-8")))}
    assert problems == {}


def test_static_scripts_do_not_need_unsafe_eval():
    for path in (PROJECT_ROOT / "static" / "js").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setAttribute\(\s*[\"']style|\.innerHTML\s*=.*<script",
                             text), path.name


# --- gunicorn, as `lms serve` runs it ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_sends_the_headers_and_no_server_version(tmp_path):
    from lms.cli import gunicorn_argv

    port = free_port()
    env = {**os.environ, "LMS_INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "x" * 32,
           "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'lms.sqlite3'}"}
    server = subprocess.Popen(gunicorn_argv("127.0.0.1", port, 1), env=env, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css", timeout=5) as response:
                    headers = response.headers
                break
            except (urllib.error.URLError, OSError):  # not listening yet, or still booting on a busy machine
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    # gunicorn has no setting for this header; it names itself without a version
    assert re.fullmatch(r"[A-Za-z]+", headers.get("Server", "")), headers.get("Server")
