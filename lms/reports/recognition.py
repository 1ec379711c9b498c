"""The recognition board (表彰榜): each month's top agents, and certificates of recognition.

- Who: active agents who did not opt out (users.recognition_opt_out, set by the agent on
  /reports/recognition/me), narrowed to a team and star level when asked.
- By what: LMS_RECOGNITION_BY, "index" (the training index of lms.records.kpi, the default) or
  "average" (the month's average training score, absences not deducted). A month without a scored
  result ranks nobody: "no data" is never 0.
- Order: the higher value first; equal values: more scored results first (more evidence), then the
  employee number. Agents equal in value and results share a rank (1, 2, 2, 4).
- A trainer or an admin gives a ranked agent a certificate of recognition for the month (one per
  agent and month): a Certificate of kind "recognition" that the agent opens and anyone verifies
  like the others; audited, and the agent is notified ("recognition_awarded").

Rankings of any number of months read the agents, their KPI (two queries) and the month's
certificates: four queries whatever the number of agents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.certificates.services import new_code
from lms.extensions import db
from lms.models import Certificate, User, UserRole
from lms.records.kpi import KpiCell, month_of, monthly_kpi, parse_month, shift_month
from lms.records.services import audit
from lms.reports.period import Period
from lms.reports.tables import Column, Filters, ReportTable, report

BOARD_SIZE = 10
HOME_SIZE = 5
BY_CHOICES = ("index", "average")
MAX_CITATION = 200


class RecognitionNotAllowed(PermissionError):
    """Only trainers and admins read the board's page and give certificates of recognition."""


class AgentNotRanked(LookupError):
    """The agent is not ranked that month (no scored result, opted out, inactive, not an agent)."""


class AlreadyRecognized(ValueError):
    """The agent already has a certificate of recognition for that month."""


class MonthInvalid(ValueError):
    pass


@dataclass
class BoardRow:
    rank: int
    user: User
    cell: KpiCell
    value: float
    certificate: Certificate | None = None  # the recognition given for this month, if any


@dataclass
class Board:
    month: str
    by: str  # "index" / "average"
    rows: list[BoardRow] = field(default_factory=list)


def may_manage(viewer: User | None) -> bool:
    """Trainers and admins; the board's export also the system itself (viewer None: the CLI)."""
    return viewer is not None and viewer.has_role("trainer", "admin")


def ranking_by() -> str:
    by = current_app.config.get("LMS_RECOGNITION_BY", "index")
    return by if by in BY_CHOICES else "index"


def last_month(now: datetime) -> str:
    """The last complete month of the center's calendar: the board's default."""
    return shift_month(month_of(now), -1)


def _value(cell: KpiCell, by: str) -> float | None:
    return cell.index if by == "index" else (round(cell.average, 1) if cell.average is not None else None)


def rank_rows(candidates: list[tuple[User, KpiCell]], by: str, limit: int | None) -> list[BoardRow]:
    """The ordered board of (agent, month's KPI) pairs: see the module's "Order"."""
    scored = [(user, cell, _value(cell, by)) for user, cell in candidates]
    scored = [item for item in scored if item[2] is not None]
    scored.sort(key=lambda item: (-item[2], -item[1].results, item[0].employee_no, item[0].id))
    rows: list[BoardRow] = []
    for position, (user, cell, value) in enumerate(scored):
        if limit is not None and position >= limit:
            break
        if rows and (rows[-1].value, rows[-1].cell.results) == (value, cell.results):
            rank = rows[-1].rank
        else:
            rank = position + 1
        rows.append(BoardRow(rank, user, cell, value))
    return rows


def _candidates(filters: Filters, *, include_opted_out: bool = False):
    agents = select(UserRole.user_id).where(UserRole.role == "agent")
    statement = select(User).where(User.active.is_(True), User.id.in_(agents))
    if not include_opted_out:
        statement = statement.where(User.recognition_opt_out.is_(False))
    if filters.team:
        statement = statement.where(User.team == filters.team)
    if filters.level is not None:
        statement = statement.where(User.star_level == filters.level)
    return list(db.session.scalars(statement.order_by(User.employee_no)))


def boards(months: list[str], *, by: str | None = None, limit: int | None = BOARD_SIZE,
           filters: Filters = Filters()) -> list[Board]:
    """The board of each month (in the order given), each cut at `limit` rows (None: everyone ranked),
    with the certificates of recognition already given. Four queries."""
    by = by if by in BY_CHOICES else ranking_by()
    months = [month for month in months if parse_month(month)]
    if not months:
        return []
    users = _candidates(filters)
    cells = monthly_kpi([user.id for user in users], months)
    result = []
    for month in months:
        rows = rank_rows([(user, cells[(user.id, month)]) for user in users], by, limit)
        result.append(Board(month, by, rows))
    _attach_certificates(result)
    return result


def _attach_certificates(result: list[Board]) -> None:
    """Each row's certificate of recognition for its board's month, if given (one query)."""
    ranked = {row.user.id for board in result for row in board.rows}
    if ranked:
        given = {(c.user_id, c.period): c for c in db.session.scalars(
            select(Certificate).where(Certificate.kind == "recognition",
                                      Certificate.period.in_({board.month for board in result}),
                                      Certificate.user_id.in_(ranked)))}
        for board in result:
            for row in board.rows:
                row.certificate = given.get((row.user.id, board.month))


def board(month: str, *, by: str | None = None, limit: int | None = BOARD_SIZE,
          filters: Filters = Filters()) -> Board:
    """One month's board. Raises MonthInvalid."""
    if not parse_month(month):
        raise MonthInvalid(month)
    return boards([month], by=by, limit=limit, filters=filters)[0]


def board_for_home(now: datetime) -> Board | None:
    """Last month's top HOME_SIZE for the home page; None when nobody is ranked (show nothing).

    The home page is every agent's first page, and ranking a month reads every agent's KPI (some
    0.6 s at 3,000 agents), while last month's results hardly move. So each app process keeps last
    month's order of every agent with a value (ids and KPI cells, no ORM objects) for
    HOME_RANKING_SECONDS; each request then reads only the people at the top (one query) and drops
    whoever has opted out, left or stopped being an agent since, so those changes show at once. A
    month nobody is ranked in yet is never kept (the first scored result shows at once)."""
    month, by = last_month(now), ranking_by()
    ranking = _home_ranking(month, by, now)
    if not ranking:
        return None
    cells = dict(ranking)
    wanted = HOME_SIZE * 3
    while True:
        ids = [user_id for user_id, _cell in ranking[:wanted]]
        agents = select(UserRole.user_id).where(UserRole.role == "agent", UserRole.user_id.in_(ids))
        users = {user.id: user for user in db.session.scalars(select(User).where(
            User.id.in_(agents), User.active.is_(True), User.recognition_opt_out.is_(False)))}
        shown = [(users[user_id], cells[user_id]) for user_id in ids if user_id in users]
        if len(shown) >= HOME_SIZE or wanted >= len(ranking):
            break
        wanted *= 4
    home = Board(month, by, rank_rows(shown, by, HOME_SIZE))
    _attach_certificates([home])
    return home if home.rows else None


HOME_RANKING_SECONDS = 600


def _home_ranking(month: str, by: str, now: datetime) -> list[tuple[int, KpiCell]]:
    """Every agent with a value in `month`, best first (opted-out ones too: filtered per request)."""
    kept = current_app.extensions.setdefault("lms_home_ranking", {})
    found = kept.get((month, by))
    if found is not None and (now - found[0]).total_seconds() < HOME_RANKING_SECONDS:
        return found[1]
    users = _candidates(Filters(), include_opted_out=True)
    cells = monthly_kpi([user.id for user in users], [month])
    ranking = [(row.user.id, row.cell) for row in rank_rows([(user, cells[(user.id, month)]) for user in users],
                                                             by, None)]
    if ranking:
        kept[(month, by)] = (now, ranking)
    return ranking


def load_board_for(viewer: User, month: str, filters: Filters = Filters()) -> Board:
    """The board page's board. Raises RecognitionNotAllowed, MonthInvalid."""
    if not may_manage(viewer):
        raise RecognitionNotAllowed(viewer.id)
    return board(month, filters=filters)


# --- opting out -------------------------------------------------------------------------------

def set_opt_out(user: User, opted_out: bool) -> bool:
    """The agent's own choice to stay off (True) or appear on (False) the board, audited when it
    changes (one commit). Returns whether it changed."""
    opted_out = bool(opted_out)
    if user.recognition_opt_out == opted_out:
        return False
    user.recognition_opt_out = opted_out
    audit(user, "recognition.opt_out_changed", "user", user.id, opted_out=opted_out)
    db.session.commit()
    return True


def recognitions_of(user: User) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user.id,
                                                             Certificate.kind == "recognition")
                                   .order_by(Certificate.period.desc(), Certificate.id.desc())))


# --- certificates of recognition ---------------------------------------------------------------

def default_citation(month: str, rank: int) -> str:
    return gettext("Recognition board %(month)s: rank %(rank)s", month=month, rank=rank)


def award_recognition(actor: User, agent_id: int, month: str, citation: str, now: datetime) -> Certificate:
    """Give the agent ranked `month` a certificate of recognition (title: `citation`, else "Recognition
    board <month>: rank <n>"), audited, the agent notified, in one commit.
    Raises RecognitionNotAllowed, MonthInvalid (not a month, or one not begun), AgentNotRanked,
    AlreadyRecognized."""
    if not may_manage(actor):
        raise RecognitionNotAllowed(actor.id)
    if not parse_month(month) or month > month_of(now):
        raise MonthInvalid(month)
    ranked = board(month, limit=None)
    row = next((row for row in ranked.rows if row.user.id == agent_id), None)
    if row is None:
        raise AgentNotRanked(agent_id)
    if row.certificate is not None:
        raise AlreadyRecognized(agent_id)
    title = " ".join((citation or "").split())[:MAX_CITATION] or default_citation(month, row.rank)
    certificate = Certificate(code=new_code(), user_id=agent_id, kind="recognition", title=title, period=month,
                              issued_at=now)
    db.session.add(certificate)
    try:
        db.session.flush()
    except IntegrityError:  # given a moment ago in another request
        db.session.rollback()
        raise AlreadyRecognized(agent_id)
    audit(actor, "recognition.awarded", "certificate", certificate.id, agent_id=agent_id, month=month,
          rank=row.rank, by=ranked.by, value=row.value, title=title)
    from lms.notifications.services import notify

    notify(agent_id, "recognition_awarded", key=f"recognition_awarded:{certificate.id}",
           link=f"/certificates/{certificate.id}", now=now,
           params={"month": month, "rank": row.rank, "title": title})
    db.session.commit()
    return certificate


# --- the export ----------------------------------------------------------------------------------

BOARD_COLUMNS = [
    Column("month", _l("Month"), "text"),
    Column("rank", _l("Rank"), "int"),
    Column("employee_no", _l("Employee no."), "text"),
    Column("name", _l("Agent"), "text"),
    Column("team", _l("Team"), "text"),
    Column("star_level", _l("Star level"), "int"),
    Column("index", _l("Training index"), "number"),
    Column("average", _l("Average score"), "percent"),
    Column("results", _l("Results"), "int"),
    Column("absences", _l("Absences"), "int"),
    Column("certificate", _l("Certificate of recognition"), "text"),
]


def board_table(shown: list[Board]) -> ReportTable:
    return ReportTable("recognition", _l("Recognition board"), BOARD_COLUMNS, [{
        "month": item.month, "rank": row.rank, "employee_no": row.user.employee_no, "name": row.user.name,
        "team": row.user.team, "star_level": row.user.star_level, "index": row.cell.index,
        "average": row.cell.average, "results": row.cell.results, "absences": row.cell.absences,
        "certificate": row.certificate.code if row.certificate else "", "user_id": row.user.id,
    } for item in shown for row in item.rows])


@report("recognition")
def build_recognition(viewer: User, period: Period, filters: Filters, now: datetime) -> list[ReportTable]:
    """Each month of the period's top BOARD_SIZE, newest month first. Raises RecognitionNotAllowed."""
    if viewer is not None and not may_manage(viewer):
        raise RecognitionNotAllowed(viewer.id)
    return [board_table(boards(list(reversed(period.months)), filters=filters))]
