"""`lms reports ...`: every registered report (lms/reports/tables.py `@report`) from the command line.

    lms reports list
    lms reports export NAME --period 2026-01..2026-06 [--team T] [--level N] [--track X] [--course SLUG]
                       [--table NAME] [--arg KEY=VALUE ...] --format csv|xlsx [-o FILE]

The command runs as the system: builders are called with viewer None, which every builder must take
as full access (no person's permissions apply). Kept cheap to import (`lms --help` reads it): the
report modules are imported inside the commands, which is also when their `@report` lines run.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.cli import migrated
from lms.formatting import counted

# The modules whose `@report` builders the command offers; one not written yet is skipped.
REPORT_MODULES = ("lms.reports.programme", "lms.reports.items", "lms.reports.mentors",
                  "lms.reports.recognition", "lms.reports.audit")


def load_reports() -> dict:
    """The report registry with every report module imported."""
    for module in REPORT_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:  # a module that exists but fails to import is a real error
                raise
    from lms.reports.tables import REPORTS

    return REPORTS


def _keyword(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip().isidentifier():
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--arg")
    return key.strip(), value


@click.group()
def reports() -> None:
    """Reports for managers and trainers, as CSV or XLSX."""


@reports.command("list")
@with_appcontext
def list_reports() -> None:
    """The reports `lms reports export` knows."""
    for name in sorted(load_reports()):
        click.echo(name)


@reports.command("export")
@click.argument("name")
@click.option("--period", default=None, metavar="PERIOD",
              help="A month 2026-11, a year 2026 or months 2026-01..2026-06 (default: the last 12 months).")
@click.option("--team", default=None, help="Only this team.")
@click.option("--level", type=click.IntRange(0, 5), default=None, help="Only agents of this star level.")
@click.option("--track", default=None, help="Only courses of this track.")
@click.option("--course", "course_slug", default=None, metavar="SLUG", help="Only this course.")
@click.option("--table", "table_name", default=None, help="Which of the report's tables (default: the first).")
@click.option("--arg", "extra", multiple=True, metavar="KEY=VALUE",
              help="A report's own option, e.g. --arg exam=SLUG (exam-items), --arg person=E1001 (audit).")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file (default: standard output; required for xlsx).")
@with_appcontext
@migrated
def export(name: str, period: str | None, team: str | None, level: int | None, track: str | None,
           course_slug: str | None, table_name: str | None, extra: tuple[str, ...], fmt: str,
           output: Path | None) -> None:
    """Export report NAME (one table of it) as CSV or XLSX, computed as the system sees it."""
    from lms.clock import utcnow
    from lms.reports.exports import export_table
    from lms.reports.period import PeriodInvalid, default_period, parse_period
    from lms.reports.tables import Filters

    known = load_reports()
    if name not in known:
        raise click.ClickException(f"unknown report {name!r}; known reports: {', '.join(sorted(known)) or '(none)'}")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("xlsx is a binary format: give -o FILE to write it to")
    keywords = dict(_keyword(text) for text in extra)
    now = utcnow()
    try:
        chosen = parse_period(period) if period is not None else default_period(now)
    except PeriodInvalid:
        raise click.ClickException(
            f"not a period: {period!r}; give a month 2026-11, a year 2026 or months 2026-01..2026-06")
    filters = Filters(team=team or None, level=level, track=track or None, course_slug=course_slug or None)
    try:
        tables = known[name](None, chosen, filters, now, **keywords)
    except TypeError as error:
        if keywords and "unexpected keyword" in str(error):
            raise click.ClickException(f"report {name!r} does not take {', '.join(sorted(keywords))}: {error}")
        raise
    except Exception as error:  # the report's own refusals (unknown exam, person, ...): their message, exit 1
        if not type(error).__module__.startswith("lms."):
            raise
        raise click.ClickException(f"{name}: {type(error).__name__} {error}".rstrip())
    if not tables:
        raise click.ClickException(f"report {name!r} has no table for these filters")
    if table_name is None:
        table = tables[0]
    else:
        table = next((one for one in tables if one.name == table_name), None)
        if table is None:
            raise click.ClickException(f"report {name!r} has no table {table_name!r}; its tables: "
                                       + ", ".join(one.name for one in tables))
    data, _filename, _media_type = export_table(table, fmt)
    if output is None:
        click.echo(data, nl=False)  # bytes go to the binary stream untouched (the CSV keeps its BOM)
        return
    output.write_bytes(data)
    click.echo(f"Wrote {counted(len(table.rows), 'row')} of {table.name} ({chosen.text}) to {output}.", err=True)
