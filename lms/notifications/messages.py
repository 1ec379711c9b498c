"""What a notification says: a registry kind -> message, rendered in the reader's language.

A notification stores only its `kind` and `params` (plain JSON values); the text is made here
when it is shown (the inbox, in the reader's language) or mailed (the recipient's language, see
mail.py). Adding a kind is adding one entry to MESSAGES. Rendering never fails: an unknown kind, a
missing or odd parameter, a broken translation all still give a sensible sentence.

Parameters are formatted by name: dates (`due_on`, `expires_on`, `scheduled_for`: ISO dates) and
times (`starts_at`: ISO UTC) in the center's time zone with the reader's locale; `percent` to one
decimal. Every other value is shown as it is.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Any, Callable

from flask_babel import format_date, format_datetime, get_translations
from flask_babel import lazy_gettext as _l

from lms.formatting import one_decimal

log = logging.getLogger(__name__)

MISSING = "—"
DATE_KEYS = {"due_on", "expires_on", "scheduled_for"}
DATETIME_KEYS = {"starts_at"}


def _(msgid: str) -> str:
    """The translation of `msgid`, not yet filled in (its %(name)s are filled from Params)."""
    return get_translations().ugettext(msgid)


def ngettext(singular: str, plural: str, num: int) -> str:
    return get_translations().ungettext(singular, plural, num)


class Params(dict):
    """The notification's parameters formatted for reading; a missing one reads as a dash."""

    def __init__(self, raw: dict[str, Any] | None):
        raw = raw if isinstance(raw, dict) else {}
        super().__init__({str(key): _formatted(str(key), value) for key, value in raw.items()})
        self.raw = raw

    def __missing__(self, key: str) -> str:
        return MISSING

    def has(self, key: str) -> bool:
        value = self.raw.get(key)
        return value is not None and value != ""

    def number(self, key: str, default: int = 1) -> int:
        try:
            return int(self.raw.get(key))
        except (TypeError, ValueError):
            return default


def _parse_datetime(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _formatted(key: str, value: Any) -> str:
    if value is None or value == "":
        return MISSING
    try:
        if key in DATE_KEYS and isinstance(value, str):
            if len(value) == 10:
                return format_date(date.fromisoformat(value), "medium")
            moment = _parse_datetime(value)
            return format_date(moment, "medium") if moment else value
        if key in DATETIME_KEYS and isinstance(value, str):
            moment = _parse_datetime(value)
            return format_datetime(moment, "medium") if moment else value
        if key == "percent" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return one_decimal(value)
    except (ValueError, TypeError, OverflowError):
        return str(value)
    return str(value)


# --- the messages ----------------------------------------------------------------------------------
# Each takes the Params and returns the translated sentence, still with its %(name)s placeholders.

def _assignment_given(p: Params) -> str:
    if p.has("plan"):
        if p.has("due_on"):
            return _("New assignment: %(title)s (%(plan)s), due %(due_on)s.")
        return _("New assignment: %(title)s (%(plan)s).")
    if p.has("due_on"):
        return _("New assignment: %(title)s, due %(due_on)s.")
    return _("New assignment: %(title)s.")


def _assignment_reminder(p: Params) -> str:
    if p.has("count"):
        return ngettext("Reminder: %(num)s assignment of %(plan)s is still open.",
                        "Reminder: %(num)s assignments of %(plan)s are still open.", p.number("count"))
    return _("Reminder: %(title)s is still open.")


def _attempts_granted(p: Params) -> str:
    text = ngettext("You have %(num)s more attempt at %(exam)s.", "You have %(num)s more attempts at %(exam)s.",
                    p.number("extra"))
    return text + " " + _("Reason: %(reason)s") if p.has("reason") else text


def _session_invited(p: Params) -> str:
    if p.has("location"):
        return _("You are invited to %(title)s on %(starts_at)s at %(location)s.")
    return _("You are invited to %(title)s on %(starts_at)s.")


def _session_changed(p: Params) -> str:
    if p.has("location"):
        return _("%(title)s has moved: now %(starts_at)s at %(location)s.")
    return _("%(title)s has moved: now %(starts_at)s.")


def _session_reminder(p: Params) -> str:
    if p.has("location"):
        return _("Reminder: %(title)s starts %(starts_at)s at %(location)s.")
    return _("Reminder: %(title)s starts %(starts_at)s.")


def _exam_result(p: Params) -> str:
    passed = p.raw.get("passed")
    if passed is True:
        return _("You passed %(exam)s with %(percent)s%%.")
    if passed is False:
        return _("Your result in %(exam)s: %(percent)s%%, not passed.")
    return _("Your result in %(exam)s: %(percent)s%%.")


def _essay_marked(p: Params) -> str:
    passed = p.raw.get("passed")
    if passed is True:
        return _("Your essays in %(exam)s are marked: %(percent)s%%, passed.")
    if passed is False:
        return _("Your essays in %(exam)s are marked: %(percent)s%%, not passed.")
    return _("Your essays in %(exam)s are marked: %(percent)s%%.")


def _practical_scheduled(p: Params) -> str:
    if p.has("scheduled_for"):
        return _("Practical %(scenario)s planned for %(scheduled_for)s with %(mentor)s.")
    return _("Practical %(scenario)s planned with %(mentor)s.")


def _practical_waiting(p: Params) -> str:
    if p.raw.get("corrected"):
        return _("%(mentor)s corrected the result of your practical %(scenario)s: read it and acknowledge it.")
    return _("%(mentor)s recorded your practical %(scenario)s: read the result and acknowledge it.")


MESSAGES: dict[str, Callable[[Params], str]] = {
    "assignment_given": _assignment_given,
    "assignment_reminder": _assignment_reminder,
    "assignment_due_soon": lambda p: _("%(title)s is due on %(due_on)s."),
    "assignment_overdue": lambda p: _("%(title)s was due on %(due_on)s and is overdue."),
    "attempts_granted": _attempts_granted,
    "session_invited": _session_invited,
    "session_place_freed": lambda p: _("A place is free for you in %(title)s on %(starts_at)s."),
    "session_cancelled": lambda p: _("%(title)s on %(starts_at)s is cancelled."),
    "session_changed": _session_changed,
    "recognition_awarded": lambda p: _("You are number %(rank)s on the recognition board for %(month)s: your certificate of recognition is ready."),
    "session_reminder": _session_reminder,
    "survey_waiting": lambda p: _("A survey is waiting for you: %(title)s."),
    "exam_result": _exam_result,
    "essay_marked": _essay_marked,
    "practical_scheduled": _practical_scheduled,
    "practical_waiting": _practical_waiting,
    "welcome": lambda p: _("Welcome to the Service Academy. Your assignments, results, reminders and "
                           "certificates will appear in this inbox."),
    "certificate_earned": lambda p: _("Certificate earned: %(title)s."),
    "certificate_expiring": lambda p: _("Your certificate %(title)s expires on %(expires_on)s: recertify "
                                        "before then."),
}

# What the inbox shows above each message.
CATEGORIES = {
    "assignment": _l("Assignment"), "attempts": _l("Exam"), "exam": _l("Exam"), "essay": _l("Exam"),
    "session": _l("Classroom"), "survey": _l("Survey"), "practical": _l("Practical"),
    "certificate": _l("Certificate"),
}


def category(kind: str) -> str:
    label = CATEGORIES.get((kind or "").split("_", 1)[0])
    return str(label) if label is not None else str(_l("Notice"))


def _unknown(p: Params) -> str:
    if p.has("title"):
        return _("New notification: %(title)s")
    return _("You have a new notification.")


def render(kind: str, params: dict[str, Any] | None) -> str:
    """The sentence for a notification, in the current locale (use flask_babel.force_locale for
    someone else's). Never raises."""
    try:
        p = Params(params)
        if "num" not in p.raw:
            p["num"] = str(p.number("count") if kind == "assignment_reminder" else p.number("extra"))
        message = MESSAGES.get(kind, _unknown)
        try:
            return message(p) % p
        except (KeyError, ValueError, TypeError):  # a broken translation: the English text
            log.warning("notification %s: translation does not format, using the English text", kind)
            from flask_babel import force_locale

            with force_locale("en"):
                return message(p) % p
    except Exception:  # noqa: BLE001 - a page must never fail over a notification's wording
        log.exception("notification %s could not be rendered", kind)
        return str(_l("You have a new notification."))
