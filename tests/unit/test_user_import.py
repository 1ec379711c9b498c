import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.admin.services import find_by_employee_no
from lms.admin.staff_import import IMPORT_COLUMNS, ImportInvalid, import_users, template_csv, template_xlsx
from lms.content.spreadsheets import read_table
from lms.extensions import db
from lms.models import User


def csv_table(text: str):
    return read_table("staff.csv", text.encode("utf-8"))


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def errors_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ImportInvalid) as caught:
        import_users(csv_table(text))
    return [(error.row, error.message) for error in caught.value.errors]


def code_of(result, employee_no: str) -> str:
    return next(code for number, _name, code in result.codes if number == employee_no)


def test_valid_file_creates_accounts_with_roles_mentors_and_activation_codes(app):
    # Changed with issue 8: one-time activation codes instead of temporary passwords.
    from lms.auth.activation import code_hash

    table = csv_table(
        "employee_no,name,team,hire_date,star_level,roles,mentor_employee_no,preferred_language,password\n"
        "E2001,张晓,热线一组,2026-03-01,,,M0009,zh-CN,\n"  # mentor defined on a later row
        "E2002,刘洋,热线一组,2025/9/1,2,agent、mentor,,en,secret-pass\n"
        "M0009,陈刚,热线一组,,4,mentor；agent,,,\n"
    )
    result = import_users(table)

    assert result.created == ["E2001", "E2002", "M0009"]
    assert result.updated == []
    assert {number for number, _name, _code in result.codes} == {"E2001", "M0009"}  # E2002 brought its own
    db.session.expire_all()
    new_hire = find_by_employee_no("E2001")
    assert new_hire.name == "张晓" and new_hire.team == "热线一组"
    assert new_hire.hire_date == date(2026, 3, 1)
    assert new_hire.star_level == 0
    assert new_hire.roles == {"agent"}
    assert new_hire.preferred_language == "zh_CN"
    assert new_hire.mentor.employee_no == "M0009"
    assert new_hire.active
    assert new_hire.activation_hash == code_hash("E2001", code_of(result, "E2001"))
    assert not new_hire.check_password(code_of(result, "E2001"))  # no password until activated
    second = find_by_employee_no("E2002")
    assert second.roles == {"agent", "mentor"}
    assert second.hire_date == date(2025, 9, 1)
    assert second.star_level == 2 and second.preferred_language == "en"
    assert second.check_password("secret-pass")
    assert second.mentor is None
    mentor = find_by_employee_no("M0009")
    assert mentor.roles == {"agent", "mentor"} and mentor.star_level == 4
    assert mentor.activation_hash == code_hash("M0009", code_of(result, "M0009"))
    assert code_of(result, "E2001") != code_of(result, "M0009")
    assert second.activation_hash is None


def test_a_mentor_may_be_on_a_later_row(app):
    import_users(csv_table("employee_no,name,star_level,roles,mentor_employee_no\nB1,乙,0,agent,A1\n"
                           "A1,甲,3,mentor,\n"))
    db.session.expire_all()
    assert find_by_employee_no("B1").mentor.employee_no == "A1"


@pytest.mark.parametrize("rows, problem", [
    ("B1,乙,0,agent,A1\nA1,甲,3,agent,\n", "mentor role"),  # no mentor role
    ("B1,乙,2,agent,A1\nA1,甲,2,mentor,\n", "higher star level"),  # not above the mentee
    ("B1,乙,1,mentor,A1\nA1,甲,1,mentor,B1\n", "higher star level"),  # naming each other: one is not above
])
def test_a_mentor_holds_the_role_and_a_higher_star_level(app, rows, problem):
    with pytest.raises(ImportInvalid) as raised:
        import_users(csv_table("employee_no,name,star_level,roles,mentor_employee_no\n" + rows))
    assert raised.value.errors[0].row == 2 and problem in raised.value.errors[0].message
    assert find_by_employee_no("B1") is None  # nothing imported


def test_star_levels_from_a_file_go_into_the_star_history(app, make_user):
    from lms.models import AuditEvent, StarChange

    make_user(star_level=3, employee_no="E1")
    import_users(csv_table("employee_no,name,star_level\nE1,甲,1\nN1,新人,2\n"))
    changes = {(c.user.employee_no, c.kind, c.from_level, c.to_level, c.reason)
               for c in db.session.scalars(select(StarChange))}
    assert changes == {("E1", "demotion", 3, 1, "bulk import"), ("N1", "initial", None, 2, "")}
    assert {e.action for e in db.session.scalars(select(AuditEvent))} >= {"star.demotion", "star.initial"}


def test_existing_accounts_are_updated_and_keep_what_is_blank(app, make_user):
    mentor = make_user(roles=("mentor",), employee_no="M1")
    make_user(roles=("agent",), star_level=3, employee_no="E1", team="热线二组", hire_date=date(2020, 1, 1),
              password="original-pw", mentor=mentor)

    result = import_users(csv_table(
        "employee_no,name,team,hire_date,star_level,roles,mentor_employee_no,password\n"
        "E1,新名字,,,,,M2,\n"  # a new mentor, created further down
        "M1,导师,质检组,,5,mentor trainer,,new-password-1\n"
        "M2,新导师,,,4,mentor,,\n"
    ))

    assert result.created == ["M2"] and result.updated == ["E1", "M1"] and [row[0] for row in result.codes] == ["M2"]
    db.session.expire_all()
    updated = find_by_employee_no("E1")
    assert updated.name == "新名字"
    assert (updated.team, updated.hire_date, updated.star_level) == ("热线二组", date(2020, 1, 1), 3)
    assert updated.roles == {"agent"}
    assert updated.mentor.employee_no == "M2"
    assert updated.check_password("original-pw")
    mentor = find_by_employee_no("M1")
    assert (mentor.team, mentor.star_level, mentor.roles) == ("质检组", 5, {"mentor", "trainer"})
    assert mentor.check_password("new-password-1")


def test_xlsx_import_with_excel_dates_and_numbers(app):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["employee_no", "name", "hire_date", "star_level"])
    workbook.active.append(["E7", "孙悦", date(2022, 10, 10), 3.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_users(read_table("staff.xlsx", buffer.getvalue()))
    user = find_by_employee_no("E7")
    assert user.hire_date == date(2022, 10, 10) and user.star_level == 3


def test_every_bad_row_is_reported_with_its_number_and_nothing_is_imported(app, make_user):
    make_user(employee_no="OLD1")
    before = user_count()
    errors = errors_of(
        "employee_no,name,team,hire_date,star_level,roles,mentor_employee_no,preferred_language,password\n"
        "OK1,好人,,,,,,,\n"            # 2: valid, must not be created either
        ",无工号,,,,,,,\n"              # 3
        "bad no!,坏工号,,,,,,,\n"       # 4
        "E3,,,,,,,,\n"                 # 5 name missing
        "E4,日期,,2024-13-01,,,,,\n"    # 6
        "E5,星级,,,6,,,,\n"             # 7
        "E6,星级,,,two,,,,\n"           # 8
        "E7,角色,,,,agent boss,,,\n"    # 9
        "E8,导师,,,,,NOBODY,,\n"        # 10
        "E9,自己,,,,,E9,,\n"            # 11
        "E10,语言,,,,,,fr,\n"           # 12
        "E11,密码,,,,,,,short\n"        # 13
        "E12,多个,,31/12/2024,9,,,,\n"  # 14: two problems on one row
    )
    rows = [row for row, _message in errors]
    assert rows == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14]
    messages = dict(errors)
    assert "employee_no is required" in messages[3]
    assert "bad no!" in messages[4]
    assert "name is required" in messages[5]
    assert "2024-13-01" in messages[6]
    assert "0 to 5" in messages[7] and "two" in messages[8]
    assert "boss" in messages[9]
    assert "NOBODY" in messages[10]
    assert "own mentor" in messages[11]
    assert "fr" in messages[12]
    assert "8 characters" in messages[13]
    assert user_count() == before
    assert find_by_employee_no("OK1") is None


def test_missing_required_column_is_one_error_on_row_1(app):
    assert errors_of("employee_no,team\nE1,热线一组\n") == [(1, "Missing required column: 'name'.")]


def test_unknown_column_is_reported_on_row_1_with_the_row_problems(app):
    errors = errors_of("employee_no,name,star\nE1,甲,3\nE2,,\n")
    assert [row for row, _message in errors] == [1, 3]
    assert "star" in errors[0][1]
    assert user_count() == 0


def test_duplicate_employee_numbers_in_the_file(app):
    errors = errors_of("employee_no,name\nE1,甲\nE2,乙\nE1,丙\n")
    assert errors == [(4, "employee_no E1 is also on row 2.")]
    assert user_count() == 0


def test_self_mentor_is_refused_for_an_existing_account_too(app, make_user):
    make_user(employee_no="E1")
    errors = errors_of("employee_no,name,mentor_employee_no\nE1,甲,E1\n")
    assert errors == [(2, "mentor_employee_no: an employee cannot be their own mentor.")]
    assert find_by_employee_no("E1").mentor is None


def test_file_without_rows_is_an_error(app):
    assert errors_of("employee_no,name\n") == [(2, "The file has no rows below the header.")]


def test_importing_admin_cannot_remove_their_own_admin_role(app, make_user):
    admin = make_user(roles=("admin",), employee_no="A1")
    with pytest.raises(ImportInvalid) as caught:
        import_users(csv_table("employee_no,name,roles\nA1,管理员,agent\n"), actor=admin)
    assert [error.row for error in caught.value.errors] == [2]
    db.session.expire_all()
    assert find_by_employee_no("A1").roles == {"admin"}


def test_templates_hold_the_header_and_the_xlsx_explains_each_column(app):
    assert read_table("t.csv", template_csv()).header == IMPORT_COLUMNS
    data = template_xlsx()
    assert read_table("t.xlsx", data) == read_table("t.csv", template_csv())  # header only, no example
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames[1] == "说明 Instructions"
    explained = {row[0] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert set(IMPORT_COLUMNS) <= explained
