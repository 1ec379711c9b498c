"""The recognition board: ranking by index or average, ties, opt-out, the top ten, the home page's
board, certificates of recognition (issued, audited, notified, verified), bounded queries, export."""
import pytest
from sqlalchemy import select

from lms.certificates import services as certificates
from lms.extensions import db
from lms.models import AuditEvent, Certificate, User
from lms.models.notifications import Notification
from lms.reports import recognition
from lms.reports.period import parse_period
from lms.reports.tables import REPORTS, Filters
from tests.conftest import count_queries
from tests.unit.test_reports_people_support import absence, nov, result


@pytest.fixture
def app_config():
    return {"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}


def october(day: int = 10):
    return nov(day, month=10)


def ranked(board):
    return [(row.rank, row.user.name) for row in board.rows]


@pytest.fixture
def agents(make_user, frozen_now):
    """October: 甲 90 (2 results), 乙 90 (1 result), 丙 90 (1 result), 丁 95 with two absences (85 by index)."""
    frozen_now()
    made = {name: make_user(name=name, employee_no=number) for name, number in
            (("丙", "E0001"), ("乙", "E0002"), ("甲", "E0003"), ("丁", "E0004"), ("戊", "E0005"))}
    result(made["甲"], 85, october(2)), result(made["甲"], 95, october(3))
    result(made["乙"], 90, october(4))
    result(made["丙"], 90, october(5))
    result(made["丁"], 95, october(6)), absence(made["丁"], october(7)), absence(made["丁"], october(8))
    result(made["戊"], 99, nov(2))  # November: not on October's board
    db.session.commit()
    return made


def test_ranking_by_index_and_ties(agents):
    board = recognition.board("2026-10")
    # equal value: more results first; equal value and results share a rank, by employee number
    assert ranked(board) == [(1, "甲"), (2, "丙"), (2, "乙"), (4, "丁")]
    assert [row.value for row in board.rows] == [90.0, 90.0, 90.0, 85.0]
    assert board.by == "index"


def test_ranking_by_average(app, agents):
    app.config["LMS_RECOGNITION_BY"] = "average"
    board = recognition.board("2026-10")
    assert ranked(board)[0] == (1, "丁") and board.rows[0].value == 95.0 and board.by == "average"


def test_opt_out_removes_the_agent(agents):
    changed = recognition.set_opt_out(agents["甲"], True)
    assert changed and not recognition.set_opt_out(agents["甲"], True)  # unchanged: no second audit
    assert [name for _, name in ranked(recognition.board("2026-10"))] == ["丙", "乙", "丁"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recognition.opt_out_changed")).all()
    assert len(events) == 1 and events[0].details == {"opted_out": True}
    recognition.set_opt_out(agents["甲"], False)
    assert ranked(recognition.board("2026-10"))[0] == (1, "甲")


def test_inactive_and_non_agents_are_not_ranked(agents, make_user):
    trainer = make_user(roles=("trainer",), name="培训师")
    result(trainer, 100, october(2))
    agents["甲"].active = False
    db.session.commit()
    assert "培训师" not in dict(ranked(recognition.board("2026-10"))).values()
    assert "甲" not in [name for _, name in ranked(recognition.board("2026-10"))]


def test_top_ten_and_home_board(make_user, frozen_now):
    frozen_now()
    assert recognition.board_for_home(nov(23)) is None  # nobody ranked: nothing on the home page
    for i in range(12):
        result(make_user(name=f"坐席{i:02d}", employee_no=f"T{i:03d}"), 60 + i, october())
    db.session.commit()
    board = recognition.board("2026-10")
    assert len(board.rows) == 10 and board.rows[0].user.name == "坐席11" and board.rows[-1].user.name == "坐席02"
    home = recognition.board_for_home(nov(23))
    assert home.month == "2026-10" and len(home.rows) == recognition.HOME_SIZE


def test_the_home_board_ranks_once_then_reads_only_the_top(agents, make_user):
    """Every agent's home shows last month's board: the month is ranked once per process (for
    HOME_RANKING_SECONDS), later homes read the top people and their certificates (two queries),
    and an opt-out, a departure or a certificate shows at once."""
    first = count_queries(lambda: recognition.board_for_home(nov(23)))
    again = count_queries(lambda: recognition.board_for_home(nov(23)))
    assert again == 2 < first
    assert ranked(recognition.board_for_home(nov(23))) == [(1, "甲"), (2, "丙"), (2, "乙"), (4, "丁")]
    recognition.set_opt_out(agents["甲"], True)
    agents["丁"].active = False
    db.session.commit()
    assert ranked(recognition.board_for_home(nov(23))) == [(1, "丙"), (1, "乙")]
    trainer = make_user(roles=("trainer",))
    recognition.award_recognition(trainer, agents["乙"].id, "2026-10", "", nov(23))
    assert recognition.board_for_home(nov(23)).rows[1].certificate is not None
    # a result that arrives later in the kept month shows once the ranking is read again
    result(agents["戊"], 100, october(20))
    db.session.commit()
    assert "戊" not in dict(ranked(recognition.board_for_home(nov(23)))).values()
    later = nov(23).replace(minute=recognition.HOME_RANKING_SECONDS // 60 + 1)
    assert ranked(recognition.board_for_home(later))[0] == (1, "戊")


def test_the_home_board_of_a_month_without_results_is_not_kept(make_user, frozen_now):
    frozen_now()
    assert recognition.board_for_home(nov(23)) is None
    result(make_user(name="己"), 80, october())
    db.session.commit()
    assert ranked(recognition.board_for_home(nov(23))) == [(1, "己")]


def test_month_invalid():
    with pytest.raises(recognition.MonthInvalid):
        recognition.board("2026-13")


def test_award_a_certificate_of_recognition(agents, make_user):
    trainer = make_user(roles=("trainer",))
    certificate = recognition.award_recognition(trainer, agents["乙"].id, "2026-10", "", nov(23))
    assert certificate.kind == "recognition" and certificate.period == "2026-10"
    assert certificate.title == "Recognition board 2026-10: rank 2"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "recognition.awarded"))
    assert event.subject_id == certificate.id and event.details["rank"] == 2 and event.details["agent_id"] == agents["乙"].id
    note = db.session.scalar(select(Notification).where(Notification.user_id == agents["乙"].id))
    assert note.kind == "recognition_awarded" and note.link == f"/certificates/{certificate.id}"
    assert note.params == {"month": "2026-10", "rank": 2, "title": certificate.title}
    verification = certificates.verify(certificate.code.lower(), nov(23))
    assert verification.valid and verification.certificate.user.name == "乙"
    assert recognition.board("2026-10").rows[2].certificate.id == certificate.id  # 乙 is third by employee no.
    with pytest.raises(recognition.AlreadyRecognized):
        recognition.award_recognition(trainer, agents["乙"].id, "2026-10", "再来一次", nov(23))
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 1


def test_award_with_a_citation_and_refusals(agents, make_user):
    admin = make_user(roles=("admin",))
    certificate = recognition.award_recognition(admin, agents["甲"].id, "2026-10", "  十月 培训之星 ", nov(23))
    assert certificate.title == "十月 培训之星"
    with pytest.raises(recognition.AgentNotRanked):  # no October result
        recognition.award_recognition(admin, agents["戊"].id, "2026-10", "", nov(23))
    with pytest.raises(recognition.MonthInvalid):  # a month not begun
        recognition.award_recognition(admin, agents["甲"].id, "2026-12", "", nov(23))
    with pytest.raises(recognition.RecognitionNotAllowed):
        recognition.award_recognition(make_user(roles=("mentor",)), agents["甲"].id, "2026-10", "", nov(23))
    recognition.set_opt_out(agents["丙"], True)
    with pytest.raises(recognition.AgentNotRanked):
        recognition.award_recognition(admin, agents["丙"].id, "2026-10", "", nov(23))


def test_export_builder(agents, make_user):
    trainer = make_user(roles=("trainer",))
    [table] = REPORTS["recognition"](trainer, parse_period("2026-10..2026-11"), Filters(), nov(23))
    assert [(row["month"], row["rank"], row["name"]) for row in table.rows] == [
        ("2026-11", 1, "戊"), ("2026-10", 1, "甲"), ("2026-10", 2, "丙"), ("2026-10", 2, "乙"), ("2026-10", 4, "丁")]
    assert table.rows[-1]["index"] == 85.0 and table.rows[-1]["absences"] == 2
    assert REPORTS["recognition"](None, parse_period("2026-10"), Filters(), nov(23))[0].rows == table.rows[1:]
    with pytest.raises(recognition.RecognitionNotAllowed):
        REPORTS["recognition"](make_user(roles=("mentor",)), parse_period("2026-10"), Filters(), nov(23))


def test_bounded_queries(make_user, frozen_now):
    frozen_now()
    counts = []
    for n in (10, 1000):  # the second board ranks 1,010 agents
        users = [User(employee_no=f"R{n}{i:05d}", name=f"坐席{i}", team="热线一组", password_hash="x")
                 for i in range(n)]
        for user in users:
            user.roles = {"agent"}
        db.session.add_all(users)
        db.session.flush()
        for i, user in enumerate(users):
            result(user, 50 + i % 50, october(1 + i % 28))
        db.session.commit()
        db.session.expire_all()
        counts.append(count_queries(lambda: recognition.board("2026-10")))
    assert counts[0] == counts[1] and counts[0] <= 5
    assert len(recognition.board("2026-10").rows) == recognition.BOARD_SIZE
