"""benchmarks/center_day.py, tiny and fast: 20 agents of a seeded center (with the sample content)
served by gunicorn as `lms serve` does, a compressed few minutes of breaks, two small exam waves,
mentors signing practicals and a trainer's reports and bank import. Zero errors, every endpoint of
the day in the report, nothing lost. aiohttp comes with the `test` extra (and `bench`)."""
import json
import os
import subprocess
import sys

import pytest

from lms.config import PROJECT_ROOT

ENDPOINTS = {
    "GET / (home)", "GET /courses/<slug>", "GET lesson", "POST lesson complete",
    "GET /exams/<slug>", "POST exam start", "POST exam save", "POST exam heartbeat",
    "GET exam confirm", "POST exam submit", "GET exam result",
    "GET /mentoring", "GET /practicals/new", "POST practical observe now", "GET /practicals/<id> (observe)",
    "POST practical sign",
    "GET /banks/import", "POST bank upload (preview)", "POST bank import confirm", "GET /banks/<slug>",
}


def test_a_tiny_center_day_runs_clean(tmp_path):
    if os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("the benchmark serves its own SQLite center whatever the tests' database: run once per CI run")
    out = tmp_path / "figures.json"
    env = dict(os.environ, LMS_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("LMS_DATABASE_URL", None)
    argv = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "center_day.py"), "--databases", "sqlite",
            "--agents", "20", "--attempts", "100", "--entries", "500", "--minutes", "4", "--speed", "40",
            "--think-scale", "0.25", "--wave-size", "6", "--mentors", "3", "--workers", "2", "--no-capacity",
            "--cache-dir", "", "--quiet", "--json", str(out)]
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    if "server exited" in done.stderr:
        pytest.skip("gunicorn could not start here")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [figures] = json.loads(out.read_text(encoding="utf-8"))
    endpoints = figures["endpoints"]
    assert ENDPOINTS <= set(endpoints), ENDPOINTS - set(endpoints)
    assert all(endpoints[label]["count"] > 0 for label in ENDPOINTS)
    assert figures["errors"] == 0, {k: v["first_error"] for k, v in endpoints.items() if v["errors"]}
    checks = figures["checks"]
    assert checks["attempts in the waves"] == 12  # 2 waves of 6, double-clicks included
    assert checks["agents with two attempts at one exam"] == 0
    assert checks["saves acknowledged (latest per answer)"] > 0
    assert checks["acknowledged saves not stored"] == 0
    assert checks["answers stored after deadline + grace"] == 0
    assert figures["server_cpu"] > 0
    assert "CPU" not in done.stdout or "ms per request" in done.stdout
    assert "ms per request" in done.stdout and "peak active at once" in done.stdout
