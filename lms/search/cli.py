"""`lms search reindex`: rebuild the search index from the content. Cheap to import (click only)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.cli import migrated


@click.group()
def search() -> None:
    """The search index of lessons, courses, scenarios and questions."""


@search.command("reindex")
@with_appcontext
@migrated
def reindex() -> None:
    """Rebuild the search index from the database (`lms sync` and browser edits keep it fresh; this
    repairs it, e.g. after restoring a backup or editing the database by hand)."""
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.models.search import SearchDocument
    from lms.search.index import refresh_all

    changed = refresh_all(db.session)
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(SearchDocument))
    click.echo(f"search index: {total} documents, {changed} changed")
