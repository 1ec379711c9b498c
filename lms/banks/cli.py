"""`lms banks import FILE` and `lms banks export SLUG`: question banks in and out of files."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.cli import migrated
from lms.clock import utcnow
from lms.content.errors import ContentInvalid
from lms.extensions import db


@click.group()
def banks() -> None:
    """Import and export question banks (GIFT, Aiken, XLSX, CSV, native YAML)."""


@banks.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_slug", default=None,
              help="The bank to import into (created if new). Default: the bank a native file names, else the "
                   "file's name.")
@click.option("--format", "fmt", type=click.Choice(["gift", "aiken", "xlsx", "csv", "native"]), default=None,
              help="Default: from the extension (.gift, .aiken, .txt GIFT or Aiken, .xlsx, .csv, .yaml).")
@with_appcontext
@migrated
def import_command(file: Path, bank_slug: str | None, fmt: str | None) -> None:
    """Import FILE into a bank, all or nothing: any problem prints `file:line: message` and imports nothing."""
    from lms.banks.services import NEW, NEW_VERSION, RESTORED, UNCHANGED, UPDATED, import_file

    try:
        changes = import_file(file.read_bytes(), file.name, fmt, bank_slug, now=utcnow())
    except ContentInvalid as exc:
        for error in exc.errors:  # every problem is in FILE: name it as it was given
            click.echo(f"{file}:{error.line}: {error.message}", err=True)
        click.echo(f"{len(exc.errors)} problem(s); nothing was imported.", err=True)
        raise SystemExit(1)
    for warning in changes.warnings:
        click.echo(f"{file}:{warning.line}: warning: {warning.message}", err=True)
    counts = changes.counts()
    click.echo(f"{changes.slug}{' (new bank)' if changes.bank_created else ''}: {counts[NEW]} new, "
               f"{counts[NEW_VERSION]} new versions, {counts[UPDATED]} updated, {counts[RESTORED]} restored, "
               f"{counts[UNCHANGED]} unchanged.")


@banks.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["gift", "native"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
@migrated
def export_command(slug: str, fmt: str, output: Path | None) -> None:
    """Export the live questions of bank SLUG as GIFT or as a native bank file."""
    from lms.banks.services import export_bank
    from lms.models import QuestionBank

    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.slug == slug))
    if bank is None:
        raise click.ClickException(f"no bank {slug!r}")
    text, _filename, _mimetype = export_bank(bank, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)
