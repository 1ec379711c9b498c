"""Screenshots of each demo role's home on a phone (390x844) for the README: docs/screenshots/.

    python scripts/screenshots.py [--out docs/screenshots] [--language zh-CN]

Builds the demo in a temporary SQLite database (the sample curriculum, the demo accounts and their
history, as `lms demo` does), serves it on a free localhost port and photographs the page each demo
account lands on after logging in, in Debian's Chromium (LMS_CHROMIUM to use another).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ACCOUNTS = {"E1001": "new-hire", "E1004": "agent", "M0001": "mentor", "T0001": "trainer", "A0001": "admin"}


def build_demo(database: Path):
    from flask_migrate import upgrade

    from lms import create_app
    from lms.clock import utcnow
    from lms.content.sync import sync_content
    from lms.demo import ensure_demo_accounts
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "LMS_COURSES_DIR": str(ROOT / "courses"),
                      "LMS_BANKS_DIR": str(ROOT / "question_banks"), "SECRET_KEY": "screenshots"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        sync_content(db.session, app.config, utcnow())
        ensure_demo_accounts()
    return app


def photograph(base_url: str, out: Path, language: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from lms.demo import DEMO_PASSWORD

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium"),
                                             args=["--no-sandbox", "--disable-gpu"], headless=True)
        for employee_no, name in ACCOUNTS.items():
            context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale=language)
            page = context.new_page()
            page.goto(f"{base_url}/login")
            page.fill("input[name=employee_no]", employee_no)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(lambda url: "/login" not in url)
            page.wait_for_load_state("networkidle")
            path = out / f"{name}-home-phone.png"
            page.screenshot(path=str(path))
            shots.append(path)
            context.close()
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--language", default="zh-CN")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        app = build_demo(Path(scratch) / "demo.sqlite3")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for path in photograph(f"http://127.0.0.1:{server.server_port}", out, args.language):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
