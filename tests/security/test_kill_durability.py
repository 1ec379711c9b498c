"""kill -9 of the production server (gunicorn) while agents save answers: every save the server
acknowledged is in the database afterwards. Short enough for every CI run, on SQLite and PostgreSQL."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.exams import services
from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion
from tests.exam_support import make_bank, make_exam

SAVERS = 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """Just enough of a browser: one cookie jar, one connection per request."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        cookie = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        connection.request(method, path, body=body, headers={**(headers or {}), **({"Cookie": cookie} if cookie else {})})
        response = connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        connection.close()
        return response.status, data


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


@pytest.fixture
def server(app, database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "LMS_DATABASE_URL": database_url, "LMS_SECRET_KEY": "kill-test-secret",
           "LMS_INSTANCE_PATH": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "lms:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gunicorn did not start")
    yield port, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_no_acknowledged_answer_is_lost_when_the_server_is_killed(app, make_user, server):
    port, process = server
    agent = make_user(employee_no="K0001", password="password123")
    exam = make_exam([(make_bank("kill", per_type=12, types=("essay",)), 12)], time_limit_minutes=60)
    attempt = services.start_attempt(agent, exam, utcnow() - timedelta(minutes=1))
    attempt_id = attempt.id
    db.session.commit()

    browser = Browser(port)
    status, page = browser.request("GET", "/login")
    form = f"employee_no=K0001&password=password123&csrf_token={csrf_of(page)}".encode()
    status, _ = browser.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302
    status, page = browser.request("GET", f"/exams/attempts/{attempt_id}")
    assert status == 200
    token = re.search(rb'data-csrf="([^"]+)"', page).group(1).decode()

    acknowledged: dict[int, int] = {}  # slot -> highest seq the server acknowledged
    lock, stop = threading.Lock(), threading.Event()

    def save(slot_offset: int) -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            slot = (seq * SAVERS + slot_offset) % 12
            body = json.dumps({"slot": slot, "response": f"第 {seq} 次作答", "seq": seq}).encode()
            try:
                status, data = browser.request("POST", f"/exams/attempts/{attempt_id}/save", body, {
                    "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json"})
            except (OSError, http.client.HTTPException):
                return  # the server is gone (perhaps in the middle of its answer)
            if status == 200 and json.loads(data).get("saved"):
                with lock:
                    acknowledged[slot] = max(acknowledged.get(slot, 0), json.loads(data)["seq"])

    threads = [threading.Thread(target=save, args=(n,)) for n in range(SAVERS)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGKILL)  # no goodbye: workers die mid-request
    process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)

    assert sum(1 for _ in acknowledged) >= 6, "too few saves got through to prove anything"
    db.session.expire_all()
    stored = dict(db.session.execute(
        select(AttemptQuestion.position, AttemptAnswer.seq)
        .join(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id == attempt_id)).all())
    lost = {slot: (seq, stored.get(slot)) for slot, seq in acknowledged.items() if stored.get(slot, 0) < seq}
    assert lost == {}
