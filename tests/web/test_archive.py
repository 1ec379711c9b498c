"""The training archive, the staff list that leads to it, and the mentor's view of mentees' learning."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.mentoring import services as mentoring
from lms.models import Certificate, Course, Exam, ExamAttempt, StarLevel
from lms.promotions.services import record_star_change
from lms.records.services import add_entry
from tests.conftest import assert_access, count_queries, write_course

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
EN = {"Accept-Language": "en"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section class="[^"]*" id="{section_id}">(.*?)</section>', html, re.S)
    assert match, section_id
    return match.group(1)


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


@pytest.fixture
def now(frozen_now):
    return frozen_now(NOW)


@pytest.fixture
def people(catalog, make_user, now):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    agent = make_user(star_level=0, mentor=mentor, name="张晓", team="热线二组", hire_date=date(2025, 3, 1))
    return {"agent": agent, "mentor": mentor}


# --- who may open what ----------------------------------------------------------------------------

VIEWERS = ["anonymous", "self", "mentor", "mentor_unlinked", "agent_linked_as_mentor", "other_agent", "trainer",
           "admin"]
# route -> viewers allowed; {no} is the agent's employee number, {id} their account id
ROUTES = [
    ("/records/me", {"self", "mentor", "mentor_unlinked", "agent_linked_as_mentor", "other_agent", "trainer",
                     "admin"}),
    ("/records/{no}", {"self", "mentor", "trainer", "admin"}),
    ("/records", {"mentor", "mentor_unlinked", "trainer", "admin"}),
    ("/records/{no}?kind=exam&date_from=2026-01-01", {"self", "mentor", "trainer", "admin"}),
    ("/mentoring", {"mentor", "mentor_unlinked"}),
    ("/mentoring/mentees/{id}", {"mentor", "trainer", "admin"}),
]


def viewer_for(role, people, make_user):
    agent = people["agent"]
    if role == "self":
        return agent
    if role == "mentor":
        return people["mentor"]
    if role == "mentor_unlinked":
        return make_user(roles=("mentor",), star_level=4)
    if role == "agent_linked_as_mentor":  # the link without the mentor role gives no mentor powers
        linked = make_user(roles=("agent",), star_level=5)
        agent.mentor = linked
        db.session.commit()
        return linked
    if role == "other_agent":
        return make_user(roles=("agent",), star_level=3)
    return make_user(roles=(role,))


@pytest.mark.parametrize("role", VIEWERS)
@pytest.mark.parametrize("path, allowed", ROUTES, ids=[path for path, _ in ROUTES])
def test_role_route_matrix(people, client, make_user, login_as, role, path, allowed):
    if role != "anonymous":
        login_as(viewer_for(role, people, make_user))
    response = client.get(path.format(no=people["agent"].employee_no, id=people["agent"].id))
    assert_access(response, role, allowed)


def test_my_archive_redirects_to_mine_and_unknown_numbers_are_404(people, client, login_as, make_user):
    login_as(people["agent"])
    response = client.get("/records/me")
    assert response.status_code == 302 and response.location == f"/records/{people['agent'].employee_no}"
    login_as(make_user(roles=("trainer",)))
    assert client.get("/records/NOSUCH").status_code == 404


def test_load_mentee_for_needs_the_mentor_role_and_the_link(people, make_user):
    agent = people["agent"]
    assert mentoring.load_mentee_for(people["mentor"], agent.id) is agent
    linked_agent = make_user(roles=("agent",))
    agent.mentor = linked_agent
    db.session.commit()
    with pytest.raises(mentoring.NotYourMentee):
        mentoring.load_mentee_for(linked_agent, agent.id)
    with pytest.raises(mentoring.NotYourMentee):
        mentoring.load_mentee_for(make_user(roles=("mentor",)), agent.id)
    assert mentoring.load_mentee_for(make_user(roles=("trainer",)), agent.id) is agent


# --- what the archive shows -----------------------------------------------------------------------

def test_personal_data_level_title_and_star_history(people, client, login_as, make_user):
    agent, mentor = people["agent"], people["mentor"]
    admin = make_user(roles=("admin",), name="王经理")
    db.session.add_all([StarLevel(level=1, title="一星坐席"), StarLevel(level=2, title="二星坐席")])
    record_star_change(agent, 1, kind="promotion", actor=admin, reason="考核通过", now=NOW - timedelta(days=60))
    record_star_change(agent, 2, kind="edit", actor=admin, reason="", now=NOW - timedelta(days=30))
    record_star_change(agent, 1, kind="demotion", actor=admin, reason="投诉过多", now=NOW - timedelta(days=5))
    db.session.commit()
    login_as(agent)
    html = client.get(f"/records/{agent.employee_no}", headers=EN).get_data(as_text=True)
    person = text_of(section(html, "person"))
    for expected in (agent.employee_no, "张晓", "热线二组", "Mar 1, 2025", "1-star agent · 一星坐席", "陈刚 (" +
                     mentor.employee_no + ")"):
        assert expected in person, expected
    history = text_of(section(html, "star-history"))
    # newest first: kind, from -> to, who, why
    assert history.index("Demotion 2 → 1 王经理 投诉过多") < history.index("Edited 1 → 2 王经理") \
        < history.index("Promotion 0 → 1 王经理 考核通过")
    assert "To the next star" in html and "二星坐席" in text_of(section(html, "next-star"))


@pytest.fixture
def record(people, make_user):
    """An exam pass 8/10, an exam fail 4/10, a practical 7/9 corrected to 9/9, basics-a complete."""
    agent, mentor = people["agent"], people["mentor"]
    entries = {
        "exam_pass": add_entry(user=agent, kind="exam", title="考试甲", course=course("basics-a"), score=8,
                               max_score=10, passed=True, occurred_at=NOW - timedelta(days=40)),
        "exam_fail": add_entry(user=agent, kind="exam", title="考试乙", course=course("basics-b"), score=4,
                               max_score=10, passed=False, occurred_at=NOW - timedelta(days=20)),
        "practical": add_entry(user=agent, kind="practical", title="投诉处理演练", course=course("basics-a"), score=7,
                               max_score=9, passed=False, occurred_at=NOW - timedelta(days=10), recorded_by=mentor),
        "complete": add_entry(user=agent, kind="course", title="课程 basics-a", course=course("basics-a"), passed=True,
                              occurred_at=NOW - timedelta(days=9)),
    }
    db.session.flush()
    entries["correction"] = add_entry(
        user=agent, kind="practical", title="投诉处理演练", course=course("basics-a"), score=9, max_score=9,
        passed=True, occurred_at=entries["practical"].occurred_at, recorded_by=mentor, corrects=entries["practical"],
        reason="分数录错")
    db.session.commit()
    return entries


def test_entries_with_scores_percent_result_band_and_the_correction_beside(people, record, client, login_as):
    login_as(people["mentor"])
    html = client.get(f"/records/{people['agent'].employee_no}", headers=EN).get_data(as_text=True)
    entries = section(html, "entries")
    rows = re.findall(r'<tr class="([^"]*)" id="entry-(\d+)">(.*?)</tr>', entries, re.S)
    ids = [int(entry_id) for _, entry_id, _ in rows]
    # newest first, the correction right after the entry it corrects
    assert ids == [record["complete"].id, record["practical"].id, record["correction"].id, record["exam_fail"].id,
                   record["exam_pass"].id]
    by_id = {int(entry_id): (classes, text_of(cells)) for classes, entry_id, cells in rows}
    assert by_id[record["exam_pass"].id][1].endswith("Exam 考试甲 8 / 10 80% Passed Good")
    assert by_id[record["exam_fail"].id][1].endswith("4 / 10 40% Not passed Needs improvement")
    practical_classes, practical_text = by_id[record["practical"].id]
    assert "corrected" in practical_classes.split() and "7 / 9 77.8% Not passed" in practical_text
    assert "Corrected" in practical_text
    fix_classes, fix_text = by_id[record["correction"].id]
    assert fix_classes == "correction"
    assert "Correction Reason: 分数录错 · by 陈刚" in fix_text and "9 / 9 100% Passed Excellent" in fix_text
    assert by_id[record["complete"].id][1].endswith("Course 课程 basics-a Passed")


def test_summary_figures(people, record, client, login_as, course_root):
    # a refresher that expired and one due soon
    write_course(course_root, "1-02-s", slug="refresh-soon", level=1, track="refresher", extra="valid_months: 6\n")
    sync_courses(db.session, course_root, utcnow())
    agent = people["agent"]
    add_entry(user=agent, kind="course", title="课程 refresh", course=course("refresh"), passed=True,
              occurred_at=NOW - timedelta(days=400)).valid_until = NOW - timedelta(days=35)
    add_entry(user=agent, kind="course", title="课程 refresh-soon", course=course("refresh-soon"), passed=True,
              occurred_at=NOW - timedelta(days=160)).valid_until = NOW + timedelta(days=20)
    db.session.commit()
    login_as(agent)
    html = client.get(f"/records/{agent.employee_no}", headers=EN).get_data(as_text=True)
    summary = section(html, "summary")
    levels = {int(level): text_of(cells) for level, cells in
              re.findall(r'<tr id="level-(\d)">(.*?)</tr>', summary, re.S)}
    assert levels[0] == "New hire (0 stars) 1 of 2 0 of 1"  # basics-a of basics-a, basics-b; the elective not
    assert levels[1] == "1-star agent 1 of 2 0 of 0"  # refresh-soon is due but counts until it expires
    assert levels[2] == "2-star agent 0 of 1 1 expired 0 of 0"
    # in force: exams 80 and 40, the practical corrected to 100 -> (80 + 40 + 100) / 3 = 73.3; 2 of 3 passed
    assert text_of(section_part(summary, "average-score")) == "Average score 73.3%"
    assert text_of(section_part(summary, "pass-rate")) == "Pass rate 66.7% (2 of 3 passed)"
    text = text_of(summary)
    assert "Refreshers due or expired 课程 refresh Expired on" in text
    assert "课程 refresh-soon Recertification due by" in text
    assert "Expiring next 课程 refresh-soon · valid until Dec 13, 2026" in text
    # the expired completion also shows as a derived row in the record, not the one still valid
    entries = section(html, "entries")
    expiries = re.findall(r'<tr class="expiry" id="expiry-(\d+)">(.*?)</tr>', entries, re.S)
    assert len(expiries) == 1 and "Expired on 10/19/26" in text_of(expiries[0][1])
    assert "课程 refresh" in text_of(expiries[0][1])


def section_part(html: str, part_id: str) -> str:
    match = re.search(rf'<div id="{part_id}">(.*?)</div>', html, re.S)
    assert match, part_id
    return match.group(1)


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="entry-(\d+)"', section(html, "entries"))]


@pytest.mark.parametrize("query, expected", [
    ("kind=exam", ["exam_fail", "exam_pass"]),
    ("kind=practical", ["practical", "correction"]),
    ("date_from=2026-10-30&date_to=2026-11-03", ["exam_fail"]),  # 20 days before NOW: Nov 3, the end day counts
    ("date_to=2026-10-14", ["exam_pass"]),
    ("course={basics_b}", ["exam_fail"]),
    ("course={basics_a}&kind=course", ["complete"]),
    ("", ["complete", "practical", "correction", "exam_fail", "exam_pass"]),
    ("date_from=&date_to=&course=&kind=", ["complete", "practical", "correction", "exam_fail", "exam_pass"]),
])
def test_filters(people, record, client, login_as, query, expected):
    login_as(people["agent"])
    url = f"/records/{people['agent'].employee_no}?" + query.format(basics_a=course("basics-a").id,
                                                                     basics_b=course("basics-b").id)
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown_ids(html) == [record[name].id for name in expected]
    assert "Some filters could not be used" not in html and 'value="None"' not in html


@pytest.mark.parametrize("query, bad_field", [
    ("date_from=yesterday", "date_from"),
    ("date_to=2026-13-45", "date_to"),
    ("course=abc", "course"),
    ("course=999999", "course"),
    ("kind=rumour", "kind"),
    ("date_from=2026-11-20&date_to=2026-11-01", "date_to"),
    ("date_from=%ff&kind=exam", "date_from"),  # (a NUL is refused before any view: tests/security)
])
def test_bad_filters_say_so_and_never_fail(people, record, client, login_as, query, bad_field):
    login_as(people["agent"])
    response = client.get(f"/records/{people['agent'].employee_no}?{query}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Some filters could not be used" in html
    field = re.search(rf'<div class="field has-error">\s*<label for="{bad_field}"', html)
    assert field, bad_field
    if "kind=exam" in query:  # the good filter still applies
        assert shown_ids(html) == [record["exam_fail"].id, record["exam_pass"].id]


@pytest.fixture
def certificates_endpoint(app):
    """Whether certificates.show is there yet (another capability builds it)."""
    return "certificates.show" in app.view_functions


def test_certificates_are_listed_with_their_link(people, record, client, login_as, certificates_endpoint):
    agent = people["agent"]
    if not certificates_endpoint:
        login_as(agent)
        assert "No certificate yet." in client.get(f"/records/{agent.employee_no}", headers=EN).get_data(as_text=True)
        return
    certificate = Certificate(code="ABCD-EFGH-JKLM", user_id=agent.id, kind="course", title="课程 basics-a",
                              record_entry_id=record["complete"].id, issued_at=NOW - timedelta(days=9))
    db.session.add(certificate)
    db.session.commit()
    login_as(agent)
    html = section(client.get(f"/records/{agent.employee_no}", headers=EN).get_data(as_text=True), "certificates")
    assert f'href="/certificates/{certificate.id}"' in html and "ABCD-EFGH-JKLM" in html


def add_record(agent, mentor, n: int) -> None:
    """`n` entries of every kind, a tenth of them corrected, course completions with expiry."""
    courses = [course("basics-a"), course("basics-b"), course("refresh")]
    for i in range(n):
        moment = NOW - timedelta(hours=i + 1)
        kind = ("exam", "practical", "course", "evaluation", "attendance")[i % 5]
        entry = add_entry(user=agent, kind=kind, title=f"条目 {i}", course=courses[i % 3], score=i % 10,
                          max_score=10, passed=i % 3 != 0, occurred_at=moment, recorded_by=mentor)
        if kind == "course":
            entry.valid_until = moment + timedelta(days=(i % 2) * 400 - 200)
        if i % 10 == 1:
            db.session.flush()
            add_entry(user=agent, kind=kind, title=f"条目 {i}", course=entry.course, score=10, max_score=10,
                      passed=True, occurred_at=moment, recorded_by=mentor, corrects=entry, reason="更正")
    db.session.commit()


def test_the_archive_runs_the_same_number_of_queries_for_10_or_1000_entries(people, client, login_as, app):
    agent, mentor = people["agent"], people["mentor"]
    db.session.add(StarLevel(level=1, title="一星坐席", min_months_since_hire=3, min_average_score=60))
    record_star_change(agent, 0, kind="initial", actor=None, reason="", now=NOW - timedelta(days=300))
    add_record(agent, mentor, 10)
    login_as(mentor)
    url = f"/records/{agent.employee_no}?date_from=2025-01-01"
    client.get(url)
    small = count_queries(lambda: client.get(url).status_code == 200 or pytest.fail(url))
    add_record(agent, mentor, 990)
    response_html = []
    large = count_queries(lambda: response_html.append(client.get(url, headers=EN).get_data(as_text=True)))
    assert large == small
    assert "1100 entries in the record." in text_of(response_html[0])  # 1,000 plus 100 corrections


# --- the staff list -------------------------------------------------------------------------------

def test_trainers_see_everyone_and_search_escapes_like_wildcards(people, client, login_as, make_user):
    make_user(name="李_娜", team="投诉组")
    make_user(name="王五", team="投诉组")
    make_user(name="100%满意", team="热线三组")
    login_as(make_user(roles=("trainer",)))
    html = client.get("/records", headers=EN).get_data(as_text=True)
    assert "张晓" in html and "陈刚" in html and "李_娜" in html
    assert f'href="/records/{people["agent"].employee_no}"' in html
    names = text_of(client.get("/records?q=_", headers=EN).get_data(as_text=True))
    assert "李_娜" in names and "王五" not in names
    names = text_of(client.get("/records?q=%25", headers=EN).get_data(as_text=True))
    assert "100%满意" in names and "王五" not in names
    names = text_of(client.get("/records?q=投诉", headers=EN).get_data(as_text=True))
    assert "李_娜" in names and "王五" in names and "张晓" not in names


def test_a_mentor_sees_only_their_mentees(people, client, login_as, make_user):
    make_user(name="别人的学员", mentor=make_user(roles=("mentor",)))
    login_as(people["mentor"])
    html = text_of(client.get("/records", headers=EN).get_data(as_text=True))
    assert "张晓" in html and "别人的学员" not in html and "1 accounts." in html


def test_the_staff_list_pages_and_runs_a_fixed_number_of_queries(people, client, login_as, make_user, app):
    trainer = make_user(roles=("trainer",))
    login_as(trainer)
    small = count_queries(lambda: client.get("/records").status_code == 200 or pytest.fail())
    for n in range(60):
        make_user(mentor=people["mentor"] if n % 2 else trainer)
    large = count_queries(lambda: client.get("/records").status_code == 200 or pytest.fail())
    assert large == small
    html = text_of(client.get("/records?page=2", headers=EN).get_data(as_text=True))
    assert "Page 2 of 2" in html


# --- mentors see their mentees' learning ----------------------------------------------------------

def attempt(exam, user, number, *, state="graded", percent=None, passed=None, when=NOW):
    row = ExamAttempt(exam=exam, user=user, number=number, state=state, started_at=when - timedelta(minutes=20),
                      deadline=when, submitted_at=when, max_score=10, score=percent / 10 if percent else None,
                      percent=percent, passed=passed, graded_at=when if state == "graded" else None)
    db.session.add(row)
    return row


def test_the_mentor_page_shows_each_mentees_learning(people, client, login_as, make_user):
    agent, mentor = people["agent"], people["mentor"]
    other = make_user(star_level=2, mentor=mentor, name="刘洋")
    exam = Exam(slug="final-a", title="基础考试", course=course("basics-a"))
    db.session.add(exam)
    for number, (percent, passed) in enumerate([(40.0, False), (70.0, True), (90.0, True), (95.0, True)], start=1):
        attempt(exam, agent, number, percent=percent, passed=passed, when=NOW - timedelta(days=10 - number))
    attempt(exam, agent, 5, state="pending", when=NOW - timedelta(days=1))
    add_entry(user=agent, kind="course", title="课程 basics-a", course=course("basics-a"), passed=True,
              occurred_at=NOW - timedelta(days=9))
    add_entry(user=other, kind="course", title="课程 refresh", course=course("refresh"), passed=True,
              occurred_at=NOW - timedelta(days=400)).valid_until = NOW - timedelta(days=35)
    db.session.commit()
    login_as(mentor)
    html = client.get("/mentoring", headers=EN).get_data(as_text=True)
    row = text_of(re.search(rf'<li class="course-card" id="mentee-{agent.id}">(.*?)</li>\s*</ul>\s*<a', html,
                            re.S).group(1))
    assert "Required courses of their level: 1 of 2 complete" in row
    # the three latest graded attempts, newest first; the first attempt is too old to show
    assert "Latest exams: 基础考试 95% Passed · 基础考试 90% Passed · 基础考试 70% Passed" in row
    assert "40%" not in row
    assert "1 exam waiting for essay marking: 基础考试" in row
    assert f'href="/records/{agent.employee_no}"' in html
    other_row = text_of(re.search(rf'<li class="course-card" id="mentee-{other.id}">(.*?)</li>\s*</ul>\s*<a', html,
                                  re.S).group(1))
    assert "Required courses of their level: 0 of 1 complete" in other_row  # refresh is level 2's one required
    assert "Refreshers: 课程 refresh Expired on" in other_row and "Latest exams: none yet" in other_row


def test_the_mentor_page_runs_a_fixed_number_of_queries(people, client, login_as, make_user):
    mentor = people["mentor"]
    exam = Exam(slug="final-a", title="基础考试", course=course("basics-a"))
    db.session.add(exam)

    def mentee_with_history(user, base):
        for number in range(1, 5):
            attempt(exam, user, base + number, percent=50.0 + number, passed=number % 2 == 0)
        attempt(exam, user, base + 9, state="pending")
        add_entry(user=user, kind="course", title="课程 refresh", course=course("refresh"), passed=True,
                  occurred_at=NOW - timedelta(days=400)).valid_until = NOW - timedelta(days=35 - base)
        db.session.commit()

    mentee_with_history(people["agent"], 0)
    login_as(mentor)
    client.get("/mentoring")
    small = count_queries(lambda: client.get("/mentoring").status_code == 200 or pytest.fail())
    for n in range(8):
        mentee_with_history(make_user(star_level=n % 5, mentor=mentor), 0)
    mentee_with_history(people["agent"], 10)
    assert count_queries(lambda: client.get("/mentoring").status_code == 200 or pytest.fail()) == small


def test_the_mentee_page_links_to_the_archive(people, client, login_as):
    login_as(people["mentor"])
    html = client.get(f"/mentoring/mentees/{people['agent'].id}", headers=EN).get_data(as_text=True)
    assert f'href="/records/{people["agent"].employee_no}"' in html


def test_the_staff_list_shows_refreshers_due_or_expired(people, client, login_as, make_user):
    from lms.records.services import add_entry

    refresher = course("refresh")  # valid 12 months
    entry = add_entry(user=people["agent"], kind="course", title=refresher.title, course=refresher, passed=True,
                      occurred_at=NOW - timedelta(days=400))
    entry.valid_until = NOW - timedelta(days=35)
    db.session.commit()
    login_as(make_user(roles=("trainer",)))
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*张晓.*?</tr>", client.get("/records", headers=EN).get_data(as_text=True),
                    re.S).group(0)
    assert refresher.title in row and "Expired on" in text_of(row)
