"""Moodle XML as Moodle exports it: every type, what is dropped with a warning, hostile files refused
at their line, and export then import giving back the same questions, in a file Moodle accepts."""
import math
import re
import socket
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from lms.content.banks import QuestionSpec, correct_weights, fill_data, generated_key
from lms.content.errors import ContentError
from lms.content.moodle_grades import MOODLE_FRACTIONS
from lms.content.moodle_xml import html_to_plain, parse_moodle_xml, plain_to_html
from lms.content.moodle_xml_writer import dump_moodle_xml, multi_fractions
from lms.questions.types import QUESTION_TYPES

PATH = "bank.xml"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "moodle" / "bank.xml"


def question(kind: str, body: str = "", *, name: str = "Q1", text: str = "<p>客户第三次来电。</p>",
             text_format: str = "html", idnumber: str = "", head: str = "") -> str:
    """A question as Moodle's exporter writes it (qformat_xml::writequestion)."""
    return f"""  <question type="{kind}">
    <name>
      <text>{name}</text>
    </name>
    <questiontext format="{text_format}">
      <text><![CDATA[{text}]]></text>
    </questiontext>
    <generalfeedback format="{text_format}">
      <text></text>
    </generalfeedback>
    <defaultgrade>1.0000000</defaultgrade>
    <penalty>0.0000000</penalty>
    <hidden>0</hidden>
    <idnumber>{idnumber}</idnumber>{head}
{body}
  </question>"""


def answer(fraction, text: str, feedback: str = "", *, text_format: str = "html", extra: str = "") -> str:
    return f"""    <answer fraction="{fraction}" format="{text_format}">
      <text><![CDATA[{text}]]></text>
      <feedback format="html">
        <text><![CDATA[{feedback}]]></text>
      </feedback>{extra}
    </answer>"""


def quiz(*questions: str) -> bytes:
    """The file: its first question starts on line 3."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "\n".join(questions) + "\n</quiz>\n").encode()


def starts(data: bytes) -> list[int]:
    """The lines the file's <question> elements start on."""
    return [number for number, line in enumerate(data.decode("utf-8").splitlines(), start=1)
            if line.lstrip().startswith("<question ")]


def parse(data: bytes):
    return parse_moodle_xml(data, PATH)


def one(data: bytes) -> QuestionSpec:
    parsed = parse(data)
    assert parsed.errors == [], [str(error) for error in parsed.errors]
    assert len(parsed.questions) == 1
    return parsed.questions[0]


def messages(items) -> list[tuple[int, str]]:
    return [(item.line, item.message) for item in items]


CHOICES = "    <single>true</single>\n" + "\n".join([answer(100, "<p>对</p>"), answer(0, "<p>错</p>")])


# --- Every type, as Moodle exports it ----------------------------------------------------------------

@pytest.fixture(scope="module")
def bank():
    parsed = parse(FIXTURE.read_bytes())
    assert parsed.errors == [], [str(error) for error in parsed.errors]
    return parsed


def test_every_type_maps_to_the_expected_question(bank):
    expected = [
        QuestionSpec(key="ch-001", type="single", title="首问负责", text_format="html",
                     stem='<p dir="ltr" style="text-align: left;">客户第三次来电，情绪激动。坐席首先应该做什么？<br></p>',
                     explanation="<p>先安抚情绪，再解决问题。</p>", points=2.0, difficulty=2, tags=("投诉处理", "流程"),
                     data={"options": [
                         {"id": "o1", "text": "道歉并复述客户的问题", "weight": 1.0, "feedback": "对：先共情。"},
                         {"id": "o2", "text": "直接转维修部门", "weight": 0.0, "feedback": ""},
                         {"id": "o3", "text": "Tell the customer to call back & wait", "weight": 0.0,
                          "feedback": ""}]}),
        QuestionSpec(key=bank.questions[1].key, type="multi", title="Escalation signs", text_format="moodle",
                     stem="Which of these mean the call should be escalated?", tags=("投诉处理",),
                     data={"options": [
                         {"id": "o1", "text": "威胁投诉到监管部门", "weight": 0.5, "feedback": ""},
                         {"id": "o2", "text": "Third call about the same fault", "weight": 0.5, "feedback": ""},
                         {"id": "o3", "text": "Asks for the opening hours", "weight": -1.0, "feedback": "No."}]}),
        QuestionSpec(key="ch-003", type="truefalse", title="回访时限", text_format="markdown",
                     stem="投诉处理完毕后 **24 小时内** 必须回访。", explanation="见《服务规范》第 3 条。",
                     tags=("投诉处理",), data={"answer": False}),
        QuestionSpec(key="ch-004", type="fill", title="Hotline", text_format="plain", points=1.5,
                     stem="What is the service hotline?", tags=("升级", "热线"),
                     data={"answers": ["95555", "九五五五五"], "weights": [1.0, 0.5]}),
        QuestionSpec(key="ch-005", type="fill", title="回访时限（小时）", text_format="html",
                     stem="<p>投诉处理完毕后几小时内必须回访？</p>", tags=("升级",),
                     data={"answers": [24, 48], "tolerance": 0, "tolerances": [0, 2.5], "weights": [1.0, 0.5]}),
        QuestionSpec(key="ch-006", type="matching", title="情绪与应对", text_format="html", points=3.0,
                     stem="<p>把客户的情绪和应对方式配对。</p>", tags=("升级",),
                     data={"pairs": [{"id": "p1", "left": "愤怒", "right": "先道歉"},
                                     {"id": "p2", "left": "焦虑", "right": "给出时限"},
                                     {"id": "p3", "left": "Impatient", "right": "给出时限"}],
                           "distractors": [{"id": "d1", "text": "转接主管"}]}),
        QuestionSpec(key=bank.questions[6].key, type="essay", title="Describe a difficult call", text_format="html",
                     stem="<p>描述一次你处理过的<em>困难</em>来电。</p>", points=10.0, tags=("升级",),
                     data={"guidance": "看是否先共情；\n是否给出时限。"}),
    ]
    assert bank.questions == expected
    assert [spec.line for spec in bank.questions] == [15, 70, 117, 157, 191, 226, 278]
    for spec in bank.questions:
        assert QUESTION_TYPES[spec.type].validate(spec.data) == []


def test_idnumbers_become_ids_and_questions_without_one_get_an_id_from_title_and_content(bank):
    single, multi, *_rest, essay = bank.questions
    assert single.key == "ch-001"  # CH-001, folded to lowercase
    assert multi.key.startswith("1-") and multi.key != "1"  # 服务-1: its digits and a hash of the whole
    assert essay.key == generated_key("Describe a difficult call", essay.content_hash)


def test_the_only_warning_of_a_plain_moodle_export_is_the_penalties_once(bank):
    """Moodle's default combined feedback ("Your answer is correct.") is not worth a warning; its
    default penalties are, once for the file, at the first question that has one."""
    assert messages(bank.warnings) == [
        (15, "penalties for retries do not apply here and were ignored; 5 questions had one")]


def test_category_paths_tag_the_questions_below_them():
    data = quiz('  <question type="category">\n    <category>\n      <text>$course$/top/客服//热线</text>\n'
                '    </category>\n  </question>',
                question("truefalse", answer(100, "true", text_format="moodle_auto_format")
                         + answer(0, "false", text_format="moodle_auto_format")))
    assert one(data).tags == ("客服/热线",)  # Moodle writes a "/" inside a name as "//"


# --- Ids -----------------------------------------------------------------------------------------------

def essay(name: str, text: str, idnumber: str = "") -> bytes:
    return quiz(question("essay", "    <responseformat>editor</responseformat>", name=name, text=text,
                         idnumber=idnumber))


def test_a_reused_name_without_idnumber_gives_different_ids_for_different_questions():
    first = one(essay("Q1", "<p>描述一次困难来电。</p>"))
    second = one(essay("Q1", "<p>Describe your best call.</p>"))
    assert first.title == second.title == "Q1"
    assert first.key != second.key
    assert first.key.startswith("q-") and second.key.startswith("q-")


def test_importing_the_same_question_again_gives_the_same_id():
    assert one(essay("Q1", "<p>描述一次困难来电。</p>")).key == one(essay("Q1", "<p>描述一次困难来电。</p>")).key


def test_chinese_idnumbers_stay_distinct_and_ascii_ones_are_kept():
    service = one(essay("Q1", "<p>x</p>", idnumber="服务-1")).key
    complaint = one(essay("Q1", "<p>x</p>", idnumber="投诉-1")).key
    assert service != complaint
    assert one(essay("Q1", "<p>x</p>", idnumber="CH-001")).key == "ch-001"


def test_a_question_named_by_its_idnumber_has_no_title_of_its_own():
    assert one(essay("CH-001", "<p>x</p>", idnumber="CH-001")).title == ""
    assert one(essay("首问", "<p>x</p>", idnumber="CH-001")).title == "首问"


def test_the_same_id_twice_in_a_file_gets_a_suffix_with_a_warning():
    body = "    <responseformat>editor</responseformat>"
    parsed = parse(quiz(question("essay", body, text="<p>a</p>", idnumber="CH-1"),
                        question("essay", body, text="<p>b</p>", idnumber="ch-1")))
    assert parsed.errors == []
    assert [spec.key for spec in parsed.questions] == ["ch-1", "ch-1-2"]
    assert ("the id 'ch-1' is already used on line 3; this question gets 'ch-1-2'"
            in [warning.message for warning in parsed.warnings])


# --- What is skipped ---------------------------------------------------------------------------------

def test_description_cloze_calculated_and_other_types_are_skipped_with_warnings():
    data = quiz(
        question("description", name="阅读材料", text="<p>以下各题基于这段通话。</p>"),
        question("cloze", name="完形", text="<p>客户 {1:SHORTANSWER:=第三} 次来电</p>"),
        question("multichoice", CHOICES, name="首问负责", idnumber="CH-1"),
        question("calculated", answer(100, "{a}+{b}", extra="\n      <tolerance>0.01</tolerance>"), name="Sum"),
        question("ddwtos", name="拖放"),
        question("random", name=""),
    )
    parsed = parse(data)
    assert parsed.errors == []
    assert [spec.key for spec in parsed.questions] == ["ch-1"]
    warned = [warning.message for warning in parsed.warnings]
    assert "instruction text '阅读材料' was skipped: it is not a question" in warned
    assert "the cloze question '完形' was skipped: this type cannot be imported here" in warned
    assert "the calculated question 'Sum' was skipped: this type cannot be imported here" in warned
    assert "the ddwtos question '拖放' was skipped: this type cannot be imported here" in warned
    assert "the random question '客户第三次来电。' was skipped: this type cannot be imported here" in warned


# --- Files that are refused ----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<quiz><question type="essay"><name><text>&lol9;</text></name></question></quiz>
"""
XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><name><text>&x;</text></name>
<questiontext format="html"><text>&x;</text></questiontext></question></quiz>
"""
EXTERNAL_DTD = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE quiz SYSTEM "http://127.0.0.1:9/evil.dtd">
<quiz></quiz>
"""
PARAMETER_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE quiz [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<quiz></quiz>
"""
DOCTYPE_ONLY = b"""<?xml version="1.0" encoding="UTF-8"?>

<!DOCTYPE quiz>
<quiz></quiz>
"""
DTD_REFUSED = "the file declares a DTD or entities (<!DOCTYPE …>), which Moodle's files never do; it was not read"


@pytest.mark.parametrize("data, line", [(BILLION_LAUGHS, 2), (XXE, 2), (EXTERNAL_DTD, 2), (PARAMETER_ENTITY, 2),
                                        (DOCTYPE_ONLY, 3)])
def test_dtds_and_entities_are_refused_with_one_clear_error_and_nothing_fetched(data, line, monkeypatch):
    fetched = []
    monkeypatch.setattr(socket.socket, "connect", lambda *args: fetched.append(args))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: fetched.append(args))
    parsed = parse(data)
    assert parsed.errors == [ContentError(PATH, line, DTD_REFUSED)]
    assert parsed.questions == [] and parsed.warnings == []
    assert fetched == []


@pytest.mark.parametrize("data, line, problem", [
    (b'<?xml version="1.0"?>\n<quiz>\n  <question type="essay">\n    <name><text>x</name>\n</quiz>', 4,
     "a closing tag does not match"),
    (b'<?xml version="1.0"?>\n<quiz>\n<question type="essay">\n<name><text>a&nbsp;b</text></name>\n</question>\n'
     b'</quiz>', 4, "an entity XML does not know"),
    (b'<?xml version="1.0"?>\n<quiz>\n', 3, "the file ends before its elements are closed"),
    (b"", 1, "the file ends before its elements are closed"),
])
def test_malformed_xml_is_an_error_at_the_parsers_line(data, line, problem):
    parsed = parse(data)
    assert [(error.line, error.message.startswith("the file is not well-formed XML: " + problem))
            for error in parsed.errors] == [(line, True)]
    assert parsed.questions == []


def test_a_root_other_than_quiz_is_refused():
    parsed = parse(b'<?xml version="1.0"?>\n\n<questions><question type="essay"/></questions>')
    assert messages(parsed.errors) == [
        (3, "the file's main element is <questions>; a Moodle XML file has <quiz> around its questions")]
    assert parsed.questions == []


def test_deep_nesting_is_refused():
    data = b"<quiz>" + b"<a>" * 100 + b"</a>" * 100 + b"</quiz>"
    assert messages(parse(data).errors) == [(1, "the XML is nested more than 40 levels deep; Moodle's files never are")]


def test_encodings_named_by_the_declaration_or_a_byte_order_mark_are_read():
    text = quiz(question("essay", name="投诉回访")).decode("utf-8")
    assert one(b"\xef\xbb\xbf" + text.encode("utf-8")).title == "投诉回访"
    assert one(text.encode("utf-16")).title == "投诉回访"
    gbk = text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    assert one(gbk).title == "投诉回访"


def test_text_in_the_wrong_encoding_is_an_error_at_its_line():
    text = quiz(question("essay", name="投诉回访")).decode("utf-8")
    undeclared = text.replace(' encoding="UTF-8"', "").encode("gbk")
    assert messages(parse(undeclared).errors) == [
        (5, "the file is not UTF-8 text; a Moodle XML file is UTF-8 unless its first line names another encoding")]
    for name in ("klingon", "zlib"):  # no codec at all; a codec, but not one for text
        assert messages(parse(text.replace("UTF-8", name).encode()).errors) == [
            (1, f"the file names the encoding {name!r}, which is unknown")]


def test_html_written_as_xml_elements_inside_text_is_refused_as_moodle_does():
    data = quiz(question("essay").replace("<![CDATA[<p>客户第三次来电。</p>]]>", "<p>客户第三次来电。</p>"))
    assert messages(parse(data).errors) == [
        (3, "<questiontext> holds XML elements in its <text>: Moodle writes HTML there escaped or inside "
            "<![CDATA[…]]>")]


# --- Problems with a question: errors at the line its <question> starts on ----------------------------

@pytest.mark.parametrize("grade", ["0", "-1", "1001", "abc"])
def test_default_grade_must_be_above_0_and_at_most_1000(grade):
    data = quiz(question("essay").replace("<defaultgrade>1.0000000", f"<defaultgrade>{grade}"))
    assert messages(parse(data).errors) == [
        (3, f"the default mark (defaultgrade) must be a number above 0 and at most 1000, not {grade!r}")]


def test_a_question_its_type_refuses_is_an_error_at_its_line():
    no_right = "    <single>true</single>\n" + answer(50, "a") + "\n" + answer(0, "b")
    data = quiz(question("essay"), question("multichoice", no_right))
    assert [(error.line, "fully right" in error.message) for error in parse(data).errors] == [(starts(data)[1], True)]
    wrong_sum = "    <single>false</single>\n" + answer(50, "a") + "\n" + answer(40, "b")
    assert [(error.line, "90%" in error.message) for error in parse(quiz(question("multichoice", wrong_sum))).errors
            ] == [(3, True)]


def test_short_answer_without_a_full_mark_answer_is_an_error():
    body = "    <usecase>0</usecase>\n" + answer(50, "九五五五五", text_format="moodle_auto_format")
    assert messages(parse(quiz(question("shortanswer", body))).errors) == [(3, "no answer earns full marks")]


def test_other_errors_name_the_question_line():
    bad_grade = "    <single>true</single>\n" + answer("lots", "a") + "\n" + answer(100, "b")
    long_tag = "\n    <tags><tag><text>" + "长" * 51 + "</text></tag></tags>"
    bad_number = answer(100, "二十四", text_format="moodle_auto_format", extra="\n      <tolerance>0</tolerance>")
    data = quiz(question("multichoice", bad_grade), question("essay", head=long_tag),
                question("numerical", bad_number))
    first, second, third = starts(data)
    assert messages(parse(data).errors) == [
        (first, "the grade (fraction) 'lots' of an answer is not a number"),
        (second, f"tag {'长' * 51!r} is longer than 50 characters"),
        (third, "'二十四' is not a number"),
    ]


# --- What is dropped, with a warning -------------------------------------------------------------------

def test_grades_moodle_does_not_offer_are_kept_with_a_warning():
    body = ("    <single>false</single>\n"
            + "\n".join([answer(33, "甲"), answer(33, "乙"), answer(34, "丙"), answer(-100, "丁")]))
    parsed = parse(quiz(question("multichoice", body)))
    assert parsed.errors == []
    assert [option["weight"] for option in parsed.questions[0].data["options"]] == [0.33, 0.33, 0.34, -1.0]
    assert messages(parsed.warnings) == [
        (3, "the answer '丙' is worth 34%, a grade Moodle does not offer: it is kept here, and exporting writes the "
            "nearest one Moodle accepts (33.33333%)"),
        (3, "the answer '乙' is worth 33%, a grade Moodle does not offer: it is kept here, and exporting writes the "
            "nearest one Moodle accepts (33.33333%)"),
        (3, "the answer '甲' is worth 33%, a grade Moodle does not offer: it is kept here, and exporting writes the "
            "nearest one Moodle accepts (33.33333%)"),
    ]


def test_a_third_each_becomes_exact_thirds():
    body = "    <single>false</single>\n" + "\n".join(answer(33.33333, text) for text in "甲乙丙")
    assert [option["weight"] for option in one(quiz(question("multichoice", body))).data["options"]] == [1 / 3] * 3


def test_penalties_warn_once_for_the_whole_file():
    penalised = [question("essay", name=name).replace("<penalty>0.0000000", "<penalty>0.3333333")
                 for name in ("B", "C")]
    data = quiz(question("essay", name="A"), *penalised)
    parsed = parse(data)
    assert messages(parsed.warnings) == [
        (starts(data)[1], "penalties for retries do not apply here and were ignored; 2 questions had one")]


def test_combined_feedback_that_says_something_is_dropped_with_one_warning():
    combined = "".join(f'\n    <{name} format="html">\n      <text>{text}</text>\n    </{name}>'
                       for name, text in (("correctfeedback", "很好！"), ("partiallycorrectfeedback", "差一点"),
                                          ("incorrectfeedback", "")))
    parsed = parse(quiz(question("multichoice", CHOICES, head=combined)))
    assert messages(parsed.warnings) == [
        (3, "the feedback for correct, partially correct and incorrect answers has no place here and was dropped")]


def test_true_false_feedback_is_dropped_with_a_warning():
    body = answer(100, "true", "对，24 小时内。", text_format="moodle_auto_format") + "\n" + answer(
        0, "false", "不对。", text_format="moodle_auto_format")
    parsed = parse(quiz(question("truefalse", body)))
    assert parsed.questions[0].data == {"answer": True}
    assert messages(parsed.warnings) == [
        (3, "the feedback on the true and false answers has no place here and was dropped; the general feedback "
            "is kept as the explanation")]


def test_short_answer_drops_what_it_cannot_keep_with_warnings():
    body = "\n".join([
        "    <usecase>1</usecase>",
        answer(100, "95555", "对", text_format="moodle_auto_format"),
        answer(100, "95*", text_format="moodle_auto_format"),
        answer(100, r"5\*5", text_format="moodle_auto_format"),
        answer(0, "12345", "常见错误", text_format="moodle_auto_format"),
        answer(0, "*", "其他答案", text_format="moodle_auto_format"),
    ])
    parsed = parse(quiz(question("shortanswer", body)))
    assert parsed.errors == []
    assert parsed.questions[0].data == {"answers": ["95555", "95*", "5*5"]}
    assert sorted(message for _line, message in messages(parsed.warnings)) == sorted([
        "the answer '95*' uses * as a wildcard; here it is matched literally",
        "the answer '12345' is worth 0%: it earns nothing, so it was dropped",
        "the answer '*' (any other answer) has no place here and was dropped",
        "answers here are matched ignoring case and full-width or half-width forms; the question's case "
        "sensitivity was dropped",
        "feedback on a fill-in answer has no place here and was dropped",
    ])
    assert {warning.line for warning in parsed.warnings} == {3}


def test_numerical_drops_units_any_other_answer_zero_grades_and_feedback():
    tolerance = "\n      <tolerance>{}</tolerance>"
    body = "\n".join([
        answer(100, "24", "对", text_format="moodle_auto_format", extra=tolerance.format("0.5")),
        answer(0, "12", text_format="moodle_auto_format", extra=tolerance.format("0")),
        answer(0, "*", "都不对", text_format="moodle_auto_format", extra=tolerance.format("0")),
        "    <units>\n      <unit>\n        <multiplier>1</multiplier>\n        <unit_name>小时</unit_name>\n"
        "      </unit>\n      <unit>\n        <multiplier>60</multiplier>\n        <unit_name>min</unit_name>\n"
        "      </unit>\n    </units>",
    ])
    parsed = parse(quiz(question("numerical", body)))
    assert parsed.questions[0].data == {"answers": [24], "tolerance": 0.5}
    assert sorted(message for _line, message in messages(parsed.warnings)) == sorted([
        "the answer '12' is worth 0%: it earns nothing, so it was dropped",
        "the answer '*' (any other answer) has no place here and was dropped",
        "units (小时, min) have no place here and were dropped: answers are plain numbers",
        "feedback on a numeric answer has no place here and was dropped",
    ])


def test_embedded_files_are_not_imported_and_their_images_leave_the_text():
    text = '<p>看图回答：<img src="@@PLUGINFILE@@/%E5%9B%BE1.png" alt="" width="200"></p>'
    file = '\n      <file name="图1.png" path="/" encoding="base64">iVBORw0KGgo=</file>'
    body = ("    <single>true</single>\n" + answer(100, '<p>甲 <img src="@@PLUGINFILE@@/b.png"></p>') + "\n"
            + answer(0, "<p>乙</p>"))
    data = quiz(question("multichoice", body, text=text).replace("</text>\n    </questiontext>",
                                                                 "</text>" + file + "\n    </questiontext>"))
    parsed = parse(data)
    assert parsed.errors == []
    spec = parsed.questions[0]
    assert spec.stem == "<p>看图回答：</p>"
    assert spec.data["options"][0]["text"] == "甲"
    assert messages(parsed.warnings) == [
        (3, "2 embedded files (图1.png, b.png) were not imported: images in questions are not supported yet, so "
            "they were removed from the question text (which would not show them anyway)")]


def test_embedded_images_leave_markdown_texts_too():
    text = "看图：![示意图](@@PLUGINFILE@@/c.png)\n\n回答。"
    parsed = parse(quiz(question("essay", text=text, text_format="markdown")))
    assert parsed.questions[0].stem == "看图：\n\n回答。"
    assert [warning.message.split(" was")[0] for warning in parsed.warnings] == ["1 embedded file (c.png)"]


def test_html_answers_become_plain_text_and_lost_markup_is_warned():
    body = ("    <single>true</single>\n"
            + answer(100, '<p dir="ltr">先<b>道歉</b>&nbsp;再<span>复述</span></p>\n<p>第二段</p>') + "\n"
            + answer(0, '<a href="https://example.com">链接</a> x<sup>2</sup>', "<table><tr><td>表</td></tr></table>"))
    parsed = parse(quiz(question("multichoice", body)))
    options = parsed.questions[0].data["options"]
    assert [option["text"] for option in options] == ["先道歉 再复述\n第二段", "链接 x2"]
    assert options[1]["feedback"] == "表"
    assert messages(parsed.warnings) == [
        (3, "answers, items and feedback are plain text here; their <a>, <sup>, <table>, <td>, <tr> markup was "
            "removed")]


def test_hidden_questions_hints_and_odd_formats_are_imported_with_warnings():
    head = '\n    <hint format="html">\n      <text>想想首问负责制。</text>\n    </hint>'
    data = quiz(question("multichoice", CHOICES, head=head, text_format="wiki_like")
                .replace("<hidden>0", "<hidden>1")
                .replace('<generalfeedback format="wiki_like">\n      <text>',
                         '<generalfeedback format="plain_text">\n      <text>解析')
                .replace('<generalfeedback format="wiki_like">', '<generalfeedback format="plain_text">'))
    parsed = parse(data)
    spec = parsed.questions[0]
    assert (spec.text_format, spec.explanation) == ("html", "解析")
    assert sorted(message for _line, message in messages(parsed.warnings)) == sorted([
        "the text format 'wiki_like' is unknown here; the question text is read as HTML",
        "the general feedback is written as plain_text, but it is shown in the question's format (html)",
        "the question is hidden in Moodle; it was imported anyway",
        "the question's hints have no place here and were dropped",
    ])


def test_matching_items_without_a_match_are_dropped_and_repeated_extra_matches_shown_once():
    sub = ('    <subquestion format="html">\n      <text><![CDATA[{}]]></text>\n      <answer>\n'
           '        <text>{}</text>\n      </answer>\n    </subquestion>')
    body = "\n".join([sub.format("<p>愤怒</p>", "先道歉"), sub.format("<p>焦虑</p>", "给出时限"),
                      sub.format("<p>冷漠</p>", ""), sub.format("", "转接主管"), sub.format("", "转接主管"),
                      sub.format("", "先道歉"), sub.format("", "")])
    parsed = parse(quiz(question("matching", body)))
    assert parsed.questions[0].data == {
        "pairs": [{"id": "p1", "left": "愤怒", "right": "先道歉"}, {"id": "p2", "left": "焦虑", "right": "给出时限"}],
        "distractors": [{"id": "d1", "text": "转接主管"}]}
    assert messages(parsed.warnings) == [(3, "the item '冷漠' has no match and was dropped")]


def test_difficulty_tags_set_the_difficulty_and_other_tags_are_kept():
    tags = ("\n    <tags>\n      <tag><text> 流程 </text></tag>\n      <tag><text>difficulty:4</text></tag>\n"
            "      <tag><text>difficulty:9</text></tag>\n    </tags>")
    spec = one(quiz(question("essay", head=tags)))
    assert (spec.tags, spec.difficulty) == (("流程", "difficulty:9"), 4)


# --- Texts ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["a <b> & c", "第一行\n第二行", "  缩进\n末尾空格  \n\n空行之后", "tab\there", "前\n   \n后",
                                  "&nbsp; &amp; literally", "x]]>y", "\xa0不换行空格"])
def test_plain_text_survives_html_both_ways(text):
    assert html_to_plain(plain_to_html(text))[0] == text.strip()


def test_scripts_and_styles_leave_with_their_content():
    assert html_to_plain("<style>p {}</style>甲<script>alert(1)</script>乙<script>x")[0] == "甲乙"
    assert html_to_plain("<style>p {}</style>甲")[1] == {"style"}


def test_html_paragraphs_and_breaks_become_lines():
    assert html_to_plain("<p>一</p>\n<p>二<br/>三</p><div>四</div>")[0] == "一\n二\n三\n四"
    assert html_to_plain("a\nb", source_breaks=True)[0] == "a\nb"
    assert html_to_plain("a\nb")[0] == "a b"


# --- Export, then import ---------------------------------------------------------------------------------

def specs() -> list[QuestionSpec]:
    return [
        QuestionSpec(key="ch-001", type="single", title="首问负责", text_format="html", points=2.5, difficulty=3,
                     tags=("流程", "首问"), stem="<p>客户第三次来电，坐席首先应该做什么？</p>",
                     explanation="<p>先安抚情绪。</p>",
                     data={"options": [
                         {"id": "o1", "text": "道歉并复述 <问题> & 记录", "weight": 1.0, "feedback": "对：先共情。"},
                         {"id": "o2", "text": "Apologise,\n  then repeat", "weight": 1.0, "feedback": "Also fine"},
                         {"id": "o3", "text": "直接转维修部门", "weight": -0.5, "feedback": ""}]}),
        QuestionSpec(key="ch-002", type="multi", title="Escalation signs", text_format="markdown",
                     stem="Which mean **escalate**? ]]> not the end", explanation="See *rule 3*.",
                     data={"options": [{"id": f"o{index}", "text": text, "weight": weight, "feedback": ""}
                                       for index, (text, weight) in enumerate(zip(
                                           ["威胁投诉", "第三次来电", "要求主管", "问营业时间"],
                                           correct_weights("multi", [True, True, True, False])), start=1)]}),
        QuestionSpec(key="ch-003", type="multi", title="部分得分", text_format="moodle",
                     stem="选出正确的做法\n（可多选）",
                     data={"options": [{"id": "o1", "text": "甲", "weight": 0.5, "feedback": "半对"},
                                       {"id": "o2", "text": "乙", "weight": 0.5, "feedback": ""},
                                       {"id": "o3", "text": "丙", "weight": -1.0, "feedback": "错"}]}),
        QuestionSpec(key="ch-004", type="truefalse", title="回访时限", text_format="plain",
                     stem="第一行\r\n处理完毕后 24 小时内必须回访 <b>不是标签</b>", data={"answer": False},
                     explanation="见规范"),
        QuestionSpec(key="ch-005", type="fill", title="热线", text_format="markdown", stem="服务热线是 ____。",
                     data={"answers": ["95555", "九五五五五", "95*55"], "weights": [1.0, 0.5, 1.0]}),
        QuestionSpec(key="ch-006", type="fill", title="回访时限（小时）", text_format="markdown",
                     stem="几小时内回访？", data=fill_data([24, 3.5], [1.0, 0.5], [0, 0.25])),
        QuestionSpec(key="ch-007", type="fill", title="Born", text_format="markdown", stem="Grant was born in?",
                     data={"answers": [1822], "tolerance": 5}),
        QuestionSpec(key="ch-008", type="matching", title="情绪与应对", text_format="html", points=3.0,
                     stem="<p>配对</p>",
                     data={"pairs": [{"id": "p1", "left": "愤怒 & 激动", "right": "先道歉"},
                                     {"id": "p2", "left": "焦虑", "right": "给出时限"},
                                     {"id": "p3", "left": "Impatient\ncaller", "right": "给出时限"}],
                           "distractors": [{"id": "d1", "text": "转接主管"}, {"id": "d2", "text": "<挂断>"}]}),
        QuestionSpec(key="ch-009", type="essay", title="描述困难来电", text_format="markdown", points=10.0,
                     stem="描述一次你处理过的困难来电。", tags=("实操",),
                     data={"guidance": "看是否先共情；\n  是否给出时限 & 回访。"}),
        QuestionSpec(key="q-0123456789abcdef", type="essay", stem="No title here.", data={"guidance": ""}),
    ]


def test_every_spec_is_valid_to_begin_with():
    for spec in specs():
        assert QUESTION_TYPES[spec.type].validate(spec.data) == [], spec.key


def test_export_then_import_gives_the_same_questions():
    exported = dump_moodle_xml(specs())
    parsed = parse(exported.encode("utf-8"))
    assert parsed.errors == [] and parsed.warnings == [], [str(item) for item in parsed.errors + parsed.warnings]
    assert parsed.questions == specs()  # every field but the line


def test_export_with_a_category_starts_with_it_and_tags_the_questions_on_import():
    exported = dump_moodle_xml(specs()[:2], category="投诉/处理")
    assert exported.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n  <question type="category">')
    root = ET.fromstring(exported.encode("utf-8"))
    assert root.find("question/category/text").text == "$course$/top/投诉//处理"
    assert [spec.tags for spec in parse(exported.encode()).questions] == [("投诉/处理", "流程", "首问"), ("投诉/处理",)]


def test_export_writes_what_moodle_reads():
    exported = dump_moodle_xml(specs())
    assert "首问负责" in exported and "一次你处理过的困难来电" in exported  # Chinese as it is, not as &#...;
    assert all(int(code) < 128 for code in re.findall(r"&#(\d+);", exported))
    root = ET.fromstring(exported.encode("utf-8"))
    questions = root.findall("question")
    assert [q.get("type") for q in questions] == ["multichoice", "multichoice", "multichoice", "truefalse",
                                                  "shortanswer", "numerical", "numerical", "matching", "essay",
                                                  "essay"]
    assert [q.find("questiontext").get("format") for q in questions[:4]] == [
        "html", "markdown", "moodle_auto_format", "plain_text"]
    first = questions[0]
    assert [first.findtext(name) for name in ("name/text", "defaultgrade", "penalty", "hidden", "idnumber", "single")
            ] == ["首问负责", "2.5", "0", "0", "ch-001", "true"]
    assert [tag.text for tag in first.findall("tags/tag/text")] == ["流程", "首问", "difficulty:3"]
    assert [a.get("fraction") for a in first.findall("answer")] == ["100", "100", "-50"]
    assert first.find("answer/text").text == "道歉并复述 &lt;问题&gt; &amp; 记录"
    assert questions[1].findtext("single") == "false"
    assert [a.get("fraction") for a in questions[1].findall("answer")] == ["33.33333"] * 3 + ["-100"]
    assert [a.findtext("text") for a in questions[4].findall("answer")] == ["95555", "九五五五五", "95\\*55"]
    assert [a.findtext("tolerance") for a in questions[5].findall("answer")] == ["0", "0.25"]
    assert questions[9].findtext("name/text") == "q-0123456789abcdef"  # no title: named by its id
    essay = questions[8]
    assert [essay.findtext(name) for name in ("responseformat", "responserequired", "responsefieldlines",
                                              "attachments")] == ["editor", "1", "15", "0"]
    assert essay.find("graderinfo").get("format") == "html"


# --- Moodle accepts our export ---------------------------------------------------------------------------

MOODLE_TYPES = {"category", "multichoice", "truefalse", "shortanswer", "numerical", "matching", "essay",
                "description"}
TEXT_FORMATS = {"html", "moodle_auto_format", "plain_text", "markdown"}


def moodle_refuses(xml: str) -> list[str]:
    """What Moodle's importer would refuse (qformat_xml reading, qformat_default::importprocess checking
    grades with match_grade_options, the types' save_question_options), as reasons."""
    problems = []
    root = ET.fromstring(xml.encode("utf-8"))
    if root.tag != "quiz":
        return ["the root is not <quiz>"]
    for number, q in enumerate(root.findall("question"), start=1):
        kind = q.get("type")
        where = f"question {number} ({kind})"
        if kind not in MOODLE_TYPES:
            problems.append(f"{where}: unknown type")
            continue
        if kind == "category":
            if not (q.findtext("category/text") or "").strip():
                problems.append(f"{where}: no category path")
            continue
        if not (q.findtext("name/text") or "").strip():
            problems.append(f"{where}: no name (xmlimportnoname)")
        text = q.find("questiontext")
        if text is None or text.find("text") is None or text.get("format") not in TEXT_FORMATS:
            problems.append(f"{where}: no question text with a known format")
        fractions = [float(a.get("fraction", "0")) / 100 for a in q.findall("answer")]
        for value in fractions:
            if not any(abs(value - allowed) < 0.00001 for allowed in MOODLE_FRACTIONS):
                problems.append(f"{where}: grade {value * 100:g}% is not on Moodle's list (wronggrade)")
        if kind == "multichoice":
            if sum(1 for a in q.findall("answer") if (a.findtext("text") or "").strip()) < 2:
                problems.append(f"{where}: fewer than two answers")
            if q.findtext("single") == "true":
                if not math.isclose(max(fractions, default=0), 1.0):
                    problems.append(f"{where}: no 100% answer (errfractionsnomax)")
            elif round(sum(value for value in fractions if value > 0), 2) != 1:
                problems.append(f"{where}: positive grades do not add up to 100% (errfractionsaddwrong)")
        if kind in ("shortanswer", "numerical") and not any(math.isclose(value, 1.0) for value in fractions):
            problems.append(f"{where}: no 100% answer (fractionsnomax)")
        if kind == "truefalse" and sorted(a.findtext("text") for a in q.findall("answer")) != ["false", "true"]:
            problems.append(f"{where}: answers are not true and false")
        if kind == "matching":
            subquestions = q.findall("subquestion")
            with_text = sum(1 for s in subquestions if (s.findtext("text") or "").strip())
            answers = sum(1 for s in subquestions
                          if (s.findtext("text") or "").strip() or (s.findtext("answer/text") or "").strip())
            if with_text < 2 or answers < 3:
                problems.append(f"{where}: needs 2 subquestions and 3 answers (notenoughqsandas)")
    return problems


def test_the_checker_catches_what_moodle_refuses():
    bad = dump_moodle_xml(specs()[:1]).replace('fraction="-50"', 'fraction="-45"').replace('fraction="100"',
                                                                                             'fraction="95"')
    assert moodle_refuses(bad) == ["question 1 (multichoice): grade 95% is not on Moodle's list (wronggrade)",
                                   "question 1 (multichoice): grade 95% is not on Moodle's list (wronggrade)",
                                   "question 1 (multichoice): grade -45% is not on Moodle's list (wronggrade)",
                                   "question 1 (multichoice): no 100% answer (errfractionsnomax)"]


@pytest.mark.parametrize("category", ["", "投诉处理"])
def test_moodle_accepts_the_export_of_every_type(category):
    assert moodle_refuses(dump_moodle_xml(specs(), category=category)) == []


def multi(weights: list[float], kind: str = "multi") -> QuestionSpec:
    return QuestionSpec(key="w", type=kind, stem="选出正确的做法",
                        data={"options": [{"id": f"o{index}", "text": f"选项{index}", "weight": weight, "feedback": ""}
                                          for index, weight in enumerate(weights, start=1)]})


@pytest.mark.parametrize("spec, grades", [
    (multi([0.33, 0.33, 0.34]), ["33.33333", "33.33333", "33.33333"]),
    (multi([0.45, 0.55, -1.0]), ["40", "60", "-100"]),
    (multi([0.15, 0.15, 0.7, -0.33]), ["16.66667", "16.66667", "66.66667", "-33.33333"]),
    (multi([1.0, 0.33, -0.07], "single"), ["100", "33.33333", "-5"]),
    (replace(specs()[4], data={"answers": ["甲", "乙"], "weights": [1.0, 0.45]}), ["100", "50"]),
])
def test_weights_off_moodles_list_are_exported_as_grades_moodle_accepts(spec, grades):
    assert QUESTION_TYPES[spec.type].validate(spec.data) == []
    exported = dump_moodle_xml([spec])
    assert [a.get("fraction") for a in ET.fromstring(exported.encode()).iter("answer")] == grades
    assert moodle_refuses(exported) == []


def test_multi_fractions_keep_the_positive_grades_at_100():
    for weights in ([0.45, 0.55], [0.2, 0.2, 0.6], [0.12] * 5 + [0.4], [0.35, 0.65, -0.5]):
        chosen = multi_fractions(weights)
        assert round(sum(value for value in chosen if value > 0), 2) == 1, (weights, chosen)
        assert all(value in MOODLE_FRACTIONS for value in chosen)
