"""benchmarks/exam_storm.py, tiny and fast: 20 agents start, save and submit against gunicorn on
SQLite, the floors and the baseline are served the same way, and the summary holds its figures.
The ceiling model is checked on its own with figures worked out by hand."""
import os
import re
import subprocess
import sys

import pytest

from lms.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import exam_storm  # noqa: E402


def timings(per_second: float, count: int = 100) -> exam_storm.Timings:
    measured = exam_storm.Timings(latencies=[0.01] * count)
    measured.wall = count / per_second
    return measured


def test_the_ceilings_add_the_baselines_write_to_the_floors():
    # the baseline: 1 ms of the box per insert, 0.5 ms without it -> its durable write is 0.5 ms
    # heartbeat 1.25 ms + 0.5 = 1.75 -> save at most 1 / 1.75; page 2.5 ms + 0.5 = 3 -> start at most 1 / 3
    floors = exam_storm.Floors(heartbeat=timings(800), page=timings(400))
    start, save = exam_storm.ceilings(timings(1000), timings(2000), floors)
    assert start == pytest.approx(1 / 3)
    assert save == pytest.approx(1 / 1.75)


def test_no_ceiling_without_figures():
    floors = exam_storm.Floors(heartbeat=timings(800), page=exam_storm.Timings())
    start, save = exam_storm.ceilings(timings(1000), timings(2000), floors)
    assert start != start and save != save  # NaN: a phase that served nothing gives no bound


def test_a_tiny_storm_runs_clean(tmp_path):
    if os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("the storm serves its own SQLite database whatever the tests' database: run once per CI run")
    env = dict(os.environ, LMS_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("LMS_DATABASE_URL", None)
    argv = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "exam_storm.py"), "--agents", "20",
            "--databases", "sqlite", "--concurrency", "5", "--think", "0.01", "--workers", "2"]
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    if "server exited" in done.stderr:
        pytest.skip("gunicorn could not start here")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = re.search(r"summary SQLite \(synchronous=FULL\): 20 starts served in [\d.]+ s, start ratio ([\d.]+) "
                        r"\(ceiling ([\d.]+)\), save ratio ([\d.]+) \(ceiling ([\d.]+)\), errors (\d+), "
                        r"lost answers (\d+)", done.stdout)
    assert summary, done.stdout[-3000:]
    start, start_ceiling, save, save_ceiling, errors, lost = summary.groups()
    assert (int(errors), int(lost)) == (0, 0)
    assert all(0 < float(figure) < 5 for figure in (start, start_ceiling, save, save_ceiling))
    assert "kept    saves acknowledged 600, answers stored 600, lost 0" in done.stdout
    for phase in ("heartbeat 60 flat out", "page      20 flat out", "bare    60 of the baseline's requests"):
        assert phase in done.stdout, phase
