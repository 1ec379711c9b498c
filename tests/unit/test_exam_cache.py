"""The exam's caches are never stale (lms/exams/cache.py): versions pinned at start stay shown to
their attempt, a bank change reaches the next start, and two app instances on one database never
serve each other's old lists or pages. The cached sheet is the page the template renders."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms import create_app
from lms.exams import cache
from lms.extensions import db
from lms.models import AttemptQuestion, Question, QuestionVersion
from lms.rendering import render_markdown
from tests.conftest import TEST_CONFIG
from tests.exam_support import SECRETS, add_question, make_bank, make_exam, started_attempt_id

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def edit(question: Question, stem: str, option_text: str) -> QuestionVersion:
    """What the bank editor does: a new version, and the question points at it."""
    current = question.versions[-1]
    data = {"options": [dict(option, text=f"{option_text} {n}") for n, option in enumerate(current.data["options"])]}
    version = QuestionVersion(number=current.number + 1, stem=stem, stem_html=render_markdown(stem), data=data,
                              points=current.points, content_hash=f"edited-{current.number + 1}")
    question.versions.append(version)
    question.version = version.number
    db.session.commit()
    return version


def start_and_open(client, slug: str) -> tuple[int, str]:
    response = client.post(f"/exams/{slug}/start")
    attempt_id = started_attempt_id(response)
    page = client.get(f"/exams/attempts/{attempt_id}")
    assert page.status_code == 200
    return attempt_id, page.get_data(as_text=True)


def sheet_of(client, attempt_id: int) -> str:
    page = client.get(f"/exams/attempts/{attempt_id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def login(client, user) -> None:
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    assert response.status_code == 302


@pytest.fixture
def one_question(app):
    bank = make_bank("one", per_type=1, types=("single",))
    exam = make_exam([(bank, 1)], slug="one")
    return bank, exam, bank.questions[0]


def test_an_edit_after_start_shows_the_old_version_to_that_attempt_and_the_new_one_to_the_next(
        app, make_user, one_question):
    _bank, exam, question = one_question
    first, second = make_user(), make_user()
    first_client, second_client = app.test_client(), app.test_client()
    login(first_client, first)
    login(second_client, second)

    old_id, page = start_and_open(first_client, exam.slug)
    assert "题目 one-single-0" in page and "对的说法 one-single-0" in page
    edit(question, "改过的题目", "改过的选项")

    assert "改过" not in sheet_of(first_client, old_id)  # the cached page of the old version, still right
    new_id, page = start_and_open(second_client, exam.slug)
    assert "改过的题目" in page and "改过的选项 0" in page and "题目 one-single-0" not in page
    assert "改过" not in sheet_of(first_client, old_id)
    pinned = dict(db.session.execute(select(AttemptQuestion.attempt_id, QuestionVersion.number)
                                     .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)).all())
    assert pinned == {old_id: 1, new_id: 2}


def test_a_bank_change_reaches_the_next_start(app, make_user):
    bank = make_bank("kb", per_type=2, types=("single",), tags_for=lambda kind, n: ["宽带"])
    exam = make_exam([(bank, 5, ["宽带"])], slug="kb", shuffle_questions=False)
    drawn = []
    for change in (None, "retire", "add", "retag", "retire-bank"):
        if change == "retire":
            bank.questions[0].retired_at = T0
        elif change == "add":
            add_question(bank, "single", "kb-new", tags=["宽带"])
        elif change == "retag":
            bank.questions[1].tags = ["别的"]
        elif change == "retire-bank":
            bank.retired_at = T0
        db.session.commit()
        client = app.test_client()
        login(client, make_user())
        if change == "retire-bank":
            response = client.post(f"/exams/{exam.slug}/start", follow_redirects=True)
            assert "本考试尚无题目" in response.get_data(as_text=True)
            continue
        attempt_id, _page = start_and_open(client, exam.slug)
        keys = db.session.scalars(select(Question.key).join(AttemptQuestion, AttemptQuestion.question_id == Question.id)
                                  .where(AttemptQuestion.attempt_id == attempt_id).order_by(Question.key)).all()
        drawn.append(keys)
    assert drawn == [["QKEY-kb-single-0", "QKEY-kb-single-1"],
                     ["QKEY-kb-single-1"],
                     ["QKEY-kb-new", "QKEY-kb-single-1"],
                     ["QKEY-kb-new"]]


def test_two_app_instances_never_serve_each_others_stale_cache(app, database_url, make_user, one_question, tmp_path):
    """Two app nodes on one database: a change made through one reaches the next start on the other,
    though the other has the old question in its caches."""
    bank, exam, question = one_question
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                        "LMS_MEDIA_CACHE_DIR": str(tmp_path / "media-other")})
    agents = [make_user() for _ in range(3)]
    clients = [other.test_client() for _ in agents]
    for client, agent in zip(clients, agents):
        login(client, agent)
    # Each request pushes its own context of `other` (as on a real node); `other.app_context()` below
    # only looks into that node's cache.
    first_id, page = start_and_open(clients[0], exam.slug)  # the other node caches version 1
    assert "题目 one-single-0" in page
    with other.app_context():
        assert cache.exam_cache().versions and cache.exam_cache().fragments
    assert not cache.exam_cache().versions  # this node has not seen the question yet

    edit(question, "第二版题目", "第二版选项")  # through this node
    second_id, page = start_and_open(clients[1], exam.slug)
    assert "第二版题目" in page and "题目 one-single-0" not in page
    assert "第二版" not in sheet_of(clients[0], first_id)

    question.retired_at = T0  # retired here, and a new question added here
    add_question(bank, "single", "one-late")
    db.session.commit()
    _third, page = start_and_open(clients[2], exam.slug)
    assert "题目 one-late" in page and "第二版题目" not in page
    with other.app_context():
        other.extensions["sqlalchemy"].engines[None].dispose()


def _without_volatile(html: str) -> str:
    html = re.sub(r'data-server-now="\d+"', "", html)
    return "\n".join(line.strip() for line in html.splitlines() if line.strip())


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_cached_sheet_is_the_page_the_template_renders(app, make_user, language):
    bank = make_bank("all", per_type=2)  # every type, essays too
    exam = make_exam([(bank, 12)], slug="all")
    agent = make_user(preferred_language=language)
    client = app.test_client()
    login(client, agent)
    warm = app.test_client()
    login(warm, make_user(preferred_language=language))
    start_and_open(warm, exam.slug)  # the same versions, in other positions and option orders
    attempt_id, cached = start_and_open(client, exam.slug)
    assert cache.exam_cache().hits > 0
    cache.exam_cache().clear()
    assert _without_volatile(sheet_of(client, attempt_id)) == _without_volatile(cached)
    for secret in SECRETS:
        assert secret not in cached
    positions = [int(n) for n in re.findall(r'<fieldset class="question card" id="q(\d+)" data-slot="\1"', cached)]
    assert positions == list(range(12))
    assert ("Question 12" if language == "en" else "第 12 题") in cached
    assert "\ue000" not in cached and "\ue001" not in cached and "\ue002" not in cached and "\ue003" not in cached


def test_content_holding_a_stand_in_character_is_shown_as_written(app, make_user):
    bank = make_bank("odd", per_type=1, types=("single",))
    question = bank.questions[0]
    edit(question, "奇怪的字符 \ue000 和 \ue001", "选项 \ue002")
    exam = make_exam([(bank, 1)], slug="odd")
    for _ in range(2):
        client = app.test_client()
        login(client, make_user())
        _attempt, page = start_and_open(client, exam.slug)
        assert "奇怪的字符 \ue000 和 \ue001" in page and "选项 \ue002 0" in page
        assert 'id="q0"' in page


def test_answered_slots_show_their_answer_and_the_rest_come_from_the_cache(app, make_user):
    bank = make_bank("two", per_type=2, types=("single", "truefalse"))
    exam = make_exam([(bank, 4)], slug="two")
    agent = make_user()
    client = app.test_client()
    login(client, agent)
    attempt_id, page = start_and_open(client, exam.slug)
    slot = re.search(r'data-slot="(\d+)" data-type="truefalse"', page).group(1)
    response = client.post(f"/exams/attempts/{attempt_id}/save", json={"slot": int(slot), "response": "true",
                                                                       "seq": 1})
    assert response.get_json()["saved"] is True
    page = sheet_of(client, attempt_id)
    assert re.search(rf'name="q{slot}" value="true" checked', page)
    assert page.count(" checked") == 1
    assert re.search(rf'id="q{slot}" data-slot="{slot}" data-type="truefalse" data-seq="1"', page)


def test_a_version_is_only_cached_under_what_the_database_holds(app, one_question):
    """A recreated database may reuse an id: the entry is found by id, creation time and content hash."""
    _bank, _exam, question = one_question
    version = question.versions[0]
    right = cache.version_key(version.id, version.created_at, version.content_hash)
    wrong = cache.version_key(version.id, datetime(2000, 1, 1, tzinfo=timezone.utc), "another")
    assert cache.versions([wrong])[version.id].stem_html == version.stem_html
    assert wrong not in cache.exam_cache().versions
    cache.versions([right])
    assert right in cache.exam_cache().versions


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_page_filled_from_its_stand_ins_is_the_page_rendered_whole(app, make_user, language):
    """The sitting page is the template rendered once with stand-ins and filled per request
    (cache.sheet_page); rendered whole with the same values it is the same bytes: escaping, links,
    answered count, deadline and the user's name included, from the cache and afresh."""
    from flask import render_template
    from flask_login import login_user

    from lms.exams import services
    from lms.models import ExamAttempt

    bank = make_bank("whole", per_type=2, types=("single", "truefalse", "essay"))
    exam = make_exam([(bank, 5)], slug="whole")
    exam.title = '结业 <考试> & "期末"'
    db.session.commit()
    agent = make_user(preferred_language=language, name='李<b>四</b> & "小五"')
    client = app.test_client()
    login(client, agent)
    attempt_id, _page = start_and_open(client, exam.slug)
    slot = int(re.search(r'data-slot="(\d+)" data-type="truefalse"', _page).group(1))
    assert client.post(f"/exams/attempts/{attempt_id}/save",
                       json={"slot": slot, "response": "true", "seq": 7}).get_json()["saved"] is True
    with app.test_request_context("/"):
        login_user(agent)
        attempt = db.session.get(ExamAttempt, attempt_id)
        sheet = cache.Sheet(services.load_sheet(attempt))
        given = dict(now=T0, grace=45, max_seq=7, csrf='token-<&>"', user=agent)
        first, again = cache.sheet_page(attempt, sheet, **given), cache.sheet_page(attempt, sheet, **given)
        values = cache.page_values(attempt, sheet, T0, 7, 'token-<&>"', agent)
        whole = render_template("exams/take.html", exam=attempt.exam, grace=45, total=len(sheet), page=values)
    assert first == again == whole
    assert not any(chr(mark) in whole for mark in range(0xE000, 0xE030))
    assert f'data-attempt="{attempt_id}"' in whole and f'data-user="{agent.id}"' in whole
    assert f'data-save-url="/exams/attempts/{attempt_id}/save"' in whole
    assert f"/login?next=/exams/attempts/{attempt_id}\"" in whole
    assert 'data-csrf="token-&lt;&amp;&gt;&#34;"' in whole
    assert "李&lt;b&gt;四&lt;/b&gt; &amp; &#34;小五&#34;" in whole and "<b>四</b>" not in whole
    assert "结业 &lt;考试&gt; &amp; &#34;期末&#34;" in whole
    assert ("1 of 5 answered" if language == "en" else "已答 1 / 5") in whole, whole[:3000]
    assert 'data-max-seq="7"' in whole and 'data-grace="45"' in whole


def test_the_page_with_a_flash_message_or_a_stand_in_in_its_title_is_rendered_whole(app, make_user):
    bank = make_bank("flash", per_type=1, types=("single",))
    exam = make_exam([(bank, 1)], slug="flash")
    exam.title = "考试 \ue010 \ue015"
    db.session.commit()
    client = app.test_client()
    login(client, make_user())
    attempt_id, page = start_and_open(client, exam.slug)
    assert "考试 \ue010 \ue015" in page and f'data-attempt="{attempt_id}"' in page
    with client.session_transaction() as session:
        session["_flashes"] = [("error", "请先作答再交卷")]
    exam.title = "期末考试"
    db.session.commit()
    page = sheet_of(client, attempt_id)
    assert "请先作答再交卷" in page and "期末考试" in page
    assert "请先作答再交卷" not in sheet_of(client, attempt_id)  # shown once, and not kept in the cached page
