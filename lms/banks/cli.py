"""`lms banks import FILE...` and `lms banks export SLUG`: question banks in and out of files.

Imported by `lms --help` for the group's help line, so it imports only click at the top (lms/cli.py).
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.cli import migrated
from lms.formatting import counted
from lms.clock import utcnow


class ServiceFormat(click.Choice):
    """The formats lms/banks/services.py can import or export (its IMPORT_FORMATS or EXPORT_FORMATS),
    read when first needed: a format added there is accepted here too, and `lms banks --help` does not
    import the services."""

    def __init__(self, registry: str) -> None:
        self.registry = registry
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        from lms.banks import services

        return tuple(getattr(services, self.registry))

    @choices.setter
    def choices(self, _value) -> None:
        pass  # click.Choice.__init__ assigns it; the services module is the one list


@click.group()
def banks() -> None:
    """Import and export question banks (GIFT, Aiken, XLSX, CSV, native YAML, ...)."""


@banks.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(exists=True, dir_okay=False))  # str: messages name it exactly as given
@click.option("--bank", "bank_slug", default=None,
              help="The bank to import every file into (created if new). Default: for each file, the bank a "
                   "native file names, else the file's name.")
@click.option("--format", "fmt", type=ServiceFormat("IMPORT_FORMATS"), default=None,
              help="The format of every file. Default: from each file's extension (.txt: GIFT or Aiken).")
@with_appcontext
@migrated
def import_command(files: tuple[str, ...], bank_slug: str | None, fmt: str | None) -> None:
    """Import FILE... into banks, all or nothing: every file is checked first, and any problem in any
    file prints `file:line: message` and imports nothing. Otherwise all of them are imported in one
    transaction."""
    from lms.banks.services import NEW, NEW_VERSION, RESTORED, UNCHANGED, UPDATED, import_files
    from lms.content.errors import ContentInvalid

    uploads = []
    for path in files:
        try:
            uploads.append((Path(path).read_bytes(), path))
        except OSError as exc:
            raise click.ClickException(f"{path}: {exc.strerror or exc}")
    try:
        all_changes = import_files(uploads, fmt, bank_slug, now=utcnow())
    except ContentInvalid as exc:
        # each problem is named as its file was given on the command line (a name may repeat in two folders)
        per_file = getattr(exc, "files", None) or [exc.errors]
        for path, errors in zip(files, per_file):
            for error in errors:
                click.echo(f"{path}:{error.line}: {error.message}", err=True)
        failed = sum(1 for errors in per_file if errors)
        where = f" in {counted(failed, 'file')}" if len(files) > 1 else ""
        click.echo(f"{counted(len(exc.errors), 'problem')}{where}; nothing was imported.", err=True)
        raise SystemExit(1)
    totals: dict[str, int] = {}
    for path, changes in zip(files, all_changes):
        for warning in changes.warnings:
            click.echo(f"{path}:{warning.line}: warning: {warning.message}", err=True)
        counts = changes.counts()
        for action, count in counts.items():
            totals[action] = totals.get(action, 0) + count
        click.echo(f"{changes.slug}{' (new bank)' if changes.bank_created else ''}: {counts[NEW]} new, "
                   f"{counted(counts[NEW_VERSION], 'new version')}, {counts[UPDATED]} updated, "
                   f"{counts[RESTORED]} restored, {counts[UNCHANGED]} unchanged.")
    if len(all_changes) > 1:
        banks_count = len({changes.slug for changes in all_changes})
        click.echo(f"{len(all_changes)} files into {counted(banks_count, 'bank')}: {totals[NEW]} new, "
                   f"{counted(totals[NEW_VERSION], 'new version')}, {totals[UPDATED]} updated, "
                   f"{totals[RESTORED]} restored, {totals[UNCHANGED]} unchanged.")


@banks.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=ServiceFormat("EXPORT_FORMATS"), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
@migrated
def export_command(slug: str, fmt: str, output: Path | None) -> None:
    """Export the live questions of bank SLUG as GIFT, Moodle XML or a native bank file."""
    from sqlalchemy import select

    from lms.banks.services import export_bank
    from lms.extensions import db
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
