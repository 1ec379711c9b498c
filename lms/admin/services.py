"""Staff accounts without HTTP: create, edit, deactivate, reset (a staff file's bulk import:
lms/admin/staff_import.py)."""
from __future__ import annotations

import re
import secrets
from datetime import date

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.exc import IntegrityError

from lms.auth import activation
from lms.config import LANGUAGES
from lms.extensions import db
from lms.clock import utcnow
from lms.models import ROLES, User
from lms.promotions.services import record_star_change
from lms.records.services import audit

EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # where notifications are mailed; no more is checked
MAX_EMAIL = 254
MIN_PASSWORD = 8
MAX_TEXT = 100  # name and team columns


class AccountInvalid(ValueError):
    """A value that cannot make a valid account; the message says which and why, `field` names
    the form field it belongs to when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def find_by_employee_no(employee_no: str) -> User | None:
    return db.session.scalar(select(User).where(User.employee_no == employee_no))


def validate_account_fields(*, employee_no: str, name: str, roles: set[str], star_level: int,
                            preferred_language: str | None, password: str | None, team: str = "") -> None:
    if not EMPLOYEE_NO.match(employee_no or ""):
        raise AccountInvalid(_("Employee number %(value)s: use 1-32 letters, digits, '-' or '_'.",
                               value=repr(employee_no)), "employee_no")
    if not (name or "").strip() or len(name.strip()) > MAX_TEXT:
        raise AccountInvalid(_("Name: required, at most %(n)s characters.", n=MAX_TEXT), "name")
    if len((team or "").strip()) > MAX_TEXT:
        raise AccountInvalid(_("Team: at most %(n)s characters.", n=MAX_TEXT), "team")
    if not roles or not roles <= set(ROLES):
        raise AccountInvalid(_("Roles: choose from %(roles)s.", roles=", ".join(ROLES)), "roles")
    if not 0 <= star_level <= 5:
        raise AccountInvalid(_("Star level: 0 to 5."), "star_level")
    if preferred_language and preferred_language not in LANGUAGES:
        raise AccountInvalid(_("Language: one of %(languages)s.", languages=", ".join(LANGUAGES)),
                             "preferred_language")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountInvalid(_("Password: at least %(n)s characters.", n=MIN_PASSWORD), "password")


def clean_email(email: str | None) -> str | None:
    """The address as stored (trimmed; blank is None). Raises AccountInvalid when it is not one."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise AccountInvalid(_("Email: %(value)s is not an email address.", value=email[:MAX_EMAIL]), "email")
    return email


_KEEP = object()


def mentor_problem(*, mentor_roles: set[str], mentor_star: int, mentee_star: int) -> str | None:
    """Why this account may not mentor that one, else None: a mentor holds the mentor role and a
    higher star level than the mentee."""
    if "mentor" not in mentor_roles:
        return _("a mentor must hold the mentor role.")
    if mentor_star <= mentee_star:
        return _("a mentor must have a higher star level than the mentee (%(mentor)s stars, not above %(mentee)s).",
                 mentor=mentor_star, mentee=mentee_star)
    return None


def _find_mentor(employee_no: str, mentor_employee_no: str | None, star_level: int) -> User | None:
    mentor_no = (mentor_employee_no or "").strip()
    if not mentor_no:
        return None
    if mentor_no == employee_no:
        raise AccountInvalid(_("An employee cannot be their own mentor."), "mentor_employee_no")
    mentor = find_by_employee_no(mentor_no)
    if mentor is None:
        raise AccountInvalid(_("Mentor %(no)s does not exist.", no=mentor_no), "mentor_employee_no")
    problem = mentor_problem(mentor_roles=mentor.roles, mentor_star=mentor.star_level, mentee_star=star_level)
    if problem:
        raise AccountInvalid(_("Mentor %(no)s: %(problem)s", no=mentor_no, problem=problem), "mentor_employee_no")
    return mentor


def _check_not_locking_out(user: User, actor: User | None, *, active: bool, roles: set[str]) -> None:
    """An admin who deactivates themself or drops their own admin role could leave nobody to undo it."""
    if actor is None or actor.id != user.id:
        return
    if not active:
        raise AccountInvalid(_("You cannot deactivate your own account."), "active")
    if "admin" not in roles:
        raise AccountInvalid(_("You cannot remove your own admin role."), "roles")


def _commit_or_taken(employee_no: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:  # another request took the number between our check and the insert
        db.session.rollback()
        raise AccountInvalid(_("Employee number %(no)s is taken.", no=employee_no), "employee_no")


def create_user(*, employee_no: str, name: str, password: str, roles: set[str] | None = None,
                star_level: int = 0, team: str = "", hire_date: date | None = None,
                mentor_employee_no: str | None = None, preferred_language: str | None = None,
                actor: User | None = None, email: str | None = None) -> User:
    """Create and commit an account; its star level starts its star history. Raises
    AccountInvalid for a bad value, a taken employee number, an unknown or unfit mentor."""
    roles = roles or {"agent"}
    validate_account_fields(employee_no=employee_no, name=name, roles=roles, star_level=star_level,
                            preferred_language=preferred_language, password=password, team=team)
    if find_by_employee_no(employee_no) is not None:
        raise AccountInvalid(_("Employee number %(no)s is taken.", no=employee_no), "employee_no")
    mentor = _find_mentor(employee_no, mentor_employee_no, star_level)
    email = clean_email(email)
    user = User(employee_no=employee_no, name=name.strip(), team=(team or "").strip(), star_level=star_level,
                hire_date=hire_date, mentor=mentor, preferred_language=preferred_language or None, active=True,
                email=email)
    user.roles = roles
    user.set_password(password)
    db.session.add(user)
    record_star_change(user, star_level, kind="initial", actor=actor, reason="", now=utcnow())
    audit(actor, "account.created", "user", user.id, roles=sorted(roles), star_level=star_level,
          mentor=mentor.employee_no if mentor else None, active=True)
    _commit_or_taken(employee_no)
    return user


def update_user(user: User, *, name: str, team: str, hire_date: date | None, star_level: int, roles,
                mentor_employee_no: str | None, preferred_language: str | None, active: bool,
                actor: User | None, new_password: str | None = None, star_reason: str = "", email=_KEEP) -> User:
    """Change an account (not its employee number) and commit; a blank `new_password` keeps the
    current one. A new star level goes into the star history with `star_reason` (required to
    lower it). Raises AccountInvalid for a bad value, an unknown or unfit mentor, the user as
    their own mentor, a demotion without a reason, or an `actor` deactivating themself or
    removing their own admin role."""
    roles = set(roles)
    new_password = new_password or None
    validate_account_fields(employee_no=user.employee_no, name=name, roles=roles, star_level=star_level,
                            preferred_language=preferred_language, password=new_password, team=team)
    mentor = _find_mentor(user.employee_no, mentor_employee_no, star_level)
    email = user.email if email is _KEEP else clean_email(email)
    _check_not_locking_out(user, actor, active=active, roles=roles)
    if star_level < user.star_level and not (star_reason or "").strip():
        raise AccountInvalid(_("Say why the star level is lowered."), "star_reason")
    before = account_state(user)
    user.name = name.strip()
    user.team = (team or "").strip()
    user.hire_date = hire_date
    record_star_change(user, star_level, kind="edit", actor=actor, reason=star_reason, now=utcnow())
    user.roles = roles
    user.mentor = mentor
    user.preferred_language = preferred_language or None
    user.email = email
    if new_password or (user.active and not active):
        user.end_sessions()  # a new password or a deactivation ends every earlier session
    user.active = active
    if new_password:
        user.set_password(new_password)
        activation.clear(user)  # an admin's password replaces a pending activation code
    audit_account_changes(actor, user, before, password_changed=bool(new_password))
    db.session.commit()
    return user


_UNSET = object()


def account_state(user: User, mentor_no=_UNSET) -> dict:
    """What the audit log follows of an account (its star level has its own history). `mentor_no`
    may be given when the mentor relationship is not loaded (bulk import)."""
    if mentor_no is _UNSET:
        mentor_no = user.mentor.employee_no if user.mentor else None
    return {"name": user.name, "team": user.team, "hire_date": user.hire_date.isoformat() if user.hire_date else None,
            "roles": sorted(user.roles), "mentor": mentor_no, "preferred_language": user.preferred_language,
            "email": user.email, "active": user.active}


def audit_account_changes(actor: User | None, user: User, before: dict, *, password_changed: bool,
                          via: str = "form", after: dict | None = None) -> None:
    """One `account.updated` event with each changed field (before, after) and whether the password
    changed (never the password). Dropping the mentor role while mentees are still linked blocks
    the mentor's powers over them (they need the role and the link): the event counts them."""
    after = after or account_state(user)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if password_changed:
        changes["password"] = "changed"
    if not changes:
        return
    details = {"changes": changes, "via": via}
    if "mentor" in before["roles"] and "mentor" not in after["roles"]:
        details["mentees_blocked"] = db.session.scalar(select(func.count()).select_from(User)
                                                       .where(User.mentor_id == user.id))
    audit(actor, "account.updated", "user", user.id, **details)


def set_active(user: User, active: bool, actor: User | None) -> User:
    """Activate or deactivate an account and commit; a deactivated user can no longer log in and
    their open sessions end. Raises AccountInvalid when `actor` deactivates themself."""
    _check_not_locking_out(user, actor, active=active, roles=user.roles)
    if user.active and not active:
        user.end_sessions()
    if user.active != active:
        audit(actor, "account.activated" if active else "account.deactivated", "user", user.id)
    user.active = active
    db.session.commit()
    return user


# Lower case and digits without look-alikes (no i, l, o, 0, 1): read off a screen and typed on a phone.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """Like k7qm-3xd9-pt4w: 12 random characters (about 59 bits) in groups of four."""
    characters = "".join(secrets.choice(TEMPORARY_ALPHABET) for _i in range(12))
    return "-".join(characters[index:index + 4] for index in range(0, 12, 4))


def reset_password(user: User, actor: User | None) -> str:
    """Give `user` a new temporary password and commit; returns it, in clear, for the admin to hand
    over once (it is stored only hashed). Their old password stops working, every session of
    theirs ends, a pending activation code is void, and their next login must choose a new
    password before anything else (User.must_change_password). Audited as `account.password_reset`
    (never the password). Raises AccountInvalid for an inactive account (it cannot log in) and
    for the actor's own account (they change it themself, knowing the current one)."""
    if actor is not None and actor.id == user.id:
        raise AccountInvalid(_("To change your own password, use Change password."))
    if not user.active:
        raise AccountInvalid(_("This account is inactive: reactivate it first."), "active")
    password = temporary_password()
    user.set_password(password)
    activation.clear(user)
    user.must_change_password = True
    user.end_sessions()
    audit(actor, "account.password_reset", "user", user.id)
    db.session.commit()
    return password


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_users(query: str | None, page: int = 1, per_page: int = 50) -> Pagination:
    """One page of accounts whose employee number, name or team contains `query` (any case),
    ordered by employee number. Three queries whatever the page size: the count, the users with
    their mentor joined, and their roles (selectin)."""
    statement = select(User).options(selectinload(User.role_rows), selectinload(User.mentor)).order_by(User.employee_no)
    text = (query or "").strip()
    if text:
        pattern = like_pattern(text)
        statement = statement.where(or_(*(column.ilike(pattern, escape="\\")
                                          for column in (User.employee_no, User.name, User.team))))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)
