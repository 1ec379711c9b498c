"""Question banks as spreadsheets (XLSX or CSV): one question per row, errors by row number.

Columns (the first row names them, in any order; only `type` and `stem` are required):

    id            the question's stable id (lowercase letters, digits, hyphens); blank: made from the
                  title and the whole question, so only a given id ever updates another question
    title         the question's name (any language), a label shown in lists, never its id
    type          single, multi, truefalse, fill, matching, essay (or 单选 多选 判断 填空 匹配 问答)
    format        how stem and explanation are written: markdown (default), moodle, plain, html
    stem          the question (Markdown); write ____ for the blank of a fill-in question
    option_a..f   the options of a choice question (more letters, option_g..., may be added)
    correct       choice: the right letters, "A" or "A,C"; truefalse: true/false (also T/F, 对/错)
    weights       choice, instead of correct: percent per option in order, "50,50,-100"
    answers       fill: the accepted answers separated by |, e.g. "24|二十四|%50% 二十"; `%50%` before
                  an answer makes it worth 50 %; with a tolerance, a number may carry its own
                  margin, "3.5:0.5"
    tolerance     fill: makes the answers numbers, right within this margin
    pairs         matching: "item=match|item=match"
    distractors   matching: extra wrong matches separated by |
    tags          separated by commas
    difficulty    1 (easy) to 5 (hard)
    points        default 1
    explanation   shown in review (Markdown)
    guidance      essay: for the marker

Each row becomes the native format's question mapping and goes through the same checks.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _

from lms.content.banks import ParsedBank, Reporter, check_key, fill_entry, read_question
from lms.content.errors import _l, listed, ngettext
from lms.questions.types import QUESTION_TYPES
from lms.content.spreadsheets import SpreadsheetError, Table, header_csv, header_workbook, read_table, workbook_bytes

OPTION_COLUMN = re.compile(r"^option_([a-z])$")
TEMPLATE_OPTIONS = "abcdef"
COLUMNS = (["id", "title", "type", "format", "stem"] + [f"option_{letter}" for letter in TEMPLATE_OPTIONS]
           + ["correct", "weights", "answers", "tolerance", "pairs", "distractors", "tags", "difficulty", "points",
              "explanation", "guidance"])
KNOWN = set(COLUMNS)
TYPE_ALIASES = {
    "single": "single", "单选": "single", "单选题": "single",
    "multi": "multi", "multiple": "multi", "多选": "multi", "多选题": "multi",
    "truefalse": "truefalse", "true/false": "truefalse", "判断": "truefalse", "判断题": "truefalse",
    "fill": "fill", "填空": "fill", "填空题": "fill",
    "matching": "matching", "匹配": "matching", "匹配题": "matching", "连线": "matching",
    "essay": "essay", "问答": "essay", "问答题": "essay", "简答": "essay", "简答题": "essay",
}
TRUE_WORDS = {"true", "t", "yes", "y", "对", "是", "正确", "√", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "错", "否", "错误", "×", "0"}
LIST_SEPARATORS = re.compile(r"[,，;；、\s]+")
MAX_ROWS = 100_000  # question rows per sheet: more is refused at once, before the sheet is read whole
TAG_SEPARATORS = re.compile(r"[,，;；、]")


def _split(value: str, separator: str = "|") -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()]


def parse_sheet(filename: str, data: bytes, path: str | None = None) -> ParsedBank:
    """The questions of a spreadsheet; `path` names the file in errors (default: filename)."""
    path = path or filename
    result = ParsedBank(path=path)
    report = Reporter(path, rows=True)
    try:
        table = read_table(filename, data, max_rows=MAX_ROWS)
    except SpreadsheetError as exc:
        report.error(1, exc.args[0] if exc.args else str(exc))
        result.errors = report.errors()
        return result
    _check_header(table, report)
    if not report.count and not table.rows:
        report.error(2, _l("the file has no questions below the header"))
    if report.count:
        result.errors = report.errors()
        return result
    option_columns = sorted((name for name in table.header if OPTION_COLUMN.match(name)),
                            key=lambda name: name[-1])
    seen: dict[str, int] = {}
    for row in table.rows:
        mapping, kind = _row_mapping(row.values, option_columns, row.number, report)
        if mapping is None:
            continue
        key = mapping.pop("id", "") or None
        if key is not None and (problem := check_key(key)):
            report.error(row.number, problem)
            continue
        spec = read_question(mapping, report, kind=kind, key=key or "", line=row.number)
        if spec is None:
            continue
        if spec.key in seen:
            report.error(row.number, _l("the question id %(id)r is used twice (first on row %(row)s)", id=spec.key,
                                        row=seen[spec.key]))
            continue
        seen[spec.key] = row.number
        result.questions.append(spec)
    result.errors = sorted(report.errors())
    return result


def _check_header(table: Table, report: Reporter) -> None:
    for name in table.header:
        if name not in KNOWN and not OPTION_COLUMN.match(name):
            report.error(1, _l("unknown column %(name)r (allowed: %(allowed)s)", name=name, allowed=listed(COLUMNS)))
    for name in ("type", "stem"):
        if name not in table.header:
            report.error(1, _l("the column %(name)r is missing", name=name))


def _row_mapping(values: dict[str, str], option_columns: list[str], number: int, report: Reporter):
    """A row as the native question mapping (values still text; the native reader checks them)."""
    raw_type = values.get("type", "").strip()
    kind = TYPE_ALIASES.get(raw_type.lower())
    if kind is None:
        aliases = list(QUESTION_TYPES) + ["单选", "多选", "判断", "填空", "匹配", "问答"]
        report.error(number, _l("the type %(value)r is not one of %(types)s", value=raw_type,
                                types=listed(aliases, style="or"))
                     if raw_type else _l("%(field)s must be given", field=report.field("type")))
        return None, None
    before = report.count
    mapping: dict = {"id": values.get("id", "").strip(), "stem": values.get("stem", "")}
    for name in ("title", "format", "difficulty", "points", "explanation"):
        if values.get(name):
            mapping[name] = values[name]
    if values.get("tags"):
        mapping["tags"] = [tag.strip() for tag in TAG_SEPARATORS.split(values["tags"]) if tag.strip()]
    used = {name for name, value in values.items() if value}
    allowed = {
        "single": {"correct", "weights"} | set(option_columns), "multi": {"correct", "weights"} | set(option_columns),
        "truefalse": {"correct"}, "fill": {"answers", "tolerance"}, "matching": {"pairs", "distractors"},
        "essay": {"guidance"},
    }[kind]
    common = {"id", "title", "type", "format", "stem", "tags", "difficulty", "points", "explanation"}
    for name in sorted(used - allowed - common):
        report.error(number, _l("the column %(name)r does not belong to a question of the type %(type)s; leave it "
                                "empty", name=name, type=QUESTION_TYPES[kind].label))

    if kind in ("single", "multi"):
        options = [(name[-1].upper(), values.get(name, "")) for name in option_columns]
        while options and not options[-1][1]:
            options.pop()
        for letter, text in options:
            if not text:
                report.error(number, _l("option %(letter)s is empty but a later option is not", letter=letter))
        letters = [letter for letter, _text in options]
        entries = [{"text": text} for _letter, text in options]
        if values.get("weights"):
            weights = _split(values["weights"].replace("，", ","), ",")
            if len(weights) != len(entries):
                report.error(number, ngettext("%(field)s give %(num)s number for %(options)s options",
                                              "%(field)s give %(num)s numbers for %(options)s options", len(weights),
                                              field=report.field("weights"), options=len(entries)))
            for entry, weight in zip(entries, weights):
                entry["weight"] = weight.rstrip("%")
        elif values.get("correct"):
            chosen = [part.upper() for part in LIST_SEPARATORS.split(values["correct"].strip()) if part]
            if len(chosen) == 1 and len(chosen[0]) > 1 and chosen[0].isalpha():
                chosen = list(chosen[0])  # "AC"
            for letter in chosen:
                if letter not in letters:
                    report.error(number, _l("%(field)s names %(letter)s, which is not one of the options (%(letters)s)",
                                            field=report.field("correct"), letter=letter,
                                            letters=listed(letters, quote=False)))
            for letter, entry in zip(letters, entries):
                if letter in chosen:
                    entry["correct"] = True
        else:
            report.error(number, _l("say which options are right: %(correct)s (letters, like A or A,C) or %(weights)s",
                                    correct=report.field("correct"), weights=report.field("weights")))
        mapping["options"] = entries
    elif kind == "truefalse":
        word = values.get("correct", "").strip().lower()
        if word in TRUE_WORDS:
            mapping["answer"] = True
        elif word in FALSE_WORDS:
            mapping["answer"] = False
        else:
            report.error(number, _l("%(field)s must be true or false for a true/false question, not %(value)r",
                                    field=report.field("correct"), value=values.get("correct", "")))
    elif kind == "fill":
        numeric = bool(values.get("tolerance"))  # the column makes the answers numbers
        mapping["answers"] = [fill_entry(part, numeric) for part in _split(values.get("answers", ""))]
        if values.get("tolerance"):
            mapping["tolerance"] = values["tolerance"]
    elif kind == "matching":
        pairs = []
        for piece in _split(values.get("pairs", "")):
            left, equals, right = piece.partition("=")
            if not equals or not left.strip() or not right.strip():
                report.error(number, _l("%(field)s look like 'item=match|item=match', not %(value)r",
                                        field=report.field("pairs"), value=piece))
                continue
            pairs.append([left.strip(), right.strip()])
        mapping["pairs"] = pairs
        if values.get("distractors"):
            mapping["distractors"] = _split(values["distractors"])
    elif kind == "essay" and values.get("guidance"):
        mapping["guidance"] = values["guidance"]
    if report.count > before:
        return None, None
    return mapping, kind


# --- Templates -------------------------------------------------------------------------------------

EXAMPLES = [
    {"id": "ch-001", "type": "single", "stem": "客户因同一故障第三次来电，情绪激动。坐席首先应该做什么？",
     "option_a": "道歉并复述客户的问题，确认理解无误", "option_b": "告知客户这不归自己管，直接转维修部门",
     "option_c": "请客户稍后再打", "correct": "A", "tags": "流程, 首问负责", "difficulty": "2",
     "explanation": "首问负责：先安抚、再确认、后处理。"},
    {"id": "ch-002", "type": "multi", "stem": "处理投诉时，哪些做法是正确的？", "option_a": "记录客户诉求并生成工单",
     "option_b": "按约定时间回访", "option_c": "承诺超出权限的赔偿", "weights": "50,50,-100"},
    {"id": "ch-003", "type": "truefalse", "stem": "客户情绪激动时，坐席可以先挂断电话，等客户冷静后再回拨。",
     "correct": "false"},
    {"id": "ch-004", "type": "fill", "stem": "一级投诉须在 ____ 小时内回访。", "answers": "24|二十四"},
    {"id": "ch-005", "type": "fill", "stem": "宽带月费 99 元，打八五折后约为多少元？", "answers": "84.15",
     "tolerance": "0.5"},
    {"id": "ch-006", "type": "matching", "stem": "将投诉级别与回访时限配对。",
     "pairs": "一级投诉=2 小时内|二级投诉=24 小时内", "distractors": "一周内"},
    {"id": "ch-007", "type": "essay", "stem": "请简述处理升级投诉的步骤。", "points": "5",
     "guidance": "评分要点：安抚情绪、确认诉求、给出时限、跟进回访。"},
]


def _column_help() -> dict[str, str]:
    return {
        "id": _("Optional. The question's stable id: lowercase letters, digits and hyphens, like ch-001. An id "
                "already in the bank updates that question (a new version); blank: made from the question's "
                "title and content, so the row never replaces another question."),
        "title": _("Optional. The question's name in any language, shown in lists and exported to Moodle; it is "
                   "not the id."),
        "format": _("Optional. How the question and explanation are written: markdown (default), moodle (text "
                    "with line breaks), plain or html."),
        "type": _("Required. single, multi, truefalse, fill, matching or essay (单选, 多选, 判断, 填空, 匹配, 问答)."),
        "stem": _("Required. The question (Markdown). For a fill-in question write ____ where the blank is."),
        "option_a": _("single and multi: the options, from option_a on (add option_g and more if needed)."),
        "correct": _("single and multi: the right letters, like A or A,C (in a multi question the right ones "
                     "share 100% and the wrong ones -100%). truefalse: true or false (对 or 错)."),
        "weights": _("single and multi, instead of correct: the percent each option earns, in order, like "
                     "50,50,-100. The positive ones add up to 100."),
        "answers": _("fill: the accepted answers separated by |, like 24|二十四 (case, spaces and full-width "
                     "characters do not matter). %50% before an answer makes it worth half the points; a number "
                     "may have its own margin, like 3.5:0.5."),
        "tolerance": _("fill, optional: makes the answers numbers, right within this margin, like 0.5."),
        "pairs": _("matching: item=match pairs separated by |, like 一级投诉=2 小时内|二级投诉=24 小时内."),
        "distractors": _("matching, optional: extra wrong matches separated by |."),
        "tags": _("Optional. Tags separated by commas."),
        "difficulty": _("Optional. 1 (easy) to 5 (hard)."),
        "points": _("Optional. The question's points; 1 when blank."),
        "explanation": _("Optional. Shown with the right answer in review (Markdown)."),
        "guidance": _("essay, optional: marking guidance for the trainer, never shown to the agent."),
    }


def template_csv() -> bytes:
    return header_csv(COLUMNS)


def template_xlsx() -> bytes:
    """A workbook: the first sheet holds only the header (it is what gets imported); the second
    explains each column with an example of every question type."""
    from openpyxl.styles import Alignment, Font

    workbook = header_workbook(
        "题目 Questions", COLUMNS,
        lambda name: 40 if name in ("stem", "explanation", "guidance") else max(12, len(name) + 4),
        text_columns=set(COLUMNS))
    instructions = workbook.create_sheet("说明 Instructions")
    instructions.append([_("Fill in the first sheet, one question per row, below the header. This sheet is "
                           "never imported. If any row has a problem, nothing is imported.")])
    instructions.append([])
    instructions.append([_("Column"), _("What to enter")])
    help_texts = _column_help()
    for name in COLUMNS:
        if name in help_texts:
            instructions.append([name if name != "option_a" else "option_a … option_f", help_texts[name]])
    instructions.append([])
    instructions.append([_("Examples, one of each type")])
    examples_header = instructions.max_row + 1
    instructions.append(COLUMNS)
    for example in EXAMPLES:
        instructions.append([example.get(name, "") for name in COLUMNS])
    for row in (3, examples_header - 1, examples_header):
        for cell in instructions[row]:
            cell.font = Font(bold=True)
    instructions.column_dimensions["A"].width = 22
    instructions.column_dimensions["B"].width = 90
    for row in instructions.iter_rows(min_row=4, max_row=3 + len(help_texts)):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    return workbook_bytes(workbook)
