"""The sample curriculum (courses/ and question_banks/ of the repository) is a programme a training
manager can run: CI checks it on every push, on SQLite and PostgreSQL.

- `lms sync --check` passes (it also resolves every media reference and practical of every lesson);
- every course has a type, every required course an exam, every required skills course a practical;
- every exam pool's bank holds at least twice what the pool draws (a retake sees fresh questions);
- the ladder runs from star 0 to star 5, and every course is open to at least one demo agent;
- no lesson cites the Contract Law (replaced by the Civil Code on 2021-01-01) as current law.

These read the parsed specs (the same parsers `lms sync` runs), not the database, except the demo check.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.config import PROJECT_ROOT

COURSES = PROJECT_ROOT / "courses"
BANKS = PROJECT_ROOT / "question_banks"
LEVELS = range(0, 6)

IMAGE = re.compile(r"media/[^\s)\"'<>]+\.(?:png|jpe?g|gif|webp|svg)\b", re.IGNORECASE)
AUDIO = re.compile(r"media/[^\s)\"'<>]+\.(?:mp3|m4a|aac|ogg|oga|opus|wav)\b", re.IGNORECASE)
# 《合同法》 (not 《劳动合同法》, which is in force) is only named as replaced: these words say so
CONTRACT_LAW = re.compile(r"(?<!劳动)合同法(?![律规务])")
REPLACED = ("废止", "失效", "取代", "替代", "不再有效", "不再适用", "停止施行", "已被")


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(COURSES), "LMS_BANKS_DIR": str(BANKS)}


@lru_cache(maxsize=1)
def samples():
    """The parsed samples: courses, banks (by slug), exams and scenarios, each loader's errors raised."""
    from lms.content.banks import load_bank_tree
    from lms.content.courses import load_course_tree
    from lms.content.exams import load_exam_files
    from lms.content.scenarios import load_scenario_tree

    courses, errors = load_course_tree(COURSES)
    banks, bank_errors = load_bank_tree(BANKS)
    exams, exam_errors = load_exam_files(COURSES, known_banks={bank.slug for bank in banks})
    scenarios, scenario_errors = load_scenario_tree(COURSES)
    problems = [str(error) for error in errors + bank_errors + exam_errors + scenario_errors]
    assert not problems, problems
    return courses, {bank.slug: bank for bank in banks}, exams, scenarios


def lesson_files() -> list[Path]:
    return sorted(path for folder in COURSES.iterdir() if folder.is_dir()
                  for path in folder.glob("*.md") if path.name != "course.md")


def test_lms_sync_check_passes_on_the_samples(app):
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("courses: ") and "valid" in line for line in lines), result.output
    assert any(line.startswith("exams: ") for line in lines), result.output


def test_the_ladder_runs_from_new_hire_to_five_stars(app):
    courses, _banks, _exams, _scenarios = samples()
    required = {level: [c.slug for c in courses if c.star_level == level and c.kind == "required"] for level in LEVELS}
    assert all(required[level] for level in LEVELS), required
    assert {c.star_level for c in courses} == set(LEVELS)


def test_every_course_has_a_type(app):
    from lms.models.courses import COURSE_TYPES

    courses, _banks, _exams, _scenarios = samples()
    untyped = [(c.folder, c.course_type) for c in courses if c.course_type not in COURSE_TYPES]
    assert not untyped
    assert {c.course_type for c in courses} == set(COURSE_TYPES)  # the catalog filter has something in each


def test_every_required_course_has_an_exam(app):
    courses, _banks, exams, _scenarios = samples()
    examined = {exam.course_slug for exam in exams}
    missing = [c.folder for c in courses if c.kind == "required" and c.slug not in examined]
    assert not missing


def test_every_required_skills_course_has_a_practical_that_exists(app):
    courses, _banks, _exams, scenarios = samples()
    known = {scenario.slug for scenario in scenarios}
    skills = [c for c in courses if c.kind == "required" and c.course_type == "skills"]
    assert skills
    assert not [c.folder for c in skills if not c.practicals]
    unknown = [(c.folder, slug) for c in courses for slug in c.practicals if slug not in known]
    assert not unknown


def test_every_exam_pool_has_twice_its_draw_in_its_bank(app):
    """A pool draws `count` questions carrying all its tags; its bank holds at least twice as many,
    so a retake is not the same paper."""
    _courses, banks, exams, _scenarios = samples()
    assert exams
    short = []
    for exam in exams:
        for pool in exam.pools:
            matching = [q for q in banks[pool.bank].questions if set(pool.tags) <= set(q.tags)]
            if len(matching) < 2 * pool.count:
                short.append(f"{exam.path}:{pool.line}: {pool.bank} {list(pool.tags)} draws {pool.count}, "
                             f"holds {len(matching)}")
    assert not short, "\n".join(short)


def test_lessons_carry_pictures_and_a_call_recording_that_exist(app):
    """At least two lessons show an image and one plays an audio clip, each file in its course's media/."""
    with_image, with_audio, missing = set(), set(), []
    for path in lesson_files():
        text = path.read_text(encoding="utf-8")
        for pattern, found in ((IMAGE, with_image), (AUDIO, with_audio)):
            for reference in pattern.findall(text):
                found.add(path)
                if not (path.parent / reference).is_file():
                    missing.append(f"{path.relative_to(PROJECT_ROOT)}: {reference}")
    assert not missing
    assert len(with_image) >= 2 and len(with_audio) >= 1, (sorted(map(str, with_image)), sorted(map(str, with_audio)))


def test_no_lesson_cites_the_contract_law_as_current(app):
    """The Contract Law was replaced by the Civil Code on 2021-01-01: a sentence naming it says so.
    The Consumer Rights Protection Law is named by its name."""
    texts = {path: path.read_text(encoding="utf-8") for path in lesson_files()}
    texts.update({path: path.read_text(encoding="utf-8") for path in sorted(BANKS.glob("*.y*ml"))})
    texts.update({path: path.read_text(encoding="utf-8") for path in sorted(COURSES.glob("*/scenarios/*.md"))})
    current = []
    for path, text in texts.items():
        for sentence in re.split(r"[。！？；\n]", text):
            if CONTRACT_LAW.search(sentence) and not any(word in sentence for word in REPLACED):
                current.append(f"{path.relative_to(PROJECT_ROOT)}: {sentence.strip()}")
    assert not current, "\n".join(current)
    assert any("消费者权益保护法》" in text for path, text in texts.items() if path.suffix == ".md")


def test_every_course_is_open_to_a_demo_agent(app, demo_database):
    """With the samples synced and the demo built, demo agents stand at every star level 0-5, and
    every live course is open (neither above their star nor behind a prerequisite) to one of them."""
    from lms.catalog.services import load_progress
    from lms.clock import utcnow
    from lms.extensions import db
    from lms.demo import DEMO_ACCOUNTS
    from lms.models import Course, User

    now = utcnow()
    numbers = [account.employee_no for account in DEMO_ACCOUNTS]
    agents = [user for user in db.session.scalars(select(User).where(User.employee_no.in_(numbers)))
              if user.has_role("agent") and not user.can_author]
    assert {agent.star_level for agent in agents} == set(LEVELS)
    progress = [load_progress(agent, now) for agent in agents]
    courses = list(db.session.scalars(select(Course).where(Course.retired_at.is_(None))))
    assert {course.star_level for course in courses} == set(LEVELS)
    closed = [course.slug for course in courses if not any(p.access(course).is_open for p in progress)]
    assert not closed
