"""Every report's server time on a year of a 3,000-agent center (issue 11: each under 300 ms).

Seeds the center with benchmarks/seed_center.py (3,000 agents, 60 courses, ~200,000 record entries,
50,000 exam attempts; --scale for a quick run) into a temporary SQLite file, or PostgreSQL with
--database-url, or reuses a database seeded before (--reuse). Then, in this process, with Flask's
test client logged in as the admin (A0001), a trainer (T0001) and a mentor (M0001):

  * pages: every GET route under /reports, /kpi, /plans, /audit, /surveys/results and /mentoring
    found in app.url_map when it runs, without URL parameters, and with parameters filled from the
    data (a team, an exam, a course, a plan, a cohort, a mentor, a mentee, a session; csv and xlsx
    for export routes); forms (/new, /edit, /import, templates) are left out. /mentoring is
    opened as the mentor, the no-parameter /reports pages also as the trainer, the rest as the admin;
  * builders: each report registered in lms.reports.tables.REPORTS, called as the services are, and
    each of its tables exported as CSV and as XLSX (lms.reports.exports.export_table).

Each is run once to warm up, then --runs times (exports --export-runs times); printed: p50 and p95 server time (the test client's
round trip in process: routing, the view, the SQL, the template), SQL statements per run (a
before_cursor_execute listener), response size, and a flag when the p50 is over 300 ms.
A page answering 404 or an error is listed with a note and not counted.

    python benchmarks/reports.py                            # 3,000 agents on SQLite, 5 runs each
    python benchmarks/reports.py --scale 0.1 --runs 3      # 300 agents, quick
    python benchmarks/reports.py --scale 0.1 --keep        # keep the seeded file, then:
    python benchmarks/reports.py --reuse /tmp/lms-reports-bench-xxx/center.sqlite3
    python benchmarks/reports.py --database-url postgresql+psycopg://root@/lms_bench?host=/var/run/postgresql
    python benchmarks/reports.py --only /reports/exams      # only what contains this text
"""
from __future__ import annotations

import argparse
import importlib
import itertools
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PREFIXES = ("/reports", "/kpi", "/plans", "/audit", "/surveys/results", "/mentoring")
FORMS = re.compile(r"/(new|edit|import)$|template")  # pages that are forms, not reports
REPORT_MODULES = ("programme", "items", "mentors", "recognition", "audit")
LIMIT_MS = 300.0
EXTRA_QUERIES = {  # a few filtered variants, used when their route exists
    "/reports": ["team={team}", "level=2", "period={year}"],
    "/reports/agents": ["metric=agents", "metric=overdue", "metric=exams_failed&team={team}"],
    "/reports/teams": ["sort=pass_rate&dir=desc"],
    "/audit": ["kind=practical"],
}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (with few runs, p95 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Result:
    label: str
    who: str
    kind: str  # page, export, builder, table export
    times: list[float] = field(default_factory=list)  # ms
    queries: int = 0
    size: int = 0
    status: str = "ok"
    note: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95) if self.times else float("nan")

    @property
    def measured(self) -> bool:
        return self.status == "ok" and bool(self.times)


@dataclass
class Context:
    """Values from the seeded data that fill URL parameters."""

    team: str
    exam: str
    course: str
    plan_id: int
    cohort_id: int
    course_id: int
    session_id: int
    mentor_id: int
    mentee_id: int
    trainer_id: int
    year: str


class QueryCounter:
    def __init__(self, engine):
        import sqlalchemy as sa

        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, *args):
        self.count += 1


def load_context() -> Context:
    import sqlalchemy as sa

    from lms.clock import utcnow
    from lms.extensions import db
    from lms.models import Course, Exam, ExamAttempt, User
    from lms.models.classroom import ClassSession
    from lms.models.plans import Cohort, TrainingPlan

    def one(statement, default=0):
        value = db.session.scalar(statement)
        return default if value is None else value

    mentor_id = one(sa.select(User.id).where(User.employee_no == "M0001"))
    busiest = one(sa.select(Exam.slug).join(ExamAttempt, ExamAttempt.exam_id == Exam.id)
                  .group_by(Exam.slug).order_by(sa.func.count().desc()).limit(1), "")
    return Context(
        team=one(sa.select(User.team).where(User.id == mentor_id), ""),
        exam=busiest,
        course=one(sa.select(Course.slug).join(Exam, Exam.course_id == Course.id).order_by(Course.id).limit(1), ""),
        plan_id=one(sa.select(sa.func.min(TrainingPlan.id))),
        cohort_id=one(sa.select(sa.func.max(Cohort.id))),
        course_id=one(sa.select(sa.func.min(Course.id))),
        session_id=one(sa.select(sa.func.max(ClassSession.id))),
        mentor_id=mentor_id,
        mentee_id=one(sa.select(sa.func.min(User.id)).where(User.mentor_id == mentor_id)),
        trainer_id=one(sa.select(User.id).where(User.employee_no == "T0001")),
        year=str(utcnow().year),
    )


def _options(rule: str, argument: str) -> list[str] | None:
    """The values of an any(...) converter for `argument`, else None."""
    found = re.search(r"<any\(([^)]*)\):" + re.escape(argument) + ">", rule)
    return [value.strip() for value in found.group(1).split(",")] if found else None


def fill(rule: str, arguments: set[str], ctx: Context) -> list[tuple[dict, str]] | None:
    """[(URL values, extra query string)] for a rule's parameters; None when one cannot be filled."""
    choices: dict[str, list] = {}
    for argument in sorted(arguments):
        options = _options(rule, argument)
        if argument in ("fmt", "format"):
            choices[argument] = options or ["csv", "xlsx"]
        elif argument == "name" and options:
            choices[argument] = options
        elif argument == "team":
            choices[argument] = [ctx.team]
        elif argument == "slug":
            choices[argument] = [ctx.exam if "/exams" in rule else ctx.course]
        elif argument == "user_id":
            choices[argument] = [ctx.mentee_id if "mentee" in rule else ctx.trainer_id if "instructor" in rule
                                 else ctx.mentor_id]
        elif argument in ("plan_id", "cohort_id", "course_id", "session_id", "mentor_id"):
            choices[argument] = [getattr(ctx, argument)]
        else:
            return None
    filled = []
    for combination in itertools.product(*choices.values()):
        values = dict(zip(choices, combination))
        query = {"team": f"team={quote(ctx.team)}", "course": f"course={ctx.course}"}.get(values.get("name"), "")
        filled.append((values, query))
    return filled


def discover(app, ctx: Context, only: str | None) -> tuple[list[tuple[str, str, str]], list[str]]:
    """[(url, who, kind)] to time, and notes on the routes left out."""
    cases, notes = [], []
    rules = sorted((rule for rule in app.url_map.iter_rules()
                    if "GET" in rule.methods and rule.rule.startswith(PREFIXES)), key=lambda rule: rule.rule)
    for rule in rules:
        if FORMS.search(rule.rule):
            continue
        who = "mentor" if rule.rule.startswith("/mentoring") else "admin"
        filled = fill(rule.rule, set(rule.arguments), ctx) if rule.arguments else [({}, "")]
        if filled is None:
            notes.append(f"{rule.rule}: parameters {sorted(rule.arguments)} not known to the benchmark")
            continue
        for values, query in filled:
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            kind = "export" if values.get("fmt") or re.search(r"\.(csv|xlsx)$", url) else "page"
            queries = [query] if query else [""]
            if not rule.arguments:
                queries += [extra.format(**vars(ctx)) for extra in EXTRA_QUERIES.get(rule.rule.rstrip("/"), [])]
            for extra in queries:
                full = f"{url}?{extra}" if extra else url
                cases.append((full, who, kind))
                if who == "admin" and not rule.arguments and rule.rule.startswith("/reports") and not extra:
                    cases.append((full, "trainer", kind))
    if only:
        cases = [case for case in cases if only in case[0]]
    return cases, notes


def time_pages(app, cases, clients, counter: QueryCounter, runs: int, export_runs: int) -> list[Result]:
    results = []
    for url, who, kind in cases:
        result = Result(url, who, kind)
        client = clients[who]
        try:
            response = client.get(url)  # warm-up
            if response.status_code != 200:
                result.status = str(response.status_code)
                result.note = response.headers.get("Location", "") if response.status_code in (301, 302) else ""
                results.append(result)
                print(f"  {url} as {who}: {response.status_code} {result.note}")
                continue
            for _ in range(export_runs if kind == "export" else runs):
                counter.count = 0
                started = time.perf_counter()
                response = client.get(url)
                result.times.append((time.perf_counter() - started) * 1000)
                result.queries = counter.count
                result.size = len(response.get_data())
        except Exception as exc:  # noqa: BLE001 (a report still being written: note it, go on)
            result.status, result.note = "error", f"{type(exc).__name__}: {exc}"[:120]
            print(f"  {url} as {who}: {result.note}")
            traceback.print_exc(limit=-3)
        results.append(result)
        _progress(result)
    return results


def time_builders(app, admin_id: int, ctx: Context, counter: QueryCounter, runs: int,
                  export_runs: int) -> list[Result]:
    from lms.clock import utcnow
    from lms.extensions import db
    from lms.models import User
    from lms.reports.exports import export_table
    from lms.reports.period import default_period
    from lms.reports.tables import REPORTS, Filters

    for module in REPORT_MODULES:
        try:
            importlib.import_module(f"lms.reports.{module}")
        except ImportError as exc:
            print(f"  lms.reports.{module} not importable ({exc}): its builders are not timed")
    results = []
    for name, builder in sorted(REPORTS.items()):
        now = utcnow()
        filters = Filters(team=ctx.team) if name == "team" else Filters(course_slug=ctx.course) \
            if name == "course" else Filters()
        variants = [({}, name)]
        if name == "exam-items":
            variants = [({}, f"{name} (all exams)"), ({"exam": ctx.exam}, f"{name} ({ctx.exam})")]
        for extra, label in variants:
            result = Result(label, "admin", "builder")
            tables = []
            with app.test_request_context():
                viewer = db.session.get(User, admin_id)
                try:
                    for run in range(runs + 1):
                        counter.count = 0
                        started = time.perf_counter()
                        tables = builder(viewer, default_period(now), filters, now, **extra)
                        if run:
                            result.times.append((time.perf_counter() - started) * 1000)
                        result.queries = counter.count
                    result.size = sum(len(table.rows) for table in tables)
                    result.note = f"{len(tables)} tables, {result.size} rows"
                except Exception as exc:  # noqa: BLE001
                    result.status, result.note = "error", f"{type(exc).__name__}: {exc}"[:120]
                    print(f"  builder {label}: {result.note}")
                results.append(result)
                _progress(result)
                for fmt in ("csv", "xlsx"):
                    if not tables:
                        break
                    exported = Result(f"{label} -> {fmt}", "admin", "table export")
                    for _ in range(export_runs):  # pure Python on rows in memory: no warm-up
                        started = time.perf_counter()
                        size = sum(len(export_table(table, fmt)[0]) for table in tables)
                        exported.times.append((time.perf_counter() - started) * 1000)
                    exported.size, exported.note = size, f"all {len(tables)} tables"
                    results.append(exported)
                    _progress(exported)
            db.session.remove()
    return results


def _progress(result: Result) -> None:
    if result.measured:
        flag = "  > 300 ms" if result.p50 > LIMIT_MS else ""
        print(f"  {result.p50:8.1f} ms  {result.queries:4d} q  {result.label} [{result.who}]{flag}", flush=True)


def print_table(results: list[Result]) -> None:
    width = min(70, max(len(result.label) for result in results))
    print(f"\n{'report':<{width}} {'as':<7} {'kind':<12} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5} {'size':>9}")
    for result in results:
        if result.measured:
            flag = "  OVER 300 ms" if result.p50 > LIMIT_MS else ("  (p95 over)" if result.p95 > LIMIT_MS else "")
            print(f"{result.label[:width]:<{width}} {result.who:<7} {result.kind:<12} {result.p50:8.1f} "
                  f"{result.p95:8.1f} {result.queries:5d} {_size(result):>9}{flag}")
        else:
            print(f"{result.label[:width]:<{width}} {result.who:<7} {result.kind:<12} "
                  f"{'—':>8} {'—':>8} {'':>5} {'':>9}  {result.status} {result.note}")


def _size(result: Result) -> str:
    if result.kind == "builder":
        return f"{result.size} r"
    return f"{result.size / 1024:.1f} kB"


def summary(results: list[Result], label: str) -> str:
    measured = [result for result in results if result.measured]
    under = [result for result in measured if result.p50 <= LIMIT_MS]
    skipped = len(results) - len(measured)
    slowest = max(measured, key=lambda result: result.p50, default=None)
    text = f"{label}: {len(under)} of {len(measured)} under {LIMIT_MS:.0f} ms (p50)"
    if slowest:
        text += f"; slowest {slowest.label} [{slowest.who}] {slowest.p50:.0f} ms"
    if skipped:
        text += f"; {skipped} not measured (404/403/error)"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=3000, help="agents to seed (default 3000)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the center to seed (e.g. 0.1)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each report after a warm-up (default 5)")
    parser.add_argument("--export-runs", type=int, default=1,
                        help="timed runs of each CSV/XLSX export (default 1; the warm-up run is the page's)")
    parser.add_argument("--database-url", help="seed into this database (postgresql+psycopg://...); "
                                               "default a temporary SQLite file")
    parser.add_argument("--reuse", metavar="PATH_OR_URL", help="a database seeded before: time only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file for --reuse")
    parser.add_argument("--only", help="time only the URLs / builders containing this text")
    parser.add_argument("--no-builders", action="store_true", help="pages only")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="lms-reports-bench-"))
    os.environ["LMS_INSTANCE_PATH"] = str(folder / "instance")
    os.environ.setdefault("LMS_SECRET_KEY", "benchmark")
    if args.reuse:
        url = args.reuse if "://" in args.reuse else f"sqlite:///{Path(args.reuse).resolve()}"
    else:
        url = args.database_url or f"sqlite:///{folder / 'center.sqlite3'}"
    os.environ["LMS_DATABASE_URL"] = url
    try:
        run(args, url)
    finally:
        if args.keep and not args.database_url and not args.reuse:
            print(f"kept: {folder / 'center.sqlite3'}  (--reuse it)")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(args, url: str) -> None:
    import seed_center

    print(f"database: {url.split('?')[0]}  ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    if not args.reuse:
        print(f"Seeding {round(args.agents * args.scale):,} agents")
        center = seed_center.seed(url, agents=args.agents, scale=args.scale)
        print(f"  seeded in {center.seconds:.1f} s")
        seed_center.print_counts(center)

    from lms import create_app
    from lms.extensions import db
    from lms.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False,
                      "PASSWORD_HASH_METHOD": seed_center.HASH_METHOD, "PROPAGATE_EXCEPTIONS": True})
    with app.app_context():
        import sqlalchemy as sa

        counts = dict(db.session.execute(sa.text(
            "SELECT kind, COUNT(*) FROM record_entries GROUP BY kind")).all())
        agents = db.session.scalar(sa.text("SELECT COUNT(*) FROM users"))
        attempts = db.session.scalar(sa.text("SELECT COUNT(*) FROM exam_attempts"))
        print(f"data: {agents:,} users, {attempts:,} exam attempts, {sum(counts.values()):,} record entries "
              f"({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))})")
        ctx = load_context()
        admin_id = db.session.scalar(sa.select(User.id).where(User.employee_no == "A0001"))
        counter = QueryCounter(db.engine)
        db.session.remove()
    # Requests run outside any app context of ours: each pushes its own, so `g` (the logged-in
    # user Flask-Login caches there) and the scoped session end with the request, as in production.
    clients = {}
    for who, number in (("admin", "A0001"), ("trainer", "T0001"), ("mentor", "M0001")):
        client = app.test_client()
        response = client.post("/login", data={"employee_no": number, "password": seed_center.PASSWORD})
        if response.status_code != 302:
            sys.exit(f"could not log in as {number}: {response.status_code}")
        clients[who] = client
    cases, notes = discover(app, ctx, args.only)
    print(f"\nPages ({len(cases)} URLs, {args.runs} runs each after a warm-up; exports {args.export_runs} run(s))")
    for note in notes:
        print(f"  skipped {note}")
    pages = time_pages(app, cases, clients, counter, args.runs, args.export_runs)
    builders = []
    if not args.no_builders:
        print(f"\nReport builders ({args.runs} runs each after a warm-up) and their exports ({args.export_runs} run(s))")
        with app.app_context():
            builders = time_builders(app, admin_id, ctx, counter, args.runs, args.export_runs)
        if args.only:
            builders = [result for result in builders if args.only in result.label]
    print_table(pages + builders)
    print()
    print(summary([result for result in pages if result.kind == "page"], "pages"))
    print(summary([result for result in pages if result.kind == "export"], "exports (HTTP)"))
    if builders:
        print(summary([result for result in builders if result.kind == "builder"], "builders"))
        print(summary([result for result in builders if result.kind == "table export"], "builder exports"))


if __name__ == "__main__":
    main()
