"""A year of a call center, seeded fast: the data the report benchmark (benchmarks/reports.py) reads.

Into a freshly migrated database (Alembic, as the app and the tests migrate it), with SQLAlchemy
Core bulk inserts in chunks and ids chosen here (no ORM objects, no round trip per row), the same
rows for the same --seed:

  * 3,000 agents in ~30 teams (热线01组 ...), star levels 0-5, hired over 4 years, each with one
    of the team's 2 mentors (60 mentors, agents themselves); 5 trainers; one admin. Everyone's
    password is PASSWORD (hashed once, reused); employee numbers A0001, T0001.., M0001.., E00001..;
  * the ladder (6 star levels), 60 courses (10 a level: 7 required, 3 elective, one refresher with
    valid_months 12 from level 1) with 4 lessons each; star history (initial + promotions);
  * 6 question banks with ~400 questions (single / multi / true-false; a fifth have a version 2;
    some deliberately broken: too easy, key reversed, a distractor nobody picks); 20 exams (18 final
    exams of courses, 2 standalone) drawing 10 questions from their level's bank;
  * 50,000 graded exam attempts (first attempts, retakes after a fail) with their 10 pinned
    questions and answers each, and one `exam` record entry each;
  * ~200,000 record entries over the last 12 months: the exams' entries, course completions
    (with the lessons read), monthly customer evaluations (`period`), signed practicals (10
    scenarios with script and rubric versions, 5 scored criteria, a lenient mentor, re-observations
    after a fail, a few corrections) and classroom attendance (sessions per team, absences);
  * a training plan with assignments to teams and star levels, new-hire cohorts, audit events.

    python benchmarks/seed_center.py                      # 3,000 agents into a temporary SQLite file
    python benchmarks/seed_center.py --scale 0.05 --keep  # 150 agents, keep the file
    python benchmarks/seed_center.py --database-url postgresql+psycopg://root@/lms_bench?host=/var/run/postgresql

Use from code (benchmarks/reports.py, a "day at a center" benchmark): `seed(url, agents=..., scale=...)`
returns a `Center` with the ids and names a benchmark needs.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password"
HASH_METHOD = "pbkdf2:sha256:1000"  # cheap: the benchmark logs in, it does not measure hashing
CHUNK = 5000
LEVEL_SHARE = (0.10, 0.25, 0.25, 0.20, 0.12, 0.08)  # agents at star levels 0..5
TEAM_SIZE = 100
QUESTIONS_PER_ATTEMPT = 10
EVALUATION_PASS = 80.0


@dataclass
class Center:
    """What a benchmark needs to know about the seeded center."""

    database_url: str
    now: datetime
    password: str = PASSWORD
    admin: str = "A0001"
    trainers: list[str] = field(default_factory=list)
    mentors: list[str] = field(default_factory=list)  # employee numbers; mentors[0] passes everyone
    teams: list[str] = field(default_factory=list)
    course_slugs: list[str] = field(default_factory=list)
    exam_slugs: list[str] = field(default_factory=list)
    plan_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def postgres_reset(url: str) -> None:
    """An empty public schema in the benchmark's PostgreSQL database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class Writer:
    """Bulk inserts with ids assigned here, counted per table."""

    def __init__(self, connection):
        import sqlalchemy as sa

        self.sa = sa
        self.connection = connection
        self.next_ids: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def ids(self, table, n: int) -> range:
        name = table.name
        if name not in self.next_ids:
            self.next_ids[name] = (self.connection.execute(self.sa.select(self.sa.func.max(table.c.id))).scalar() or 0) + 1
        start = self.next_ids[name]
        self.next_ids[name] = start + n
        return range(start, start + n)

    def insert(self, table, rows: list[dict]) -> None:
        for start in range(0, len(rows), CHUNK):
            self.connection.execute(table.insert(), rows[start:start + CHUNK])
        self.counts[table.name] += len(rows)

    def fix_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids given here."""
        if self.connection.dialect.name != "postgresql":
            return
        for name in self.next_ids:
            self.connection.execute(self.sa.text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {name}))"))


def seed(database_url: str, *, agents: int = 3000, scale: float = 1.0, seed_value: int = 11,
         now: datetime | None = None, attempts: int = 50_000, entries: int = 200_000, migrate: bool = True,
         sample_content: bool = False, log=print) -> Center:
    """Migrate `database_url` (empty) and fill it; returns the Center. `scale` multiplies agents,
    attempts and entries (courses, banks and exams stay). `sample_content` first imports the
    sample content as `lms sync` does (the 24-course ladder, its banks, exams and scenarios: what
    benchmarks/center_day.py has agents read and sit); the year of history is then seeded beside it."""
    from flask_migrate import upgrade

    from lms import create_app
    from lms.clock import utcnow
    from lms.extensions import db

    started = time.perf_counter()
    if database_url.startswith("postgresql") and migrate:
        postgres_reset(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "benchmark",
                      "PASSWORD_HASH_METHOD": HASH_METHOD})
    with app.app_context():
        if migrate:
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        migrated = time.perf_counter()
        if sample_content:
            from lms.content.sync import sync_content

            for line in sync_content(db.session, app.config, utcnow()):
                log(f"  sync: {line}")
            db.session.commit()
            db.session.remove()
            log(f"  sample content synced in {time.perf_counter() - migrated:.1f} s")
        now = now or utcnow().replace(minute=0, second=0, microsecond=0)
        center = Center(database_url=database_url, now=now)
        builder = _Builder(random.Random(seed_value), now, max(10, round(agents * scale)),
                           max(100, round(attempts * scale)), max(500, round(entries * scale)), center)
        with db.engine.begin() as connection:
            writer = Writer(connection)
            builder.run(writer, log)
            writer.fix_sequences()
        db.engine.dispose()
        center.counts = dict(writer.counts)
        center.seconds = time.perf_counter() - started
        log(f"  migrated in {migrated - started:.1f} s, seeded in {time.perf_counter() - migrated:.1f} s")
    return center


def _aware(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


class _Builder:
    def __init__(self, rng: random.Random, now: datetime, agents: int, attempts: int, entries: int, center: Center):
        self.rng, self.now, self.n_agents, self.n_attempts, self.n_entries = rng, now, agents, attempts, entries
        self.center = center
        self.year_start = now - timedelta(days=365)

    def when(self, after: datetime | None = None) -> datetime:
        """A working-hours moment in the last 12 months, not before `after`."""
        low = max(self.year_start, after or self.year_start)
        span = max(1, int((self.now - low).total_seconds()) - 3600)
        moment = low + timedelta(seconds=self.rng.randrange(span))
        moment = moment.replace(hour=1 + self.rng.randrange(9), minute=self.rng.randrange(60))  # 09-18 in UTC+8
        return min(moment, self.now - timedelta(hours=1))

    # --- people ---------------------------------------------------------------------------------

    def run(self, w: Writer, log) -> None:
        from lms.records.services import band_for

        self.band_for = band_for
        steps = [("people", self.people), ("ladder and courses", self.courses), ("banks and exams", self.exams),
                 ("exam attempts", self.attempts), ("practicals", self.practicals),
                 ("completions", self.completions), ("evaluations", self.evaluations),
                 ("classroom", self.classroom), ("plans", self.plans)]
        for name, step in steps:
            started = time.perf_counter()
            step(w)
            log(f"  {name:<20} {time.perf_counter() - started:6.1f} s")

    def people(self, w: Writer) -> None:
        from werkzeug.security import generate_password_hash

        from lms.models import User, UserRole

        rng, now = self.rng, self.now
        password_hash = generate_password_hash(PASSWORD, method=HASH_METHOD)  # once, for everyone
        n_teams = max(3, round(self.n_agents / TEAM_SIZE))
        self.teams = [f"热线{n:02d}组" for n in range(1, n_teams + 1)]
        self.center.teams = self.teams
        users, roles = [], []
        ids = iter(w.ids(User.__table__, 1 + 5 + self.n_agents))

        def user(number: str, name: str, team: str, level: int, hired: date, mentor: int | None, *role_names):
            uid = next(ids)
            users.append({"id": uid, "employee_no": number, "name": name, "team": team, "hire_date": hired,
                          "star_level": level, "mentor_id": mentor, "active": True, "password_hash": password_hash,
                          "session_version": 1, "created_at": _aware(hired)})
            roles.extend({"user_id": uid, "role": role} for role in role_names)
            return uid

        today = now.date()
        self.admin = user("A0001", "王敏", "培训部", 5, today - timedelta(days=2000), None, "admin")
        self.trainers = [user(f"T{n:04d}", f"培训师{n}", "培训部", 5, today - timedelta(days=1500), None, "trainer")
                         for n in range(1, 6)]
        self.center.trainers = [f"T{n:04d}" for n in range(1, 6)]
        self.mentors, self.team_mentors = [], {}
        number = 0
        for index, team in enumerate(self.teams):
            pair = []
            for k in range(2):
                number += 1
                pair.append(user(f"M{number:04d}", f"导师{number}", team, 4 + k % 2,
                                 today - timedelta(days=900 + rng.randrange(500)), None, "agent", "mentor"))
            self.team_mentors[team] = pair
            self.mentors += pair
        self.center.mentors = [f"M{n:04d}" for n in range(1, number + 1)]
        self.agents = []  # (id, team, level, hire date, mentor id)
        levels = [level for level, share in enumerate(LEVEL_SHARE) for _ in range(round(share * 1000))]
        for n in range(1, self.n_agents - len(self.mentors) + 1):
            team = self.teams[n % len(self.teams)]
            level = rng.choice(levels)
            # new hires within the last 90 days; a star takes about 7 months, a career up to 4 years
            days = rng.randrange(3, 90) if level == 0 else min(1460, 60 + level * 210 + rng.randrange(240))
            hired = today - timedelta(days=days)
            mentor = rng.choice(self.team_mentors[team])
            uid = user(f"E{n:05d}", f"坐席{n:05d}", team, level, hired, mentor, "agent")
            self.agents.append((uid, team, level, hired, mentor))
        for mentor_id in self.mentors:
            row = next(u for u in users if u["id"] == mentor_id)
            self.agents.append((mentor_id, row["team"], row["star_level"], row["hire_date"], None))
        self.ability = {uid: rng.gauss(0.0, 1.0) for uid, *_ in self.agents}
        w.insert(User.__table__, users)
        w.insert(UserRole.__table__, roles)

    # --- ladder, courses ------------------------------------------------------------------------

    def courses(self, w: Writer) -> None:
        from lms.models import Course, Lesson, StarChange, StarLevel
        from lms.models.courses import course_prerequisites

        rng, now = self.rng, self.now
        if not w.connection.execute(w.sa.select(w.sa.func.count()).select_from(StarLevel.__table__)).scalar():
            titles = ("新员工", "一星坐席", "二星坐席", "三星坐席", "四星坐席（资深）", "五星坐席（专家）")
            w.insert(StarLevel.__table__, [{"level": n, "title": title, "min_months_since_hire": 1 if n == 1 else None,
                                            "min_months_since_promotion": None if n < 2 else 6 + 3 * min(n - 2, 2),
                                            "min_average_score": None if n < 2 else 70 + 5 * n, "source_hash": ""}
                                           for n, title in enumerate(titles)])
        topics = ("企业文化", "服务规范", "电话礼仪", "系统操作", "业务流程", "合规与隐私", "沟通技巧",
                  "投诉处理", "情绪管理", "复训与考核")
        self.courses_by_level: dict[int, list[dict]] = defaultdict(list)
        rows, lessons, prerequisites = [], [], []
        ids = iter(w.ids(Course.__table__, 60))
        for level in range(6):
            for k, topic in enumerate(topics):
                cid = next(ids)
                refresher = level >= 1 and k == 9
                kind = "elective" if k in (6, 7, 8) and not refresher else "required"
                slug = f"l{level}-{k + 1:02d}-bench"
                course = {"id": cid, "slug": slug, "title": f"{level}星·{topic}", "star_level": level, "kind": kind,
                          "track": "refresher" if refresher else ("onboarding" if level == 0 else "in-service"),
                          "summary": f"{topic}（{level} 星）", "minutes": 40, "valid_months": 12 if refresher else None,
                          "practicals": [], "evaluation_threshold": None, "intro_html": f"<p>{topic}</p>",
                          "position": k, "source_path": "", "source_hash": "", "retired_at": None,
                          "created_at": now - timedelta(days=1500), "updated_at": now - timedelta(days=400)}
                rows.append(course)
                self.courses_by_level[level].append(course)
                if k == 1:
                    prerequisites.append({"course_id": cid, "prerequisite_id": cid - 1})
        lesson_ids = iter(w.ids(Lesson.__table__, 240))
        self.lessons: dict[int, list[int]] = defaultdict(list)
        for course in rows:
            for position in range(4):
                lid = next(lesson_ids)
                self.lessons[course["id"]].append(lid)
                lessons.append({"id": lid, "course_id": course["id"], "slug": f"lesson-{position + 1}",
                                "position": position, "title": f"{course['title']} 第{position + 1}课", "minutes": 10,
                                "body_html": "<p>正文</p>", "source_hash": "", "retired_at": None})
        self.center.course_slugs = [course["slug"] for course in rows]
        self.course_rows = rows
        w.insert(Course.__table__, rows)
        w.insert(Lesson.__table__, lessons)
        w.insert(course_prerequisites, prerequisites)
        # star history: initial at hire, then a promotion per star (the latest ones within the year)
        changes = []
        self.promoted_at: dict[int, datetime] = {}
        for uid, team, level, hired, mentor in self.agents:
            changes.append({"user_id": uid, "kind": "initial", "from_level": None, "to_level": 0, "reason": "",
                            "changed_at": _aware(hired), "changed_by_id": self.admin})
            span = (now.date() - hired).days
            for step in range(1, level + 1):
                moment = _aware(hired + timedelta(days=span * step // (level + 1)), 10)
                changes.append({"user_id": uid, "kind": "promotion", "from_level": step - 1, "to_level": step,
                                "reason": "", "changed_at": moment, "changed_by_id": rng.choice(self.trainers)})
                self.promoted_at[uid] = moment
        for change, cid in zip(changes, w.ids(StarChange.__table__, len(changes))):
            change["id"] = cid
        w.insert(StarChange.__table__, changes)

    # --- banks, exams ---------------------------------------------------------------------------

    def exams(self, w: Writer) -> None:
        from lms.models import Exam, ExamPool, Question, QuestionBank, QuestionVersion

        rng, now = self.rng, self.now
        banks, questions, versions = [], [], []
        self.bank_questions: dict[int, list[dict]] = defaultdict(list)  # bank id -> question facts
        bank_ids = list(w.ids(QuestionBank.__table__, 6))
        q_ids = iter(w.ids(Question.__table__, 6 * 67))
        v_ids = iter(w.ids(QuestionVersion.__table__, 6 * 67 * 2))
        self.v2_from = now - timedelta(days=120)
        for level, bank_id in enumerate(bank_ids):
            banks.append({"id": bank_id, "slug": f"bench-level-{level}", "title": f"{level} 星题库", "description": "",
                          "source_path": "", "source_hash": "", "retired_at": None,
                          "created_at": now - timedelta(days=1500)})
            for n in range(67):
                qid = next(q_ids)
                kind = ("single", "single", "single", "multi", "truefalse")[n % 5]
                broken = rng.random()
                fact = {"id": qid, "type": kind, "difficulty": rng.gauss(-0.9, 0.9), "reversed": 0.04 > broken,
                        "dead_distractor": kind == "single" and 0.04 <= broken < 0.14}
                if 0.14 <= broken < 0.18:
                    fact["difficulty"] = -5.0  # everyone gets it: facility above 95 %
                number_of_versions = 2 if rng.random() < 0.2 else 1
                fact["versions"] = []
                for number in range(1, number_of_versions + 1):
                    vid = next(v_ids)
                    fact["versions"].append(vid)
                    if kind == "single":
                        data = {"options": [{"id": f"o{i}", "text": f"选项 {i}", "weight": 1.0 if i == 1 else 0.0}
                                            for i in range(1, 5)]}
                    elif kind == "multi":
                        data = {"options": [{"id": f"o{i}", "text": f"选项 {i}", "weight": 0.5 if i < 3 else -1.0}
                                            for i in range(1, 5)]}
                    else:
                        data = {"answer": True}
                    versions.append({"id": vid, "question_id": qid, "number": number,
                                     "stem": f"{level} 星第 {n + 1} 题（第 {number} 版）",
                                     "text_format": "markdown", "stem_html": f"<p>{level} 星第 {n + 1} 题</p>",
                                     "data": data, "explanation": "", "explanation_html": "", "points": 1.0,
                                     "content_hash": f"{qid}-{number}",
                                     "created_at": now - timedelta(days=700) if number == 1 else self.v2_from,
                                     "created_by_id": self.trainers[0]})
                questions.append({"id": qid, "bank_id": bank_id, "key": f"q-{n + 1:03d}", "title": f"第 {n + 1} 题",
                                  "type": kind, "tags": [f"level-{level}"], "difficulty": 1 + n % 5,
                                  "version": number_of_versions, "retired_at": None,
                                  "created_at": now - timedelta(days=700)})
                self.bank_questions[bank_id].append(fact)
        w.insert(QuestionBank.__table__, banks)
        w.insert(Question.__table__, questions)
        w.insert(QuestionVersion.__table__, versions)
        exams, pools = [], []
        exam_ids = iter(w.ids(Exam.__table__, 20))
        pool_ids = iter(w.ids(ExamPool.__table__, 20))
        self.exam_rows = []
        for level in range(6):
            for course in self.courses_by_level[level][:3]:
                self.exam_rows.append((next(exam_ids), f"exam-{course['slug']}", f"{course['title']} 结业考试",
                                       course["id"], level, bank_ids[level]))
        for n, level in enumerate((0, 2)):
            self.exam_rows.append((next(exam_ids), f"exam-standalone-{n + 1}", f"年度服务规范测验 {n + 1}", None,
                                   None, bank_ids[level]))
        for exam_id, slug, title, course_id, level, bank_id in self.exam_rows:
            exams.append({"id": exam_id, "slug": slug, "title": title, "description": "", "description_html": "",
                          "course_id": course_id, "time_limit_minutes": 20, "opens_at": None, "closes_at": None,
                          "pass_percent": 60.0, "attempts_allowed": 3, "retake_delay_minutes": 0,
                          "later_retake_delay_minutes": 0, "shuffle_questions": True, "shuffle_options": True,
                          "grading_method": "highest", "review_policy": "after_close", "source_path": "",
                          "source_hash": "", "retired_at": None, "created_at": now - timedelta(days=700),
                          "updated_at": now - timedelta(days=700)})
            pools.append({"id": next(pool_ids), "exam_id": exam_id, "bank_id": bank_id, "tags": [],
                          "count": QUESTIONS_PER_ATTEMPT, "position": 0})
        self.center.exam_slugs = [row[1] for row in self.exam_rows]
        w.insert(Exam.__table__, exams)
        w.insert(ExamPool.__table__, pools)

    # --- exam attempts --------------------------------------------------------------------------

    def _answer(self, fact: dict, ability: float):
        """(response, points) of one agent to one question."""
        rng = self.rng
        if rng.random() < 0.02:
            return None, 0.0
        logit = 1.3 * (ability - fact["difficulty"])
        p = 1.0 / (1.0 + math.exp(logit if fact["reversed"] else -logit))
        right = rng.random() < p
        if fact["type"] == "single":
            wrong = ("o2", "o3") if fact["dead_distractor"] else ("o2", "o3", "o3", "o4")
            return ("o1", 1.0) if right else (rng.choice(wrong), 0.0)
        if fact["type"] == "multi":
            if right:
                return ["o1", "o2"], 1.0
            return (["o1"], 0.5) if rng.random() < 0.5 else (["o1", rng.choice(("o3", "o4"))], 0.0)
        return (True, 1.0) if right else (False, 0.0)

    def attempts(self, w: Writer) -> None:
        from lms.models import AttemptAnswer, AttemptQuestion, ExamAttempt, RecordEntry

        rng = self.rng
        pairs = []
        for uid, team, level, hired, mentor in self.agents:
            for exam in self.exam_rows:
                if exam[4] is None or exam[4] <= min(level + 1, 5):
                    pairs.append((uid, hired, exam))
        rng.shuffle(pairs)
        planned = []  # (user, exam row, number, started_at)
        for uid, hired, exam in pairs:
            if len(planned) >= self.n_attempts:
                break
            started = self.when(_aware(hired))
            for number in (1, 2, 3):
                planned.append((uid, exam, number, started))
                # a retake follows a fail (decided below from the score); plan it with the odds
                if rng.random() > (0.27 if number == 1 else 0.4) or len(planned) >= self.n_attempts:
                    break
                started = min(self.now - timedelta(hours=2), started + timedelta(days=1 + rng.randrange(14)))
        self.attempts_by_user: dict[int, list] = defaultdict(list)
        attempt_ids = w.ids(ExamAttempt.__table__, len(planned))
        entry_ids = w.ids(RecordEntry.__table__, len(planned))
        aq_ids = iter(w.ids(AttemptQuestion.__table__, len(planned) * QUESTIONS_PER_ATTEMPT))
        answer_ids = iter(w.ids(AttemptAnswer.__table__, len(planned) * QUESTIONS_PER_ATTEMPT))
        attempts, entries, slots, answers = [], [], [], []
        for (uid, exam, number, started), attempt_id, entry_id in zip(planned, attempt_ids, entry_ids):
            exam_id, slug, title, course_id, level, bank_id = exam
            ability = self.ability[uid] + 0.4 * (number - 1)
            chosen = rng.sample(self.bank_questions[bank_id], QUESTIONS_PER_ATTEMPT)
            submitted = started + timedelta(minutes=5 + rng.randrange(14), seconds=rng.randrange(60))
            score, version_ids = 0.0, []
            for position, fact in enumerate(chosen):
                version = fact["versions"][-1] if started >= self.v2_from else fact["versions"][0]
                version_ids.append(version)
                response, points = self._answer(fact, ability)
                score += points
                aq_id = next(aq_ids)
                order = [f"o{i}" for i in range(1, 5)] if fact["type"] != "truefalse" else []
                rng.shuffle(order)
                slots.append({"id": aq_id, "attempt_id": attempt_id, "position": position, "question_id": fact["id"],
                              "question_version_id": version, "question_type": fact["type"], "option_order": order,
                              "points": 1.0})
                answers.append({"id": next(answer_ids), "attempt_question_id": aq_id, "response": response,
                                "seq": position + 1, "saved_at": submitted, "points": points, "marked_by_id": None,
                                "marked_at": None, "marker_comment": ""})
            percent = round(100.0 * score / QUESTIONS_PER_ATTEMPT, 2)
            passed = percent >= 60.0
            band = self.band_for(percent, passed)
            attempts.append({"id": attempt_id, "exam_id": exam_id, "user_id": uid, "number": number,
                             "state": "graded", "started_at": started, "deadline": started + timedelta(minutes=20),
                             "submitted_at": submitted, "auto_submitted": False, "score": score,
                             "max_score": float(QUESTIONS_PER_ATTEMPT), "percent": percent, "passed": passed,
                             "band": band, "graded_at": submitted, "record_entry_id": entry_id})
            entries.append(self._entry(entry_id, uid, "exam", title, submitted, course_id=course_id, score=score,
                                       max_score=float(QUESTIONS_PER_ATTEMPT), passed=passed,
                                       source_type="exam_attempt", source_id=attempt_id,
                                       details={"attempt_id": attempt_id, "exam_id": exam_id, "exam_slug": slug,
                                                "attempt": number, "auto_submitted": False, "pass_percent": 60.0,
                                                "question_version_ids": version_ids}))
            self.attempts_by_user[uid].append((course_id, passed, submitted))
        w.insert(RecordEntry.__table__, entries)
        w.insert(ExamAttempt.__table__, attempts)
        w.insert(AttemptQuestion.__table__, slots)
        w.insert(AttemptAnswer.__table__, answers)
        self.entry_count = len(entries)

    def _entry(self, entry_id: int, uid: int, kind: str, title: str, occurred: datetime, *, course_id=None,
               score=None, max_score=None, passed=None, source_type=None, source_id=None, recorded_by=None,
               details=None, period=None, valid_until=None, corrects=None, reason="") -> dict:
        percent = round(100.0 * score / max_score, 2) if score is not None and max_score else None
        return {"id": entry_id, "user_id": uid, "kind": kind, "course_id": course_id, "title": title, "score": score,
                "max_score": max_score, "percent": percent, "passed": passed, "band": self.band_for(percent, passed),
                "occurred_at": occurred, "period": period, "valid_until": valid_until, "source_type": source_type,
                "source_id": source_id, "recorded_by_id": recorded_by, "corrects_id": corrects, "reason": reason,
                "details": details or {}, "created_at": occurred}

    # --- practicals -----------------------------------------------------------------------------

    def practicals(self, w: Writer) -> None:
        from lms.models import (AuditEvent, Practical, PracticalCorrection, PracticalScore, RecordEntry,
                                RubricCriterion, RubricVersion, Scenario, ScriptVersion)

        rng, now = self.rng, self.now
        scenarios, scripts, rubrics, criteria = [], [], [], []
        self.scenarios = []  # (id, slug, level, course id, [script ids], [rubric ids], criteria of the newest)
        titles = ("宽带报修", "话费争议", "套餐变更", "投诉升级", "销户挽留", "停机复机", "国际漫游", "积分兑换",
                  "装机预约", "老年客户")
        weights = (2, 1, 1, 1, 2)
        keys = ("greeting", "verify", "solution", "empathy", "compliance")
        criterion_titles = ("开场问候", "身份核实", "解决方案", "同理心", "合规用语")
        scenario_ids = iter(w.ids(Scenario.__table__, 10))
        script_ids = iter(w.ids(ScriptVersion.__table__, 20))
        rubric_ids = iter(w.ids(RubricVersion.__table__, 20))
        criterion_ids = iter(w.ids(RubricCriterion.__table__, 100))
        for n, title in enumerate(titles):
            sid, level = next(scenario_ids), n // 2
            course = self.courses_by_level[level][3 + n % 2]
            slug = f"scenario-{n + 1:02d}"
            scenarios.append({"id": sid, "slug": slug, "course_id": course["id"], "title": title, "star_level": level,
                              "source_path": "", "source_hash": "", "source_text": "", "retired_at": None,
                              "created_at": now - timedelta(days=700), "updated_at": now - timedelta(days=200)})
            script_list, rubric_list, newest = [], [], []
            for number in (1, 2) if n % 3 == 0 else (1,):
                script_id, rubric_id = next(script_ids), next(rubric_ids)
                script_list.append(script_id)
                rubric_list.append(rubric_id)
                scripts.append({"id": script_id, "scenario_id": sid, "number": number, "title": title,
                                "star_level": level, "minutes": 10, "summary": "", "persona_html": "<p>客户</p>",
                                "situation_html": "<p>情境</p>", "steps": [{"title": "开场", "lines": {}, "good": "",
                                                                             "phrasings": [], "mistakes": []}],
                                "content_hash": f"s{sid}-{number}", "created_at": now - timedelta(days=700 - 300 * number),
                                "created_by_id": self.trainers[0]})
                rubrics.append({"id": rubric_id, "scenario_id": sid, "number": number, "pass_percent": 75.0,
                                "content_hash": f"r{sid}-{number}", "created_at": now - timedelta(days=700 - 300 * number),
                                "created_by_id": self.trainers[0]})
                newest = []
                for position, key in enumerate(keys):
                    cid = next(criterion_ids)
                    newest.append((cid, key, criterion_titles[position], weights[position], key == "compliance"))
                    criteria.append({"id": cid, "rubric_version_id": rubric_id, "position": position, "key": key,
                                     "title": criterion_titles[position], "weight": weights[position],
                                     "fatal": key == "compliance", "allow_na": False,
                                     "levels": ["不合格", "基本合格", "良好", "优秀"]})
            self.scenarios.append((sid, slug, level, course["id"], script_list, rubric_list, newest, title))
        w.insert(Scenario.__table__, scenarios)
        w.insert(ScriptVersion.__table__, scripts)
        w.insert(RubricVersion.__table__, rubrics)
        w.insert(RubricCriterion.__table__, criteria)

        target = round(self.n_entries * 0.075)
        lenient = self.mentors[0]
        bias = {mentor: rng.gauss(0.0, 0.3) for mentor in self.mentors}
        bias[lenient] = 3.0
        planned = []
        agents = [agent for agent in self.agents if agent[4] is not None]
        while len(planned) < target:
            uid, team, level, hired, mentor = rng.choice(agents)
            scenario = rng.choice([s for s in self.scenarios if s[2] <= level] or self.scenarios[:2])
            signer = mentor if rng.random() < 0.85 else rng.choice(self.team_mentors[team] + [lenient])
            planned.append((uid, scenario, signer, self.when(_aware(hired)), None))
        practicals, scores, entries, audits, corrections = [], [], [], [], []
        practical_ids = list(w.ids(Practical.__table__, len(planned) * 2))
        entry_ids = iter(w.ids(RecordEntry.__table__, len(planned) * 3))
        score_ids = iter(w.ids(PracticalScore.__table__, len(planned) * 2 * 5))
        audit_ids = iter(w.ids(AuditEvent.__table__, len(planned) * 3))
        queue, used = list(planned), 0
        self.practicals_passed: dict[int, set[int]] = defaultdict(set)  # user -> course ids
        while queue:
            uid, scenario, signer, signed_at, reobserves = queue.pop(0)
            pid = practical_ids[used]
            used += 1
            sid, slug, level, course_id, script_list, rubric_list, newest, title = scenario
            version = -1 if signed_at >= now - timedelta(days=100) else 0
            ability = self.ability[uid] + bias.get(signer, 0.0) + (0.8 if reobserves else 0.0)
            marks, earned, details_criteria, fatal_failed = [], 0, [], []
            for cid, key, ctitle, weight, fatal in newest:
                points = max(0, min(3, round(1.9 + 0.8 * ability + rng.gauss(0, 0.7))))
                marks.append((cid, points))
                earned += weight * points
                if fatal and points == 0:
                    fatal_failed.append(key)
                details_criteria.append({"criterion_id": cid, "key": key, "title": ctitle, "weight": weight,
                                         "max_points": 3, "fatal": fatal, "points": points, "na": False,
                                         "earned": weight * points, "comment": ""})
            max_score = float(3 * sum(weights))
            percent = round(100.0 * earned / max_score, 2)
            passed = percent >= 75.0 and not fatal_failed
            entry_id = next(entry_ids)
            entries.append(self._entry(
                entry_id, uid, "practical", title, signed_at, course_id=course_id, score=float(earned),
                max_score=max_score, passed=passed, source_type="practical", source_id=pid, recorded_by=signer,
                details={"practical_id": pid, "scenario": slug, "script_version_id": script_list[version],
                         "script_version": len(script_list) if version == -1 else 1,
                         "rubric_version_id": rubric_list[version], "rubric_version": len(rubric_list) if version == -1 else 1,
                         "pass_percent": 75.0, "percent": percent, "fatal_failed": fatal_failed,
                         "criteria": details_criteria, "mood": "calm", "overall_comment": "", "work_on": ""}))
            practicals.append({"id": pid, "agent_id": uid, "scenario_id": sid, "status": "signed",
                               "scheduled_for": (signed_at - timedelta(days=2)).date(), "scheduled_by_id": signer,
                               "reobservation_of_id": reobserves, "created_at": signed_at - timedelta(days=3),
                               "cancelled_at": None, "signed_by_id": signer, "signed_at": signed_at,
                               "script_version_id": script_list[version], "rubric_version_id": rubric_list[version],
                               "mood": rng.choice(("calm", "angry", "confused")), "overall_comment": "",
                               "work_on": "" if passed else "加强核实与安抚", "record_entry_id": entry_id})
            scores.extend({"id": next(score_ids), "practical_id": pid, "criterion_id": cid, "position": position,
                           "points": points, "comment": ""} for position, (cid, points) in enumerate(marks))
            audits.append({"id": next(audit_ids), "actor_id": signer, "action": "practical.signed",
                           "subject_type": "practical", "subject_id": pid,
                           "details": {"entry_id": entry_id, "passed": passed}, "created_at": signed_at})
            if passed:
                self.practicals_passed[uid].add(course_id)
            elif reobserves is None and rng.random() < 0.8 and signed_at < now - timedelta(days=25):
                queue.append((uid, scenario, signer, signed_at + timedelta(days=3 + rng.randrange(20)), pid))
            if rng.random() < 0.005:  # a trainer corrects the result
                correction_id = next(entry_ids)
                corrected = dict(entries[-1], id=correction_id, corrects_id=entry_id, reason="复核更正评分",
                                 recorded_by_id=self.trainers[1], occurred_at=signed_at + timedelta(days=2),
                                 created_at=signed_at + timedelta(days=2))
                entries.append(corrected)
                corrections.append({"id": len(corrections) + 1, "practical_id": pid, "author_id": self.trainers[1],
                                    "reason": "复核更正评分", "record_entry_id": correction_id,
                                    "created_at": signed_at + timedelta(days=2)})
                audits.append({"id": next(audit_ids), "actor_id": self.trainers[1], "action": "practical.corrected",
                               "subject_type": "practical", "subject_id": pid, "details": {"entry_id": correction_id},
                               "created_at": signed_at + timedelta(days=2)})
        w.insert(RecordEntry.__table__, entries)
        w.insert(Practical.__table__, practicals)
        w.insert(PracticalScore.__table__, scores)
        if corrections:
            base = w.ids(PracticalCorrection.__table__, len(corrections)).start
            for row in corrections:
                row["id"] += base - 1
            w.insert(PracticalCorrection.__table__, corrections)
        w.insert(AuditEvent.__table__, audits)
        self.entry_count += len(entries)

    # --- course completions, lessons read -------------------------------------------------------

    def completions(self, w: Writer) -> None:
        from lms.clock import add_months
        from lms.models import LessonProgress, RecordEntry

        rng, now = self.rng, self.now
        entries, progress = [], []
        for uid, team, level, hired, mentor in self.agents:
            start = _aware(hired)
            done_levels = list(range(level))
            for course_level in done_levels + [level]:
                for course in self.courses_by_level[course_level]:
                    current = course_level == level
                    if course["kind"] == "elective" and rng.random() < 0.6:
                        continue
                    if current and rng.random() < 0.5:
                        # in progress: some lessons read
                        for lesson in self.lessons[course["id"]][:rng.randrange(0, 4)]:
                            progress.append({"user_id": uid, "lesson_id": lesson, "opened_at": self.when(start),
                                             "completed_at": self.when(start)})
                        continue
                    if course_level < level - 1:  # long done, before the year for most
                        met = start + timedelta(days=int((self.now - start).days * (course_level + 0.9) / (level + 1)))
                    else:
                        met = self.when(start)
                    met = min(met, now - timedelta(hours=1))
                    for lesson in self.lessons[course["id"]]:
                        progress.append({"user_id": uid, "lesson_id": lesson, "opened_at": met - timedelta(days=3),
                                         "completed_at": met - timedelta(days=2)})
                    valid_until = add_months(met, course["valid_months"]) if course["valid_months"] else None
                    entries.append((uid, course, met, valid_until))
        entry_ids = w.ids(RecordEntry.__table__, len(entries))
        w.insert(RecordEntry.__table__, [
            self._entry(entry_id, uid, "course", course["title"], met, course_id=course["id"], passed=True,
                        source_type="course", source_id=course["id"], valid_until=valid_until,
                        details={"cycle": 1, "cycle_start": None})
            for (uid, course, met, valid_until), entry_id in zip(entries, entry_ids)])
        for row, pid in zip(progress, w.ids(LessonProgress.__table__, len(progress))):
            row["id"] = pid
        w.insert(LessonProgress.__table__, progress)
        self.entry_count += len(entries)

    # --- monthly customer evaluations -----------------------------------------------------------

    def evaluations(self, w: Writer) -> None:
        from lms.models import AuditEvent, RecordEntry

        rng, now = self.rng, self.now
        months = []
        moment = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
        for _ in range(12):
            moment = (moment - timedelta(days=1)).replace(day=1)
            months.append(moment)
        rows = []
        for uid, team, level, hired, mentor in self.agents:
            for month in months:
                if _aware(hired) > month:
                    continue
                rows.append((uid, month, min(100.0, round(84 + 5 * self.ability[uid] + rng.gauss(0, 4), 1))))
        ids = w.ids(RecordEntry.__table__, len(rows))
        w.insert(RecordEntry.__table__, [
            self._entry(entry_id, uid, "evaluation", _month(month), self._imported(month),
                        score=score, max_score=100.0, passed=score >= EVALUATION_PASS,
                        source_type="evaluation_import", recorded_by=self.trainers[2], period=_month(month),
                        details={"sample_size": 20 + rng.randrange(40), "comment": "", "source": "满意度.xlsx"})
            for (uid, month, score), entry_id in zip(rows, ids)])
        audits = [{"id": audit_id, "actor_id": self.trainers[2], "action": "evaluations.imported",
                   "subject_type": "evaluation_import", "subject_id": n,
                   "details": {"period": _month(month), "created": self.n_agents},
                   "created_at": self._imported(month)}
                  for n, (month, audit_id) in enumerate(zip(months, w.ids(AuditEvent.__table__, len(months))), 1)]
        w.insert(AuditEvent.__table__, audits)
        self.entry_count += len(rows)

    def _imported(self, month: datetime) -> datetime:
        """A month's evaluations are imported on the 3rd of the next month (or just now)."""
        return min((month + timedelta(days=35)).replace(day=3, hour=2), self.now - timedelta(hours=1))

    # --- classroom sessions and attendance ------------------------------------------------------

    def classroom(self, w: Writer) -> None:
        from lms.models import AuditEvent, RecordEntry
        from lms.models.classroom import ClassAttendance, ClassSession

        rng, now = self.rng, self.now
        remaining = max(0, self.n_entries - self.entry_count)
        by_team = defaultdict(list)
        for uid, team, level, hired, mentor in self.agents:
            by_team[team].append((uid, hired))
        sessions, attendance, entries, audits = [], [], [], []
        session_budget = max(1, round(remaining / (self.n_agents / len(self.teams))) + 1)
        session_ids = iter(w.ids(ClassSession.__table__, session_budget))
        attendance_ids = iter(w.ids(ClassAttendance.__table__, remaining + TEAM_SIZE * 2))
        entry_ids = iter(w.ids(RecordEntry.__table__, remaining + TEAM_SIZE * 2))
        audit_ids = iter(w.ids(AuditEvent.__table__, session_budget))
        count = 0
        while count < remaining and len(sessions) < session_budget:
            team = self.teams[len(sessions) % len(self.teams)]
            course = rng.choice(self.course_rows)
            starts = self.when().replace(minute=0)
            if starts > now - timedelta(days=1):
                starts -= timedelta(days=2)
            instructor = rng.choice(self.trainers)
            sid = next(session_ids)
            title = f"{course['title']} 面授"
            sessions.append({"id": sid, "title": title, "course_id": course["id"], "instructor_id": instructor,
                             "location": f"培训室 {1 + len(sessions) % 4}", "online_url": "", "starts_at": starts,
                             "ends_at": starts + timedelta(hours=2), "capacity": None, "signup_required": False,
                             "signup_cutoff_hours": 24, "audience": {"teams": [team]}, "description": "",
                             "survey_template_id": None, "attendance_closed_at": starts + timedelta(hours=3),
                             "cancelled_at": None, "created_by_id": instructor,
                             "created_at": starts - timedelta(days=14)})
            audits.append({"id": next(audit_ids), "actor_id": instructor, "action": "attendance_closed",
                           "subject_type": "class_session", "subject_id": sid, "details": {},
                           "created_at": starts + timedelta(hours=3)})
            for uid, hired in by_team[team]:
                if _aware(hired) > starts:
                    continue
                status = rng.choices(("present", "late", "excused", "absent"), (85, 5, 3, 7))[0]
                attendance.append({"id": next(attendance_ids), "session_id": sid, "user_id": uid, "status": status,
                                   "checked_in_at": starts + timedelta(minutes=rng.randrange(-10, 20))
                                   if status in ("present", "late") else None,
                                   "method": "code" if status in ("present", "late") else "manual",
                                   "marked_by_id": None if status in ("present", "late") else instructor,
                                   "updated_at": starts + timedelta(hours=3)})
                passed = True if status in ("present", "late") else (None if status == "excused" else False)
                entries.append(self._entry(next(entry_ids), uid, "attendance", title, starts, course_id=course["id"],
                                           passed=passed, source_type="class_session", source_id=sid,
                                           recorded_by=instructor, details={"status": status, "session_id": sid}))
                count += 1
        w.insert(ClassSession.__table__, sessions)
        w.insert(RecordEntry.__table__, entries)
        w.insert(ClassAttendance.__table__, attendance)
        w.insert(AuditEvent.__table__, audits)
        self.entry_count += len(entries)

    # --- plans, cohorts -------------------------------------------------------------------------

    def plans(self, w: Writer) -> None:
        from lms.models import AuditEvent
        from lms.models.plans import Assignment, Cohort, CohortMember, TrainingPlan

        now = self.now
        plan_id = w.ids(TrainingPlan.__table__, 1).start
        self.center.plan_id = plan_id
        w.insert(TrainingPlan.__table__, [{"id": plan_id, "name": f"{now.year} 年度在岗培训计划",
                                           "description": "各班组与各星级的年度必修安排", "created_by_id": self.trainers[0],
                                           "created_at": self.year_start, "archived_at": None}])
        rows = []

        def assign(**fields):
            starts = fields.pop("starts")
            rows.append({"plan_id": plan_id, "course_id": None, "exam_id": None, "scenario_id": None,
                         "target_user_id": None, "target_team": None, "target_level": None, "target_cohort_id": None,
                         "starts_on": starts, "due_on": starts + timedelta(days=30), "month": _month(_aware(starts)),
                         "created_by_id": self.trainers[0], "created_at": self.year_start, "cancelled_at": None,
                         **fields})

        for n, team in enumerate(self.teams):
            course = self.courses_by_level[1 + n % 4][n % 6]
            assign(item_kind="course", course_id=course["id"], target_kind="team", target_team=team,
                   starts=(now - timedelta(days=20 + 30 * (n % 10))).date())
        for level in range(1, 6):
            refresher = self.courses_by_level[level][9]
            assign(item_kind="course", course_id=refresher["id"], target_kind="level", target_level=level,
                   starts=(now - timedelta(days=40 * level)).date())
            assign(item_kind="exam", exam_id=self.exam_rows[-1][0], target_kind="level", target_level=level,
                   starts=(now - timedelta(days=60)).date())
        for n, scenario in enumerate(self.scenarios[:4]):
            assign(item_kind="scenario", scenario_id=scenario[0], target_kind="team", target_team=self.teams[n % len(self.teams)],
                   starts=(now - timedelta(days=15)).date())
        for row, aid in zip(rows, w.ids(Assignment.__table__, len(rows))):
            row["id"] = aid
        # new-hire intakes: level-0 agents by hire month
        intakes = defaultdict(list)
        for uid, team, level, hired, mentor in self.agents:
            if level == 0:
                intakes[f"{hired.year}-{hired.month:02d}"].append(uid)
        cohort_ids = w.ids(Cohort.__table__, len(intakes))
        cohorts, members = [], []
        for (month, uids), cid in zip(sorted(intakes.items()), cohort_ids):
            cohorts.append({"id": cid, "name": f"{month} 新员工入职批次", "description": "",
                            "created_at": now - timedelta(days=90)})
            members.extend({"cohort_id": cid, "user_id": uid} for uid in uids)
        w.insert(Cohort.__table__, cohorts)
        w.insert(CohortMember.__table__, members)
        w.insert(Assignment.__table__, rows)
        w.insert(AuditEvent.__table__, [{"id": w.ids(AuditEvent.__table__, 1).start, "actor_id": self.trainers[0],
                                         "action": "plan.created", "subject_type": "training_plan",
                                         "subject_id": plan_id, "details": {}, "created_at": self.year_start}])


def print_counts(center: Center) -> None:
    interesting = ("users", "courses", "lessons", "questions", "question_versions", "exams", "exam_attempts",
                   "attempt_questions", "attempt_answers", "record_entries", "practicals", "practical_scores",
                   "lesson_progress", "class_sessions", "class_attendance", "assignments", "cohort_members",
                   "star_changes", "audit_events")
    print("  rows: " + ", ".join(f"{name} {center.counts.get(name, 0):,}" for name in interesting))


def kinds(database_url: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = dict(connection.execute(sa.text("SELECT kind, COUNT(*) FROM record_entries GROUP BY kind")).all())
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=3000, help="agents, mentors included (default 3000)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of agents/attempts/entries (e.g. 0.05)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file (postgresql+psycopg://... works)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file and print its path")
    parser.add_argument("--sample-content", action="store_true",
                        help="import the sample content (lms sync) first, as benchmarks/center_day.py does")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lms-seed-center-"))
    os.environ.setdefault("LMS_INSTANCE_PATH", str(folder / "instance"))
    url = args.database_url or f"sqlite:///{folder / 'center.sqlite3'}"
    os.environ.setdefault("LMS_DATABASE_URL", url)
    print(f"Seeding {round(args.agents * args.scale):,} agents into {url}")
    center = seed(url, agents=args.agents, scale=args.scale, seed_value=args.seed,
                  sample_content=args.sample_content)
    print(f"  done in {center.seconds:.1f} s")
    print_counts(center)
    print("  record entries by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds(url).items())))
    if not args.database_url and not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    elif not args.database_url:
        print(f"  kept: {folder / 'center.sqlite3'}  (benchmarks/reports.py --reuse {folder / 'center.sqlite3'})")


if __name__ == "__main__":
    main()
