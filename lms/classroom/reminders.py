"""Daily reminders: `lms notify send-due` calls send_due(now) once a day (or more often: idempotent)."""
from __future__ import annotations

from datetime import datetime, timedelta

from lms.classroom import agenda, services
from lms.clock import center_zone
from lms.notifications.services import notify


def send_due(now: datetime) -> int:
    """"session_reminder" to every expected agent of each session starting tomorrow (center-zone date),
    once per session and agent (key). Adds notifications without committing; returns how many."""
    tomorrow = now.astimezone(center_zone()).date() + timedelta(days=1)
    added = 0
    for session in agenda.sessions_on(tomorrow):
        params = services.notification_params(session)
        for user in services.expected_agents(session):
            if notify(user.id, "session_reminder", params=params, link=f"/sessions/{session.id}",
                      key=f"session_reminder:{session.id}", now=now) is not None:
                added += 1
    return added
