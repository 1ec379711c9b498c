"""One report table as CSV or XLSX, through the archive's writers (lms/records/exports.py): UTF-8 CSV
with a BOM and formula guard; XLSX with a bold frozen header, numbers as numbers."""
from __future__ import annotations

from lms.records.exports import csv_bytes, xlsx_bytes
from lms.reports.tables import ReportTable, cell

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
NUMBER_FORMATS = {"percent": "0.0", "number": "0.0", "int": "0"}


def _records(table: ReportTable) -> tuple[list[str], list[dict]]:
    """Headers in the reader's language, cells typed by their column."""
    headers = [str(column.label) for column in table.columns]
    records = [{str(column.label): cell(row.get(column.key), column.kind) for column in table.columns}
               for row in table.rows]
    return headers, records


def export_table(table: ReportTable, fmt: str) -> tuple[bytes, str, str]:
    """(data, filename, media type) of `table` as `fmt` ("csv" or "xlsx"); raises ValueError else."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    headers, records = _records(table)
    text = [str(column.label) for column in table.columns if column.kind in ("text", "date")]
    if fmt == "csv":
        data = csv_bytes(headers, records, set(text))
    else:
        formats = {str(column.label): NUMBER_FORMATS[column.kind] for column in table.columns
                   if column.kind in NUMBER_FORMATS}
        data = xlsx_bytes(table.name[:31], headers, records, set(text),
                          lambda name: max(10, min(40, len(name) * 2 + 2)), formats)
    return data, f"{table.name}.{fmt}", FORMATS[fmt]
