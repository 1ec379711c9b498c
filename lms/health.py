"""The health check a load balancer asks every few seconds (GET /healthz, lms/auth/views.py).

200 {"status": "ok"} when this app server reaches its database and the database has every migration
this code needs; 503 otherwise ({"status": "database unavailable"} or {"status": "migrations pending"}),
so the balancer sends nobody to a node that would fail them: one started before `lms db upgrade`
ran, or cut off from PostgreSQL. Two cheap reads on one pooled connection; the code's migration
heads are read from the files once per process. Nothing about the error is told (it is logged).
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

log = logging.getLogger(__name__)
HEADS = "lms.health.heads"


def _code_heads() -> set[str]:
    heads = current_app.extensions.get(HEADS)
    if heads is None:
        from alembic.script import ScriptDirectory

        migrate = current_app.extensions["migrate"]
        heads = current_app.extensions[HEADS] = set(
            ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads())
    return heads


def status() -> tuple[int, dict[str, str]]:
    """(HTTP status, body) of this app server's health."""
    from alembic.runtime.migration import MigrationContext

    from lms.extensions import db

    try:
        with db.engine.connect() as connection:
            connection.execute(sa.select(sa.literal(1)))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError:
        log.exception("health check: the database cannot be reached")
        return 503, {"status": "database unavailable"}
    if _code_heads() - current:
        return 503, {"status": "migrations pending"}
    return 200, {"status": "ok"}
