"""Staff files: a CSV or XLSX of accounts created or updated in one go (all or nothing, every
problem named by its row and column), at once or as a background job for a big file, and the
templates to fill in. Each row is checked by the same rules as the account form
(lms/admin/services.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.admin.services import (EMAIL, EMPLOYEE_NO, MAX_EMAIL, MAX_TEXT, MIN_PASSWORD, account_state,
                                audit_account_changes, mentor_problem)
from lms.auth import activation
from lms.clock import utcnow
from lms.content.errors import listed
from lms.content.spreadsheets import (ImportInvalid, Row, RowError, SpreadsheetError, Table, check_header,
                                     header_csv, one_row_per_line_template, parse_date, read_table)
from lms.extensions import db
from lms.jobs.services import JobFailed, Progress, job_kind
from lms.models import ROLES, User
from lms.promotions.services import record_star_change
from lms.records.services import audit

IMPORT_REASON = "bulk import"  # the star history's reason for a level set by a staff file
IMPORT_COLUMNS = ["employee_no", "name", "team", "hire_date", "star_level", "roles", "mentor_employee_no",
                  "preferred_language", "email", "password"]
REQUIRED_COLUMNS = ("employee_no", "name")
# Columns written as they are into an existing account unless blank (the star level goes through
# its history, the password through its hash).
KEPT_WHEN_BLANK = ("team", "hire_date", "roles", "preferred_language", "email")
ROLE_SEPARATORS = re.compile(r"[,;，；、\s]+")
LANGUAGE_ALIASES = {"zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
# Excel in Chinese shows dates as 2024/3/1; both that and 2024-03-01 mean the same day.
MAX_IMPORT_ROWS = 20_000  # a staff file: more is refused at once (split it)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # (employee number, name, one-time activation code) of each new account without a password
    codes: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        return {"created": len(self.created), "updated": len(self.updated), "codes": len(self.codes)}


@dataclass
class _StaffRow:
    """One valid row. None means "blank": a new account gets the default, an existing one keeps its value."""

    number: int
    employee_no: str
    name: str
    team: str | None
    hire_date: date | None
    star_level: int | None
    roles: set[str] | None
    mentor_employee_no: str | None
    preferred_language: str | None
    password: str | None
    email: str | None = None


def _parse_row(row: Row, first_rows: dict[str, int], existing: dict[str, User],
               actor: User | None) -> tuple[_StaffRow, list[str]]:
    """The row's values and every problem with them (as messages)."""
    values = row.values
    problems = []
    employee_no = values.get("employee_no", "")
    if not employee_no:
        problems.append(_("employee_no is required."))
    elif not EMPLOYEE_NO.match(employee_no):
        problems.append(_("employee_no %(value)s: use 1-32 letters, digits, '-' or '_'.", value=employee_no))
    elif first_rows[employee_no] != row.number:
        problems.append(_("employee_no %(value)s is also on row %(row)s.", value=employee_no,
                          row=first_rows[employee_no]))

    name = values.get("name", "")
    if not name:
        problems.append(_("name is required."))
    elif len(name) > MAX_TEXT:
        problems.append(_("name: at most %(n)s characters.", n=MAX_TEXT))

    team = values.get("team") or None
    if team and len(team) > MAX_TEXT:
        problems.append(_("team: at most %(n)s characters.", n=MAX_TEXT))

    hire_date = None
    if values.get("hire_date"):
        hire_date = parse_date(values["hire_date"])
        if hire_date is None:
            problems.append(_("hire_date %(value)s: use YYYY-MM-DD, for example 2024-03-01.",
                              value=values["hire_date"]))

    star_level = None
    if values.get("star_level"):
        text = values["star_level"]
        if text.isdigit() and 0 <= int(text) <= 5:
            star_level = int(text)
        else:
            problems.append(_("star_level %(value)s: use a whole number from 0 to 5.", value=text))

    roles = None
    if values.get("roles"):
        names = {part for part in ROLE_SEPARATORS.split(values["roles"].lower()) if part}
        unknown = names - set(ROLES)
        if unknown:
            problems.append(_("roles: unknown %(unknown)s; use %(allowed)s.",
                              unknown=", ".join(sorted(unknown)), allowed=listed(ROLES)))
        else:
            roles = names
            if actor is not None and employee_no == actor.employee_no and "admin" not in roles:
                problems.append(_("roles: you cannot remove your own admin role."))

    mentor_no = values.get("mentor_employee_no") or None
    if mentor_no:
        if mentor_no == employee_no:
            problems.append(_("mentor_employee_no: an employee cannot be their own mentor."))
        elif mentor_no not in existing and mentor_no not in first_rows:
            problems.append(_("mentor_employee_no %(value)s: no such account, here or in this file.",
                              value=mentor_no))

    language = None
    if values.get("preferred_language"):
        language = LANGUAGE_ALIASES.get(values["preferred_language"].lower())
        if language is None:
            problems.append(_("preferred_language %(value)s: use zh_CN or en, or leave it blank.",
                              value=values["preferred_language"]))

    email = values.get("email") or None
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        problems.append(_("email %(value)s: not an email address; leave it blank for none.", value=email[:MAX_EMAIL]))

    password = values.get("password") or None
    if password and len(password) < MIN_PASSWORD:
        problems.append(_("password: at least %(n)s characters, or leave it blank.", n=MIN_PASSWORD))

    record = _StaffRow(number=row.number, employee_no=employee_no, name=name, team=team, hire_date=hire_date,
                       star_level=star_level, roles=roles, mentor_employee_no=mentor_no,
                       preferred_language=language, password=password, email=email)
    return record, problems


def _validate(table: Table, actor: User | None, progress: Progress | None = None
              ) -> tuple[list[_StaffRow], dict[str, User]]:
    errors = check_header(table.header, REQUIRED_COLUMNS, IMPORT_COLUMNS)
    if any(name not in table.header for name in REQUIRED_COLUMNS):
        raise ImportInvalid(errors)
    if not table.rows:
        raise ImportInvalid(errors + [RowError(2, _("The file has no rows below the header."))])
    first_rows: dict[str, int] = {}
    for row in table.rows:
        number = row.values.get("employee_no", "")
        if EMPLOYEE_NO.match(number):
            first_rows.setdefault(number, row.number)
    mentor_numbers = {row.values.get("mentor_employee_no", "") for row in table.rows}
    wanted = (set(first_rows) | mentor_numbers) - {""}
    existing = {user.employee_no: user for user in db.session.scalars(
        select(User).where(User.employee_no.in_(wanted)))} if wanted else {}
    records = []
    for count, row in enumerate(table.rows, start=1):
        record, problems = _parse_row(row, first_rows, existing, actor)
        errors.extend(RowError(row.number, problem) for problem in problems)
        records.append(record)
        if progress is not None and count % 100 == 0:
            progress(count, len(table.rows))
    if not errors:
        errors.extend(_mentor_errors(records, existing))
    if errors:
        raise ImportInvalid(errors)
    return records, existing


def _mentor_errors(records: list[_StaffRow], existing: dict[str, User]) -> list[RowError]:
    """Each named mentor, as the file leaves them, holds the mentor role and a higher star level."""
    in_file = {record.employee_no: record for record in records}

    def after_import(employee_no: str) -> tuple[set[str], int]:
        record, user = in_file.get(employee_no), existing.get(employee_no)
        roles = record.roles if record and record.roles is not None else (user.roles if user else {"agent"})
        star = record.star_level if record and record.star_level is not None else (user.star_level if user else 0)
        return roles, star

    errors = []
    for record in records:
        if record.mentor_employee_no:
            mentor_roles, mentor_star = after_import(record.mentor_employee_no)
            problem = mentor_problem(mentor_roles=mentor_roles, mentor_star=mentor_star,
                                     mentee_star=after_import(record.employee_no)[1])
            if problem:
                errors.append(RowError(record.number, _("mentor_employee_no %(value)s: %(problem)s",
                                                        value=record.mentor_employee_no, problem=problem)))
    return errors


def import_users(table: Table, actor: User | None = None, *, progress: Progress | None = None,
                 before_commit: Callable[[ImportResult], None] | None = None) -> ImportResult:
    """Create the accounts in `table` that do not exist and update those that do, in one commit.

    Every row is checked first; any problem raises ImportInvalid with all of them, and nothing is
    written. Blank cells give a new account the defaults (agent, 0 stars; without a password, a
    one-time activation code returned in `codes`, lms/auth/activation.py) and leave an existing
    account's value as it is. A password in the file is hashed with scrypt (about 0.1 s a row). A mentor may be an
    existing account or any row of the file, before or after, holding the mentor role and a
    higher star level. Star levels set or changed go into the star history (a lower one as a
    demotion with the reason "bulk import"). `actor` (the importing admin) may not remove their
    own admin role.
    """
    records, existing = _validate(table, actor, progress)
    if progress is not None:
        progress.writing(len(records))
    result = ImportResult()
    now = utcnow()
    accounts = dict(existing)
    mentor_ids = {user.mentor_id for user in existing.values() if user.mentor_id}
    mentor_numbers = dict(db.session.execute(select(User.id, User.employee_no).where(User.id.in_(mentor_ids))).all())
    before = {no: account_state(user, mentor_numbers.get(user.mentor_id)) for no, user in existing.items()}
    try:
        for record in records:
            user = existing.get(record.employee_no)
            if user is None:
                user = User(employee_no=record.employee_no, name=record.name, team=record.team or "",
                            hire_date=record.hire_date, star_level=0,
                            preferred_language=record.preferred_language, email=record.email, active=True)
                user.roles = record.roles or {"agent"}
                if record.password is None:
                    code = activation.issue(user, now)
                    result.codes.append((record.employee_no, record.name, activation.display(code)))
                else:
                    user.set_password(record.password)
                db.session.add(user)
                record_star_change(user, record.star_level or 0, kind="initial", actor=actor, reason="", now=now)
                result.created.append(record.employee_no)
            else:
                user.name = record.name
                for column in KEPT_WHEN_BLANK:  # a blank cell leaves an existing account's value as it is
                    if getattr(record, column) is not None:
                        setattr(user, column, getattr(record, column))
                if record.star_level is not None:
                    record_star_change(user, record.star_level, kind="import", actor=actor, reason=IMPORT_REASON,
                                       now=now)
                if record.password is not None:
                    user.set_password(record.password)
                    activation.clear(user)
                    user.end_sessions()  # a new password ends every earlier session
                result.updated.append(record.employee_no)
            accounts[record.employee_no] = user
        # Insert first, then link mentors by id: a mentor may be on a later row, and two rows may
        # name each other, which no INSERT order (nor the ORM's dependency sort) could satisfy.
        db.session.flush()
        for record in records:
            if record.mentor_employee_no:
                accounts[record.employee_no].mentor_id = accounts[record.mentor_employee_no].id
        for record in records:  # every account created or changed is an audit event, and the import one more
            user = accounts[record.employee_no]
            mentor_no = record.mentor_employee_no or (before[record.employee_no]["mentor"]
                                                      if record.employee_no in before else None)
            if record.employee_no in before:
                audit_account_changes(actor, user, before[record.employee_no], via="import",
                                      password_changed=record.password is not None,
                                      after=account_state(user, mentor_no))
            else:
                audit(actor, "account.created", "user", user.id, roles=sorted(user.roles),
                      star_level=user.star_level, mentor=mentor_no, active=True, via="import")
        audit(actor, "staff.imported", "import", 0, created=len(result.created), updated=len(result.updated),
              activation_codes=len(result.codes))
        if before_commit is not None:
            before_commit(result)
        db.session.commit()
    except IntegrityError:  # another admin saved one of these employee numbers meanwhile
        db.session.rollback()
        raise ImportInvalid([RowError(1, _("Another change to these accounts was saved at the same "
                                           "moment; nothing was imported. Send the file again."))])
    return result


def row_messages(errors: list[RowError]) -> list[str]:
    return [_("Row %(n)s: %(message)s", n=error.row, message=error.message) for error in errors]


@job_kind("staff")
def import_job(job, data: bytes, progress: Progress, complete) -> None:
    """A staff file as a background job (lms/jobs/services.py): the same import, all or nothing;
    the job is done, with its activation codes, in the import's own commit."""
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        table = read_table(job.filename, data, max_rows=MAX_IMPORT_ROWS)
        import_users(table, actor, progress=progress,
                     before_commit=lambda result: complete(result.summary(), [list(row) for row in result.codes]))
    except SpreadsheetError as exc:
        raise JobFailed([str(exc)])
    except ImportInvalid as exc:
        raise JobFailed(row_messages(exc.errors))


# --- Templates to fill in -----------------------------------------------------------------------

TEXT_COLUMNS = ("employee_no", "mentor_employee_no", "password")  # "00123" must not become 123
EXAMPLE = {"employee_no": "E2001", "name": "张晓", "team": "热线一组", "hire_date": "2026-03-01",
           "star_level": "0", "roles": "agent", "mentor_employee_no": "M0001",
           "preferred_language": "zh_CN", "email": "zhangxiao@example.com", "password": ""}


def _column_help() -> dict[str, str]:
    return {
        "employee_no": _("Required. 1-32 letters, digits, '-' or '_'. An existing number updates that "
                         "account; a new one creates it."),
        "name": _("Required. Full name, at most 100 characters."),
        "team": _("Optional. The team or group."),
        "hire_date": _("Optional. YYYY-MM-DD."),
        "star_level": _("Optional. 0 (new hire) to 5. Blank: 0 for a new account, unchanged for an "
                        "existing one."),
        "roles": _("Optional. agent, mentor, trainer, admin; several separated by commas. Blank: agent "
                   "for a new account, unchanged for an existing one."),
        "mentor_employee_no": _("Optional. The mentor's employee number: an existing account or a row "
                                "of this file, never the same row."),
        "preferred_language": _("Optional. zh_CN or en. Blank: the browser's language."),
        "email": _("Optional. Where notifications are also mailed, when the server sends mail. Blank: no mail "
                   "for a new account, unchanged for an existing one."),
        "password": _("Optional, at least %(n)s characters. Blank: a new account gets a one-time "
                      "activation code, listed after the import, to choose its password with; an "
                      "existing one keeps its password.", n=MIN_PASSWORD),
    }


def template_csv() -> bytes:
    return header_csv(IMPORT_COLUMNS)


def template_xlsx() -> bytes:
    """An import workbook: the first sheet holds only the header (it is what gets imported); the
    second explains each column, with an example row."""
    return one_row_per_line_template(
        "员工 Staff", IMPORT_COLUMNS, TEXT_COLUMNS,
        intro=_("Fill in the first sheet, one person per row, below the header. "
                "This sheet is never imported."),
        example=EXAMPLE, help_texts=_column_help())
