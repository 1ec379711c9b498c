"""Spreadsheets (CSV, XLSX) read into a table of strings, whatever they will be imported as.

The first row is the header; every other row is a dict from header name to a stripped string,
numbered as the spreadsheet numbers it so errors can say "row 7".
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Callable, Iterable

from flask_babel import gettext as _


class SpreadsheetError(ValueError):
    """The file cannot be read as a table: unknown type, corrupt, or without a header."""


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[Row]


def cell_text(value) -> str:
    """One cell as the text a person typed: dates as YYYY-MM-DD, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # Excel in Chinese saves "CSV" in the ANSI code page, GBK
    except UnicodeDecodeError:
        raise SpreadsheetError(_("The file is neither UTF-8 nor GBK text; save it again as CSV UTF-8."))


def _csv_rows(data: bytes) -> Iterable[list]:
    if data.startswith(b"PK\x03\x04"):
        raise SpreadsheetError(_("This is an Excel workbook named .csv; rename it to .xlsx or save it as CSV."))
    try:
        return list(csv.reader(io.StringIO(_decode(data), newline="")))
    except csv.Error as exc:
        raise SpreadsheetError(_("The CSV file cannot be read: %(reason)s", reason=str(exc)))


def _xlsx_rows(data: bytes) -> Iterable[tuple]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors for a damaged or foreign file
        raise SpreadsheetError(_("The file cannot be read as an Excel workbook (.xlsx)."))
    try:
        sheet = workbook.worksheets[0]  # the first sheet, whichever one was open when saved
        sheet.reset_dimensions()  # some programs write a wrong size; read every row there is
        return list(sheet.iter_rows(values_only=True))
    except Exception:
        raise SpreadsheetError(_("The file cannot be read as an Excel workbook (.xlsx)."))
    finally:
        workbook.close()


READERS: dict[str, Callable[[bytes], Iterable]] = {".csv": _csv_rows, ".xlsx": _xlsx_rows}


def read_table(filename: str, data: bytes) -> Table:
    """The table in `data`, read by the reader for `filename`'s extension.

    Raises SpreadsheetError for an unknown extension, an unreadable file, or an empty one.
    Completely empty rows are left out, but later rows keep their spreadsheet numbers.
    Columns with an empty header are ignored.
    """
    extension = PurePath(filename or "").suffix.lower()
    reader = READERS.get(extension)
    if reader is None:
        raise SpreadsheetError(_("Unsupported file type %(extension)s: use %(allowed)s.",
                                 extension=extension or "(none)", allowed=", ".join(READERS)))
    if not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    rows = [[cell_text(value) for value in row] for row in reader(data)]
    if not rows or not any(rows[0]):
        raise SpreadsheetError(_("The first row must hold the column names; it is empty."))
    header = [name.strip().lower() for name in rows[0]]
    named = [(index, name) for index, name in enumerate(header) if name]
    seen: set[str] = set()
    for _index, name in named:
        if name in seen:
            raise SpreadsheetError(_("The column %(name)s appears twice in the first row.", name=name))
        seen.add(name)
    table_rows = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        values = {name: cells[index] if index < len(cells) else "" for index, name in named}
        table_rows.append(Row(number=number, values=values))
    return Table(header=[name for _index, name in named], rows=table_rows)


def header_csv(columns: list[str]) -> bytes:
    """A template's header row as CSV (UTF-8 with a BOM, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(columns)
    return buffer.getvalue().encode("utf-8-sig")


def header_workbook(title: str, columns: list[str], width: Callable[[str], int], text_columns):
    """A template workbook whose first sheet holds only the bold, frozen header (it is what gets
    imported). `width(name)` sizes each column; `text_columns` keep what is typed as text
    ("00123" stays "00123", "1/2" does not become a date)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(columns)
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        column = sheet.column_dimensions[get_column_letter(index)]
        column.width = width(name)
        if name in text_columns:
            column.number_format = "@"
    return workbook


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
