"""The email address notifications are mailed to: set in the staff import (an optional column)."""
import pytest

from lms.admin.services import find_by_employee_no
from lms.admin.staff_import import IMPORT_COLUMNS, ImportInvalid, import_users, template_csv
from lms.content.spreadsheets import read_table
from lms.extensions import db


def csv_table(text: str):
    return read_table("staff.csv", text.encode("utf-8"))


def test_the_import_sets_email_and_a_blank_cell_keeps_it(app):
    assert "email" in IMPORT_COLUMNS and b"email" in template_csv()
    import_users(csv_table("employee_no,name,email\nE2001,张晓,zhangxiao@example.com\nE2002,刘洋,\n"))
    db.session.expire_all()
    assert find_by_employee_no("E2001").email == "zhangxiao@example.com"
    assert find_by_employee_no("E2002").email is None
    import_users(csv_table("employee_no,name,email\nE2001,张晓,\nE2002,刘洋,liuyang@example.com\n"))
    db.session.expire_all()
    assert find_by_employee_no("E2001").email == "zhangxiao@example.com"  # blank: unchanged
    assert find_by_employee_no("E2002").email == "liuyang@example.com"


def test_a_file_without_the_column_still_imports(app):
    import_users(csv_table("employee_no,name\nE2001,张晓\n"))
    assert find_by_employee_no("E2001").email is None


@pytest.mark.parametrize("bad", ["zhangxiao", "zhang@", "zhang xiao@example.com"])
def test_a_bad_email_refuses_the_file_with_its_row(app, bad):
    with pytest.raises(ImportInvalid) as caught:
        import_users(csv_table(f"employee_no,name,email\nE2001,张晓,ok@example.com\nE2002,刘洋,{bad}\n"))
    (error,) = caught.value.errors
    assert error.row == 3 and "email" in error.message and bad.strip() in error.message
    assert find_by_employee_no("E2001") is None  # nothing imported
