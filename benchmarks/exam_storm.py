"""The synchronized-start storm, measured.

Serves the app with gunicorn exactly as `lms serve` does, on SQLite and on PostgreSQL, seeds
agents and a 30-question exam, and has simulated agents (already logged in) press Start in the same
second, save every answer, and submit. Saves are measured twice: 200 agents answering at a
human pace (latency), then flat out (throughput, the same load as the baseline's). Right after the
storm two lighter logged-in requests are loaded the same way, as floors to read the ratios against:
the heartbeat (session, login user, CSRF, one read) and the exam page of the attempt just started
(the start's answer without its draw and writes). In the same run it serves a bare Flask + SQLAlchemy app
whose one endpoint inserts one row (benchmarks/baseline_app.py), the same way, and loads it the
same way, so our save throughput is reported as a ratio of that baseline; the baseline's request
without its insert is loaded too, and with the floors it gives each ratio's ceiling (`ceilings`).

    pip install -e '.[bench]'
    python benchmarks/exam_storm.py                       # 2000 agents, saves at 200 concurrent
    python benchmarks/exam_storm.py --agents 300 --databases sqlite
    python benchmarks/exam_storm.py --in-process --databases sqlite      # CPU per request, no HTTP
    python benchmarks/exam_storm.py --in-process --profile --agents 300  # and where it goes (cProfile)

Ratios are measured against the baseline in the same run, so they hold on a busy machine better
than the absolute figures: start + page throughput (the storm's starts served per second) over the
baseline's one-row inserts per second, and save throughput over the same baseline.

The load generator runs on the same machine as the server and takes part of its CPU: the figures
are what one small box does with both.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "exam-storm/1.0"
QUESTIONS = 30
SLOT = re.compile(r'data-slot="(\d+)" data-type="(\w+)"')
ANSWERS = {"single": "0", "multi": ["0"], "truefalse": "true", "fill": "光猫", "matching": {"0": "0"},
           "essay": "先道歉，再确认问题。"}


@dataclass
class Agent:
    cookie: str
    csrf: str
    attempt_url: str = ""
    slots: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    first_error: str = ""
    server_cpu: float = 0.0  # CPU seconds of the server's processes (gunicorn master and workers) over the phase
    client_cpu: float = 0.0  # and of this load generator

    def timed(self, server_pid: int):
        """Start the wall clock and both CPU meters; the returned function stops them."""
        began, server0, client0 = time.perf_counter(), cpu_seconds([server_pid]), time.process_time()

        def stop() -> None:
            self.wall = time.perf_counter() - began
            self.server_cpu = cpu_seconds([server_pid]) - server0
            self.client_cpu = time.process_time() - client0
        return stop

    def cpu_ms(self) -> str:
        done = max(1, len(self.latencies))
        return f"CPU per request: server {1000 * self.server_cpu / done:.2f} ms, load generator {1000 * self.client_cpu / done:.2f} ms"

    def fail(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


# --- setting up -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_ready(url: str) -> str | None:
    """Recreate the benchmark database's schema; None when PostgreSQL cannot be reached."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    except Exception as exc:  # noqa: BLE001 (any failure means: skip PostgreSQL, say why)
        database = url.rsplit("/", 1)[-1].split("?")[0]
        print(f"  PostgreSQL not usable at {url} ({type(exc).__name__}); `createdb {database}` and retry")
        return None


def seed(database_url: str, secret: str, agents: int) -> tuple[str, list[Agent]]:
    """Migrate, create agents, a bank and a 30-question exam; forge each agent's logged-in session."""
    from flask import session
    from flask_login import login_user
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from lms import create_app
    from lms.auth.sessions import start as start_session
    from lms.clock import utcnow
    from lms.extensions import db
    from lms.models import Question, QuestionBank, QuestionVersion, User
    from lms.models.exams import Exam, ExamPool

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        bank = QuestionBank(slug="storm", title="压力测试题库")
        db.session.add(bank)
        for n in range(QUESTIONS + 10):
            kind = ("single", "multi", "truefalse", "fill")[n % 4]
            data = {
                "single": {"options": [{"id": f"o{i}", "text": f"选项 {i}", "weight": 1.0 if i == 1 else 0.0}
                                       for i in range(1, 5)]},
                "multi": {"options": [{"id": f"o{i}", "text": f"选项 {i}", "weight": (0.5 if i < 3 else -1.0)}
                                      for i in range(1, 5)]},
                "truefalse": {"answer": True},
                "fill": {"answers": ["光猫", "ONU"]},
            }[kind]
            question = Question(bank=bank, key=f"q-{n:03d}", type=kind, tags=[], version=1)
            question.versions.append(QuestionVersion(number=1, stem=f"第 {n} 题", stem_html=f"<p>第 {n} 题</p>",
                                                     data=data, points=1.0))
            db.session.add(question)
        exam = Exam(slug="storm", title="压力测试考试", time_limit_minutes=120, pass_percent=60,
                    attempts_allowed=0, shuffle_questions=True, shuffle_options=True)
        exam.pools.append(ExamPool(bank=bank, tags=[], count=QUESTIONS, position=0))
        db.session.add(exam)
        users = [User(employee_no=f"S{n:05d}", name=f"压测坐席{n}", team="压测", star_level=1, active=True,
                      password_hash="!") for n in range(agents)]
        for user in users:
            user.roles = {"agent"}
        db.session.add_all(users)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        forged = []
        for user in users:
            # a fresh app context per agent: Flask-WTF and Flask-Login cache the token and user in `g`
            with app.app_context(), app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                          headers={"User-Agent": USER_AGENT}):
                login_user(user)
                start_session(user, utcnow().timestamp())  # what the login view records (lms/auth/sessions.py)
                token = generate_csrf()
                forged.append(Agent(cookie=serializer.dumps(dict(session)), csrf=token))
        db.engine.dispose()
    return "storm", forged


def stored_answers(database_url: str, secret: str) -> int:
    from sqlalchemy import func, select

    from lms import create_app
    from lms.extensions import db
    from lms.models.exams import AttemptAnswer

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret})
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AttemptAnswer)
                                  .where(AttemptAnswer.response.is_not(None), AttemptAnswer.seq >= 1))
        db.engine.dispose()
    return count


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name = text[text.index("(") + 1:text.rindex(")")]
            found.append((int(entry.name), int(text.rsplit(")", 1)[1].split()[1]), name))
    return found


def cpu_seconds(roots: list[int]) -> float:
    """CPU time (user + system) of the given processes and all their descendants."""
    processes = _processes()
    children = defaultdict(list)
    for pid, parent, _name in processes:
        children[parent].append(pid)
    total, stack = 0, list(roots)
    while stack:
        pid = stack.pop()
        total += _ticks(pid)
        stack.extend(children.get(pid, ()))
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU time of every postgres process on the box (the whole cluster: others' databases too)."""
    return sum(_ticks(pid) for pid, _parent, name in _processes() if name.startswith("postgres")) \
        / os.sysconf("SC_CLK_TCK")


class Server:
    """gunicorn in a child process, as `lms serve` runs it."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None:
                    self.log.seek(0)
                    raise RuntimeError(f"server exited: {self.log.read().decode()[-2000:]}")
                time.sleep(0.2)
        time.sleep(1.0)  # let every worker boot

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def server_env(database_url: str, secret: str, instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LMS_DATABASE_URL": database_url, "LMS_SECRET_KEY": secret, "LMS_INSTANCE_PATH": str(instance)})
    return env


# --- the load ---------------------------------------------------------------------------------------

def session_for(agent: Agent) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookies={"session": agent.cookie}, headers={"User-Agent": USER_AGENT},
                                 connector=aiohttp.TCPConnector(limit=1, force_close=False),
                                 timeout=aiohttp.ClientTimeout(total=120))


async def start_storm(base: str, slug: str, agents: list[Agent], server_pid: int) -> Timings:
    """Every agent presses Start at the same instant; latency runs until the exam page has arrived."""
    timings = Timings()
    go = asyncio.Event()

    async def one(agent: Agent) -> None:
        async with session_for(agent) as http:
            await go.wait()
            began = time.perf_counter()
            try:
                # the answer to Start is the exam page itself, naming its address in Content-Location
                async with http.post(f"{base}/exams/{slug}/start", data={"csrf_token": agent.csrf},
                                     allow_redirects=False) as response:
                    page = await response.text()
                    location = response.headers.get("Content-Location", "")
                    if response.status != 200 or "/exams/attempts/" not in location:
                        timings.fail(f"start: HTTP {response.status} -> {response.headers.get('Location', '')}")
                        return
                agent.attempt_url = base + location
                agent.slots = [(int(slot), kind) for slot, kind in SLOT.findall(page)]
                timings.latencies.append(time.perf_counter() - began)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                timings.fail(f"start: {exc!r}")

    tasks = [asyncio.create_task(one(agent)) for agent in agents]
    await asyncio.sleep(0.5)  # every client is connected-ready and waiting
    stop = timings.timed(server_pid)
    go.set()
    await asyncio.gather(*tasks)
    stop()
    return timings


WARM_UP_PER_WORKER = 4


async def warm_up(base: str, slug: str, agents: list[Agent], concurrency: int, server_pid: int) -> Timings:
    """A server that has been up before the exam wave: each gunicorn worker has booted, compiled its
    templates and met the exam's question versions once (a few starts, not counted)."""
    async def one(agent: Agent) -> str | None:
        async with session_for(agent) as http:
            async with http.post(f"{base}/exams/{slug}/start", data={"csrf_token": agent.csrf},
                                 allow_redirects=False) as response:
                await response.read()  # the exam page
                return None if response.status == 200 else f"warm-up start: HTTP {response.status}"

    return await closed_loop(agents, concurrency, one, server_pid)


async def closed_loop(jobs, concurrency: int, call, server_pid: int) -> Timings:
    """Run `call(job)` for every job with `concurrency` clients, each starting its next job at once."""
    timings = Timings()
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            began = time.perf_counter()
            try:
                problem = await call(job)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                problem = repr(exc)
            if problem is None:
                timings.latencies.append(time.perf_counter() - began)
            else:
                timings.fail(problem)

    stop = timings.timed(server_pid)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    stop()
    return timings


@dataclass
class Floors:
    """Two logged-in requests lighter than a start or a save, loaded like the baseline, so the
    ratios can be read against what every request costs here before it does its own work."""

    heartbeat: Timings  # session, login user, CSRF, one read of the attempt, a small JSON answer
    page: Timings  # the exam page of an attempt just started: the start's answer without the draw or a write


async def floors(agents: list[Agent], concurrency: int, server_pid: int) -> Floors:
    """Right after the storm, before any answer: every agent's heartbeat three times, then its exam
    page once, each flat out with `concurrency` clients as the baseline is loaded."""
    sessions = {id(agent): session_for(agent) for agent in agents}

    async def heartbeat(agent: Agent) -> str | None:
        async with sessions[id(agent)].post(f"{agent.attempt_url}/heartbeat",
                                            headers={"X-CSRFToken": agent.csrf}) as response:
            body = await response.read()
            return None if response.status == 200 and b'"open":true' in body.replace(b" ", b"") \
                else f"heartbeat: HTTP {response.status}"

    async def page(agent: Agent) -> str | None:
        async with sessions[id(agent)].get(agent.attempt_url, allow_redirects=False) as response:
            body = await response.text()
            return None if response.status == 200 and SLOT.search(body) else f"page: HTTP {response.status}"

    measured = Floors(heartbeat=await closed_loop(agents * 3, concurrency, heartbeat, server_pid),
                      page=await closed_loop(agents, concurrency, page, server_pid))
    for http in sessions.values():
        await http.close()
    return measured


async def save_and_submit(agents: list[Agent], concurrency: int, think: float, server_pid: int
                          ) -> tuple[Timings, Timings, Timings, int]:
    """The first `concurrency` agents answer one question every `think` seconds, as people do
    (save latency); then every other answer is saved by `concurrency` clients without pause
    (save throughput, loaded the same way as the baseline); then every agent submits."""
    sessions = {id(agent): session_for(agent) for agent in agents}
    acknowledged = 0

    async def save(job) -> str | None:
        nonlocal acknowledged
        agent, slot, kind = job
        async with sessions[id(agent)].post(f"{agent.attempt_url}/save",
                                            json={"slot": slot, "response": ANSWERS[kind], "seq": 1},
                                            headers={"X-CSRFToken": agent.csrf}) as response:
            body = await response.text()
            if response.status == 200 and '"saved":true' in body.replace(" ", ""):
                acknowledged += 1
                return None
            return f"save: HTTP {response.status} {body[:200]}"

    async def submit(agent: Agent) -> str | None:
        async with sessions[id(agent)].post(f"{agent.attempt_url}/submit", data={"csrf_token": agent.csrf},
                                            allow_redirects=False) as response:
            if response.status == 302 and "/result" in response.headers.get("Location", ""):
                return None
            return f"submit: HTTP {response.status} -> {response.headers.get('Location', '')}"

    paced = Timings()

    async def answer_at_pace(agent: Agent) -> None:
        await asyncio.sleep(random.uniform(0, think))  # people do not answer in lockstep
        for slot, kind in agent.slots:
            began = time.perf_counter()
            try:
                problem = await save((agent, slot, kind))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                problem = repr(exc)
            if problem is None:
                paced.latencies.append(time.perf_counter() - began)
            else:
                paced.fail(problem)
            await asyncio.sleep(think)

    began = time.perf_counter()
    await asyncio.gather(*(answer_at_pace(agent) for agent in agents[:concurrency]))
    paced.wall = time.perf_counter() - began
    # one question at a time across the agents, as a room answers: each client holds a different agent,
    # so `concurrency` saves are in flight (the agents' order would queue one agent's 30 answers on its
    # one connection and leave the server a handful of requests at a time, unlike the baseline's load)
    rest = agents[concurrency:]
    jobs = [(agent, *agent.slots[n]) for n in range(max((len(a.slots) for a in rest), default=0))
            for agent in rest if n < len(agent.slots)]
    saves = await closed_loop(jobs, concurrency, save, server_pid)
    submits = await closed_loop(agents, concurrency, submit, server_pid)
    for http in sessions.values():
        await http.close()
    return paced, saves, submits, acknowledged


async def baseline_saves(base: str, count: int, concurrency: int, server_pid: int) -> Timings:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def save(n: int) -> str | None:
            async with http.post(f"{base}/save", json={"slot": n % QUESTIONS, "response": "0", "seq": 1}) as response:
                await response.read()
                return None if response.status == 200 else f"baseline: HTTP {response.status}"

        return await closed_loop(range(count), concurrency, save, server_pid)


async def baseline_bare(base: str, count: int, concurrency: int, server_pid: int) -> Timings:
    """The baseline's request without its insert, loaded the same way."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def call(_n: int) -> str | None:
            async with http.get(f"{base}/bare") as response:
                await response.read()
                return None if response.status == 200 else f"bare: HTTP {response.status}"

        return await closed_loop(range(count), concurrency, call, server_pid)


def ceilings(baseline: Timings, bare: Timings, floor: Floors) -> tuple[float, float]:
    """The highest start and save ratios this stack allows, from the same run's figures (seconds of
    the whole box per request, 1 / throughput): a save is at least a logged-in request (the
    heartbeat) plus the baseline's durable write (its insert and commit: the baseline less its bare
    request); a start at least its exam page plus that write (its draw and its 61 rows are more)."""
    if not (baseline.throughput and bare.throughput and floor.heartbeat.throughput and floor.page.throughput):
        return float("nan"), float("nan")
    insert, write = 1 / baseline.throughput, 1 / baseline.throughput - 1 / bare.throughput
    return (insert / (1 / floor.page.throughput + write), insert / (1 / floor.heartbeat.throughput + write))


# --- the run ----------------------------------------------------------------------------------------

def run(database: str, database_url: str, args) -> None:
    from lms.cli import gunicorn_argv

    print(f"\n== {database}: {args.agents} agents, {QUESTIONS} questions, saves at {args.concurrency} concurrent, "
          f"{args.workers or 'default'} workers")
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as instance:
        argv = gunicorn_argv("127.0.0.1", 0, args.workers)
        workers = int(argv[argv.index("--workers") + 1])
        slug, everyone = seed(database_url, secret, args.agents + WARM_UP_PER_WORKER * workers)
        warm_up_agents, agents = everyone[:-args.agents], everyone[-args.agents:]
        env = server_env(database_url, secret, Path(instance))
        port = free_port()
        server = Server(gunicorn_argv("127.0.0.1", port, args.workers), env, port)
        try:
            warm = asyncio.run(warm_up(server.url, slug, warm_up_agents, workers, server.process.pid))
            print(f"warm-up {len(warm.latencies)} starts + pages by {workers} clients before the storm "
                  f"(every worker booted, its templates compiled), errors {warm.errors}")
            start = asyncio.run(start_storm(server.url, slug, agents, server.process.pid))
            sitting = [agent for agent in agents if agent.slots]
            floor = asyncio.run(floors(sitting, args.concurrency, server.process.pid))
            paced, saves, submits, acknowledged = asyncio.run(save_and_submit(sitting, args.concurrency, args.think,
                                                                               server.process.pid))
        finally:
            server.stop()
        stored = stored_answers(database_url, secret)

        sys.path.insert(0, str(ROOT / "benchmarks"))
        from baseline_app import create_table

        create_table(database_url)
        port = free_port()
        baseline_argv = gunicorn_argv("127.0.0.1", port, args.workers, "baseline_app:create_app()")
        baseline_argv[3:3] = ["--chdir", str(ROOT / "benchmarks")]
        server = Server(baseline_argv, env, port)
        try:
            asyncio.run(baseline_saves(server.url, WARM_UP_PER_WORKER * workers, workers, server.process.pid))  # the same warm-up
            baseline = asyncio.run(baseline_saves(server.url, len(saves.latencies) or 1000, args.concurrency,
                                                    server.process.pid))
            bare = asyncio.run(baseline_bare(server.url, len(floor.heartbeat.latencies) or 1000, args.concurrency,
                                             server.process.pid))
        finally:
            server.stop()

    within = sum(1 for latency in start.latencies if latency <= 5.0)
    print(f"start   {len(start.latencies)}/{args.agents} served, {within} within 5 s, all done in {start.wall:.2f} s "
          f"({start.throughput:.0f} start + page /s); p50 {start.pct(50):.0f} ms  p95 {start.pct(95):.0f} ms  "
          f"p99 {start.pct(99):.0f} ms  errors {start.errors}")
    print(f"        {start.cpu_ms()}")
    for name, timings in (("heartbeat", floor.heartbeat), ("page", floor.page)):
        print(f"{name:9s} {len(timings.latencies)} flat out, {args.concurrency} clients, {timings.throughput:.0f}/s  "
              f"p95 {timings.pct(95):.1f} ms  errors {timings.errors}  ({timings.cpu_ms()})")
    print(f"save    {args.concurrency} agents answering every {args.think:g} s: {len(paced.latencies)} saves, "
          f"p50 {paced.pct(50):.1f} ms  p95 {paced.pct(95):.1f} ms  p99 {paced.pct(99):.1f} ms  errors {paced.errors}")
    print(f"save    flat out, {args.concurrency} clients: {len(saves.latencies)} saves, {saves.throughput:.0f}/s  "
          f"p50 {saves.pct(50):.1f} ms  p95 {saves.pct(95):.1f} ms  errors {saves.errors}")
    print(f"        {saves.cpu_ms()}")
    print(f"submit  {len(submits.latencies)} submits  p50 {submits.pct(50):.0f} ms  p95 {submits.pct(95):.0f} ms  "
          f"errors {submits.errors}")
    lost = max(0, acknowledged - stored)
    print(f"kept    saves acknowledged {acknowledged}, answers stored {stored}, lost {lost}"
          f"{'  (every acknowledged save stored)' if not lost else '  LOST ANSWERS'}")
    print(f"baseline {len(baseline.latencies)} one-row inserts, {baseline.throughput:.0f}/s  "
          f"p95 {baseline.pct(95):.1f} ms  errors {baseline.errors}")
    print(f"        {baseline.cpu_ms()}")
    print(f"bare    {len(bare.latencies)} of the baseline's requests without the insert, {bare.throughput:.0f}/s  "
          f"errors {bare.errors}  ({bare.cpu_ms()})")
    measured = (("start", start), ("paced save", paced), ("save", saves), ("heartbeat", floor.heartbeat),
                ("page", floor.page), ("submit", submits), ("baseline", baseline), ("bare", bare))
    for name, timings in measured:
        if timings.first_error:
            print(f"first {name} error: {timings.first_error[:300]}")
    errors = sum(timings.errors for _name, timings in measured)
    start_ratio = start.throughput / baseline.throughput if baseline.throughput else float("nan")
    ratio = saves.throughput / baseline.throughput if baseline.throughput else float("nan")
    print(f"ratio   start + exam page = {start_ratio:.2f} x the baseline's insert throughput (aim >= 0.5)")
    print(f"ratio   our save throughput = {ratio:.2f} x the baseline's (aim >= 0.8)")
    heartbeat_ratio, page_ratio = (timings.throughput / baseline.throughput if baseline.throughput else float("nan")
                                   for timings in (floor.heartbeat, floor.page))
    print(f"floor   a logged-in request doing almost nothing (heartbeat) = {heartbeat_ratio:.2f} x the baseline; "
          f"the exam page alone (no draw, no write) = {page_ratio:.2f} x")
    start_ceiling, save_ceiling = ceilings(baseline, bare, floor)
    print(f"ceiling the most these floors allow: start + exam page {start_ceiling:.2f} x (the page plus the baseline's "
          f"durable write), save {save_ceiling:.2f} x (a logged-in request plus that write)")
    print(f"summary {database}: {args.agents} starts served in {start.wall:.2f} s, start ratio {start_ratio:.2f} "
          f"(ceiling {start_ceiling:.2f}), save ratio {ratio:.2f} (ceiling {save_ceiling:.2f}), errors {errors}, "
          f"lost answers {lost}")


# --- in process: CPU per request and where it goes --------------------------------------------------

def in_process(database: str, database_url: str, args) -> None:
    """The same requests through Flask's test client, without HTTP or other processes: CPU ms per
    request of the baseline's insert, a trivial logged-in request (the heartbeat: login user, session,
    CSRF, one read), a start (its answer is the exam page), the page again and a save; with --profile, cProfile's top functions."""
    import cProfile
    import pstats

    print(f"\n== {database}, in process: {args.agents} agents, {QUESTIONS} questions")
    secret = secrets.token_hex(32)
    slug, agents = seed(database_url, secret, args.agents)
    from lms import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret})
    sys.path.insert(0, str(ROOT / "benchmarks"))
    os.environ["LMS_DATABASE_URL"] = database_url
    import baseline_app

    baseline_app.create_table(database_url)
    base = baseline_app.create_app().test_client()
    clients = []
    for agent in agents:
        client = app.test_client()
        client.set_cookie("session", agent.cookie)
        client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": USER_AGENT})
        clients.append(client)

    def insert(n):
        assert base.post("/save", json={"slot": n % QUESTIONS, "response": "0", "seq": 1}).status_code == 200

    def start(n):
        response = clients[n].post(f"/exams/{slug}/start", data={"csrf_token": agents[n].csrf})
        assert response.status_code == 200 and SLOT.search(response.get_data(as_text=True)), response.status_code
        agents[n].attempt_url = response.headers["Content-Location"]

    def page(n):
        response = clients[n].get(agents[n].attempt_url)
        assert response.status_code == 200
        agents[n].slots = [(int(slot), kind) for slot, kind in SLOT.findall(response.get_data(as_text=True))]

    def heartbeat(n):
        response = clients[n].post(f"{agents[n].attempt_url}/heartbeat", headers={"X-CSRFToken": agents[n].csrf})
        assert response.status_code == 200

    def save(n, slot=0):
        position, kind = agents[n].slots[slot]
        response = clients[n].post(f"{agents[n].attempt_url}/save", headers={"X-CSRFToken": agents[n].csrf},
                                   json={"slot": position, "response": ANSWERS[kind], "seq": 1 + slot})
        assert response.status_code == 200 and response.get_json()["saved"]

    warm = min(10, len(agents) // 4)
    for n in range(warm):
        insert(n), start(n), page(n), save(n)
    measured = range(warm, len(agents))
    costs = {}
    for name, call in (("baseline insert", insert), ("start (its page)", start), ("exam page again", page),
                       ("trivial (heartbeat)", heartbeat), ("save", save)):
        profile = cProfile.Profile() if args.profile else None
        began_cpu, began = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        for n in measured:
            call(n)
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began
        costs[name] = cpu / len(measured) * 1000
        print(f"{name:22s} {costs[name]:6.2f} ms CPU  {wall / len(measured) * 1000:6.2f} ms wall per request")
        if profile:
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(r"lms/|baseline_app", 12)
            stats.sort_stats("tottime").print_stats(15)  # and the libraries' own share
    unit = costs["baseline insert"]
    print(f"in baseline inserts: start with its page {costs['start (its page)'] / unit:.1f}, "
          f"the page again {costs['exam page again'] / unit:.1f}, save {costs['save'] / unit:.1f}, "
          f"trivial logged-in request {costs['trivial (heartbeat)'] / unit:.1f}")
    from lms.extensions import db

    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200, help="agents saving and submitting at once")
    parser.add_argument("--think", type=float, default=2.0, help="seconds between a paced agent's answers")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default as lms serve)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sqlite-synchronous", default="full",
                        help="SQLite durability modes to run, e.g. full,normal: normal can lose acknowledged answers "
                             "on power loss and is there only to measure what full costs")
    parser.add_argument("--in-process", action="store_true",
                        help="no servers: CPU per request under Flask's test client (start, page, save, baseline)")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile's top functions")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "LMS_BENCH_POSTGRES_URL", "postgresql+psycopg://root@/lms_bench?host=/var/run/postgresql"))
    args = parser.parse_args()
    print(f"exam_storm on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for database in args.databases.split(","):
        if database == "sqlite":
            for mode in args.sqlite_synchronous.split(","):
                os.environ["LMS_SQLITE_SYNCHRONOUS"] = mode  # the servers inherit it
                with tempfile.TemporaryDirectory() as folder:
                    (in_process if args.in_process else run)(
                        f"SQLite (synchronous={mode.upper()})", f"sqlite:///{folder}/storm.sqlite3", args)
        elif database == "postgresql":
            url = postgres_ready(args.postgres_url)
            if url:
                (in_process if args.in_process else run)("PostgreSQL", url, args)
        else:
            parser.error(f"unknown database {database}")


if __name__ == "__main__":
    main()
