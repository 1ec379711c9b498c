"""Reminders of assignments: the daily ones that `lms notify send-due` sends (`send_due`: due
soon, overdue), and the ones a manager sends from a plan's page (`send_reminders`: once per plan,
agent and day), with the message that says how many were reminded.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lms.extensions import db
from lms.models import User
from lms.models.notifications import Notification
from lms.models.plans import TrainingPlan
from lms.notifications.services import notify
from lms.plans.progress import ONBOARDING, ONBOARDING_NAME, Task, evaluate, today_of
from lms.plans.services import live_assignments, plan_assignments
from lms.plans.windows import ACTIVE, DUE_SOON, OVERDUE
from lms.records.services import audit

KINDS = {DUE_SOON: "assignment_due_soon", OVERDUE: "assignment_overdue"}


def send_due(now: datetime) -> int:
    """Tell each agent once per assignment (onboarding: per course) that it is due soon (within
    LMS_DUE_SOON_DAYS days) and, from the day after its due date, that it is overdue. Idempotent
    by key; does not commit. Returns how many notifications were added."""
    tasks = [t for t in evaluate(live_assignments(), now, onboarding=True) if t.status in KINDS]
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
        if notify(task.user.id, KINDS[task.status], params=params, link=task.item.link, key=key,
                  now=now) is not None:
            added += 1
    return added


# --- reminders sent from a plan's page -------------------------------------------------------------

def send_reminders(actor: User, plan: TrainingPlan | None, now: datetime, *, employee_no: str | None = None) -> int:
    """Remind each agent with started, not done items of `plan` (None: the onboarding window),
    or only the agent `employee_no`, and commit. Once per plan, agent and day: a second click
    the same day reminds nobody again. Returns how many agents were reminded."""
    if plan is None:
        tasks = evaluate([], now, onboarding=True)
        plan_key, plan_name = ONBOARDING, ONBOARDING_NAME
    else:
        tasks = evaluate(plan_assignments(plan, include_cancelled=False), now) if plan.archived_at is None else []
        plan_key, plan_name = f"plan:{plan.id}", plan.name
    per_user: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        if task.status in ACTIVE and (employee_no is None or task.user.employee_no == employee_no):
            per_user[task.user.id].append(task)
    day = today_of(now).isoformat()
    reminded = 0
    for user_id, user_tasks in per_user.items():
        overdue = sum(t.status == OVERDUE for t in user_tasks)
        added = notify(user_id, "assignment_reminder", link="/", now=now,
                       key=f"plans:reminder:{plan_key}:{day}",
                       params={"plan": plan_name, "onboarding": plan is None, "count": len(user_tasks),
                               "open": len(user_tasks) - overdue, "overdue": overdue})
        reminded += added is not None
    audit(actor, "plan.reminded", "training_plan", plan.id if plan is not None else 0, plan=plan_key,
          reminded=reminded, employee_no=employee_no)
    db.session.commit()
    return reminded


def reminded_message(count: int) -> str:
    if count == 0:
        return _("Nobody was reminded: no open items, or everyone was reminded today already.")
    return ngettext("%(num)s agent reminded.", "%(num)s agents reminded.", count)
