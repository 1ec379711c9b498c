"""The search index and matcher without HTTP: plain text, query parsing, snippets, the trigram index
on SQLite (FTS5) and the refreshes that browser edits call."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import select

from lms import clock
from lms.content.lesson_versions import save_lesson
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import Course, Lesson, Question, Scenario
from lms.models.search import SearchDocument
from lms.rendering import render_markdown
from lms.search import index, services
from tests.conftest import sql_statements, write_course
from tests.exam_support import make_bank


def test_plain_text_strips_tags_keeps_alt_text_and_decodes_entities():
    html = ('<h2>要点</h2><p>先<strong>倾听</strong>，再回应&amp;确认。</p><ul><li>一</li><li>二</li></ul>'
            '<img src="media/a.png" alt="流程图"><script>var secret = 1;</script><p>&lt;b&gt;</p>')
    assert index.plain_text(html) == "要点 先倾听，再回应&确认。 一 二 流程图 <b>"
    assert index.plain_text("") == "" and index.plain_text(None) == ""
    assert index.plain_text("纯文本 &amp; 空格\n\n换行") == "纯文本 & 空格 换行"


def test_parse_query():
    assert services.parse_query("  ").problem == services.EMPTY
    assert services.parse_query(None).problem == services.EMPTY
    assert services.parse_query("长" * 101).problem == services.TOO_LONG
    assert services.parse_query("长" * 100).terms == ("长" * 100,)
    assert services.parse_query("a b c d e f g h i").problem == services.TOO_MANY
    assert services.parse_query("投诉　退费 投诉 QA qa").terms == ("投诉", "退费", "QA")  # full-width space splits
    assert services.parse_query("\x07首问\x1b").terms == ("首问",)


def test_highlight_escapes_first_then_marks():
    pattern = services._pattern(("script", "首问"))
    out = services.highlight("<script>首问</script> & SCRIPT", pattern)
    assert isinstance(out, Markup)
    assert str(out) == ("&lt;<mark>script</mark>&gt;<mark>首问</mark>&lt;/<mark>script</mark>&gt; &amp; "
                        "<mark>SCRIPT</mark>")


def test_snippet_is_cut_around_the_first_match():
    text = "开头" * 100 + "首问负责" + "结尾" * 100
    out = str(services.snippet(text, services._pattern(("首问负责",))))
    assert out.startswith("… ") and out.endswith(" …") and "<mark>首问负责</mark>" in out
    assert len(out) < services.SNIPPET + 40
    assert str(services.snippet("短文", services._pattern(("无",)))) == "短文"  # only the title matched


@pytest.fixture
def course(app, course_root):
    write_course(course_root, "0-01-a", slug="basics-a", lessons=("one", "two"))
    sync_courses(db.session, course_root, clock.utcnow())
    index.refresh_all(db.session)
    db.session.commit()
    return db.session.scalar(select(Course).where(Course.slug == "basics-a"))


def test_long_words_use_the_trigram_index_short_ones_like(course, make_user):
    user = make_user(roles=("trainer",))
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 table is SQLite's; PostgreSQL's ILIKE uses the pg_trgm indexes")
    found = []
    long_word = sql_statements(lambda: found.append(services.search(user, "课正文", clock.utcnow())))
    assert [hit.kind for hit in found[0].hits] == ["lesson", "lesson"]
    assert any("search_documents_fts MATCH" in statement for statement in long_word)
    short = sql_statements(lambda: services.search(user, "正文", clock.utcnow()))
    assert not any("MATCH" in statement for statement in short)
    assert any("LIKE" in statement for statement in short)
    fts_rows = db.session.execute(sa.text("SELECT count(*) FROM search_documents_fts WHERE search_documents_fts "
                                          "MATCH '\"课正文\"'")).scalar()
    assert fts_rows == 2  # the triggers keep the FTS table in step with search_documents


def test_refresh_course_after_a_browser_edit(course, make_user):
    user = make_user(roles=("trainer",))
    lesson = course.lessons[0]
    save_lesson(lesson, title="改过的标题", minutes=4, body_md="新的内容：工单闭环。",
                body_html=render_markdown("新的内容：工单闭环。"), origin="browser", now=clock.utcnow(),
                author_id=user.id)
    index.refresh_course(db.session, course)
    db.session.commit()
    found = services.search(user, "工单闭环", clock.utcnow())
    assert [(hit.kind, str(hit.title)) for hit in found.hits] == [("lesson", "改过的标题")]
    course.lessons[1].retired_at = clock.utcnow()
    index.refresh_course(db.session, course)
    db.session.commit()
    assert db.session.scalar(select(SearchDocument).where(SearchDocument.kind == "lesson",
                                                          SearchDocument.ref_id == course.lessons[1].id)) is None
    course.retired_at = clock.utcnow()
    index.refresh_course(db.session, course)
    db.session.commit()
    assert db.session.scalar(select(sa.func.count()).select_from(SearchDocument)) == 0


def test_questions_follow_their_bank(app, make_user):
    from lms.banks.services import set_retired

    bank = make_bank("svc", per_type=1, types=("single",))
    index.refresh_bank(db.session, bank)
    db.session.commit()
    row = db.session.scalar(select(SearchDocument).where(SearchDocument.kind == "question"))
    assert "题目" in row.body and "错误" not in row.body and "EXPLANATION" not in row.body
    question = db.session.scalar(select(Question))
    set_retired(question, True, clock.utcnow())  # the bank service refreshes the index itself
    assert db.session.scalar(select(SearchDocument).where(SearchDocument.kind == "question")) is None


def test_a_scenario_saved_in_the_browser_is_indexed(app, course_root, make_user):
    from lms.practicals.scripts import create_scenario, update_scenario
    from tests.practicals_support import SCENARIO

    write_course(course_root, "0-01-a", slug="basics-a")
    sync_courses(db.session, course_root, clock.utcnow())
    trainer = make_user(roles=("trainer",))
    course = db.session.scalar(select(Course))
    scenario = create_scenario(author=trainer, slug="web-call", course=course, text=SCENARIO, now=clock.utcnow())
    assert [hit.slug for hit in services.search(trainer, "宽带用户", clock.utcnow()).hits] == ["web-call"]
    update_scenario(scenario, author=trainer, course=course, text=SCENARIO.replace("宽带用户", "光纤客户"),
                    now=clock.utcnow())
    assert services.search(trainer, "宽带用户", clock.utcnow()).hits == []
    assert [hit.kind for hit in services.search(trainer, "光纤客户", clock.utcnow()).hits] == ["scenario"]
    assert db.session.get(Scenario, scenario.id) is not None and db.session.scalar(select(Lesson)) is not None


def test_reindex_command_rebuilds_the_index(course, app):
    db.session.execute(sa.delete(SearchDocument))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "search index: 3 documents, 3 changed" in result.output  # the course and its two lessons
    again = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert "3 documents, 0 changed" in again.output
