"""Question banks from spreadsheets: every type from a row, errors by row number, the templates."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from lms.content.bank_sheets import COLUMNS, EXAMPLES, parse_sheet, template_csv, template_xlsx
from lms.content.banks import generated_key
from lms.questions.types import QUESTION_TYPES


def csv_bytes(rows: list[dict], header=None) -> bytes:
    header = header or COLUMNS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict], header=None) -> bytes:
    header = header or COLUMNS
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(name) for name in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, make", [("bank.csv", csv_bytes), ("bank.xlsx", xlsx_bytes)])
def test_every_type_from_a_row(name, make):
    parsed = parse_sheet(name, make(EXAMPLES))
    assert parsed.errors == [], [str(error) for error in parsed.errors]
    by_key = {spec.key: spec for spec in parsed.questions}
    assert {spec.type for spec in parsed.questions} == set(QUESTION_TYPES)
    single = by_key["ch-001"]
    assert [(o["id"], o["weight"]) for o in single.data["options"]] == [("o1", 1.0), ("o2", 0.0), ("o3", 0.0)]
    assert single.tags == ("流程", "首问负责") and single.difficulty == 2
    assert single.explanation == "首问负责：先安抚、再确认、后处理。"
    assert [o["weight"] for o in by_key["ch-002"].data["options"]] == [0.5, 0.5, -1.0]
    assert by_key["ch-003"].data == {"answer": False}
    assert by_key["ch-004"].data == {"answers": ["24", "二十四"]}
    assert by_key["ch-005"].data == {"answers": [84.15], "tolerance": 0.5}
    assert by_key["ch-006"].data == {
        "pairs": [{"id": "p1", "left": "一级投诉", "right": "2 小时内"}, {"id": "p2", "left": "二级投诉", "right": "24 小时内"}],
        "distractors": [{"id": "d1", "text": "一周内"}]}
    assert by_key["ch-007"].points == 5.0 and by_key["ch-007"].data["guidance"].startswith("评分要点")
    assert [spec.line for spec in parsed.questions] == list(range(2, 9))  # row numbers


def test_letters_aliases_and_generated_ids():
    parsed = parse_sheet("bank.csv", csv_bytes([
        {"type": "多选", "stem": "选出正确的", "option_a": "甲", "option_b": "乙", "option_c": "丙", "correct": "a，c"},
        {"type": "判断题", "stem": "对吗？", "correct": "对"},
        {"type": "multi", "stem": "两个", "option_a": "x", "option_b": "y", "option_c": "z", "correct": "AB"},
    ]))
    assert parsed.errors == []
    multi, truefalse, letters = parsed.questions
    assert [o["weight"] for o in multi.data["options"]] == [0.5, -1.0, 0.5]
    assert multi.key == generated_key("", multi.content_hash)
    assert truefalse.data == {"answer": True}
    assert [o["weight"] for o in letters.data["options"]] == [0.5, 0.5, -1.0]


def test_columns_may_come_in_any_order_and_more_options_be_added():
    header = ["stem", "type", "option_a", "option_b", "option_c", "option_d", "option_e", "option_f", "option_g",
              "correct"]
    row = {"stem": "第七个对", "type": "single", **{f"option_{l}": l for l in "abcdefg"}, "correct": "G"}
    parsed = parse_sheet("bank.xlsx", xlsx_bytes([row], header))
    assert parsed.errors == []
    assert parsed.questions[0].data["options"][6] == {"id": "o7", "text": "g", "weight": 1.0, "feedback": ""}


@pytest.mark.parametrize("row, fragment", [
    ({"type": "ranking", "stem": "s"}, "the type 'ranking' is not one of"),
    ({"type": "", "stem": "s"}, "the question type ('type') must be given"),
    ({"type": "single", "stem": "", "option_a": "a", "option_b": "b", "correct": "A"}, "the question text ('stem') must be given"),
    ({"type": "single", "stem": "s", "option_a": "a", "option_b": "b"}, "say which options are right"),
    ({"type": "single", "stem": "s", "option_a": "a", "option_b": "b", "correct": "C"}, "the right-answer mark ('correct') names C"),
    ({"type": "single", "stem": "s", "option_a": "a", "option_c": "c", "correct": "A"}, "option B is empty"),
    ({"type": "multi", "stem": "s", "option_a": "a", "option_b": "b", "weights": "50"}, "the weights ('weights') give 1 number for 2 options"),
    ({"type": "multi", "stem": "s", "option_a": "a", "option_b": "b", "weights": "60,30"}, "add up to 90%"),
    ({"type": "multi", "stem": "s", "option_a": "a", "option_b": "b", "weights": "x,100"}, "the weight ('weight') is a percent"),
    ({"type": "truefalse", "stem": "s", "correct": "maybe"}, "the right-answer mark ('correct') must be true or false"),
    ({"type": "fill", "stem": "s"}, "the accepted answers ('answers') must be a list"),
    ({"type": "fill", "stem": "s", "answers": "1|一", "tolerance": "0.5"}, "every answer must be a number"),
    ({"type": "matching", "stem": "s", "pairs": "a=b|c"}, "the pairs ('pairs') look like 'item=match"),
    ({"type": "essay", "stem": "s", "answers": "x"}, "the column 'answers' does not belong to a question of the type Essay"),
    ({"type": "essay", "stem": "s", "difficulty": "hard"}, "the difficulty ('difficulty') must be a whole number"),
    ({"type": "essay", "stem": "s", "points": "-1"}, "the points ('points') must be a number above 0"),
    ({"id": "Bad Id", "type": "essay", "stem": "s"}, "may hold only lowercase letters"),
])
def test_bad_rows_are_named_by_row_number(row, fragment):
    good = {"id": "ok-1", "type": "truefalse", "stem": "好", "correct": "true"}
    parsed = parse_sheet("bank.csv", csv_bytes([good, row]), "uploads/bank.csv")
    assert any(error.line == 3 and fragment in error.message for error in parsed.errors), \
        [str(error) for error in parsed.errors]
    assert all(str(error).startswith("uploads/bank.csv:3: ") for error in parsed.errors)


def test_duplicate_ids_and_header_problems():
    rows = [{"id": "a", "type": "essay", "stem": "s"}, {"id": "a", "type": "essay", "stem": "t"}]
    assert [str(e) for e in parse_sheet("b.csv", csv_bytes(rows)).errors] == [
        "b.csv:3: the question id 'a' is used twice (first on row 2)"]
    header_errors = parse_sheet("b.csv", "kind,stem,colour\nsingle,s,red\n".encode()).errors
    assert [(e.line, e.message.split(" (")[0]) for e in header_errors] == [
        (1, "unknown column 'kind'"), (1, "unknown column 'colour'"), (1, "the column 'type' is missing")]
    assert [str(e) for e in parse_sheet("b.csv", "type,stem\n".encode()).errors] == [
        "b.csv:2: the file has no questions below the header"]
    assert parse_sheet("b.xlsx", b"not a workbook").errors[0].line == 1


def test_templates_have_the_columns_and_instructions():
    assert next(csv.reader(io.StringIO(template_csv().decode("utf-8-sig")))) == COLUMNS
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    questions, instructions = workbook.worksheets
    assert [cell.value for cell in questions[1]] == COLUMNS and questions.max_row == 1
    text = "\n".join(str(cell.value) for row in instructions.iter_rows() for cell in row if cell.value)
    for name in ("type", "stem", "correct", "weights", "answers", "pairs", "guidance"):
        assert name in text
    # The examples in the instructions import cleanly when copied to the first sheet.
    assert parse_sheet("template.xlsx", template_xlsx()).errors[0].message.startswith("the file has no questions")
    assert parse_sheet("examples.xlsx", xlsx_bytes(EXAMPLES)).errors == []


def test_title_format_and_partial_credit_columns():
    parsed = parse_sheet("bank.csv", csv_bytes([
        {"type": "fill", "title": "投诉处理 1", "format": "plain", "stem": "一级投诉 ____ 小时内回访",
         "answers": "24|%50% 二十四小时"},
        {"type": "fill", "title": "服务用语 1", "stem": "约多少？", "answers": "1822|%50% 1822:2", "tolerance": "0"},
    ]))
    assert parsed.errors == []
    text, number = parsed.questions
    assert (text.title, text.text_format) == ("投诉处理 1", "plain")
    assert text.data == {"answers": ["24", "二十四小时"], "weights": [1.0, 0.5]}
    assert number.data == {"answers": [1822, 1822], "tolerance": 0, "tolerances": [0, 2], "weights": [1.0, 0.5]}
    assert text.key != number.key and text.key.startswith("q-")
