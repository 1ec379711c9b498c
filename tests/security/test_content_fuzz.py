"""Mutated content files: every variant either imports or is refused with `path:line` errors, the
database unchanged, in a bounded time. Seeded, so a failure repeats."""
from __future__ import annotations

import random
import shutil
import time

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.config import PROJECT_ROOT
from lms.content.errors import ContentInvalid
from lms.content.sync import sync_content
from lms.extensions import db
from lms.models import Course, Question, QuestionVersion, Scenario, ScriptVersion, StarLevel

SEED = 20261127
VARIANTS_PER_KIND = 60  # five kinds: 300 variants a run
TIME_LIMIT = 5.0

SNIPPETS = ["&a [x, *a]", "*missing", "!!binary aGVsbG8=", "!!python/object:os.system ls", "{", "]", ": :", "- - -",
            "title: true", "9" * 400, "9" * 5000, "\t", "---", "'unterminated", '"\\uZZZZ"', "? complex key", "<<: {}",
            "x: " + "[" * 200, "ünïcödé: 值", "\x00", "1.5", "-1", "null", "~", "yes", "2026-13-45", "1e309",
            "%YAML 1.1", "!!set {a, b}", "&anchor value", "key: value\nkey: again"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(7)
        where = rng.randrange(len(lines)) if lines else 0
        if choice == 0 and lines:  # drop a line
            lines.pop(where)
        elif choice == 1 and lines:  # repeat a line
            lines.insert(where, lines[where])
        elif choice == 2:  # insert a hostile snippet
            lines.insert(where, rng.choice(SNIPPETS))
        elif choice == 3 and lines:  # replace a value after its colon
            head = lines[where].split(":", 1)[0]
            lines[where] = f"{head}: {rng.choice(SNIPPETS)}"
        elif choice == 4 and lines:  # cut a line in half
            lines[where] = lines[where][: len(lines[where]) // 2]
        elif choice == 5 and lines:  # swap two lines
            other = rng.randrange(len(lines))
            lines[where], lines[other] = lines[other], lines[where]
        else:  # change the indentation
            lines[where] = (" " * rng.randint(0, 6)) + lines[where].lstrip()
    return "\n".join(lines)


def counts() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Course, Question, QuestionVersion, Scenario, ScriptVersion, StarLevel))


@pytest.fixture
def content(app, tmp_path):
    """A copy of the sample content, imported once."""
    courses, banks = tmp_path / "courses", tmp_path / "question_banks"
    shutil.copytree(PROJECT_ROOT / "courses", courses)
    shutil.copytree(PROJECT_ROOT / "question_banks", banks)
    config = {**app.config, "LMS_COURSES_DIR": str(courses), "LMS_BANKS_DIR": str(banks)}
    sync_content(db.session, config, clock.utcnow())
    return config, courses, banks


KINDS = {
    "course": lambda courses, banks: sorted(courses.glob("*/course.md")),
    "lesson": lambda courses, banks: sorted(p for p in courses.glob("*/*.md") if p.name != "course.md"),
    "scenario": lambda courses, banks: sorted(courses.glob("*/scenarios/*.md")),
    "exam": lambda courses, banks: sorted(courses.glob("*/exam.yaml")) + [courses / "ladder.yaml"],
    "bank": lambda courses, banks: sorted(p for p in banks.rglob("*") if p.is_file()),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mutated_files_import_or_are_refused_with_their_line(content, kind):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the parsers are the same on every database: fuzzed once per CI run, on SQLite")
    config, courses, banks = content
    rng = random.Random(f"{SEED}-{kind}")
    files = KINDS[kind](courses, banks)
    assert files
    accepted = False
    for variant in range(VARIANTS_PER_KIND):
        path = rng.choice(files)
        original = path.read_bytes()
        text = original.decode("utf-8")
        path.write_text(mutate(text, rng), encoding="utf-8")
        before = counts()
        started = time.monotonic()
        try:
            sync_content(db.session, config, clock.utcnow())
        except ContentInvalid as refused:
            assert refused.errors, (kind, variant)
            for error in refused.errors:
                assert error.line >= 1 and str(error).split(":", 1)[0], (kind, variant, str(error))
            assert counts() == before, (kind, variant)  # refused: nothing written
        else:
            accepted = True
        finally:
            path.write_bytes(original)
        assert time.monotonic() - started < TIME_LIMIT, (kind, variant, path.name)
        if accepted:  # the variant was valid content: import the original again for the next one
            sync_content(db.session, config, clock.utcnow())
            accepted = False
