"""Moodle XML written from our questions (a bank's export), so that Moodle's `qformat_xml` imports
them and lms/content/moodle_xml.py `parse_moodle_xml` reads back the same questions: the mapping of
types and formats is the reader's, in reverse (see its docstring).
"""
from __future__ import annotations

import re
from typing import Iterable

from lms.content.banks import QuestionSpec, canonical_number
from lms.content.moodle_grades import MOODLE_FRACTIONS, moodle_fraction, moodle_percent
from lms.content.moodle_xml import MOODLE_FORMATS, plain_to_html

MOODLE_TYPES = {"single": "multichoice", "multi": "multichoice", "truefalse": "truefalse", "matching": "matching",
                "essay": "essay"}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    """Without the characters XML 1.0 cannot hold at all."""
    return _INVALID_XML.sub("", text)


def _escape(text: str) -> str:
    return (_clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _cdata(text: str) -> str:
    """Text in a CDATA section, as Moodle writes HTML: a "]]>" in it splits the section, and so does a
    carriage return (XML would read it as a new line), written as a character reference between two."""
    text = _clean(text)
    if not text:
        return ""
    text = text.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{text}]]>"


def _number(value) -> str:
    value = canonical_number(value)
    return repr(value) if isinstance(value, float) else str(value)


def _text_element(name: str, text: str, text_format: str | None, indent: str = "    ", *, cdata: bool = True
                  ) -> list[str]:
    attribute = f' format="{text_format}"' if text_format else ""
    body = _cdata(text) if cdata else _escape(text)
    return [f"{indent}<{name}{attribute}>", f"{indent}  <text>{body}</text>", f"{indent}</{name}>"]


def _answer(grade: str, text: str, *, text_format: str, feedback: str = "", extra: Iterable[str] = (),
            html_text: bool = False) -> list[str]:
    body = _cdata(plain_to_html(text)) if html_text else _escape(text)
    return ([f'    <answer fraction="{grade}" format="{text_format}">', f"      <text>{body}</text>"]
            + _text_element("feedback", plain_to_html(feedback), "html", "      ")
            + list(extra) + ["    </answer>"])


def _combined_feedback_lines() -> list[str]:
    return [line for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback")
            for line in _text_element(name, "", "html")]


def multi_fractions(weights: list[float]) -> list[float]:
    """Moodle's nearest grades for a multi question's weights, chosen so that the positive ones still
    add up to 100% (Moodle refuses the question otherwise): 45% and 55% become 40% and 60%, not 50% and
    60%. Each positive weight may take one of the two grades on either side of it; of the choices that
    add up, the one closest to the weights wins."""
    nearest = [moodle_fraction(weight) for weight in weights]
    positive = [index for index, weight in enumerate(weights) if weight > 0]
    if not positive or abs(sum(nearest[index] for index in positive) - 1) < 0.005:
        return nearest
    grades = sorted(value for value in MOODLE_FRACTIONS if value > 0)
    unit = 10 ** 7  # Moodle's grades have 7 decimals: sums in whole units are exact
    # Each reachable sum (in units) with the least deviation that reaches it, and the grades chosen.
    states: dict[int, tuple[float, tuple[float, ...]]] = {0: (0.0, ())}
    for index in positive:
        weight = weights[index]
        below = [value for value in grades if value <= weight][-2:]
        above = [value for value in grades if value > weight][:2]
        following: dict[int, tuple[float, tuple[float, ...]]] = {}
        for total, (cost, chosen) in states.items():
            for value in below + above:
                key = total + round(value * unit)
                if key > 1.005 * unit:
                    continue
                candidate = (cost + abs(value - weight), chosen + (value,))
                if key not in following or candidate[0] < following[key][0]:
                    following[key] = candidate
        states = following
    fits = [state for total, state in states.items() if abs(total - unit) < 0.005 * unit]
    if fits:
        for index, value in zip(positive, min(fits)[1]):
            nearest[index] = value
    return nearest


def _grade(value: float) -> str:
    return f"{value * 100:.5f}".rstrip("0").rstrip(".")


def _type_lines(spec: QuestionSpec) -> list[str]:
    data = spec.data
    if spec.type in ("single", "multi"):
        weights = [option.get("weight", 0.0) for option in data["options"]]
        grades = ([moodle_percent(weight) for weight in weights] if spec.type == "single"
                  else [_grade(value) for value in multi_fractions(weights)])
        lines = [f"    <single>{'true' if spec.type == 'single' else 'false'}</single>",
                 "    <shuffleanswers>true</shuffleanswers>", "    <answernumbering>abc</answernumbering>"]
        lines += _combined_feedback_lines()
        for option, grade in zip(data["options"], grades):
            lines += _answer(grade, option["text"], text_format="html", feedback=option.get("feedback", ""),
                             html_text=True)
        return lines
    if spec.type == "truefalse":
        return (_answer("100" if data["answer"] else "0", "true", text_format="moodle_auto_format")
                + _answer("0" if data["answer"] else "100", "false", text_format="moodle_auto_format"))
    if spec.type == "fill":
        weights = data.get("weights") or [1.0] * len(data["answers"])
        if "tolerance" in data:
            margins = data.get("tolerances") or [data["tolerance"]] * len(data["answers"])
            lines = []
            for answer, weight, margin in zip(data["answers"], weights, margins):
                lines += _answer(moodle_percent(weight), _number(answer), text_format="moodle_auto_format",
                                 extra=[f"      <tolerance>{_number(margin)}</tolerance>"])
            return lines + ["    <unitgradingtype>0</unitgradingtype>", "    <unitpenalty>0.1000000</unitpenalty>",
                            "    <showunits>3</showunits>", "    <unitsleft>0</unitsleft>"]
        lines = ["    <usecase>0</usecase>"]
        for answer, weight in zip(data["answers"], weights):
            lines += _answer(moodle_percent(weight), answer.replace("*", "\\*"), text_format="moodle_auto_format")
        return lines
    if spec.type == "matching":
        lines = ["    <shuffleanswers>true</shuffleanswers>"] + _combined_feedback_lines()
        items = [(pair["left"], pair["right"]) for pair in data["pairs"]]
        items += [("", distractor["text"]) for distractor in data.get("distractors", [])]
        for left, right in items:
            lines += ['    <subquestion format="html">', f"      <text>{_cdata(plain_to_html(left))}</text>",
                      "      <answer>", f"        <text>{_escape(right)}</text>", "      </answer>",
                      "    </subquestion>"]
        return lines
    if spec.type == "essay":
        return (["    <responseformat>editor</responseformat>", "    <responserequired>1</responserequired>",
                 "    <responsefieldlines>15</responsefieldlines>", "    <attachments>0</attachments>",
                 "    <attachmentsrequired>0</attachmentsrequired>"]
                + _text_element("graderinfo", plain_to_html(data.get("guidance", "")), "html")
                + _text_element("responsetemplate", "", "html"))
    raise ValueError(f"no Moodle type for {spec.type!r}")


def dump_question(spec: QuestionSpec) -> str:
    """One question as Moodle writes it. A question without a title is named by its id."""
    text_format = MOODLE_FORMATS.get(spec.text_format, "html")
    moodle_type = MOODLE_TYPES.get(spec.type) or ("numerical" if "tolerance" in spec.data else "shortanswer")
    lines = [f'  <question type="{moodle_type}">']
    lines += _text_element("name", spec.title or spec.key, None, cdata=False)
    lines += _text_element("questiontext", spec.stem, text_format)
    lines += _text_element("generalfeedback", spec.explanation, text_format)
    lines += [f"    <defaultgrade>{_number(spec.points)}</defaultgrade>", "    <penalty>0</penalty>",
              "    <hidden>0</hidden>", f"    <idnumber>{_escape(spec.key)}</idnumber>"]
    lines += _type_lines(spec)
    tags = list(spec.tags) + ([f"difficulty:{spec.difficulty}"] if spec.difficulty is not None else [])
    if tags:
        lines += ["    <tags>"] + [f"      <tag><text>{_escape(tag)}</text></tag>" for tag in tags] + ["    </tags>"]
    lines.append("  </question>")
    return "\n".join(lines)


def dump_moodle_xml(questions: Iterable[QuestionSpec], *, category: str = "") -> str:
    """Questions as a Moodle XML file that Moodle imports (into `$course$/top/<category>` when a category
    is given) and `parse_moodle_xml` reads back to the same questions."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    category = " ".join(category.split())
    if category:
        path = "$course$/top/" + category.replace("/", "//")  # a "/" inside a name, as Moodle writes it
        parts += ['  <question type="category">', "    <category>", f"      <text>{_escape(path)}</text>",
                  "    </category>"]
        parts += _text_element("info", "", "moodle_auto_format", cdata=False)
        parts += ["  </question>"]
    parts += [dump_question(spec) for spec in questions]
    parts.append("</quiz>")
    return "\n".join(parts) + "\n"
