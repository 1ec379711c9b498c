import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from lms.content.spreadsheets import Row, SpreadsheetError, read_table


def xlsx(rows, extra_sheet=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("other").append(extra_sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_utf8_header_is_normalised_and_cells_stripped():
    table = read_table("staff.csv", " Employee_No ,NAME, Team\nE1001 , 张晓 ,热线一组\n".encode("utf-8"))
    assert table.header == ["employee_no", "name", "team"]
    assert table.rows == [Row(number=2, values={"employee_no": "E1001", "name": "张晓", "team": "热线一组"})]


def test_csv_utf8_with_bom_does_not_leak_into_the_first_column():
    table = read_table("staff.CSV", "employee_no,name\r\nE1,王敏\r\n".encode("utf-8-sig"))
    assert table.header == ["employee_no", "name"]
    assert table.rows[0].values == {"employee_no": "E1", "name": "王敏"}


def test_csv_saved_by_chinese_excel_in_gbk():
    data = "工号,姓名\nE1,赵磊\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test is only meaningful if this is not valid UTF-8
    table = read_table("staff.csv", data)
    assert table.header == ["工号", "姓名"]
    assert table.rows[0].values == {"工号": "E1", "姓名": "赵磊"}


def test_csv_quoted_cells_short_rows_and_empty_rows_keep_their_numbers():
    data = b'a,b,c\n1,"x, y",3\n\n,,\n4\n'
    table = read_table("t.csv", data)
    assert [row.number for row in table.rows] == [2, 5]
    assert table.rows[0].values == {"a": "1", "b": "x, y", "c": "3"}
    assert table.rows[1].values == {"a": "4", "b": "", "c": ""}


def test_xlsx_dates_whole_floats_and_empty_rows():
    data = xlsx([
        ["Employee_no", "hire_date", "star_level", "score", "joined"],
        ["E1", date(2024, 3, 1), 3.0, 2.5, datetime(2025, 1, 2, 9, 30)],
        [None, None, None, None, None],
        [" E2 ", None, 4, None, None],
    ], extra_sheet=["not", "read"])
    table = read_table("staff.xlsx", data)
    assert table.header == ["employee_no", "hire_date", "star_level", "score", "joined"]
    assert table.rows[0] == Row(2, {"employee_no": "E1", "hire_date": "2024-03-01", "star_level": "3",
                                    "score": "2.5", "joined": "2025-01-02"})
    assert table.rows[1].number == 4
    assert table.rows[1].values["employee_no"] == "E2"
    assert table.rows[1].values["star_level"] == "4"
    assert table.rows[1].values["hire_date"] == ""


def test_header_only_file_has_no_rows():
    assert read_table("t.csv", b"a,b\n").rows == []


@pytest.mark.parametrize("filename, data", [
    ("staff.txt", b"a,b\n1,2\n"),
    ("staff", b"a,b\n1,2\n"),
    ("staff.xls", b"whatever"),
    ("staff.csv", b""),
    ("staff.csv", b"\n\n"),
    ("staff.xlsx", b""),
    ("staff.xlsx", b"this is not a zip file"),
    ("staff.csv", b",,\n1,2,3\n"),
])
def test_unreadable_files_raise_spreadsheet_error(filename, data):
    with pytest.raises(SpreadsheetError):
        read_table(filename, data)


def test_xlsx_renamed_to_csv_is_refused_with_a_hint():
    with pytest.raises(SpreadsheetError, match="xlsx"):
        read_table("staff.csv", xlsx([["a"], ["1"]]))


def test_duplicate_column_names_are_refused():
    with pytest.raises(SpreadsheetError, match="twice"):
        read_table("t.csv", b"name,Name\nx,y\n")


@pytest.mark.parametrize("locale, headings", [
    ("en", ["Example row", "Column", "What to enter", "Example"]),
    ("zh_CN", None),  # translated: none of the English headings is left
])
def test_a_template_explains_its_columns_under_headings_in_the_readers_language(app, locale, headings):
    from flask_babel import force_locale
    from openpyxl import load_workbook

    from lms.content.spreadsheets import one_row_per_line_template

    with app.test_request_context(), force_locale(locale):
        data = one_row_per_line_template("表 Sheet", ["a", "b"], ("a",), intro="填写第一张表。",
                                         example={"a": "1", "b": "2"}, help_texts={"a": "甲", "b": "乙"})
    workbook = load_workbook(io.BytesIO(data))
    assert list(workbook.worksheets[0].iter_rows(values_only=True)) == [("a", "b")]
    rows = list(workbook["说明 Instructions"].iter_rows(values_only=True))
    shown = [rows[2][0], *rows[6][:3]]
    assert rows[3][:2] == ("a", "b") and rows[4][:2] == ("1", "2") and rows[7][:3] == ("a", "甲", "1")
    if headings is not None:
        assert shown == headings
    else:
        assert all(heading and heading not in ("Example row", "Column", "What to enter", "Example")
                   for heading in shown), shown
