"""A day at a center: a 3,000-agent call center's mixed hour, replayed against the real server.

Seeds (or restores from a cache) a center with a year of history (benchmarks/seed_center.py: 3,000
agents, ~200,000 record entries, 50,000 attempts) beside the sample content (`lms sync`: the
24-course ladder, its banks, exams and scenarios), serves it with gunicorn exactly as `lms serve`
does, and replays an hour with human think times, compressed by --speed:

  * agents reading in their breaks: home, a course, one to three lessons (reading 1.5-4 minutes
    each), "mark complete" after each, sometimes their record;
  * two exam waves of --wave-size agents pressing Start in the same instant (one in ten
    double-clicks): exam page, start, the exam, one save per answer at 15-60 s a question (some
    answers changed), a heartbeat, the confirm page, submit, the result;
  * mentors observing and signing practicals: mentoring home, the new-practical form, "observe
    now", the observation page for 5-10 minutes, sign with the rubric, the signed result;
  * trainers opening reports (a team, an exam's item analysis, an agent's record, mentors) and one
    importing a question bank (upload, preview, confirm).

Then (unless --no-capacity) it steps the number of agents reading at a human pace (a request every
--capacity-think seconds on average) up until p95 over 300 ms, and reports the last level that held.

It prints per endpoint p50/p95/p99, count and errors, server CPU per request (gunicorn master and
workers from /proc, and PostgreSQL's processes), the peak of users active at once, and the
correctness figures: attempts per agent and exam (a double-click must not make two), acknowledged
saves against stored answers, answers stored after their attempt's deadline + grace, errors.
--nodes 2 (PostgreSQL) runs two app servers on different ports against one database and sends each
REQUEST to the next server in turn, so nothing may tie a user to a node.

    pip install -e '.[bench]'
    python benchmarks/center_day.py                                   # SQLite and PostgreSQL, 3,000 agents
    python benchmarks/center_day.py --databases postgresql --nodes 2
    python benchmarks/center_day.py --scale 0.1 --minutes 20 --speed 10 --no-capacity   # a quick look

The seeded database is cached (--cache-dir, default $TMPDIR/lms-center-cache: the SQLite file or a
pg_dump, keyed by size, seed, migrations and content) and every run works on a fresh copy of it.
The load generator runs on the same machine and takes part of its CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
for _path in (ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from exam_storm import Server, cpu_seconds, free_port, postgres_cpu  # noqa: E402  (benchmarks/ is not a package)

USER_AGENT = "center-day/1.0"
PAGE_AIM_MS = 300.0
SAVE_AIM_MS = 50.0
WAVE_EXAMS = ("company-culture-final", "emotion-management-final")  # open to all / to 1 star and up
WAVE_AT = (0.15, 0.55)  # fractions of the hour
DOUBLE_CLICK = 0.1
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
PG_DEFAULT = "postgresql+psycopg://root@/lms_bench?host=/var/run/postgresql"


# --- measuring ----------------------------------------------------------------------------------

@dataclass
class Stat:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


@dataclass
class Report:
    """What one replay measured; `stats` by endpoint label ("GET /courses/<slug>")."""

    database: str
    nodes: int
    stats: dict[str, Stat] = field(default_factory=lambda: defaultdict(Stat))
    wall: float = 0.0
    peak_users: int = 0
    server_cpu: float = 0.0
    db_cpu: float | None = None
    checks: dict[str, int] = field(default_factory=dict)
    capacity: list[tuple[int, float, float, int, int]] = field(default_factory=list)  # users, rps, p95, n, errors
    held: int = 0

    @property
    def requests(self) -> int:
        return sum(len(s.latencies) + s.errors for s in self.stats.values())

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.stats.values())


# --- pages --------------------------------------------------------------------------------------

class Forms(HTMLParser):
    """Every <form>: its action and the values a person would send (hidden values, a choice per
    radio group: the highest numeric value when there is one, the first select option, empty text)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": {}, "radios": defaultdict(list)}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                self._form["radios"][a["name"]].append(a.get("value", ""))
            elif kind == "checkbox":
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "y")
            elif kind not in ("submit", "button", "file"):
                self._form["fields"].setdefault(a["name"], a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._form["fields"].setdefault(a["name"], "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and a.get("value"):
            self._form["fields"].setdefault(self._select, a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def form(self, action_part: str) -> dict | None:
        for form in self.forms:
            if action_part in unescape(form["action"]):
                fields = dict(form["fields"])
                for name, values in form["radios"].items():
                    numeric = [v for v in values if v.lstrip("-").isdigit()]
                    fields[name] = max(numeric, key=int) if numeric else values[0]
                return fields
        return None


def parse_form(html: str, action_part: str) -> dict | None:
    parser = Forms()
    parser.feed(html)
    return parser.form(action_part)


def exam_questions(page: str) -> list[tuple[int, str, str]]:
    """(slot, type, its HTML) of every question of an exam sheet: each element carrying both
    data-slot and data-type (attributes in any order) starts one."""
    starts = []
    for tag in re.finditer(r"<[a-z]+\s[^<>]*>", page):
        slot = re.search(r'\sdata-slot="(\d+)"', tag.group(0))
        kind = re.search(r'\sdata-type="(\w+)"', tag.group(0))
        if slot and kind and int(slot.group(1)) not in [s for s, _k, _p in starts]:
            starts.append((int(slot.group(1)), kind.group(1), tag.start()))
    return [(slot, kind, page[at:starts[n + 1][2] if n + 1 < len(starts) else len(page)])
            for n, (slot, kind, at) in enumerate(starts)]


def answer_for(block: str, kind: str, rng: random.Random):
    """A response to one question of the exam page, from the inputs the page shows."""
    if kind in ("single", "truefalse", "multi"):
        values = re.findall(r'<input[^>]*type="(?:radio|checkbox)"[^>]*value="([^"]*)"', block) or \
            re.findall(r'<input[^>]*value="([^"]*)"[^>]*type="(?:radio|checkbox)"', block)
        if not values:
            return "true" if kind == "truefalse" else "0"
        if kind == "multi":
            return rng.sample(values, rng.randint(1, min(2, len(values))))
        return rng.choice(values)
    if kind == "matching":
        items = re.findall(r'<select[^>]*data-item="([^"]+)"[^>]*>(.*?)</select>', block, re.S)
        pairs = {}
        for item, options in items:
            values = [v for v in re.findall(r'<option[^>]*value="([^"]*)"', options) if v]
            if values:
                pairs[item] = rng.choice(values)
        return pairs
    if kind == "fill":
        return rng.choice(("光猫", "客户", "工号"))
    return "先道歉，再确认问题，然后给出解决办法。"


# --- the simulated people -----------------------------------------------------------------------

@dataclass
class Person:
    user_id: int
    employee_no: str
    level: int
    cookie: str
    csrf: str
    team: str = ""
    mentor_id: int | None = None


class Bench:
    """The load generator: per-request round robin over the servers, timing per endpoint label."""

    def __init__(self, bases: list[str], speed: float, report: Report, rng: random.Random, think_scale: float = 1.0):
        self.bases, self.speed, self.report, self.rng = bases, speed, report, rng
        self.think_scale = think_scale
        self.turn = 0
        self.active = 0
        self.http: aiohttp.ClientSession | None = None
        self.acknowledged: dict[tuple[int, int], tuple[int, object]] = {}  # (attempt, slot) -> (seq, response)
        self.window: list | None = None  # capacity step: (label, latency or None) of this level

    def base(self) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    async def think(self, low: float, high: float) -> None:
        """A person's pause of low..high seconds, compressed by --speed."""
        await asyncio.sleep(self.rng.uniform(low, high) * self.think_scale / self.speed)

    async def call(self, person: Person, method: str, path: str, label: str, *, expect=(200,), data=None,
                   json_body=None, location: str | None = None) -> tuple[int, str, str]:
        """One request; returns (status, body, Location). A status outside `expect`, or a redirect
        whose Location lacks `location`, counts as an error of `label`."""
        headers = {"Cookie": f"session={person.cookie}", "User-Agent": USER_AGENT}
        if json_body is not None or method == "POST" and data is None:
            headers["X-CSRFToken"] = person.csrf
        url = path if path.startswith("http") else self.base() + path
        began = time.perf_counter()
        problem = None
        status, body, where = 0, "", ""
        try:
            async with self.http.request(method, url, data=data, json=json_body, headers=headers,
                                         allow_redirects=False) as response:
                body = await response.text()
                status = response.status
                # a redirect's target, or the address of what came back (the exam start answers with the sheet)
                where = response.headers.get("Location", "") or response.headers.get("Content-Location", "")
                cookie = response.cookies.get("session")
                if cookie is not None and cookie.value:
                    person.cookie = cookie.value
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            problem = f"{label}: {exc!r}"
        elapsed = time.perf_counter() - began
        if problem is None and status not in expect:
            problem = f"{label}: HTTP {status} {where or body[:200]!r}"
        if problem is None and location is not None and location not in where:
            problem = f"{label}: redirected to {where!r}, expected {location!r}"
        stat = self.report.stats[label]
        if problem is None:
            stat.latencies.append(elapsed)
        else:
            stat.errors += 1
            stat.first_error = stat.first_error or problem
        if self.window is not None:
            self.window.append((label, None if problem else elapsed))
        match = CSRF.search(body) if "csrf_token" in body else None
        if match:
            person.csrf = match.group(1) or match.group(2)
        if where.startswith("http"):
            where = "/" + where.split("://", 1)[1].split("/", 1)[-1]
        return status, body, where

    # --- an agent's break ------------------------------------------------------------------------

    async def reading(self, person: Person, courses: list[tuple[str, list[str]]]) -> None:
        await self.call(person, "GET", "/", "GET / (home)")
        await self.think(5, 15)
        slug, lessons = self.rng.choice(courses)
        await self.call(person, "GET", f"/courses/{slug}", "GET /courses/<slug>")
        await self.think(5, 12)
        first = self.rng.randrange(len(lessons))
        path = f"/courses/{slug}/lessons/{lessons[first]}"
        for lesson in lessons[first:first + self.rng.randint(1, 3)]:
            path = f"/courses/{slug}/lessons/{lesson}"
            await self.call(person, "GET", path, "GET lesson")
            await self.think(90, 240)
            _status, _body, where = await self.call(person, "POST", path + "/complete", "POST lesson complete",
                                                    expect=(302,), data={"csrf_token": person.csrf})
            if where and self.rng.random() < 0.5:
                await self.call(person, "GET", where, "GET lesson" if "/lessons/" in where else "GET /courses/<slug>")
                await self.think(3, 10)
        if self.rng.random() < 0.25:
            _s, _b, where = await self.call(person, "GET", "/records/me", "GET /records/me", expect=(302,),
                                            location="/records/")
            if where:
                await self.call(person, "GET", where, "GET /records/<employee_no> (own)")

    # --- an exam wave ----------------------------------------------------------------------------

    async def sitting(self, person: Person, slug: str, go: asyncio.Event) -> None:
        await self.call(person, "GET", f"/exams/{slug}", "GET /exams/<slug>")
        await go.wait()
        clicks = 2 if self.rng.random() < DOUBLE_CLICK else 1
        results = await asyncio.gather(*(self.call(person, "POST", f"/exams/{slug}/start", "POST exam start",
                                                   expect=(200,), data={"csrf_token": person.csrf},
                                                   location="/exams/attempts/") for _ in range(clicks)))
        # the answer to Start is the exam sheet itself, its address in Content-Location
        started = next(((w, body) for status, body, w in results if status == 200 and "/exams/attempts/" in w), None)
        if started is None:
            return
        where, page = started
        attempt_path = "/exams/attempts/" + where.split("/exams/attempts/")[1].split("/")[0].split("?")[0]
        attempt_id = int(attempt_path.rsplit("/", 1)[1])
        questions = exam_questions(page)
        if not questions:
            stat = self.report.stats["POST exam start"]
            stat.errors += 1
            stat.first_error = stat.first_error or f"no questions found on the exam sheet: {page[:300]!r}"
            return
        seq = 0
        for n, (slot, kind, block) in enumerate(questions):
            for _change in range(2 if self.rng.random() < 0.15 else 1):
                await self.think(15, 60)
                seq += 1
                response = answer_for(block, kind, self.rng)
                status, body, _w = await self.call(person, "POST", attempt_path + "/save", "POST exam save",
                                                   json_body={"slot": slot, "response": response, "seq": seq})
                if status == 200 and '"saved":true' in body.replace(" ", ""):
                    self.acknowledged[(attempt_id, slot)] = (seq, response)
            if n % 5 == 4:
                await self.call(person, "POST", attempt_path + "/heartbeat", "POST exam heartbeat")
        await self.call(person, "GET", attempt_path + "/confirm", "GET exam confirm")
        await self.think(5, 20)
        _s, _b, where = await self.call(person, "POST", attempt_path + "/submit", "POST exam submit", expect=(302,),
                                        data={"csrf_token": person.csrf}, location="/result")
        if where:
            await self.call(person, "GET", where, "GET exam result")

    # --- a mentor's observation ------------------------------------------------------------------

    async def observing(self, mentor: Person, mentee: str, scenario: str) -> None:
        await self.call(mentor, "GET", "/mentoring", "GET /mentoring")
        await self.think(10, 30)
        await self.call(mentor, "GET", f"/practicals/new?agent={mentee}&scenario={scenario}", "GET /practicals/new")
        await self.think(5, 15)
        _s, _b, where = await self.call(mentor, "POST", "/practicals/new", "POST practical observe now",
                                        expect=(302,), location="/practicals/",
                                        data={"csrf_token": mentor.csrf, "employee_no": mentee, "scenario": scenario,
                                              "scheduled_for": "", "start": "y"})
        if not where:
            return
        _s, page, _w = await self.call(mentor, "GET", where, "GET /practicals/<id> (observe)")
        form = parse_form(page, "/sign")
        if form is None:
            self.report.stats["POST practical sign"].errors += 1
            self.report.stats["POST practical sign"].first_error = "no sign form on the observation page"
            return
        await self.think(300, 600)
        form.update(csrf_token=mentor.csrf, confirm="y", work_on="核实身份时先说明原因。")
        await self.call(mentor, "POST", where + "/sign", "POST practical sign", expect=(302,), data=form,
                        location="/practicals/")
        await self.call(mentor, "GET", where, "GET /practicals/<id> (observe)")

    # --- a trainer's desk ------------------------------------------------------------------------

    async def reporting(self, trainer: Person, pages: list[tuple[str, str]], count: int) -> None:
        for _ in range(count):
            path, label = self.rng.choice(pages)
            await self.call(trainer, "GET", path, label)
            await self.think(60, 240)

    async def importing(self, trainer: Person, bank: str, text: str) -> None:
        await self.call(trainer, "GET", "/banks/import", "GET /banks/import")
        await self.think(20, 60)
        form = aiohttp.FormData()
        form.add_field("csrf_token", trainer.csrf)
        form.add_field("format", "gift")
        form.add_field("bank", bank)
        form.add_field("file", text.encode("utf-8"), filename=f"{bank}.gift", content_type="text/plain")
        _s, page, _w = await self.call(trainer, "POST", "/banks/import", "POST bank upload (preview)", data=form)
        confirm = parse_form(page, "/banks/import/confirm")
        if confirm is None or not confirm.get("token"):
            stat = self.report.stats["POST bank import confirm"]
            stat.errors += 1
            stat.first_error = stat.first_error or f"no confirm form after the upload: {page[:300]!r}"
            return
        await self.think(10, 30)
        confirm["csrf_token"] = trainer.csrf
        _s, _b, where = await self.call(trainer, "POST", "/banks/import/confirm", "POST bank import confirm",
                                        expect=(302,), data=confirm, location=f"/banks/{bank}")
        if where:
            await self.call(trainer, "GET", where, "GET /banks/<slug>")


def gift_bank(n: int = 20) -> str:
    lines = []
    for k in range(1, n + 1):
        lines.append(f"::q{k:02d}:: 第 {k} 题：客户来电投诉账单，第一步应当？ "
                     "{=先致歉并核实身份 ~直接转接 ~让客户稍后再打 ~挂断}\n")
    return "\n".join(lines)


# --- the center ---------------------------------------------------------------------------------

@dataclass
class Population:
    agents: list[Person]
    mentors: list[Person]
    trainers: list[Person]
    mentees: dict[int, list[str]]
    courses_by_level: dict[int, list[tuple[str, list[str]]]]
    scenarios: list[str]
    teams: list[str]
    report_exams: list[str]


def population(url: str, secret: str) -> Population:
    """Everyone the replay plays, with a forged logged-in session each (as exam_storm does)."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from lms import create_app
    from lms.auth.sessions import start as start_session
    from lms.clock import utcnow
    from lms.extensions import db
    from lms.models import Course, User
    from lms.models.practicals import Scenario

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret})
    with app.app_context():
        users = db.session.scalars(select(User).where(User.active.is_(True))).all()
        courses = db.session.scalars(select(Course).where(Course.source_path != "", Course.retired_at.is_(None))
                                     .options(selectinload(Course.prerequisites), selectinload(Course.lessons))).all()
        by_level: dict[int, list] = defaultdict(list)
        for course in courses:
            lessons = [lesson.slug for lesson in sorted(course.lessons, key=lambda l: l.position)
                       if lesson.retired_at is None]
            if lessons and not course.prerequisites:
                for level in range(course.star_level, 6):
                    by_level[level].append((course.slug, lessons))
        scenarios = [s.slug for s in db.session.scalars(select(Scenario).where(Scenario.source_path != "",
                                                                               Scenario.retired_at.is_(None)))]
        serializer = app.session_interface.get_signing_serializer(app)
        people = {}
        now = utcnow().timestamp()
        for user in users:
            with app.app_context(), app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                                             headers={"User-Agent": USER_AGENT}):
                login_user(user)
                start_session(user, now)
                token = generate_csrf()
                people[user.id] = Person(user.id, user.employee_no, user.star_level,
                                         serializer.dumps(dict(session)), token, user.team or "", user.mentor_id)
        roles = {u.id: set(u.roles) for u in users}
        mentees = defaultdict(list)
        for user in users:
            if user.mentor_id and "agent" in roles[user.id]:
                mentees[user.mentor_id].append(user.employee_no)
        db.engine.dispose()
    agents = [p for uid, p in people.items() if "agent" in roles[uid] and "mentor" not in roles[uid]]
    mentors = [p for uid, p in people.items() if "mentor" in roles[uid] and mentees.get(uid)]
    trainers = [p for uid, p in people.items() if "trainer" in roles[uid]]
    teams = sorted({p.team for p in agents if p.team})
    return Population(agents, mentors, trainers, mentees, by_level, scenarios, teams, list(WAVE_EXAMS))


async def the_hour(bench: Bench, pop: Population, args) -> None:
    """Every arrival of the hour, each at its (compressed) time; returns when everyone is done."""
    rng = bench.rng
    hour = args.minutes * 60.0
    tasks = []

    def at(moment: float, job) -> None:
        async def run() -> None:
            await asyncio.sleep(moment / bench.speed)
            bench.active += 1
            bench.report.peak_users = max(bench.report.peak_users, bench.active)
            try:
                await job
            finally:
                bench.active -= 1
        tasks.append(asyncio.create_task(run()))

    # breaks: a share of the agents read once in the hour
    readers = rng.sample(pop.agents, round(len(pop.agents) * args.break_share))
    for person in readers:
        courses = pop.courses_by_level.get(person.level) or pop.courses_by_level[0]
        at(rng.uniform(0, hour * 0.9), bench.reading(person, courses))
    # exam waves: takers open the exam page in the minutes before, all press Start at once
    for n, (slug, fraction) in enumerate(zip(WAVE_EXAMS, WAVE_AT)):
        eligible = [p for p in pop.agents if p.level >= n]
        takers = rng.sample(eligible, min(args.wave_size, len(eligible)))
        go = asyncio.Event()
        moment = hour * fraction
        for person in takers:
            at(max(0.0, moment - rng.uniform(10, 180)), bench.sitting(person, slug, go))

        async def fire(event=go, when=moment) -> None:
            await asyncio.sleep(when / bench.speed)
            event.set()
        tasks.append(asyncio.create_task(fire()))
    # mentors: each observes and signs one practical
    for mentor in pop.mentors[:args.mentors]:
        mentee = rng.choice(pop.mentees[mentor.user_id])
        at(rng.uniform(0, hour * 0.7), bench.observing(mentor, mentee, rng.choice(pop.scenarios)))
    # trainers: reports through the hour, and one bank import
    sample = rng.sample(pop.agents, min(20, len(pop.agents)))
    pages = [(f"/reports?team={pop.teams[0]}", "GET /reports?team="), (f"/reports/teams/{pop.teams[-1]}",
             "GET /reports/teams/<team>"), ("/reports/mentors", "GET /reports/mentors")]
    pages += [(f"/reports/exams/{slug}", "GET /reports/exams/<slug>") for slug in pop.report_exams]
    pages += [(f"/records/{p.employee_no}", "GET /records/<employee_no>") for p in sample]
    for trainer in pop.trainers:
        at(rng.uniform(0, hour * 0.2), bench.reporting(trainer, pages, max(1, round(args.minutes / 10))))
    if pop.trainers:
        at(hour * 0.3, bench.importing(pop.trainers[0], f"bench-import-{secrets.token_hex(3)}", gift_bank()))
    await asyncio.gather(*tasks)


async def warm_up(bench: Bench, pop: Population, workers: int) -> None:
    """Every page type a few times per worker, uncounted: templates compiled, translations and
    caches loaded in each process, as on a server that has been up for a while."""
    agent, trainer = pop.agents[0], pop.trainers[0] if pop.trainers else pop.agents[0]
    mentor = pop.mentors[0] if pop.mentors else agent
    slug, lessons = (pop.courses_by_level.get(agent.level) or pop.courses_by_level[0])[0]
    pages = [(agent, "/"), (agent, f"/courses/{slug}"), (agent, f"/courses/{slug}/lessons/{lessons[0]}"),
             (agent, f"/exams/{WAVE_EXAMS[0]}"), (mentor, "/mentoring"), (trainer, "/banks/import"),
             (trainer, f"/records/{agent.employee_no}"), (trainer, f"/reports/exams/{WAVE_EXAMS[0]}")]
    for _round in range(2):
        await asyncio.gather(*(bench.call(person, "GET", path, "warm-up")
                               for person, path in pages for _ in range(workers * len(bench.bases))))
    bench.report.stats.pop("warm-up", None)


async def capacity(bench: Bench, pop: Population, args) -> None:
    """Agents reading at a human pace (a request every --capacity-think s on average), stepped up
    until p95 of the level's requests passes 300 ms; the report keeps every level's figures."""
    bench.speed = 1.0
    for level in [int(n) for n in args.capacity_levels.split(",")]:
        stop = asyncio.Event()
        mean = args.capacity_think

        async def user(person: Person) -> None:
            await asyncio.sleep(bench.rng.uniform(0, mean))
            courses = pop.courses_by_level.get(person.level) or pop.courses_by_level[0]
            while not stop.is_set():
                slug, lessons = bench.rng.choice(courses)
                lesson = bench.rng.choice(lessons)
                for method, path, label in (("GET", "/", "GET / (home)"), ("GET", f"/courses/{slug}",
                                            "GET /courses/<slug>"), ("GET", f"/courses/{slug}/lessons/{lesson}",
                                            "GET lesson"), ("POST", f"/courses/{slug}/lessons/{lesson}/complete",
                                            "POST lesson complete")):
                    if stop.is_set():
                        return
                    await bench.call(person, method, path, f"capacity {label}",
                                     expect=(302,) if method == "POST" else (200,),
                                     data={"csrf_token": person.csrf} if method == "POST" else None)
                    await asyncio.sleep(bench.rng.uniform(0.5 * mean, 1.5 * mean))

        people = [pop.agents[n % len(pop.agents)] for n in range(level)]
        tasks = [asyncio.create_task(user(p)) for p in people]
        await asyncio.sleep(mean)  # ramp: everyone has arrived
        bench.window = []
        began = time.perf_counter()
        await asyncio.sleep(args.capacity_seconds)
        window, bench.window = bench.window, None
        elapsed = time.perf_counter() - began
        stop.set()
        await asyncio.gather(*tasks)
        done = sorted(latency for _label, latency in window if latency is not None)
        errors = sum(1 for _label, latency in window if latency is None)
        p95 = done[min(len(done) - 1, int(0.95 * (len(done) - 1)))] * 1000 if done else float("inf")
        bench.report.capacity.append((level, len(window) / elapsed, p95, len(window), errors))
        print(f"  capacity {level:>6} users: {len(window) / elapsed:6.1f} req/s  p95 {p95:7.1f} ms  errors {errors}")
        if p95 > PAGE_AIM_MS or errors:
            break
        bench.report.held = level


# --- checks ---------------------------------------------------------------------------------------

def _naive(value):
    """A stored moment as a naive UTC datetime (SQLite hands raw SQL its text)."""
    from datetime import datetime, timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def correctness(url: str, acknowledged: dict, grace: int) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    figures = {}
    with engine.connect() as connection:
        exams = connection.execute(sa.text("SELECT id FROM exams WHERE slug IN :slugs")
                                   .bindparams(sa.bindparam("slugs", expanding=True)), {"slugs": list(WAVE_EXAMS)}
                                   ).scalars().all()
        rows = connection.execute(sa.text(
            "SELECT user_id, exam_id, COUNT(*) FROM exam_attempts WHERE exam_id IN :exams GROUP BY user_id, exam_id")
            .bindparams(sa.bindparam("exams", expanding=True)), {"exams": exams or [-1]}).all()
        figures["attempts in the waves"] = sum(n for *_k, n in rows)
        figures["agents with two attempts at one exam"] = sum(1 for *_k, n in rows if n > 1)
        stored = {(a, p): (seq, r) for a, p, seq, r in connection.execute(sa.text(
            "SELECT q.attempt_id, q.position, a.seq, a.response FROM attempt_answers a "
            "JOIN attempt_questions q ON q.id = a.attempt_question_id WHERE q.attempt_id IN "
            "(SELECT id FROM exam_attempts WHERE exam_id IN :exams)")
            .bindparams(sa.bindparam("exams", expanding=True)), {"exams": exams or [-1]}).all()}
        lost = 0  # the server stores its own form of a response (option ids): the seq tells the save
        for key, (seq, _response) in acknowledged.items():
            held = stored.get(key)
            if held is None or held[0] is None or held[0] < seq or held[1] is None:
                lost += 1
        figures["saves acknowledged (latest per answer)"] = len(acknowledged)
        figures["acknowledged saves not stored"] = lost
        late = 0
        for started, deadline, saved in connection.execute(sa.text(
                "SELECT t.started_at, t.deadline, a.saved_at FROM attempt_answers a "
                "JOIN attempt_questions q ON q.id = a.attempt_question_id JOIN exam_attempts t ON t.id = q.attempt_id "
                "WHERE t.exam_id IN :exams AND a.seq >= 1").bindparams(sa.bindparam("exams", expanding=True)),
                {"exams": exams or [-1]}):
            if deadline is not None and saved is not None:
                if (_naive(saved) - _naive(deadline)).total_seconds() > grace:
                    late += 1
        figures["answers stored after deadline + grace"] = late
    engine.dispose()
    return figures


# --- databases and the cache --------------------------------------------------------------------

def cache_key(args) -> str:
    digest = hashlib.sha256()
    digest.update(f"{args.agents}|{args.scale}|{args.seed}".encode())
    for folder in ("lms/migrations/versions", "courses", "question_banks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                digest.update(f"{path.relative_to(ROOT)}|{stat.st_size}|{int(stat.st_mtime)}".encode())
    digest.update((BENCH / "seed_center.py").read_bytes())
    return digest.hexdigest()[:16]


def _pg_args(url: str) -> list[str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    argv = ["-d", parsed.database]
    host = parsed.query.get("host") or parsed.host
    if host:
        argv += ["-h", host if isinstance(host, str) else host[0]]
    if parsed.username:
        argv += ["-U", parsed.username]
    if parsed.port:
        argv += ["-p", str(parsed.port)]
    return argv


def prepare(database: str, args, folder: Path) -> str:
    """A freshly seeded (or cached, then copied) center database for one run; returns its URL."""
    from seed_center import postgres_reset, seed

    key = cache_key(args)
    cache = Path(args.cache_dir) if args.cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    quiet = (lambda *_a: None) if args.quiet else print
    size = dict(agents=args.agents, scale=args.scale, seed_value=args.seed, sample_content=True, log=quiet,
                attempts=args.attempts, entries=args.entries)
    if database == "sqlite":
        url = f"sqlite:///{folder / 'center.sqlite3'}"
        cached = cache / f"center-{key}.sqlite3" if cache else None
        if cached and cached.exists():
            shutil.copyfile(cached, folder / "center.sqlite3")
            print(f"  restored the seeded center from {cached}")
        else:
            began = time.perf_counter()
            seed(url, **size)
            print(f"  seeded in {time.perf_counter() - began:.0f} s")
            if cached:
                shutil.copyfile(folder / "center.sqlite3", cached)
        import sqlalchemy as sa

        from lms.sqlite import refresh_statistics

        engine = sa.create_engine(url)
        refresh_statistics(engine)  # what `lms serve` does before serving (the servers here are started directly)
        engine.dispose()
        return url
    url = args.postgres_url
    cached = cache / f"center-{key}.pgdump" if cache else None
    if cached and cached.exists():
        postgres_reset(url)
        began = time.perf_counter()
        subprocess.run(["pg_restore", "--no-owner", "-j", "2", *_pg_args(url), str(cached)], check=True)
        print(f"  restored the seeded center from {cached} in {time.perf_counter() - began:.0f} s")
    else:
        began = time.perf_counter()
        seed(url, **size)
        print(f"  seeded in {time.perf_counter() - began:.0f} s")
        if cached:
            subprocess.run(["pg_dump", "-Fc", "-f", str(cached), *_pg_args(url)], check=True)
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return url


# --- a run --------------------------------------------------------------------------------------

def run(database: str, args, log=print) -> Report:
    from lms.cli import gunicorn_argv

    report = Report(database=database, nodes=args.nodes)
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="lms-center-day-") as tmp:
        folder = Path(tmp)
        url = prepare(database, args, folder)
        began = time.perf_counter()
        pop = population(url, secret)
        log(f"  {len(pop.agents):,} agents, {len(pop.mentors)} mentors, {len(pop.trainers)} trainers; "
            f"sessions forged in {time.perf_counter() - began:.0f} s")
        servers = []
        try:
            for node in range(args.nodes):
                instance = folder / f"instance-{node}"  # nothing shared on disk between nodes
                instance.mkdir()
                env = dict(os.environ, LMS_DATABASE_URL=url, LMS_SECRET_KEY=secret, LMS_INSTANCE_PATH=str(instance))
                port = free_port()
                servers.append(Server(gunicorn_argv("127.0.0.1", port, args.workers), env, port))
            pids = [server.process.pid for server in servers]
            rng = random.Random(args.seed)
            bench = Bench([server.url for server in servers], args.speed, report, rng, args.think_scale)

            async def replay() -> None:
                connector = aiohttp.TCPConnector(limit=args.connections, force_close=False)
                async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                                 timeout=aiohttp.ClientTimeout(total=300)) as http:
                    bench.http = http
                    await warm_up(bench, pop, args.workers or 2 * (os.cpu_count() or 1) + 1)
                    cpu0, db0, t0 = cpu_seconds(pids), postgres_cpu(), time.perf_counter()
                    await the_hour(bench, pop, args)
                    report.wall = time.perf_counter() - t0
                    report.server_cpu = cpu_seconds(pids) - cpu0
                    if database == "postgresql":
                        report.db_cpu = postgres_cpu() - db0
                    hour_stats = {k: v for k, v in report.stats.items()}
                    if not args.no_capacity:
                        log("  stepping up agents reading at a human pace:")
                        await capacity(bench, pop, args)
                    report.stats = defaultdict(Stat, hour_stats | {k: v for k, v in report.stats.items()
                                                                   if k.startswith("capacity ")})

            asyncio.run(replay())
            report.checks = correctness(url, bench.acknowledged, int(os.environ.get("LMS_EXAM_GRACE_SECONDS", "30")))
        finally:
            for server in servers:
                server.stop()
    return report


def print_report(report: Report, args) -> None:
    hour = {k: v for k, v in report.stats.items() if not k.startswith("capacity ")}
    requests = sum(len(s.latencies) + s.errors for s in hour.values())
    print(f"\n{'endpoint':<34}{'count':>7}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  aim")
    for label in sorted(hour):
        stat = hour[label]
        aim = SAVE_AIM_MS if label == "POST exam save" else PAGE_AIM_MS
        flag = "ok" if stat.latencies and stat.pct(95) <= aim else f"OVER {aim:.0f}"
        print(f"{label:<34}{len(stat.latencies):>7}{stat.errors:>7}{stat.pct(50):>9.1f}{stat.pct(95):>9.1f}"
              f"{stat.pct(99):>9.1f}  {flag}")
    over = [k for k, s in hour.items() if not s.latencies or s.pct(95) > (SAVE_AIM_MS if k == "POST exam save"
                                                                          else PAGE_AIM_MS)]
    print(f"hour    {requests:,} requests in {report.wall:.0f} s ({requests / report.wall:.1f}/s) at speed "
          f"{args.speed:g}; errors {sum(s.errors for s in hour.values())}; endpoints within the aim "
          f"{len(hour) - len(over)}/{len(hour)}")
    print(f"users   peak active at once {report.peak_users:,} (x speed {args.speed:g} = "
          f"{round(report.peak_users * args.speed):,} at a human pace)")
    print(f"cpu     server {1000 * report.server_cpu / max(1, requests):.1f} ms per request "
          f"({report.server_cpu:.0f} s over {report.nodes} node(s))"
          + (f"; PostgreSQL (all its processes) {1000 * report.db_cpu / max(1, requests):.1f} ms per request"
             if report.db_cpu is not None else ""))
    for name, value in report.checks.items():
        print(f"check   {name}: {value:,}")
    for label, stat in sorted(report.stats.items()):
        if stat.first_error:
            print(f"error   {stat.first_error[:300]}")
    if report.capacity:
        print(f"peak    {report.held:,} agents reading at a human pace (a request every ~{args.capacity_think:g} s) "
              f"held with p95 under {PAGE_AIM_MS:.0f} ms" if report.held else "peak    not even the first level held")


def as_json(report: Report) -> dict:
    return {"database": report.database, "nodes": report.nodes, "wall": report.wall, "peak_users": report.peak_users,
            "server_cpu": report.server_cpu, "db_cpu": report.db_cpu, "checks": report.checks, "held": report.held,
            "capacity": report.capacity, "requests": report.requests, "errors": report.errors,
            "endpoints": {label: {"count": len(stat.latencies), "errors": stat.errors, "p50": stat.pct(50),
                                  "p95": stat.pct(95), "p99": stat.pct(99), "first_error": stat.first_error}
                          for label, stat in sorted(report.stats.items())}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--agents", type=int, default=3000)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of agents, attempts and entries")
    parser.add_argument("--attempts", type=int, default=50_000, help="past attempts (x scale)")
    parser.add_argument("--entries", type=int, default=200_000, help="past record entries (x scale)")
    parser.add_argument("--minutes", type=float, default=60, help="length of the replayed period (default an hour)")
    parser.add_argument("--speed", type=float, default=10, help="compression: 10 replays an hour in 6 minutes")
    parser.add_argument("--wave-size", type=int, default=500, help="agents starting each of the two exam waves")
    parser.add_argument("--break-share", type=float, default=0.5, help="share of agents reading once in the hour")
    parser.add_argument("--mentors", type=int, default=60, help="mentors observing a practical in the hour")
    parser.add_argument("--nodes", type=int, default=1, help="app servers (more than one: PostgreSQL only)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers per node (default as lms serve)")
    parser.add_argument("--connections", type=int, default=0, help="client connections at most (0: no limit)")
    parser.add_argument("--no-capacity", action="store_true", help="skip stepping the load up")
    parser.add_argument("--capacity-levels", default="250,500,1000,1500,2000,3000,4000,6000")
    parser.add_argument("--capacity-think", type=float, default=20.0, help="mean seconds between a reader's requests")
    parser.add_argument("--capacity-seconds", type=float, default=30.0, help="measured seconds per level")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--postgres-url", default=os.environ.get("LMS_BENCH_POSTGRES_URL", PG_DEFAULT))
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "lms-center-cache"),
                        help="where the seeded database is kept between runs ('' to seed every time)")
    parser.add_argument("--think-scale", type=float, default=1.0,
                        help="multiply every think time (the smoke test shortens them; figures use 1)")
    parser.add_argument("--json", help="also write the figures to this file (JSON)")
    parser.add_argument("--quiet", action="store_true", help="less seeding output")
    args = parser.parse_args(argv)
    print(f"center_day on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    results = []
    for database in args.databases.split(","):
        if database not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {database}")
        if args.nodes > 1 and database != "postgresql":
            print(f"\n== {database}: skipped, --nodes {args.nodes} needs PostgreSQL")
            continue
        print(f"\n== {database}: {round(args.agents * args.scale):,} agents, {args.minutes:g} minutes at speed "
              f"{args.speed:g}, {args.nodes} node(s), per-request round robin")
        report = run(database, args)
        print_report(report, args)
        results.append(as_json(report))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
