"""The daily reminders of assignments, called by `lms notify send-due`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.extensions import db
from lms.models.notifications import Notification
from lms.plans import services
from lms.plans.windows import DUE_SOON, OVERDUE

KINDS = {DUE_SOON: "assignment_due_soon", OVERDUE: "assignment_overdue"}


def send_due(now: datetime) -> int:
    """Tell each agent once per assignment (onboarding: per course) that it is due soon (within
    LMS_DUE_SOON_DAYS days) and, from the day after its due date, that it is overdue. Idempotent
    by key; does not commit. Returns how many notifications were added."""
    tasks = [t for t in services.evaluate(services.live_assignments(), now, onboarding=True) if t.status in KINDS]
    if not tasks:
        return 0
    # the keys given already, in one query, so only new ones go through notify()'s own check
    sent = set(db.session.execute(select(Notification.user_id, Notification.key).where(
        Notification.kind.in_(tuple(KINDS.values())), Notification.user_id.in_({t.user.id for t in tasks}))).all())
    added = 0
    for task in tasks:
        key = f"plans:{task.status}:{task.reminder_key}"
        if (task.user.id, key) in sent:
            continue
        params = {"title": task.item.title, "kind": task.item.kind, "due_on": task.due_on.isoformat(),
                  "plan": task.plan.name, "onboarding": task.plan.onboarding}
        if services.notify(task.user.id, KINDS[task.status], params=params, link=task.item.link, key=key,
                           now=now) is not None:
            added += 1
    return added
