"""`lms records ...`: the command line side of the training archive."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.cli import migrated
from lms.clock import utcnow
from lms.formatting import counted


@click.group()
def records() -> None:
    """The training archive."""


@records.command("export")
@click.option("--agent", "employee_no", metavar="NO", help="One agent's archive, by employee number.")
@click.option("--team", default=None, help="One team's archives (default: everyone).")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "json", "xapi"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file (default: standard output; required for xlsx).")
@with_appcontext
@migrated
def export(employee_no: str | None, team: str | None, fmt: str, output: Path | None) -> None:
    """Export training records (one row per entry and per star change) as CSV, XLSX, JSON or
    xAPI statements. Columns and layouts: lms/records/exports.py."""
    from lms.records import exports

    if employee_no is not None and team is not None:
        raise click.UsageError("give --agent or --team, not both")
    if exports.FORMATS[fmt].binary and output is None:
        raise click.UsageError(f"{fmt} is a binary format: give -o FILE to write it to")
    agent = None
    if employee_no is not None:
        try:
            agent = exports.find_agent(employee_no)
        except exports.AgentNotFound:
            raise click.ClickException(f"no account has the employee number {employee_no!r}")
    base_url = current_app.config.get("LMS_BASE_URL", exports.DEFAULT_BASE_URL)
    result = exports.export_archive(fmt, agent=agent, team=team or None, base_url=base_url, now=utcnow())
    if output is None:
        click.echo(result.data, nl=False)  # bytes go to the binary stream untouched (the CSV keeps its BOM)
        return
    output.write_bytes(result.data)
    click.echo(f"Wrote {counted(result.rows, 'row')} to {output}.", err=True)
