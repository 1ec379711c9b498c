"""Files for the background-job tests."""
import io
from functools import lru_cache


@lru_cache(maxsize=None)
def xlsx_bomb() -> bytes:
    """A workbook whose first sheet holds a header and 1,000,000 rows: about 7.5 MB zipped (under
    the 8 MB upload limit), far more expanded. Built once per test run (it takes seconds)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["employee_no", "name"])
    for number in range(1_000_000):
        sheet.append([number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def staff_csv(rows: int, start: int = 0) -> bytes:
    lines = ["employee_no,name,team"] + [f"J{start + n:05d},员工{n},热线一组" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")
