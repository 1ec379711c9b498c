"""Spreadsheets (CSV, XLSX) read into a table of strings, whatever they will be imported as.

The first row is the header; every other row is a dict from header name to a stripped string,
numbered as the spreadsheet numbers it so errors can say "row 7".
"""
from __future__ import annotations

import csv
import io
import re
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Callable, Iterator

from lms.content.errors import Text, _l, listed, ngettext


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



@dataclass(frozen=True)
class RowError:
    row: int
    message: Text  # translated when shown (lms.content.errors)


class ImportInvalid(Exception):
    """Every problem found in an import file, by row; nothing was written."""

    def __init__(self, errors: list[RowError]):
        super().__init__(ngettext("%(num)s problem", "%(num)s problems", len(errors)))
        self.errors = sorted(errors, key=lambda error: error.row)


DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def parse_date(text: str | None) -> date | None:
    """A date cell as people type it: 2026-11-02, 2026/11/2 (cell_text gives an Excel date so); else None."""
    match = DATE.match(text or "")
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def check_header(header: list[str], required, allowed) -> list[RowError]:
    """Row 1's problems: required columns missing, columns nobody knows (named, with the known ones)."""
    errors = []
    missing = [name for name in required if name not in header]
    if missing:
        errors.append(RowError(1, ngettext("Missing required column: %(names)s.",
                                           "Missing required columns: %(names)s.", len(missing),
                                           names=listed(missing))))
    unknown = [name for name in header if name not in allowed]
    if unknown:
        errors.append(RowError(1, ngettext("Unknown column: %(names)s. The columns are: %(allowed)s.",
                                           "Unknown columns: %(names)s. The columns are: %(allowed)s.", len(unknown),
                                           names=listed(unknown), allowed=listed(allowed))))
    return errors


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
        raise SpreadsheetError(_l("The file is neither UTF-8 nor GBK text; save it again as CSV UTF-8."))


# A workbook is a zip: what it expands to is bounded before anything is parsed, so a few
# megabytes cannot become gigabytes of XML in memory.
MAX_XLSX_EXPANDED = 256 * 1024 * 1024


class TooManyRows(SpreadsheetError):
    """The file holds more rows than an import accepts; reading stopped at the limit."""

    def __init__(self, limit: int):
        super().__init__(_l("The file has more than %(n)s rows; split it into files of at most %(n)s rows.",
                            n=limit))
        self.limit = limit


def _csv_rows(data: bytes) -> Iterator[list]:
    if data.startswith(b"PK\x03\x04"):
        raise SpreadsheetError(_l("This is an Excel workbook named .csv; rename it to .xlsx or save it as CSV."))
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SpreadsheetError(_l("The CSV file cannot be read: %(reason)s", reason=str(exc)))


def _unreadable_workbook() -> SpreadsheetError:
    return SpreadsheetError(_l("The file cannot be read as an Excel workbook (.xlsx)."))


def _sheet_size_from_header(self) -> None:
    """openpyxl's read-only sheet looks for <dimension> until the *end* of <sheetData>, that is
    through the whole sheet when a file has none (22 s for a million rows). The schema puts it
    before <sheetData>, so stop looking there. (We reset the dimensions anyway.)"""
    from xml.etree.ElementTree import iterparse

    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.constants import SHEET_MAIN_NS

    with self._get_source() as source:
        for event, element in iterparse(source, events=("start", "end")):
            if element.tag == f"{{{SHEET_MAIN_NS}}}sheetData":
                return
            if event == "end" and element.tag == f"{{{SHEET_MAIN_NS}}}dimension":
                boundaries = SheetDimension.from_tree(element).boundaries
                if boundaries is not None:
                    self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                return


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    """The first sheet's rows, streamed (openpyxl read-only): a sheet is never loaded whole, so the
    caller's row limit stops a sheet that declares a million rows after the limit, not after a
    million."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _sheet_size_from_header
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable_workbook()
    if expanded > MAX_XLSX_EXPANDED:
        raise SpreadsheetError(_l("The workbook expands to more than %(n)s MB; save it again without unused "
                                  "rows, columns and sheets.", n=MAX_XLSX_EXPANDED // (1024 * 1024)))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors for a damaged or foreign file
        raise _unreadable_workbook()
    try:
        sheet = workbook.worksheets[0]  # the first sheet, whichever one was open when saved
        sheet.reset_dimensions()  # some programs write a wrong size; read every row there is
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception:
                raise _unreadable_workbook()
            yield row
    finally:
        workbook.close()


READERS: dict[str, Callable[[bytes], Iterator]] = {".csv": _csv_rows, ".xlsx": _xlsx_rows}


def read_table(filename: str, data: bytes, max_rows: int | None = None) -> Table:
    """The table in `data`, read by the reader for `filename`'s extension.

    Raises SpreadsheetError for an unknown extension, an unreadable file, or an empty one, and
    TooManyRows as soon as more than `max_rows` rows follow the header (empty rows count: they
    cost as much to read). Completely empty rows are left out, but later rows keep their
    spreadsheet numbers. Columns with an empty header are ignored.
    """
    extension = PurePath(filename or "").suffix.lower()
    reader = READERS.get(extension)
    if reader is None:
        raise SpreadsheetError(_l("Unsupported file type %(extension)s: use %(allowed)s.",
                                  extension=extension or _l("(no extension)"), allowed=", ".join(READERS)))
    if not data.strip():
        raise SpreadsheetError(_l("The file is empty."))
    rows = []
    with closing(reader(data)) as source:  # closes the workbook when reading stops early
        for raw in source:
            if max_rows is not None and len(rows) > max_rows:  # the header and max_rows rows read already
                raise TooManyRows(max_rows)
            rows.append([cell_text(value) for value in raw])
    if not rows or not any(rows[0]):
        raise SpreadsheetError(_l("The first row must hold the column names; it is empty."))
    header = [name.strip().lower() for name in rows[0]]
    named = [(index, name) for index, name in enumerate(header) if name]
    seen: set[str] = set()
    for _index, name in named:
        if name in seen:
            raise SpreadsheetError(_l("The column %(name)s appears twice in the first row.", name=name))
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


TEMPLATE_HEADINGS = (_l("Example row"), _l("Column"), _l("What to enter"), _l("Example"))


def one_row_per_line_template(title: str, columns: list[str], text_columns, *, intro: str, example: dict,
                              help_texts: dict[str, str]) -> bytes:
    """A template workbook for files with one record per row (staff, customer evaluations, plan
    assignments): the header sheet, then an instructions sheet with `intro`, an example row and each
    column's help, under headings in the current language."""
    from openpyxl.styles import Font

    workbook = header_workbook(title, columns, lambda name: max(14, len(name) + 4), text_columns)
    instructions = workbook.create_sheet("说明 Instructions")
    example_row, column, what, example_heading = (str(heading) for heading in TEMPLATE_HEADINGS)
    instructions.append([intro])
    instructions.append([])
    instructions.append([example_row])
    instructions.append(columns)
    instructions.append([example[name] for name in columns])
    instructions.append([])
    instructions.append([column, what, example_heading])
    for row in (3, 4, 7):
        for cell in instructions[row]:
            cell.font = Font(bold=True)
    for name in columns:
        instructions.append([name, help_texts[name], example[name]])
    instructions.column_dimensions["A"].width = 22
    instructions.column_dimensions["B"].width = 80
    instructions.column_dimensions["C"].width = 16
    return workbook_bytes(workbook)


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
