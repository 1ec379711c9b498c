"""The `lms` command's start-up, measured.

Runs the real `lms` command as subprocesses, the way an operator or a cron job does:

  * `lms --help` and `lms banks --help`: the cost of starting at all (no app, no SQLAlchemy);
  * `lms sync --check` on the sample content (no app, no SQLAlchemy either), beside the time its
    parsing alone takes in a warm process, and a bare `python -c pass` as the floor;
  * all from bytecode, as an installed command runs (the script byte-compiles `lms/` first);
  * 50 small generated GIFT files imported as 50 separate `lms banks import FILE` calls, and as one
    `lms banks import FILE...` call with the 50 files (one transaction, one commit).

Each import run starts from the same freshly migrated SQLite database (a copy of one made once
with `lms db upgrade`), in a temporary folder given to the app through LMS_INSTANCE_PATH and
LMS_DATABASE_URL; nothing outside it is touched.

    python benchmarks/cli_startup.py                      # 10 help runs, 3 import runs of 50 files
    python benchmarks/cli_startup.py --runs 5 --files 20 --questions 10
    python benchmarks/cli_startup.py --startup-only         # --help and sync --check only
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lms_command() -> list[str]:
    """The `lms` script installed beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("lms")
    found = str(beside) if beside.exists() else shutil.which("lms")
    if not found:
        sys.exit("no `lms` command: pip install -e . first")
    return [found]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (with few runs, p95 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


CPU_TIMES: dict[tuple[str, ...], list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time and output of one run; its CPU time (user + system) goes to CPU_TIMES, which a busy
    machine disturbs much less than the wall time."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    CPU_TIMES.setdefault(tuple(argv), []).append(_children_cpu() - cpu)
    if result.returncode != 0:
        sys.exit(f"`{' '.join(argv)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed, result.stdout


PARSE_ONLY = """
import time
from lms import config
from lms.clock import utcnow
from lms.content.sync import sync_content
settings = {**config.DEFAULTS, **config.from_environment(config.instance_path())}
sync_content(None, settings, utcnow(), check_only=True)  # imports everything the parsers use
runs = []
for _ in range(%d):
    cpu = time.process_time()
    sync_content(None, settings, utcnow(), check_only=True)
    runs.append(time.process_time() - cpu)
print(" ".join(f"{value:.4f}" for value in runs))
"""


def gift_file(number: int, questions: int) -> str:
    blocks = [f"$CATEGORY: $course$/top/drill-{number:02d}"]
    for index in range(1, questions + 1):
        key = f"d{number:02d}-{index:02d}"
        kind = index % 3
        if kind == 0:
            body = f"Question {index} of drill {number}: is this true?{{T}}"
        elif kind == 1:
            body = f"Question {index} of drill {number}: which one?{{=right ~wrong ~also wrong}}"
        else:
            body = f"Question {index} of drill {number}: how many hours?{{#24:1}}"
        blocks.append(f"// [id:{key}]\n::Q{index}::{body}")
    return "\n\n".join(blocks) + "\n"


def report(name: str, values: list[float], cpu: list[float] | None = None) -> float:
    median = statistics.median(values)
    cpu_text = f"   CPU median {statistics.median(cpu):6.3f} s" if cpu else ""
    print(f"  {name:<44} median {median:7.3f} s   p95 {percentile(values, 0.95):7.3f} s{cpu_text}   ({len(values)} runs)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each import (default 3)")
    parser.add_argument("--help-runs", type=int, default=10, help="runs of each --help (default 10)")
    parser.add_argument("--files", type=int, default=50, help="GIFT files per import run (default 50)")
    parser.add_argument("--questions", type=int, default=6, help="questions per file (default 6)")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up figures, no imports")
    args = parser.parse_args()
    lms = lms_command()

    with tempfile.TemporaryDirectory(prefix="lms-cli-bench-") as folder:
        work = Path(folder)
        template = work / "template.sqlite3"
        env = {**os.environ, "LMS_INSTANCE_PATH": str(work / "instance"), "LMS_SECRET_KEY": "benchmark",
               "LMS_DATABASE_URL": f"sqlite:///{template}"}
        files = []
        for number in range(1, args.files + 1):
            path = work / "files" / f"drill-{number:02d}.gift"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(gift_file(number, args.questions), encoding="utf-8")
            files.append(str(path))

        print(f"lms: {lms[0]}  ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
        # The command as installed runs from bytecode: pip compiles a wheel's modules, and an editable
        # install writes __pycache__ on its first run, unless PYTHONDONTWRITEBYTECODE is set (some
        # containers set it; then every run compiles every module it imports, ~60 ms more here).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "lms")], check=True)
        timed(lms + ["db", "upgrade"], env)  # the process exits, so the WAL is checkpointed into the file

        print("Start-up (wall time; CPU = user + system, steadier on a busy machine)")
        bare = [timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.help_runs)]
        report("python -c pass (the floor)", bare, CPU_TIMES[(sys.executable, "-c", "pass")])
        help_times = [timed(lms + ["--help"], env)[0] for _ in range(args.help_runs)]
        report("lms --help", help_times, CPU_TIMES[tuple(lms + ["--help"])])
        banks_help = [timed(lms + ["banks", "--help"], env)[0] for _ in range(args.help_runs)]
        report("lms banks --help", banks_help, CPU_TIMES[tuple(lms + ["banks", "--help"])])
        check_env = {key: value for key, value in env.items() if key not in ("LMS_COURSES_DIR", "LMS_BANKS_DIR")}
        check = [timed(lms + ["sync", "--check"], check_env)[0] for _ in range(args.help_runs)]
        check_cpu = CPU_TIMES[tuple(lms + ["sync", "--check"])]
        report("lms sync --check (sample content)", check, check_cpu)
        parsed = subprocess.run([sys.executable, "-c", PARSE_ONLY % args.help_runs], env=check_env, cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
        parse = statistics.median(float(value) for value in parsed)
        print(f"  {'of which parsing the content (warm, CPU)':<44} median {parse:7.3f} s   "
              f"({len(parsed)} runs): start-up and imports are the other "
              f"{statistics.median(check_cpu) - parse:.3f} s of CPU")
        if args.startup_only:
            return

        def fresh_database(run: str) -> dict[str, str]:
            database = work / f"{run}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            shutil.copyfile(template, database)
            return {**env, "LMS_DATABASE_URL": f"sqlite:///{database}"}

        print(f"Importing {args.files} GIFT files of {args.questions} questions")
        separate, together = [], []
        for run in range(args.runs):
            run_env = fresh_database(f"separate-{run}")
            started = time.perf_counter()
            for path in files:
                timed(lms + ["banks", "import", path], run_env)
            separate.append(time.perf_counter() - started)

            run_env = fresh_database(f"together-{run}")
            elapsed, output = timed(lms + ["banks", "import", *files], run_env)
            if f"{args.files} files into {args.files} bank(s): {args.files * args.questions} new" not in output:
                sys.exit(f"unexpected output of the single call:\n{output}")
            together.append(elapsed)
        separate_median = report(f"{args.files} separate `lms banks import` calls", separate)
        together_median = report(f"one `lms banks import` call with {args.files} files", together)
        print(f"  ratio (median): {separate_median / together_median:.1f}x faster in one call; "
              f"{separate_median / args.files:.3f} s per separate call")


if __name__ == "__main__":
    main()
