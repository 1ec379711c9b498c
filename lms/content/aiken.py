"""Aiken, Moodle's simplest question format: single-choice questions only.

    客户第三次来电，情绪激动。坐席首先应该做什么？      the stem: one line (several: kept, warned)
    A. 道歉并复述客户的问题                              options: a capital letter, then "." or ")"
    B)直接转维修部门                                     (a space after it is optional, as in Moodle);
    ANSWER: A                                            lettered A, B, C... in order; the right letter

Blank lines between questions are optional. Beyond Moodle, Chinese punctuation is accepted too:
"A、", "A．", "A）" and "ANSWER：A", as Chinese exam documents write them. The text is plain: what
looks like a tag (<客户姓名>) is shown as written, as Moodle does. Each question gets an id made from
its whole content, so importing the same file again updates nothing, and two questions with the
same stem but other options stay two questions.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from lms.content.banks import ParsedBank, Reporter, finish_question, unique_key
from lms.content.errors import _l

OPTION = re.compile(r"^([A-Z])[.)、．）]\s*(.*\S)\s*$")
ANSWER = re.compile(r"^ANSWER\s*[:：]\s*(.*?)\s*$", re.IGNORECASE)


def looks_like_aiken(text: str) -> bool:
    """For a .txt file: Aiken when it has ANSWER: lines and no GIFT answer blocks."""
    return bool(re.search(r"^\s*ANSWER\s*[:：]", text, re.MULTILINE | re.IGNORECASE)) and "{" not in text


def parse_aiken(text: str, path: str) -> ParsedBank:
    report = Reporter(path)
    result = ParsedBank(path=path)
    stem: list[str] = []
    stem_line = 0
    options: list[tuple[str, str]] = []
    seen: dict[str, int] = {}

    def reset():
        nonlocal stem, stem_line, options
        stem, stem_line, options = [], 0, []

    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        head = unicodedata.normalize("NFKC", line[:1]) + line[1:]  # a full-width "Ａ" is an A
        answer = ANSWER.match(head)
        option = OPTION.match(head)
        if answer:
            letter = unicodedata.normalize("NFKC", answer.group(1)).upper()
            if not stem:
                report.error(number, _l("an ANSWER line without a question above it"))
            elif len(options) < 2:
                report.error(number, _l("the question on line %(line)s needs at least two options (A. …, B. …) "
                                        "before its ANSWER line", line=stem_line))
            elif len(letter) != 1 or letter not in [key for key, _text in options]:
                report.error(number, _l("ANSWER must be the letter of one of the options (%(letters)s), not "
                                        "%(value)r", letters=", ".join(key for key, _text in options),
                                        value=answer.group(1)))
            else:
                question_text = "\n".join(stem)
                data = {"options": [{"id": f"o{index}", "text": option_text,
                                     "weight": 1.0 if key == letter else 0.0, "feedback": ""}
                                    for index, (key, option_text) in enumerate(options, start=1)]}
                if len(stem) > 1:
                    report.warn(stem_line, _l("the question on line %(line)s spans %(n)s lines; Moodle's Aiken "
                                              "format wants it on one line (here its line breaks are kept)",
                                              line=stem_line, n=len(stem)))
                spec = finish_question(report, stem_line, key="", kind="single", stem=question_text, data=data,
                                       text_format="plain")
                if spec is not None:
                    if spec.key in seen:  # Moodle imports both copies; so do we, warned
                        report.warn(stem_line, _l("the same question as on line %(line)s; imported again as its "
                                                  "own question", line=seen[spec.key]))
                        spec = replace(spec, key=unique_key(spec.key, seen))
                    seen[spec.key] = stem_line
                    result.questions.append(spec)
            reset()
        elif option and stem:
            expected = chr(ord("A") + len(options))
            if option.group(1) != expected:
                report.error(number, _l("options are lettered A, B, C… in order: expected %(expected)s, found "
                                        "%(found)s", expected=expected, found=option.group(1)))
            options.append((option.group(1), option.group(2).strip()))
        elif options:
            report.error(stem_line, _l("the question on line %(line)s has options but no 'ANSWER: X' line after "
                                       "them", line=stem_line))
            reset()
            stem, stem_line = [line], number
        else:
            if not stem:
                stem_line = number
            stem.append(line)
    if stem:
        report.error(stem_line, _l("the question on line %(line)s has no 'ANSWER: X' line", line=stem_line))
    result.errors = sorted(report.errors())
    result.warnings = sorted(report.warning_list())
    return result
